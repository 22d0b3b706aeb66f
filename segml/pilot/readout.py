"""Read a pilot out: treatment versus control, per segment, with intervals.

For every segment of the pilot and two outcomes over the pilot window,

* ``purchase_rate``: share of customers with at least one order;
* ``revenue_per_customer``: mean revenue per customer (0 for those who did not buy),

the difference treatment minus control, with

* a **percentile bootstrap** interval (arms resampled separately, ``n_boot`` resamples;
  for the purchase rate the resampled rate of an arm is ``Binomial(n, p) / n``, which is
  exactly the bootstrap of a 0/1 column) at level ``1 - alpha / m`` - **Bonferroni**
  across the ``m`` segments, so "the interval excludes 0" is a family-wise claim;
* a p-value from a test that suits the outcome - **Fisher's exact test** for the
  purchase rate, **Welch's t-test** for revenue per customer - and the same p-values
  **Holm-adjusted** across segments (per outcome).

A segment is *flagged* for an outcome when its adjusted interval excludes 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact, ttest_ind

from segml._validation import check_int
from segml.backtest.windows import History
from segml.errors import ConfigError, SchemaError
from segml.pilot.sample import ARMS, PilotSample

__all__ = [
    "METRICS",
    "PilotReadout",
    "check_pilot_frame",
    "customer_outcomes",
    "holm",
    "pilot_readout",
]

#: The outcomes compared, in table order.
METRICS: tuple[str, str] = ("purchase_rate", "revenue_per_customer")
_COLUMNS = ["segment", "metric", "n_treatment", "n_control", "treatment", "control", "diff",
            "low", "high", "excludes_zero", "p_value", "p_holm"]
_CHUNK = 256  # bootstrap resamples drawn at once (bounds memory at n x 256 indices)


@dataclass(frozen=True, eq=False)
class PilotReadout:
    """Treatment versus control per segment after a pilot.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per segment and metric: ``segment, metric, n_treatment, n_control,
        treatment, control`` (arm means), ``diff`` (treatment - control), ``low, high``
        (bootstrap interval at ``level``), ``excludes_zero``, ``p_value`` (Fisher exact
        or Welch t) and ``p_holm`` (Holm-adjusted across segments).
    level : float
        Confidence level of each interval (``1 - alpha / m``, Bonferroni).
    n_without_outcome : int
        Pilot customers with no outcome row, counted as 0 orders and 0 revenue.
    n_outside_pilot : int
        Outcome rows of customers not in the pilot (ignored).
    note : str
        How the intervals and p-values were computed.
    params : dict
        ``n_boot``, ``alpha``, ``random_state``, ``window``.
    """

    table: pd.DataFrame
    level: float
    n_without_outcome: int
    n_outside_pilot: int
    note: str
    params: dict[str, Any] = field(default_factory=dict)

    def flagged(self, metric: str | None = None) -> list[Any]:
        """Segments whose adjusted interval excludes 0 (for ``metric``, or for either).

        Parameters
        ----------
        metric : {"purchase_rate", "revenue_per_customer"}, optional
            One outcome; default any of them.

        Returns
        -------
        list
            Segments, in table order.
        """
        t = self.table
        if metric is not None:
            if metric not in METRICS:
                raise ConfigError(f"metric={metric!r} is not one of {METRICS}.")
            t = t[t["metric"] == metric]
        hit = t.loc[t["excludes_zero"].astype(bool), "segment"]
        return list(dict.fromkeys(hit.tolist()))

    def to_pandas(self) -> pd.DataFrame:
        """Return the readout table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        """Return the table and the note as text."""
        return self.table.to_string(index=False) + "\n\n" + self.note


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN stays NaN and is not counted).

    Parameters
    ----------
    p : numpy.ndarray
        Raw p-values.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, capped at 1.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        out[i] = min(running, 1.0)
    return out


def check_pilot_frame(pilot: PilotSample | pd.DataFrame) -> pd.DataFrame:
    """Return the pilot list (``customer_id`` as str) after checking its columns, arms and ids.

    Raises
    ------
    SchemaError
        A missing column, an arm other than treatment/control, or a duplicated id.
    """
    frame = pilot.frame if isinstance(pilot, PilotSample) else pilot
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"pilot should be a PilotSample or a DataFrame (customer_id, "
                          f"segment, arm), got {type(pilot).__name__}.")
    miss = [c for c in ("customer_id", "segment", "arm") if c not in frame.columns]
    if miss:
        raise SchemaError(f"pilot: missing column(s) {miss}. Fix: pass the list written by "
                          "pilot_sample() / `segml pilot` (customer_id, segment, arm).")
    bad = sorted(set(frame["arm"].astype(str)) - set(ARMS))
    if bad:
        raise SchemaError(f"pilot: arm holds {bad[:3]}; expected only {list(ARMS)}. Fix: "
                          "relabel the arms as 'treatment' and 'control'.")
    ids = frame["customer_id"].astype(str)
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique()
        raise SchemaError(f"pilot: {len(dup):,} duplicated customer id(s), e.g. "
                          f"{', '.join(map(repr, dup[:3]))}. Fix: one row per customer.")
    return frame.assign(customer_id=ids)


def customer_outcomes(outcomes: pd.DataFrame, *, start: Any = None,
                      end: Any = None) -> pd.DataFrame:
    """Per-customer ``revenue`` and ``orders`` from a per-customer frame or transactions.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Either one row per customer with ``customer_id`` (column or index), ``revenue``
        and ``orders``; or transactions (``customer_id``, ``timestamp``, ``amount``,
        optionally ``order_id``): revenue is the summed amount, orders the distinct
        ``order_id`` (distinct purchase days without it, as in the features and the
        backtest: :meth:`segml.backtest.windows.History.window`).
    start, end : timestamp-like, optional
        For transactions: the pilot window ``(start, end]`` in whole calendar days (a
        purchase at any time on ``end`` counts, one on ``start`` does not).

    Returns
    -------
    pandas.DataFrame
        ``revenue, orders`` indexed by ``customer_id`` (str).

    Raises
    ------
    SchemaError
        For a frame that is neither form, or duplicated ids in a per-customer frame.
    """
    if not isinstance(outcomes, pd.DataFrame):
        raise SchemaError(f"outcomes should be a DataFrame, got {type(outcomes).__name__}.")
    df = outcomes
    if {"timestamp", "amount"} <= set(df.columns):
        if "customer_id" not in df.columns:
            raise SchemaError("outcomes (transactions): no customer_id column. Fix: map the "
                              "id column to customer_id.")
        return History(df).window(start, end)  # whole days, orders as in the backtest
    if start is not None or end is not None:
        raise ConfigError("start/end filter transactions only; these outcomes have no "
                          "timestamp and amount columns. Fix: drop start=/end= or pass "
                          "the transactions of the pilot window.")
    if "customer_id" in df.columns:
        df = df.set_index("customer_id")
    miss = [c for c in ("revenue", "orders") if c not in df.columns]
    if miss:
        raise SchemaError(
            f"outcomes: missing column(s) {miss} (columns: {[str(c) for c in df.columns][:8]})."
            " Fix: pass one row per customer with revenue and orders, or the transactions "
            "of the pilot window (customer_id, timestamp, amount)."
        )
    ids = df.index.astype(str)
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique()
        raise SchemaError(f"outcomes: {len(dup):,} duplicated customer id(s), e.g. "
                          f"{', '.join(map(repr, dup[:3]))}. Fix: one row per customer, or "
                          "pass the transactions instead.")
    out = pd.DataFrame({"revenue": pd.to_numeric(df["revenue"]).to_numpy(np.float64),
                        "orders": pd.to_numeric(df["orders"]).to_numpy(np.float64)},
                       index=pd.Index(ids, name="customer_id"))
    nan = out.isna().any(axis=1)
    if nan.any():
        raise SchemaError(f"outcomes: {int(nan.sum()):,} customer(s) with a missing revenue or "
                          f"orders, e.g. {', '.join(map(repr, out.index[nan][:3]))}. Fix: "
                          "fill them (0 when the customer did not buy).")
    return out


def _boot_means(rng: np.random.Generator, v: np.ndarray, n_boot: int) -> np.ndarray:
    out = np.empty(n_boot)
    for s in range(0, n_boot, _CHUNK):
        k = min(_CHUNK, n_boot - s)
        out[s:s + k] = v[rng.integers(0, len(v), size=(k, len(v)))].mean(axis=1)
    return out


def _row(seg: Any, metric: str, t: np.ndarray, c: np.ndarray, boot: np.ndarray,
         p: float, q: float) -> dict[str, Any]:
    d = float(t.mean() - c.mean())
    low, high = (float(x) for x in np.quantile(boot, [q / 2, 1 - q / 2]))
    return {"segment": seg, "metric": metric, "n_treatment": len(t), "n_control": len(c),
            "treatment": float(t.mean()), "control": float(c.mean()), "diff": d,
            "low": low, "high": high, "excludes_zero": bool(low > 0 or high < 0),
            "p_value": p, "p_holm": np.nan}


def pilot_readout(
    pilot: PilotSample | pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    start: Any = None,
    end: Any = None,
    n_boot: int = 2000,
    alpha: float = 0.05,
    random_state: int | None = 0,
) -> PilotReadout:
    """Compare treatment with control per segment after the pilot window.

    Parameters
    ----------
    pilot : PilotSample or pandas.DataFrame
        The pilot (``customer_id, segment, arm``).
    outcomes : pandas.DataFrame
        Per-customer ``revenue`` and ``orders`` or the transactions of the window (see
        :func:`customer_outcomes`). Pilot customers without a row bought nothing (counted
        in ``n_without_outcome``).
    start, end : timestamp-like, optional
        Pilot window ``(start, end]`` when ``outcomes`` are transactions.
    n_boot : int, default 2000
        Bootstrap resamples per arm and segment. Each interval's tails hold
        ``alpha / (2 m)`` of the resamples (5 of 2,000 for 5 segments at 0.05); raise it
        with many segments so the tails rest on more than a handful of draws.
    alpha : float, default 0.05
        Family-wise error rate across segments (Bonferroni for the intervals, Holm for
        the p-values).
    random_state : int or None, default 0
        Seed of the bootstrap.

    Returns
    -------
    PilotReadout
        The table, the flagged segments (:meth:`PilotReadout.flagged`) and a note.

    Raises
    ------
    SchemaError
        A malformed pilot or outcomes frame, or a segment with an empty arm.
    ConfigError
        ``n_boot`` below 100 or ``alpha`` outside (0, 1).
    """
    n_boot = check_int("n_boot", n_boot, 100)
    if (isinstance(alpha, bool) or not isinstance(alpha, (int, float))
            or not 0.0 < float(alpha) < 1.0):
        raise ConfigError(f"alpha={alpha!r} should be in (0, 1). Fix: pass e.g. alpha=0.05.")
    frame = check_pilot_frame(pilot)
    out = customer_outcomes(outcomes, start=start, end=end)
    in_pilot = out.index.isin(frame["customer_id"])
    have = frame["customer_id"].isin(out.index).to_numpy()
    y = out.reindex(frame["customer_id"]).fillna(0.0)
    revenue = y["revenue"].to_numpy(np.float64)
    bought = (y["orders"].to_numpy(np.float64) > 0).astype(np.float64)
    treat = (frame["arm"].astype(str) == ARMS[0]).to_numpy()
    seg_key = frame["segment"].map(str)
    segments = list(dict.fromkeys(frame["segment"].iloc[np.argsort(seg_key.to_numpy(),
                                                                    kind="stable")]))
    empty = [s for s in segments
             if treat[(frame["segment"] == s).to_numpy()].all()
             or not treat[(frame["segment"] == s).to_numpy()].any()]
    if empty:
        raise SchemaError(
            f"pilot: segment(s) {empty[:5]} have an empty treatment or control arm, so no "
            "difference can be read. Fix: draw the pilot with stratify=True (the default), "
            "or leave these segments out of the pilot frame."
        )
    m = len(segments)
    q = alpha / m
    rng = np.random.default_rng(random_state)
    rows = []
    for s in segments:
        in_s = (frame["segment"] == s).to_numpy()
        rt, rc = revenue[in_s & treat], revenue[in_s & ~treat]
        bt, bc = bought[in_s & treat], bought[in_s & ~treat]
        kt, kc = int(bt.sum()), int(bc.sum())
        boot_rate = (rng.binomial(len(bt), kt / len(bt), n_boot) / len(bt)
                     - rng.binomial(len(bc), kc / len(bc), n_boot) / len(bc))
        p_rate = float(fisher_exact([[kt, len(bt) - kt], [kc, len(bc) - kc]])[1])
        rows.append(_row(s, METRICS[0], bt, bc, boot_rate, p_rate, q))
        boot_rev = _boot_means(rng, rt, n_boot) - _boot_means(rng, rc, n_boot)
        if len(rt) > 1 and len(rc) > 1 and (np.ptp(rt) > 0 or np.ptp(rc) > 0):
            p_rev = float(ttest_ind(rt, rc, equal_var=False).pvalue)
        else:
            p_rev = 1.0 if rt.mean() == rc.mean() else float("nan")
        rows.append(_row(s, METRICS[1], rt, rc, boot_rev, p_rev, q))
    table = pd.DataFrame(rows, columns=_COLUMNS)
    for metric in METRICS:
        sel = (table["metric"] == metric).to_numpy()
        table.loc[sel, "p_holm"] = holm(table.loc[sel, "p_value"].to_numpy())
    level = 1.0 - q
    note = (
        f"Intervals: percentile bootstrap, {n_boot:,} resamples of each arm, at "
        f"{level:.2%} = 1 - {alpha:g}/{m} (Bonferroni across {m} segment(s)); a segment is "
        "flagged when its interval excludes 0. p-values: Fisher's exact test (purchase "
        "rate), Welch's t-test (revenue per customer), Holm-adjusted across segments "
        "(p_holm)."
    )
    if not have.all():
        note += (f" {int((~have).sum()):,} pilot customer(s) had no outcome row and count as "
                 "0 orders, 0 revenue.")
    return PilotReadout(
        table=table, level=level, n_without_outcome=int((~have).sum()),
        n_outside_pilot=int((~in_pilot).sum()), note=note,
        params={"n_boot": n_boot, "alpha": alpha, "random_state": random_state,
                "window": (None if start is None else str(pd.Timestamp(start)),
                           None if end is None else str(pd.Timestamp(end)))},
    )


"""A reproducible stratified pilot sample with a control group in every segment.

Step 3 of the method the users follow: before rolling a segmentation out, act on a
small sample of each segment and keep a control group that gets nothing, so the
effect of the action can be read per segment afterwards (:func:`segml.pilot.pilot_readout`).

Allocation
----------
* ``fraction`` (or ``size / n_base``) is the same in every segment: segment ``s`` with
  ``N_s`` customers gets ``n_s = round(fraction * N_s)`` customers, by largest remainder
  so the total is exactly ``size`` when ``size`` is given (ties: larger segment first,
  then segment name);
* within each segment, ``round(control_share * n_s)`` (half up) are controls and the
  rest treated, so each segment's arms are balanced by construction;
* customers are drawn after sorting the ids, so the same assignments in any row order
  with the same ``random_state`` give the same pilot.

Balance check
-------------
Per segment the arm sizes; for each covariate passed, the standardized mean
difference (SMD, treatment minus control over the pooled standard deviation) for a
numeric column and Pearson's chi-square test of arm x level for a categorical one.
``|SMD| < 0.1`` and chi-square ``p >= 0.05`` are the usual "balanced" thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from segml.errors import ConfigError, SchemaError

__all__ = ["ARMS", "PilotSample", "as_assignments", "pilot_sample"]

#: The two arms, treatment first.
ARMS: tuple[str, str] = ("treatment", "control")
SMD_LIMIT = 0.1
P_LIMIT = 0.05


@dataclass(frozen=True, eq=False)
class PilotSample:
    """A pilot list and its balance check.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``customer_id, segment, arm`` (``arm`` is ``"treatment"`` or ``"control"``), one
        row per sampled customer, sorted by segment then customer id.
    arms : pandas.DataFrame
        Per segment: ``segment, n_base, n_pilot, n_treatment, n_control, fraction``.
    balance : pandas.DataFrame
        Per covariate: ``covariate, kind, test, statistic, p_value, balanced`` (``test``
        is ``"smd"`` for numeric columns, ``"chi2"`` for categorical ones); empty
        without covariates.
    params : dict
        The arguments used (``size``, ``fraction``, ``control_share``, ``stratify``,
        ``random_state``).
    """

    frame: pd.DataFrame
    arms: pd.DataFrame
    balance: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """True when every covariate passed its balance check (or none was given)."""
        return bool(self.balance["balanced"].all()) if len(self.balance) else True

    def to_pandas(self) -> pd.DataFrame:
        """Return the pilot list (a copy)."""
        return self.frame.copy()

    def summary(self) -> str:
        """Return the arm sizes and the balance check as text."""
        lines = [self.arms.to_string(index=False)]
        if len(self.balance):
            lines += ["", self.balance.to_string(index=False)]
        return "\n".join(lines)


def as_assignments(assignments: pd.Series | pd.DataFrame, *,
                   segment_column: str | None = None) -> pd.Series:
    """Return one segment per customer as a Series indexed by ``customer_id`` (str).

    Parameters
    ----------
    assignments : pandas.Series or pandas.DataFrame
        A Series of segments indexed by customer id, or a frame with a ``customer_id``
        column (or index) and a segment column (a score table works as is).
    segment_column : str, optional
        Segment column of a frame; default ``segment_name``, else ``segment``, else
        ``segment_id``.

    Returns
    -------
    pandas.Series
        Segment per customer, named ``segment``, index ``customer_id``.

    Raises
    ------
    SchemaError
        Empty input, no segment column, a missing segment or a duplicated id.
    """
    if isinstance(assignments, pd.DataFrame):
        df = assignments
        if "customer_id" in df.columns:
            df = df.set_index("customer_id")
        if segment_column is None:
            segment_column = next((c for c in ("segment_name", "segment", "segment_id")
                                   if c in df.columns), None)
        if segment_column is None or segment_column not in df.columns:
            raise SchemaError(
                f"assignments: no segment column {segment_column or 'segment_name'!r} (columns: "
                f"{[str(c) for c in df.columns][:8]}). Fix: pass segment_column= (CLI "
                "--segment-column) naming the column that holds the segment."
            )
        s = df[segment_column]
    elif isinstance(assignments, pd.Series):
        s = assignments
    else:
        raise SchemaError(f"assignments should be a pandas Series or DataFrame, got "
                          f"{type(assignments).__name__}.")
    if len(s) == 0:
        raise SchemaError("assignments is empty: there is no customer to sample. Fix: pass "
                          "the scores of the customer base (e.g. segments.csv of a run).")
    ids = pd.Index(s.index.astype(str), name="customer_id")
    dup = ids[ids.duplicated()]
    if len(dup):
        shown = ", ".join(map(repr, dup.unique()[:3]))
        raise SchemaError(
            f"assignments: {len(dup):,} duplicated customer id(s), e.g. {shown}; a pilot "
            "needs one segment per customer. Fix: keep one row per customer_id."
        )
    na = s.isna().to_numpy()
    if na.any():
        shown = ", ".join(map(repr, ids[na][:3]))
        raise SchemaError(
            f"assignments: {int(na.sum()):,} customer(s) without a segment, e.g. {shown}. "
            "Fix: drop them (assignments.dropna()) or give them a segment."
        )
    return pd.Series(s.to_numpy(), index=ids, name="segment")


def _allocate(counts: pd.Series, total: int) -> pd.Series:
    """Largest-remainder allocation of ``total`` proportional to ``counts``."""
    quota = counts * (total / counts.sum())
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    rem = quota - base
    order = sorted(range(len(counts)), key=lambda i: (-rem.iloc[i], -counts.iloc[i],
                                                      str(counts.index[i])))
    out = base.to_numpy().copy()
    for i in order[:rest]:
        out[i] += 1
    return pd.Series(out, index=counts.index)


def _check_args(n_base: int, size: Any, fraction: Any, control_share: Any) -> float:
    if (size is None) == (fraction is None):
        raise ConfigError("pass exactly one of size= (customers in the pilot, CLI --size) "
                          "and fraction= (share of each segment, CLI --fraction).")
    if not (isinstance(control_share, (int, float)) and not isinstance(control_share, bool)
            and 0.0 < float(control_share) < 1.0):
        raise ConfigError(f"control_share={control_share!r} should be a number in (0, 1). "
                          "Fix: pass e.g. control_share=0.5 (CLI --control-share 0.5).")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
            raise ConfigError(f"size={size!r} should be an integer >= 2 (both arms need a "
                              "customer). Fix: pass e.g. size=500 (CLI --size 500).")
        if size > n_base:
            raise ConfigError(
                f"size={size:,} is larger than the base of {n_base:,} customers. Fix: pass "
                f"size <= {n_base:,} (CLI --size), or fraction= (CLI --fraction) instead."
            )
        return size / n_base
    if (isinstance(fraction, bool) or not isinstance(fraction, (int, float))
            or not math.isfinite(fraction) or not 0.0 < fraction <= 1.0):
        raise ConfigError(f"fraction={fraction!r} should be in (0, 1]. Fix: pass e.g. "
                          "fraction=0.1 for 10% of every segment (CLI --fraction 0.1).")
    return float(fraction)


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def pilot_sample(
    assignments: pd.Series | pd.DataFrame,
    *,
    size: int | None = None,
    fraction: float | None = None,
    control_share: float = 0.5,
    stratify: bool = True,
    covariates: pd.DataFrame | None = None,
    segment_column: str | None = None,
    random_state: int | None = 0,
) -> PilotSample:
    """Draw a pilot sample with a treatment and a control arm in every segment.

    Parameters
    ----------
    assignments : pandas.Series or pandas.DataFrame
        Segment per customer (see :func:`as_assignments`), e.g. a score table.
    size : int, optional
        Customers in the pilot (exactly); the same share of every segment.
    fraction : float in (0, 1], optional
        Share of every segment to sample (pass ``size`` or ``fraction``).
    control_share : float in (0, 1), default 0.5
        Share of each segment's pilot kept as control.
    stratify : bool, default True
        Sample and split into arms within each segment. ``False`` draws a simple random
        sample of the base and splits it into arms at random (segments then differ in
        fraction and arm balance by chance).
    covariates : pandas.DataFrame, optional
        Columns to check balance on, indexed by customer id (or with ``customer_id``);
        numeric columns get an SMD, the others a chi-square test.
    segment_column : str, optional
        Segment column when ``assignments`` is a frame.
    random_state : int or None, default 0
        Seed; the same assignments and seed give the same pilot.

    Returns
    -------
    PilotSample
        The list (``customer_id, segment, arm``), the arm sizes and the balance check.

    Raises
    ------
    ConfigError
        Neither or both of ``size``/``fraction``; ``size`` above the base or below 2;
        ``fraction`` outside (0, 1]; ``control_share`` outside (0, 1); a segment whose
        pilot share is too small to hold both arms (named, with its size and the fix).
    SchemaError
        Duplicated ids, a customer without segment, empty input, covariates that miss
        pilot customers.

    Examples
    --------
    >>> seg = pd.Series(["a"] * 4 + ["b"] * 6, index=[f"c{i}" for i in range(10)])
    >>> p = pilot_sample(seg, fraction=0.5, random_state=0)
    >>> p.arms[["segment", "n_pilot", "n_treatment", "n_control"]].values.tolist()
    [['a', 2, 1, 1], ['b', 3, 1, 2]]
    """
    seg = as_assignments(assignments, segment_column=segment_column)
    n_base = len(seg)
    frac = _check_args(n_base, size, fraction, control_share)
    rng = np.random.default_rng(random_state)
    seg = seg.sort_index(kind="stable")
    counts = seg.groupby(seg.to_numpy(), sort=True).size()
    counts = counts.reindex(sorted(counts.index, key=str))
    total = int(size) if size is not None else None
    if stratify:
        n_pilot = (_allocate(counts, total) if total is not None
                   else pd.Series([_half_up(frac * c) for c in counts], index=counts.index))
        n_control = n_pilot.map(lambda n: _half_up(control_share * n))
        bad = [(s, int(counts[s]), int(n_pilot[s])) for s in counts.index
               if n_control[s] < 1 or n_pilot[s] - n_control[s] < 1]
        if bad:
            shown = "; ".join(f"{s!r}: {b:,} customers -> {p:,} in the pilot"
                              for s, b, p in bad[:5])
            need = max(math.ceil(max(1 / control_share, 1 / (1 - control_share)) / frac), 2)
            raise ConfigError(
                f"{len(bad)} segment(s) too small to hold both a treatment and a control arm "
                f"at fraction {frac:.3g} and control_share {control_share:g} ({shown}). Fix: "
                f"raise fraction/size (CLI --fraction/--size), leave these segments out of the "
                f"assignments, or merge them; a segment needs about {need:,} customers here."
            )
        parts = []
        for s in counts.index:
            ids = seg.index[(seg == s).to_numpy()]
            take = rng.permutation(len(ids))[: int(n_pilot[s])]
            arm = np.where(np.arange(len(take)) < n_control[s], ARMS[1], ARMS[0])
            parts.append(pd.DataFrame({"customer_id": ids[take], "segment": s, "arm": arm}))
        frame = pd.concat(parts, ignore_index=True)
    else:
        n = total if total is not None else _half_up(frac * n_base)
        nc = _half_up(control_share * n)
        if nc < 1 or n - nc < 1:
            raise ConfigError(
                f"a pilot of {n:,} customers cannot hold both arms at control_share "
                f"{control_share:g}. Fix: raise fraction/size (CLI --fraction/--size)."
            )
        take = rng.permutation(n_base)[:n]
        arm = np.where(np.arange(n) < nc, ARMS[1], ARMS[0])
        frame = pd.DataFrame({"customer_id": seg.index[take], "segment": seg.to_numpy()[take],
                              "arm": arm})
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["arm"] = frame["arm"].astype(str)
    key = frame["segment"].map(str)
    frame = (frame.assign(_k=key).sort_values(["_k", "customer_id"], kind="stable")
             .drop(columns="_k").reset_index(drop=True))
    arms = _arm_table(frame, counts)
    balance = _balance(frame, covariates)
    params = {"size": size, "fraction": fraction, "control_share": control_share,
              "stratify": stratify, "random_state": random_state}
    return PilotSample(frame=frame, arms=arms, balance=balance, params=params)


def _arm_table(frame: pd.DataFrame, counts: pd.Series) -> pd.DataFrame:
    tab = pd.crosstab(frame["segment"], frame["arm"]).reindex(index=counts.index,
                                                              columns=list(ARMS), fill_value=0)
    out = pd.DataFrame({
        "segment": counts.index,
        "n_base": counts.to_numpy().astype(np.int64),
        "n_pilot": tab.sum(axis=1).to_numpy().astype(np.int64),
        "n_treatment": tab[ARMS[0]].to_numpy().astype(np.int64),
        "n_control": tab[ARMS[1]].to_numpy().astype(np.int64),
    })
    out["fraction"] = out["n_pilot"] / out["n_base"]
    return out


def _balance(frame: pd.DataFrame, covariates: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["covariate", "kind", "test", "statistic", "p_value", "balanced"]
    if covariates is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    if not isinstance(covariates, pd.DataFrame):
        raise SchemaError(f"covariates should be a DataFrame indexed by customer id, got "
                          f"{type(covariates).__name__}.")
    cov = covariates.set_index("customer_id") if "customer_id" in covariates.columns \
        else covariates
    cov = cov.set_axis(cov.index.astype(str))
    cov = cov[~cov.index.duplicated()]
    missing = frame["customer_id"][~frame["customer_id"].isin(cov.index)]
    if len(missing):
        raise SchemaError(
            f"covariates: {len(missing):,} pilot customer(s) have no row, e.g. "
            f"{', '.join(map(repr, missing[:3]))}. Fix: pass covariates for the whole base "
            "(e.g. the feature frame)."
        )
    cov = cov.loc[frame["customer_id"]]
    treat = (frame["arm"] == ARMS[0]).to_numpy()
    rows = []
    for c in cov.columns:
        s = cov[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            a, b = v[treat], v[~treat]
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]
            sd = math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2) \
                if len(a) > 1 and len(b) > 1 else float("nan")
            smd = (a.mean() - b.mean()) / sd if sd and sd > 0 else 0.0
            rows.append({"covariate": str(c), "kind": "numeric", "test": "smd",
                         "statistic": float(smd), "p_value": float("nan"),
                         "balanced": bool(abs(smd) < SMD_LIMIT)})
        else:
            tab = pd.crosstab(np.where(treat, ARMS[0], ARMS[1]),
                              s.astype(object).fillna("(missing)").astype(str).to_numpy())
            if tab.shape[0] < 2 or tab.shape[1] < 2:
                stat, p = 0.0, 1.0
            else:
                stat, p = chi2_contingency(tab.to_numpy(), correction=False)[:2]
            rows.append({"covariate": str(c), "kind": "category", "test": "chi2",
                         "statistic": float(stat), "p_value": float(p),
                         "balanced": bool(p >= P_LIMIT)})
    return pd.DataFrame(rows, columns=cols)


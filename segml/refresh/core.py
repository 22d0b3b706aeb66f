"""The periodic review: re-score the base with a saved model and compare with the last run.

:func:`refresh` re-scores every customer at ``as_of`` with the saved model
(:func:`segml.scoring.score`, the same policy as ``segml score``) and compares with the
previous run's assignments:

* **movers** (``customer_id, from_segment, to_segment``) and the **migration matrix**
  (:mod:`segml.backtest.migration`); customers in only one of the two runs are counted;
  a prospect who has since bought moves from "prospect (not clustered)" to a segment;
* **segment-share PSI** between the previous run and today, and **feature drift** (PSI per
  feature and of the segment shares) versus the model's training data
  (:func:`segml.monitoring.drift_report`);
* **new alerts only** (:func:`new_alerts`): the activity-drop and payment-slip alerts of
  :func:`segml.monitoring.alerts_from_transactions` at ``as_of``, minus those already
  raised at the previous run's date - so a customer lost years ago, who was already
  alerting then, is not reported again.

What is "new"
-------------
* ``activity_drop``: new unless the customer was alerting at the previous date **and**
  has not bought since (``recency_days`` now >= days between the two runs); a customer who
  came back and then lapsed again is a new alert;
* ``payment_slip``: new unless the customer was alerting at the previous date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml._atomic import atomic_dir
from segml._json import jsonable
from segml._validation import check_date
from segml.backtest.migration import migration_matrix, movers
from segml.errors import ConfigError, SchemaError
from segml.monitoring import (
    AlertConfig,
    DriftReport,
    alerts_from_transactions,
    drift_report,
    psi,
    psi_level,
)
from segml.scoring import ScoreResult, score

if TYPE_CHECKING:
    from segml.model import SegmentModel

__all__ = ["RefreshResult", "new_alerts", "previous_assignments", "refresh"]

_ALERT_COLUMNS = ["customer_id", "alert", "value", "threshold", "message"]


@dataclass(frozen=True, eq=False)
class RefreshResult:
    """Today's scores compared with the previous run.

    Attributes
    ----------
    as_of, previous_as_of : pandas.Timestamp
        Date of this run and of the previous one.
    scores : pandas.DataFrame
        Today's score table (as ``segml score`` writes it) plus an ``as_of`` column, so
        it can be the ``previous`` of the next refresh.
    movers : pandas.DataFrame
        ``customer_id, from_segment, to_segment`` of the customers whose segment changed.
    migration : pandas.DataFrame
        Counts, previous segment (rows) x today's (columns).
    segments : pandas.DataFrame
        ``segment, previous_n, current_n, previous_share, current_share`` (shares of each
        run's own customers).
    segment_psi : float
        PSI of the segment shares, previous run vs today.
    drift : DriftReport or None
        Feature and segment-share drift versus the training data (None when the model
        carries no drift reference).
    alerts : pandas.DataFrame
        Every alert at ``as_of`` with a ``new`` column (bool).
    counts : dict
        ``customers_now``, ``customers_before``, ``in_both``, ``only_before`` (left the
        base), ``only_now`` (new in the base), ``movers``, ``alerts_now``,
        ``alerts_before``, ``new_alerts``, ``score_report`` (the scoring report).
    """

    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp
    scores: pd.DataFrame
    movers: pd.DataFrame
    migration: pd.DataFrame
    segments: pd.DataFrame
    segment_psi: float
    drift: DriftReport | None
    alerts: pd.DataFrame
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def new_alerts(self) -> pd.DataFrame:
        """The alerts raised since the previous run (``customer_id, alert, value, ...``)."""
        return self.alerts.loc[self.alerts["new"], _ALERT_COLUMNS].reset_index(drop=True)

    def drift_table(self) -> pd.DataFrame:
        """Drift as one table: per feature vs training, then the segment-share rows.

        Returns
        -------
        pandas.DataFrame
            ``what, against, psi, level``: ``what`` is a feature name or
            ``segment_shares``; ``against`` is ``training`` or ``previous_run``.
        """
        rows = []
        if self.drift is not None:
            rows += [{"what": r.feature, "against": "training", "psi": r.psi, "level": r.level}
                     for r in self.drift.features.itertuples()]
            rows.append({"what": "segment_shares", "against": "training",
                         "psi": self.drift.segment_psi, "level": self.drift.segment_level})
        rows.append({"what": "segment_shares", "against": "previous_run",
                     "psi": self.segment_psi, "level": psi_level(self.segment_psi)})
        return pd.DataFrame(rows, columns=["what", "against", "psi", "level"])

    def summary(self) -> str:
        """Return the headline counts as text."""
        c = self.counts
        return (
            f"refresh {self.as_of.date()} vs {self.previous_as_of.date()}: "
            f"{c['customers_now']:,} customers scored ({c['in_both']:,} in both runs, "
            f"{c['only_now']:,} new, {c['only_before']:,} gone); {c['movers']:,} moved "
            f"segment; segment-share PSI {self.segment_psi:.3f}; {c['new_alerts']:,} new "
            f"alert(s) of {c['alerts_now']:,} ({c['alerts_before']:,} at the previous run)"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the headline numbers as JSON types."""
        return jsonable({
            "as_of": self.as_of.date().isoformat(),
            "previous_as_of": self.previous_as_of.date().isoformat(),
            "segment_psi": self.segment_psi,
            "training_segment_psi": None if self.drift is None else self.drift.segment_psi,
            "counts": self.counts,
        })

    def write(self, folder: str | os.PathLike[str], *, overwrite: bool = False,
              page: str | None = None) -> Path:
        """Write the refresh folder atomically (it appears whole or not at all).

        Files: ``movers.csv``, ``migration.csv``, ``new_alerts.csv``, ``drift.csv``,
        ``segments.csv``, ``scores.csv`` (the next refresh's ``--previous``),
        ``summary.json`` and, when ``page`` is given, ``refresh.html``.

        Parameters
        ----------
        folder : path-like
            Output folder; it must not exist unless ``overwrite``.
        overwrite : bool, default False
            Replace an existing folder (CLI ``--force``).
        page : str, optional
            HTML text of the report page.

        Returns
        -------
        pathlib.Path
            ``folder``.

        Raises
        ------
        OutputExistsError
            When ``folder`` exists and ``overwrite`` is false.
        """
        import json

        with atomic_dir(folder, overwrite=overwrite) as tmp:
            self.movers.to_csv(tmp / "movers.csv", index=False)
            self.migration.to_csv(tmp / "migration.csv")
            self.new_alerts.to_csv(tmp / "new_alerts.csv", index=False)
            self.drift_table().to_csv(tmp / "drift.csv", index=False)
            self.segments.to_csv(tmp / "segments.csv", index=False)
            self.scores.to_csv(tmp / "scores.csv", index=False)
            (tmp / "summary.json").write_text(json.dumps(self.to_dict(), indent=2) + "\n")
            if page is not None:
                (tmp / "refresh.html").write_text(page, encoding="utf-8")
        return Path(folder)


def previous_assignments(previous: pd.DataFrame | pd.Series | str | os.PathLike[str], *,
                         segment_column: str = "segment_name") -> tuple[pd.Series, Any]:
    """Read the previous run: segment per customer and its date when recorded.

    Parameters
    ----------
    previous : DataFrame, Series or path
        A score table (``customer_id`` and ``segment_column``; an ``as_of`` column gives
        its date), a Series of segments indexed by customer id, or a CSV/Parquet file of
        a score table (``segml score`` / ``segml refresh`` output).
    segment_column : str, default "segment_name"
        The segment column of a table.

    Returns
    -------
    (pandas.Series, pandas.Timestamp or None)
        Segment per customer (index ``customer_id`` as str) and the run's date.

    Raises
    ------
    SchemaError
        No ``customer_id`` or segment column, duplicated ids, or several dates.
    """
    if isinstance(previous, (str, os.PathLike)):
        from segml.readers import read_table

        previous = read_table(Path(previous), dtype={"customer_id": str})
    when = None
    if isinstance(previous, pd.Series):
        s = previous
    elif isinstance(previous, pd.DataFrame):
        df = previous.set_index("customer_id") if "customer_id" in previous.columns \
            else previous
        if df.index.name != "customer_id" and "customer_id" not in previous.columns:
            raise SchemaError(
                f"previous: no customer_id column (columns: {[str(c) for c in df.columns][:8]})."
                " Fix: pass the score table of the previous run (segml score --out / "
                "scores.csv of segml refresh)."
            )
        if segment_column not in df.columns:
            raise SchemaError(
                f"previous: no segment column {segment_column!r} (columns: "
                f"{[str(c) for c in df.columns][:8]}). Fix: pass segment_column= (CLI "
                "--segment-column) naming it."
            )
        if "as_of" in df.columns:
            dates = pd.to_datetime(df["as_of"]).dropna().unique()
            if len(dates) > 1:
                raise SchemaError(f"previous: the as_of column holds {len(dates)} dates; one "
                                  "run has one date. Fix: pass one run's scores.")
            when = pd.Timestamp(dates[0]) if len(dates) else None
        s = df[segment_column]
    else:
        raise SchemaError(f"previous should be a score table, a Series or a file path, got "
                          f"{type(previous).__name__}.")
    ids = pd.Index(s.index.astype(str), name="customer_id")
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique()
        raise SchemaError(f"previous: {len(dup):,} duplicated customer id(s), e.g. "
                          f"{', '.join(map(repr, dup[:3]))}. Fix: one row per customer.")
    return pd.Series(s.to_numpy(), index=ids, name="segment"), when


def new_alerts(current: pd.DataFrame, previous: pd.DataFrame, *,
               days_between: float) -> pd.Series:
    """Mark which of today's alerts are new since the previous run.

    Parameters
    ----------
    current, previous : pandas.DataFrame
        Alerts (:func:`segml.monitoring.customer_alerts` columns) today and at the
        previous run's date.
    days_between : float
        Days from the previous run to today.

    Returns
    -------
    pandas.Series
        Bool per row of ``current``: True when the alert is new (module docstring).

    Examples
    --------
    >>> cur = pd.DataFrame({"customer_id": ["a", "b", "c"], "alert": ["activity_drop"] * 3,
    ...                     "value": [900.0, 80.0, 40.0]})
    >>> old = pd.DataFrame({"customer_id": ["a", "c"], "alert": ["activity_drop"] * 2,
    ...                     "value": [810.0, 200.0]})
    >>> new_alerts(cur, old, days_between=90).tolist()
    [False, True, True]
    """
    for name, f in (("current", current), ("previous", previous)):
        miss = [c for c in ("customer_id", "alert", "value") if c not in f.columns]
        if miss:
            raise SchemaError(f"{name} alerts: missing column(s) {miss}; pass the output of "
                              "customer_alerts / alerts_from_transactions.")
    before = set(zip(previous["customer_id"].astype(str), previous["alert"].astype(str),
                     strict=True))
    was = np.array([(c, a) in before for c, a in zip(current["customer_id"].astype(str),
                                                     current["alert"].astype(str),
                                                     strict=True)], dtype=bool)
    activity = (current["alert"] == "activity_drop").to_numpy()
    no_purchase_since = current["value"].to_numpy(np.float64) >= float(days_between)
    old = was & (~activity | no_purchase_since)
    return pd.Series(~old, index=current.index, name="new")


def _shares(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    levels = sorted(set(before) | set(after), key=str)
    b = before.value_counts().reindex(levels, fill_value=0)
    a = after.value_counts().reindex(levels, fill_value=0)
    return pd.DataFrame({"segment": levels, "previous_n": b.to_numpy().astype(np.int64),
                         "current_n": a.to_numpy().astype(np.int64),
                         "previous_share": (b / max(b.sum(), 1)).to_numpy(),
                         "current_share": (a / max(a.sum(), 1)).to_numpy()})


def refresh(
    model: SegmentModel,
    transactions: pd.DataFrame | None,
    customers: pd.DataFrame | None = None,
    *,
    as_of: Any,
    previous: pd.DataFrame | pd.Series | str | os.PathLike[str],
    previous_as_of: Any = None,
    segment_column: str = "segment_name",
    recent_days: int = 90,
    alert_config: AlertConfig | None = None,
    impute_missing: bool = False,
    unknown: str = "ignore",
    aggregates: pd.DataFrame | None = None,
) -> RefreshResult:
    """Re-score the base at ``as_of`` and compare with the previous run.

    Parameters
    ----------
    model : SegmentModel
        The saved model (:func:`segml.persistence.load_model`).
    transactions, customers : pandas.DataFrame
        Canonical tables, covering history up to ``as_of``.
    as_of : date-like
        Date of this run.
    previous : DataFrame, Series or path
        The previous run's assignments (see :func:`previous_assignments`).
    previous_as_of : date-like, optional
        Date of the previous run; read from ``previous``'s ``as_of`` column when absent.
    segment_column : str, default "segment_name"
        Segment column of ``previous``.
    recent_days : int, default 90
        Payment window of the alerts (:func:`segml.monitoring.alerts_from_transactions`).
    alert_config : AlertConfig, optional
        Alert thresholds.
    impute_missing, unknown, aggregates
        As for :func:`segml.scoring.score`.

    Returns
    -------
    RefreshResult
        Scores, movers, migration matrix, share and feature drift, alerts (new marked).

    Raises
    ------
    ConfigError
        No date for the previous run, or ``previous_as_of`` not before ``as_of``.
    SchemaError
        No transactions, a malformed ``previous`` and the errors of :func:`segml.scoring.score`.
    """
    ts = check_date("as_of", as_of)
    if transactions is None:
        raise SchemaError(
            "refresh needs the transactions: the alerts read each customer's purchase and "
            "payment history. Fix: load a source with transactions (CLI --transactions or "
            "--loader), not per-customer totals only."
        )
    before, when = previous_assignments(previous, segment_column=segment_column)
    if previous_as_of is not None:
        prev_ts = check_date("previous_as_of", previous_as_of)
    elif when is not None:
        prev_ts = check_date("previous_as_of", when)
    else:
        raise ConfigError(
            "previous_as_of is needed to tell new alerts from those already raised at the "
            "previous run, and the previous scores carry no as_of column. Fix: pass "
            "previous_as_of= (CLI --previous-as-of DATE), or pass scores.csv of an earlier "
            "segml refresh (it records its date)."
        )
    if prev_ts >= ts:
        raise ConfigError(
            f"previous_as_of={prev_ts.date()} is not before as_of={ts.date()}. Fix: pass the "
            "earlier run as previous and today's date as as_of (CLI --as-of)."
        )
    res = score(model, transactions, customers, ts, impute_missing=impute_missing,
                unknown=unknown, aggregates=aggregates)
    scores = res.frame.assign(as_of=ts.date().isoformat())
    after = pd.Series(scores["segment_name"].to_numpy(),
                      index=pd.Index(scores["customer_id"].astype(str), name="customer_id"))
    mig = migration_matrix(before, after)
    moved = movers(before, after)
    segs = _shares(before, after)
    share_psi = psi(segs["previous_share"].to_numpy(), segs["current_share"].to_numpy())
    drift = _drift(model, res)
    # the alerts read purchase and payment history only: no customer attributes to build
    cfg = alert_config
    now = alerts_from_transactions(transactions, None, ts, recent_days=recent_days, config=cfg)
    then = alerts_from_transactions(transactions, None, prev_ts, recent_days=recent_days,
                                    config=cfg)
    days = float((ts - prev_ts) / pd.Timedelta(days=1))
    alerts = now.assign(new=new_alerts(now, then, days_between=days).to_numpy())
    counts = {
        "customers_now": int(len(after)), "customers_before": int(len(before)),
        "in_both": int(len(after) - mig.attrs["only_after"]),
        "only_before": int(mig.attrs["only_before"]), "only_now": int(mig.attrs["only_after"]),
        "movers": int(len(moved)), "alerts_now": int(len(now)),
        "alerts_before": int(len(then)), "new_alerts": int(alerts["new"].sum()),
        "new_alerts_by_kind": {str(k): int(v) for k, v in
                               alerts.loc[alerts["new"], "alert"].value_counts().items()},
        "score_report": res.to_dict(),
    }
    return RefreshResult(as_of=ts, previous_as_of=prev_ts, scores=scores, movers=moved,
                         migration=mig, segments=segs, segment_psi=share_psi, drift=drift,
                         alerts=alerts, counts=counts)


def _drift(model: SegmentModel, res: ScoreResult) -> DriftReport | None:
    """Drift of today's scored customers (prospects left out) versus training."""
    if not {k for k in model.reference if not k.startswith("_")} or res.features is None:
        return None
    keep = res.frame.loc[res.frame["segment_id"].to_numpy() >= 0, "customer_id"].astype(str)
    frame = res.features.set_axis(res.features.index.astype(str))
    return drift_report(model, frame.loc[frame.index.isin(keep)])

"""Watching a saved model in use: drift versus training, and per-customer alerts for the CRM.

* :func:`drift_report` compares a new feature frame with the training aggregates stored in
  the model's manifest: the Population Stability Index (PSI) per feature and for the
  segment shares, and the share of customers that "fit no segment".
* :func:`customer_alerts` flags customers whose **activity drops** (days since the last
  purchase well beyond their usual interval) or whose **payments slip** (recent days late
  above their earlier habit). :func:`alerts_from_transactions` builds the two feature
  windows it needs with the features layer.

PSI
---
``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)`` over bins, with ``e`` the training share and
``a`` the new share. Numeric features use the training quantile bins (edges stored in the
manifest) plus a "missing" bin; categorical features use their training levels plus
"other" (levels beyond the stored ones, or unseen) and "missing". Empty bins are floored
at ``eps=1e-4`` on both sides. Levels: ``< 0.1`` stable, ``0.1–0.25`` moderate,
``>= 0.25`` significant (the usual credit-scoring rule of thumb).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml._json import jsonable
from segml._numeric import to_float
from segml.errors import ConfigError, SchemaError
from segml.scoring import score_features

if TYPE_CHECKING:  # the model builds its drift reference here
    from segml.model import SegmentModel

__all__ = [
    "PSI_MODERATE",
    "PSI_SIGNIFICANT",
    "AlertConfig",
    "DriftReport",
    "alerts_from_transactions",
    "customer_alerts",
    "drift_reference",
    "drift_report",
    "numeric_shares",
    "psi",
    "psi_level",
]

PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25
_EPS = 1e-4
_MAX_REF_LEVELS = 30  # category levels named in a drift reference (the rest: 'other')


def psi(expected: Sequence[float], actual: Sequence[float], *, eps: float = _EPS) -> float:
    """Compute the Population Stability Index between two share vectors over the same bins.

    Parameters
    ----------
    expected, actual : sequence of float
        Shares per bin (each summing to about 1).
    eps : float, default 1e-4
        Floor for empty bins.

    Returns
    -------
    float
        ``sum((a - e) * ln(a / e))``; 0 for identical distributions.

    Raises
    ------
    ConfigError
        When the two vectors differ in length.

    Examples
    --------
    >>> round(psi([0.5, 0.5], [0.25, 0.75]), 4)
    0.2747
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape:
        raise ConfigError(f"expected has {e.size} bins but actual has {a.size}.")
    e = np.maximum(e, eps)
    a = np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_level(value: float) -> str:
    """Label a PSI: ``"stable"`` (< 0.1), ``"moderate"`` (< 0.25) or ``"significant"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if value < PSI_MODERATE:
        return "stable"
    if value < PSI_SIGNIFICANT:
        return "moderate"
    return "significant"


@dataclass
class DriftReport:
    """Drift of a new batch versus the training data of a model.

    Attributes
    ----------
    features : pandas.DataFrame
        ``feature, kind, psi, level``, worst first.
    segments : pandas.DataFrame
        ``segment_id, segment_name, train_share, new_share``.
    segment_psi : float
        PSI of the segment shares.
    no_fit_share : float
        Share of new customers beyond their segment's training 99th percentile distance
        (about 0.01 when nothing moved).
    n_new : int
        Rows in the new batch.
    """

    features: pd.DataFrame
    segments: pd.DataFrame
    segment_psi: float
    no_fit_share: float
    n_new: int

    @property
    def segment_level(self) -> str:
        """PSI level of the segment shares."""
        return psi_level(self.segment_psi)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-serialisable Python types."""
        return {
            "n_new": self.n_new,
            "segment_psi": self.segment_psi,
            "segment_level": self.segment_level,
            "no_fit_share": self.no_fit_share,
            "features": jsonable(self.features.to_dict(orient="records")),
            "segments": jsonable(self.segments.to_dict(orient="records")),
        }


def drift_reference(frame: pd.DataFrame, contract: Mapping[str, Any], n_bins: int,
               min_level: int = 1) -> dict[str, Any]:
    """Training distribution per feature for PSI: quantile edges and shares (no rows).

    Parameters
    ----------
    frame : pandas.DataFrame
        Training feature frame.
    contract : mapping
        Input contract of the columns (:func:`segml.model.input_contract`).
    n_bins : int
        Quantile bins per numeric feature.
    min_level : int, default 1
        Category levels held by fewer rows go to "other" and are never named.

    Returns
    -------
    dict
        ``{column: {"kind", "edges"/"shares", "missing"[, "other"]}}`` (aggregates only).
    """
    ref: dict[str, Any] = {}
    n = len(frame)
    for c, spec in contract.items():
        s = frame[c]
        miss = float(s.isna().sum()) / n if n else 0.0
        if spec["kind"] == "numeric":
            v = to_float(s)
            fin = v[np.isfinite(v)]
            if fin.size == 0:
                edges: list[float] = []
            else:
                qs = np.quantile(fin, np.linspace(0, 1, n_bins + 1)[1:-1])
                edges = sorted({float(q) for q in qs})
            shares = numeric_shares(v, edges)
            ref[c] = {"kind": "numeric", "edges": edges, "shares": shares, "missing": miss}
        elif spec["kind"] in ("category", "bool"):
            counts = s.dropna().astype(str).value_counts()
            top = counts.iloc[:_MAX_REF_LEVELS]
            top = top[top >= min_level]  # rarer levels go to "other", never named
            shares_c = {str(k): float(v) / n for k, v in top.items()}
            other = float(counts.sum() - top.sum()) / n if n else 0.0
            ref[c] = {"kind": "category", "shares": shares_c, "other": other, "missing": miss}
    return ref


def numeric_shares(v: np.ndarray, edges: Sequence[float]) -> list[float]:
    """Shares of ``v`` in bins ``(-inf, e0], (e0, e1], ..., (e_last, inf)`` over all rows.

    Parameters
    ----------
    v : numpy.ndarray
        Float values (NaN counts in no bin, only in the denominator).
    edges : sequence of float
        Sorted bin edges.

    Returns
    -------
    list of float
        ``len(edges) + 1`` shares.
    """
    n = len(v)
    fin = v[~np.isnan(v)]
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), fin, side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return [float(c) / n if n else 0.0 for c in counts]


def _actual_shares(s: pd.Series, ref: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    n = len(s)
    if ref["kind"] == "numeric":
        v = to_float(s)
        act = numeric_shares(v, ref["edges"]) + [float(np.isnan(v).sum()) / n]
        exp = list(ref["shares"]) + [ref["missing"]]
        return exp, act
    levels = list(ref["shares"])
    na = s.isna()
    vals = s[~na].astype(str)
    counts = vals.value_counts()
    known_counts = [int(counts.get(lv, 0)) for lv in levels]
    other = len(vals) - sum(known_counts)
    exp = [ref["shares"][lv] for lv in levels] + [ref.get("other", 0.0), ref["missing"]]
    act = [c / n for c in known_counts] + [other / n, float(na.sum()) / n]
    return exp, act


def drift_report(model: SegmentModel, new_features: pd.DataFrame) -> DriftReport:
    """PSI per feature and for the segment shares, and the "fits no segment" share.

    Parameters
    ----------
    model : SegmentModel
        The model (its manifest holds the training bins and shares).
    new_features : pandas.DataFrame
        Feature frame of the new batch (same columns as for scoring).

    Returns
    -------
    DriftReport
        The report.

    Raises
    ------
    SchemaError
        Empty input or a missing column (as in scoring).
    ConfigError
        When the model carries no drift reference.
    """
    ref = {k: v for k, v in model.reference.items() if not k.startswith("_")}
    if not ref:
        raise ConfigError(
            "the model has no drift reference; build it with SegmentModel.from_training."
        )
    res = score_features(model, new_features, explain=0)
    rows = []
    for col, r in ref.items():
        exp, act = _actual_shares(new_features[col], r)
        value = psi(exp, act)
        rows.append({"feature": col, "kind": r["kind"], "psi": value, "level": psi_level(value)})
    feats = pd.DataFrame(rows, columns=["feature", "kind", "psi", "level"])
    feats = feats.sort_values(["psi", "feature"], ascending=[False, True], kind="stable")
    feats = feats.reset_index(drop=True)
    k = model.n_segments
    train = model.reference.get("_segments", {})
    exp_s = [float(train.get(str(j), 0.0)) for j in range(k)]
    counts = np.bincount(res.frame["segment_id"].to_numpy(), minlength=k)
    act_s = (counts / counts.sum()).tolist()
    segs = pd.DataFrame(
        {
            "segment_id": np.arange(k, dtype=np.int64),
            "segment_name": [model.segment_names.get(j, f"segment_{j}") for j in range(k)],
            "train_share": exp_s,
            "new_share": act_s,
        }
    )
    return DriftReport(
        features=feats,
        segments=segs,
        segment_psi=psi(exp_s, act_s),
        no_fit_share=float(res.frame["fits_no_segment"].mean()),
        n_new=int(len(new_features)),
    )


# ----------------------------------------------------------------------------- alerts
@dataclass(frozen=True)
class AlertConfig:
    """Thresholds of the per-customer alerts.

    Parameters
    ----------
    activity_factor : float, default 2.0
        Activity drop when ``recency_days > activity_factor * interpurchase_mean_days``...
    activity_min_days : float, default 30.0
        ...and ``recency_days > activity_min_days`` (both must hold).
    payment_min_increase_days : float, default 5.0
        Payment slip when recent ``days_late_mean`` exceeds the earlier one by at least this...
    payment_min_days_late : float, default 7.0
        ...and the recent ``days_late_mean`` is at least this.
    """

    activity_factor: float = 2.0
    activity_min_days: float = 30.0
    payment_min_increase_days: float = 5.0
    payment_min_days_late: float = 7.0

    def validate(self) -> None:
        """Raise :class:`~segml.errors.ConfigError` for a non-finite or negative threshold."""
        for name, v in asdict(self).items():
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ConfigError(f"AlertConfig.{name}={v!r} should be a finite number >= 0.")
        if self.activity_factor < 1:
            raise ConfigError(
                f"AlertConfig.activity_factor={self.activity_factor!r} should be >= 1 "
                "(a customer is late only beyond the usual interval)."
            )


_ALERT_COLUMNS = ["customer_id", "alert", "value", "threshold", "message"]


def _ids(frame: pd.DataFrame) -> pd.Index:
    if "customer_id" in frame.columns:
        return pd.Index(frame["customer_id"].astype("str"), name="customer_id")
    return pd.Index(frame.index.astype("str"), name="customer_id")


def _need(frame: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    miss = [c for c in cols if c not in frame.columns]
    if miss:
        raise SchemaError(f"{what} needs column(s) {miss} (canonical feature names).")


def customer_alerts(
    current: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    *,
    config: AlertConfig | None = None,
) -> pd.DataFrame:
    """Per-customer alerts for the CRM: activity drop and payment slip.

    Parameters
    ----------
    current : pandas.DataFrame
        Feature frame now (indexed by ``customer_id`` or with that column): needs
        ``recency_days`` and ``interpurchase_mean_days``; ``days_late_mean`` for payments,
        computed over the **recent** window.
    previous : pandas.DataFrame, optional
        Feature frame of the earlier window (``days_late_mean`` before the recent one).
        Without it no payment alert is computed.
    config : AlertConfig, optional
        Thresholds.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, alert, value, threshold, message``; ``alert`` is
        ``"activity_drop"`` or ``"payment_slip"``; sorted by alert then customer.

    Raises
    ------
    SchemaError
        When a needed column is missing.
    ConfigError
        For invalid thresholds.

    Examples
    --------
    >>> cur = pd.DataFrame({"recency_days": [90.0, 10.0], "interpurchase_mean_days": [30.0, 30.0]},
    ...                    index=pd.Index(["a", "b"], name="customer_id"))
    >>> customer_alerts(cur)[["customer_id", "alert", "value", "threshold"]].values.tolist()
    [['a', 'activity_drop', 90.0, 60.0]]
    """
    cfg = AlertConfig() if config is None else config
    if not isinstance(cfg, AlertConfig):
        raise ConfigError(f"config should be an AlertConfig, got {type(cfg).__name__}.")
    cfg.validate()
    _need(current, ["recency_days", "interpurchase_mean_days"], "the activity alert")
    ids = _ids(current)
    parts = []
    rec = to_float(current["recency_days"])
    gap = to_float(current["interpurchase_mean_days"])
    thr = np.maximum(cfg.activity_factor * gap, cfg.activity_min_days)
    with np.errstate(invalid="ignore"):
        hit = np.isfinite(rec) & np.isfinite(gap) & (rec > thr)
    if hit.any():
        r, g, t = rec[hit], gap[hit], thr[hit]
        parts.append(pd.DataFrame({
            "customer_id": ids[hit].to_numpy(dtype=object),
            "alert": "activity_drop",
            "value": r,
            "threshold": t,
            "message": [
                f"no purchase for {a:.0f} days, {a / b:.1f}x the usual {b:.0f}-day interval"
                if b > 0 else f"no purchase for {a:.0f} days"
                for a, b in zip(r.tolist(), g.tolist(), strict=True)
            ],
        }))
    if previous is not None:
        _need(current, ["days_late_mean"], "the payment alert")
        _need(previous, ["days_late_mean"], "the payment alert (previous window)")
        prev = pd.Series(to_float(previous["days_late_mean"]), index=_ids(previous))
        prev = prev[~prev.index.duplicated()].reindex(ids).to_numpy()
        cur = to_float(current["days_late_mean"])
        p_thr = prev + cfg.payment_min_increase_days
        with np.errstate(invalid="ignore"):
            hit = (
                np.isfinite(cur) & np.isfinite(prev) & (cur >= p_thr)
                & (cur >= cfg.payment_min_days_late)
            )
        if hit.any():
            c, p, t = cur[hit], prev[hit], p_thr[hit]
            parts.append(pd.DataFrame({
                "customer_id": ids[hit].to_numpy(dtype=object),
                "alert": "payment_slip",
                "value": c,
                "threshold": t,
                "message": [
                    f"paying {a:.1f} days late on average recently, up from {b:.1f}"
                    for a, b in zip(c.tolist(), p.tolist(), strict=True)
                ],
            }))
    if not parts:
        out = pd.DataFrame({c: pd.Series(dtype=("float64" if c in ("value", "threshold")
                                                else "str")) for c in _ALERT_COLUMNS})
        return out
    out = pd.concat(parts, ignore_index=True)
    out["customer_id"] = out["customer_id"].astype("str")
    out["alert"] = out["alert"].astype("str")
    out["message"] = out["message"].astype("str")
    out = out.sort_values(["alert", "customer_id"], kind="stable").reset_index(drop=True)
    return out[_ALERT_COLUMNS]


def alerts_from_transactions(
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    as_of: Any,
    *,
    recent_days: int = 90,
    config: AlertConfig | None = None,
) -> pd.DataFrame:
    """Build the feature windows and return :func:`customer_alerts` for ``as_of``.

    Activity uses all history up to ``as_of``; payments compare ``days_late_mean`` over
    the last ``recent_days`` (``lookback_days``) with ``days_late_mean`` as of
    ``as_of - recent_days``.

    Parameters
    ----------
    transactions, customers : pandas.DataFrame
        Canonical tables.
    as_of : timestamp-like
        Alert date.
    recent_days : int, default 90
        Length of the recent payment window.
    config : AlertConfig, optional
        Thresholds.

    Returns
    -------
    pandas.DataFrame
        See :func:`customer_alerts`.

    Raises
    ------
    ConfigError
        For a non-positive ``recent_days``.
    """
    if not isinstance(recent_days, (int, np.integer)) or recent_days <= 0:
        raise ConfigError(f"recent_days={recent_days!r} should be a positive integer.")
    from segml.features.build import build_features

    ts = pd.Timestamp(as_of)
    now = build_features(transactions, customers, ts).frame
    recent = build_features(transactions, customers, ts, lookback_days=int(recent_days)).frame
    before = build_features(transactions, customers, ts - pd.Timedelta(days=int(recent_days)))
    current = now[["recency_days", "interpurchase_mean_days"]].copy()
    if "days_late_mean" in recent.columns and "days_late_mean" in before.frame.columns:
        current["days_late_mean"] = recent["days_late_mean"].reindex(current.index)
        return customer_alerts(current, before.frame, config=config)
    return customer_alerts(current, None, config=config)

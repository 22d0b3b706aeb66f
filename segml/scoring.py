"""Score new customers with a saved :class:`~segml.persistence.SegmentModel`.

Batch (:func:`score_features`, :func:`score`) and single-customer (:func:`score_one`)
scoring check the input against the model's contract first, then run the compiled
numpy scorer (:mod:`segml._fastscore`), which gives the same labels as the fitted
scikit-learn pipeline.

Input policy
------------
* missing column -> :class:`~segml.errors.SchemaError` naming it;
* extra columns -> ignored; column order -> irrelevant;
* empty input -> :class:`~segml.errors.SchemaError`;
* a numeric column holding text that is not a number -> :class:`SchemaError`;
* missing values -> imputed exactly as at fit (the fitted imputer), counted per column;
* a category level not seen in training -> ``unknown="ignore"`` (default): scored the
  way the fitted encoder treats unknown levels (one-hot indicators all 0), counted per
  column and warned once with :class:`~segml.errors.DataQualityWarning`;
  ``unknown="error"``: :class:`SchemaError` naming the column and levels;
* numeric values outside the training range -> scored, counted (``out_of_range``).

Output columns
--------------
``customer_id``, ``segment_id`` (ordered id), ``segment_name``, ``confidence``
(mixture posterior of the chosen segment, or for k-means the margin
``1 - d_own / d_runner_up`` in [0, 1]), ``distance`` (Euclidean distance to the
segment centre in model space), ``fits_no_segment`` (distance beyond the training
99th percentile of that segment) and ``driver_1..driver_k`` (the model features that
pull the customer most towards its segment rather than the runner-up).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segml._fastscore import top_features
from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.persistence import SegmentModel

__all__ = ["ScoreResult", "score", "score_features", "score_one"]

_POLICIES = ("ignore", "error")


@dataclass
class ScoreResult:
    """Scores of a batch and the counts of what the input checks repaired.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per customer (see the module docstring for the columns).
    report : dict
        ``n_rows``, ``missing_imputed`` / ``unseen_categories`` / ``out_of_range``
        (column -> count, only non-zero), ``ignored_columns``, ``no_fit_share``,
        ``fallback_branches``.
    """

    frame: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)

    def to_pandas(self) -> pd.DataFrame:
        """Return the score table (a copy)."""
        return self.frame.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON types."""
        return dict(self.report)


def _check_policy(unknown: str) -> None:
    if unknown not in _POLICIES:
        raise ConfigError(f"unknown={unknown!r} should be one of {_POLICIES}.")


def _customer_ids(frame: pd.DataFrame, id_column: str) -> Any:
    if id_column in frame.columns:
        return frame[id_column].astype("str").array
    return frame.index.astype("str").array


def _count_missing(s: pd.Series) -> int:
    """Missing values of a column (``Series.isna``), without a boolean Series for numpy floats."""
    dt = s.dtype
    if isinstance(dt, np.dtype):
        if dt.kind == "f":
            return int(np.count_nonzero(np.isnan(s.to_numpy())))
        if dt.kind in "iub":
            return 0
    return int(s.isna().sum())


def _float_values(s: pd.Series) -> np.ndarray:
    """Return a numeric column as float64 with NaN for missing (a view for float64)."""
    if s.dtype == np.float64:
        return s.to_numpy()
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _check_frame(
    model: SegmentModel, frame: Any, unknown: str
) -> tuple[dict[str, pd.Series], dict[str, Any], dict[str, tuple[np.ndarray, list[Any]]]]:
    """Select, convert and count the model's columns; never changes ``frame``.

    Returns the model's columns as a name -> Series mapping (converted where a numeric
    column held numbers as text), the check report, and the factorization of the
    category columns (column -> codes, uniques) that the scorer reuses.
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"features should be a pandas DataFrame, got {type(frame).__name__}."
        )
    if len(frame) == 0:
        raise SchemaError("no customers to score: the feature frame has 0 rows.")
    cols = model.columns
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"feature frame lacks column(s) {missing} the model was trained on; "
            "build the features with the model's FeatureSpec (score() does this)."
        )
    # the model's columns as a name -> Series mapping: ``frame[cols]`` would copy the
    # numeric block (a pandas take), and the scorer reads columns by name anyway
    work: dict[str, Any] = {}
    miss_counts: dict[str, int] = {}
    unseen: dict[str, int] = {}
    out_range: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    factorized: dict[str, tuple[np.ndarray, list[Any]]] = {}
    levels_by_col = model.level_sets()
    for c in cols:
        spec = model.contract.get(c, {})
        s = frame[c]
        kind = spec.get("kind")
        if kind in ("numeric", "bool") and not (
            pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        ):
            na = s.isna()
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & ~na
            if bad.any():
                ex = sorted({str(v) for v in s[bad].head(5)})
                raise SchemaError(
                    f"column {c!r} should be numeric (trained as {spec.get('dtype')}) but holds "
                    f"non-numeric values such as {ex}; convert it before scoring."
                )
            n_na = int(na.sum())
            s = num.astype(np.float64)
        else:
            n_na = _count_missing(s)
        work[c] = s
        if n_na:
            miss_counts[c] = n_na
        if kind == "numeric" and spec.get("min") is not None:
            v = _float_values(s)
            with np.errstate(invalid="ignore"):
                n_out = int(np.count_nonzero((v < spec["min"]) | (v > spec["max"])))
            if n_out:
                out_range[c] = n_out
        elif kind == "category" and spec.get("levels") is not None:
            levels = levels_by_col[c]
            codes, uniq = pd.factorize(s.array, use_na_sentinel=True)
            ulist = uniq.tolist()
            factorized[c] = (codes, ulist)
            bad_u = np.array([str(u) not in levels for u in ulist] + [False])
            n_new = int(np.count_nonzero(bad_u[codes]))
            if n_new:
                unseen[c] = n_new
                examples[c] = sorted(str(u) for u in np.asarray(uniq, dtype=object)[bad_u[:-1]])[:5]
    if unseen and unknown == "error":
        detail = "; ".join(f"{c!r}: {examples[c]}" for c in unseen)
        raise SchemaError(
            f"categories not seen in training in {detail}. Pass unknown='ignore' to score them "
            "as the fitted encoder treats unknown levels (counted in the report)."
        )
    if unseen:
        detail = ", ".join(f"{c!r} ({n} rows, e.g. {examples[c]})" for c, n in unseen.items())
        warnings.warn(
            f"categories not seen in training were scored as unknown: {detail}.",
            DataQualityWarning,
            stacklevel=3,
        )
    ignored = [str(c) for c in frame.columns if c not in set(cols)]
    report = {
        "n_rows": int(len(frame)),
        "missing_imputed": miss_counts,
        "unseen_categories": unseen,
        "out_of_range": out_range,
        "ignored_columns": ignored,
    }
    return work, report, factorized


def score_features(
    model: SegmentModel,
    features: pd.DataFrame,
    *,
    unknown: str = "ignore",
    explain: int = 3,
    id_column: str = "customer_id",
) -> ScoreResult:
    """Score a prepared feature frame (one row per customer).

    Parameters
    ----------
    model : SegmentModel
        A model from :func:`segml.persistence.load_model` or
        :meth:`SegmentModel.from_training`.
    features : pandas.DataFrame
        Feature frame indexed by ``customer_id`` (or with a ``customer_id`` column),
        holding at least the model's columns.
    unknown : {"ignore", "error"}, default "ignore"
        Policy for category levels not seen in training (module docstring).
    explain : int, default 3
        How many ``driver_<i>`` columns to add (0 for none; faster).
    id_column : str, default "customer_id"
        Column holding the ids when they are not the index.

    Returns
    -------
    ScoreResult
        ``frame`` with one row per input row (same order) and the check ``report``.

    Raises
    ------
    SchemaError
        Empty input, a missing column, a non-numeric numeric column, or unseen
        categories with ``unknown="error"``.
    ConfigError
        For an invalid ``unknown`` or ``explain``.

    Examples
    --------
    >>> res = score_features(model, features)  # doctest: +SKIP
    >>> res.frame.columns[:3].tolist()  # doctest: +SKIP
    ['customer_id', 'segment_id', 'segment_name']
    """
    _check_policy(unknown)
    if not isinstance(explain, (int, np.integer)) or explain < 0:
        raise ConfigError(f"explain={explain!r} should be a non-negative integer.")
    work, report, factorized = _check_frame(model, features, unknown)
    scorer = model.scorer
    a, idx = scorer.assign_frame(work, explain=int(explain), factorized=factorized)
    thr = model.no_fit_threshold()
    no_fit = a.distance > thr[a.labels]
    names = [model.segment_names.get(j, f"segment_{j}") for j in range(model.n_segments)]
    if len(set(names)) == len(names):
        seg_name: Any = pd.Categorical.from_codes(a.labels, categories=names)
    else:
        seg_name = np.asarray(names, dtype=object)[a.labels]
    out = {
        "customer_id": _customer_ids(features, id_column),
        "segment_id": a.labels.astype(np.int64),
        "segment_name": seg_name,
        "confidence": a.confidence,
        "distance": a.distance,
        "fits_no_segment": no_fit,
    }
    if idx is not None:
        fnames = scorer.feature_names_out()
        for i in range(idx.shape[1]):
            out[f"driver_{i + 1}"] = pd.Categorical.from_codes(idx[:, i], categories=fnames)
    frame = pd.DataFrame(out)
    report["no_fit_share"] = float(no_fit.mean())
    report["fallback_branches"] = list(scorer.fallbacks)
    return ScoreResult(frame=frame, report=report)


def score(
    model: SegmentModel,
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    as_of: Any,
    *,
    unknown: str = "ignore",
    explain: int = 3,
) -> ScoreResult:
    """Build features with the model's spec and frozen state, then score them.

    Parameters
    ----------
    model : SegmentModel
        The saved model.
    transactions, customers : pandas.DataFrame
        Canonical tables (see docs/CONTRACTS.md).
    as_of : timestamp-like
        Feature date of the new batch (inclusive day boundary).
    unknown : {"ignore", "error"}, default "ignore"
        Unseen category policy.
    explain : int, default 3
        Number of driver columns.

    Returns
    -------
    ScoreResult
        See :func:`score_features`; ``report["feature_report"]`` holds the features
        layer's report when it gives one.

    Raises
    ------
    ConfigError
        When the features layer is not available.
    """
    try:
        from segml.features import build_features
    except ImportError as exc:  # pragma: no cover - depends on the features layer
        raise ConfigError(
            "score() needs segml.features.build_features; score a prepared frame with "
            "score_features() instead."
        ) from exc
    fs = build_features(
        transactions, customers, as_of, spec=model.feature_spec, state=model.feature_state
    )
    res = score_features(model, fs.frame, unknown=unknown, explain=explain)
    rep = getattr(fs, "report", None)
    if rep is not None:
        res.report["feature_report"] = rep.to_dict() if hasattr(rep, "to_dict") else rep
    return res


def _is_na(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def score_one(
    model: SegmentModel,
    record: Mapping[str, Any],
    *,
    unknown: str = "ignore",
    explain: int = 3,
) -> dict[str, Any]:
    """Score one customer given as a mapping of feature name -> value (CRM path).

    No DataFrame is built (when every branch is compiled), so this takes tens of
    microseconds.

    Parameters
    ----------
    model : SegmentModel
        The saved model.
    record : mapping
        Feature values; extra keys are ignored; ``customer_id`` is echoed back.
    unknown : {"ignore", "error"}, default "ignore"
        Unseen category policy (no warning here: see ``unseen`` in the result).
    explain : int, default 3
        Number of drivers to list.

    Returns
    -------
    dict
        ``customer_id, segment_id, segment_name, confidence, distance,
        fits_no_segment, drivers`` (list), ``imputed`` and ``unseen`` (column lists).

    Raises
    ------
    SchemaError
        A missing feature, a non-numeric numeric value, or an unseen level with
        ``unknown="error"``.
    """
    _check_policy(unknown)
    if not isinstance(record, Mapping):
        raise SchemaError(f"record should be a mapping of feature -> value, got {type(record)}.")
    cols = model.columns
    missing = [c for c in cols if c not in record]
    if missing:
        raise SchemaError(f"record lacks feature(s) {missing} the model was trained on.")
    contract = model.contract
    levels = model.level_sets()
    rec: dict[str, Any] = {}
    imputed: list[str] = []
    unseen: list[str] = []
    for c in cols:
        v = record[c]
        spec = contract.get(c, {})
        kind = spec.get("kind")
        if _is_na(v):
            imputed.append(c)
            v = np.nan if kind in ("numeric", "bool") else None
        elif kind == "numeric" and not isinstance(v, (int, float, np.number, bool, np.bool_)):
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise SchemaError(
                    f"feature {c!r} should be numeric but got {v!r}; convert it before scoring."
                ) from None
        elif kind == "category" and c in levels and str(v) not in levels[c]:
            unseen.append(c)
        rec[c] = v
    if unseen and unknown == "error":
        raise SchemaError(
            "categories not seen in training: "
            + ", ".join(f"{c!r}={record[c]!r}" for c in unseen)
            + ". Pass unknown='ignore' to score them as unknown."
        )
    scorer = model.scorer
    z = scorer.matrix_one(rec)
    a = scorer.assign(z)
    lab = int(a.labels[0])
    dist = float(a.distance[0])
    drivers: list[str] = []
    if explain:
        names = scorer.feature_names_out()
        drivers = [names[i] for i in top_features(z, a, int(explain))[0] if i >= 0]
    return {
        "customer_id": record.get("customer_id"),
        "segment_id": lab,
        "segment_name": model.segment_names.get(lab, f"segment_{lab}"),
        "confidence": float(a.confidence[0]),
        "distance": dist,
        "fits_no_segment": bool(dist > model.no_fit_threshold()[lab]),
        "drivers": drivers,
        "imputed": imputed,
        "unseen": unseen,
    }

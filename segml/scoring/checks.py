"""Score new customers with a saved :class:`~segml.persistence.SegmentModel`.

Batch (:func:`score_features`, :func:`score`) and single-customer (:func:`score_one`)
scoring check the input against the model's contract first, then run the compiled
numpy scorer (:class:`~segml.scoring.compiled.CompiledScorer`), which gives the same
labels as the fitted scikit-learn pipeline.

Input policy
------------
* missing column -> :class:`~segml.errors.SchemaError` naming every one, unless
  ``impute_missing=True`` (CLI ``segml score --impute-missing``): then the whole column
  is imputed as at fit and listed in the report (``columns_imputed``);
* extra columns -> ignored; column order -> irrelevant;
* empty input -> :class:`~segml.errors.SchemaError`;
* a numeric column holding text that is not a number -> :class:`SchemaError`;
* missing values -> imputed exactly as at fit (the fitted imputer), counted per column;
* a category level not seen in training -> ``unknown="ignore"`` (default): scored the
  way the fitted encoder treats unknown levels (one-hot indicators all 0), counted per
  column and warned once with :class:`~segml.errors.DataQualityWarning`;
  ``unknown="error"``: :class:`SchemaError` naming the column and levels;
* numeric values outside the training range -> scored, counted (``out_of_range``).

Prospects and not-yet customers
-------------------------------
One policy for ``segml run`` (``segments.csv``), ``segml score``, :func:`score`,
:func:`score_features` and :func:`score_one`: a *prospect* (``is_prospect`` true: in the
as-of universe but no purchase on or before ``as_of``) is never clustered; it is kept
with ``segment_id`` -1 and ``segment_name`` "prospect (not clustered)" (no confidence,
distance or drivers) and counted in ``report["customers_left_out"]["prospects"]``.
(Exception: a model fitted with ``features.buyers_only = false`` clustered prospects, so
its prospects are scored like everyone else.) A *not-yet customer* (first seen after
``as_of``) is left out by the features layer and only counted
(``report["customers_left_out"]["not_yet_customers"]``).

Output columns
--------------
``customer_id``, ``segment_id`` (ordered id), ``segment_name``, ``confidence``
(mixture posterior of the chosen segment, or for k-means the margin
``1 - d_own / d_runner_up`` in [0, 1]), ``distance`` (Euclidean distance to the
segment centre in model space), ``fits_no_segment`` (distance beyond the training
99th percentile of that segment) and ``driver_1..driver_k`` (the model features that
pull the customer most towards its segment rather than the runner-up).
:func:`score` adds the model's ``forward`` family columns (``p_alive``,
``expected_purchases``, ...) when its feature spec has that family.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.rules.degenerate import (
    DEGENERATE_GROUPS,
    degenerate_groups,
    degenerate_segment_ids,
    group_of,
)
from segml.scoring.assign import top_features

if TYPE_CHECKING:  # the model imports the compiled scorer, which imports this package
    from segml.persistence import SegmentModel

__all__ = [
    "PROSPECT_SEGMENT_ID",
    "PROSPECT_SEGMENT_NAME",
    "ScoreResult",
    "score",
    "score_features",
    "score_one",
]

#: ``segment_id`` of a prospect (never clustered; see the module docstring).
PROSPECT_SEGMENT_ID = -1
#: ``segment_name`` of a prospect.
PROSPECT_SEGMENT_NAME = "prospect (not clustered)"

_POLICIES = ("ignore", "error")


@dataclass
class ScoreResult:
    """Scores of a batch and the counts of what the input checks repaired.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per customer (see the module docstring for the columns).
    report : dict
        ``n_rows`` (rows in), ``rows_scored`` (rows given a segment),
        ``missing_imputed`` / ``unseen_categories`` / ``out_of_range`` (column -> count,
        only non-zero), ``columns_imputed`` (whole columns absent and imputed),
        ``ignored_columns``, ``customers_left_out`` (``prospects``, and from :func:`score`
        ``not_yet_customers``), ``fits_no_segment`` (count), ``no_fit_share``,
        ``fallback_branches``.
    features : pandas.DataFrame or None
        The feature frame the scores were computed from (set by :func:`score`, which
        builds it; ``None`` from :func:`score_features`, whose caller holds it), so a
        caller that needs the features too (drift, the refresh) does not build them again.
    """

    frame: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)
    features: pd.DataFrame | None = None

    def to_pandas(self) -> pd.DataFrame:
        """Return the score table (a copy)."""
        return self.frame.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON types."""
        return dict(self.report)


def _check_policy(unknown: str) -> None:
    if unknown not in _POLICIES:
        raise ConfigError(
            f"unknown={unknown!r} should be one of {_POLICIES}. Fix: pass unknown='ignore' "
            "or 'error' (CLI: segml score --unknown ignore|error)."
        )


def _clusters_prospects(model: SegmentModel) -> bool:
    """Whether the model was fitted on prospects too (``features.buyers_only = false``).

    A prospect has ``frequency`` 0 (no purchase in the window), so a training minimum of
    0 means prospects were clustered; buyers-only models have a minimum of at least 1.
    """
    spec = model.contract.get("frequency") or {}
    lo = spec.get("min")
    return lo is not None and float(lo) <= 0


def _prospect_mask(model: SegmentModel, frame: pd.DataFrame) -> np.ndarray | None:
    """Rows that get the prospect policy, or None when no row does."""
    if "is_prospect" not in frame.columns or _clusters_prospects(model):
        return None
    mask = frame["is_prospect"].fillna(False).to_numpy(dtype=bool)
    return mask if mask.any() else None


def _sets_degenerate_aside(model: SegmentModel) -> bool:
    """Whether the model was fitted without degenerate buyers (training monetary min > 0)."""
    lo = (model.contract.get("monetary") or {}).get("min")
    return lo is not None and float(lo) > 0


def _degenerate_one(model: SegmentModel, record: Mapping[str, Any]) -> str | None:
    """Degenerate group of one record (:func:`segml.rules.degenerate.group_of`), or None."""
    if not _sets_degenerate_aside(model) or _is_true(record.get("is_prospect")):
        return None
    return group_of(record.get("frequency"), record.get("monetary"))


def _set_aside(model: SegmentModel, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Segment id and name of the rows not put through the model, or None when none is.

    Prospects (see :func:`_prospect_mask`) get -1; degenerate buyers ($0-only -2, net-refund
    -3; :mod:`segml.rules.degenerate`) get their group, as ``segml run`` set them aside —
    when the model was fitted without them (its training ``monetary`` minimum is above 0).
    Rows not set aside have id 0 and an empty name.
    """
    n = len(frame)
    ids = np.zeros(n, dtype=np.int64)
    names = np.full(n, "", dtype=object)
    prospects = _prospect_mask(model, frame)
    if prospects is not None:
        ids[prospects] = PROSPECT_SEGMENT_ID
        names[prospects] = PROSPECT_SEGMENT_NAME
    if _sets_degenerate_aside(model):
        groups = degenerate_groups(frame)
        hit = groups.notna().to_numpy() & (ids == 0)
        if hit.any():
            ids[hit] = degenerate_segment_ids(groups[hit]).to_numpy(dtype=np.int64)
            names[hit] = (groups[hit] + " (not clustered)").to_numpy(dtype=object)
    return (ids, names) if (ids != 0).any() else None


def _missing_columns_error(missing: list[str], what: str) -> SchemaError:
    shown = ", ".join(repr(c) for c in missing[:6])
    if len(missing) > 6:
        shown += f" and {len(missing) - 6} more"
    return SchemaError(
        f"{what} lacks {len(missing)} column(s) the model reads: {shown}. Scoring them would "
        "impute every value and can move customers to another segment. Fix: add the "
        "column(s) to the input, or impute them as at fit on purpose with "
        "impute_missing=True (CLI: segml score --impute-missing); the scoring report "
        "counts them."
    )


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
    model: SegmentModel, frame: Any, unknown: str, impute_missing: bool = False
) -> tuple[dict[str, pd.Series], dict[str, Any], dict[str, tuple[np.ndarray, list[Any]]]]:
    """Select, convert and count the model's columns; never changes ``frame``.

    Returns the model's columns as a name -> Series mapping (converted where a numeric
    column held numbers as text), the check report, and the factorization of the
    category columns (column -> codes, uniques) that the scorer reuses.
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"features should be a pandas DataFrame, got {type(frame).__name__}. Fix: pass "
            "the feature frame (FeatureSet.frame), or use score() on the raw tables."
        )
    if len(frame) == 0:
        raise SchemaError(
            "no customers to score: the feature frame has 0 rows. Fix: check the input "
            "files and --as-of (Python: as_of)."
        )
    cols = model.columns
    missing = [c for c in cols if c not in frame.columns]
    if missing and not impute_missing:
        raise _missing_columns_error(missing, "the feature frame")
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
        kind = spec.get("kind")
        if c in missing:
            s = pd.Series(np.nan if kind in ("numeric", "bool") else None, index=frame.index,
                          dtype="float64" if kind in ("numeric", "bool") else "object")
        else:
            s = frame[c]
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
                    f"non-numeric values such as {ex}. Fix: convert or blank those values in "
                    "the input before scoring."
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
            f"categories not seen in training in {detail}. Fix: pass unknown='ignore' (CLI: "
            "segml score --unknown ignore, the default) to score them as the fitted encoder "
            "treats unknown levels (counted in the report), or map them to trained levels."
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
        "columns_imputed": list(missing),
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
    impute_missing: bool = False,
) -> ScoreResult:
    """Score a prepared feature frame (one row per customer).

    Prospects (``is_prospect`` true) get ``segment_id`` -1 and the name
    :data:`PROSPECT_SEGMENT_NAME` instead of a segment (module docstring).

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
    impute_missing : bool, default False
        Impute model columns the frame lacks (as at fit) instead of raising; they are
        listed in ``report["columns_imputed"]`` and counted in ``missing_imputed``.

    Returns
    -------
    ScoreResult
        ``frame`` with one row per input row (same order) and the check ``report``.

    Raises
    ------
    SchemaError
        Empty input, a missing column (without ``impute_missing``), a non-numeric
        numeric column, or unseen categories with ``unknown="error"``.
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
        raise ConfigError(f"explain={explain!r} should be a non-negative integer. Fix: pass "
                          "explain=0 (no drivers) or a small count such as 3.")
    if not isinstance(features, pd.DataFrame):
        raise SchemaError(
            f"features should be a pandas DataFrame, got {type(features).__name__}. Fix: pass "
            "the feature frame (FeatureSet.frame), or use score() on the raw tables."
        )
    aside = _set_aside(model, features)
    out = np.zeros(len(features), dtype=bool) if aside is None else aside[0] != 0
    buyers = features if aside is None else features[~out]
    if len(buyers) == 0 and aside is not None:
        report = _empty_report(model, features, impute_missing)
        frame = _aside_rows(features, aside, id_column, explain)
    else:
        work, report, factorized = _check_frame(model, buyers, unknown, impute_missing)
        frame = _assign(model, buyers, work, factorized, explain, id_column)
        if aside is not None:
            frame = _merge_aside(model, features, aside, frame, id_column, explain)
    no_fit = frame["fits_no_segment"].to_numpy(dtype=bool)
    scored = ~out
    report["n_rows"] = int(len(features))
    report["rows_scored"] = int(scored.sum())
    left = {"prospects": 0 if aside is None else int((aside[0] == PROSPECT_SEGMENT_ID).sum())}
    if aside is not None:
        for name in pd.unique(aside[1][aside[0] < PROSPECT_SEGMENT_ID]):
            left[str(name).removesuffix(" (not clustered)")] = int((aside[1] == name).sum())
    report["customers_left_out"] = left
    report["fits_no_segment"] = int(no_fit.sum())
    report["no_fit_share"] = float(no_fit[scored].mean()) if scored.any() else 0.0
    report["fallback_branches"] = list(model.scorer.fallbacks)
    return ScoreResult(frame=frame, report=report)


def _segment_names(model: SegmentModel) -> list[str]:
    return [model.segment_names.get(j, f"segment_{j}") for j in range(model.n_segments)]


def _assign(model: SegmentModel, features: pd.DataFrame, work: dict[str, Any],
            factorized: dict[str, Any], explain: int, id_column: str) -> pd.DataFrame:
    """Run the compiled scorer on the checked columns; return the score table."""
    scorer = model.scorer
    a, idx = scorer.assign_frame(work, explain=int(explain), factorized=factorized)
    thr = model.no_fit_threshold()
    no_fit = a.distance > thr[a.labels]
    names = _segment_names(model)
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
    return pd.DataFrame(out)


def _aside_rows(features: pd.DataFrame, aside: tuple[np.ndarray, np.ndarray],
                id_column: str, explain: int) -> pd.DataFrame:
    """Score-table rows set aside: their segment id and name, no confidence or distance."""
    ids, names = aside
    n = len(features)
    out: dict[str, Any] = {
        "customer_id": _customer_ids(features, id_column),
        "segment_id": ids.astype(np.int64),
        "segment_name": names.astype(object),
        "confidence": np.full(n, np.nan),
        "distance": np.full(n, np.nan),
        "fits_no_segment": np.zeros(n, dtype=bool),
    }
    for i in range(int(explain)):
        out[f"driver_{i + 1}"] = np.full(n, None, dtype=object)
    return pd.DataFrame(out)


def _merge_aside(model: SegmentModel, features: pd.DataFrame,
                 aside: tuple[np.ndarray, np.ndarray], scored: pd.DataFrame, id_column: str,
                 explain: int) -> pd.DataFrame:
    """Put the set-aside rows back among the scored rows, in the input's order."""
    out = aside[0] != 0
    rows = _aside_rows(features[out], (aside[0][out], aside[1][out]), id_column, explain)
    order = np.concatenate([np.flatnonzero(~out), np.flatnonzero(out)])
    both = pd.concat(
        [scored.astype({c: "object" for c in scored.columns if str(scored[c].dtype) == "category"}),
         rows.reindex(columns=scored.columns)],
        ignore_index=True,
    )
    both = both.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    names = _segment_names(model) + list(pd.unique(aside[1][out]))
    if len(set(names)) == len(names):
        both["segment_name"] = pd.Categorical(both["segment_name"], categories=names)
    return both


def _empty_report(model: SegmentModel, features: pd.DataFrame,
                  impute_missing: bool) -> dict[str, Any]:
    """Return the check report of a batch of prospects only (nothing checked)."""
    missing = [c for c in model.columns if c not in features.columns]
    return {
        "missing_imputed": {},
        "columns_imputed": missing if impute_missing else [],
        "unseen_categories": {},
        "out_of_range": {},
        "ignored_columns": [str(c) for c in features.columns if c not in set(model.columns)],
    }


def score(
    model: SegmentModel,
    transactions: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    as_of: Any,
    *,
    unknown: str = "ignore",
    explain: int = 3,
    impute_missing: bool = False,
    aggregates: pd.DataFrame | None = None,
) -> ScoreResult:
    """Build features with the model's spec and frozen state, then score them.

    What ``segml score`` runs. Policy (see the module docstring): a model column the
    data cannot provide (e.g. the customers table has no ``region``) is an error unless
    ``impute_missing=True``; prospects get ``segment_id`` -1 / "prospect (not
    clustered)"; not-yet customers (first seen after ``as_of``) are left out and
    counted. Everything repaired or left out is counted in ``report``.

    Parameters
    ----------
    model : SegmentModel
        The saved model.
    transactions, customers : pandas.DataFrame or None
        Canonical tables (see docs/CONTRACTS.md).
    as_of : timestamp-like
        Feature date of the new batch (inclusive day boundary).
    unknown : {"ignore", "error"}, default "ignore"
        Unseen category policy.
    explain : int, default 3
        Number of driver columns.
    impute_missing : bool, default False
        Impute model columns the data lacks (CLI ``--impute-missing``) instead of raising.
    aggregates : pandas.DataFrame, optional
        Per-customer aggregates of a source that ships totals instead of transactions.

    Returns
    -------
    ScoreResult
        See :func:`score_features`; ``report["feature_report"]`` holds the features
        layer's report, ``report["customers_left_out"]["not_yet_customers"]`` the
        customers first seen after ``as_of`` (None when the features layer does not
        count them).

    Raises
    ------
    SchemaError
        A model column the data lacks (without ``impute_missing``), and the errors of
        :func:`score_features`.
    ConfigError
        When the features layer is not available.
    """
    try:
        from segml.features import build_features
    except ImportError as exc:  # pragma: no cover - depends on the features layer
        raise ConfigError(
            "score() needs segml.features.build_features. Fix: score a prepared frame with "
            "score_features() instead."
        ) from exc
    fs = build_features(
        transactions, customers, as_of, spec=model.feature_spec, state=model.feature_state,
        aggregates=aggregates,
    )
    rep = getattr(fs, "report", None)
    rep = (rep.to_dict() if hasattr(rep, "to_dict") else dict(rep)) if rep is not None else {}
    # the frozen state fills columns this data lacks with NaN: not a value to impute quietly
    absent = [c for c in rep.get("columns_absent_vs_state", []) if c in set(model.columns)]
    frame = fs.frame.drop(columns=absent) if absent else fs.frame
    if absent and not impute_missing:
        raise _missing_columns_error(absent, "the scoring data")
    res = score_features(model, frame, unknown=unknown, explain=explain,
                         impute_missing=impute_missing)
    res.report["customers_left_out"]["not_yet_customers"] = _not_yet(rep)
    # the forward family's per-customer values (P(alive), expected purchases, spend, CLV) go
    # out with the segments when the model's spec has the family (issue 14)
    fam = getattr(model.feature_spec, "families", {}).get("forward")
    fwd = [c for c in (fam.columns if fam is not None else ()) if c in fs.frame.columns]
    if fwd:
        res.frame = res.frame.join(fs.frame[fwd], on="customer_id")
    if rep:
        res.report["feature_report"] = rep
    res.features = fs.frame
    return res


def _not_yet(feature_report: Mapping[str, Any]) -> int | None:
    """Return the customers first seen after as_of as the features layer counts them."""
    for key in ("not_yet_customers", "n_not_yet_customers", "n_not_yet"):
        v = feature_report.get(key)
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, Mapping) and isinstance(v.get("n"), (int, np.integer)):
            return int(v["n"])
    return None


def _is_true(v: Any) -> bool:
    return not _is_na(v) and bool(v)


def _is_na(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _record_plan(
    model: SegmentModel, cols: list[str]
) -> list[tuple[str, Any, frozenset[str] | None]]:
    """Per-column ``(name, contract kind, training levels or None)``, built once per model.

    ``None`` levels means no unseen-category check (not a category column, or no levels
    recorded), exactly as ``kind == "category" and c in model.level_sets()``.
    """
    cached = model._cache.get("record_plan")
    if cached is not None and cached[0] == cols:
        return cached[1]
    contract = model.contract
    levels = model.level_sets()
    plan: list[tuple[str, Any, frozenset[str] | None]] = []
    for c in cols:
        kind = contract.get(c, {}).get("kind")
        plan.append((c, kind, levels.get(c) if kind == "category" else None))
    model._cache["record_plan"] = (list(cols), plan)
    return plan


def score_one(
    model: SegmentModel,
    record: Mapping[str, Any],
    *,
    unknown: str = "ignore",
    explain: int = 3,
    impute_missing: bool = False,
) -> dict[str, Any]:
    """Score one customer given as a mapping of feature name -> value (CRM path).

    A prospect (``record["is_prospect"]`` true) gets ``segment_id`` -1 and
    "prospect (not clustered)", as in :func:`score` (module docstring).

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
    impute_missing : bool, default False
        Treat features the record lacks as missing (imputed as at fit, listed in
        ``imputed``) instead of raising.

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
        raise SchemaError(
            f"record should be a mapping of feature -> value, got {type(record).__name__}. "
            "Fix: pass a dict such as FeatureSet.frame.iloc[0].to_dict()."
        )
    cols = model.columns
    if _is_true(record.get("is_prospect")) and not _clusters_prospects(model):
        return {
            "customer_id": record.get("customer_id"),
            "segment_id": PROSPECT_SEGMENT_ID,
            "segment_name": PROSPECT_SEGMENT_NAME,
            "confidence": math.nan,
            "distance": math.nan,
            "fits_no_segment": False,
            "drivers": [],
            "imputed": [],
            "unseen": [],
        }
    group = _degenerate_one(model, record)
    if group is not None:
        return {
            "customer_id": record.get("customer_id"),
            "segment_id": DEGENERATE_GROUPS[group],
            "segment_name": f"{group} (not clustered)",
            "confidence": math.nan,
            "distance": math.nan,
            "fits_no_segment": False,
            "drivers": [],
            "imputed": [],
            "unseen": [],
        }
    missing = [c for c in cols if c not in record]
    if missing and not impute_missing:
        raise _missing_columns_error(missing, "the record")
    rec: dict[str, Any] = {}
    imputed: list[str] = []
    unseen: list[str] = []
    for c, kind, known in _record_plan(model, cols):
        v = record.get(c)
        if _is_na(v):
            imputed.append(c)
            v = np.nan if kind in ("numeric", "bool") else None
        elif kind in ("numeric", "bool") and not isinstance(
            v, (int, float, np.number, bool, np.bool_)
        ):
            # the batch path reads bool columns as numbers too (0/1, true/false)
            try:
                v = float(v)
            except (TypeError, ValueError):
                what = "true/false (or 0/1)" if kind == "bool" else "numeric"
                raise SchemaError(
                    f"feature {c!r} should be {what} but got {str(v)[:40]!r}. Fix: convert it "
                    "to a number (or None for missing) before scoring."
                ) from None
        elif known is not None and str(v) not in known:
            unseen.append(c)
        rec[c] = v
    if unseen and unknown == "error":
        raise SchemaError(
            "categories not seen in training: "
            + ", ".join(f"{c!r}={record[c]!r}" for c in unseen)
            + ". Fix: pass unknown='ignore' to score them as unknown, or map them to trained "
            "levels."
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

"""The segment model bundle: a fitted segmenter with its training aggregates.

:class:`SegmentModel` holds the fitted preprocessor and segmenter, the segment names and
roles, profiles, the input contract (:func:`input_contract`), the drift reference
(:func:`segml.monitoring.drift_reference`) and the distance statistics, and nothing per
customer: per-row training arrays are stripped when the bundle is built. It predicts
through the compiled scorer (:mod:`segml.scoring`); :mod:`segml.persistence` saves and
loads it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segml._atomic import check_name
from segml._json import jsonable
from segml._numeric import to_float
from segml.errors import ConfigError, SchemaError
from segml.monitoring import drift_reference
from segml.scoring.compiled import CompiledScorer
from segml.scoring.parts import split_segmenter

__all__ = ["MODEL_KINDS", "SegmentModel", "check_model_name", "input_contract", "strip_rows"]

#: What a model's segments are: clusters, value tiers or rule groups (issue 15's fallbacks
#: when there are no clear segments); a model file without the field holds clusters.
MODEL_KINDS = ("clusters", "value_tiers", "rules")

_QUANTILES = (50, 90, 95, 99)
_ROW_ATTRS = frozenset({"labels_", "indices"})
_GENERIC_STRIP_MIN_ROWS = 1000


# ----------------------------------------------------------------------------- contract
_MAX_LEVELS = 200


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s):
        return "numeric"
    return "category"


def input_contract(frame: pd.DataFrame, columns: Sequence[str], *,
                   min_level: int = 1) -> dict[str, Any]:
    """Describe the training feature columns: kind, dtype, levels, ranges, missing share.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training feature frame.
    columns : sequence of str
        Columns the segmenter reads.
    min_level : int, default 1
        Category levels held by fewer rows are not listed (the feature spec's
        ``min_level_customers``: no customer-level value in a saved model).

    Returns
    -------
    dict
        ``{column: {"kind", "dtype", "levels"|"min"/"max", "missing_share"}}`` (aggregates only).
    """
    out: dict[str, Any] = {}
    for c in columns:
        s = frame[c]
        kind = _kind(s)
        entry: dict[str, Any] = {
            "kind": kind,
            "dtype": str(s.dtype),
            "missing_share": float(s.isna().mean()) if len(s) else 0.0,
        }
        if kind == "numeric":
            v = to_float(s)
            fin = v[np.isfinite(v)]
            entry["min"] = float(fin.min()) if fin.size else None
            entry["max"] = float(fin.max()) if fin.size else None
        elif kind == "datetime":
            entry["min"] = jsonable(s.min())
            entry["max"] = jsonable(s.max())
        elif kind == "category":
            counts = s.dropna().astype(str).value_counts()
            levels = sorted(str(x) for x in counts.index[counts >= min_level])
            entry["n_levels"] = len(levels)
            # high-cardinality columns (postcode, city) keep no level list: unseen levels there
            # are left to the fitted encoder (frequency encoding maps them to 0). So do columns
            # with levels too rare to store: those are indistinguishable from unseen ones.
            folded = len(levels) < len(counts)
            entry["levels"] = levels if len(levels) <= _MAX_LEVELS and not folded else None
        out[str(c)] = entry
    return out



# ----------------------------------------------------------------------------- stripping
def _is_rowlike(val: Any, n: int) -> bool:
    if isinstance(val, (np.ndarray, pd.Series, pd.DataFrame, pd.Index)):
        return val.ndim >= 1 and len(val) == n
    return False


def strip_rows(obj: Any, n_train: int, removed: list[str], where: str, seen: set[int]) -> None:
    """Remove per-row training arrays from ``obj`` in place (``obj`` is already a copy).

    Parameters
    ----------
    obj : object
        A fitted segmenter, feature state, or a container of them.
    n_train : int
        Training rows (an array of that length is per-row for large trainings).
    removed : list of str
        Receives the path of each attribute removed.
    where : str
        Path of ``obj`` (for ``removed``).
    seen : set of int
        Ids already visited.
    """
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, np.ndarray)):
        return
    seen.add(id(obj))
    if isinstance(obj, Mapping):
        for k, v in list(obj.items()):
            strip_rows(v, n_train, removed, f"{where}[{k!r}]", seen)
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            strip_rows(v, n_train, removed, f"{where}[{i}]", seen)
        return
    mod = type(obj).__module__ or ""
    if not (mod.startswith("sklearn") or mod.startswith("segml")) or not hasattr(obj, "__dict__"):
        return
    for attr, val in list(vars(obj).items()):
        named = attr in _ROW_ATTRS or attr.endswith("labels_")
        generic = n_train >= _GENERIC_STRIP_MIN_ROWS and _is_rowlike(val, n_train)
        if (named and isinstance(val, (np.ndarray, list, pd.Series))) or generic:
            if attr.endswith("_"):
                delattr(obj, attr)
            else:
                setattr(obj, attr, None)
            removed.append(f"{where}.{attr}")
        else:
            strip_rows(val, n_train, removed, f"{where}.{attr}", seen)


# ----------------------------------------------------------------------------- the bundle
@dataclass
class SegmentModel:
    """Everything needed to score new customers, and nothing per customer.

    Build it with :meth:`from_training`; save with :func:`segml.persistence.save_model`;
    score with :func:`segml.scoring.score` (checked input) or :meth:`predict`.

    Attributes
    ----------
    segmenter : object
        Fitted segmenter (segml ``Segmenter``, or a scikit-learn ``Pipeline`` ending in
        a clustering estimator), with per-row arrays stripped.
    name : str
        Model name (folder name under ``models/``).
    feature_spec, feature_state : object or None
        The features layer's ``FeatureSpec`` and ``FeatureState`` (frozen cut points).
    as_of : pandas.Timestamp or None
        Feature date of the training data.
    training_window : tuple of pandas.Timestamp or None
        First and last transaction date used.
    segment_names, segment_roles : dict
        Ordered segment id -> name / role.
    profiles, metrics : dict
        JSON summaries of the segment profiles and validation metrics.
    contract : dict
        Input contract (see :func:`input_contract`).
    reference : dict
        Drift reference: per-feature bin edges and shares, segment shares.
    distance_quantiles : dict
        ``{"overall": {"p50"...}, "by_segment": {id: {...}}}`` of distance to own centre.
    n_train : int
        Training size.
    created : str or None
        UTC creation time (ISO 8601), set when saved.
    stripped : list of str
        Attributes removed from the segmenter because they held one entry per row.
    kind : {"clusters", "value_tiers", "rules"}
        What the segments are (:data:`MODEL_KINDS`): a clustering, value tiers or rule groups
        (the RFM groups, :class:`segml.cluster.fallback.RuleGroupSegmenter`).
    """

    segmenter: Any
    name: str = "segments"
    feature_spec: Any = None
    feature_state: Any = None
    as_of: pd.Timestamp | None = None
    training_window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    segment_names: dict[int, str] = field(default_factory=dict)
    segment_roles: dict[int, str] = field(default_factory=dict)
    profiles: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    contract: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    distance_quantiles: dict[str, Any] = field(default_factory=dict)
    n_train: int = 0
    created: str | None = None
    stripped: list[str] = field(default_factory=list)
    kind: str = "clusters"
    manifest: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _scorer: CompiledScorer | None = field(default=None, repr=False, compare=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_training(
        cls,
        segmenter: Any,
        features: pd.DataFrame,
        *,
        name: str = "segments",
        feature_set: Any = None,
        feature_spec: Any = None,
        feature_state: Any = None,
        as_of: Any = None,
        training_window: tuple[Any, Any] | None = None,
        segment_names: Mapping[int, str] | Sequence[str] | None = None,
        segment_roles: Mapping[int, str] | Sequence[str] | None = None,
        profiles: Any = None,
        metrics: Any = None,
        n_bins: int = 10,
        kind: str | None = None,
    ) -> SegmentModel:
        """Bundle a fitted segmenter with its training aggregates.

        Parameters
        ----------
        segmenter : object
            Fitted segmenter. It is deep-copied; the caller's object is not changed.
        features : pandas.DataFrame
            The feature frame it was trained on (used for aggregates only: contract,
            drift reference, distance quantiles, segment shares).
        name : str, default "segments"
            Model name; letters, digits, ``-``, ``_`` and ``.``.
        feature_set : FeatureSet, optional
            Takes ``spec``, ``state`` and ``as_of`` from it.
        feature_spec, feature_state : object, optional
            Override the ones from ``feature_set``.
        as_of : timestamp-like, optional
            Feature date.
        training_window : (start, end), optional
            Transaction window used.
        segment_names, segment_roles : mapping or sequence, optional
            Ordered segment id -> name/role. Names default to the segmenter's
            ``segment_names_``, then (ids beyond them) its ``group_names_`` (a rule-group
            segmenter's empty groups), else ``segment_<id>``.
        profiles, metrics : object, optional
            Profile summary / validation metrics (objects with ``to_dict`` or dicts).
        n_bins : int, default 10
            Quantile bins per numeric feature for the drift reference.
        kind : {"clusters", "value_tiers", "rules"}, optional
            What the segments are; None: ``"rules"`` for a rule-group segmenter (it has
            ``rules_name_``), else ``"clusters"``.

        Returns
        -------
        SegmentModel
            The bundle.

        Raises
        ------
        ConfigError
            For an invalid name or an empty training frame.
        SchemaError
            When ``features`` lacks a column the segmenter reads.
        """
        check_model_name(name)
        if kind is None:
            kind = "rules" if hasattr(segmenter, "rules_name_") else "clusters"
        if kind not in MODEL_KINDS:
            raise ConfigError(f"kind={kind!r} should be one of {', '.join(MODEL_KINDS)}. Fix: "
                              "pass kind='clusters' (or leave it to the segmenter).")
        if not isinstance(features, pd.DataFrame) or len(features) == 0:
            raise ConfigError("features must be the non-empty training feature frame.")
        parts = split_segmenter(segmenter)
        missing = [c for c in parts.columns if c not in features.columns]
        if missing:
            raise SchemaError(f"training features lack column(s) {missing} the segmenter reads.")
        n = len(features)
        model_seg = copy.deepcopy(segmenter)
        removed: list[str] = []
        strip_rows(model_seg, n, removed, "segmenter", set())
        scorer = CompiledScorer.compile(model_seg)
        if feature_set is not None:
            feature_spec = feature_spec if feature_spec is not None else feature_set.spec
            feature_state = (
                feature_state if feature_state is not None else getattr(feature_set, "state", None)
            )
            as_of = as_of if as_of is not None else getattr(feature_set, "as_of", None)
        if feature_state is not None:
            feature_state = copy.deepcopy(feature_state)
            strip_rows(feature_state, n, removed, "feature_state", set())
        min_level = int(getattr(feature_spec, "min_level_customers", 1))
        contract = input_contract(features, scorer.required_columns, min_level=min_level)
        reference = drift_reference(features, contract, n_bins, min_level)
        z = scorer.matrix(features)
        a = scorer.assign(z)
        k = len(parts.label_map)
        counts = np.bincount(a.labels, minlength=k)
        reference["_segments"] = {str(j): float(c) / n for j, c in enumerate(counts)}
        by_seg = {}
        for j in range(k):
            d = a.distance[a.labels == j]
            by_seg[str(j)] = _quantiles(d) if d.size else None
        overall = _quantiles(a.distance)
        names = (
            _id_map(segment_names, k)
            or _id_map(getattr(profiles, "names", None), k)
            or _id_map(getattr(segmenter, "segment_names_", None), k)
        )
        # a rule-group model also scores into the rule set's empty groups (ids after the
        # segments): they keep their group names
        groups = _id_map(getattr(segmenter, "group_names_", None), k)
        names = {j: names.get(j, groups.get(j, f"segment_{j}")) for j in range(k)}
        roles = _id_map(segment_roles, k) or _id_map(getattr(profiles, "roles", None), k)
        win = None
        if training_window is not None:
            win = (pd.Timestamp(training_window[0]), pd.Timestamp(training_window[1]))
        model = cls(
            segmenter=model_seg, name=name, feature_spec=feature_spec, feature_state=feature_state,
            as_of=None if as_of is None else pd.Timestamp(as_of), training_window=win,
            segment_names=names, segment_roles=roles,
            profiles=jsonable(profiles) if profiles is not None else {},
            metrics=jsonable(metrics) if metrics is not None else {},
            contract=contract, reference=reference,
            distance_quantiles={"overall": overall, "by_segment": by_seg},
            n_train=n, stripped=removed, kind=kind,
        )
        model._scorer = scorer
        return model

    # ------------------------------------------------------------------ views
    @property
    def scorer(self) -> CompiledScorer:
        """Compiled numpy scorer (built on first use, never saved)."""
        if self._scorer is None:
            self._scorer = CompiledScorer.compile(self.segmenter)
        return self._scorer

    @property
    def columns(self) -> list[str]:
        """Input feature columns the model reads."""
        return list(self.contract) if self.contract else list(self.scorer.columns)

    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return len(self.scorer.parts.label_map)

    @property
    def algorithm(self) -> str:
        """Clustering algorithm (class name of the fitted estimator); ``rules:<set>`` for rules."""
        if self.kind == "rules":  # the k-means inside only holds the group indicators
            return f"rules:{getattr(self.segmenter, 'rules_name_', 'rules')}"
        return type(self.scorer.parts.estimator).__name__

    def level_sets(self) -> dict[str, frozenset[str]]:
        """Training category levels per categorical column (cached)."""
        if "levels" not in self._cache:
            self._cache["levels"] = {
                c: frozenset(v["levels"])
                for c, v in self.contract.items()
                if v.get("kind") == "category" and v.get("levels") is not None
            }
        return self._cache["levels"]

    def no_fit_threshold(self) -> np.ndarray:
        """Per-segment distance beyond which a customer 'fits no segment' (training p99)."""
        if "no_fit" in self._cache:
            return self._cache["no_fit"]
        overall = self.distance_quantiles.get("overall", {}).get("p99", np.inf)
        by = self.distance_quantiles.get("by_segment", {})
        out = np.full(self.n_segments, overall, dtype=np.float64)
        for j in range(self.n_segments):
            q = by.get(str(j))
            if q is not None and q.get("p99") is not None:
                out[j] = q["p99"]
        self._cache["no_fit"] = out
        return out

    def to_manifest(self) -> dict[str, Any]:
        """Manifest body (everything but the file hashes and the creation stamp).

        See :func:`segml.persistence.manifest_body`.
        """
        from segml.persistence import manifest_body  # the on-disk format lives there

        return manifest_body(self)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Ordered segment ids of a feature frame (no input checks; see :mod:`segml.scoring`).

        Parameters
        ----------
        features : pandas.DataFrame
            Feature frame holding at least :attr:`columns`.

        Returns
        -------
        numpy.ndarray
            Segment id per row, as the fitted segmenter's ``predict``.
        """
        return self.scorer.assign(self.scorer.matrix(features)).labels


def _quantiles(d: np.ndarray) -> dict[str, float]:
    vals = np.percentile(d, _QUANTILES)
    return {f"p{q}": float(v) for q, v in zip(_QUANTILES, vals, strict=True)}


def _id_map(values: Any, k: int) -> dict[int, str]:
    if values is None:
        return {}
    if isinstance(values, (Mapping, pd.Series)):
        return {int(i): str(v) for i, v in values.items() if v is not None}
    vals = list(values)
    return {i: str(v) for i, v in enumerate(vals[:k]) if v is not None}


def check_model_name(name: str) -> None:
    """Raise :class:`~segml.errors.ConfigError` unless ``name`` is a plain model name."""
    check_name(
        name, what="model name", forbid="@",
        fix="use a plain name such as 'churn-2024q4' (--name or [output] model_name on the "
        "CLI, name= in Python); the model is saved as <models_dir>/<name>.",
    )

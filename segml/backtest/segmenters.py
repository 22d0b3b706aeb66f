"""What a backtest compares: cluster models, rule sets, two baselines and predictors.

Every segmenter is an estimator on the buyers' raw feature frame as of one cutoff:
``fit(frame)`` then ``predict(frame)`` giving one segment label per customer. The cluster
model is chosen and fitted as ``segml run`` does it (k swept by
:func:`segml.cluster.select_k` with the ``[segmentation]`` defaults of
:data:`segml.config.DEFAULTS`, then a :class:`segml.cluster.Segmenter` on the preprocessor
of the feature spec, labels ordered by monetary value); rule sets are
:class:`segml.rules.RuleSegmenter`; the baselines are one segment for everybody and the
deciles of recency.

:func:`fit_at` does everything computed *as of* one cutoff -- features, fits, assignments,
predictor scores -- from the rows up to that cutoff only, so it is what the leakage test
checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import polars as pl
from sklearn.base import BaseEstimator, clone

from segml.errors import ConfigError, NotFittedError

__all__ = [
    "ClusterModel",
    "NoSegmentation",
    "RecencyDeciles",
    "Predictor",
    "BASELINES",
    "resolve_segmenters",
    "CutoffFit",
    "fit_at",
]

#: Names of the two baselines every backtest adds.
BASELINES = ("none", "recency_deciles")


@runtime_checkable
class Predictor(Protocol):
    """A continuous score per customer; higher means more expected value.

    ``fit`` sees only the rows up to ``as_of`` (the backtest passes nothing later).
    """

    def fit(self, transactions: pd.DataFrame, customers: pd.DataFrame | None,
            as_of: pd.Timestamp) -> Any:
        """Learn from the history up to ``as_of``; return self."""

    def predict(self, transactions: pd.DataFrame, customers: pd.DataFrame | None,
                as_of: pd.Timestamp) -> pd.Series:
        """Score per customer id as of ``as_of``."""


class ClusterModel(BaseEstimator):
    """The cluster model of ``segml run``: k chosen by ``select_k``, then a ``Segmenter``.

    Parameters
    ----------
    k : int, optional
        Fixed number of segments (skips the sweep). None sweeps k as ``segml run`` does.
    segmentation : dict, optional
        Overrides of the ``[segmentation]`` defaults (:data:`segml.config.DEFAULTS`), e.g.
        ``{"n_stability": 3}`` for a faster sweep.
    spec : FeatureSpec, optional
        Feature spec of the model matrix; None: :meth:`FeatureSpec.default` of the frame.
    n_init : int or "auto", default "auto"
        Initialisations of the final fit (see :class:`segml.cluster.Segmenter`).
    random_state : int, default 0
        Seed of the sweep and the fit.

    Attributes
    ----------
    segmenter_ : segml.cluster.Segmenter
        The fitted model (its preprocessor maps a frame to the space of its centres).
    k_ : int
        Segments of the fitted model.
    partition_ : {"clusters", "value_tiers", "rfm_groups"}
        What the segments are: with k = 1 in the sweep (``k_min = 1``, the default) and a
        "no clear segments" verdict, the model is what ``segml run`` falls back to
        (``[segmentation] no_segments``): value tiers
        (:func:`segml.cluster.tiers.value_tiers`) or the RFM groups
        (:class:`segml.cluster.fallback.RuleGroupSegmenter` on the frame's own RFM scores,
        so the same groups as the backtest's ``rfm_groups`` segmenter); with
        ``no_segments = "stop"`` or data the fallback cannot use, k = 2.. is swept instead
        (a backtest needs segments at every cutoff).
    selection_ : segml.cluster.SelectKResult or None
        The sweep (None with a fixed ``k``). It is screened at every size
        (``select_k(screen=True)``): same recommendation as the full sweep, without the
        stability refits and mixture fits at k that fail prediction strength.
    """

    def __init__(self, k: int | None = None, *, segmentation: Mapping[str, Any] | None = None,
                 spec: Any = None, n_init: int | str = "auto", random_state: int = 0) -> None:
        self.k = k
        self.n_init = n_init
        self.segmentation = segmentation
        self.spec = spec
        self.random_state = random_state

    def _config(self) -> dict[str, Any]:
        from segml.config import DEFAULTS

        seg = dict(DEFAULTS["segmentation"])
        unknown = sorted(set(self.segmentation or {}) - set(seg))
        if unknown:
            raise ConfigError(
                f"ClusterModel(segmentation=...): unknown key(s) {', '.join(unknown)}. Fix: use "
                f"keys of the [segmentation] config table ({', '.join(seg)})."
            )
        seg.update(self.segmentation or {})
        seg["random_state"] = self.random_state
        return seg

    def fit(self, X: pd.DataFrame, y: Any = None) -> ClusterModel:
        """Choose k (unless fixed) and fit the segmenter on the raw feature frame ``X``.

        The step after the sweep is ``segml run``'s (:mod:`segml.cluster.choose`): the
        value partition on "no clear segments", else the recommended fit with the sweep's
        fit sample and precision.
        """
        from segml.cluster import Segmenter
        from segml.cluster.choose import fallback_possible, fit_fallback, fit_recommended, sweep
        from segml.cluster.select_k import NO_SEGMENTS
        from segml.features import FeatureSpec, make_preprocessor

        seg = self._config()
        spec = self.spec if self.spec is not None else FeatureSpec.default(X.columns)
        preprocessor = make_preprocessor(spec, X)
        if self.k is not None:
            params: dict[str, Any] = {"order_by": "monetary"} if "monetary" in X.columns else {}
            self.segmenter_ = Segmenter(preprocessor=preprocessor, algorithm="kmeans",
                                        n_clusters=self.k, n_init=self.n_init,
                                        random_state=self.random_state, **params).fit(X)
            self.selection_ = None
            self.k_, self.partition_ = int(self.segmenter_.n_clusters_), "clusters"
            return self
        k_max = min(seg["k_max"], len(X) - 1)
        if k_max < seg["k_min"]:
            raise ConfigError(
                f"ClusterModel: only {len(X)} customers, fewer than k_min={seg['k_min']} + 1."
                " Fix: pass ClusterModel(k=2) or a cutoff with more customers."
            )
        # a backtest needs segments at every cutoff: without a usable fallback, k >= 2
        k_min = (seg["k_min"] if fallback_possible(seg["no_segments"], X.columns)
                 else max(seg["k_min"], 2))
        # the backtest reads only the recommendation, which screening leaves unchanged; unscreened,
        # cutoffs just under select_k's 50,000-row threshold refitted every k (issue 19: the
        # 4-cutoff backtest at 100k customers did not finish in 900 s)
        sel = sweep(preprocessor.fit_transform(X), seg, k_range=range(k_min, k_max + 1),
                    screen=True)
        self.selection_ = sel
        if sel.verdict == NO_SEGMENTS and sel.recommended["k"] < 2:
            # the frame's own RFM scores (the backtest's rfm_groups segmenter reads them too)
            self.segmenter_ = fit_fallback(X, seg, sel)
            self.partition_ = seg["no_segments"]
        else:
            self.segmenter_ = fit_recommended(seg, sel, X, preprocessor, n_init=self.n_init)
            self.partition_ = "clusters"
        self.k_ = int(self.segmenter_.n_clusters_)
        return self

    def fit_predict(self, X: pd.DataFrame, y: Any = None) -> pd.Series:
        """Fit on ``X`` and return its segments, as :meth:`predict` would give them.

        The labels are the fitted segmenter's own (``Segmenter.labels_``: the final
        assignment of the training rows to the fitted centres), so the training frame is
        not put through the preprocessor a third time.
        """
        self.fit(X)
        return pd.Series(self.segmenter_.labels_.astype(str), index=X.index, name="segment")

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Segment of each row, as text (``"0"`` is the most valuable segment)."""
        if not hasattr(self, "segmenter_"):
            raise NotFittedError("ClusterModel is not fitted yet. Fix: call fit(frame) first.")
        return pd.Series(self.segmenter_.predict(X).astype(str), index=X.index, name="segment")

    def embed(self, X: pd.DataFrame) -> np.ndarray:
        """Rows of ``X`` in the fitted model space (the space of ``centers``).

        For the RFM groups that space is the 0/1 group indicators (centres: the identity).
        """
        Z = self.segmenter_.preprocessor_.transform(X)
        return np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=np.float64)

    @property
    def centers(self) -> np.ndarray:
        """Centres in model space, row ``i`` for segment ``str(i)``."""
        return self.segmenter_.cluster_centers_


class NoSegmentation(BaseEstimator):
    """Baseline: one segment (``"all"``) for every customer."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> NoSegmentation:
        """Nothing to learn."""
        self.fitted_ = True
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """``"all"`` for every row."""
        return pd.Series("all", index=X.index, name="segment", dtype=object)


class RecencyDeciles(BaseEstimator):
    """Baseline: deciles of ``recency_days`` learned at fit, ``"d01"`` the most recent.

    Tied edges are merged (so there may be fewer than ten groups); rows beyond the
    fitted range fall in the first or last decile.
    """

    def fit(self, X: pd.DataFrame, y: Any = None) -> RecencyDeciles:
        """Learn the decile edges of ``recency_days``."""
        if "recency_days" not in X.columns:
            raise ConfigError(
                "RecencyDeciles needs the recency_days feature, which this frame lacks. Fix: "
                "pass transactions to the backtest (recency comes from them)."
            )
        q = np.nanquantile(X["recency_days"].to_numpy(dtype="float64"), np.linspace(0, 1, 11))
        self.edges_ = np.unique(q[1:-1])
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Decile of each row's recency."""
        d = np.searchsorted(self.edges_, X["recency_days"].to_numpy(dtype="float64"),
                            side="right") + 1
        return pd.Series([f"d{i:02d}" for i in d], index=X.index, name="segment", dtype=object)


def resolve_segmenters(segmenters: Any, *, random_state: int = 0) -> dict[str, BaseEstimator]:
    """Turn the ``segmenters`` argument into named unfitted estimators, baselines added.

    Parameters
    ----------
    segmenters : sequence or mapping
        Names (``"clusters"``: :class:`ClusterModel`; a built-in rule set ``"rfm_groups"``,
        ``"abc"``, ``"portfolio_roles"``, ``"lifecycle"``) or a mapping of a name to one of
        those names or an estimator with ``fit(frame)``/``predict(frame)`` (a
        :class:`segml.rules.RuleSegmenter` for custom rules, a :class:`ClusterModel`, ...).
        ``"forecast_deciles"``: the baseline :class:`segml.backtest.baselines.ForecastDeciles`
        (deciles of the BG/NBD x Gamma-Gamma spend forecast; needs ``amount``).
    random_state : int
        Seed given to ``ClusterModel`` built from the name ``"clusters"``.

    Returns
    -------
    dict of str to estimator
        In the given order, then ``"none"`` and ``"recency_deciles"``.

    Raises
    ------
    ConfigError
        For an unknown name, an object without fit/predict, or a name used twice.
    """
    from segml.rules import BUILTIN_RULESETS, builtin_segmenter

    if isinstance(segmenters, str):
        segmenters = [s.strip() for s in segmenters.split(",") if s.strip()]
    items = (list(segmenters.items()) if isinstance(segmenters, Mapping)
             else [(s, s) if isinstance(s, str) else (type(s).__name__, s) for s in segmenters])
    out: dict[str, BaseEstimator] = {}
    for name, spec in items:
        if name in out or name in BASELINES:
            raise ConfigError(
                f"segmenter name {name!r} is used twice (the baselines {', '.join(BASELINES)} "
                "are always added). Fix: give each segmenter its own name in the mapping."
            )
        if isinstance(spec, str):
            if spec == "clusters":
                est: Any = ClusterModel(random_state=random_state)
            elif spec == "forecast_deciles":  # needs the rows: fit_at hands them over
                from segml.backtest.baselines import ForecastDeciles

                est = ForecastDeciles()
            elif spec in BUILTIN_RULESETS:
                est = builtin_segmenter(spec)
            else:
                raise ConfigError(
                    f"unknown segmenter {spec!r}. Fix: use 'clusters', 'forecast_deciles' or a "
                    "built-in rule set "
                    f"({', '.join(BUILTIN_RULESETS)}), or pass an estimator "
                    "(CLI: --segmenters clusters,rfm_groups,abc)."
                )
        elif hasattr(spec, "fit") and hasattr(spec, "predict"):
            est = spec
        else:
            raise ConfigError(
                f"segmenter {name!r} is a {type(spec).__name__}, which has no fit/predict. "
                "Fix: pass a name, a RuleSegmenter or a ClusterModel."
            )
        out[str(name)] = est
    out["none"] = NoSegmentation()
    out["recency_deciles"] = RecencyDeciles()
    return out


def _check_predictors(predictors: Any) -> dict[str, Any]:
    if predictors is None:
        return {}
    items = (list(predictors.items()) if isinstance(predictors, Mapping)
             else [(type(p).__name__, p) for p in predictors])
    for name, p in items:
        if not isinstance(p, Predictor):
            raise ConfigError(
                f"predictor {name!r} ({type(p).__name__}) lacks fit(transactions, customers, "
                "as_of) / predict(transactions, customers, as_of). Fix: implement both (see "
                "segml.backtest.Predictor)."
            )
    return dict(items)


@dataclass
class CutoffFit:
    """Everything computed as of one cutoff, from the rows up to it only.

    Attributes
    ----------
    as_of : pandas.Timestamp
    features : segml.features.FeatureSet
        The full feature set (prospects included).
    frame : pandas.DataFrame
        The buyers' rows: the customers every segmenter and predictor is scored on.
    builder : segml.features.FeatureBuilder
        The builder used (fitted here in refit mode, reused in frozen mode).
    models : dict
        Fitted segmenter per name.
    labels : dict of str to pandas.Series
        Segment per buyer, per segmenter (text labels).
    scores : dict of str to pandas.Series
        Predictor score per buyer (NaN where a predictor gave none).
    predictors : dict
        Fitted predictors.
    """

    as_of: pd.Timestamp
    features: Any
    frame: pd.DataFrame
    builder: Any
    models: dict[str, Any]
    labels: dict[str, pd.Series]
    scores: dict[str, pd.Series] = field(default_factory=dict)
    predictors: dict[str, Any] = field(default_factory=dict)


def fit_at(transactions: pd.DataFrame | pl.DataFrame, customers: pd.DataFrame | None,
           as_of: Any, *, segmenters: Mapping[str, Any],
           predictors: Mapping[str, Any] | None = None, frozen: CutoffFit | None = None,
           feature_spec: Any = None,
           predictor_transactions: pd.DataFrame | None = None,
           feature_builder: Any = None) -> CutoffFit:
    """Build features, fit (or reuse) every segmenter and predictor, assign, as of one date.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars.DataFrame
        Canonical transactions, or the time-sorted prefix the backtest takes from
        :class:`segml.features.SortedTransactions` (the features are the same); rows after
        ``as_of`` are never read (they are cut here before anything else sees them).
    customers : pandas.DataFrame, optional
        Canonical customers table.
    as_of : date-like
        The cutoff.
    segmenters : mapping of str to estimator
        Unfitted templates (cloned here), e.g. from :func:`resolve_segmenters`.
    predictors : mapping of str to Predictor, optional
        Fitted here (deep copies), or taken from ``frozen``.
    frozen : CutoffFit, optional
        A fit from an earlier cutoff: reuse its feature state, segmenters and predictors
        (frozen mode) instead of fitting anew.
    feature_spec : FeatureSpec, optional
        Spec of the feature builder (refit mode).
    predictor_transactions : pandas.DataFrame, optional
        The rows the predictors get (they take pandas); default ``transactions`` (converted
        when it is a polars frame). Rows after ``as_of`` are cut here as well.
    feature_builder : callable, optional
        ``feature_builder(feature_spec)`` gives the builder of refit mode (default
        :class:`segml.features.FeatureBuilder`); ``backtest(engine="spark")`` passes
        :class:`segml.spark.backtest.SparkBuilders`.

    Returns
    -------
    CutoffFit

    Raises
    ------
    ConfigError
        When no customer has bought by ``as_of``.
    """
    import copy

    from segml._asof import parse_as_of
    from segml.features import FeatureBuilder, cutoff

    as_of = parse_as_of(as_of, where="backtest cutoff").normalize()
    polars_rows = isinstance(transactions, pl.DataFrame)
    if polars_rows:
        keep = (transactions["timestamp"] < cutoff(as_of)).fill_null(False).to_numpy()
    else:
        keep = (transactions["timestamp"] < cutoff(as_of)).to_numpy()
    if not keep.any():  # checked before the build: estimators refuse an empty frame
        raise no_rows_error(as_of, transactions["timestamp"].min())
    if keep.all():  # no copy when already cut (the backtest's prefix)
        past = transactions
    else:
        past = transactions.filter(pl.Series(keep)) if polars_rows else transactions[keep]
    if frozen is None:
        builder = (feature_builder or FeatureBuilder)(feature_spec)
        fs = builder.fit_transform(past, customers, as_of=as_of)
    else:
        builder = frozen.builder
        fs = builder.transform(past, customers, as_of=as_of)
    frame = fs.frame
    if "is_prospect" in frame.columns:
        frame = frame[~frame["is_prospect"].astype(bool)]
    if not len(frame):
        raise ConfigError(
            f"cutoff {as_of.date()} leaves no customers: nobody bought on or before it "
            f"({len(fs.frame)} prospects). Fix: start the cutoffs later (CLI: --cutoffs / "
            "--start)."
        )
    models: dict[str, Any] = {}
    labels: dict[str, pd.Series] = {}
    pandas_past: list[pd.DataFrame] = []

    def _history_rows() -> pd.DataFrame:
        # segmenters that read history (forecast_deciles) take pandas, converted once
        if not pandas_past:
            pandas_past.append(_predictor_rows(past, predictor_transactions, as_of))
        return pandas_past[0]

    for name, template in segmenters.items():
        if frozen is not None:
            model = frozen.models[name]
            if hasattr(model, "set_history"):  # forecast_deciles: the rows up to as_of
                model.set_history(_history_rows(), customers, as_of)
            lab = pd.Series(model.predict(frame), index=frame.index)
        else:
            model = clone(template)
            if hasattr(model, "set_history"):
                model.set_history(_history_rows(), customers, as_of)
            if isinstance(model, ClusterModel):
                if model.spec is None:
                    model.set_params(spec=fs.spec)
                lab = model.fit_predict(frame)  # its training labels: no second transform
            else:
                model.fit(frame)
                lab = pd.Series(model.predict(frame), index=frame.index)
        models[name] = model
        labels[name] = _text_labels(lab, name)
    fitted_p: dict[str, Any] = {}
    scores: dict[str, pd.Series] = {}
    if predictors:
        past = _history_rows()
    for name, p in (predictors or {}).items():
        if frozen is not None:
            fp = frozen.predictors[name]
        else:
            fp = copy.deepcopy(p)
            fp.fit(past, customers, as_of)
        fitted_p[name] = fp
        s = fp.predict(past, customers, as_of)
        if not isinstance(s, pd.Series):
            raise ConfigError(
                f"predictor {name!r}.predict returned a {type(s).__name__}; it should return a "
                "pandas Series indexed by customer_id. Fix: return pd.Series(scores, index=ids)."
            )
        s.index = s.index.astype(str)
        scores[name] = s.reindex(frame.index.astype(str)).set_axis(frame.index).astype("float64")
    return CutoffFit(as_of=as_of, features=fs, frame=frame, builder=builder, models=models,
                     labels=labels, scores=scores, predictors=fitted_p)



def _text_labels(lab: pd.Series, name: str) -> pd.Series:
    """Labels as text (object dtype), every row pointing at one string per segment.

    ``astype(str).astype(object)`` would make a new string object per customer; a backtest
    keeps every cutoff's labels, so at 100k customers that was hundreds of MiB.
    """
    text = lab.astype(str)
    codes, uniq = pd.factorize(text, use_na_sentinel=False)
    values = np.empty(len(uniq), dtype=object)
    values[:] = list(uniq)
    return pd.Series(values[codes], index=lab.index, name=name, dtype=object)


def no_rows_error(as_of: pd.Timestamp, first: Any) -> ConfigError:
    """Return the error for a cutoff before the first transaction (``first``: its time, or None)."""
    when = f" (first one {pd.Timestamp(first).date()})" if first is not None else ""
    return ConfigError(
        f"cutoff {as_of.date()} leaves no customers: no transaction on or before it{when}. "
        "Fix: start the cutoffs later (CLI: --cutoffs / --start)."
    )


def _predictor_rows(past: Any, given: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """Return the pandas rows up to ``as_of`` that the predictors read."""
    from segml.features import cutoff

    if given is None:
        return past.to_pandas() if isinstance(past, pl.DataFrame) else past
    keep = (given["timestamp"] < cutoff(as_of)).to_numpy()
    return given if keep.all() else given[keep]

"""RFM groups (a rule partition) as the segments of a run that found no clear segments.

Issue 15 lets a "no clear segments" answer fall back to "a value partition such as value
tiers or the RFM groups, labelled for what it is". :class:`RuleGroupSegmenter` makes the
groups of a built-in rule set (``rfm_groups``) the run's segments with the interface of a
fitted :class:`~segml.cluster.Segmenter`, so the run profiles, validates, saves and scores
them through the code every segmentation uses:

* the **model matrix** is one 0/1 indicator column per group present in the training data
  (:class:`RuleGroupIndicators`), and the **centres** are those indicators (the identity
  matrix, a k-means fitted on it with itself as the start), so the nearest centre of a row is
  its rule group, its distance is 0 and the compiled scorer, the saved model and the scoring
  checks work unchanged;
* with ``rfm_scorer`` (``segml run`` passes the feature state's fitted
  :class:`~segml.features.RFMScorer`) the model reads ``recency_days``, ``frequency`` and
  ``monetary`` and scores them with the **training** quintile edges, so customers scored
  later get the groups of the training edges whatever frame they come in (their own
  ``r_score`` columns are not read); without it the model reads the frame's score columns;
* segment ids follow the rule set's order (``champions`` first) over the groups present;
  the model also knows every other group of the rule set: each has an indicator column and
  a centre after the segments' (ids ``n_clusters_`` and up, in the rule set's order, named
  in :attr:`RuleGroupSegmenter.group_names_`), so a customer scored into a group no
  training customer fell in gets that group's id and name at distance 0, not the nearest
  segment's. The run's segments (``labels_``, ``segment_names_``, ``cluster_centers_``,
  ``n_clusters_``) are the present groups only; a saved model lists the empty groups with
  training share 0.

A clone refits the quintile edges on the rows it is given (an unfitted clone of the scorer),
so the bootstrap stability of a run measures how much the groups move when the edges are
re-learned on a resample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, clone
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.validation import check_is_fitted

from segml._validation import check_fitted, check_frame
from segml.errors import ConfigError

__all__ = ["RuleGroupIndicators", "RuleGroupSegmenter", "rules_note"]

_RFM_INPUT = ("recency_days", "frequency", "monetary")


def _fitted(est: Any) -> bool:
    try:
        check_is_fitted(est)
    except NotFittedError:
        return False
    return True


class RuleGroupIndicators(TransformerMixin, BaseEstimator):
    """Feature frame -> one 0/1 column per rule group (built fitted by the segmenter).

    Parameters
    ----------
    rule_segmenter : segml.rules.RuleSegmenter
        Fitted rule segmenter.
    groups : list of str
        Groups given a column, in segment-id order.
    rfm_scorer : segml.features.RFMScorer, optional
        Fitted scorer whose frozen edges give ``r_score``, ``f_score``, ``m_score``.

    Notes
    -----
    Scoring replays this step through its own ``transform``
    (``replay_with_transform``): a rule is not an elementwise expression the compiled
    scorer knows.
    """

    #: the compiled scorer runs this step through ``transform`` without a fallback warning
    replay_with_transform = True

    def __init__(self, rule_segmenter: Any = None, groups: list[str] | None = None,
                 rfm_scorer: Any = None) -> None:
        self.rule_segmenter = rule_segmenter
        self.groups = groups
        self.rfm_scorer = rfm_scorer

    def fit(self, X: pd.DataFrame, y: Any = None) -> RuleGroupIndicators:
        """Record the input columns (the rules and the scorer come fitted)."""
        X = check_frame(X, "RuleGroupIndicators.fit")
        self.feature_names_in_ = np.asarray(self.input_columns(), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def input_columns(self) -> list[str]:
        """Columns read: the RFM inputs (with a scorer) and the rules' other columns."""
        need = [str(c) for c in self.rule_segmenter.feature_names_in_]
        if self.rfm_scorer is None:
            return need
        scores = set(self.rfm_scorer.get_feature_names_out())
        return [*_RFM_INPUT, *(c for c in need if c not in scores and c not in _RFM_INPUT)]

    def scored(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` with the score columns the rules read from the frozen edges (if a scorer)."""
        if self.rfm_scorer is None:
            return X
        missing = [c for c in _RFM_INPUT if c not in X.columns]
        if missing:
            from segml.errors import SchemaError

            raise SchemaError(
                f"RFM groups: the frame lacks {', '.join(missing)}, which the training RFM "
                "edges score. Fix: score a feature frame built from transactions "
                "(segml score / segml.score) so recency_days, frequency and monetary are in it.")
        values = np.asarray(self.rfm_scorer.transform(X[list(_RFM_INPUT)]))
        out = X.copy(deep=False)
        for j, name in enumerate(self.rfm_scorer.get_feature_names_out()):
            out[str(name)] = values[:, j].astype("int64")
        return out

    def group_names(self, X: pd.DataFrame) -> pd.Series:
        """Return the rule group of each row (any group of the rule set, present or not)."""
        return self.rule_segmenter.predict(self.scored(X))

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """One float 0/1 column per group of :attr:`groups`; all 0 for another group."""
        check_fitted(self, "feature_names_in_")
        X = check_frame(X, "RuleGroupIndicators.transform")
        names = self.group_names(X).astype(object).to_numpy()
        return (names[:, None] == np.asarray(self.groups, dtype=object)[None, :]).astype(
            np.float64)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``<rule set>=<group>`` per column."""
        rs = getattr(getattr(self.rule_segmenter, "ruleset_", None), "name", None) or "rules"
        return np.asarray([f"{rs}={g}" for g in self.groups], dtype=object)


class RuleGroupSegmenter(ClusterMixin, BaseEstimator):
    """The groups of a rule set as a fitted segmentation (see the module docstring).

    Parameters
    ----------
    rules : str, default "rfm_groups"
        A built-in rule set (:data:`segml.rules.BUILTIN_RULESETS`).
    rfm_scorer : segml.features.RFMScorer, optional
        Scores ``recency_days``, ``frequency``, ``monetary`` into the rules' score columns:
        used as is when fitted (the training edges), else fitted on the rows given to
        :meth:`fit`. None: the frame's own ``r_score``, ``f_score``, ``m_score`` are read.

    Attributes
    ----------
    segment_names_ : list of str
        Group of each segment id (the groups present in the training frame, in the rule
        set's order).
    n_clusters_ : int
        Their number.
    group_names_ : list of str
        Every group of the rule set by id: :attr:`segment_names_`, then the groups no
        training row fell in (rule set's order); :meth:`predict` gives their ids.
    labels_ : ndarray
        Segment id per training row.
    preprocessor_ : RuleGroupIndicators
        Frame -> group indicators (the model matrix), one column per :attr:`group_names_`.
    estimator_ : sklearn.cluster.KMeans
        Fitted on the identity with itself as the start: its centres are the indicators of
        all :attr:`group_names_` (what scoring and a saved model use).
    cluster_centers_ : ndarray of shape (n_clusters_, len(group_names_))
        The segments' indicators (the first rows of the identity).
    label_order_ : ndarray
        Identity over :attr:`group_names_` (centres are already in id order).
    rules_name_ : str
        The rule set.
    """

    PER_ROW_ATTRIBUTES: tuple[str, ...] = ("labels_", "estimator_.labels_")

    def __init__(self, rules: str = "rfm_groups", *, rfm_scorer: Any = None) -> None:
        self.rules = rules
        self.rfm_scorer = rfm_scorer

    def fit(self, X: pd.DataFrame, y: Any = None) -> RuleGroupSegmenter:
        """Assign the rule groups of ``X`` and make the present ones the segments.

        Raises
        ------
        ConfigError
            ``rules`` is not a built-in rule set, or fewer than 2 groups hold a row.
        """
        from segml.rules import builtin_segmenter

        X = check_frame(X, "RuleGroupSegmenter.fit")
        scorer = self.rfm_scorer
        if scorer is not None and not _fitted(scorer):
            scorer = clone(scorer).fit(X[list(_RFM_INPUT)])
        enc = RuleGroupIndicators(builtin_segmenter(self.rules), None, scorer)
        frame = enc.scored(X)
        enc.rule_segmenter.fit(frame)
        names = enc.rule_segmenter.predict(frame)
        counts = names.value_counts()
        groups = [g for g in enc.rule_segmenter.segments_ if counts.get(g, 0) > 0]
        if len(groups) < 2:
            raise ConfigError(
                f"rule groups {self.rules!r}: the {len(X):,} customers fall in "
                f"{len(groups)} group ({', '.join(groups) or 'none'}); a partition needs 2. "
                "Fix: [segmentation] no_segments = \"value_tiers\" (segment(no_segments="
                "\"value_tiers\")), or force a k with --k / segment(k=K).")
        empty = [g for g in enc.rule_segmenter.segments_ if g not in groups]
        enc.groups = [*groups, *empty]
        enc.fit(X)
        k = len(groups)
        eye = np.eye(len(enc.groups))
        self.estimator_ = KMeans(n_clusters=len(eye), init=eye, n_init=1, max_iter=1).fit(eye)
        self.preprocessor_ = enc
        self.cluster_centers_ = eye[:k]
        self.label_order_ = np.arange(len(eye), dtype=np.intp)
        self.n_clusters_ = k
        self.segment_names_ = list(groups)
        self.group_names_ = list(enc.groups)
        self.rules_name_ = str(self.rules)
        self.order_by_ = "rules"
        self.feature_names_in_ = enc.feature_names_in_
        self.n_features_in_ = enc.n_features_in_
        self.model_feature_names_ = enc.get_feature_names_out()
        self.train_distance_quantiles_ = {f"p{q}": 0.0 for q in (50, 90, 95, 99)}
        index = {g: i for i, g in enumerate(groups)}
        self.labels_ = np.asarray([index[g] for g in names.astype(object)], dtype=np.intp)
        return self

    def _inner_matrix(self, X: pd.DataFrame) -> np.ndarray:
        check_fitted(self, "preprocessor_")
        return self.preprocessor_.transform(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Group id per row (its indicator's; ``n_clusters_`` and up for an empty group)."""
        return self._predict_matrix(self._inner_matrix(X))

    def _predict_matrix(self, Z: np.ndarray) -> np.ndarray:
        """Group ids of rows already encoded (``_inner_matrix``): one transform."""
        return np.asarray(self.estimator_.predict(Z), dtype=np.intp)

    def fit_predict(self, X: pd.DataFrame, y: Any = None, **kwargs: Any) -> np.ndarray:
        """Fit and return the training rows' segment ids."""
        return self.fit(X).labels_

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Distance of each row to each segment's indicator (0 to its own, 1 to the others)."""
        return euclidean_distances(self._inner_matrix(X), self.cluster_centers_)

    def __sklearn_tags__(self) -> Any:  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags


def rules_note(segmenter: RuleGroupSegmenter) -> str:
    """Return the sentence that labels a rule-group partition for what it is."""
    return (f"no clear segments, so the {segmenter.n_clusters_} segments are the RFM groups "
            f"(rules: rule set {segmenter.rules_name_}, quintile scores of the training "
            "customers), not clusters; `segml run --k K` clusters anyway, no_segments = "
            "\"stop\" stops instead")

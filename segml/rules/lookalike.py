"""Look-alike scoring: how much a customer (or prospect) resembles the best customers.

Prospects have no transactions, so the score uses only *attribute* columns
(demographic, firmographic, geographic, psychographic, relationship). The
reference group (by default the A-class customers) is summarised by its mean
profile; every row is scored by its distance to that profile::

    z_j   = (x_j - mean_j(reference)) / std_j(all fitted rows)
    d     = sqrt(mean_j z_j ** 2)          # over the columns the row has
    score = 1 / (1 + d)                    # 1 = exactly the reference profile

String columns are one-hot encoded (levels seen at fit, most frequent first,
at most ``max_categories``), booleans count as 0/1. The distance is a
diagonal Mahalanobis distance averaged over columns, so adding columns does
not inflate it. A row is a look-alike when ``score >= threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from segml._validation import check_fitted, check_frame
from segml.errors import ConfigError, SchemaError
from segml.rules import expr as _expr

__all__ = ["LookalikeScorer", "DEFAULT_ATTRIBUTES"]

#: Attribute columns (canonical names, see docs/CONTRACTS.md) used when ``features=None``,
#: plus every ``interest_*`` and ``survey_*`` column. Relationship columns (journey stage,
#: satisfaction, response rate) are left out: they differ between buyers and prospects by
#: construction, so they would measure "is a buyer", not "looks like the best buyers".
DEFAULT_ATTRIBUTES = (
    "age",
    "gender",
    "income",
    "profession",
    "education",
    "marital_status",
    "household_size",
    "children",
    "life_stage",
    "is_b2b",
    "industry",
    "company_size",
    "country",
    "region",
)
_PREFIXES = ("interest_", "survey_")
#: Rows scored at a time by :meth:`LookalikeScorer.score_samples`.
_BLOCK_ROWS = 65_536


class LookalikeScorer(TransformerMixin, BaseEstimator):
    """Score rows by their similarity to a reference group's attribute profile.

    Parameters
    ----------
    features : sequence of str, optional
        Attribute columns to compare on. None: the :data:`DEFAULT_ATTRIBUTES`
        and ``interest_*`` / ``survey_*`` columns present in the frame.
    reference : str, default "abc_class == 'A'"
        Condition (rule language) selecting the reference group at fit.
    threshold : float, default 0.5
        ``is_lookalike = lookalike_score >= threshold``; 0.5 means "on average
        within one standard deviation of the reference profile".
    max_categories : int, default 20
        Most frequent levels kept per string column.
    allow_no_features : bool, default False
        With ``features=None`` and no attribute column in the frame, fit anyway:
        every score is NaN and no row is a look-alike (there is no evidence that
        anyone resembles the reference group). False raises instead.

    Attributes
    ----------
    features_ : list of str
        Columns used.
    feature_names_in_ : ndarray of str
        Same as ``features_``.
    n_features_in_ : int
    encoded_names_ : list of str
        Columns after encoding (``"gender=F"`` for one-hot levels).
    categories_ : dict of str to list
        Levels kept per string column.
    center_ : ndarray
        Reference mean per encoded column.
    scale_ : ndarray
        Standard deviation per encoded column over all fitted rows (0 -> column ignored).
    n_reference_ : int
        Rows in the reference group.

    Examples
    --------
    >>> frame = pd.DataFrame({"abc_class": ["A", "A", "C", "none"],
    ...                       "age": [30.0, 40.0, 60.0, 36.0]})
    >>> scorer = LookalikeScorer(features=["age"]).fit(frame)
    >>> scorer.transform(frame)["lookalike_score"].round(3).tolist()
    [0.692, 0.692, 0.311, 0.918]
    """

    def __init__(
        self,
        features: Sequence[str] | None = None,
        *,
        reference: str = "abc_class == 'A'",
        threshold: float = 0.5,
        max_categories: int = 20,
        allow_no_features: bool = False,
    ) -> None:
        self.features = features
        self.reference = reference
        self.threshold = threshold
        self.max_categories = max_categories
        self.allow_no_features = allow_no_features

    def fit(self, X: pd.DataFrame, y: object = None) -> LookalikeScorer:
        """Learn the reference profile and the column scales.

        Parameters
        ----------
        X : DataFrame
            Feature frame with the attribute columns and the columns the
            ``reference`` condition reads.
        y : ignored

        Returns
        -------
        self
        """
        given = X
        X = check_frame(X, "LookalikeScorer.fit")
        if not (isinstance(self.threshold, int | float) and 0.0 <= self.threshold <= 1.0):
            raise ConfigError(f"threshold={self.threshold!r} should be a number in [0, 1]")
        if not (isinstance(self.max_categories, int) and self.max_categories >= 1):
            raise ConfigError(f"max_categories={self.max_categories!r} should be an int >= 1")
        if self.features is None:
            features = [c for c in DEFAULT_ATTRIBUTES if c in X.columns]
            features += [c for c in X.columns if str(c).startswith(_PREFIXES)]
            if not features and not self.allow_no_features:
                raise ConfigError(
                    "LookalikeScorer found no attribute columns to compare on; pass features=[...]"
                    f" (defaults: {', '.join(DEFAULT_ATTRIBUTES)}, interest_*, survey_*)"
                )
        else:
            features = list(self.features)
            if not features:
                raise ConfigError("features=[] is empty; give at least one attribute column")
            missing = [c for c in features if c not in X.columns]
            if missing:
                raise SchemaError(
                    f"LookalikeScorer: the frame lacks feature columns {missing}"
                    f"{_array_hint(given)}"
                )
        kinds = {c: _expr.column_kind(X[c]) for c in features}
        bad = [c for c, k in kinds.items() if k is None]
        if bad:
            raise SchemaError(f"LookalikeScorer: columns {bad} are not numeric, boolean or string")

        node = _expr.parse(self.reference, rule="reference")
        _expr.check(node, _expr.column_kinds(X), self.reference, rule="reference")
        thr = _expr.resolve_thresholds([node], X, texts=[self.reference], rules=["reference"])
        ref = _expr.evaluate(node, X, thr)
        if not ref.any():
            raise ConfigError(
                f"the reference group {self.reference!r} is empty in the fitted frame; "
                "look-alikes need at least one reference customer"
            )
        categories: dict[str, list[object]] = {}
        for c, k in kinds.items():
            if k == "str":
                counts = X[c].astype(object).value_counts(dropna=True, sort=False)
                order = sorted(counts.index, key=lambda v: (-counts[v], str(v)))
                categories[c] = order[: self.max_categories]
        self.features_ = features
        self.kinds_ = kinds
        self.categories_ = categories
        enc, names = self._encode(X)
        with np.errstate(invalid="ignore"), _quiet():
            center = np.nanmean(enc[ref], axis=0)
            scale = np.nanstd(enc, axis=0)
        scale = np.where(np.isfinite(scale), scale, 0.0)
        self.encoded_names_ = names
        self.center_ = center
        self.scale_ = scale
        self.n_reference_ = int(ref.sum())
        self.feature_names_in_ = np.asarray(features, dtype=object)
        self.n_features_in_ = len(features)
        return self

    def _encode(self, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        names: list[str] = []
        for c in self.features_:
            names += ([f"{c}={level}" for level in self.categories_[c]]
                      if self.kinds_[c] == "str" else [str(c)])
        # filled column by column: no list of columns stacked into a second copy
        out = np.empty((len(X), len(names)))
        j = 0
        for c in self.features_:
            s = X[c]
            if self.kinds_[c] == "str":
                # one hash pass (factorize) instead of an object comparison per level
                codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
                where = {u: i for i, u in enumerate(uniques.tolist())}
                miss = codes < 0
                for level in self.categories_[c]:
                    i = where.get(level)
                    out[:, j] = (codes == i) if i is not None else 0.0
                    out[miss, j] = np.nan
                    j += 1
            else:
                if isinstance(s.dtype, pd.CategoricalDtype):
                    s = s.astype(s.dtype.categories.dtype)
                out[:, j] = s.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
                j += 1
        return out, names

    def _check_fitted(self, where: str) -> None:
        msg = f"This LookalikeScorer is not fitted yet; call fit(frame) before {where}."
        check_fitted(self, "center_", msg=msg)

    def score_samples(self, X: pd.DataFrame) -> pd.Series:
        """Look-alike score in (0, 1] (NaN when a row has none of the columns).

        Parameters
        ----------
        X : DataFrame

        Returns
        -------
        Series
            ``lookalike_score`` indexed like ``X``.
        """
        self._check_fitted("score_samples")
        given = X
        X = check_frame(X, "LookalikeScorer.score_samples")
        missing = [c for c in self.features_ if c not in X.columns]
        if missing:
            raise SchemaError(
                f"LookalikeScorer: the frame lacks feature columns {missing}{_array_hint(given)}"
            )
        # rows are scored independently: blocks of rows keep the encoded copies small
        # (1M customers: about 2.4 GiB of temporaries at once, issue 19), same numbers
        d = np.concatenate([self._distance(X.iloc[i:i + _BLOCK_ROWS])
                            for i in range(0, len(X), _BLOCK_ROWS)])
        return pd.Series(1.0 / (1.0 + d), index=X.index, name="lookalike_score")

    def _distance(self, X: pd.DataFrame) -> np.ndarray:
        """Root mean squared z-distance of each row to the reference centre (NaN cells absent)."""
        enc, _ = self._encode(X)
        used = self.scale_ > 0
        z = (enc[:, used] - self.center_[used]) / self.scale_[used]
        # nanmean of z**2 per row without nanmean's copies: NaN cells count as absent
        np.square(z, out=z)
        ok = ~np.isnan(z)
        n_ok = ok.sum(axis=1)
        total = np.where(ok, z, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(np.where(n_ok > 0, total / n_ok, np.nan))

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing attribute is left out of the distance
        tags.input_tags.string = True  # string attributes are compared level by level
        return tags

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return ``lookalike_score`` and ``is_lookalike`` (score >= threshold).

        Parameters
        ----------
        X : DataFrame

        Returns
        -------
        DataFrame
            Two columns, indexed like ``X``.
        """
        score = self.score_samples(X)
        return pd.DataFrame(
            {"lookalike_score": score, "is_lookalike": (score >= self.threshold).to_numpy()},
            index=score.index,
        )

    def fit_transform(self, X: pd.DataFrame, y: object = None) -> pd.DataFrame:
        """Fit, then :meth:`transform` ``X``."""
        return self.fit(X).transform(X)

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Return a boolean Series: is the row a look-alike of the reference group."""
        return self.transform(X)["is_lookalike"]

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the columns :meth:`transform` returns."""
        return np.asarray(["lookalike_score", "is_lookalike"], dtype=object)


def _array_hint(X: object) -> str:
    if isinstance(X, pd.DataFrame):
        return ""
    return (f" (a {type(X).__name__} has no column names: its columns are x0, x1, ...; "
            "pass a DataFrame with named columns)")


class _quiet:
    """Silence numpy's 'Mean of empty slice' RuntimeWarning locally (all-NaN rows/columns)."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)

"""Attribute encoders: small scikit-learn transformers for customer attributes.

Every class follows the scikit-learn estimator contract: ``__init__`` only
stores keyword arguments, ``fit`` validates and learns, fitted attributes end
in ``_``, ``transform`` calls ``check_is_fitted`` and re-checks the columns seen
in ``fit``, ``get_feature_names_out`` names the output, and
``set_output(transform="pandas")`` gives DataFrames.

Counters such as ``n_unknown_`` describe the *last* data passed to ``fit`` or
``transform`` (transforming the training data leaves them unchanged), so a
report can say how many values an encoder had to map to "unknown".

The encoders are:

- :class:`AgeEncoder` -- birth year (or age) to ``age`` and an ``age_band`` code.
- :class:`LogMoney` -- signed ``log1p`` for skewed money.
- :class:`RareOneHot` -- one-hot with rare-level grouping and an unknown policy
  (a configured :class:`sklearn.preprocessing.OneHotEncoder`).
- :class:`OrdinalScale` -- ordered levels to 0, 1, 2, ... (unknown -> NaN).
- :class:`FrequencyEncoder` -- high-cardinality levels to their training share.
- :class:`Winsorizer` -- clip at training quantiles.
- :class:`ToFloat` -- booleans / nullable numbers to float64.
- :class:`FamilyWeight` -- scale a block of columns to a fixed distance budget.
- :class:`MultiLabelFlags` -- a multi-select answer (``"price; brand"``) to 0/1 flags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import _check_feature_names_in, validate_data

from segml._validation import check_fitted
from segml.errors import ConfigError
from segml.schema import ORDERED_LEVELS

__all__ = [
    "CANONICAL_LEVELS",
    "AgeEncoder",
    "LogMoney",
    "RareOneHot",
    "OrdinalScale",
    "FrequencyEncoder",
    "Winsorizer",
    "ToFloat",
    "FamilyWeight",
    "MultiLabelFlags",
    "normalize_level",
    "normalize_levels",
]

#: Levels that are valid but sit off the ordered scale, with the code they get.
#: A lost opportunity is coded -1: below ``first_contact`` (0), i.e. furthest
#: from becoming a customer.
OFF_SCALE_LEVELS: dict[str, dict[str, float]] = {"journey_stage": {"lost": -1.0}}

#: Canonical ordered levels (lowest first), from :data:`segml.schema.ORDERED_LEVELS`
#: without the off-scale levels.
CANONICAL_LEVELS: dict[str, tuple[str, ...]] = {
    col: tuple(v for v in levels if v not in OFF_SCALE_LEVELS.get(col, {}))
    for col, levels in ORDERED_LEVELS.items()
}


def normalize_level(value: Any) -> Any:
    """Normalise a category label: strip, lower-case, spaces and dashes to ``_``.

    Parameters
    ----------
    value : object
        A label; missing values (``None``/NaN/``pd.NA``) are returned as NaN.

    Returns
    -------
    str or float
        The normalised label, or NaN.

    Examples
    --------
    >>> normalize_level(" Very Satisfied ")
    'very_satisfied'
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return np.nan
    return str(value).strip().lower().replace(" ", "_").replace("-", "_")


def normalize_levels(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalize_level` (each distinct label normalised once).

    Parameters
    ----------
    values : pandas.Series
        Labels.

    Returns
    -------
    pandas.Series
        Object dtype, same index; missing stays NaN.
    """
    uniques = pd.unique(values.dropna().astype(object).to_numpy())
    mapping = {u: normalize_level(u) for u in uniques}
    return values.astype(object).map(mapping).astype(object)


def _as_frame(X: Any, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Return ``X`` as a DataFrame (no copy of a DataFrame; arrays get ``x0, x1, ...``)."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        return X.to_frame()
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"Expected a 2D array or DataFrame, got an array with ndim={arr.ndim}. "
            "Reshape your data: a single column with X.reshape(-1, 1)."
        )
    names = list(feature_names) if feature_names is not None else None
    if names is None or len(names) != arr.shape[1]:
        names = [f"x{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=names)


def _check_2d(X: Any) -> None:
    """Reject sparse, 1D and empty input with a clear message."""
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError("Sparse data is not supported; pass a dense array or a DataFrame.")
    shape = getattr(X, "shape", None)
    if shape is None:
        X = np.asarray(X)
        shape = X.shape
    if len(shape) != 2:
        raise ValueError(
            f"Expected a 2D array or DataFrame, got ndim={len(shape)}. "
            "Reshape your data: a single column with X.reshape(-1, 1)."
        )
    dtype = getattr(X, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.complexfloating):
        raise ValueError("Complex data not supported; pass real numbers or labels.")
    if shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is required."
        )
    if shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is required."
        )


def _numeric(X: Any, estimator: BaseEstimator, *, reset: bool) -> np.ndarray:
    """Validate numeric input (NaN allowed, inf rejected) and return float64."""
    if isinstance(X, pd.DataFrame):
        X = X.astype("float64")
    return validate_data(
        estimator, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan"
    )


class _Base(TransformerMixin, BaseEstimator):
    """Shared tags: missing values are allowed in every segml encoder."""

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class ToFloat(OneToOneFeatureMixin, _Base):
    """Convert booleans, nullable integers and numbers to float64 (``pd.NA`` -> NaN).

    Stateless apart from the column names it saw in ``fit``. Used at the head
    of every numeric preprocessing pipeline so that ``bool``/``Int64`` columns
    reach scikit-learn imputers as plain floats.

    Examples
    --------
    >>> import pandas as pd
    >>> ToFloat().fit_transform(pd.DataFrame({"b": [True, False]}))
    array([[1.],
           [0.]])
    """

    def fit(self, X: Any, y: Any = None) -> ToFloat:
        """Record the input columns.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric or boolean data.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        _numeric(X, self, reset=True)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return ``X`` as float64.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_fitted(self, "n_features_in_")
        return _numeric(X, self, reset=False)


class LogMoney(OneToOneFeatureMixin, _Base):
    """Signed log for skewed money: ``sign(x) * log1p(|x|)``.

    Zero stays zero, positive amounts are compressed like ``log1p`` and a
    negative amount (net returns, a loss-making margin) maps to the mirror
    image, so the transform is monotone and defined everywhere. NaN stays NaN.

    Attributes
    ----------
    n_negative_ : int
        Negative values in the last data seen by ``fit``/``transform``.

    Examples
    --------
    >>> import numpy as np
    >>> LogMoney().fit_transform(np.array([[0.0], [np.e - 1], [1 - np.e]])).round(6).ravel()
    array([ 0.,  1., -1.])
    """

    def fit(self, X: Any, y: Any = None) -> LogMoney:
        """Record the input columns and count negatives.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Money columns.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        arr = _numeric(X, self, reset=True)
        self.n_negative_ = int(np.sum(arr < 0))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Apply ``sign(x) * log1p(|x|)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_fitted(self, "n_negative_")
        arr = _numeric(X, self, reset=False)
        self.n_negative_ = int(np.sum(arr < 0))
        return np.sign(arr) * np.log1p(np.abs(arr))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo the transform: ``sign(y) * expm1(|y|)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Transformed values.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_fitted(self, "n_negative_")
        arr = np.asarray(X, dtype=np.float64)
        return np.sign(arr) * np.expm1(np.abs(arr))


class Winsorizer(OneToOneFeatureMixin, _Base):
    """Clip every column at quantiles learned in ``fit``.

    Parameters
    ----------
    quantiles : tuple of float, default (0.01, 0.99)
        Lower and upper quantile, ``0 <= low < high <= 1``. NaN is ignored when
        learning the limits and kept at transform.

    Attributes
    ----------
    lower_, upper_ : ndarray of shape (n_features,)
        Frozen clipping limits.

    Examples
    --------
    >>> import numpy as np
    >>> w = Winsorizer(quantiles=(0.0, 0.5)).fit(np.array([[1.0], [2.0], [3.0]]))
    >>> w.transform(np.array([[10.0]])).ravel()
    array([2.])
    """

    def __init__(self, *, quantiles: tuple[float, float] = (0.01, 0.99)) -> None:
        self.quantiles = quantiles

    def fit(self, X: Any, y: Any = None) -> Winsorizer:
        """Learn the clipping limits.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric data.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        q = tuple(self.quantiles)
        if len(q) != 2 or not (0.0 <= q[0] < q[1] <= 1.0):
            raise ConfigError(
                f"quantiles={self.quantiles!r} should be two numbers with 0 <= low < high <= 1."
            )
        arr = _numeric(X, self, reset=True)
        with np.errstate(all="ignore"):
            all_nan = np.all(np.isnan(arr), axis=0)
            filled = np.where(np.isnan(arr) & all_nan, 0.0, arr)
            lower = np.nanquantile(filled, q[0], axis=0)
            upper = np.nanquantile(filled, q[1], axis=0)
        self.lower_ = np.asarray(lower, dtype=np.float64)
        self.upper_ = np.asarray(upper, dtype=np.float64)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Clip to ``[lower_, upper_]`` (NaN stays NaN).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_fitted(self, "lower_")
        arr = _numeric(X, self, reset=False)
        return np.clip(arr, self.lower_, self.upper_)


class AgeEncoder(_Base):
    """Birth year (or age) to ``age`` and an ``age_band`` code, as of a year.

    ``age = as_of_year - birth_year`` (whole years; the birth date is not known,
    so the age can be one year high). Ages outside ``[min_age, max_age]``
    (e.g. birth year 1893) are implausible: they become NaN and are counted.

    Parameters
    ----------
    as_of_year : int, optional
        Reference year; required when ``source="birth_year"`` (there is no
        default: the wall clock is never used).
    bands : sequence of int, default (18, 25, 35, 45, 55, 65)
        Increasing band edges. Band codes are ``0`` for ``age < bands[0]``,
        ``i`` for ``bands[i-1] <= age < bands[i]`` and ``len(bands)`` for
        ``age >= bands[-1]``; NaN age gives a NaN code. Labels are in
        ``band_labels_`` (``"<18"``, ``"18-24"``, ..., ``"65+"``). An empty
        sequence gives no ``age_band`` column.
    min_age, max_age : float, default 16, 100
        Plausible range (inclusive).
    source : {"birth_year", "age"}, default "birth_year"
        What the single input column holds.

    Attributes
    ----------
    band_labels_ : list of str
        Label of each band code.
    n_implausible_ : int
        Implausible values (outside the age range) in the last data seen by
        ``fit``/``transform``.
    n_missing_ : int
        Missing values in the last data seen.

    Examples
    --------
    >>> import pandas as pd
    >>> enc = AgeEncoder(as_of_year=2026).fit(pd.DataFrame({"birth_year": [1990, 1893]}))
    >>> enc.transform(pd.DataFrame({"birth_year": [1990, 1893]})).tolist()
    [[36.0, 3.0], [nan, nan]]
    >>> enc.n_implausible_, enc.band_labels_[3]
    (1, '35-44')
    """

    def __init__(
        self,
        *,
        as_of_year: int | None = None,
        bands: Sequence[int] = (18, 25, 35, 45, 55, 65),
        min_age: float = 16,
        max_age: float = 100,
        source: str = "birth_year",
    ) -> None:
        self.as_of_year = as_of_year
        self.bands = bands
        self.min_age = min_age
        self.max_age = max_age
        self.source = source

    def _ages(self, X: Any, *, reset: bool) -> tuple[np.ndarray, int, int]:
        arr = _numeric(X, self, reset=reset)
        if arr.shape[1] != 1:
            raise ValueError(
                f"AgeEncoder expects exactly one column ({self.source}), got {arr.shape[1]}."
            )
        col = arr[:, 0]
        age = (float(self.as_of_year) - col) if self.source == "birth_year" else col.copy()
        missing = np.isnan(age)
        bad = ~missing & ((age < self.min_age) | (age > self.max_age))
        age = np.where(bad, np.nan, age)
        return age, int(bad.sum()), int(missing.sum())

    def fit(self, X: Any, y: Any = None) -> AgeEncoder:
        """Validate the parameters and count implausible values.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 1)
            Birth years (or ages).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if self.source not in ("birth_year", "age"):
            raise ConfigError(f"source={self.source!r} should be 'birth_year' or 'age'.")
        if self.source == "birth_year" and not isinstance(self.as_of_year, Real | np.integer):
            raise ConfigError(
                f"as_of_year={self.as_of_year!r}: a reference year is required to turn birth "
                "years into ages (e.g. as_of_year=as_of.year)."
            )
        if not (float(self.min_age) < float(self.max_age)):
            raise ConfigError(
                f"min_age={self.min_age!r} should be < max_age={self.max_age!r}."
            )
        edges = [float(b) for b in self.bands]
        if any(b >= c for b, c in zip(edges, edges[1:], strict=False)):
            raise ConfigError(f"bands={tuple(self.bands)!r} should be strictly increasing.")
        _, n_bad, n_missing = self._ages(X, reset=True)
        labels: list[str] = []
        if edges:
            labels.append(f"<{_fmt(edges[0])}")
            labels += [f"{_fmt(a)}-{_fmt(b - 1)}" for a, b in zip(edges, edges[1:], strict=False)]
            labels.append(f"{_fmt(edges[-1])}+")
        self.band_edges_ = np.asarray(edges, dtype=np.float64)
        self.band_labels_ = labels
        self.n_implausible_ = n_bad
        self.n_missing_ = n_missing
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return ``age`` and (when bands are set) the ``age_band`` code.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 1)
            Birth years (or ages).

        Returns
        -------
        ndarray of shape (n_samples, 2) or (n_samples, 1)
        """
        check_fitted(self, "band_labels_")
        age, n_bad, n_missing = self._ages(X, reset=False)
        self.n_implausible_ = n_bad
        self.n_missing_ = n_missing
        if self.band_edges_.size == 0:
            return age[:, None]
        code = np.searchsorted(self.band_edges_, age, side="right").astype(np.float64)
        code[np.isnan(age)] = np.nan
        return np.column_stack([age, code])

    def band_label(self, codes: Any) -> pd.Series:
        """Map band codes to labels (NaN -> NaN) as a string Series.

        Parameters
        ----------
        codes : array-like of float
            Output column ``age_band`` of :meth:`transform`.

        Returns
        -------
        pandas.Series of str
        """
        check_fitted(self, "band_labels_")
        codes = np.asarray(codes, dtype=np.float64)
        labels = np.asarray([*self.band_labels_, np.nan], dtype=object)
        idx = np.where(np.isnan(codes), len(self.band_labels_), np.nan_to_num(codes)).astype(int)
        return pd.Series(labels[idx], dtype="str")

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``["age", "age_band"]`` (``["age"]`` without bands).

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "band_labels_")
        _check_feature_names_in(self, input_features)
        names = ["age", "age_band"] if self.band_edges_.size else ["age"]
        return np.asarray(names, dtype=object)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _infrequent_name(feature: str, category: Any) -> str:
    """Feature-name combiner for :class:`RareOneHot`: ``infrequent_sklearn`` -> ``other``."""
    cat = "other" if str(category) == "infrequent_sklearn" else str(category)
    return f"{feature}_{cat}"


_UNKNOWN_POLICIES = {"infrequent": "infrequent_if_exist", "error": "error", "ignore": "ignore"}
#: Stored in place of the levels folded below ``min_count`` (they are never stored).
_FOLDED = "<folded>"
#: Padding of the synthetic fit frame; not a category, so the encoder ignores it.
_PAD = "\x00pad"


class RareOneHot(_Base):
    """One-hot encoding with rare levels grouped and an explicit unknown policy.

    A thin, configured :class:`sklearn.preprocessing.OneHotEncoder`
    (``sparse_output=False``): levels seen fewer than ``min_frequency`` times,
    or beyond the ``max_levels`` most frequent, are grouped into one
    ``<column>_other`` column. Missing values become the level ``missing``.

    **No rare level is stored.** A level held by fewer than ``min_count`` rows (customers)
    is folded into ``<column>_other`` *before* the wrapped encoder is fitted, so the fitted
    (and pickled) encoder never holds it; at transform time such a level is unknown and,
    with ``unknown="infrequent"``, lands in ``<column>_other`` again. The wrapped encoder is
    fitted on the kept vocabulary only (each kept level twice, each grouped level once,
    ``min_frequency=2``), which reproduces the grouping decided here.

    Parameters
    ----------
    min_frequency : int or float, optional
        Minimum count (int) or share (float in (0, 1)) for a level to get its own
        column.
    max_levels : int, optional
        At most this many columns per feature, the ``_other`` column included.
    unknown : {"infrequent", "error", "ignore"}, default "infrequent"
        Level unseen in ``fit`` at transform time: ``"infrequent"`` puts it in
        the ``_other`` column when one exists (else all zeros), ``"ignore"``
        gives all zeros, ``"error"`` raises ``ValueError``.
    min_count : int, default 1
        Levels held by fewer rows are not stored at all (privacy floor; see above).

    Attributes
    ----------
    encoder_ : OneHotEncoder
        The fitted encoder.
    categories_ : list of ndarray
        Levels stored per column (those held by at least ``min_count`` rows, plus a
        placeholder for the folded ones).
    n_folded_ : dict of str to int
        Rows per column whose level was held by fewer than ``min_count`` rows.
    n_unknown_ : int
        Values unseen in ``fit`` (or folded there) in the last data passed to
        ``transform`` (0 after ``fit``).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"region": ["n", "n", "s", "s", "x"]})
    >>> enc = RareOneHot(min_frequency=2).fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['region_n', 'region_s', 'region_other']
    >>> enc.transform(pd.DataFrame({"region": ["n", "zz"]})).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    >>> enc.n_unknown_
    1
    >>> private = RareOneHot(min_count=2).fit(X)
    >>> [c.tolist() for c in private.categories_]
    [['n', 's', '<folded>']]
    """

    def __init__(
        self,
        *,
        min_frequency: int | float | None = None,
        max_levels: int | None = None,
        unknown: str = "infrequent",
        min_count: int = 1,
    ) -> None:
        self.min_frequency = min_frequency
        self.max_levels = max_levels
        self.unknown = unknown
        self.min_count = min_count

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    @staticmethod
    def _prepare(X: pd.DataFrame) -> pd.DataFrame:
        """Object-dtype strings with missing -> ``"missing"`` (numbers become their str)."""
        out = {}
        for col in X.columns:
            s = X[col]
            if not isinstance(s.dtype, pd.StringDtype):
                s = s.astype("str")  # numbers/booleans become their text, missing stays missing
            out[col] = s.fillna("missing").to_numpy(dtype=object)
        return pd.DataFrame(out, index=X.index)

    def _check_params(self) -> None:
        if self.unknown not in _UNKNOWN_POLICIES:
            raise ConfigError(
                f"unknown={self.unknown!r} should be one of {sorted(_UNKNOWN_POLICIES)}."
            )
        mc = self.min_count
        if isinstance(mc, bool) or not isinstance(mc, int | np.integer) or mc < 1:
            raise ConfigError(f"min_count={mc!r} should be an integer >= 1 (rows per level).")
        mf = self.min_frequency
        if mf is not None and (
            isinstance(mf, bool)
            or not isinstance(mf, int | float | np.integer | np.floating)
            or mf < 0
            or (isinstance(mf, float | np.floating) and mf >= 1)
        ):
            raise ConfigError(
                f"min_frequency={mf!r} should be a count >= 0 or a share in [0, 1)."
            )
        ml = self.max_levels
        if ml is not None and (isinstance(ml, bool) or not isinstance(ml, int) or ml < 1):
            raise ConfigError(f"max_levels={ml!r} should be an integer >= 1 or None.")

    def _vocabulary(self, values: np.ndarray) -> tuple[list[str], list[str], int]:
        """Kept levels, grouped-but-stored levels and rows folded below ``min_count``."""
        counts = pd.Series(values).value_counts()
        n = len(values)
        mf = self.min_frequency
        floor = 0.0 if mf is None else (float(mf) if isinstance(mf, int | np.integer) else mf * n)
        private = counts < self.min_count
        n_folded = int(counts[private].sum())
        stored = counts[~private]
        kept = stored[stored >= floor]
        grouped = [str(v) for v in stored.index[stored < floor]]
        has_other = bool(grouped) or n_folded > 0
        if self.max_levels is not None and len(kept) + int(has_other) > self.max_levels:
            order = sorted(kept.items(), key=lambda kv: (-kv[1], str(kv[0])))
            top = max(self.max_levels - 1, 0)
            grouped += [str(v) for v, _ in order[top:]]
            kept = kept.loc[[v for v, _ in order[:top]]]
        return sorted(str(v) for v in kept.index), sorted(grouped), n_folded

    def fit(self, X: Any, y: Any = None) -> RareOneHot:
        """Learn the levels (those held by fewer than ``min_count`` rows are not kept).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Categorical columns.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        _check_2d(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        frame = self._prepare(_as_frame(X, getattr(self, "feature_names_in_", None)))
        cats: list[list[str]] = []
        columns: list[list[str]] = []
        folded: dict[str, int] = {}
        for col in frame.columns:
            kept, grouped, n_folded = self._vocabulary(frame[col].to_numpy())
            if n_folded:
                grouped.append(_FOLDED)
                folded[str(col)] = n_folded
            cats.append(kept + grouped)
            columns.append([v for v in kept for _ in range(2)] + grouped)
        length = max((len(c) for c in columns), default=0)
        # the synthetic frame holds the vocabulary, not rows: each kept level twice and each
        # grouped level once, so min_frequency=2 reproduces the grouping; padding is unknown
        synthetic = pd.DataFrame(
            {col: np.array(c + [_PAD] * (length - len(c)), dtype=object)
             for col, c in zip(frame.columns, columns, strict=True)}
        )
        enc = OneHotEncoder(
            categories=[np.array(c, dtype=object) for c in cats],
            sparse_output=False,
            min_frequency=2,
            handle_unknown="ignore" if self.unknown == "ignore" else "infrequent_if_exist",
            feature_name_combiner=_infrequent_name,
            dtype=np.float64,
        )
        enc.fit(synthetic)
        if self.unknown == "error":
            enc.set_params(handle_unknown="error")
        self.encoder_ = enc
        self.categories_ = enc.categories_
        self.n_folded_ = folded
        self.n_unknown_ = 0
        return self

    def transform(self, X: Any) -> np.ndarray:
        """One-hot encode.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_output_features)
        """
        check_fitted(self, "encoder_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        frame = self._prepare(_as_frame(X, getattr(self, "feature_names_in_", None)))
        frame.columns = self.encoder_.feature_names_in_
        n_unknown = 0
        for j, col in enumerate(frame.columns):
            n_unknown += int((~frame[col].isin(self.categories_[j])).sum())
        self.n_unknown_ = n_unknown
        return self.encoder_.transform(frame)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``<column>_<level>`` names (``<column>_other`` for the grouped levels).

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "encoder_")
        names = _check_feature_names_in(self, input_features)
        return self.encoder_.get_feature_names_out(names)


class OrdinalScale(OneToOneFeatureMixin, _Base):
    """Ordered levels to codes ``0, 1, 2, ...`` (lowest first); unknown -> NaN, counted.

    Labels are normalised with :func:`normalize_level` before lookup
    (``"Very Satisfied"`` matches ``very_satisfied``). Missing stays NaN; a
    non-missing label outside the levels becomes NaN and is counted in
    ``n_unknown_``.

    Parameters
    ----------
    levels : mapping of str to sequence, sequence, or None
        Ordered levels per column name, or one sequence for every column.
        ``None`` uses :data:`CANONICAL_LEVELS` for columns named like a
        canonical ordered attribute (``education``, ``satisfaction``,
        ``journey_stage``, ``company_size``) and the sorted training levels
        otherwise. Off-scale levels of canonical columns (``lost`` for
        ``journey_stage``, coded -1) are known, not unknown, unless the given
        levels place them on the scale.

    Attributes
    ----------
    levels_ : dict of str to list of str
        Frozen levels per input column.
    maps_ : dict of str to dict of str to float
        Normalised label -> code per input column: the levels' positions plus the
        known off-scale labels of canonical columns (read-only).
    n_unknown_ : int
        Unknown labels in the last data seen by ``fit``/``transform``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"education": ["PhD", "basic", "Graduation", None]})
    >>> enc = OrdinalScale().fit(X)
    >>> enc.transform(X).ravel().tolist()
    [4.0, 0.0, nan, nan]
    >>> enc.n_unknown_
    1
    """

    def __init__(
        self, *, levels: Mapping[str, Sequence[str]] | Sequence[str] | None = None
    ) -> None:
        self.levels = levels

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    @property
    def maps_(self) -> dict[str, dict[str, float]]:
        """Normalised label -> code per input column (set by ``fit``)."""
        check_fitted(self, "levels_")
        return self._maps_

    def _codes(self, X: Any) -> tuple[np.ndarray, int]:
        frame = _as_frame(X, getattr(self, "feature_names_in_", None))
        out = np.full(frame.shape, np.nan, dtype=np.float64)
        n_unknown = 0
        for j, col in enumerate(self.levels_):
            mapping = self._maps_[col]
            vals = frame.iloc[:, j]
            norm = normalize_levels(vals)
            known = norm.map(mapping)
            codes = pd.to_numeric(known, errors="coerce").to_numpy(dtype=np.float64)
            n_unknown += int((norm.notna() & known.isna()).sum())
            out[:, j] = codes
        return out, n_unknown

    def fit(self, X: Any, y: Any = None) -> OrdinalScale:
        """Freeze the levels of each column and count unknown labels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Ordinal labels.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        _check_2d(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        frame = _as_frame(X, getattr(self, "feature_names_in_", None))
        levels: dict[str, list[str]] = {}
        maps: dict[str, dict[str, float]] = {}
        for j, col in enumerate(frame.columns):
            col = str(col)
            if isinstance(self.levels, Mapping):
                if col not in self.levels:
                    raise ConfigError(
                        f"OrdinalScale has no levels for column {col!r}; "
                        f"levels are given for {sorted(self.levels)}."
                    )
                lv = [normalize_level(v) for v in self.levels[col]]
            elif self.levels is not None and not isinstance(self.levels, str):
                lv = [normalize_level(v) for v in self.levels]
            elif self.levels is None and col in CANONICAL_LEVELS:
                lv = list(CANONICAL_LEVELS[col])
            elif self.levels is None:
                seen = normalize_levels(frame.iloc[:, j]).dropna().astype(str)
                lv = sorted(set(seen))
            else:
                raise ConfigError(
                    f"levels={self.levels!r} should be a mapping of column -> ordered levels, "
                    "a sequence of ordered levels, or None."
                )
            if len(set(lv)) != len(lv):
                raise ConfigError(f"levels for column {col!r} repeat a level: {lv}.")
            mapping = {v: float(i) for i, v in enumerate(lv)}
            for label, code in OFF_SCALE_LEVELS.get(col, {}).items():
                mapping.setdefault(label, code)
            levels[col] = lv
            maps[col] = mapping
        self.levels_ = levels
        self._maps_ = maps
        _, self.n_unknown_ = self._codes(frame)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Map labels to codes.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        check_fitted(self, "levels_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        out, self.n_unknown_ = self._codes(X)
        return out


class FrequencyEncoder(_Base):
    """Replace each level with its share of the training rows (``<column>_freq``).

    Meant for high-cardinality geography (city, postcode). Missing values are
    a level of their own (``missing``); a level unseen in ``fit`` gets 0.0 and
    is counted in ``n_unknown_``.

    Parameters
    ----------
    min_count : int, default 1
        Levels held by fewer rows (customers) are not stored: they are treated as
        unseen (0.0), in ``fit`` as at transform time, and counted in ``n_folded_``.

    Attributes
    ----------
    frequencies_ : dict of str to dict of str to float
        Frozen shares per column (levels held by at least ``min_count`` rows only).
    n_folded_ : dict of str to int
        Rows per column whose level was held by fewer than ``min_count`` rows.
    n_unknown_ : int
        Unseen values in the last data passed to ``transform`` (0 after ``fit``).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"city": ["a", "a", "b", "c"]})
    >>> FrequencyEncoder().fit(X).transform(pd.DataFrame({"city": ["a", "z"]})).ravel().tolist()
    [0.5, 0.0]
    """

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    def __init__(self, *, min_count: int = 1) -> None:
        self.min_count = min_count

    def fit(self, X: Any, y: Any = None) -> FrequencyEncoder:
        """Learn the level shares (of levels held by at least ``min_count`` rows).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Categorical columns.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        _check_2d(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        mc = self.min_count
        if isinstance(mc, bool) or not isinstance(mc, int | np.integer) or mc < 1:
            raise ConfigError(f"min_count={mc!r} should be an integer >= 1 (rows per level).")
        frame = RareOneHot._prepare(_as_frame(X, getattr(self, "feature_names_in_", None)))
        self.frequencies_ = {}
        self.n_folded_ = {}
        for col in frame.columns:
            counts = frame[col].value_counts()
            rare = counts < mc
            if rare.any():
                self.n_folded_[str(col)] = int(counts[rare].sum())
            n = max(len(frame), 1)
            self.frequencies_[str(col)] = {str(k): float(v) / n for k, v in counts[~rare].items()}
        self.n_unknown_ = 0
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Map levels to their training shares.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        check_fitted(self, "frequencies_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        frame = RareOneHot._prepare(_as_frame(X, getattr(self, "feature_names_in_", None)))
        out = np.zeros(frame.shape, dtype=np.float64)
        n_unknown = 0
        for j, col in enumerate(self.frequencies_):
            mapped = frame.iloc[:, j].map(self.frequencies_[col])
            n_unknown += int(mapped.isna().sum())
            out[:, j] = mapped.fillna(0.0).to_numpy(dtype=np.float64)
        self.n_unknown_ = n_unknown
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``<column>_freq`` for each input column.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "frequencies_")
        names = _check_feature_names_in(self, input_features)
        return np.asarray([f"{n}_freq" for n in names], dtype=object)


class FamilyWeight(OneToOneFeatureMixin, _Base):
    """Scale a block of columns (one feature family) to a fixed distance budget.

    The rule. For a block ``X`` with columns ``x_1..x_n``, the expected squared
    Euclidean distance between two rows drawn at random (with replacement) is
    ``2 * sum_j var(x_j)`` (population variance). ``FamilyWeight`` multiplies
    every column by the same factor ``s`` chosen so that this budget becomes
    ``2 * weight``:

    - ``method="variance"`` (default): ``s = sqrt(weight / V)`` with
      ``V = sum_j var(x_j)`` learned in ``fit`` (NaN ignored). Exact whatever
      the columns' scales: 30 one-hot region columns with weight 1 and 3
      robust-scaled value columns with weight 1 contribute the same budget.
      A constant block (``V == 0``) is left unscaled.
    - ``method="count"``: ``s = sqrt(weight / n)``, which gives the same budget
      when every column was standardised to unit variance beforehand.

    Because k-means minimises squared distances, ``weight`` is the family's
    share of the objective: weight 2 ("value counts double") doubles its
    budget, i.e. multiplies its coordinates by ``sqrt(2)``.

    Parameters
    ----------
    weight : float, default 1.0
        Family weight, > 0.
    method : {"variance", "count"}, default "variance"
        How the per-family normaliser is computed (see above).

    Attributes
    ----------
    scale_ : float
        The frozen factor ``s``.
    total_variance_ : float
        ``V`` seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [2.0, 2.0]])  # V = 1 + 1 = 2
    >>> FamilyWeight(weight=1.0).fit(X).scale_ == np.sqrt(1 / 2)
    np.True_
    """

    def __init__(self, *, weight: float = 1.0, method: str = "variance") -> None:
        self.weight = weight
        self.method = method

    def fit(self, X: Any, y: Any = None) -> FamilyWeight:
        """Learn the scale factor.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The family's preprocessed columns.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if not isinstance(self.weight, Real) or isinstance(self.weight, bool) or not (
            np.isfinite(self.weight) and self.weight > 0
        ):
            raise ConfigError(f"weight={self.weight!r} should be a finite number > 0.")
        if self.method not in ("variance", "count"):
            raise ConfigError(f"method={self.method!r} should be 'variance' or 'count'.")
        arr = _numeric(X, self, reset=True)
        with np.errstate(all="ignore"):
            var = np.nanvar(arr, axis=0) if arr.shape[0] else np.zeros(arr.shape[1])
        total = float(np.nansum(var))
        self.total_variance_ = total
        if self.method == "count":
            denom = float(arr.shape[1])
        else:
            denom = total if total > 0 else 1.0
        self.scale_ = float(np.sqrt(float(self.weight) / denom))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Multiply every column by ``scale_``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_fitted(self, "scale_")
        return _numeric(X, self, reset=False) * self.scale_


class MultiLabelFlags(_Base):
    """A multi-select text column (``"Sustainability; price"``) to 0/1 flag columns.

    Psychographic surveys often store interests as one delimited answer; the
    contract wants one boolean ``interest_<name>`` column per interest. Labels
    are split on ``sep`` and normalised with :func:`normalize_level`; missing
    or empty answers give all zeros.

    Parameters
    ----------
    sep : str, default ";"
        Separator between labels.
    prefix : str, default "interest_"
        Output column prefix (``interest_sustainability``).
    min_count : int, default 1
        Labels seen in fewer rows at ``fit`` get no column (their values count as unknown).

    Attributes
    ----------
    labels_ : list of str
        Frozen labels (sorted) that get a column.
    n_unknown_ : int
        Label occurrences without a column in the last data seen by ``fit``/``transform``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"interests": ["Price; Brand", "price", None]})
    >>> enc = MultiLabelFlags().fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['interest_brand', 'interest_price']
    >>> enc.transform(X).tolist()
    [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    """

    def __init__(self, *, sep: str = ";", prefix: str = "interest_", min_count: int = 1) -> None:
        self.sep = sep
        self.prefix = prefix
        self.min_count = min_count

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    def _split(self, X: Any) -> list[list[str]]:
        frame = _as_frame(X, getattr(self, "feature_names_in_", None))
        if frame.shape[1] != 1:
            raise ValueError(
                f"MultiLabelFlags expects exactly one column of delimited labels, "
                f"got {frame.shape[1]}."
            )
        rows: list[list[str]] = []
        for value in frame.iloc[:, 0].astype(object).to_numpy():
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                rows.append([])
                continue
            parts = (normalize_level(p) for p in str(value).split(self.sep))
            rows.append(sorted({p for p in parts if isinstance(p, str) and p}))
        return rows

    def fit(self, X: Any, y: Any = None) -> MultiLabelFlags:
        """Learn the labels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 1)
            Delimited labels.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if not isinstance(self.sep, str) or not self.sep:
            raise ConfigError(f"sep={self.sep!r} should be a non-empty string.")
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int) or (
            self.min_count < 1
        ):
            raise ConfigError(f"min_count={self.min_count!r} should be an integer >= 1.")
        _check_2d(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        rows = self._split(X)
        counts: dict[str, int] = {}
        for labels in rows:
            for lbl in labels:
                counts[lbl] = counts.get(lbl, 0) + 1
        self.labels_ = sorted(k for k, v in counts.items() if v >= self.min_count)
        kept = set(self.labels_)
        self.n_unknown_ = sum(1 for labels in rows for lbl in labels if lbl not in kept)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return one 0/1 column per learned label.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 1)
            Delimited labels.

        Returns
        -------
        ndarray of shape (n_samples, n_labels), float64
        """
        check_fitted(self, "labels_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        rows = self._split(X)
        pos = {lbl: j for j, lbl in enumerate(self.labels_)}
        out = np.zeros((len(rows), len(self.labels_)), dtype=np.float64)
        n_unknown = 0
        for i, labels in enumerate(rows):
            for lbl in labels:
                j = pos.get(lbl)
                if j is None:
                    n_unknown += 1
                else:
                    out[i, j] = 1.0
        self.n_unknown_ = n_unknown
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``<prefix><label>`` per learned label.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "labels_")
        _check_feature_names_in(self, input_features)
        return np.asarray([f"{self.prefix}{lbl}" for lbl in self.labels_], dtype=object)

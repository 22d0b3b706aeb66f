"""Birth year (or age) to ``age`` and an ``age_band`` code: :class:`AgeEncoder`."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import _check_feature_names_in

from segml._validation import check_fitted
from segml.errors import ConfigError
from segml.features.encoders._common import _Base, _fmt, _numeric

__all__ = ["AgeEncoder"]


class AgeEncoder(_Base):
    """Birth year (or age) to ``age`` and an ``age_band`` code, as of a year.

    ``age = as_of_year - birth_year`` (whole years; the birth date is not known,
    so the age can be one year high). Ages outside ``[min_age, max_age]``
    (e.g. birth year 1893) are implausible: they become NaN and are counted
    (:meth:`quality` counts them in any batch; ``transform`` records nothing).

    Usually one column (``birth_year`` or ``age``) is encoded. Several columns
    (e.g. the birth years of two account holders) are encoded independently,
    each giving its own ``<column>_age`` and ``<column>_age_band``.

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
        What the input columns hold.

    Attributes
    ----------
    band_labels_ : list of str
        Label of each band code.
    band_edges_ : ndarray of float
        The band edges.
    n_implausible_ : int
        Implausible values (outside the age range) in the training data.
    n_missing_ : int
        Missing values in the training data.

    Examples
    --------
    >>> import pandas as pd
    >>> enc = AgeEncoder(as_of_year=2026).fit(pd.DataFrame({"birth_year": [1990, 1893]}))
    >>> enc.transform(pd.DataFrame({"birth_year": [1990, 1893]})).tolist()
    [[36.0, 3.0], [nan, nan]]
    >>> enc.quality(pd.DataFrame({"birth_year": [1880, 1890, None]}))
    {'n_implausible': 2, 'n_missing': 1}
    >>> enc.band_labels_[3]
    '35-44'
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
        """Ages of every input column (implausible -> NaN) and the two counts."""
        arr = _numeric(X, self, reset=reset)
        age = (float(self.as_of_year) - arr) if self.source == "birth_year" else arr.copy()
        missing = np.isnan(age)
        bad = ~missing & ((age < self.min_age) | (age > self.max_age))
        age = np.where(bad, np.nan, age)
        return age, int(bad.sum()), int(missing.sum())

    def fit(self, X: Any, y: Any = None) -> AgeEncoder:
        """Validate the parameters and count implausible values.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Birth years (or ages), usually one column.
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
        """Return ``age`` and (when bands are set) the ``age_band`` code of each column.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Birth years (or ages), the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, 2 * n_features) or (n_samples, n_features)
            Per input column: ``age`` then (with bands) ``age_band``.
        """
        check_fitted(self, "band_labels_")
        age, _, _ = self._ages(X, reset=False)
        if self.band_edges_.size == 0:
            return age
        code = np.searchsorted(self.band_edges_, age, side="right").astype(np.float64)
        code[np.isnan(age)] = np.nan
        out = np.empty((age.shape[0], 2 * age.shape[1]), dtype=np.float64)
        out[:, 0::2] = age
        out[:, 1::2] = code
        return out

    def quality(self, X: Any) -> dict[str, int]:
        """Count the implausible and the missing values of a batch (all columns).

        A pure read: the encoder is not changed (``transform`` records nothing).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Birth years (or ages), the columns seen in ``fit``.

        Returns
        -------
        dict
            ``{"n_implausible": int, "n_missing": int}``.
        """
        check_fitted(self, "band_labels_")
        _, n_bad, n_missing = self._ages(X, reset=False)
        return {"n_implausible": n_bad, "n_missing": n_missing}

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
        """Return ``["age", "age_band"]`` (``["age"]`` without bands) for one input column.

        With several input columns each gets ``<column>_age`` and ``<column>_age_band``.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "band_labels_")
        features = _check_feature_names_in(self, input_features)
        names = ["age", "age_band"] if self.band_edges_.size else ["age"]
        if len(features) == 1:
            return np.asarray(names, dtype=object)
        return np.asarray([f"{f}_{n}" for f in features for n in names], dtype=object)

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

"""Numeric encoders: ToFloat, LogMoney, Winsorizer and FamilyWeight (float in, float out)."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import OneToOneFeatureMixin

from segml._validation import check_fitted
from segml.errors import ConfigError
from segml.features.encoders._common import _as_frame, _Base, _check_2d, _numeric

__all__ = ["FamilyWeight", "LogMoney", "MissingFlags", "ToFloat", "Winsorizer"]


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
        Negative values in the training data (:meth:`quality` counts them in any
        batch; ``transform`` records nothing).

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
        return np.sign(arr) * np.log1p(np.abs(arr))

    def quality(self, X: Any) -> dict[str, int]:
        """Count the negative values of a batch.

        A pure read: the encoder is not changed (``transform`` records nothing).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        dict
            ``{"n_negative": int}``.
        """
        check_fitted(self, "n_negative_")
        return {"n_negative": int(np.sum(_numeric(X, self, reset=False) < 0))}

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

    The last ``n_flags`` columns are *flags* (0/1 columns and missing indicators kept on a
    fixed 0..c scale by :func:`segml.features.make_preprocessor`): they are left out of
    ``V`` (``n`` for ``"count"``) and multiplied by the same ``s``, so a flag's swing stays
    ``c`` standard deviations of a standardised column of its family. A block of flags only
    uses ``V = n_flags``.

    Because k-means minimises squared distances, ``weight`` is the family's
    share of the objective: weight 2 ("value counts double") doubles its
    budget, i.e. multiplies its coordinates by ``sqrt(2)``.

    Parameters
    ----------
    weight : float, default 1.0
        Family weight, > 0.
    method : {"variance", "count"}, default "variance"
        How the per-family normaliser is computed (see above).
    n_flags : int, default 0
        Number of trailing flag columns left out of the normaliser.

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

    def __init__(self, *, weight: float = 1.0, method: str = "variance",
                 n_flags: int = 0) -> None:
        self.weight = weight
        self.method = method
        self.n_flags = n_flags

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
        n_flags = int(self.n_flags)
        if not 0 <= n_flags <= arr.shape[1]:
            raise ConfigError(
                f"n_flags={self.n_flags!r} should be between 0 and the {arr.shape[1]} columns."
            )
        cont = arr[:, : arr.shape[1] - n_flags]
        with np.errstate(all="ignore"):
            var = np.nanvar(cont, axis=0) if cont.shape[0] else np.zeros(cont.shape[1])
        total = float(np.nansum(var))
        self.total_variance_ = total
        if cont.shape[1] == 0:
            denom = float(max(n_flags, 1))
        elif self.method == "count":
            denom = float(cont.shape[1])
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


class MissingFlags(_Base):
    """Missing-value indicators on a fixed ``0..scale`` range (not standardised).

    One output column ``missingindicator_<column>`` per input column: ``scale`` where the
    value is missing (NaN, None, ``pd.NA``), 0 elsewhere. Stateless apart from the column
    names seen in ``fit``; text columns are accepted.

    Parameters
    ----------
    scale : float, default 1.0
        Value of a missing entry (> 0).

    Examples
    --------
    >>> import pandas as pd
    >>> MissingFlags(scale=0.5).fit_transform(pd.DataFrame({"a": [1.0, None]}))
    array([[0. ],
           [0.5]])
    """

    def __init__(self, *, scale: float = 1.0) -> None:
        self.scale = scale

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # text columns are flagged too (missing or not)
        tags.input_tags.categorical = True
        return tags

    def fit(self, X: Any, y: Any = None) -> MissingFlags:
        """Record the input columns.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Any values.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if not isinstance(self.scale, Real) or isinstance(self.scale, bool) or not (
            np.isfinite(self.scale) and self.scale > 0
        ):
            raise ConfigError(f"scale={self.scale!r} should be a finite number > 0.")
        _check_2d(X)
        frame = _as_frame(X)
        self.n_features_in_ = frame.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return ``scale`` where ``X`` is missing, else 0.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_fitted(self, "n_features_in_")
        _check_2d(X)
        frame = _as_frame(X)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} features, but MissingFlags is expecting "
                f"{self.n_features_in_} features as input."
            )
        return frame.isna().to_numpy(dtype=np.float64) * float(self.scale)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``missingindicator_<column>`` for each input column.

        Parameters
        ----------
        input_features : array-like of str, optional
            Input names (default: those seen in ``fit``, else ``x0, x1, ...``).

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "n_features_in_")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_",
                                     [f"x{i}" for i in range(self.n_features_in_)])
        return np.asarray([f"missingindicator_{c}" for c in input_features], dtype=object)

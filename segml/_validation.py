"""Private argument checks shared across segml.

The generic checks (fitted state, type, range, choice) live here so every module
raises the same error class with the same wording; domain-specific checks stay
next to the code they guard.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from segml.errors import ConfigError, NotFittedError

__all__ = [
    "check_fitted",
    "check_int",
    "check_at_least",
    "check_share",
    "check_date",
    "check_choice",
    "check_choices",
    "check_frame",
]


def check_fitted(
    estimator: Any, attributes: str | Sequence[str] | None = None, *, msg: str | None = None
) -> None:
    """Raise segml's :class:`~segml.errors.NotFittedError` when ``estimator`` is not fitted.

    A thin wrapper around :func:`sklearn.utils.validation.check_is_fitted`: the same
    test, the same message unless ``msg`` is given, but the raised class is segml's
    (a subclass of scikit-learn's, so ``except sklearn.exceptions.NotFittedError``
    still catches it, as does ``except segml.errors.SegmlError``).

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check.
    attributes : str or sequence of str, optional
        Fitted attributes that must exist; by default any attribute ending in ``_``.
    msg : str, optional
        The error message; by default scikit-learn's.

    Raises
    ------
    NotFittedError
        When the estimator has not been fitted.
    """
    try:
        check_is_fitted(estimator, attributes)
    except _SklearnNotFittedError as exc:
        if isinstance(exc, NotFittedError):
            raise
        raise NotFittedError(msg if msg is not None else str(exc)) from None


def check_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as an int after checking it is an integer ``>= minimum``.

    Parameters
    ----------
    name : str
        The argument's name, shown in the message.
    value : object
        The value given.
    minimum : int
        The smallest value allowed.

    Returns
    -------
    int
        ``value``.

    Raises
    ------
    ConfigError
        When ``value`` is not an integer (``bool`` is not one) or is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ConfigError(f"{name}={value} should be >= {minimum}.")
    return int(value)


def check_at_least(name: str, value: Any, minimum: int) -> None:
    """Check that ``int(value) >= minimum`` (a count such as ``n_bootstrap``).

    Unlike :func:`check_int` the value is not type-checked: ``int(value)`` is compared,
    so ``2.0`` passes and a value ``int`` cannot read raises what ``int`` raises.

    Parameters
    ----------
    name : str
        The argument's name, shown in the message.
    value : object
        The value given.
    minimum : int
        The smallest value allowed.

    Raises
    ------
    ConfigError
        When ``int(value) < minimum``.
    """
    if int(value) < minimum:
        raise ConfigError(f"{name}={value} should be >= {minimum}.")


def check_share(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking it is a number in ``[0, 1)``.

    Parameters
    ----------
    name : str
        The argument's name, shown in the message.
    value : object
        The value given.

    Returns
    -------
    float
        ``value``.

    Raises
    ------
    ConfigError
        When ``value`` is not a real number (``bool`` is not one) or is outside ``[0, 1)``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
        0.0 <= float(value) < 1.0
    ):
        raise ConfigError(f"{name}={value!r} should be a number in [0, 1).")
    return float(value)


def check_date(name: str, value: Any) -> pd.Timestamp:
    """Return ``value`` as a timezone-naive midnight :class:`pandas.Timestamp`.

    Parameters
    ----------
    name : str
        The argument's name, shown in the message.
    value : object
        Anything :class:`pandas.Timestamp` reads (``"2021-01-01"``, a datetime, ...).
        An aware timestamp is converted to UTC before its timezone is dropped.

    Returns
    -------
    pandas.Timestamp
        The date, normalised to midnight.

    Raises
    ------
    ConfigError
        When ``value`` is not a date (or is missing).
    """
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}={value!r} is not a date (use e.g. '2021-01-01').") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ConfigError(f"{name}={value!r} is not a date (use e.g. '2021-01-01').")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    """Check that ``value`` is one of ``allowed``.

    Parameters
    ----------
    name : str
        The argument's name, shown in the message.
    value : object
        The value given.
    allowed : tuple
        The values allowed, shown in the message as given.

    Raises
    ------
    ConfigError
        When ``value not in allowed``.
    """
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of {allowed}.")


def check_choices(name: str, values: Iterable[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """Return ``values`` as a tuple after checking it is a non-empty subset of ``allowed``.

    Parameters
    ----------
    name : str
        The argument's name, shown in the message.
    values : str or iterable of str
        One value or several.
    allowed : sequence of str
        The values allowed.

    Returns
    -------
    tuple of str
        ``values`` (a single string becomes a 1-tuple).

    Raises
    ------
    ConfigError
        When ``values`` is empty or holds a value not in ``allowed``.
    """
    values = (values,) if isinstance(values, str) else tuple(values)
    bad = [v for v in values if v not in allowed]
    if not values or bad:
        raise ConfigError(f"{name}={values!r} should be a non-empty subset of {tuple(allowed)}.")
    return values


def check_frame(X: Any, where: str) -> pd.DataFrame:
    """Return ``X`` as a DataFrame for estimators that read columns by name.

    A DataFrame is returned as is (never copied). Any other 2-D array-like becomes
    a DataFrame with the positional names ``x0, x1, ...`` (the names scikit-learn's
    array input implies), so rules and column parameters can name them. Sparse,
    complex, 1-D and empty input are refused with scikit-learn's wording.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        The input.
    where : str
        ``"Estimator.method"``, for the messages.

    Returns
    -------
    DataFrame

    Raises
    ------
    TypeError
        For sparse input.
    ValueError
        For 1-D, complex or empty input.
    """
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            f"{where}: sparse data is not supported; pass a dense array or a DataFrame."
        )
    frame = X if isinstance(X, pd.DataFrame) else None
    if frame is None:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(
                f"{where}: expected a 2D array or DataFrame, got ndim={arr.ndim}. "
                "Reshape your data: a single column with X.reshape(-1, 1)."
            )
        if np.iscomplexobj(arr):
            raise ValueError(f"{where}: Complex data not supported; pass real numbers or labels.")
        frame = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        what = "sample" if frame.shape[0] == 0 else "feature"
        n = frame.shape[0] if frame.shape[0] == 0 else frame.shape[1]
        raise ValueError(
            f"{where}: Found array with {n} {what}(s) (shape={frame.shape}) while a "
            "minimum of 1 is required."
        )
    return frame

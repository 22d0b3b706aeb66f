"""Private argument checks shared across segml.

The generic checks (fitted state, type, range, choice) live here so every module
raises the same error class with the same wording; domain-specific checks stay
next to the code they guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from segml.errors import NotFittedError

__all__ = ["check_fitted"]


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

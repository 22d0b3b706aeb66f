"""Shared input checks and tags of the attribute encoders (private to this package)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import validate_data


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



def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)

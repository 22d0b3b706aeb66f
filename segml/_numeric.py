"""One conversion shared by the core: a column to float64 with NaN for anything missing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def to_float(values: Any) -> np.ndarray:
    """Return ``values`` as a float64 array; text that is not a number and missing become NaN.

    Parameters
    ----------
    values : pandas.Series or array-like
        A column (numbers, numbers stored as text, nullable dtypes).

    Returns
    -------
    numpy.ndarray of float64

    Examples
    --------
    >>> to_float(pd.Series(["1.5", None, "x"])).tolist()
    [1.5, nan, nan]
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

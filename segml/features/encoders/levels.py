"""Category labels: normalisation and the canonical ordered levels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segml.schema import ORDERED_LEVELS

__all__ = ["CANONICAL_LEVELS", "OFF_SCALE_LEVELS", "normalize_level", "normalize_levels"]

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
    # factorize (Arrow's dictionary encode for Arrow text) instead of a per-row object copy
    # and dict lookup: the distinct labels are normalised, the codes spread them back
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    norm = np.array([normalize_level(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(norm[codes], index=values.index, name=values.name, dtype=object)

"""Degenerate customers: named rule groups set aside before clustering.

Some buyers have no value to segment on. CDNOW holds 68 customers (as of 1998-06-30) whose
only purchase was $0: their spend, average order and every spend share are 0 or undefined, so
their missing indicators put them far from everybody and they formed a segment of their own at
every k (issue 15); every k then had a segment under the size floor. They are better *named*
than clustered:

===================== ============ ===============================================
group                 segment_id   rule (on the feature frame)
===================== ============ ===============================================
``zero-value buyers`` -2           a buyer (``frequency`` > 0) with ``monetary`` == 0
``net-refund buyers`` -3           a buyer with ``monetary`` < 0 (returns exceed spend)
===================== ============ ===============================================

Prospects (no purchase) are not degenerate: they have their own policy (segment -1). A frame
without ``monetary`` and ``frequency`` has no degenerate customers. On CDNOW's other
columns nothing else is degenerate: every other buyer has a positive spend, the largest
average order ($1,120) is a real order, and one-purchase customers (51 %) are the ordinary
case, not an anomaly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DEGENERATE_GROUPS", "degenerate_groups", "degenerate_segment_ids", "group_of"]

#: Group name -> segment id given in the delivered assignments (outside the clustering).
DEGENERATE_GROUPS: dict[str, int] = {"zero-value buyers": -2, "net-refund buyers": -3}


def degenerate_groups(frame: pd.DataFrame) -> pd.Series:
    """Name the degenerate group of each row (missing for everybody else).

    Parameters
    ----------
    frame : DataFrame
        Raw feature frame (``build_features(...).frame``).

    Returns
    -------
    pandas.Series
        Same index as ``frame``, dtype ``object``: a name of :data:`DEGENERATE_GROUPS` or None.

    Examples
    --------
    >>> f = pd.DataFrame({"frequency": [2, 1, 0, 1], "monetary": [50.0, 0.0, 0.0, -5.0]})
    >>> degenerate_groups(f).tolist()
    [None, 'zero-value buyers', None, 'net-refund buyers']
    """
    out = pd.Series(np.full(len(frame), None, dtype=object), index=frame.index,
                    dtype=object, name="degenerate_group")
    if "monetary" not in frame.columns or "frequency" not in frame.columns:
        return out
    freq = pd.to_numeric(frame["frequency"], errors="coerce").to_numpy(dtype=np.float64)
    money = pd.to_numeric(frame["monetary"], errors="coerce").to_numpy(dtype=np.float64)
    buyer = np.nan_to_num(freq, nan=0.0) > 0
    if "is_prospect" in frame.columns:
        buyer &= ~frame["is_prospect"].fillna(False).to_numpy(dtype=bool)
    out[buyer & (money == 0)] = "zero-value buyers"
    out[buyer & (money < 0)] = "net-refund buyers"
    return out


def degenerate_segment_ids(groups: pd.Series) -> pd.Series:
    """Segment id of each named group (:data:`DEGENERATE_GROUPS`); missing rows stay missing.

    Parameters
    ----------
    groups : pandas.Series
        Output of :func:`degenerate_groups`.

    Returns
    -------
    pandas.Series
        ``Int64`` ids, same index.
    """
    return groups.map(DEGENERATE_GROUPS).astype("Int64")


def group_of(frequency: float | None, monetary: float | None) -> str | None:
    """Name the degenerate group of one buyer (the CRM path; same rule as above).

    Examples
    --------
    >>> group_of(1, 0.0), group_of(2, -5.0), group_of(3, 10.0), group_of(0, 0.0)
    ('zero-value buyers', 'net-refund buyers', None, None)
    """
    try:
        freq, money = float(frequency), float(monetary)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not freq > 0 or np.isnan(money):
        return None
    if money == 0:
        return "zero-value buyers"
    return "net-refund buyers" if money < 0 else None

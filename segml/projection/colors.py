"""One colour per segment (and per ABC class), the same in every figure and report table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError

__all__ = ["ABC_COLORS", "PALETTE", "UNASSIGNED_COLOR", "is_intlike", "segment_colors"]

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip

#: Fixed colours of the ABC levels (``"none"`` = prospects, no revenue).
ABC_COLORS: dict[str, str] = {"A": "#1a9850", "B": "#fee08b", "C": "#d73027", "none": "#bdbdbd"}

#: Colour of customers that belong to no segment (label ``-1``, missing).
UNASSIGNED_COLOR = "#4d4d4d"


def is_intlike(values: list[Any]) -> bool:
    """Say whether every value is an integer (or an integral float), none a bool."""
    for v in values:
        if isinstance(v, bool | np.bool_):
            return False
        if isinstance(v, int | np.integer):
            continue
        if isinstance(v, float | np.floating) and float(v).is_integer():
            continue
        return False
    return True


def segment_colors(segments: Any) -> dict[Any, str]:
    """One deterministic colour per segment, shared by every figure and table.

    Parameters
    ----------
    segments : array-like, Series, or mapping of int to str
        - integer segment ids (labels, possibly repeated): id ``i`` -> ``PALETTE[i % 20]``,
          ``-1`` -> :data:`UNASSIGNED_COLOR`;
        - a mapping ``{segment id: segment name}`` (e.g. ``ProfileResult.names``): each *name* gets
          the colour of its id;
        - ABC levels (a subset of ``A``, ``B``, ``C``, ``none``): :data:`ABC_COLORS`;
        - other strings (rule-segment names): sorted, then the i-th name -> ``PALETTE[i % 20]``.

    Returns
    -------
    dict
        Segment (id, name or level) -> ``"#rrggbb"``, in ascending segment order.

    Raises
    ------
    ConfigError
        When ``segments`` is empty.

    Examples
    --------
    >>> segment_colors([1, 0, 1])
    {0: '#1f77b4', 1: '#ff7f0e'}
    >>> segment_colors({0: "loyal", 1: "lapsed"})
    {'loyal': '#1f77b4', 'lapsed': '#ff7f0e'}
    >>> segment_colors(["C", "A"])["A"]
    '#1a9850'
    """
    if isinstance(segments, Mapping):
        if not segments:
            raise ConfigError("segment_colors got an empty mapping; expected {segment id: name}.")
        ids = list(segments)
        if not is_intlike(ids):
            raise ConfigError(
                f"segment_colors got a mapping with non-integer keys {ids[:5]!r}; "
                "expected {segment id: segment name}."
            )
        return {
            segments[i]: (UNASSIGNED_COLOR if int(i) < 0 else PALETTE[int(i) % len(PALETTE)])
            for i in sorted(ids, key=int)
        }
    values = pd.Series(np.asarray(segments, dtype=object).ravel()).dropna().unique().tolist()
    if not values:
        raise ConfigError("segment_colors got no segments; pass labels, names or a mapping.")
    if is_intlike(values):
        return {
            int(v): (UNASSIGNED_COLOR if int(v) < 0 else PALETTE[int(v) % len(PALETTE)])
            for v in sorted(values, key=int)
        }
    names = sorted(str(v) for v in values)
    if set(names) <= set(ABC_COLORS):
        return {n: ABC_COLORS[n] for n in sorted(names, key=list(ABC_COLORS).index)}
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}

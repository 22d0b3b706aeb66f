"""What the plots need that no other layer computes: segment colours, a 2-D map, grids, shares.

Everything here is plain computation (numpy, pandas, scikit-learn): no matplotlib. The plotting
functions in :mod:`segml.plotting` consume these result objects and compute nothing themselves.

- :func:`segment_colors` gives every segment (and every ABC level) one colour, the same in every
  figure and in the HTML report's tables.
- :func:`project_2d` maps customers onto the first two principal components of the model matrix,
  with the segment centroids, for the "map of customers" plot.
- :func:`rfm_grid` counts customers and revenue by recency score x frequency score.
- :func:`segment_shares` gives each segment's share of customers and of revenue.

One module per concept: ``colors`` (:func:`segment_colors` and the palettes), ``map2d``
(:func:`project_2d`), ``tables`` (:func:`rfm_grid`, :func:`segment_shares`).
"""

from __future__ import annotations

from segml.projection.colors import ABC_COLORS, PALETTE, UNASSIGNED_COLOR, segment_colors
from segml.projection.map2d import ProjectionResult, project_2d
from segml.projection.tables import (
    RFMGridResult,
    SegmentSharesResult,
    rfm_grid,
    segment_shares,
)

__all__ = [
    "PALETTE",
    "ABC_COLORS",
    "UNASSIGNED_COLOR",
    "segment_colors",
    "ProjectionResult",
    "project_2d",
    "RFMGridResult",
    "rfm_grid",
    "SegmentSharesResult",
    "segment_shares",
]

"""Plots of segml's result objects (matplotlib, imported lazily).

Every function takes **one documented result type** and ``ax=None``, draws on that Axes only
(a new :class:`matplotlib.figure.Figure` when ``ax`` is None; pyplot's global state is never
touched, so it works headless with the Agg backend) and returns the Axes. Given anything else
it raises :class:`TypeError` naming the type it takes and the function that makes one:
nothing is guessed from attribute names. Nothing is computed here: the numbers come from the
result objects (:mod:`segml.projection` computes what no other layer does), and every segment
has the colour :func:`segml.projection.segment_colors` gives it, in every figure.

``segml.segment(...)`` returns a :class:`segml.Segmentation` whose ``.plot_*()`` methods call
these functions with the right result object.

=============================  ===============================================  =============
function                       takes                                            module
=============================  ===============================================  =============
:func:`plot_k_selection`       :class:`segml.cluster.SelectKResult`             ``selection``
:func:`plot_silhouette`        :class:`segml.cluster.ValidationResult` +labels  ``selection``
:func:`plot_profile_heatmap`   :class:`segml.cluster.ProfileResult`             ``segments``
:func:`plot_projection`        :class:`segml.projection.ProjectionResult`       ``segments``
:func:`plot_segment_shares`    :class:`segml.projection.SegmentSharesResult`    ``segments``
:func:`plot_pareto`            :class:`segml.features.ParetoResult`             ``revenue``
:func:`plot_rfm_grid`          :class:`segml.projection.RFMGridResult`          ``revenue``
:func:`plot_comparison`        :class:`segml.rules.ComparisonResult`            ``compare``
:func:`plot_drift`             :class:`segml.monitoring.DriftReport`            ``drift``
:func:`plot_segment_drift`     :class:`segml.monitoring.DriftReport`            ``drift``
=============================  ===============================================  =============
"""

from __future__ import annotations

from segml.plotting.compare import plot_comparison
from segml.plotting.drift import PSI_THRESHOLDS, plot_drift, plot_segment_drift
from segml.plotting.revenue import plot_pareto, plot_rfm_grid
from segml.plotting.segments import plot_profile_heatmap, plot_projection, plot_segment_shares
from segml.plotting.selection import K_PANELS, plot_k_selection, plot_silhouette

__all__ = [
    "PSI_THRESHOLDS",
    "K_PANELS",
    "plot_k_selection",
    "plot_silhouette",
    "plot_profile_heatmap",
    "plot_projection",
    "plot_segment_shares",
    "plot_pareto",
    "plot_rfm_grid",
    "plot_comparison",
    "plot_drift",
    "plot_segment_drift",
]

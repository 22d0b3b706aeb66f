"""The segments themselves: profile heatmap, map of customers, size and revenue shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError
from segml.plotting._base import (
    axes_or_new,
    color_ticklabels,
    expect,
    heatmap,
    names_map,
    tick_label,
)
from segml.projection import segment_colors

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from segml.cluster import ProfileResult
    from segml.projection import ProjectionResult, SegmentSharesResult

__all__ = ["plot_profile_heatmap", "plot_projection", "plot_segment_shares"]

_VALUES = {"lift": ("ratio", 1.0), "zscores": ("z", 0.0)}


def plot_profile_heatmap(
    profiles: ProfileResult, ax: Axes | None = None, *, value: str = "lift",
    features: Any = None, names: Any = None,
) -> Axes:
    """Draw segments x features as a heatmap of lift (centred on 1) or z-scores (on 0).

    Parameters
    ----------
    profiles : segml.cluster.ProfileResult
        From :func:`segml.cluster.profile_segments` (or ``.profiles`` of
        :func:`segml.segment`): ``lift`` is tidy (``segment``, ``feature``, ``ratio``,
        ``z``; features keep their order) and ``names`` maps segment id -> name.
    ax : Axes or None, default=None
    value : {"lift", "zscores"}, default="lift"
    features : list of str or None, default=None
        Columns to show, in this order (default: all).
    names : mapping or list or None, default=None
        Segment id -> name (default ``profiles.names``).

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the matrix (rows = segments ascending); cells are annotated.

    Raises
    ------
    TypeError
        ``profiles`` is not a ``ProfileResult``.
    ConfigError
        Unknown ``value`` or feature.
    """
    expect(profiles, "ProfileResult", "plot_profile_heatmap")
    if value not in _VALUES:
        raise ConfigError(f"value={value!r} should be 'lift' or 'zscores'.")
    column, center = _VALUES[value]
    lift = profiles.lift
    order = list(dict.fromkeys(lift["feature"]))
    table = lift.pivot(index="segment", columns="feature", values=column)[order]
    if features is not None:
        unknown = [f for f in features if f not in table.columns]
        if unknown:
            raise ConfigError(
                f"plot_profile_heatmap: unknown feature(s) {unknown}; "
                f"available: {list(table.columns)[:10]}. Fix: pass features= from these."
            )
        table = table[list(features)]
    from matplotlib.colors import TwoSlopeNorm

    arr = table.to_numpy(dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    spread = float(np.max(np.abs(finite - center))) if finite.size else 1.0
    spread = spread if spread > 0 else 1.0
    norm = TwoSlopeNorm(vcenter=center, vmin=center - spread, vmax=center + spread)
    ax = axes_or_new(ax, (max(6.4, 0.55 * table.shape[1] + 2.5), 0.45 * table.shape[0] + 2.0))
    heatmap(ax, table, cmap="RdBu_r", norm=norm)
    shown = names_map(profiles.names if names is None else names)
    segs = list(table.index)
    ax.set_yticks(np.arange(len(segs)), [tick_label(s, shown) for s in segs])
    color_ticklabels(ax.get_yticklabels(), segs)
    ax.set_xticks(np.arange(table.shape[1]), [str(c) for c in table.columns], rotation=60,
                  ha="right", fontsize=8)
    ax.set_title("Segment profiles: " + ("lift vs. all customers" if center == 1.0
                                          else "z-score vs. all customers"), fontsize=10)
    return ax


def plot_projection(
    projection: ProjectionResult, ax: Axes | None = None, *, names: Any = None
) -> Axes:
    """Scatter customers on the first two principal components, with centroids.

    Parameters
    ----------
    projection : segml.projection.ProjectionResult
        From :func:`segml.projection.project_2d`: ``coords`` (``pc1``, ``pc2``,
        ``segment``), ``centers`` (``pc1``, ``pc2`` by segment id) and
        ``explained_variance_ratio``.
    ax : Axes or None, default=None
    names : mapping or list or None, default=None
        Segment id -> name for the legend.

    Returns
    -------
    Axes
        One scatter per segment (ascending id, its colour) in ``ax.collections``, then one for
        the centroids (marker "X", black edge).

    Raises
    ------
    TypeError
        ``projection`` is not a ``ProjectionResult``.
    """
    expect(projection, "ProjectionResult", "plot_projection")
    coords, centers = projection.coords, projection.centers
    evr = np.asarray(projection.explained_variance_ratio)
    ax = axes_or_new(ax, (6.4, 5.0))
    shown = names_map(names)
    segs = sorted(set(pd.unique(coords["segment"]).tolist()) | set(centers.index.tolist()))
    colors = segment_colors(segs)
    for s in segs:
        pts = coords[coords["segment"] == s]
        ax.scatter(pts["pc1"].to_numpy(), pts["pc2"].to_numpy(), s=6, alpha=0.45,
                   color=colors[s], linewidths=0, label=tick_label(s, shown), rasterized=True)
    ax.scatter(centers["pc1"].to_numpy(), centers["pc2"].to_numpy(), marker="X", s=160,
               c=[colors[s] for s in centers.index], edgecolors="black", linewidths=1.2,
               zorder=5, label="centroids")
    for s, row in centers.iterrows():
        ax.annotate(str(s), (row["pc1"], row["pc2"]), xytext=(6, 6),
                    textcoords="offset points", fontsize=9, fontweight="bold")
    ax.set_xlabel(f"PC1 ({evr[0]:.1%} of variance)")
    ax.set_ylabel(f"PC2 ({evr[1]:.1%} of variance)")
    ax.set_title("Customers on the first two principal components", fontsize=10)
    ax.legend(fontsize=7, markerscale=2, loc="best")
    return ax


def plot_segment_shares(shares: SegmentSharesResult, ax: Axes | None = None) -> Axes:
    """Draw side-by-side bars: each segment's share of customers and share of revenue.

    Parameters
    ----------
    shares : segml.projection.SegmentSharesResult
        From :func:`segml.projection.segment_shares`: ``table`` indexed by segment with
        ``name``, ``customer_share``, ``revenue_share`` and ``color``.
    ax : Axes or None, default=None

    Returns
    -------
    Axes
        ``ax.patches``: first the customer-share bars (solid), then the revenue-share bars
        (hatched), both in segment order and colour. Revenue bars are omitted when the revenue
        share is unknown.

    Raises
    ------
    TypeError
        ``shares`` is not a ``SegmentSharesResult``.
    """
    expect(shares, "SegmentSharesResult", "plot_segment_shares")
    table = shares.table
    ax = axes_or_new(ax, (max(6.4, 0.9 * len(table) + 2), 4.2))
    x = np.arange(len(table))
    colors = list(table["color"])
    has_rev = table["revenue_share"].notna().any()
    width = 0.4 if has_rev else 0.7
    ax.bar(x - (width / 2 if has_rev else 0), table["customer_share"].to_numpy(float), width,
           color=colors, edgecolor="black", linewidth=0.5, label="customers")
    if has_rev:
        ax.bar(x + width / 2, table["revenue_share"].fillna(0).to_numpy(float), width,
               color=colors, edgecolor="black", linewidth=0.5, hatch="//", alpha=0.6,
               label="revenue")
    labels = [f"{i}: {n}" if str(n) != str(i) else str(i)
              for i, n in zip(table.index, table["name"], strict=True)]
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    color_ticklabels(ax.get_xticklabels(), list(table.index))
    ax.set_ylabel("share")
    ax.set_title("Segment size and revenue share" if has_rev else "Segment size", fontsize=10)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="#dddddd", edgecolor="black", label="customers")]
    if has_rev:
        handles.append(Patch(facecolor="#dddddd", edgecolor="black", hatch="//", label="revenue"))
    ax.legend(handles=handles, fontsize=8)
    return ax

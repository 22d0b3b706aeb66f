"""Where the revenue is: the Pareto (ABC) curve and the RFM grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from segml.errors import ConfigError
from segml.plotting._base import axes_or_new, expect, heatmap
from segml.projection import ABC_COLORS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from segml.features import ParetoResult
    from segml.projection import RFMGridResult

__all__ = ["plot_pareto", "plot_rfm_grid"]

_GRID_VALUES = {"counts": ("{:,.0f}", "customers"), "revenue": ("{:,.0f}", "revenue"),
                "revenue_share": ("{:.1%}", "share of revenue")}


def plot_pareto(
    pareto: ParetoResult, ax: Axes | None = None, *, abc_cuts: tuple[float, float] = (0.2, 0.5)
) -> Axes:
    """Draw the revenue-concentration (Pareto) curve over the ABC bands.

    Parameters
    ----------
    pareto : segml.features.ParetoResult
        From :func:`segml.features.pareto` (or ``.run.pareto`` of :func:`segml.segment`):
        ``curve`` (``customer_share``, ``revenue_share``), ``top20_share`` and ``gini``.
    ax : Axes or None, default=None
    abc_cuts : (float, float), default=(0.2, 0.5)
        Customer shares where class A ends and class B ends (the domain's 20 % / 30 % / 50 %),
        shaded in :data:`segml.projection.ABC_COLORS`.

    Returns
    -------
    Axes
        ``ax.lines[0]`` is the curve, ``ax.lines[1]`` the equality diagonal; three shaded
        bands (A, B, C) are in ``ax.patches``.

    Raises
    ------
    TypeError
        ``pareto`` is not a ``ParetoResult``.
    ConfigError
        When the cuts are not ``0 < a < b < 1``.
    """
    expect(pareto, "ParetoResult", "plot_pareto")
    a, b = abc_cuts
    if not 0 < a < b < 1:
        raise ConfigError(f"abc_cuts={abc_cuts!r} should satisfy 0 < A-cut < B-cut < 1.")
    curve = pareto.curve
    ax = axes_or_new(ax)
    ax.plot(curve["customer_share"].to_numpy(float), curve["revenue_share"].to_numpy(float),
            color="black", linewidth=1.8, label="cumulative revenue share")
    ax.plot([0, 1], [0, 1], color="#888888", linestyle="--", linewidth=1, label="equal revenue")
    for lo, hi, level in ((0, a, "A"), (a, b, "B"), (b, 1, "C")):
        ax.axvspan(lo, hi, color=ABC_COLORS[level], alpha=0.25, linewidth=0,
                   label=f"class {level}")
    top = float(pareto.top20_share)
    ax.scatter([0.2], [top], color="black", zorder=3)
    ax.annotate(f"top 20% = {top:.0%} of revenue", (0.2, top), xytext=(10, -14),
                textcoords="offset points", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("share of customers (largest first)")
    ax.set_ylabel("share of revenue")
    ax.set_title(f"Revenue concentration (ABC / Pareto), Gini {float(pareto.gini):.2f}",
                 fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_rfm_grid(grid: RFMGridResult, ax: Axes | None = None, *, value: str = "counts") -> Axes:
    """Heatmap of customers (or revenue share) by recency score x frequency score.

    Parameters
    ----------
    grid : segml.projection.RFMGridResult
        From :func:`segml.projection.rfm_grid`: ``counts``, ``revenue`` and
        ``revenue_share`` (rows ``r_score``, columns ``f_score``).
    ax : Axes or None, default=None
    value : {"counts", "revenue", "revenue_share"}, default="counts"

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the grid with ``r_score`` 1 at the bottom (``origin="lower"``).

    Raises
    ------
    TypeError
        ``grid`` is not an ``RFMGridResult``.
    ConfigError
        Unknown ``value``.
    """
    expect(grid, "RFMGridResult", "plot_rfm_grid")
    if value not in _GRID_VALUES:
        raise ConfigError(
            f"value={value!r} should be 'counts', 'revenue' or 'revenue_share'."
        )
    fmt, what = _GRID_VALUES[value]
    ax = axes_or_new(ax, (5.6, 4.6))
    heatmap(ax, getattr(grid, value), cmap="YlGnBu", fmt=fmt, origin="lower")
    ax.set_xlabel("frequency score (f_score)")
    ax.set_ylabel("recency score (r_score)")
    ax.set_title(f"RFM grid: {what}", fontsize=10)
    return ax

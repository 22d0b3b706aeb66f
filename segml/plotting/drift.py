"""Drift of a new batch against the model's training data: features (PSI) and segment shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from segml.plotting._base import (
    axes_or_new,
    color_ticklabels,
    expect,
    names_map,
    tick_label,
)
from segml.projection import segment_colors

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from segml.monitoring import DriftReport

__all__ = ["PSI_THRESHOLDS", "plot_drift", "plot_segment_drift"]

#: PSI below the first value is "stable", above the second "shifted" (industry convention).
PSI_THRESHOLDS = (0.1, 0.25)


def plot_drift(
    drift: DriftReport, ax: Axes | None = None, *,
    thresholds: tuple[float, float] = PSI_THRESHOLDS,
) -> Axes:
    """Horizontal bars of the population stability index (PSI) per feature.

    Parameters
    ----------
    drift : segml.monitoring.DriftReport
        From :func:`segml.monitoring.drift_report`: ``features`` (``feature``, ``psi``),
        drawn in the order given (worst first).
    ax : Axes or None, default=None
    thresholds : (float, float), default=(0.1, 0.25)
        Bars below the first are green (stable), between amber, above red (shifted).

    Returns
    -------
    Axes
        One bar per feature in ``ax.patches`` (top to bottom = order given), two threshold lines.

    Raises
    ------
    TypeError
        ``drift`` is not a ``DriftReport``.
    """
    expect(drift, "DriftReport", "plot_drift")
    psi = drift.features.set_index("feature")["psi"].astype("float64")
    ax = axes_or_new(ax, (6.4, 0.3 * len(psi) + 1.8))
    lo, hi = thresholds
    colors = ["#1a9850" if v < lo else "#fdae61" if v < hi else "#d73027"
              for v in psi.fillna(0).to_numpy()]
    y = np.arange(len(psi))[::-1]
    ax.barh(y, psi.fillna(0).to_numpy(), color=colors, edgecolor="black", linewidth=0.4)
    ax.set_yticks(y, [str(i) for i in psi.index], fontsize=8)
    ax.axvline(lo, color="#fdae61", linestyle="--", linewidth=1, label=f"PSI {lo}")
    ax.axvline(hi, color="#d73027", linestyle="--", linewidth=1, label=f"PSI {hi}")
    ax.set_xlabel("population stability index")
    ax.set_title("Feature drift since training", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_segment_drift(
    drift: DriftReport, ax: Axes | None = None, *, names: Any = None
) -> Axes:
    """Side-by-side bars of each segment's share at training time and now.

    Parameters
    ----------
    drift : segml.monitoring.DriftReport
        From :func:`segml.monitoring.drift_report`: ``segments`` (``segment_id``,
        ``segment_name``, ``train_share``, ``new_share``).
    ax : Axes or None, default=None
    names : mapping or list or None, default=None
        Segment id -> name (default: the report's ``segment_name``).

    Returns
    -------
    Axes
        ``ax.patches``: training bars (hatched) then current bars, in segment order and colour.

    Raises
    ------
    TypeError
        ``drift`` is not a ``DriftReport``.
    """
    expect(drift, "DriftReport", "plot_segment_drift")
    table = drift.segments.sort_values("segment_id").set_index("segment_id")
    ax = axes_or_new(ax)
    segs = [int(s) for s in table.index]
    colors = segment_colors(segs)
    cols = [colors[s] for s in segs]
    x = np.arange(len(segs))
    ax.bar(x - 0.2, table["train_share"].to_numpy(float), 0.4, color=cols, alpha=0.5,
           hatch="//", edgecolor="black", linewidth=0.5, label="at training")
    ax.bar(x + 0.2, table["new_share"].to_numpy(float), 0.4, color=cols, edgecolor="black",
           linewidth=0.5, label="now")
    shown = names_map(table["segment_name"] if names is None else names)
    ax.set_xticks(x, [tick_label(s, shown) for s in segs], rotation=30, ha="right", fontsize=8)
    color_ticklabels(ax.get_xticklabels(), segs)
    ax.set_ylabel("share of customers")
    ax.set_title("Segment shares: training vs now", fontsize=10)
    ax.legend(fontsize=8)
    return ax

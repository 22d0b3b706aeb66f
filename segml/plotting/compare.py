"""Clusters against rule segments: the contingency heatmap."""

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

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from segml.rules import ComparisonResult

__all__ = ["plot_comparison"]

_FORMATS = {"row_shares": "{:.0%}", "col_shares": "{:.0%}", "revenue_shares": "{:.1%}",
            "counts": "{:,.0f}", "lift": "{:.2f}"}


def plot_comparison(
    comparison: ComparisonResult, ax: Axes | None = None, *, value: str = "row_shares",
    names: Any = None, title: str | None = None,
) -> Axes:
    """Heatmap of clusters (rows) against rule segments (columns).

    Parameters
    ----------
    comparison : segml.rules.ComparisonResult
        From :func:`segml.rules.compare_segmentations` (or ``.compare_rules(name)`` of
        :func:`segml.segment`): ``counts``, ``row_shares``, ``col_shares``, ``lift``,
        ``revenue_shares``, ``scores`` and ``names`` (the two segmentations' names).
    ax : Axes or None, default=None
    value : {"row_shares", "col_shares", "counts", "lift", "revenue_shares"}, \
default="row_shares"
        What colours the cells; cells always show the value drawn (``"shares"`` is an alias
        of ``"row_shares"``).
    names : mapping or list or None, default=None
        Cluster id -> name. Rows may be cluster ids or cluster names (the pipeline compares
        named clusters): either way they get their segment's colour when ``names`` is given.
    title : str or None, default=None
        Title (default: "Clusters vs <second name> (ARI ...)").

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the matrix; x tick labels are the rule segments.

    Raises
    ------
    TypeError
        ``comparison`` is not a ``ComparisonResult``.
    ConfigError
        Unknown ``value``, or ``revenue_shares`` of a comparison made without features.
    """
    expect(comparison, "ComparisonResult", "plot_comparison")
    key = "row_shares" if value == "shares" else value
    if key not in _FORMATS:
        raise ConfigError(f"value={value!r} should be one of {sorted(_FORMATS)}.")
    table = getattr(comparison, key)
    if table is None:
        raise ConfigError(
            f"plot_comparison: value={value!r} is not available: the comparison was made "
            "without features. Fix: pass the feature frame to compare_segmentations, or "
            "choose value='row_shares'."
        )
    table = pd.DataFrame(table)
    ax = axes_or_new(ax, (max(6.4, 0.7 * table.shape[1] + 3), 0.45 * table.shape[0] + 2.2))
    heatmap(ax, table, cmap="Purples", fmt=_FORMATS[key])
    shown = names_map(names)
    rows = list(table.index)
    ax.set_yticks(np.arange(len(rows)), [tick_label(s, shown) for s in rows])
    color_ticklabels(ax.get_yticklabels(), rows, shown)
    ax.set_xticks(np.arange(table.shape[1]), [str(c) for c in table.columns], rotation=40,
                  ha="right", fontsize=8)
    ax.set_xlabel("rule segment")
    ax.set_ylabel("cluster")
    if title is None:
        title = f"Clusters vs {comparison.names[1]}"
        ari = comparison.scores.get("ari")
        if ari is not None:
            title += f" (ARI {float(ari):.2f})"
    ax.set_title(title, fontsize=10)
    return ax

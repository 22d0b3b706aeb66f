"""Choice of k and validation: the k sweep's six panels and the silhouette per segment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError
from segml.plotting._base import (
    axes_or_new,
    color_ticklabels,
    expect,
    figure,
    names_map,
    tick_label,
)
from segml.projection import segment_colors

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from segml.cluster import SelectKResult, ValidationResult

__all__ = ["K_PANELS", "plot_k_selection", "plot_silhouette"]

_FULL = "silhouette_sqeuclidean_full"
_SAMPLE = "silhouette_euclidean_sample"
#: The six panels of :func:`plot_k_selection`: (title, columns drawn).
K_PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Silhouette", (_FULL, _SAMPLE)),
    ("Calinski-Harabasz (higher is better)", ("calinski_harabasz",)),
    ("Davies-Bouldin (lower is better)", ("davies_bouldin",)),
    ("BIC / AIC (lower is better)", ("bic", "aic")),
    ("Inertia (knee marked)", ("inertia",)),
    ("Stability (bootstrap ARI)", ("stability_ari_mean",)),
)
_CONFIG_COLORS = ("#000000", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def plot_k_selection(result: SelectKResult, axes: Any = None) -> np.ndarray:
    """Draw the k sweep: silhouettes, CH, DB, BIC/AIC, inertia with its knee, stability.

    One line per (algorithm, covariance type) configuration; the silhouette panel has the exact
    squared-Euclidean silhouette (solid) and the sampled Euclidean one (dashed, with its
    bootstrap interval shaded); rows flagged ``too_small`` are marked with a cross; the
    recommended k is a vertical dotted line on every panel. A panel whose criterion was not
    computed says so.

    Parameters
    ----------
    result : segml.cluster.SelectKResult
        From :func:`segml.cluster.select_k` (or ``.selection`` of :func:`segml.segment`):
        ``table`` (columns ``algorithm``, ``covariance_type``, ``k`` and the criteria) and
        ``recommended`` (``k``).
    axes : None, matplotlib Figure, or sequence of 6 Axes, default=None
        Where to draw: None makes a new 2x3 Figure, a Figure gets 2x3 subplots added, a sequence
        (or array) of at least six Axes is used in :data:`K_PANELS` order.

    Returns
    -------
    numpy.ndarray of Axes
        The six panels, in :data:`K_PANELS` order.

    Raises
    ------
    TypeError
        ``result`` is not a ``SelectKResult``.
    ConfigError
        When ``axes`` holds fewer than six Axes or ``table`` lacks ``k``.
    """
    expect(result, "SelectKResult", "plot_k_selection")
    table = result.table
    if "k" not in table.columns or "algorithm" not in table.columns:
        raise ConfigError(
            f"plot_k_selection: table needs columns 'algorithm' and 'k', got "
            f"{list(table.columns)[:8]}."
        )
    if axes is None:
        axes = figure((13.0, 7.0)).subplots(2, 3)
    elif hasattr(axes, "add_subplot") and hasattr(axes, "subplots"):
        axes = axes.subplots(2, 3)
    panels = np.asarray(axes, dtype=object).ravel()
    if panels.shape[0] < len(K_PANELS):
        raise ConfigError(
            f"plot_k_selection needs {len(K_PANELS)} Axes, got {panels.shape[0]}."
        )
    panels = panels[: len(K_PANELS)]
    rec = result.recommended or {}
    rec_k = rec.get("k")
    cov = table["covariance_type"] if "covariance_type" in table else pd.Series(None, table.index)
    config = [
        f"{a}/{c}" if isinstance(c, str) and a == "gmm" else str(a)
        for a, c in zip(table["algorithm"], cov, strict=True)
    ]
    tbl = table.assign(_config=config)
    groups = list(dict.fromkeys(config))
    from matplotlib.ticker import MaxNLocator

    for ax, (title, cols) in zip(panels, K_PANELS, strict=True):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("k")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # k is a whole number
        drawn = False
        for gi, g in enumerate(groups):
            sub = tbl[tbl["_config"] == g].sort_values("k")
            color = _CONFIG_COLORS[gi % len(_CONFIG_COLORS)]
            for ci, col in enumerate(cols):
                if col not in sub or sub[col].isna().all():
                    continue
                s = sub.dropna(subset=[col])
                style = "-" if ci == 0 else "--"
                label = g if len(cols) == 1 else f"{g} {_short(col)}"
                ax.plot(s["k"].to_numpy(), s[col].to_numpy(dtype=np.float64), style,
                        marker="o", ms=3, color=color, label=label)
                drawn = True
                if col == _SAMPLE and f"{_SAMPLE}_ci_low" in s:
                    ax.fill_between(s["k"].to_numpy(), s[f"{_SAMPLE}_ci_low"].to_numpy(float),
                                    s[f"{_SAMPLE}_ci_high"].to_numpy(float), color=color,
                                    alpha=0.15, linewidth=0)
                if col == "inertia" and "inertia_knee" in s:
                    knee = s[s["inertia_knee"].astype(bool)]
                    if not knee.empty:
                        ax.scatter(knee["k"].to_numpy(), knee[col].to_numpy(float), s=90,
                                   facecolors="none", edgecolors=color, linewidths=1.5,
                                   zorder=3, label=f"{g} knee")
                if ci == 0 and "too_small" in s and s["too_small"].astype(bool).any():
                    small = s[s["too_small"].astype(bool)]
                    ax.scatter(small["k"].to_numpy(), small[col].to_numpy(float), marker="x",
                               s=40, color="#d62728", zorder=4)
        if not drawn:
            ax.text(0.5, 0.5, "not computed", ha="center", va="center",
                    transform=ax.transAxes, color="#777777")
            continue
        if rec_k is not None:
            ax.axvline(rec_k, color="#555555", linestyle=":", linewidth=1.2,
                       label=f"recommended k={rec_k}")
        ax.legend(fontsize=7, loc="best")
    return panels


def _short(col: str) -> str:
    return {_FULL: "sqeuclid (all rows)", _SAMPLE: "euclid (sample)", "aic": "AIC",
            "bic": "BIC"}.get(col, col)


def _short(col: str) -> str:
    return {_FULL: "sqeuclid (all rows)", _SAMPLE: "euclid (sample)", "aic": "AIC",
            "bic": "BIC"}.get(col, col)


def plot_silhouette(
    validation: ValidationResult, ax: Axes | None = None, *, labels: Any,
    names: Any = None,
) -> Axes:
    """Draw the classic silhouette plot: each segment's per-customer values, sorted.

    Parameters
    ----------
    validation : segml.cluster.ValidationResult
        From :func:`segml.cluster.validate_segments` (or ``.validation`` of
        :func:`segml.segment`): per-customer ``silhouette_values`` and the overall mean
        ``overall["silhouette_sqeuclidean_full"]`` (drawn as a dashed line when present).
    ax : Axes or None, default=None
    labels : array-like
        Segment of each value, in the same order (``RunResult.labels``; the validation
        result keeps no labels).
    names : mapping or list or None, default=None
        Segment id -> name for the tick labels.

    Returns
    -------
    Axes
        One filled polygon per segment (``ax.collections``, ascending segment), in its colour.

    Raises
    ------
    TypeError
        ``validation`` is not a ``ValidationResult``.
    ConfigError
        Values and labels of different lengths.
    """
    expect(validation, "ValidationResult", "plot_silhouette")
    values = np.asarray(validation.silhouette_values, dtype=np.float64).ravel()
    lab = np.asarray(labels).ravel()
    if lab.shape[0] != values.shape[0]:
        raise ConfigError(
            f"plot_silhouette: {values.shape[0]} silhouette values but {lab.shape[0]} labels. "
            "Fix: pass labels= of the customers the validation was computed on "
            "(RunResult.labels)."
        )
    ax = axes_or_new(ax, (6.4, 5.0))
    shown = names_map(names)
    segs = sorted(pd.unique(lab).tolist())
    colors = segment_colors(segs)
    y0 = 0
    ticks = []
    for s in segs:
        v = np.sort(values[lab == s])
        y = np.arange(y0, y0 + v.shape[0])
        ax.fill_betweenx(y, 0, v, color=colors[s], alpha=0.85, linewidth=0,
                         label=tick_label(s, shown))
        ticks.append(y0 + v.shape[0] / 2)
        y0 += v.shape[0] + max(1, len(values) // 100)
    overall = (validation.overall or {}).get(_FULL)
    if overall is not None:
        ax.axvline(float(overall), color="#d62728", linestyle="--", linewidth=1,
                   label=f"mean {float(overall):.3f}")
    ax.set_yticks(ticks, [tick_label(s, shown) for s in segs])
    color_ticklabels(ax.get_yticklabels(), segs)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("silhouette")
    ax.set_title("Silhouette per segment", fontsize=10)
    return ax

"""Plots of a :class:`~segml.backtest.BacktestResult` (matplotlib is imported lazily).

Each function takes the result, draws on ``ax`` (a new figure when None) and returns the
axes; none computes a metric or draws a random number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segml.errors import ConfigError

__all__ = ["plot_validity", "plot_validity_over_time", "plot_stability", "plot_migration",
           "plot_segment_rates"]

_BASE_COLOR = "0.6"


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _check_metric(result: Any, metric: str) -> None:
    have = sorted(set(result.overall["metric"]))
    if metric not in have:
        raise ConfigError(f"no metric {metric!r} in this backtest. Fix: use one of "
                          f"{', '.join(have)}.")


def plot_validity(result: Any, metric: str = "auc_bought_again", ax: Any = None) -> Any:
    """Draw each segmenter's and predictor's mean over cutoffs with its 95% interval.

    Parameters
    ----------
    result : BacktestResult
    metric : str, default "auc_bought_again"
        A metric of ``result.overall``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_metric(result, metric)
    ax = _axes(ax, (6, 3.5))
    t = result.overall[result.overall["metric"] == metric].dropna(subset=["value"])
    t = t.iloc[::-1]
    y = np.arange(len(t))
    lo = (t["value"] - t["lo"]).clip(lower=0).fillna(0).to_numpy()
    hi = (t["hi"] - t["value"]).clip(lower=0).fillna(0).to_numpy()
    colors = [_BASE_COLOR if n in ("none", "recency_deciles") else "C0" for n in t["name"]]
    ax.errorbar(t["value"], y, xerr=[lo, hi], fmt="none", ecolor="0.3", capsize=3)
    ax.scatter(t["value"], y, c=colors, zorder=3)
    ax.set_yticks(y, t["name"].tolist())
    ax.set_xlabel(f"{metric} (mean over cutoffs, 95% bootstrap interval)")
    ax.set_title("Predictive validity")
    return ax


def plot_validity_over_time(result: Any, metric: str = "auc_bought_again",
                            ax: Any = None) -> Any:
    """Draw the metric at each cutoff, one line per name, intervals as bands.

    Parameters
    ----------
    result : BacktestResult
    metric : str, default "auc_bought_again"
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_metric(result, metric)
    ax = _axes(ax, (7, 3.5))
    v = result.validity[result.validity["metric"] == metric]
    for i, (name, g) in enumerate(v.groupby("name", sort=False)):
        if g["value"].isna().all():
            continue
        color = _BASE_COLOR if name in ("none", "recency_deciles") else f"C{i % 10}"
        style = "--" if name in ("none", "recency_deciles") else "-"
        ax.plot(g["cutoff"], g["value"], style, marker="o", color=color, label=name)
        if g["lo"].notna().any():
            ax.fill_between(g["cutoff"], g["lo"], g["hi"], color=color, alpha=0.15)
    ax.set_ylabel(metric)
    ax.set_xlabel("cutoff")
    ax.set_title(f"{metric} by cutoff")
    ax.legend(fontsize="small")
    return ax


def plot_stability(result: Any, measure: str = "ari", ax: Any = None) -> Any:
    """Draw ARI, PSI or centroid drift between consecutive cutoffs, one line per segmenter.

    The legend gives each segmenter's number of segments over the cutoffs (``k=4-6``): ARI
    is only comparable between segmentations of similar k.

    Parameters
    ----------
    result : BacktestResult
    measure : {"ari", "psi", "centroid_drift"}, default "ari"
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if measure not in ("ari", "psi", "centroid_drift"):
        raise ConfigError(f"measure={measure!r} should be 'ari', 'psi' or 'centroid_drift'.")
    ax = _axes(ax, (7, 3.5))
    s = result.stability
    for i, (name, g) in enumerate(s.groupby("segmenter", sort=False)):
        if g[measure].isna().all() or name == "none":
            continue
        k = sorted({*g["k_from"], *g["k_to"]}) if "k_from" in g else []
        ks = "" if not k else f" (k={k[0]})" if len(k) == 1 else f" (k={k[0]}-{k[-1]})"
        ax.plot(g["to"], g[measure], marker="o", color=f"C{i % 10}", label=f"{name}{ks}")
    ax.set_xlabel("later cutoff of the pair")
    ax.set_ylabel(measure)
    ax.set_title(f"Stability between consecutive cutoffs: {measure}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return ax


def plot_migration(result: Any, segmenter: str, step: int = 0, ax: Any = None) -> Any:
    """Draw where each segment's customers went from cutoff ``step`` to the next (row shares).

    Parameters
    ----------
    result : BacktestResult
    segmenter : str
    step : int, default 0
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    m = result.migration(segmenter, step, normalize="index")
    ax = _axes(ax, (1.2 + 0.5 * len(m.columns), 1.0 + 0.4 * len(m.index)))
    data = m.to_numpy(dtype="float64")
    ax.imshow(np.nan_to_num(data), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(m.columns)), [str(c) for c in m.columns], rotation=45, ha="right")
    ax.set_yticks(range(len(m.index)), [str(c) for c in m.index])
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v) and v >= 0.005:
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 else "black")
    c0, c1 = result.cutoffs[step], result.cutoffs[step + 1]
    ax.set_xlabel(f"segment at {c1.date()}")
    ax.set_ylabel(f"segment at {c0.date()}")
    ax.set_title(f"{segmenter}: migration (row shares)")
    return ax


def plot_segment_rates(result: Any, segmenter: str, cutoff: Any = None, ax: Any = None) -> Any:
    """Draw the purchase-again rate per segment in the window after one cutoff.

    Parameters
    ----------
    result : BacktestResult
    segmenter : str
    cutoff : date-like, optional
        Default: the last cutoff.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import pandas as pd

    c = result.cutoffs[-1] if cutoff is None else pd.Timestamp(cutoff)
    seg = result.segments[(result.segments["segmenter"] == segmenter)
                          & (result.segments["cutoff"] == c)]
    if seg.empty:
        raise ConfigError(f"no segments of {segmenter!r} at {c.date()} in this backtest; "
                          f"segmenters: {', '.join(result.segmenters)}, cutoffs: "
                          f"{', '.join(str(x.date()) for x in result.cutoffs)}.")
    ax = _axes(ax, (6, 3.5))
    ax.bar([str(s) for s in seg["segment"]], seg["bought_again_rate"], color="C0")
    ax.set_ylabel("bought again in the window")
    ax.set_title(f"{segmenter}: purchase-again rate after {c.date()}")
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():  # anchored at the tick's right end: long names
        label.set_horizontalalignment("right")  # do not overlap their neighbours
        label.set_rotation_mode("anchor")
    return ax

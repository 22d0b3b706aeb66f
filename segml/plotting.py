"""Plots of segml's result objects (matplotlib, imported lazily).

Every function takes a result object and ``ax=None``, draws on that Axes only (a new
:class:`matplotlib.figure.Figure` when ``ax`` is None; pyplot's global state is never touched, so
it works headless with the Agg backend) and returns the Axes. Nothing is computed here: the
numbers come from the result objects (:mod:`segml.projection` computes what no other layer
does), and every segment has the colour :func:`segml.projection.segment_colors` gives it, in
every figure.

Result objects are read by attribute (duck typing), so any object with the documented attributes
works; nothing is imported from the layers that produce them.

=============================  ===========================================================
function                       consumes
=============================  ===========================================================
:func:`plot_k_selection`       ``SelectKResult`` (``table``, ``recommended``)
:func:`plot_silhouette`        ``ValidationResult`` or ``SilhouetteResult`` + labels
:func:`plot_profile_heatmap`   ``ProfileResult`` (``lift`` / ``zscores``, ``names``)
:func:`plot_projection`        ``ProjectionResult`` (:func:`segml.projection.project_2d`)
:func:`plot_segment_shares`    ``SegmentSharesResult`` (:func:`segml.projection.segment_shares`)
:func:`plot_pareto`            ``ParetoResult`` (``curve``, ``top20_share``, ``gini``)
:func:`plot_rfm_grid`          ``RFMGridResult`` (:func:`segml.projection.rfm_grid`)
:func:`plot_comparison`        ``ComparisonResult`` (``counts``, ``shares``)
:func:`plot_drift`             drift report (``psi``)
:func:`plot_segment_drift`     drift report (``segment_shares``)
=============================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError
from segml.projection import ABC_COLORS, segment_colors

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PSI_THRESHOLDS",
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

#: PSI below the first value is "stable", above the second "shifted" (industry convention).
PSI_THRESHOLDS = (0.1, 0.25)

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
_DPI = 100


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _figure(figsize: tuple[float, float]) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError(
            "segml.plotting needs matplotlib; install it with `pip install matplotlib`."
        ) from exc
    return Figure(figsize=figsize, dpi=_DPI, layout="constrained")


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.2)) -> Axes:
    if ax is not None:
        return ax
    return _figure(figsize).add_subplot()


def _attr(obj: Any, names: Sequence[str], what: str) -> Any:
    """First attribute of ``obj`` found among ``names`` that is not None."""
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    raise ConfigError(
        f"{what}: {type(obj).__name__} has none of the attributes {list(names)}; "
        "pass the result object the function documents."
    )


def _names_of(obj: Any, names: Any) -> dict[Any, str]:
    """Segment id -> display name from an explicit mapping/list or ``obj.names``."""
    if names is None:
        for attr in ("names", "segment_names"):
            names = getattr(obj, attr, None)
            if names is not None:
                break
    if names is None or isinstance(names, tuple):  # a tuple names two segmentations
        return {}
    if isinstance(names, pd.Series):
        return {k: str(v) for k, v in names.items()}
    if isinstance(names, Mapping):
        return {k: str(v) for k, v in names.items()}
    return {i: str(v) for i, v in enumerate(names)}


def _label(seg: Any, names: Mapping[Any, str]) -> str:
    name = names.get(seg)
    if name is None and isinstance(seg, int | np.integer):
        return f"segment {int(seg)}"
    return f"{seg}: {name}" if name is not None and name != str(seg) else str(seg)


def _tick_colors(keys: Sequence[Any], names: Mapping[Any, str] | None = None) -> dict[Any, str]:
    """Colour of each tick key: segment ids, names of segment ids (via ``names``), ABC levels.

    Keys that are none of these (e.g. rule-segment names) get no colour rather than a
    misleading one.
    """
    keys = list(keys)
    if not keys:
        return {}
    if all(isinstance(k, int | np.integer) and not isinstance(k, bool) for k in keys):
        return {int(k): c for k, c in segment_colors(keys).items()}
    if names:
        by_name = segment_colors({k: v for k, v in names.items()
                                  if isinstance(k, int | np.integer)}) if any(
            isinstance(k, int | np.integer) for k in names) else {}
        if all(str(k) in by_name for k in keys):
            return {k: by_name[str(k)] for k in keys}
    if all(str(k) in ("A", "B", "C", "none") for k in keys):
        return segment_colors([str(k) for k in keys])
    return {}


def _color_ticklabels(
    labels: Sequence[Any], keys: Sequence[Any], names: Mapping[Any, str] | None = None
) -> None:
    colors = _tick_colors(keys, names)
    for text, key in zip(labels, keys, strict=False):
        k = int(key) if isinstance(key, int | np.integer) else key
        if k in colors:
            text.set_color(colors[k])
            text.set_fontweight("bold")


def _heatmap(
    ax: Axes, values: pd.DataFrame, *, cmap: str, norm: Any = None, fmt: str = "{:.2f}",
    annotate: pd.DataFrame | None = None, origin: str = "upper",
) -> None:
    arr = values.to_numpy(dtype=np.float64)
    im = ax.imshow(arr, cmap=cmap, norm=norm, aspect="auto", origin=origin,
                   interpolation="nearest")
    ax.set_xticks(np.arange(arr.shape[1]), [str(c) for c in values.columns])
    ax.set_yticks(np.arange(arr.shape[0]), [str(i) for i in values.index])
    text = annotate.to_numpy() if annotate is not None else arr
    if arr.size <= 400:
        lo, hi = im.norm.vmin, im.norm.vmax
        mid = (lo + hi) / 2 if lo is not None and hi is not None else 0.0
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                v = text[i, j]
                if isinstance(v, float | np.floating) and not np.isfinite(v):
                    continue
                dark = norm is None and np.isfinite(arr[i, j]) and arr[i, j] > mid
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    ax.figure.colorbar(im, ax=ax, shrink=0.8)


# --------------------------------------------------------------------------------------------
# choice of k
# --------------------------------------------------------------------------------------------
def plot_k_selection(result: Any, axes: Any = None) -> np.ndarray:
    """Draw the k sweep: silhouettes, CH, DB, BIC/AIC, inertia with its knee, stability.

    One line per (algorithm, covariance type) configuration; the silhouette panel has the exact
    squared-Euclidean silhouette (solid) and the sampled Euclidean one (dashed, with its
    bootstrap interval shaded); rows flagged ``too_small`` are marked with a cross; the
    recommended k is a vertical dotted line on every panel. A panel whose criterion was not
    computed says so.

    Parameters
    ----------
    result : SelectKResult
        Needs ``table`` (columns ``algorithm``, ``covariance_type``, ``k`` and the criteria) and
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
    ConfigError
        When ``axes`` holds fewer than six Axes or ``table`` lacks ``k``.
    """
    table = _attr(result, ("table",), "plot_k_selection")
    if "k" not in table.columns or "algorithm" not in table.columns:
        raise ConfigError(
            f"plot_k_selection: table needs columns 'algorithm' and 'k', got "
            f"{list(table.columns)[:8]}."
        )
    if axes is None:
        axes = _figure((13.0, 7.0)).subplots(2, 3)
    elif hasattr(axes, "add_subplot") and hasattr(axes, "subplots"):
        axes = axes.subplots(2, 3)
    panels = np.asarray(axes, dtype=object).ravel()
    if panels.shape[0] < len(K_PANELS):
        raise ConfigError(
            f"plot_k_selection needs {len(K_PANELS)} Axes, got {panels.shape[0]}."
        )
    panels = panels[: len(K_PANELS)]
    rec = getattr(result, "recommended", None) or {}
    rec_k = rec.get("k")
    cov = table["covariance_type"] if "covariance_type" in table else pd.Series(None, table.index)
    config = [
        f"{a}/{c}" if isinstance(c, str) and a == "gmm" else str(a)
        for a, c in zip(table["algorithm"], cov, strict=True)
    ]
    tbl = table.assign(_config=config)
    groups = list(dict.fromkeys(config))
    for ax, (title, cols) in zip(panels, K_PANELS, strict=True):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("k")
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


# --------------------------------------------------------------------------------------------
# silhouette per segment
# --------------------------------------------------------------------------------------------
def plot_silhouette(
    result: Any, ax: Axes | None = None, *, labels: Any = None, names: Any = None
) -> Axes:
    """Draw the classic silhouette plot: each segment's per-customer values, sorted.

    Parameters
    ----------
    result : ValidationResult or SilhouetteResult
        Per-sample silhouette in ``silhouette_values``, ``sample_silhouette`` or ``values`` (or
        ``result.silhouette.values``); segment labels in ``labels`` or passed as ``labels=``
        (``ValidationResult`` keeps none: pass ``RunResult.labels``); the overall mean
        (``overall`` as a float, or ``overall["silhouette_sqeuclidean_full"]``) is drawn as a
        dashed line when present.
    ax : Axes or None, default=None
    labels : array-like or None, default=None
        Segment of each value (overrides ``result.labels``).
    names : mapping or list or None, default=None
        Segment id -> name for the tick labels (default ``result.names`` when present).

    Returns
    -------
    Axes
        One filled polygon per segment (``ax.collections``, ascending segment), in its colour.

    Raises
    ------
    ConfigError
        Missing values or labels, or values and labels of different lengths.
    """
    inner = getattr(result, "silhouette", None)
    holder = inner if inner is not None and not isinstance(inner, float | int) else result
    values = np.asarray(
        _attr(holder, ("silhouette_values", "sample_silhouette", "values", "samples"),
              "plot_silhouette"),
        dtype=np.float64,
    ).ravel()
    lab = labels if labels is not None else _attr(result, ("labels", "labels_"),
                                                   "plot_silhouette (labels)")
    lab = np.asarray(lab).ravel()
    if lab.shape[0] != values.shape[0]:
        raise ConfigError(
            f"plot_silhouette: {values.shape[0]} silhouette values but {lab.shape[0]} labels."
        )
    ax = _axes(ax, (6.4, 5.0))
    names_map = _names_of(result, names)
    segs = sorted(pd.unique(lab).tolist())
    colors = segment_colors(segs)
    y0 = 0
    ticks = []
    for s in segs:
        v = np.sort(values[lab == s])
        y = np.arange(y0, y0 + v.shape[0])
        ax.fill_betweenx(y, 0, v, color=colors[s], alpha=0.85, linewidth=0,
                         label=_label(s, names_map))
        ticks.append(y0 + v.shape[0] / 2)
        y0 += v.shape[0] + max(1, len(values) // 100)
    overall = getattr(holder, "overall", None)
    if isinstance(overall, Mapping):  # ValidationResult.overall is a dict of metrics
        overall = overall.get(_FULL)
    if overall is not None:
        ax.axvline(float(overall), color="#d62728", linestyle="--", linewidth=1,
                   label=f"mean {float(overall):.3f}")
    ax.set_yticks(ticks, [_label(s, names_map) for s in segs])
    _color_ticklabels(ax.get_yticklabels(), segs)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("silhouette")
    kind = getattr(holder, "kind", None)
    ax.set_title("Silhouette per segment" + (f" ({kind})" if kind else ""), fontsize=10)
    return ax


# --------------------------------------------------------------------------------------------
# profiles
# --------------------------------------------------------------------------------------------
def plot_profile_heatmap(
    profiles: Any, ax: Axes | None = None, *, value: str = "lift", features: Any = None,
    names: Any = None,
) -> Axes:
    """Draw segments x features as a heatmap of lift (centred on 1) or z-scores (on 0).

    Parameters
    ----------
    profiles : ProfileResult
        ``lift``: tidy (``segment``, ``feature``, ``ratio``, ``z``; features keep their order)
        or wide (one row per segment id, one column per feature; then ``zscores`` holds the
        z-scores), and optional ``names`` (Series or mapping id -> name).
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
    ConfigError
        Unknown ``value`` or feature.
    """
    if value == "lift":
        table = pd.DataFrame(_attr(profiles, ("lift",), "plot_profile_heatmap"))
        column, center = "ratio", 1.0
    elif value in ("zscores", "z_scores", "z"):
        lift = getattr(profiles, "lift", None)
        if isinstance(lift, pd.DataFrame) and {"segment", "feature", "z"} <= set(lift.columns):
            table = lift
        else:
            table = pd.DataFrame(_attr(profiles, ("zscores", "z_scores", "z"),
                                       "plot_profile_heatmap"))
        column, center = "z", 0.0
    else:
        raise ConfigError(f"value={value!r} should be 'lift' or 'zscores'.")
    if {"segment", "feature", column} <= set(table.columns):  # tidy -> segments x features
        order = list(dict.fromkeys(table["feature"]))
        table = table.pivot(index="segment", columns="feature", values=column)[order]
    if features is not None:
        unknown = [f for f in features if f not in table.columns]
        if unknown:
            raise ConfigError(
                f"plot_profile_heatmap: unknown feature(s) {unknown}; "
                f"available: {list(table.columns)[:10]}."
            )
        table = table[list(features)]
    from matplotlib.colors import TwoSlopeNorm

    arr = table.to_numpy(dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    spread = float(np.max(np.abs(finite - center))) if finite.size else 1.0
    spread = spread if spread > 0 else 1.0
    norm = TwoSlopeNorm(vcenter=center, vmin=center - spread, vmax=center + spread)
    ax = _axes(ax, (max(6.4, 0.55 * table.shape[1] + 2.5), 0.45 * table.shape[0] + 2.0))
    _heatmap(ax, table, cmap="RdBu_r", norm=norm)
    names_map = _names_of(profiles, names)
    segs = list(table.index)
    ax.set_yticks(np.arange(len(segs)), [_label(s, names_map) for s in segs])
    _color_ticklabels(ax.get_yticklabels(), segs)
    ax.set_xticks(np.arange(table.shape[1]), [str(c) for c in table.columns], rotation=60,
                  ha="right", fontsize=8)
    ax.set_title("Segment profiles: " + ("lift vs. all customers" if center == 1.0
                                          else "z-score vs. all customers"), fontsize=10)
    return ax


# --------------------------------------------------------------------------------------------
# map of customers
# --------------------------------------------------------------------------------------------
def plot_projection(projection: Any, ax: Axes | None = None, *, names: Any = None) -> Axes:
    """Scatter customers on the first two principal components, with centroids.

    Parameters
    ----------
    projection : ProjectionResult
        ``coords`` (``pc1``, ``pc2``, ``segment``), ``centers`` (``pc1``, ``pc2`` by segment id)
        and ``explained_variance_ratio``.
    ax : Axes or None, default=None
    names : mapping or list or None, default=None
        Segment id -> name for the legend.

    Returns
    -------
    Axes
        One scatter per segment (ascending id, its colour) in ``ax.collections``, then one for
        the centroids (marker "X", black edge).
    """
    coords = _attr(projection, ("coords",), "plot_projection")
    centers = _attr(projection, ("centers",), "plot_projection")
    evr = np.asarray(getattr(projection, "explained_variance_ratio", [np.nan, np.nan]))
    ax = _axes(ax, (6.4, 5.0))
    names_map = _names_of(projection, names)
    segs = sorted(set(pd.unique(coords["segment"]).tolist()) | set(centers.index.tolist()))
    colors = segment_colors(segs)
    for s in segs:
        pts = coords[coords["segment"] == s]
        ax.scatter(pts["pc1"].to_numpy(), pts["pc2"].to_numpy(), s=6, alpha=0.45,
                   color=colors[s], linewidths=0, label=_label(s, names_map), rasterized=True)
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


# --------------------------------------------------------------------------------------------
# sizes and revenue
# --------------------------------------------------------------------------------------------
def plot_segment_shares(shares: Any, ax: Axes | None = None) -> Axes:
    """Draw side-by-side bars: each segment's share of customers and share of revenue.

    Parameters
    ----------
    shares : SegmentSharesResult
        ``table`` indexed by segment with ``name``, ``customer_share``, ``revenue_share`` and
        ``color`` (:func:`segml.projection.segment_shares`).
    ax : Axes or None, default=None

    Returns
    -------
    Axes
        ``ax.patches``: first the customer-share bars (solid), then the revenue-share bars
        (hatched), both in segment order and colour. Revenue bars are omitted when the revenue
        share is unknown.
    """
    table = _attr(shares, ("table",), "plot_segment_shares")
    ax = _axes(ax, (max(6.4, 0.9 * len(table) + 2), 4.2))
    x = np.arange(len(table))
    colors = list(table["color"]) if "color" in table else list(
        segment_colors(list(table.index)).values()
    )
    has_rev = "revenue_share" in table and table["revenue_share"].notna().any()
    width = 0.4 if has_rev else 0.7
    ax.bar(x - (width / 2 if has_rev else 0), table["customer_share"].to_numpy(float), width,
           color=colors, edgecolor="black", linewidth=0.5, label="customers")
    if has_rev:
        ax.bar(x + width / 2, table["revenue_share"].fillna(0).to_numpy(float), width,
               color=colors, edgecolor="black", linewidth=0.5, hatch="//", alpha=0.6,
               label="revenue")
    labels = [f"{i}: {n}" if "name" in table and str(n) != str(i) else str(i)
              for i, n in zip(table.index, table.get("name", table.index), strict=True)]
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    _color_ticklabels(ax.get_xticklabels(), list(table.index))
    ax.set_ylabel("share")
    ax.set_title("Segment size and revenue share" if has_rev else "Segment size", fontsize=10)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="#dddddd", edgecolor="black", label="customers")]
    if has_rev:
        handles.append(Patch(facecolor="#dddddd", edgecolor="black", hatch="//", label="revenue"))
    ax.legend(handles=handles, fontsize=8)
    return ax


# --------------------------------------------------------------------------------------------
# Pareto / ABC
# --------------------------------------------------------------------------------------------
def plot_pareto(
    pareto: Any, ax: Axes | None = None, *, abc_cuts: tuple[float, float] = (0.2, 0.5)
) -> Axes:
    """Draw the revenue-concentration (Pareto) curve over the ABC bands.

    Parameters
    ----------
    pareto : ParetoResult
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
    ConfigError
        When the cuts are not ``0 < a < b < 1``.
    """
    a, b = abc_cuts
    if not 0 < a < b < 1:
        raise ConfigError(f"abc_cuts={abc_cuts!r} should satisfy 0 < A-cut < B-cut < 1.")
    curve = _attr(pareto, ("curve",), "plot_pareto")
    ax = _axes(ax)
    ax.plot(curve["customer_share"].to_numpy(float), curve["revenue_share"].to_numpy(float),
            color="black", linewidth=1.8, label="cumulative revenue share")
    ax.plot([0, 1], [0, 1], color="#888888", linestyle="--", linewidth=1, label="equal revenue")
    for lo, hi, level in ((0, a, "A"), (a, b, "B"), (b, 1, "C")):
        ax.axvspan(lo, hi, color=ABC_COLORS[level], alpha=0.25, linewidth=0,
                   label=f"class {level}")
    top = getattr(pareto, "top20_share", None)
    if top is not None:
        ax.scatter([0.2], [float(top)], color="black", zorder=3)
        ax.annotate(f"top 20% = {float(top):.0%} of revenue", (0.2, float(top)),
                    xytext=(10, -14), textcoords="offset points", fontsize=8)
    gini = getattr(pareto, "gini", None)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("share of customers (largest first)")
    ax.set_ylabel("share of revenue")
    ax.set_title("Revenue concentration (ABC / Pareto)"
                 + (f", Gini {float(gini):.2f}" if gini is not None else ""), fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return ax


# --------------------------------------------------------------------------------------------
# RFM grid
# --------------------------------------------------------------------------------------------
def plot_rfm_grid(grid: Any, ax: Axes | None = None, *, value: str = "counts") -> Axes:
    """Heatmap of customers (or revenue share) by recency score x frequency score.

    Parameters
    ----------
    grid : RFMGridResult
        ``counts``, ``revenue`` and ``revenue_share`` (rows ``r_score``, columns ``f_score``).
    ax : Axes or None, default=None
    value : {"counts", "revenue", "revenue_share"}, default="counts"

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the grid with ``r_score`` 1 at the bottom (``origin="lower"``).

    Raises
    ------
    ConfigError
        Unknown ``value``.
    """
    if value not in ("counts", "revenue", "revenue_share"):
        raise ConfigError(
            f"value={value!r} should be 'counts', 'revenue' or 'revenue_share'."
        )
    table = _attr(grid, (value,), "plot_rfm_grid")
    ax = _axes(ax, (5.6, 4.6))
    fmt = {"counts": "{:,.0f}", "revenue": "{:,.0f}", "revenue_share": "{:.1%}"}[value]
    _heatmap(ax, table, cmap="YlGnBu", fmt=fmt, origin="lower")
    ax.set_xlabel("frequency score (f_score)")
    ax.set_ylabel("recency score (r_score)")
    what = {"counts": "customers", "revenue": "revenue", "revenue_share": "share of revenue"}
    ax.set_title(f"RFM grid: {what[value]}", fontsize=10)
    return ax


# --------------------------------------------------------------------------------------------
# clusters vs rules
# --------------------------------------------------------------------------------------------
def plot_comparison(
    comparison: Any, ax: Axes | None = None, *, value: str = "shares", names: Any = None,
    title: str | None = None,
) -> Axes:
    """Heatmap of clusters (rows) against rule segments (columns).

    Parameters
    ----------
    comparison : ComparisonResult
        ``counts`` (crosstab: cluster rows x rule-segment columns), ``row_shares`` (each
        cluster's customers spread over the rule segments), ``col_shares``, ``lift``,
        ``revenue_shares``, optional ``scores`` (``{"ari": ...}``) and ``names`` (the two
        segmentations' names).
    ax : Axes or None, default=None
    value : {"row_shares", "col_shares", "counts", "lift", "revenue_shares"}, \
default="row_shares"
        What colours the cells; cells always show the value drawn (``"shares"`` is an alias
        of ``"row_shares"``).
    names : mapping or list or None, default=None
        Cluster id -> name. Rows may be cluster ids or cluster names (the pipeline compares
        named clusters): either way they get their segment's colour when ``names`` is given.
    title : str or None, default=None
        Title (default: "Clusters vs <name>" plus the ARI when ``scores`` has one).

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the matrix; x tick labels are the rule segments.

    Raises
    ------
    ConfigError
        Unknown ``value``.
    """
    fmts = {"row_shares": "{:.0%}", "col_shares": "{:.0%}", "revenue_shares": "{:.1%}",
            "counts": "{:,.0f}", "lift": "{:.2f}"}
    key = "row_shares" if value == "shares" else value
    if key not in fmts:
        raise ConfigError(f"value={value!r} should be one of {sorted(fmts)}.")
    attrs = (key, "shares") if key == "row_shares" else (key,)
    table = pd.DataFrame(_attr(comparison, attrs, "plot_comparison"))
    ax = _axes(ax, (max(6.4, 0.7 * table.shape[1] + 3), 0.45 * table.shape[0] + 2.2))
    _heatmap(ax, table, cmap="Purples", fmt=fmts[key])
    names_map = _names_of(None, names)
    rows = list(table.index)
    ax.set_yticks(np.arange(len(rows)), [_label(s, names_map) for s in rows])
    _color_ticklabels(ax.get_yticklabels(), rows, names_map)
    ax.set_xticks(np.arange(table.shape[1]), [str(c) for c in table.columns], rotation=40,
                  ha="right", fontsize=8)
    ax.set_xlabel("rule segment")
    ax.set_ylabel("cluster")
    if title is None:
        pair = getattr(comparison, "names", None)
        name = pair[1] if isinstance(pair, tuple) and len(pair) == 2 else getattr(
            comparison, "name", None)
        title = f"Clusters vs {name}" if name else "Clusters vs rule segments"
        scores = getattr(comparison, "scores", None) or {}
        ari = scores.get("ari", scores.get("adjusted_rand")) if isinstance(scores, Mapping) \
            else None
        if ari is not None:
            title += f" (ARI {float(ari):.2f})"
    ax.set_title(title, fontsize=10)
    return ax


# --------------------------------------------------------------------------------------------
# drift
# --------------------------------------------------------------------------------------------
def _psi_series(drift: Any) -> pd.Series:
    psi = _attr(drift, ("psi", "feature_psi", "features"), "plot_drift")
    if isinstance(psi, pd.DataFrame):
        if "psi" not in psi.columns:
            raise ConfigError(
                f"plot_drift: the psi table needs a 'psi' column, got {list(psi.columns)}."
            )
        if "feature" in psi.columns:
            psi = psi.set_index("feature")
        psi = psi["psi"]
    return pd.Series(psi, dtype="float64")


def plot_drift(
    drift: Any, ax: Axes | None = None, *, thresholds: tuple[float, float] = PSI_THRESHOLDS
) -> Axes:
    """Horizontal bars of the population stability index (PSI) per feature.

    Parameters
    ----------
    drift : drift report
        ``psi``: Series (feature -> PSI) or DataFrame with ``psi`` (and ``feature``) columns.
        Drawn in the order given (the monitoring layer sorts it).
    ax : Axes or None, default=None
    thresholds : (float, float), default=(0.1, 0.25)
        Bars below the first are green (stable), between amber, above red (shifted).

    Returns
    -------
    Axes
        One bar per feature in ``ax.patches`` (top to bottom = order given), two threshold lines.
    """
    psi = _psi_series(drift)
    ax = _axes(ax, (6.4, 0.3 * len(psi) + 1.8))
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


def plot_segment_drift(drift: Any, ax: Axes | None = None, *, names: Any = None) -> Axes:
    """Side-by-side bars of each segment's share at training time and now.

    Parameters
    ----------
    drift : drift report
        ``segment_shares``: DataFrame indexed by segment with ``reference`` (or ``train``) and
        ``current`` columns.
    ax : Axes or None, default=None
    names : mapping or list or None, default=None

    Returns
    -------
    Axes
        ``ax.patches``: reference bars (hatched) then current bars, in segment order and colour.

    Raises
    ------
    ConfigError
        When the share table lacks a reference or current column.
    """
    table = pd.DataFrame(_attr(drift, ("segment_shares", "segments"), "plot_segment_drift"))
    if "segment_id" in table.columns:  # segml.monitoring.DriftReport.segments
        table = table.set_index("segment_id")
    ref_col = next((c for c in ("reference", "train", "expected", "train_share")
                    if c in table), None)
    cur_col = next((c for c in ("current", "actual", "scored", "new_share") if c in table), None)
    if ref_col is None or cur_col is None:
        raise ConfigError(
            "plot_segment_drift: segment_shares needs 'reference' and 'current' columns, got "
            f"{list(table.columns)}."
        )
    ax = _axes(ax)
    segs = list(table.index)
    colors = segment_colors(segs)
    cols = [colors[int(s) if isinstance(s, int | np.integer) else s] for s in segs]
    x = np.arange(len(segs))
    ax.bar(x - 0.2, table[ref_col].to_numpy(float), 0.4, color=cols, alpha=0.5, hatch="//",
           edgecolor="black", linewidth=0.5, label="at training")
    ax.bar(x + 0.2, table[cur_col].to_numpy(float), 0.4, color=cols, edgecolor="black",
           linewidth=0.5, label="now")
    names_map = _names_of(drift, names)
    ax.set_xticks(x, [_label(s, names_map) for s in segs], rotation=30, ha="right", fontsize=8)
    _color_ticklabels(ax.get_xticklabels(), segs)
    ax.set_ylabel("share of customers")
    ax.set_title("Segment shares: training vs now", fontsize=10)
    ax.legend(fontsize=8)
    return ax

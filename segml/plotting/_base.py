"""Shared helpers of the plots: figures without pyplot, the input-type check, tick colours."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml.projection import segment_colors

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_DPI = 100

#: The result type each plot takes: class name -> (defining module, public name, how to get one).
RESULT_TYPES: dict[str, tuple[str, str, str]] = {
    "SelectKResult": ("segml.cluster.select_k", "segml.cluster.SelectKResult",
                      "segml.cluster.select_k(...), or `.selection` of segml.segment(...)"),
    "ValidationResult": ("segml.cluster.validation", "segml.cluster.ValidationResult",
                         "segml.cluster.validate_segments(...), or `.validation` of "
                         "segml.segment(...)"),
    "ProfileResult": ("segml.cluster.profiles", "segml.cluster.ProfileResult",
                      "segml.cluster.profile_segments(...), or `.profiles` of "
                      "segml.segment(...)"),
    "ProjectionResult": ("segml.projection", "segml.projection.ProjectionResult",
                         "segml.projection.project_2d(...), or `.run.projection` of "
                         "segml.segment(...)"),
    "SegmentSharesResult": ("segml.projection", "segml.projection.SegmentSharesResult",
                            "segml.projection.segment_shares(labels, revenue, names=...)"),
    "RFMGridResult": ("segml.projection", "segml.projection.RFMGridResult",
                      "segml.projection.rfm_grid(feature_frame)"),
    "ParetoResult": ("segml.features.scores", "segml.features.ParetoResult",
                     "segml.features.pareto(revenue), or `.run.pareto` of segml.segment(...)"),
    "ComparisonResult": ("segml.rules.compare", "segml.rules.ComparisonResult",
                         "segml.rules.compare_segmentations(...), or "
                         "`.compare_rules(name)` of segml.segment(...)"),
    "DriftReport": ("segml.monitoring", "segml.monitoring.DriftReport",
                    "segml.monitoring.drift_report(model, new_features)"),
}


def expect(obj: Any, type_name: str, func: str) -> None:
    """Raise TypeError unless ``obj`` is the result type ``func`` documents.

    The message names the expected type and where to get one; nothing is guessed from
    attribute names.
    """
    module, public, how = RESULT_TYPES[type_name]
    cls = getattr(importlib.import_module(module), type_name)
    if not isinstance(obj, cls):
        raise TypeError(
            f"{func} takes a {public}, got {type(obj).__module__}.{type(obj).__qualname__}. "
            f"Fix: pass the result of {how}."
        )


def figure(figsize: tuple[float, float]) -> Figure:
    """Return a new Figure (not registered with pyplot)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError(
            "segml.plotting needs matplotlib; install it with `pip install matplotlib`."
        ) from exc
    return Figure(figsize=figsize, dpi=_DPI, layout="constrained")


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.2)) -> Axes:
    """Return ``ax``, or the Axes of a new Figure of ``figsize``."""
    if ax is not None:
        return ax
    return figure(figsize).add_subplot()


def names_map(names: Any) -> dict[Any, str]:
    """Segment id -> display name from a mapping, a Series or a list (None: no names)."""
    if names is None:
        return {}
    if isinstance(names, pd.Series | Mapping):
        return {k: str(v) for k, v in names.items()}
    return {i: str(v) for i, v in enumerate(names)}


def tick_label(seg: Any, names: Mapping[Any, str]) -> str:
    """``"<id>: <name>"``, ``"segment <id>"`` without a name, or the key itself."""
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


def color_ticklabels(
    labels: Sequence[Any], keys: Sequence[Any], names: Mapping[Any, str] | None = None
) -> None:
    """Colour (and bold) the tick labels whose key is a segment or an ABC class."""
    colors = _tick_colors(keys, names)
    for text, key in zip(labels, keys, strict=False):
        k = int(key) if isinstance(key, int | np.integer) else key
        if k in colors:
            text.set_color(colors[k])
            text.set_fontweight("bold")


def heatmap(
    ax: Axes, values: pd.DataFrame, *, cmap: str, norm: Any = None, fmt: str = "{:.2f}",
    annotate: pd.DataFrame | None = None, origin: str = "upper",
) -> None:
    """Draw ``values`` as an annotated image with a colour bar (cells annotated up to 400)."""
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

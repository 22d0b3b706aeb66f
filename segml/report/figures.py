"""Every figure of the report, drawn to deterministic PNG bytes (:func:`make_figures`)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from segml.projection import project_2d, rfm_grid, segment_shares

#: The report's logger keeps its name from before the split (``segml.report``).
logger = logging.getLogger("segml.report")

_DPI = 100
_MAX_PROFILE_FEATURES = 24
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------
def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def _names(run: Any) -> dict[Any, str]:
    names = getattr(getattr(run, "profiles", None), "names", None)
    if names is None:
        return {}
    return {int(k) if isinstance(k, int | np.integer) else k: str(v) for k, v in dict(
        names).items()}


def _revenue(run: Any) -> pd.Series | None:
    frame = getattr(getattr(run, "features", None), "frame", None)
    if isinstance(frame, pd.DataFrame) and "monetary" in frame.columns:
        return frame["monetary"]
    return None


def _shares(run: Any) -> Any:
    labels = getattr(run, "labels", None)
    if labels is None or len(labels) == 0:
        return None
    return segment_shares(labels, _revenue(run), names=_names(run) or None)


def _projection(run: Any) -> Any:
    if getattr(run, "projection", None) is not None:
        return run.projection
    X = getattr(run, "model_matrix", None)
    labels = getattr(run, "labels", None)
    if X is None or labels is None:
        return None
    centers = getattr(getattr(run, "segmenter", None), "cluster_centers_", None)
    if centers is not None and np.shape(centers)[-1] != np.shape(X)[1]:
        centers = None
    seed = (getattr(run, "config", None) or {}).get("segmentation", {}).get("random_state", 0)
    return project_2d(X, labels, centers, random_state=seed)


def _rfm(run: Any) -> Any:
    frame = getattr(getattr(run, "features", None), "frame", None)
    if isinstance(frame, pd.DataFrame) and {"r_score", "f_score", "monetary"} <= set(
        frame.columns
    ):
        return rfm_grid(frame)
    return None


def _profile_features(profiles: Any) -> list[str] | None:
    """Pick the features whose z-score varies most across segments (a readable heatmap)."""
    lift = getattr(profiles, "lift", None)
    if not isinstance(lift, pd.DataFrame) or not {"feature", "z"} <= set(lift.columns):
        return None
    spread = lift.assign(az=lift["z"].abs()).groupby("feature", sort=False)["az"].max()
    spread = spread.dropna()
    if spread.empty:
        return None
    if len(spread) <= _MAX_PROFILE_FEATURES:
        return list(spread.index)
    keep = set(spread.sort_values(ascending=False, kind="stable").index[:_MAX_PROFILE_FEATURES])
    return [f for f in spread.index if f in keep]


def _figure_jobs(run: Any) -> list[tuple[str, Callable[[], Any]]]:
    from matplotlib.figure import Figure

    from segml import plotting

    def new(w: float, h: float) -> Any:
        return Figure(figsize=(w, h), dpi=_DPI, layout="constrained")

    def one(draw: Callable[[Any], Any], w: float = 7.0, h: float = 4.5) -> Callable[[], Any]:
        def job() -> Any:
            fig = new(w, h)
            draw(fig.add_subplot())
            return fig
        return job

    jobs: list[tuple[str, Callable[[], Any]]] = []
    names = _names(run) or None
    if getattr(run, "selection", None) is not None:
        def k_job() -> Any:
            fig = new(13.0, 7.0)
            plotting.plot_k_selection(run.selection, fig)
            return fig
        jobs.append(("k_selection", k_job))
    shares = _shares(run)
    if shares is not None:
        jobs.append(("segment_shares", one(lambda ax: plotting.plot_segment_shares(shares, ax))))
    if getattr(run, "projection", None) is not None or getattr(run, "model_matrix", None) \
            is not None:
        jobs.append(("projection", one(
            lambda ax: plotting.plot_projection(_projection(run), ax, names=names), 7.0, 5.5)))
    profiles = getattr(run, "profiles", None)
    if profiles is not None:
        feats = _profile_features(profiles)
        n_seg = len(names or {}) or 6
        jobs.append(("profiles", one(
            lambda ax: plotting.plot_profile_heatmap(profiles, ax, value="zscores",
                                                     features=feats),
            max(8.0, 0.45 * len(feats or []) + 4.0), 0.45 * n_seg + 3.0)))
    validation = getattr(run, "validation", None)
    if validation is not None and getattr(run, "labels", None) is not None:
        jobs.append(("silhouette", one(
            lambda ax: plotting.plot_silhouette(validation, ax,
                                                labels=np.asarray(run.labels), names=names),
            7.0, 5.0)))
    if getattr(run, "pareto", None) is not None:
        jobs.append(("pareto", one(lambda ax: plotting.plot_pareto(run.pareto, ax))))
    grid = _rfm(run)
    if grid is not None:
        jobs.append(("rfm_grid", one(lambda ax: plotting.plot_rfm_grid(grid, ax), 6.0, 4.8)))
    for name, comp in (getattr(run, "comparisons", None) or {}).items():
        def c_job(comp: Any = comp, name: str = name) -> Any:
            counts = getattr(comp, "counts", pd.DataFrame())
            fig = new(max(7.0, 0.8 * counts.shape[1] + 4), 0.45 * counts.shape[0] + 2.8)
            plotting.plot_comparison(comp, fig.add_subplot(), names=names,
                                     title=f"Clusters vs {name} (share of each cluster)")
            return fig
        jobs.append((f"comparison_{name}", c_job))
    return jobs


def make_figures(run: Any, *, keys: Iterable[str] | None = None) -> dict[str, bytes]:
    """Draw every plot of a run to PNG bytes.

    Keys: ``k_selection``, ``segment_shares``, ``projection``, ``profiles``, ``silhouette``,
    ``pareto``, ``rfm_grid`` and ``comparison_<rule set>`` — each present only when the run
    holds what it needs. A figure that fails is left out and logged (``segml.report`` logger);
    the report then says it is unavailable.

    Parameters
    ----------
    run : RunResult
        The pipeline's result.
    keys : iterable of str or None, default=None
        Draw only these figures (default: all that the run allows).

    Returns
    -------
    dict of str to bytes
        PNG files (fixed dpi, no timestamp in the metadata: the same run gives the same bytes).
    """
    wanted = None if keys is None else set(keys)
    out: dict[str, bytes] = {}
    for key, job in _figure_jobs(run):
        if wanted is not None and key not in wanted:
            continue
        try:
            out[key] = _png(job())
        except Exception as exc:  # noqa: BLE001 - one bad figure must not sink the report
            logger.warning("figure %r could not be drawn: %s: %s", key, type(exc).__name__, exc)
    return out

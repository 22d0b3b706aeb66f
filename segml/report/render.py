"""The whole page: the at-a-glance header, the sections, and the atomic write."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from segml._atomic import write_text
from segml.report.figures import _shares, make_figures
from segml.report.markup import _cards, _e, _fmt, _note, _page, _swatch
from segml.report.sections import _BUILDERS, SECTIONS

logger = logging.getLogger("segml.report")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("segml")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "(source tree)"


def _glance(run: Any) -> str:
    """Key figures and the segment legend, shown in the header (the first screen)."""
    try:
        shares = _shares(run)
    except Exception:  # noqa: BLE001 - the sections say what is wrong
        shares = None
    validation = getattr(run, "validation", None)
    overall = getattr(validation, "overall", None)
    sil = overall.get("silhouette_sqeuclidean_full") if isinstance(overall, Mapping) else None
    pareto = getattr(run, "pareto", None)
    parts = [_cards({
        "customers segmented": None if shares is None else shares.n_customers,
        "segments": None if shares is None else len(shares.table),
        "top 20% of customers' revenue share": getattr(pareto, "top20_share", None),
        "silhouette (squared Euclidean)": sil,
    })]
    if shares is not None:
        items = []
        for seg, row in shares.table.iterrows():
            rev = row["revenue_share"]
            detail = f"{row['customer_share']:.0%} of customers" + (
                f", {rev:.0%} of revenue" if isinstance(rev, float) and not math.isnan(rev)
                else "")
            label = f"{seg} · {row['name']}" if str(row["name"]) != str(seg) else str(seg)
            items.append(f"<li>{_swatch(row['color'])}<b>{_e(label)}</b> "
                         f"<span>{_e(detail)}</span></li>")
        parts.append(f'<ul class="legend">{"".join(items)}</ul>')
    return "".join(parts)


def render_report(run: Any, figures: Mapping[str, bytes] | None = None) -> str:
    """Render a run as one self-contained HTML page.

    Parameters
    ----------
    run : RunResult
        The pipeline's result. Missing pieces are reported in their section.
    figures : dict of str to bytes or None, default=None
        PNG figures by key (see :func:`make_figures`); drawn here when None.

    Returns
    -------
    str
        The HTML document (UTF-8 text): inline CSS, figures as ``data:image/png;base64`` URIs,
        no script and no external URL.
    """
    if figures is None:
        figures = make_figures(run)
    run_id = getattr(run, "run_id", "")
    data_name = getattr(run, "data_name", "")
    labels = getattr(run, "labels", None)
    k = None if labels is None else int(pd.Series(labels).nunique())
    as_of = getattr(getattr(run, "features", None), "as_of", None)
    subtitle = " · ".join(
        x for x in (f"run {run_id}" if run_id else "", f"data: {data_name}" if data_name else "",
                    f"as of {_fmt(as_of)}" if as_of is not None else "",
                    f"{k} segments" if k else "") if x
    )
    nav = "".join(f'<li><a href="#{sid}">{_e(title)}</a></li>' for sid, title in SECTIONS)
    body = []
    for i, (sid, title) in enumerate(SECTIONS, start=1):
        try:
            content = _BUILDERS[sid](run, figures)
        except Exception as exc:  # noqa: BLE001 - a broken piece must not sink the report
            logger.warning("report section %r failed: %s: %s", sid, type(exc).__name__, exc)
            content = _note(f"This section could not be built: {type(exc).__name__}: {exc}")
        body.append(f'<section id="{sid}"><h2>{i}. {_e(title)}</h2>{content}</section>')
    version = _version()
    return _page(
        run_id=_e(run_id), subtitle=_e(subtitle), glance=_glance(run), nav=nav,
        main="".join(body), version=_e(version),
    )


def write_report(
    run: Any, path: str | os.PathLike[str], *, overwrite: bool = False,
    figures: Mapping[str, bytes] | None = None,
) -> Path:
    """Render the report and write it atomically.

    Parameters
    ----------
    run : RunResult
        The pipeline's result.
    path : path-like
        The HTML file to write (its folder is created).
    overwrite : bool, default=False
        Replace an existing file.
    figures : dict of str to bytes or None, default=None
        Pre-drawn figures (see :func:`make_figures`).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false (checked before anything is drawn).
    """
    from segml._atomic import check_writable

    check_writable(path, overwrite=overwrite)
    return write_text(path, render_report(run, figures), overwrite=overwrite)

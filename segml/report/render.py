"""The whole page: the header, the front page and the sections, and the atomic write."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from segml._atomic import write_text
from segml.report.figures import make_figures
from segml.report.markup import _e, _fmt, _note, _page
from segml.report.sections import _BUILDERS, SECTIONS

#: Sections whose builder also takes the refresh.
_WITH_REFRESH = frozenset({"front", "alerts-drift"})

logger = logging.getLogger("segml.report")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("segml")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "(source tree)"


def render_report(run: Any, figures: Mapping[str, bytes] | None = None, *,
                  refresh: Any = None) -> str:
    """Render a run as one self-contained HTML page.

    The first section (``front``) is the sales manager's page: the segment table, the
    Pareto / ABC headline, alerts and prospects counted. The analyst's sections follow,
    data quality last.

    Parameters
    ----------
    run : RunResult
        The pipeline's result. Missing pieces are reported in their section.
    figures : dict of str to bytes or None, default=None
        PNG figures by key (see :func:`make_figures`); drawn here when None.
    refresh : segml.refresh.RefreshResult or None, default=None
        A refresh of this run's model (:func:`segml.refresh.refresh`): adds the trend since
        the last run to the front page and the "Alerts and drift" section. Without it (and
        without a ``refresh`` attribute on ``run``) that section is left out.

    Returns
    -------
    str
        The HTML document (UTF-8 text): inline CSS, figures as ``data:image/png;base64`` URIs,
        no script and no external URL.
    """
    if figures is None:
        figures = make_figures(run)
    if refresh is None:
        refresh = getattr(run, "refresh", None)
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
    shown = [(sid, title) for sid, title in SECTIONS
             if sid != "alerts-drift" or refresh is not None]
    nav = "".join(f'<li><a href="#{sid}">{_e(title)}</a></li>' for sid, title in shown)
    body = []
    for i, (sid, title) in enumerate(shown, start=1):
        try:
            if sid in _WITH_REFRESH:
                content = _BUILDERS[sid](run, figures, refresh)
            else:
                content = _BUILDERS[sid](run, figures)
        except Exception as exc:  # noqa: BLE001 - a broken piece must not sink the report
            logger.warning("report section %r failed: %s: %s", sid, type(exc).__name__, exc)
            content = _note(f"This section could not be built: {type(exc).__name__}: {exc}")
        body.append(f'<section id="{sid}"><h2>{i}. {_e(title)}</h2>{content}</section>')
    version = _version()
    return _page(
        run_id=_e(run_id), subtitle=_e(subtitle), nav=nav,
        main="".join(body), version=_e(version),
    )


def write_report(
    run: Any, path: str | os.PathLike[str], *, overwrite: bool = False,
    figures: Mapping[str, bytes] | None = None, refresh: Any = None,
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
    refresh : segml.refresh.RefreshResult or None, default=None
        Adds the trend and the "Alerts and drift" section (see :func:`render_report`).

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
    return write_text(path, render_report(run, figures, refresh=refresh),
                      overwrite=overwrite)

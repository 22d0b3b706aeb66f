"""The self-contained HTML report of one pipeline run.

One HTML file, readable offline: CSS inline, figures as base64 PNG data URIs, no script, no
external URL. The page skeleton and the stylesheet are package data
(``segml/templates/report.html`` and ``report.css``); this module holds the logic. The first
section is the sales manager's one screen (segment table, Pareto / ABC headline, alerts and
prospects counted); the analyst's sections follow, each with a stable id:

``front`` -> ``alerts-drift`` (only with a refresh) -> ``choice-of-k`` -> ``segments`` ->
``features`` -> ``clusters-vs-rules`` -> ``model-card`` -> ``data-quality``.

Tables sit in boxes that scroll sideways, numbers never wrap, and ``@media print`` rules
break pages between sections. :mod:`segml.report.browser` renders a report in headless
Chromium and measures its layout with JavaScript (tests and ``make screenshots``).

A missing piece (no comparison, no saved model, a figure that could not be drawn) is said in
its section; it never stops the report. Every table cell is escaped with :func:`html.escape`.

- :func:`make_figures` draws every plot of a :class:`~segml.pipeline.RunResult` to PNG bytes
  (deterministic: fixed size and dpi, no timestamp in the metadata).
- :func:`render_report` returns the HTML text.
- :func:`write_report` writes it atomically and refuses to overwrite unless asked.

Modules: :mod:`~segml.report.figures`, :mod:`~segml.report.front`,
:mod:`~segml.report.sections`,
:mod:`~segml.report.render` (the page and the write) and :mod:`~segml.report.markup` (template
and HTML helpers). Every public name is importable from ``segml.report``.
"""

from __future__ import annotations

import logging

from segml.report.figures import make_figures
from segml.report.render import render_report, write_report
from segml.report.sections import SECTIONS, score_command

#: The logger of the whole report (figures and sections that fail are logged here).
logger = logging.getLogger("segml.report")

__all__ = [
    "SECTIONS",
    "make_figures",
    "render_report",
    "write_report",
    # also public, defined in the submodules
    "score_command",
]

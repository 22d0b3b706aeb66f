"""A short self-contained HTML page of a refresh (presentation: the CLI imports it).

One page, no scripts, no external files: the headline, segment shares then and now, the
migration matrix (counts, row shares on hover), the movers by route, the new alerts
(by kind and the first rows) and the drift table with moderate/significant rows marked.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from segml.refresh.core import RefreshResult

__all__ = ["render_refresh_page"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .6em;border:1px solid #ddd;
text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.moderate{background:#fff4d6}.significant{background:#fddede}.note{color:#555;font-size:.9em}
"""


def _table(df: pd.DataFrame, *, index: bool = False, floats: str = "{:.3f}",
           row_class: pd.Series | None = None) -> str:
    cols = ([df.index.name or ""] if index else []) + [str(c) for c in df.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for i, (key, row) in enumerate(df.iterrows()):
        cells = ([key] if index else []) + row.tolist()
        tds = "".join(f"<td>{html.escape(_fmt(v, floats))}</td>" for v in cells)
        cls = "" if row_class is None else f' class="{html.escape(str(row_class.iloc[i]))}"'
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(v: Any, floats: str) -> str:
    if isinstance(v, float):
        return floats.format(v)
    return str(v)


def render_refresh_page(result: RefreshResult, *, max_rows: int = 50) -> str:
    """Return the refresh report page as HTML text.

    Parameters
    ----------
    result : RefreshResult
        The refresh.
    max_rows : int, default 50
        New alerts listed (all of them are in ``new_alerts.csv``).

    Returns
    -------
    str
        A complete HTML document (UTF-8, inline CSS, no scripts).
    """
    r = result
    c = r.counts
    title = f"Segment refresh {r.as_of.date()} (previous run {r.previous_as_of.date()})"
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(r.summary())}.</p>"]
    parts.append("<h2>Segment shares</h2>")
    parts.append(_table(r.segments))
    parts.append(f'<p class="note">Segment-share PSI versus the previous run: '
                 f"{r.segment_psi:.3f}"
                 + ("" if r.drift is None else f"; versus training: {r.drift.segment_psi:.3f}")
                 + " (&lt; 0.1 stable, 0.1&ndash;0.25 moderate, &ge; 0.25 significant).</p>")
    parts.append("<h2>Migration (rows: previous segment, columns: today)</h2>")
    parts.append(_table(r.migration, index=True, floats="{:.0f}"))
    parts.append(f'<p class="note">{c["only_now"]:,} customer(s) are new since the previous '
                 f'run and {c["only_before"]:,} are no longer in the base (not in the '
                 "matrix).</p>")
    parts.append(f"<h2>Movers ({c['movers']:,})</h2>")
    if len(r.movers):
        routes = (r.movers.groupby(["from_segment", "to_segment"]).size()
                  .rename("customers").reset_index()
                  .sort_values("customers", ascending=False, kind="stable"))
        parts.append(_table(routes))
        parts.append('<p class="note">Every mover is in movers.csv.</p>')
    else:
        parts.append("<p>No customer changed segment.</p>")
    new = r.new_alerts
    parts.append(f"<h2>New alerts since the previous run ({len(new):,} of "
                 f"{c['alerts_now']:,})</h2>")
    kinds = r.alerts.groupby("alert")["new"].agg(["size", "sum"]) if len(r.alerts) else None
    if kinds is not None:
        kinds = kinds.rename(columns={"size": "alerting now", "sum": "new"}).astype(int)
        kinds.index.name = "alert"
        parts.append(_table(kinds, index=True))
        parts.append('<p class="note">Alerts already raised at the previous run (a customer '
                     "inactive then who has not bought since) are not repeated.</p>")
    if len(new):
        parts.append(_table(new.head(max_rows), floats="{:.1f}"))
        if len(new) > max_rows:
            parts.append(f'<p class="note">First {max_rows} of {len(new):,}; all in '
                         "new_alerts.csv.</p>")
    parts.append("<h2>Drift</h2>")
    d = r.drift_table()
    parts.append(_table(d, row_class=d["level"]))
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")

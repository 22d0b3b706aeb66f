"""HTML building blocks: the page template (package data), escaping, tables, cards, images."""

from __future__ import annotations

import base64
import functools
import html
import importlib.resources
import math
import string
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@functools.cache
def _template(name: str) -> str:
    """Return the text of a file in ``segml/templates`` (package data, read once)."""
    try:
        res = importlib.resources.files("segml") / "templates" / name
        return res.read_text(encoding="utf-8")
    except (NotADirectoryError, FileNotFoundError):
        # setuptools' editable finder can add a non-directory entry to segml.__path__,
        # which makes importlib.resources refuse the package; fall back to the source tree.
        folder = Path(__file__).resolve().parents[1] / "templates"  # segml/templates
        return (folder / name).read_text(encoding="utf-8")


def _page(**parts: str) -> str:
    """Fill ``report.html`` (a :class:`string.Template`) with the CSS and the rendered parts.

    The template holds the page skeleton and ``report.css`` the inline stylesheet; the values
    are inserted as they are (``$`` in them is not expanded).
    """
    return string.Template(_template("report.html")).substitute(
        css=_template("report.css"), **parts
    )

# --------------------------------------------------------------------------------------------
# HTML helpers
# --------------------------------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any, column: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return ""
        if "share" in column and 0.0 <= abs(v) <= 1.0:
            return f"{v:.1%}"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 1 or v == 0:
            return f"{v:.2f}"
        return f"{v:.3f}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _swatch(color: str) -> str:
    return f'<span class="swatch" style="background:{_e(color)}"></span>'


def _clip(text: str) -> str:
    """Return ``text`` in a ``span.clip`` (cut to a few lines on screen) titled with itself."""
    if not text:
        return ""
    return f'<span class="clip" title="{_e(text)}">{_e(text)}</span>'


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_)


def _table(
    df: pd.DataFrame, *, index: bool = True, max_rows: int = 60,
    swatches: Mapping[Any, str] | None = None, empty: str = "(empty)",
    classes: Mapping[str, str] | None = None, clip: Collection[str] = (),
) -> str:
    """Escaped HTML table in a horizontally scrollable box.

    ``swatches`` maps index values to a colour shown before them. Numeric cells get the
    ``num`` class (right-aligned, tabular digits, never wrapped); text cells wrap at word
    boundaries only; ``classes`` maps a column to a CSS class of its cells and its header
    cell (e.g. ``wide``).
    The text of the columns named in ``clip`` (``""`` for the index) is put in a
    ``span.clip``, which the stylesheet cuts to a few lines with an ellipsis on screen (whole
    in print), with the whole text in its ``title`` (shown on hover).
    The box (``div.tbl``) scrolls sideways when the table is wider than the page, so the page
    itself never does.
    """
    if df is None or df.empty:
        return f'<p class="note">{_e(empty)}</p>'
    shown = df.head(max_rows)
    head = ""
    if index:
        label = shown.index.name if shown.index.name is not None else ""
        head += f"<th>{_e(label)}</th>"
    head += "".join(f'<th class="{_e(classes[str(c)])}">{_e(c)}</th>'
                    if classes and str(c) in classes else f"<th>{_e(c)}</th>"
                    for c in shown.columns)
    rows = []
    for idx, row in shown.iterrows():
        cells = ""
        if index:
            sw = _swatch(swatches[idx]) if swatches and idx in swatches else ""
            cells += f"<th>{sw}{_clip(_fmt(idx)) if '' in clip else _e(_fmt(idx))}</th>"
        for col, v in row.items():
            names = " ".join(x for x in ("num" if _is_num(v) else "",
                                         (classes or {}).get(str(col), "")) if x)
            cls = f' class="{names}"' if names else ""
            text = _fmt(v, str(col))
            cells += f"<td{cls}>{_clip(text) if str(col) in clip else _e(text)}</td>"
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(df) > max_rows:
        more = f'<p class="note">{len(df) - max_rows:,} more rows not shown.</p>'
    return (f'<div class="tbl"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>{more}")


def _kv(pairs: Mapping[str, Any]) -> str:
    rows = []
    for k, v in pairs.items():
        if v is None:
            continue
        cls = ' class="num"' if _is_num(v) else ""
        rows.append(f"<tr><th>{_e(k)}</th><td{cls}>{_e(_fmt(v))}</td></tr>")
    if not rows:
        return ""
    return f'<div class="tbl"><table class="kv"><tbody>{"".join(rows)}</tbody></table></div>'


def _cards(pairs: Mapping[str, Any]) -> str:
    """Return KPI cards; a value that formats to nothing (None, NaN, "") is left out.

    An empty card says nothing, so it is not drawn.
    """
    items = "".join(
        f'<div class="card"><b>{_e(_fmt(v, k))}</b><span>{_e(k)}</span></div>'
        for k, v in pairs.items() if _fmt(v, k) != ""
    )
    return f'<div class="cards">{items}</div>' if items else ""


def _img(figures: Mapping[str, bytes], key: str, caption: str) -> str:
    data = figures.get(key)
    if not data:
        return f'<p class="note">Figure "{_e(caption)}" is not available for this run.</p>'
    b64 = base64.b64encode(data).decode("ascii")
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{b64}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'

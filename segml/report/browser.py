"""Render a report in headless Chromium: measure its layout with JavaScript, take screenshots.

The report itself holds no script. :func:`check_layout` renders a *copy* of it with one
appended ``<script>`` that measures, once the page has loaded, at the given window width:

* ``overflowing``: elements whose box reaches past the viewport's left or right edge and is
  not inside a box that scrolls or clips sideways (``overflow-x`` other than visible), plus
  whether the document itself is wider than the viewport (``page_scroll_width``);
* ``broken_images``: ``<img>`` not loaded (``complete`` and ``naturalWidth > 0``);
* ``wrapped_numbers``: numeric table cells (``td.num``) and KPI values whose text is laid
  out on more than one line;
* ``front_bottom``: the bottom of the front page (``#front``) in page pixels, and
  ``front_table_scrolls``: whether its segment table is wider than its box.

Chromium writes the result into the DOM, ``--dump-dom`` prints it, and Python parses it:
no WebDriver, no extra dependency. :func:`find_browser` looks for ``chromium``,
``chromium-browser``, ``google-chrome`` or ``google-chrome-stable`` on ``PATH``.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from segml.errors import InputFileError

__all__ = ["BROWSERS", "check_layout", "find_browser", "screenshot"]

#: Executables tried, in order, by :func:`find_browser`.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--hide-scrollbars", "--disable-dev-shm-usage")

_MARK = "__segml_layout_check"

_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var vw = document.documentElement.clientWidth;
  function clipped(el) {
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden" || o === "clip") return true;
    }
    return false;
  }
  function name(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.className && typeof el.className === "string") s += "." + el.className.split(" ")[0];
    var sec = el.closest("section");
    if (sec) s = "section#" + sec.id + " " + s;
    return s + " " + JSON.stringify((el.textContent || "").trim().slice(0, 40));
  }
  function lines(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var tops = {};
    var rects = r.getClientRects();
    for (var i = 0; i < rects.length; i++) {
      if (rects[i].width > 0) tops[Math.round(rects[i].top)] = 1;
    }
    return Object.keys(tops).length;
  }
  var over = [];
  var all = document.body.getElementsByTagName("*");
  for (var i = 0; i < all.length; i++) {
    var el = all[i];
    var r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if ((r.right > vw + 0.5 || r.left < -0.5) && !clipped(el)) {
      over.push({element: name(el), left: r.left, right: r.right});
    }
  }
  var imgs = document.images, broken = [];
  for (var j = 0; j < imgs.length; j++) {
    if (!(imgs[j].complete && imgs[j].naturalWidth > 0)) broken.push(imgs[j].alt || "?");
  }
  var wrapped = [];
  var nums = document.querySelectorAll("td.num, .card b");
  for (var k = 0; k < nums.length; k++) {
    if (lines(nums[k]) > 1) wrapped.push(name(nums[k]));
  }
  var scrolling = 0, boxes = document.querySelectorAll(".tbl");
  for (var m = 0; m < boxes.length; m++) {
    if (boxes[m].scrollWidth > boxes[m].clientWidth) scrolling++;
  }
  var front = document.getElementById("front");
  var ftab = document.querySelector("#front .tbl");
  var res = {
    viewport_width: vw,
    page_scroll_width: document.documentElement.scrollWidth,
    page_height: document.documentElement.scrollHeight,
    overflowing: over.slice(0, 50), n_overflowing: over.length,
    images: imgs.length, broken_images: broken,
    numeric_cells: nums.length, wrapped_numbers: wrapped.slice(0, 50),
    n_wrapped_numbers: wrapped.length,
    tables: boxes.length, tables_scrolling_in_their_box: scrolling,
    front_bottom: front ? front.getBoundingClientRect().bottom + window.scrollY : null,
    front_table_scrolls: ftab ? ftab.scrollWidth > ftab.clientWidth : null
  };
  var out = document.createElement("pre");
  out.id = "MARK";
  out.textContent = JSON.stringify(res);
  document.body.appendChild(out);
});
</script>
""".replace("MARK", _MARK)


def find_browser() -> str | None:
    """Return the path of a Chromium/Chrome executable on ``PATH``, or None.

    Returns
    -------
    str or None
        The first of :data:`BROWSERS` found.
    """
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _browser(browser: str | None) -> str:
    found = browser or find_browser()
    if found is None:
        raise InputFileError(
            f"no Chromium/Chrome on PATH (looked for {', '.join(BROWSERS)}). Fix: install "
            "Debian's chromium package (apt-get install chromium), or pass browser= the path "
            "of a Chrome executable."
        )
    return found


def _run(browser: str, args: list[str], url: str, profile: Path, timeout: float
         ) -> subprocess.CompletedProcess[str]:
    cmd = [browser, *_FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def check_layout(
    report: str | os.PathLike[str], width: int, *, height: int = 900,
    browser: str | None = None, timeout: float = 180.0,
) -> dict[str, Any]:
    """Render a copy of a report at ``width`` px and measure its layout in the page.

    Parameters
    ----------
    report : path-like
        The report HTML file (left untouched; a copy with the measuring script is rendered).
    width, height : int
        Window size in CSS pixels (``height`` only sets the first screen).
    browser : str, optional
        Chromium/Chrome executable (default: :func:`find_browser`).
    timeout : float, default 180
        Seconds before the browser is given up on.

    Returns
    -------
    dict
        ``viewport_width``, ``page_scroll_width``, ``page_height``, ``overflowing`` (up to 50
        elements, ``n_overflowing`` in all), ``images``, ``broken_images``,
        ``numeric_cells``, ``wrapped_numbers`` (``n_wrapped_numbers``), ``tables``,
        ``tables_scrolling_in_their_box``, ``front_bottom`` and ``front_table_scrolls`` (see
        the module docstring).

    Raises
    ------
    InputFileError
        No browser, or the browser gave no measurement (its stderr tail is quoted).
    """
    exe = _browser(browser)
    text = Path(report).read_text(encoding="utf-8")
    at = text.rfind("</body>")
    probe = text[:at] + _SCRIPT + text[at:] if at >= 0 else text + _SCRIPT
    with tempfile.TemporaryDirectory(prefix="segml-layout-") as tmp:
        copy = Path(tmp) / "report.html"
        copy.write_text(probe, encoding="utf-8")
        proc = _run(exe, [f"--window-size={width},{height}", "--virtual-time-budget=10000",
                          "--dump-dom"], copy.as_uri(), Path(tmp) / "profile", timeout)
    m = re.search(rf'<pre id="{_MARK}">(.*?)</pre>', proc.stdout, re.S)
    if m is None:
        raise InputFileError(
            f"{Path(report).name}: the browser returned no layout measurement (exit "
            f"{proc.returncode}): {proc.stderr.strip()[-300:]!r}. Fix: check that {exe} runs "
            "headless on this machine (it needs --no-sandbox as root)."
        )
    return json.loads(html.unescape(m.group(1)))


def screenshot(
    report: str | os.PathLike[str], out: str | os.PathLike[str], *, width: int = 1280,
    height: int = 1200, browser: str | None = None, timeout: float = 180.0,
) -> Path:
    """Save a PNG of the first ``width`` x ``height`` pixels of a report.

    Parameters
    ----------
    report : path-like
        The report HTML file.
    out : path-like
        The PNG to write (replaced; its folder is created).
    width, height : int, default 1280 x 1200
        Window size in CSS pixels.
    browser : str, optional
        Chromium/Chrome executable (default: :func:`find_browser`).
    timeout : float, default 180
        Seconds before the browser is given up on.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    InputFileError
        No browser, or no PNG was written (the browser's stderr tail is quoted).
    """
    from segml._atomic import write_bytes

    exe = _browser(browser)
    with tempfile.TemporaryDirectory(prefix="segml-shot-") as tmp:
        shot = Path(tmp) / "shot.png"
        proc = _run(exe, [f"--window-size={width},{height}", f"--screenshot={shot}"],
                    Path(report).resolve().as_uri(), Path(tmp) / "profile", timeout)
        if not shot.is_file():
            raise InputFileError(
                f"{Path(report).name}: the browser wrote no screenshot (exit "
                f"{proc.returncode}): {proc.stderr.strip()[-300:]!r}. Fix: check that {exe} "
                "runs headless on this machine."
            )
        return write_bytes(out, shot.read_bytes(), overwrite=True)

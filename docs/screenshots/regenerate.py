"""Regenerate the report screenshots in this folder (``make screenshots``).

For the demo portfolio and for CDNOW (``--loader cdnow``, ``../shared/data``), run
``segml report`` into a temporary folder, check the layout of the page in headless Chromium
(:func:`segml.report.browser.check_layout`, at 1280 and 800 px) and save the first
1280 x 1200 px as ``front-demo.png`` / ``front-cdnow.png``.

The runs use a lighter segmentation than the defaults so the target takes minutes, not
tens of minutes: k-means only, k in 3..8, 5 stability refits (the front page looks the
same; the chosen k may differ from a default run's). Usage::

    python docs/screenshots/regenerate.py [demo] [cdnow]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from segml.cli import main
from segml.report.browser import check_layout, screenshot

HERE = Path(__file__).resolve().parent
DATA = {
    "demo": ("", None),
    "cdnow": ('loader = "cdnow"\n', "1998-06-30"),
}
CONFIG = """\
[data]
{data}
[demo]
folder = "{tmp}/data/demo"

[features]
{as_of}
[segmentation]
algorithms = ["kmeans"]
k_min = 3
k_max = 8
n_stability = 5

[output]
reports_dir = "{tmp}/reports"
models_dir = "{tmp}/models"
"""


def regenerate(name: str) -> Path:
    """Run ``segml report`` on one data set and save its front-page screenshot."""
    data, as_of = DATA[name]
    with tempfile.TemporaryDirectory(prefix=f"segml-shot-{name}-") as tmp:
        cfg = Path(tmp) / "segml.toml"
        cfg.write_text(CONFIG.format(data=data, tmp=tmp, as_of=f'as_of = "{as_of}"\n'
                                     if as_of else ""), encoding="utf-8")
        t = time.perf_counter()
        code = main(["report", "--config", str(cfg), "--run-id", name])
        if code:
            raise SystemExit(f"segml report on {name} failed (exit {code})")
        report = Path(tmp) / "reports" / name / "report.html"
        print(f"{name}: report in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        for width in (1280, 800):
            res = check_layout(report, width)
            print(f"{name} @ {width}px: overflowing {res['n_overflowing']}, broken images "
                  f"{len(res['broken_images'])}, wrapped numbers {res['n_wrapped_numbers']}, "
                  f"front page bottom {res['front_bottom']:.0f} px, page height "
                  f"{res['page_height']} px", file=sys.stderr)
        return screenshot(report, HERE / f"front-{name}.png", width=1280, height=1200)


if __name__ == "__main__":
    for which in sys.argv[1:] or list(DATA):
        print(f"wrote {regenerate(which)}")

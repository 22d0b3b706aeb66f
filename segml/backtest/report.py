"""Write a backtest to a folder: its tables as CSV and one self-contained HTML page.

The page uses segml's report stylesheet (``segml/templates/report.css``), figures as base64
PNG, no script: it opens offline. The folder is written whole or not at all, and replaced
only with ``overwrite`` and only when segml wrote it (a marker file).
"""

from __future__ import annotations

import base64
import html
import importlib.resources
import io
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["backtest_tables", "backtest_html", "write_backtest", "MARKER"]

#: Marker file of a backtest folder (``--force`` replaces only folders holding it).
MARKER = ".segml-backtest"


def backtest_tables(result: Any) -> dict[str, pd.DataFrame]:
    """Return the result's tables by file stem (what :func:`write_backtest` writes as CSV).

    Parameters
    ----------
    result : BacktestResult

    Returns
    -------
    dict of str to pandas.DataFrame
        ``validity``, ``overall``, ``comparisons``, ``stability``, ``segments`` and
        ``assignments`` (customer, segmenter, cutoff, segment; long format).
    """
    assign = []
    for name, a in result.assignments.items():
        long = a.rename_axis("customer_id").reset_index().melt(
            id_vars="customer_id", var_name="cutoff", value_name="segment").dropna()
        assign.append(long.assign(segmenter=name))
    return {
        "validity": result.validity,
        "overall": result.overall,
        "comparisons": result.comparisons,
        "stability": result.stability,
        "segments": result.segments,
        "assignments": pd.concat(assign, ignore_index=True)[
            ["customer_id", "segmenter", "cutoff", "segment"]],
    }


def _css() -> str:
    try:
        return (importlib.resources.files("segml") / "templates" / "report.css").read_text(
            encoding="utf-8")
    except (NotADirectoryError, FileNotFoundError):
        here = Path(__file__).resolve().parents[1] / "templates" / "report.css"
        return here.read_text(encoding="utf-8") if here.is_file() else ""


def _img(fig: Any, caption: str) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    b64 = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _figures(result: Any) -> list[str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from segml.backtest import plot

    out = []
    for metric in ("auc_bought_again", "r2_log_revenue", "capture_top10"):
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        plot.plot_validity(result, metric, ax=ax)
        out.append(_img(fig, f"{metric}: mean over cutoffs with 95% bootstrap interval"))
    if len(result.cutoffs) > 1:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        plot.plot_stability(result, "ari", ax=ax)
        out.append(_img(fig, "ARI of consecutive assignments (customers present at both)"))
        for name in result.segmenters:
            if name in ("none", "recency_deciles"):
                continue
            m = result.migration(name, len(result.cutoffs) - 2)
            fig, ax = plt.subplots(figsize=(1.5 + 0.5 * len(m.columns),
                                            1.2 + 0.4 * len(m.index)))
            plot.plot_migration(result, name, len(result.cutoffs) - 2, ax=ax)
            out.append(_img(fig, f"{name}: migration between the last two cutoffs"))
    return out


def _table(df: pd.DataFrame) -> str:
    return df.to_html(border=0, na_rep="", float_format=lambda v: f"{v:,.3f}", escape=True)


def backtest_html(result: Any, *, figures: bool = True) -> str:
    """Render the result as one self-contained HTML page.

    Parameters
    ----------
    result : BacktestResult
    figures : bool, default True
        Draw the figures (needs matplotlib).

    Returns
    -------
    str
    """
    e = html.escape
    cut = ", ".join(str(c.date()) for c in result.cutoffs)
    seg = result.segments.copy()
    seg["cutoff"] = seg["cutoff"].dt.date
    stab = result.stability.copy()
    for c in ("from", "to"):
        stab[c] = stab[c].dt.date
    parts = [
        f"<h1>Backtest: {e(', '.join(result.segmenters + result.predictors))}</h1>",
        f"<p>{len(result.cutoffs)} cutoffs ({e(cut)}), outcome window "
        f"{e(result.settings.get('horizon', ''))} after each, mode {e(result.mode)}, "
        f"{result.settings.get('n_boot')} bootstrap resamples of the customers. "
        + (f"Metrics out of sample: segment rates and means cross-fitted over "
           f"{result.settings['n_folds']} folds of customers (eta2 is in sample, descriptive)."
           if result.settings.get("n_folds", 1) > 1 else
           "Metrics IN SAMPLE (n_folds=1): optimistic for many small segments.") + "</p>",
        "<h2>Verdict</h2>", f"<pre>{e(result.verdict)}</pre>",
        "<h2>Predictive validity (mean over cutoffs)</h2>", _table(result.table("overall")),
        "<h2>Per cutoff</h2>", _table(result.table("per_cutoff")),
        "<h2>Stability between consecutive cutoffs</h2>", _table(stab),
        "<h2>Segments per cutoff (k)</h2>",
        _table(result.n_segments.rename(columns=lambda c: str(c.date()))),
        "<h2>Segments and what they did next</h2>", _table(seg),
    ]
    if figures:
        parts += ["<h2>Figures</h2>", *_figures(result)]
    if result.notes:
        parts += ["<h2>Notes</h2><ul>", *(f"<li>{e(n)}</li>" for n in result.notes), "</ul>"]
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>segml backtest</title><style>{_css()}</style></head><body><main>"
            + "\n".join(parts) + "</main></body></html>")


def write_backtest(result: Any, out: str | Path, *, overwrite: bool = False,
                   figures: bool = True) -> Path:
    """Write the tables (CSV) and ``backtest.html`` into the folder ``out``.

    Parameters
    ----------
    result : BacktestResult
    out : path-like
        The folder (created; replaced as a whole).
    overwrite : bool, default False
        Replace an existing backtest folder (CLI ``--force``).
    figures : bool, default True

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    OutputExistsError
        When ``out`` exists and ``overwrite`` is false.
    ConfigError
        When ``out`` exists and is not a folder segml's backtest wrote.
    """
    from segml._atomic import atomic_dir

    page = backtest_html(result, figures=figures)
    with atomic_dir(out, overwrite=overwrite, marker=MARKER) as tmp:
        for stem, df in backtest_tables(result).items():
            df.to_csv(tmp / f"{stem}.csv", index=False)
        (tmp / "backtest.html").write_text(page, encoding="utf-8")
        (tmp / "verdict.txt").write_text(result.summary() + "\n", encoding="utf-8")
    return Path(out)

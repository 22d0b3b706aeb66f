"""The self-contained HTML report of one pipeline run.

One HTML file, readable offline: CSS inline, figures as base64 PNG data URIs, no script, no
external URL. The page skeleton and the stylesheet are package data
(``segml/templates/report.html`` and ``report.css``); this module holds the logic. Sections
come in the order an analyst reads them, each with a stable id:

``data-quality`` -> ``features`` -> ``choice-of-k`` -> ``segments`` -> ``clusters-vs-rules``
-> ``model-card``.

A missing piece (no comparison, no saved model, a figure that could not be drawn) is said in
its section; it never stops the report. Every table cell is escaped with :func:`html.escape`.

- :func:`make_figures` draws every plot of a :class:`~segml.pipeline.RunResult` to PNG bytes
  (deterministic: fixed size and dpi, no timestamp in the metadata).
- :func:`render_report` returns the HTML text.
- :func:`write_report` writes it atomically and refuses to overwrite unless asked.
"""

from __future__ import annotations

import base64
import functools
import html
import importlib.resources
import io
import logging
import math
import os
import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segml._atomic import write_text
from segml.projection import project_2d, rfm_grid, segment_colors, segment_shares

__all__ = ["SECTIONS", "make_figures", "render_report", "write_report"]

logger = logging.getLogger(__name__)

#: (id, title) of every section, in reading order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("data-quality", "Data quality"),
    ("features", "Features"),
    ("choice-of-k", "Choice of k"),
    ("segments", "Segments"),
    ("clusters-vs-rules", "Clusters vs rules"),
    ("model-card", "Model card"),
)

_DPI = 100
_MAX_PROFILE_FEATURES = 24
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

@functools.cache
def _template(name: str) -> str:
    """Return the text of a file in ``segml/templates`` (package data, read once)."""
    try:
        res = importlib.resources.files("segml") / "templates" / name
        return res.read_text(encoding="utf-8")
    except (NotADirectoryError, FileNotFoundError):
        # setuptools' editable finder can add a non-directory entry to segml.__path__,
        # which makes importlib.resources refuse the package; fall back to the source tree.
        return (Path(__file__).resolve().parent / "templates" / name).read_text(encoding="utf-8")


def _page(**parts: str) -> str:
    """Fill ``report.html`` (a :class:`string.Template`) with the CSS and the rendered parts.

    The template holds the page skeleton and ``report.css`` the inline stylesheet; the values
    are inserted as they are (``$`` in them is not expanded).
    """
    return string.Template(_template("report.html")).substitute(
        css=_template("report.css"), **parts
    )


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


def _table(
    df: pd.DataFrame, *, index: bool = True, max_rows: int = 60,
    swatches: Mapping[Any, str] | None = None,
) -> str:
    """Escaped HTML table; ``swatches`` maps index values to a colour shown before them."""
    if df is None or df.empty:
        return '<p class="note">(empty)</p>'
    shown = df.head(max_rows)
    head = ""
    if index:
        label = shown.index.name if shown.index.name is not None else ""
        head += f"<th>{_e(label)}</th>"
    head += "".join(f"<th>{_e(c)}</th>" for c in shown.columns)
    rows = []
    for idx, row in shown.iterrows():
        cells = ""
        if index:
            sw = _swatch(swatches[idx]) if swatches and idx in swatches else ""
            cells += f"<th>{sw}{_e(_fmt(idx))}</th>"
        for col, v in row.items():
            num = isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                v, bool | np.bool_)
            cls = ' class="num"' if num else ""
            cells += f"<td{cls}>{_e(_fmt(v, str(col)))}</td>"
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(df) > max_rows:
        more = f'<p class="note">{len(df) - max_rows:,} more rows not shown.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _kv(pairs: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>" for k, v in pairs.items()
        if v is not None
    )
    return f"<table><tbody>{rows}</tbody></table>" if rows else ""


def _cards(pairs: Mapping[str, Any]) -> str:
    items = "".join(
        f'<div class="card"><b>{_e(_fmt(v, k))}</b><span>{_e(k)}</span></div>'
        for k, v in pairs.items() if v is not None
    )
    return f'<div class="cards">{items}</div>'


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


# --------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------
def _section_quality(run: Any, figures: Mapping[str, bytes]) -> str:
    quality = getattr(run, "quality", None) or {}
    if not quality:
        return _note("No data-quality report was recorded for this run.")
    parts = []
    for name, rep in quality.items():
        parts.append(f"<h3>{_e(name)}</h3>")
        if isinstance(rep, Mapping):  # e.g. the features layer's report (plain counts)
            flat = {k: v for k, v in rep.items() if not isinstance(v, Mapping | list | tuple)}
            nested = {k: v for k, v in rep.items() if isinstance(v, Mapping) and v}
            parts.append(_kv(flat) if flat else _note("Nothing to report."))
            for key, sub in nested.items():
                parts.append(f"<p>{_e(key)}:</p>" + _kv(sub))
            continue
        n_in, n_out = getattr(rep, "n_input_rows", None), getattr(rep, "n_output_rows", None)
        parts.append(_cards({"rows in": n_in, "rows out": n_out,
                             "rows excluded": None if n_in is None or n_out is None
                             else n_in - n_out}))
        frame = rep.to_frame() if hasattr(rep, "to_frame") else None
        if isinstance(frame, pd.DataFrame) and not frame.empty:
            parts.append(_table(frame, index=False))
        else:
            parts.append(_note("Nothing was excluded, repaired or flagged."))
        ignored = getattr(rep, "ignored_columns", None)
        if ignored:
            parts.append(f"<p>Ignored input columns: {_e(', '.join(map(str, ignored)))}</p>")
    return "".join(parts)


def _feature_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for col in frame.columns:
        s = frame[col]
        row: dict[str, Any] = {"feature": col, "dtype": str(s.dtype),
                               "missing_share": float(s.isna().mean()) if len(s) else np.nan}
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            v = s.astype("float64")
            row.update(mean=v.mean(), median=v.median(), min=v.min(), max=v.max(), top="")
        else:
            vc = s.astype("string").value_counts()
            row.update(mean=np.nan, median=np.nan, min=np.nan, max=np.nan,
                       top=f"{vc.index[0]} ({vc.iloc[0] / len(s):.0%})" if len(vc) else "")
        rows.append(row)
    return pd.DataFrame(rows).set_index("feature")


def _section_features(run: Any, figures: Mapping[str, bytes]) -> str:
    fs = getattr(run, "features", None)
    frame = getattr(fs, "frame", None)
    if not isinstance(frame, pd.DataFrame):
        return _note("No feature set was recorded for this run.")
    X = getattr(run, "model_matrix", None)
    parts = [_cards({
        "customers": len(frame),
        "raw features": frame.shape[1],
        "model-matrix columns": None if X is None else np.shape(X)[1],
        "customers clustered": None if X is None else np.shape(X)[0],
        "as of": getattr(fs, "as_of", None),
    })]
    spec = getattr(fs, "spec", None)
    families = getattr(spec, "families", None)
    if families:
        fam = pd.DataFrame(
            [{"family": name, "weight": getattr(f, "weight", None),
              "columns (transform)": ", ".join(f"{c} ({t})" for c, t in
                                               getattr(f, "columns", {}).items())}
             for name, f in families.items()]
        ).set_index("family")
        parts.append("<h3>Model features by family</h3>" + _table(fam))
    report = getattr(fs, "report", None)
    if isinstance(report, Mapping) and report:
        flat = {k: v for k, v in report.items() if not isinstance(v, Mapping | list | tuple)}
        if flat:
            parts.append("<h3>Feature-building counts</h3>" + _kv(flat))
    parts.append("<h3>Raw features</h3>" + _table(_feature_summary(frame), max_rows=80))
    pareto = getattr(run, "pareto", None)
    if pareto is not None:
        parts.append("<h3>Revenue concentration</h3>")
        parts.append(_cards({"top 20% of customers' revenue share":
                             getattr(pareto, "top20_share", None),
                             "Gini": getattr(pareto, "gini", None)}))
    parts.append('<div class="grid">' + _img(figures, "pareto", "ABC / Pareto curve")
                 + _img(figures, "rfm_grid", "RFM grid: customers by recency x frequency score")
                 + "</div>")
    return "".join(parts)


def _section_k(run: Any, figures: Mapping[str, bytes]) -> str:
    sel = getattr(run, "selection", None)
    if sel is None:
        return _note("No k sweep was run (the number of segments was fixed).")
    rec = dict(getattr(sel, "recommended", None) or {})
    parts = [_cards({"recommended k": rec.get("k"), "algorithm": rec.get("algorithm"),
                     "covariance": rec.get("covariance_type"),
                     "criteria agreeing": (f"{rec.get('votes')} of {rec.get('n_criteria')}"
                                           if rec.get("votes") is not None else None)})]
    rationale = getattr(sel, "rationale", "")
    if rationale:
        parts.append(f"<p>{_e(rationale)}</p>")
    parts.append(_img(figures, "k_selection", "Criteria by number of segments"))
    table = getattr(sel, "table", None)
    if isinstance(table, pd.DataFrame):
        cols = [c for c in ("algorithm", "covariance_type", "k", "silhouette_sqeuclidean_full",
                            "silhouette_euclidean_sample", "calinski_harabasz",
                            "davies_bouldin", "inertia", "inertia_knee", "bic",
                            "stability_ari_mean", "min_segment_share", "too_small")
                if c in table.columns]
        parts.append("<h3>Sweep</h3>" + _table(table[cols], index=False, max_rows=200))
    note = (getattr(sel, "settings", None) or {}).get("sampling_note")
    if note:
        parts.append(_note(note))
    return "".join(parts)


def _section_segments(run: Any, figures: Mapping[str, bytes]) -> str:
    shares = _shares(run)
    if shares is None:
        return _note("No segment labels were recorded for this run.")
    profiles = getattr(run, "profiles", None)
    table = shares.table.copy()
    roles = getattr(profiles, "roles", None)
    reasons = getattr(profiles, "role_reasons", None)
    if roles is not None:
        table.insert(1, "role", [dict(roles).get(k) for k in table.index])
    if reasons is not None and len(reasons):
        table["why this role"] = [dict(reasons).get(k) for k in table.index]
    validation = getattr(run, "validation", None)
    per = getattr(validation, "per_segment", None)
    if isinstance(per, pd.DataFrame):
        for col in ("silhouette", "separation_ratio", "jaccard"):
            if col in per.columns:
                table[col] = [per[col].get(k, np.nan) for k in table.index]
    colors = dict(zip(table.index, table.pop("color"), strict=True))
    parts = [
        _cards({"segments": len(table), "customers": shares.n_customers,
                "revenue": None if math.isnan(shares.total_revenue) else shares.total_revenue}),
        _table(table, swatches=colors),
        '<div class="grid">',
        _img(figures, "segment_shares", "Segment size and revenue share"),
        _img(figures, "projection", "Customers on the first two principal components"),
        "</div>",
        _img(figures, "profiles", "Segment profiles: z-score of each feature vs all customers"),
    ]
    ptable = getattr(profiles, "table", None)
    if isinstance(ptable, pd.DataFrame) and not ptable.empty:
        keep = [c for c in ptable.columns if c in ("n", "share", "revenue_share", "value_index",
                                                     "prospect_share")
                or c.endswith("_mean") or c.startswith("abc_")]
        parts.append("<h3>Profiles (means per segment)</h3>"
                     + _table(ptable[keep[:30]], swatches=colors))
    top = getattr(profiles, "top_categories", None)
    if isinstance(top, pd.DataFrame) and not top.empty:
        parts.append("<h3>Over-represented attributes</h3>" + _table(top, index=False,
                                                                      max_rows=80))
    parts.append(_img(figures, "silhouette", "Silhouette per segment"))
    return "".join(parts)


def _section_rules(run: Any, figures: Mapping[str, bytes]) -> str:
    comparisons = getattr(run, "comparisons", None) or {}
    skipped = getattr(run, "rules_skipped", None) or {}
    notes = "".join(
        _note(f"Rule set {name} skipped: it needs {', '.join(missing)}, which this data "
              "(no transactions, or no such columns) does not give.")
        for name, missing in skipped.items()
    )
    if not comparisons:
        return notes + _note("No rule-set comparison in this run.")
    parts = [notes]
    for name, comp in comparisons.items():
        parts.append(f"<h3>{_e(name)}</h3>")
        scores = dict(getattr(comp, "scores", None) or {})
        agreement = getattr(comp, "agreement", None)
        parts.append(_cards({**{k: v for k, v in scores.items() if k in ("ari", "ami",
                                                                           "homogeneity",
                                                                           "completeness")},
                             "agreement of matched pairs": agreement}))
        parts.append(_img(figures, f"comparison_{name}", f"Clusters vs {name}"))
        matching = getattr(comp, "matching", None)
        if isinstance(matching, pd.DataFrame) and not matching.empty:
            parts.append("<p>Best one-to-one matches:</p>" + _table(matching, index=False))
    return "".join(parts)


def score_command(run: Any) -> str:
    """Return the ``segml score`` command line that scores the run's data with its model.

    Parameters
    ----------
    run : segml.pipeline.RunResult
        A run whose model was saved; ``run.outputs["folder"]`` (set by ``write_run``)
        locates the run's ``config.toml``.

    Returns
    -------
    str
        E.g. ``segml score models/demo --config reports/demo/config.toml --out scored.csv``.
    """
    import shlex

    where = str(getattr(run, "model_path", None) or "models/<name>")
    folder = (getattr(run, "outputs", None) or {}).get("folder")
    config = str(Path(folder) / "config.toml") if folder is not None else "<run>/config.toml"
    return (f"segml score {shlex.quote(where)} --config {shlex.quote(config)} "
            "--out scored.csv")


def _section_model(run: Any, figures: Mapping[str, bytes]) -> str:
    path = getattr(run, "model_path", None)
    manifest = dict(getattr(run, "manifest", None) or {})
    if path is None and not manifest:
        return _note("The model was not saved in this run, so there is nothing to score with.")
    parts = [_kv({
        "model folder": path,
        "name": manifest.get("name"),
        "format": f"{manifest.get('format', '')} v{manifest.get('format_version', '')}"
        if manifest.get("format") else None,
        "created (UTC)": manifest.get("created"),
        "algorithm": manifest.get("algorithm"),
        "segments (k)": manifest.get("k"),
        "features as of": manifest.get("as_of"),
        "training window": " to ".join(map(str, manifest["training_window"]))
        if manifest.get("training_window") else None,
        "customers trained on": manifest.get("n_train"),
        "model features": len(manifest["model_features"])
        if manifest.get("model_features") else None,
    })]
    segs = manifest.get("segments")
    if isinstance(segs, list) and segs:
        st = pd.DataFrame(segs)
        if "id" in st.columns:
            st = st.set_index("id")
        try:
            colors = segment_colors(list(st.index))
        except Exception:  # noqa: BLE001 - colours are cosmetic
            colors = None
        parts.append("<h3>Segments saved</h3>" + _table(st, swatches=colors))
    versions = manifest.get("versions")
    if isinstance(versions, Mapping) and versions:
        parts.append("<h3>Library versions</h3>" + _kv(versions))
    parts.append(_note(
        "The model folder holds parameters and aggregates only (no customer rows); loading "
        "checks its file hashes and library versions before unpickling."
    ))
    where = str(path) if path is not None else "models/<name>"
    parts.append("<h3>How to score new customers</h3>")
    parts.append(f"<pre>{_e(score_command(run))}</pre>")
    parts.append(_note(
        "This scores this run's data again (its config.toml); to score other customers, "
        "replace --config with --transactions/--customers/--loader and --as-of. "
        "The scores go to scored.csv, the scoring report to scored.report.json."
    ))
    parts.append(
        "<pre>from segml.persistence import load_model\n"
        "from segml.scoring import score\n\n"
        f"model = load_model({_e(repr(where))})\n"
        "result = score(model, transactions, customers, as_of=\"YYYY-MM-DD\")</pre>"
    )
    return "".join(parts)


_BUILDERS = {
    "data-quality": _section_quality,
    "features": _section_features,
    "choice-of-k": _section_k,
    "segments": _section_segments,
    "clusters-vs-rules": _section_rules,
    "model-card": _section_model,
}


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

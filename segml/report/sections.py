"""The report's sections, in reading order, each rendered from a run and its figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segml.report.figures import _shares
from segml.report.front import alerts_section, front_page
from segml.report.markup import _cards, _e, _img, _kv, _note, _table

#: (id, title) of every section, in reading order: the sales manager's front page first, the
#: analyst's sections below it, data quality last. ``alerts-drift`` is shown only when the
#: report is given a refresh (:func:`segml.report.render_report`'s ``refresh=``).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("front", "Segments at a glance"),
    ("alerts-drift", "Alerts and drift"),
    ("choice-of-k", "Choice of k"),
    ("segments", "Segment profiles and validation"),
    ("features", "Features"),
    ("clusters-vs-rules", "Clusters vs rules"),
    ("model-card", "Model card"),
    ("data-quality", "Data quality"),
)

#: Feature-building counters that apply only when the data has the column named beside them
#: (an age check on transaction-only data means nothing, so it is not shown).
_COUNTER_NEEDS = {
    "implausible_ages": ("age",), "implausible_birth_years": ("birth_year", "age"),
    "missing_income": ("income",),
}


def _counters(rep: Mapping[str, Any], frame: Any) -> str:
    """Plain counts of a features report: those that apply, zeros folded into one line."""
    cols = set(frame.columns) if isinstance(frame, pd.DataFrame) else None
    flat, zero = {}, []
    for k, v in rep.items():
        if isinstance(v, Mapping | list | tuple):
            continue
        needs = _COUNTER_NEEDS.get(k)
        if needs and cols is not None and not cols & set(needs):
            continue
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer
                                                             | np.floating):
            flat[k] = v
        elif v == 0:
            zero.append(k)
        else:
            flat[k] = v
    parts = [_kv(flat)] if flat else []
    if zero:
        parts.append(f'<p class="small">Checked, none found: {_e(", ".join(zero))}.</p>')
    nested = {k: v for k, v in rep.items() if isinstance(v, Mapping) and v}
    for key, sub in nested.items():
        parts.append(f"<p>{_e(key)}:</p>" + _kv(sub))
    return "".join(parts) or _note("Nothing to report.")

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
            parts.append(_counters(rep, getattr(getattr(run, "features", None), "frame",
                                                None)))
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
    quality = getattr(run, "quality", None) or {}
    report = getattr(fs, "report", None)
    if isinstance(report, Mapping) and report and not any(
            rep is report for rep in quality.values()):
        # shown here only when the data-quality section does not show it already
        parts.append("<h3>Feature-building counts</h3>" + _counters(report, frame))
    parts.append("<h3>Raw features</h3>" + _table(_feature_summary(frame), max_rows=80))
    pareto = getattr(run, "pareto", None)
    if pareto is not None:
        parts.append("<h3>Revenue concentration</h3>")
        parts.append(_cards({"Gini of revenue": getattr(pareto, "gini", None)}))
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
    verdict = getattr(sel, "verdict", None)
    if verdict:
        parts.append(f"<p><strong>Verdict: {_e(verdict)}.</strong></p>")
    verdict_note = (getattr(sel, "settings", None) or {}).get("verdict_note")
    if verdict_note:
        parts.append(_note(verdict_note[0].upper() + verdict_note[1:] + "."))
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
        sweep = table[cols]
        # a column empty for every row (covariance for k-means) says nothing: left out
        sweep = sweep.loc[:, [c for c in cols if sweep[c].notna().any()]]
        parts.append("<h3>Sweep</h3>" + _table(sweep, index=False, max_rows=200))
    note = (getattr(sel, "settings", None) or {}).get("sampling_note")
    if note:
        parts.append(_note(note))
    return "".join(parts)


def _section_segments(run: Any, figures: Mapping[str, bytes]) -> str:
    shares = _shares(run)
    if shares is None:
        return _note("No segment labels were recorded for this run.")
    profiles = getattr(run, "profiles", None)
    # sizes and shares are on the front page; this table adds why and how well separated
    table = shares.table[["name"]].copy()
    reasons = getattr(profiles, "role_reasons", None)
    if reasons is not None and len(reasons):
        table["why this role"] = [dict(reasons).get(k) for k in table.index]
    evidence = getattr(profiles, "evidence", None)
    if evidence is not None and not isinstance(evidence, pd.DataFrame):
        try:
            ev = dict(evidence)
        except (TypeError, ValueError):
            ev = {}
        if ev:
            table["evidence"] = [ev.get(k) for k in table.index]
    validation = getattr(run, "validation", None)
    per = getattr(validation, "per_segment", None)
    if isinstance(per, pd.DataFrame):
        for col in ("silhouette", "separation_ratio", "jaccard"):
            if col in per.columns:
                table[col] = [per[col].get(k, np.nan) for k in table.index]
    colors = dict(zip(table.index, shares.table["color"], strict=True))
    overall = getattr(validation, "overall", None)
    sil = overall.get("silhouette_sqeuclidean_full") if isinstance(overall, Mapping) else None
    parts = [
        _cards({"silhouette (squared Euclidean)": sil}),
        _table(table, swatches=colors),
        '<div class="grid">',
        _img(figures, "segment_shares", "Segment size and revenue share"),
        _img(figures, "projection", "Customers on the first two principal components"),
        "</div>",
        _img(figures, "profiles", "Segment profiles: z-score of each feature vs all customers"),
    ]
    ptable = getattr(profiles, "table", None)
    if isinstance(ptable, pd.DataFrame) and not ptable.empty:
        keep = [c for c in ptable.columns if c in ("value_index", "prospect_share")
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
        # the segments themselves are in the front page's table: listed here, not repeated
        saved = ", ".join(str(i) for i in st.index)
        parts.append(f"<p>{len(st)} segments saved (ids {_e(saved)}; names and roles as in "
                     "the front page's table).</p>")
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
    "front": front_page,
    "alerts-drift": alerts_section,
    "data-quality": _section_quality,
    "features": _section_features,
    "choice-of-k": _section_k,
    "segments": _section_segments,
    "clusters-vs-rules": _section_rules,
    "model-card": _section_model,
}

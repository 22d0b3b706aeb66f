"""The run's console summary (``segml run`` prints it)."""

from __future__ import annotations

import pandas as pd

from segml.pipeline.result import RunResult

__all__ = ["print_run_summary", "skip_note", "summary_table"]


def summary_table(run: RunResult) -> pd.DataFrame:
    """One row per segment: name, role, customers, share and revenue share (percent text).

    Parameters
    ----------
    run : RunResult
        Output of :func:`segml.pipeline.analyse` or :func:`segml.pipeline.run_pipeline`.

    Returns
    -------
    pandas.DataFrame
        Indexed by segment id; ``revenue`` only when the features have ``monetary``.
    """
    prof = run.profiles
    table = pd.DataFrame({
        "segment": prof.names,
        "role": prof.roles,
        "customers": prof.table["n"],
        "share": (prof.table["share"] * 100).round(1).astype(str) + "%",
    })
    if "revenue_share" in prof.table.columns:
        table["revenue"] = (prof.table["revenue_share"] * 100).round(1).astype(str) + "%"
    return table


def print_run_summary(run: RunResult, *, outputs: bool = True) -> None:
    """Print a compact segments table and where the outputs are."""
    table = summary_table(run)
    rec = run.selection.recommended
    partition = run.selection.settings.get("partition")
    how = (f"cut into {run.segmenter.n_clusters_} value tiers (no clear segments)"
           if partition == "value_tiers"
           else f"put in {run.segmenter.n_clusters_} RFM groups (rules; no clear segments)"
           if partition == "rfm_groups"
           else f"clustered with {rec['algorithm']} k={rec['k']}")
    print(f"\n{run.data_name}: {len(run.features.frame):,} customers as of "
          f"{run.features.as_of.date()}; {len(run.labels):,} {how}")
    print(table.to_string())
    if run.selection.settings.get("verdict_note"):
        print(f"warning: {run.selection.settings['verdict_note']}")
    sil = run.validation.to_dict().get("overall", {})
    if sil:
        shown = {k: round(v, 3) for k, v in sil.items() if isinstance(v, float)}
        where = ("validation (in the tiers' own 1-D space: not evidence of clusters):"
                 if partition == "value_tiers" else
                 "validation (in the groups' 0/1 indicator space: a silhouette of 1 by "
                 "construction, not evidence of clusters):"
                 if partition == "rfm_groups" else "validation:")
        print(where, ", ".join(f"{k}={v}" for k, v in list(shown.items())[:4]))
    for name, missing in run.rules_skipped.items():
        print(f"note: rule set {name!r} skipped: {skip_note(missing)}")
    report = getattr(run.features, "report", {}) or {}
    for group, n in (report.get("degenerate") or {}).items():
        print(f"note: {n:,} {group} set aside before clustering (own segment, not clustered)")
    dropped = [r for r in report.get("feature_space") or [] if r["role"] == "dropped"]
    for r in dropped:
        print(f"note: {r['column']} left out of the distance: {r['note']}")
    floor = report.get("size_floor") or {}
    if floor.get("note"):
        print(f"note: {floor['note']}")
    if run.drivers is not None and len(run.drivers):
        top = run.drivers["share"].head(5)
        print("drivers (share of between-segment SS): "
              + ", ".join(f"{k} {v:.0%}" for k, v in top.items()))
    print(f"model: {run.model_path}")
    if outputs and run.outputs:
        print(f"report: {run.outputs['report']}")
        print(f"segments: {run.outputs['segments']}")


def skip_note(missing: list[str]) -> str:
    """Say why a rule set was skipped: the features it needs that the data lacks."""
    shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
    return f"needs {shown}, which this data has no transactions (or columns) for"

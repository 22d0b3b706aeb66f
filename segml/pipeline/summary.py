"""The run's console summary (``segml run`` prints it)."""

from __future__ import annotations

import textwrap

import pandas as pd

from segml.pipeline.result import RunResult

__all__ = ["format_segments", "print_run_summary", "skip_note", "summary_table"]

#: Width of the printed summary (``segml run``): the segment table and its action lines.
WIDTH = 100


def summary_table(run: RunResult) -> pd.DataFrame:
    """One row per segment: name, role, customers, share, revenue share and action.

    Parameters
    ----------
    run : RunResult
        Output of :func:`segml.pipeline.analyse` or :func:`segml.pipeline.run_pipeline`.

    Returns
    -------
    pandas.DataFrame
        Indexed by segment id; ``share`` and ``revenue`` are percent text, ``revenue`` only
        when the features have ``monetary``; ``action`` (the playbook's suggested action,
        whole) only when the profiles carry actions.
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
    actions = getattr(prof, "actions", None)
    if actions is not None and len(actions):
        table["action"] = pd.Series(actions).reindex(table.index)
    return table


def format_segments(table: pd.DataFrame, *, width: int = WIDTH) -> str:
    """Return :func:`summary_table` as text no wider than ``width`` characters.

    One line per segment (id, name, role, customers, share, revenue); a name longer than its
    column wraps inside the column, and the action follows on its own indented line(s),
    wrapped at word boundaries: nothing is cut.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`summary_table`.
    width : int, default 100
        Largest line length.

    Returns
    -------
    str
        The table, lines joined by newlines.
    """
    ids = [str(i) for i in table.index]
    text = {c: [("" if pd.isna(v) else f"{v:,}" if c == "customers" else str(v))
                for v in table[c]] for c in table.columns if c not in ("segment", "action")}
    id_w = max(2, *(len(i) for i in ids))
    widths = {c: max(len(c), *(len(v) for v in vals)) for c, vals in text.items()}
    fixed = id_w + sum(w + 2 for w in widths.values()) + 2
    names = ["" if pd.isna(v) else str(v) for v in table["segment"]]
    name_w = max(len("segment"), min(max(map(len, names), default=0), width - fixed))

    def row(i: str, name: str, cells: dict[str, str]) -> str:
        line = f"{i:>{id_w}}  {name:<{name_w}}"
        for c, v in cells.items():
            line += f"  {v:<{widths[c]}}" if c == "role" else f"  {v:>{widths[c]}}"
        return line.rstrip()

    lines = [row("id", "segment", {c: c for c in text})]
    pad = " " * (id_w + 2)
    for j, (i, name) in enumerate(zip(ids, names, strict=True)):
        parts = textwrap.wrap(name, name_w, break_on_hyphens=False) or [""]
        lines.append(row(i, parts[0], {c: vals[j] for c, vals in text.items()}))
        lines += [(pad + p).rstrip() for p in parts[1:]]
        action = table["action"].iloc[j] if "action" in table.columns else None
        if action is not None and not pd.isna(action) and str(action):
            lines += textwrap.wrap(str(action), width, initial_indent=pad + "action: ",
                                   subsequent_indent=pad + " " * len("action: "),
                                   break_on_hyphens=False)
    return "\n".join(lines)


def print_run_summary(run: RunResult, *, outputs: bool = True) -> None:
    """Print a compact segments table and where the outputs are.

    The segment table (:func:`format_segments`: each segment's suggested action on its own
    line) and the warning and note lines fit :data:`WIDTH` (100) columns; only the output
    paths may be longer.
    """
    table = summary_table(run)
    rec = run.selection.recommended
    partition = run.selection.settings.get("partition")
    how = (f"cut into {run.segmenter.n_clusters_} value tiers (no clear segments)"
           if partition == "value_tiers"
           else f"put in {run.segmenter.n_clusters_} RFM groups (rules; no clear segments)"
           if partition == "rfm_groups"
           else f"clustered with {rec['algorithm']} k={rec['k']}")
    print()
    _say(f"{run.data_name}: {len(run.features.frame):,} customers as of "
         f"{run.features.as_of.date()}; {len(run.labels):,} {how}")
    print(format_segments(table))
    if run.selection.settings.get("verdict_note"):
        _say(f"warning: {run.selection.settings['verdict_note']}")
    sil = run.validation.to_dict().get("overall", {})
    if sil:
        shown = {k: round(v, 3) for k, v in sil.items() if isinstance(v, float)}
        where = ("validation (in the tiers' own 1-D space: not evidence of clusters):"
                 if partition == "value_tiers" else
                 "validation (in the groups' 0/1 indicator space: a silhouette of 1 by "
                 "construction, not evidence of clusters):"
                 if partition == "rfm_groups" else "validation:")
        _say(where + " " + ", ".join(f"{k}={v}" for k, v in list(shown.items())[:4]))
    for name, missing in run.rules_skipped.items():
        _say(f"note: rule set {name!r} skipped: {skip_note(missing)}")
    report = getattr(run.features, "report", {}) or {}
    for group, n in (report.get("degenerate") or {}).items():
        _say(f"note: {n:,} {group} set aside before clustering (own segment, not clustered)")
    dropped = [r for r in report.get("feature_space") or [] if r["role"] == "dropped"]
    for r in dropped:
        _say(f"note: {r['column']} left out of the distance: {r['note']}")
    floor = report.get("size_floor") or {}
    if floor.get("note"):
        _say(f"note: {floor['note']}")
    if run.drivers is not None and len(run.drivers):
        top = run.drivers["share"].head(5)
        _say("drivers (share of between-segment SS): "
             + ", ".join(f"{k} {v:.0%}" for k, v in top.items()))
    print(f"model: {run.model_path}")
    if outputs and run.outputs:
        print(f"report: {run.outputs['report']}")
        print(f"segments: {run.outputs['segments']}")


def _say(text: str) -> None:
    """Print a warning/note line wrapped at :data:`WIDTH` (continuation lines indented)."""
    print("\n".join(textwrap.wrap(text, WIDTH, subsequent_indent="  ",
                                   break_on_hyphens=False, break_long_words=False)))


def skip_note(missing: list[str]) -> str:
    """Say why a rule set was skipped: the features it needs that the data lacks."""
    shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
    return f"needs {shown}, which this data has no transactions (or columns) for"

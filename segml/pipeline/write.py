"""Writing a run folder: segments table, profiles, metrics, config, figures and report."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from segml.pipeline.checks import RUN_FILES, RUN_MARKER
from segml.pipeline.result import RunResult
from segml.pipeline.summary import skip_note
from segml.rules.degenerate import degenerate_groups, degenerate_segment_ids

__all__ = ["config_to_toml", "segments_table", "write_run"]


def segments_table(run: RunResult) -> pd.DataFrame:
    """Build the customer -> segment, name, role, confidence table (prospects included)."""
    names = {int(k): str(v) for k, v in run.profiles.names.items()}
    roles = {int(k): str(v) for k, v in run.profiles.roles.items()}
    sc = run.scores.set_index("customer_id")
    out = pd.DataFrame(index=run.features.frame.index)
    out["segment_id"] = sc["segment_id"].reindex(out.index).fillna(-1).astype(int)
    out["segment_name"] = out["segment_id"].map(names).fillna("prospect (not clustered)")
    out["role"] = out["segment_id"].map(roles).fillna("to reach")
    # the playbook's action per segment, for the CRM; empty where none applies
    actions = {int(k): str(v) for k, v in getattr(run.profiles, "actions", {}).items()}
    out["action"] = out["segment_id"].map(actions).fillna("")
    # degenerate customers ($0-only buyers, ...): a named rule group outside the clustering
    groups = degenerate_groups(run.features.frame)
    groups = groups[groups.notna() & ~groups.index.isin(sc.index)]
    out.loc[groups.index, "segment_id"] = degenerate_segment_ids(groups).astype(int)
    out.loc[groups.index, "segment_name"] = groups + " (not clustered)"
    out.loc[groups.index, "role"] = "to review"
    out["confidence"] = sc["confidence"].reindex(out.index)
    out["distance"] = sc["distance"].reindex(out.index)
    out["fits_no_segment"] = sc["fits_no_segment"].reindex(out.index).fillna(False).astype(bool)
    for set_name, lab in run.rule_labels.items():
        out[set_name] = lab.reindex(out.index).astype("str")
    forward = run.features.spec.families.get("forward")
    for col in forward.columns if forward is not None else ():
        if col in run.features.frame:  # the forward-value columns the spec switched on
            out[col] = run.features.frame[col].reindex(out.index)
    return out.reset_index()


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def config_to_toml(cfg: dict[str, Any]) -> str:
    """Write the configuration back as TOML (unset keys are left out)."""
    lines: list[str] = ["# the configuration this run used (segml run --config this-file)"]

    def table(path: str, d: dict[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict) and v is not None}
        subs = {k: v for k, v in d.items() if isinstance(v, dict)}
        lines.append(f"\n[{path}]")
        lines.extend(f"{json.dumps(k) if not k.isidentifier() else k} = {_toml_value(v)}"
                     for k, v in scalars.items())
        for k, v in subs.items():
            table(f"{path}.{k}", v)

    for section, values in cfg.items():
        table(section, values)
    return "\n".join(lines) + "\n"


def write_run(run: RunResult, *, overwrite: bool = False,
              publish_model: bool = True) -> dict[str, Path]:
    """Write the run folder ``<reports_dir>/<run_id>/`` atomically (and publish the model).

    Contents: ``report.html`` (self-contained), ``figures/*.png``, ``segments.csv`` and
    ``segments.parquet`` (customer -> segment, name, role, confidence, rule segments),
    ``profiles.csv``, ``metrics.json``, ``config.toml`` (the configuration used) and the
    marker ``.segml-run`` (``overwrite`` replaces only folders that have it).

    When the run's model is staged (``run_pipeline(..., publish_model=False)``), it is
    published right before the run folder is moved into place, and taken back if that
    fails: a failed run leaves neither a run folder nor a model.

    Parameters
    ----------
    run : RunResult
        Output of :func:`run_pipeline`.
    overwrite : bool, default False
        Replace an existing run folder and model (``--force``); the previous model
        stays as a version.
    publish_model : bool, default True
        Publish a staged model. False (``segml report``) drops it: only the report is
        written.

    Returns
    -------
    dict of str to Path
        What was written (also stored in ``run.outputs``).
    """
    from segml._atomic import atomic_dir, check_name, check_replaceable_dir
    from segml.persistence import check_model_target
    from segml.report import make_figures, render_report

    staged = run.staged_model
    try:
        check_name(run.run_id, what="run id",
                   fix="pass a plain --run-id such as 'q4-2024' ([output] run_id in the "
                   "config).")
        if staged is not None and not publish_model:
            run.model_path = None
        folder = Path(run.config["output"]["reports_dir"]) / run.run_id
        check_replaceable_dir(folder, overwrite=overwrite, marker=RUN_MARKER, known=RUN_FILES,
                              what="run folder")
        if staged is not None and publish_model:
            check_model_target(staged.target, overwrite=overwrite)
        figures = make_figures(run)
        segments = segments_table(run)
        metrics = {
            "run_id": run.run_id,
            "data": run.data_name,
            "as_of": str(run.features.as_of.date()),
            "n_customers": int(len(run.features.frame)),
            "n_clustered": int(len(run.labels)),
            "selection": run.selection.to_dict(),
            "validation": run.validation.to_dict(),
            "comparisons": {k: v.to_dict().get("scores", {}) for k, v in run.comparisons.items()},
            "pareto": run.pareto.to_dict() if run.pareto is not None else None,
            "quality": {k: (v.to_dict() if hasattr(v, "to_dict") else v)
                        for k, v in run.quality.items()},
            "model_path": None if run.model_path is None else str(run.model_path),
            "rules_skipped": {k: skip_note(v) for k, v in run.rules_skipped.items()},
            "drivers": (None if run.drivers is None
                        else {str(k): round(float(v), 6) for k, v in run.drivers["share"].items()}),
            "timings_s": run.timings,
        }
        published = False
        try:
            with atomic_dir(folder, overwrite=overwrite, marker=RUN_MARKER,
                            known=RUN_FILES) as tmp:
                (tmp / "figures").mkdir()
                for key, png in figures.items():
                    (tmp / "figures" / f"{key}.png").write_bytes(png)
                segments.to_csv(tmp / "segments.csv", index=False, lineterminator="\n")
                segments.to_parquet(tmp / "segments.parquet", index=False)
                run.profiles.table.to_csv(tmp / "profiles.csv", lineterminator="\n")
                (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str)
                                                  + "\n")
                (tmp / "config.toml").write_text(config_to_toml(run.config))
                run.outputs = {"folder": folder, "report": folder / "report.html"}
                (tmp / "report.html").write_text(render_report(run, figures), encoding="utf-8")
                if staged is not None and publish_model:
                    staged.publish(overwrite=overwrite)
                    published = True
        except BaseException:
            if published:
                with contextlib.suppress(OSError):  # keep the original error
                    staged.unpublish()
            raise
    finally:
        if staged is not None:
            staged.discard()
            run.staged_model = None
    run.outputs.update({
        "segments": folder / "segments.csv", "profiles": folder / "profiles.csv",
        "metrics": folder / "metrics.json", "figures": folder / "figures",
    })
    return run.outputs

"""``segml`` commands on saved models and runs: score, compare, report, models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from segml.cli._common import (
    _check_out_suffix,
    _config_from_args,
    _key,
    _Progress,
    _read_labels,
)


def _score_report_path(out: Path) -> Path:
    """Return where ``segml score`` writes its report: ``<out stem>.report.json`` beside it."""
    return out.with_name(f"{out.stem}.report.json")


def _print_score_report(report: dict[str, Any]) -> None:
    left = report.get("customers_left_out", {})
    print(f"rows in {report['n_rows']:,}; scored {report['rows_scored']:,}; "
          f"prospects (segment -1) {left.get('prospects', 0):,}; not-yet customers left out "
          f"{left.get('not_yet_customers') if left.get('not_yet_customers') is not None else 'n/a'}"
          f"; fits no segment {report.get('fits_no_segment', 0):,}")
    for group, n in left.items():
        if group not in ("prospects", "not_yet_customers") and n:
            print(f"{group} set aside as in the run (not clustered): {n:,}")
    for key, label in (("columns_imputed", "columns absent, imputed"),
                       ("missing_imputed", "values imputed"),
                       ("unseen_categories", "unseen category levels"),
                       ("out_of_range", "values outside the training range")):
        val = report.get(key)
        if val:
            shown = (", ".join(f"{k}={v:,}" for k, v in val.items()) if isinstance(val, dict)
                     else ", ".join(map(str, val)))
            print(f"{label}: {shown}")


def _cmd_score(args: argparse.Namespace) -> int:
    from segml._atomic import check_writable, write_with
    from segml.persistence import load_model
    from segml.pipeline import check_run_config, load_data, score_data

    out = Path(args.out)
    _check_out_suffix(out, "score")
    report_path = _score_report_path(out)
    check_writable(out, overwrite=args.force)
    check_writable(report_path, overwrite=args.force)
    cfg = _config_from_args(args)
    check_run_config(cfg)
    model = load_model(args.model, key=_key(args))
    data = load_data(cfg, progress=lambda m: None)
    res = score_data(model, data, cfg, impute_missing=args.impute_missing,
                     unknown=args.unknown)
    scored = res.frame
    if out.suffix.lower() == ".parquet":
        write_with(out, lambda p: scored.to_parquet(p, index=False), overwrite=args.force)
    else:
        write_with(out, lambda p: scored.to_csv(p, index=False), overwrite=args.force)
    report = {"model": str(args.model), "output": str(out), **res.to_dict()}
    write_with(report_path, lambda p: p.write_text(json.dumps(report, indent=2, default=str)
                                                   + "\n"), overwrite=args.force)
    counts = scored["segment_name"].value_counts().sort_index()
    print(counts.to_string())
    print()
    _print_score_report(report)
    print(f"\nscored {res.report['rows_scored']:,} customers -> {out} (report: {report_path})")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from segml.errors import SchemaError
    from segml.rules import compare_segmentations

    a, b = _read_labels(args.a, args.column), _read_labels(args.b, args.column)
    names = (args.a.stem, args.b.stem)
    if names[0] == names[1]:
        names = (f"{args.a.parent.name}/{args.a.stem}", f"{args.b.parent.name}/{args.b.stem}")
    if names[0] == names[1]:
        names = (f"{names[0]} (a)", f"{names[1]} (b)")
    common = a.index.intersection(b.index)
    if len(common) == 0:
        ex_a = ", ".join(repr(str(v)[:20]) for v in a.index[:2])
        ex_b = ", ".join(repr(str(v)[:20]) for v in b.index[:2])
        raise SchemaError(
            f"the two files share no customer_id: 0 of {len(a):,} ids in {args.a.name} are "
            f"in {args.b.name} (e.g. {ex_a} vs {ex_b}). Fix: compare segmentations of the "
            "same customers (same id format, e.g. no leading zeros lost)."
        )
    if len(common) < max(len(a), len(b)):
        print(f"note: {len(common):,} customers are in both files; {len(a) - len(common):,} "
              f"only in {args.a.name}, {len(b) - len(common):,} only in {args.b.name} "
              "(left out of the comparison)")
    res = compare_segmentations(a, b, names=names)
    print(res.summary())
    print(json.dumps(res.to_dict().get("scores", {}), indent=2))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from segml.pipeline import N_STEPS, check_outputs, run_pipeline, write_run

    cfg = _config_from_args(args)
    if args.run_id is not None:
        cfg["output"]["run_id"] = args.run_id
    check_outputs(cfg, overwrite=args.force, model=False)  # the report folder only
    progress = _Progress(N_STEPS + 1, quiet=args.quiet, force=args.progress)
    result = run_pipeline(cfg, progress=progress, publish_model=False,
                          data_overwrite=args.force)
    progress("writing the run folder and the report (figures)")
    write_run(result, overwrite=args.force, publish_model=False)  # no model is saved
    progress.done()
    print(f"report: {result.outputs['report']}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from segml.persistence import list_models, verify_model

    key = _key(args)
    if args.action == "list":
        table = list_models(args.root, key=key)
        print(table.to_string(index=False) if len(table) else f"no models under {args.root}/")
        from segml._atomic import is_temporary

        left = sorted(p.name for p in args.root.iterdir() if is_temporary(p)) \
            if args.root.is_dir() else []
        if left:
            print(f"note: {len(left)} temporary folder(s) of interrupted saves under "
                  f"{args.root}/ ({', '.join(left[:3])}{', ...' if len(left) > 3 else ''}) are "
                  "never loaded; delete them when no save is running.", file=sys.stderr)
    else:
        if not args.name:
            from segml.errors import ConfigError

            raise ConfigError("models show needs a model folder, e.g. segml models show "
                              "models/demo. Fix: name one from `segml models list`.")
        print(json.dumps(verify_model(args.name, key=key), indent=2, default=str))
    return 0


# --------------------------------------------------------------------------- parser

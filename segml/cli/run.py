"""``segml`` commands that build: init, generate, validate-data, features, run, select-k, fit."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from segml.cli._common import (
    _check_k_flag,
    _check_out_suffix,
    _config_from_args,
    _key,
    _print_summary,
    _Progress,
)


def _cmd_init(args: argparse.Namespace) -> int:
    from segml._atomic import write_text
    from segml.config import EXAMPLE_CONFIG

    write_text(args.path, EXAMPLE_CONFIG, overwrite=args.force)
    print(f"wrote {args.path} — edit it, then: segml run --config {args.path}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from segml.datasets import make_portfolio
    from segml.errors import ConfigError

    if not 1 <= args.n_segments <= args.n_customers:  # 1: the null, one population
        raise ConfigError(
            f"--n-customers {args.n_customers} --n-segments {args.n_segments}: need "
            "1 <= n-segments <= n-customers. Fix: pass e.g. "
            "--n-customers 4000 --n-segments 5 (config: [demo] n_customers, n_segments)."
        )
    pf = make_portfolio(args.n_customers, n_segments=args.n_segments,
                        random_state=args.random_state)
    pf.write(args.out, overwrite=args.force, format=args.format)
    _print_summary(pf.summary())
    print(f"\nwrote {args.out}/ (transactions, customers, truth)")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from segml.pipeline import load_data

    cfg = _config_from_args(args)
    data = load_data(cfg, progress=lambda m: None)
    for rep in data.quality.values():
        print(rep)
    parts = []
    if data.customers is not None:
        parts.append(f"{len(data.customers):,} customers")
    if data.transactions is not None:
        parts.append(f"{len(data.transactions):,} transactions of "
                     f"{data.transactions['customer_id'].nunique():,} customers")
    print(f"\n{data.name}: OK — " + (", ".join(parts) or "no rows"))
    return 0


def _cmd_features(args: argparse.Namespace) -> int:
    from segml._atomic import check_writable, write_with
    from segml.pipeline import build_run_features, check_run_config, load_data

    out = Path(args.out)
    _check_out_suffix(out, "features")
    check_writable(out, overwrite=args.force)
    cfg = _config_from_args(args)
    check_run_config(cfg)
    data = load_data(cfg, progress=lambda m: None)
    fs = build_run_features(cfg, data)
    if out.suffix.lower() == ".csv":
        write_with(out, lambda p: fs.frame.to_csv(p), overwrite=args.force)
    else:
        write_with(out, lambda p: fs.frame.to_parquet(p), overwrite=args.force)
    print(f"{len(fs.frame):,} customers x {fs.frame.shape[1]} features as of "
          f"{fs.as_of.date()} -> {out}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from segml.cli.export import _check_export_flags, _export_after
    from segml.pipeline import (
        N_STEPS,
        check_outputs,
        print_run_summary,
        run_pipeline,
        write_run,
    )

    _check_k_flag(args.k)
    cfg = _config_from_args(args)
    if args.k:  # forced: no "no clear segments" verdict stops the run
        cfg["segmentation"]["k_min"] = cfg["segmentation"]["k_max"] = args.k
    if args.run_id is not None:
        cfg["output"]["run_id"] = args.run_id
    if args.model_format:
        cfg["output"]["model_format"] = args.model_format
    if args.playbook is not None:
        cfg["profiles"]["playbook"] = str(args.playbook)
    if args.engine is not None:  # issue 16: --engine spark runs segml.spark.run.run_spark
        cfg["engine"]["engine"] = args.engine
    if cfg["profiles"]["playbook"] is not None:
        from segml.playbook import load_playbook

        load_playbook(cfg["profiles"]["playbook"])  # a bad playbook fails before any work
    key = _key(args)
    check_outputs(cfg, overwrite=args.force)  # every output, before any work
    _check_export_flags(args)
    progress = _Progress(N_STEPS + 1, quiet=args.quiet, force=args.progress)
    result = run_pipeline(cfg, progress=progress, save_overwrite=args.force,
                          data_overwrite=args.force, publish_model=False, key=key)
    progress("writing the run folder and report, publishing the model")
    write_run(result, overwrite=args.force)
    progress.done()
    print_run_summary(result)
    if args.export is not None:
        _export_after(args, result.outputs["folder"])
    return 0


def _cmd_select_k(args: argparse.Namespace) -> int:
    from segml._atomic import check_writable, write_with
    from segml.cli.tables import compact_sweep_table
    from segml.pipeline import (
        build_run_features,
        check_run_config,
        load_data,
        model_matrix,
        run_select_k,
    )

    out = Path(args.table_out) if args.table_out is not None else None
    if out is not None:
        _check_out_suffix(out, "select-k --table-out")
        check_writable(out, overwrite=args.force)  # before any work
    progress = _Progress(3, quiet=args.quiet, force=args.progress)
    cfg = _config_from_args(args)
    check_run_config(cfg)
    progress("loading the data")
    data = load_data(cfg, progress=lambda m: None)
    progress("building the features")
    fs = build_run_features(cfg, data)
    X, _ = model_matrix(cfg, fs)
    seg = cfg["segmentation"]
    progress(f"sweeping k in {seg['k_min']}..{seg['k_max']} "
             f"({', '.join(seg['algorithms'])}) on {len(X):,} customers")
    sel = run_select_k(cfg, X, fs, progress=progress.bars)
    progress.done()
    print(compact_sweep_table(sel.table, sel.recommended))
    if out is not None:
        if out.suffix.lower() == ".parquet":
            write_with(out, lambda p: sel.table.to_parquet(p, index=False),
                       overwrite=args.force)
        else:
            write_with(out, lambda p: sel.table.to_csv(p, index=False), overwrite=args.force)
        print(f"\nfull table ({sel.table.shape[1]} columns) -> {out}")
    else:
        print(f"\n({sel.table.shape[1]} columns in the full table: pass --table-out "
              "sweep.csv to write it)")
    rec = sel.recommended
    cov = rec.get("covariance_type")
    model = str(rec.get("algorithm", "?")) + (
        f"/{cov}" if isinstance(cov, str) and cov not in ("", "None", "nan") else "")
    votes = (f" ({rec['votes']} of {rec['n_criteria']} criteria)"
             if rec.get("votes") is not None and rec.get("n_criteria") else "")
    print(f"verdict: {sel.verdict}")
    print(f"recommended: {model} k={rec.get('k')}{votes}")
    print(textwrap.fill(str(sel.rationale), width=100, break_on_hyphens=False))
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    _check_k_flag(args.k)  # before anything is loaded; so `if args.k:` below sees k >= 2
    cfg = _config_from_args(args)
    if args.k:
        cfg["segmentation"]["k_min"] = cfg["segmentation"]["k_max"] = args.k
    if args.algorithm:
        cfg["segmentation"]["algorithms"] = [args.algorithm]
    if args.name is not None:
        cfg["output"]["model_name"] = args.name
    if args.model_format:
        cfg["output"]["model_format"] = args.model_format
    from segml.pipeline import N_STEPS, check_outputs, print_run_summary, run_pipeline

    key = _key(args)
    check_outputs(cfg, overwrite=args.force, report=False)  # before any work
    progress = _Progress(N_STEPS, quiet=args.quiet, force=args.progress)
    result = run_pipeline(cfg, progress=progress, save_overwrite=args.force,
                          data_overwrite=args.force, key=key)
    progress.done()
    print_run_summary(result, outputs=False)
    return 0

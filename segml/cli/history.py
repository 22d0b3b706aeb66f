"""``segml`` commands over time: pilot, refresh, backtest."""

from __future__ import annotations

import argparse
from pathlib import Path

from segml.cli._common import (
    _check_out_suffix,
    _config_from_args,
    _key,
    _Progress,
    _read_labels,
)
from segml.cli.export import _check_export_flags, _export_after


def _cmd_pilot(args: argparse.Namespace) -> int:
    from segml._atomic import check_writable, write_with
    from segml.pilot import pilot_sample

    out = Path(args.out)
    _check_out_suffix(out, "pilot")
    check_writable(out, overwrite=args.force)
    labels = _read_labels(args.scores, args.segment_column)
    cov = None
    if args.covariates is not None:
        from segml.errors import SchemaError
        from segml.io import read_table

        cov = read_table(args.covariates, dtype={"customer_id": str})
        cols = [c.strip() for c in (args.balance_on or "").split(",") if c.strip()]
        missing = [c for c in cols + ["customer_id"] if c not in cov.columns]
        if missing:
            raise SchemaError(
                f"--covariates {args.covariates.name}: no column(s) {missing}. Fix: pass a "
                "file with customer_id and the --balance-on columns (e.g. segml features)."
            )
        cov = cov.set_index("customer_id")[cols or [c for c in cov.columns
                                                     if c != "customer_id"]]
    p = pilot_sample(labels, size=args.size, fraction=args.fraction,
                     control_share=args.control_share, stratify=not args.no_stratify,
                     covariates=cov, random_state=args.random_state)
    if out.suffix.lower() == ".parquet":
        write_with(out, lambda f: p.frame.to_parquet(f, index=False), overwrite=args.force)
    else:
        write_with(out, lambda f: p.frame.to_csv(f, index=False), overwrite=args.force)
    print(p.summary())
    print(f"\n{len(p.frame):,} customers ({(p.frame['arm'] == 'treatment').sum():,} treatment, "
          f"{(p.frame['arm'] == 'control').sum():,} control) -> {out}")
    return 0


def _cmd_refresh(args: argparse.Namespace) -> int:
    from segml._atomic import check_writable
    from segml.errors import ConfigError
    from segml.persistence import load_model
    from segml.pipeline import check_run_config, load_data
    from segml.refresh import refresh
    from segml.refresh.page import render_refresh_page

    if not args.as_of:
        raise ConfigError("segml refresh needs the date of this run. Fix: pass --as-of DATE "
                          "(e.g. --as-of 2024-12-31).")
    check_writable(args.out, overwrite=args.force)
    _check_export_flags(args)  # before any work
    if args.export is not None and args.segment_column != "segment_name":
        raise ConfigError(
            f"--export with --segment-column {args.segment_column}: the export lists segment "
            "changes by the previous scores' segment_name and segment_id. Fix: pass a "
            "--previous with those columns (segml score / refresh output), or run segml "
            "export afterwards.")
    cfg = _config_from_args(args)
    check_run_config(cfg)
    model = load_model(args.model, key=_key(args))
    data = load_data(cfg, progress=lambda m: None)
    res = refresh(model, data.transactions, data.customers, as_of=args.as_of,
                  previous=args.previous, previous_as_of=args.previous_as_of,
                  segment_column=args.segment_column, recent_days=args.recent_days,
                  impute_missing=args.impute_missing, unknown=args.unknown,
                  aggregates=data.aggregates)
    res.write(args.out, overwrite=args.force, page=render_refresh_page(res))
    print(res.summary())
    print(f"\nwrote {args.out}/ (movers.csv, migration.csv, new_alerts.csv, drift.csv, "
          "segments.csv, scores.csv, refresh.html)")
    if args.export is not None:
        _export_after(args, args.out, previous=args.previous,
                      previous_as_of=res.previous_as_of, model=model)
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from segml._atomic import check_replaceable_dir
    from segml.backtest import backtest
    from segml.backtest.report import MARKER, write_backtest
    from segml.pipeline import load_data

    check_replaceable_dir(args.out, overwrite=args.force, marker=MARKER,
                          what="backtest folder")  # before any work
    cfg = _config_from_args(args)
    progress = _Progress(None, quiet=args.quiet, force=args.progress)
    progress("loading the data")
    data = load_data(cfg, progress=lambda m: None)
    rule = args.cutoffs.strip() if not any(ch.isdigit() for ch in args.cutoffs) else [
        d.strip() for d in args.cutoffs.split(",") if d.strip()]  # a rule name, or dates
    res = backtest(data.transactions, data.customers, cutoffs=rule, horizon=args.horizon,
                   segmenters=args.segmenters, mode=args.mode, n_boot=args.n_boot,
                   start=args.start, end=args.end, random_state=args.random_state,
                   n_folds=args.n_folds, progress=progress)
    progress("writing the page and the tables")
    out = write_backtest(res, args.out, overwrite=args.force)
    progress.done()
    print(res.summary())
    print(f"\nwrote {out}/ "
          "(backtest.html, verdict.txt, CSV tables)")
    return 0

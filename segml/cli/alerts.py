"""``segml alerts``: the customer alerts of a refresh, new since the last run by default.

Two sources, one alert logic (:func:`segml.refresh.refresh`, which calls
:func:`segml.monitoring.alerts_from_transactions` at both dates and
:func:`segml.refresh.new_alerts`):

* a folder written by ``segml refresh`` (its ``new_alerts.csv``): nothing is recomputed;
* a model folder with ``--as-of DATE --previous SCORES``: the refresh is computed here
  (nothing but the alerts is written), and ``--all`` adds the alerts still open from before.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from segml.cli._common import _check_out_suffix, _config_from_args, _key, _Progress

#: Rows of the alert table printed on the terminal (the --out file has them all).
MAX_PRINTED = 20

_COLUMNS = ["customer_id", "alert", "value", "threshold", "message"]


def _is_refresh_folder(path: Path) -> bool:
    return path.is_dir() and (path / "new_alerts.csv").is_file() and (
        path / "summary.json").is_file()


def _from_folder(args: argparse.Namespace) -> tuple[pd.DataFrame, dict[str, Any]]:
    from segml.errors import ConfigError
    from segml.io import read_table

    given = [f for f, v in (("--as-of", args.as_of), ("--previous", args.previous)) if v]
    if given:
        raise ConfigError(
            f"segml alerts {args.source}: a refresh folder already holds its dates, so "
            f"{' and '.join(given)} would be ignored. Fix: leave {' and '.join(given)} out, "
            "or pass the model folder instead to compute a new refresh."
        )
    if args.all:
        raise ConfigError(
            f"segml alerts {args.source} --all: a refresh folder keeps the new alerts only "
            "(new_alerts.csv). Fix: leave --all out, or pass the model folder with --as-of "
            "DATE --previous SCORES --all to list the alerts still open too."
        )
    summary = json.loads((args.source / "summary.json").read_text(encoding="utf-8"))
    table = read_table(args.source / "new_alerts.csv", dtype={"customer_id": str})
    return table, summary


def _from_model(args: argparse.Namespace, progress: _Progress) -> tuple[pd.DataFrame,
                                                                       dict[str, Any]]:
    from segml.errors import ConfigError
    from segml.persistence import load_model
    from segml.pipeline import check_run_config, load_data
    from segml.refresh import refresh

    missing = [f for f, v in (("--as-of DATE", args.as_of), ("--previous SCORES",
                                                             args.previous)) if not v]
    if missing:
        raise ConfigError(
            f"segml alerts {args.source}: {' and '.join(missing)} needed to compute the "
            "alerts from a model (today's date and the previous run's scores, to tell the new "
            "alerts). Fix: pass them, e.g. --as-of 2024-12-31 --previous scores.csv, or pass "
            "a folder written by segml refresh instead of the model."
        )
    cfg = _config_from_args(args)
    check_run_config(cfg)
    progress("loading the model and the data")
    model = load_model(args.source, key=_key(args))
    data = load_data(cfg, progress=lambda m: None)
    progress(f"scoring and computing the alerts as of {args.as_of} and at the previous run")
    res = refresh(model, data.transactions, data.customers, as_of=args.as_of,
                  previous=args.previous, previous_as_of=args.previous_as_of,
                  segment_column=args.segment_column, recent_days=args.recent_days,
                  aggregates=data.aggregates)
    progress.done()
    table = res.alerts[[*_COLUMNS, "new"]] if args.all else res.new_alerts
    return table.reset_index(drop=True), res.to_dict()


def _cmd_alerts(args: argparse.Namespace) -> int:
    from segml._atomic import check_writable, write_with
    from segml.errors import InputFileError

    source = Path(args.source)
    out = Path(args.out) if args.out is not None else None
    if out is not None:
        _check_out_suffix(out, "alerts")
        check_writable(out, overwrite=args.force)  # before any work
    progress = _Progress(2, quiet=args.quiet, force=args.progress)
    if _is_refresh_folder(source):
        table, summary = _from_folder(args)
    elif source.is_dir() and (source / "manifest.json").is_file():
        table, summary = _from_model(args, progress)
    else:
        raise InputFileError(
            f"segml alerts {str(source)[-60:]}: neither a folder written by segml refresh "
            "(new_alerts.csv, summary.json) nor a model folder (manifest.json). Fix: pass the "
            "--out folder of segml refresh, or a model folder with --as-of DATE --previous "
            "SCORES."
        )
    if out is not None:
        if out.suffix.lower() == ".parquet":
            write_with(out, lambda p: table.to_parquet(p, index=False), overwrite=args.force)
        else:
            write_with(out, lambda p: table.to_csv(p, index=False), overwrite=args.force)
    _print_alerts(table, summary, out, all_=args.all)
    return 0


def _print_alerts(table: pd.DataFrame, summary: dict[str, Any], out: Path | None, *,
                  all_: bool) -> None:
    counts = summary.get("counts", {})
    when = f"as of {summary.get('as_of', '?')} vs {summary.get('previous_as_of', '?')}"
    n_new = int(table["new"].sum()) if "new" in table.columns else len(table)
    head = (f"{len(table):,} open alert(s), {n_new:,} new since the last run" if all_
            else f"{len(table):,} new alert(s) since the last run")
    if counts.get("alerts_before") is not None:
        head += f" ({counts['alerts_before']:,} at the previous run)"
    print(f"{head}, {when}")
    if len(table):
        print(table["alert"].value_counts().rename_axis("alert").rename("count").to_string())
        print()
        shown = table.drop(columns=["message"], errors="ignore").head(MAX_PRINTED)
        print(shown.to_string(index=False, max_colwidth=40))
        if len(table) > MAX_PRINTED:
            rest = f"{len(table) - MAX_PRINTED:,} more"
            print(f"... {rest} in {out}" if out is not None
                  else f"... {rest}: pass --out alerts.csv for the full list")
    if out is not None:
        print(f"\nwrote {len(table):,} alert(s) -> {out}")
    sys.stdout.flush()

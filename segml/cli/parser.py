"""The ``segml`` argument parser and entry point."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from segml.cli._common import (
    EXIT_USER_ERROR,
    _add,
    _data_args,
    _formatter,
    _key_args,
    _progress_args,
)
from segml.cli.alerts import _cmd_alerts
from segml.cli.export import _cmd_export, _export_args
from segml.cli.history import _cmd_backtest, _cmd_pilot, _cmd_refresh
from segml.cli.run import (
    _cmd_features,
    _cmd_fit,
    _cmd_generate,
    _cmd_init,
    _cmd_run,
    _cmd_select_k,
    _cmd_validate,
)
from segml.cli.score import _cmd_compare, _cmd_models, _cmd_report, _cmd_score
from segml.cli.serve import add_serve_parser
from segml.errors import SegmlError


def _previous_args(p: argparse.ArgumentParser, *, required: bool, help: str) -> None:
    """Add the previous-run arguments of ``segml refresh`` and ``segml alerts``."""
    p.add_argument("--previous", type=Path, required=required, help=help)
    p.add_argument("--previous-as-of", help="date of the previous run (default: its as_of "
                   "column)")
    p.add_argument("--segment-column", default="segment_name",
                   help="segment column of --previous (default segment_name)")
    p.add_argument("--recent-days", type=int, default=90,
                   help="payment-slip window in days (default 90)")


def build_parser() -> argparse.ArgumentParser:
    """Return the ``segml`` argument parser (also used to test ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="segml",
        description="segml — customer-portfolio segmentation workbench.",
        epilog=textwrap.dedent("""\
            examples:
              segml run                               # the whole pipeline on the demo data
              segml init my.toml && segml run --config my.toml
              segml run --loader cdnow --as-of 1998-06-30
              segml models list
            """),
        formatter_class=_formatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _add(sub, "init", "write a commented example config",
             "segml init segml.toml\nsegml init my.toml --force")
    p.add_argument("path", nargs="?", default="segml.toml", type=Path)
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=_cmd_init)

    p = _add(sub, "run", "run the whole pipeline and write reports/<run-id>/",
             "segml run\nsegml run --config segml.toml --force\n"
             "segml run --loader cdnow --as-of 1998-06-30 --run-id cdnow")
    _data_args(p)
    p.add_argument("--k", type=int, help="force the number of segments ([segmentation] "
                   "k_min = k_max = K); without it k is chosen, and when there are no clear "
                   "segments the run gives the RFM groups, labelled as rules ([segmentation] "
                   "no_segments)")
    p.add_argument("--run-id", help="name of the run folder (default from data and as_of); "
                   "a plain name, no path")
    p.add_argument("--force", action="store_true",
                   help="replace segml's existing run folder and model (kept as a version)")
    p.add_argument("--model-format", choices=["joblib", "skops"],
                   help="model file format ([output] model_format; default joblib)")
    p.add_argument("--playbook", type=Path, help="TOML of roles and suggested actions per "
                   "segment ([profiles] playbook; default: segml's playbooks/default.toml)")
    p.add_argument("--engine", choices=["pandas", "spark"],
                   help="compute engine ([engine] engine; default pandas). spark: read, "
                   "features, labels and all-row silhouette on Apache Spark, k chosen on the "
                   "driver with the default rule, fit per [engine] strategy ([engine] master / "
                   "remote / strategy); same run folder and model (docs/SPARK.md)")
    _export_args(p, "run")
    _key_args(p, "sign the model with")
    _progress_args(p)
    p.set_defaults(func=_cmd_run)

    p = _add(sub, "generate", "generate the synthetic demo portfolio",
             "segml generate --n-customers 10000 --out data/demo10k")
    p.add_argument("--n-customers", type=int, default=4000)
    p.add_argument("--n-segments", type=int, default=5)
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--out", type=Path, default=Path("data/demo"))
    p.add_argument("--force", action="store_true", help="overwrite an existing folder")
    p.set_defaults(func=_cmd_generate)

    p = _add(sub, "validate-data", "validate data files against the contracts and report",
             "segml validate-data --transactions orders.csv --map amount=net_value\n"
             "segml validate-data --loader marketing_campaign")
    _data_args(p)
    p.set_defaults(func=_cmd_validate)

    p = _add(sub, "features", "build the point-in-time feature frame",
             "segml features --loader cdnow --as-of 1997-12-31 --out cdnow97.parquet")
    _data_args(p)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_cmd_features)

    p = _add(sub, "select-k", "sweep k (and algorithms) and recommend one",
             "segml select-k --loader cdnow --as-of 1998-06-30")
    _data_args(p)
    _progress_args(p)
    p.add_argument("--table-out", type=Path, metavar="PATH",
                   help="write the full sweep table here (.csv or .parquet); the terminal "
                   "shows a compact one")
    p.add_argument("--force", action="store_true", help="overwrite an existing --table-out")
    p.set_defaults(func=_cmd_select_k)

    p = _add(sub, "fit", "fit and save a model (choosing k unless --k is given)",
             "segml fit --k 5 --name demo5\nsegml fit --config segml.toml --force")
    _data_args(p)
    p.add_argument("--k", type=int)
    p.add_argument("--algorithm", choices=["kmeans", "minibatch", "bisecting", "gmm"])
    p.add_argument("--name", help="model name under models/")
    p.add_argument("--force", action="store_true", help="replace (and version) an existing model")
    p.add_argument("--model-format", choices=["joblib", "skops"],
                   help="model file format ([output] model_format; default joblib)")
    _key_args(p, "sign the model with")
    _progress_args(p)
    p.set_defaults(func=_cmd_fit)

    p = _add(sub, "score", "score customers with a saved model",
             "segml score models/demo --out scores.csv   # + scores.report.json beside it\n"
             "segml score models/cdnow --loader cdnow --as-of 1998-06-30 --out s.parquet")
    p.add_argument("model", type=Path, help="the model folder (positional, no --model)")
    _data_args(p)
    p.add_argument("--impute-missing", action="store_true",
                   help="impute model columns the data lacks (counted in the report)")
    p.add_argument("--unknown", choices=["ignore", "error"], default="ignore",
                   help="category levels not seen in training: score as unknown or stop")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--force", action="store_true")
    _key_args(p, "check a signed model with")
    p.set_defaults(func=_cmd_score)

    p = _add(sub, "compare", "compare two segmentations (CSV/Parquet with customer_id)",
             "segml compare reports/demo/segments.csv rules.csv --column segment_name")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--column", help="label column (default segment_name or the 2nd column)")
    p.set_defaults(func=_cmd_compare)

    p = _add(sub, "pilot", "draw a stratified pilot (treatment and control in every segment) "
             "for a CRM", "segml pilot scores.csv --fraction 0.1 --out pilot.csv\n"
             "segml pilot reports/demo/segments.csv --size 500 --control-share 0.3 "
             "--out pilot.parquet")
    p.add_argument("scores", type=Path, help="segments per customer (CSV/Parquet with "
                   "customer_id), e.g. the output of segml score")
    p.add_argument("--segment-column", help="segment column (default segment_name)")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--size", type=int, help="customers in the pilot")
    size.add_argument("--fraction", type=float, help="share of every segment, in (0, 1]")
    p.add_argument("--control-share", type=float, default=0.5,
                   help="share of each segment's pilot kept as control (default 0.5)")
    p.add_argument("--no-stratify", action="store_true",
                   help="simple random sample of the base instead of per segment")
    p.add_argument("--covariates", type=Path, help="CSV/Parquet with customer_id and "
                   "columns to check the arms' balance on (e.g. segml features --out)")
    p.add_argument("--balance-on", metavar="COLS", help="comma-separated --covariates "
                   "columns (default: all)")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="the list, .csv or .parquet")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_cmd_pilot)

    p = _add(sub, "refresh", "re-score with a saved model and compare with the previous run "
             "(movers, new alerts, drift)",
             "segml refresh models/demo --as-of 2024-12-31 --previous scores.csv "
             "--previous-as-of 2024-09-30 --out refresh-2024q4\n"
             "segml refresh models/demo --as-of 2025-03-31 --previous "
             "refresh-2024q4/scores.csv --out refresh-2025q1")
    p.add_argument("model", type=Path, help="the model folder (positional, no --model)")
    _data_args(p)
    _previous_args(p, required=True, help="scores of the previous run (segml score output "
                   "or scores.csv of a refresh)")
    p.add_argument("--impute-missing", action="store_true",
                   help="impute model columns the data lacks (counted in the report)")
    p.add_argument("--unknown", choices=["ignore", "error"], default="ignore",
                   help="category levels not seen in training: score as unknown or stop")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--force", action="store_true", help="replace an existing folder")
    _export_args(p, "refresh")
    _key_args(p, "check a signed model with")
    p.set_defaults(func=_cmd_refresh)

    p = _add(sub, "report", "run the pipeline and write only the report folder (no model "
             "is saved)", "segml report --config segml.toml --run-id q4 --force")
    _data_args(p)
    p.add_argument("--run-id", help="name of the run folder; a plain name, no path")
    p.add_argument("--force", action="store_true", help="replace segml's existing run folder")
    _progress_args(p)
    p.set_defaults(func=_cmd_report)

    p = _add(sub, "backtest", "test segmentations on history: segment as of each cutoff, "
             "judge the window after",
             "segml backtest --loader cdnow --cutoffs quarterly --start 1997-06-30 "
             "--end 1998-03-31 --horizon 3M --out reports/backtest\n"
             "segml backtest --cutoffs 2024-03-31,2024-06-30 --horizon 90 "
             "--segmenters rfm_groups,abc --mode frozen --out bt --force")
    _data_args(p)
    p.add_argument("--cutoffs", required=True,
                   help="'monthly', 'quarterly' or comma-separated dates YYYY-MM-DD")
    p.add_argument("--start", help="first cutoff a calendar rule may give")
    p.add_argument("--end", help="last cutoff a calendar rule may give")
    p.add_argument("--horizon", required=True, help="outcome window: days (90) or 3M, 13W, 1Y")
    p.add_argument("--segmenters", default="clusters,rfm_groups,abc",
                   help="comma-separated: clusters, built-in rule sets and forecast_deciles "
                   "(BG/NBD x Gamma-Gamma spend forecast deciles); the baselines none "
                   "and recency_deciles are always added")
    p.add_argument("--mode", choices=["refit", "frozen"], default="refit")
    p.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples per cutoff")
    p.add_argument("--n-folds", type=int, default=5,
                   help="folds of customers for the out-of-sample segment rates (1: in sample)")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="folder for the page and tables")
    p.add_argument("--force", action="store_true", help="replace segml's backtest folder")
    _progress_args(p)
    p.set_defaults(func=_cmd_backtest)

    p = _add(sub, "alerts", "customer alerts of a refresh, new since the last run (--all: "
             "still open ones too)",
             "segml alerts refresh-2024q4                       # a segml refresh --out folder\n"
             "segml alerts models/demo --as-of 2024-12-31 --previous scores.csv "
             "--all --out alerts.csv")
    p.add_argument("source", type=Path, help="a segml refresh --out folder, or a model folder "
                   "(then --as-of and --previous are needed)")
    _data_args(p)
    _previous_args(p, required=False, help="with a model: scores of the previous run")
    p.add_argument("--all", action="store_true",
                   help="also the alerts already open at the previous run (with a model)")
    p.add_argument("--out", type=Path, help="write the alerts here (.csv or .parquet)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    _key_args(p, "check a signed model with")
    _progress_args(p)
    p.set_defaults(func=_cmd_alerts)

    p = _add(sub, "export", "files a CRM, mailing tool or billing imports as they are, from a "
             "run or refresh folder (docs/EXPORTS.md)",
             "segml export reports/demo-20241231 --to exports/2024q4 --format xlsx\n"
             "segml export refresh-2025q1 --model models/demo --previous refresh-2024q4 "
             "--to exports/2025q1 --excel-bom")
    p.add_argument("source", type=Path, help="a segml run folder (reports/<run-id>) or a segml "
                   "refresh --out folder")
    p.add_argument("--to", type=Path, required=True, help="the export folder (new, or "
                   "--force to replace segml's export folder)")
    p.add_argument("--format", choices=["csv", "parquet", "xlsx"], default="csv",
                   help="file format (default csv, UTF-8)")
    p.add_argument("--excel-bom", action="store_true",
                   help="CSV in UTF-8 with a byte-order mark, so Excel shows accents right")
    p.add_argument("--previous", type=Path, help="the previous run, refresh or export folder: "
                   "adds segment_changes (who changed segment since)")
    p.add_argument("--previous-as-of", help="date of a --previous score file without an as_of "
                   "column")
    p.add_argument("--model", type=Path, help="the model of a refresh folder (its roles and "
                   "actions)")
    p.add_argument("--force", action="store_true", help="replace segml's export folder")
    _key_args(p, "check a signed model with")
    p.set_defaults(func=_cmd_export)

    p = _add(sub, "models", "list saved models or show one manifest",
             "segml models list\nsegml models show models/demo")
    p.add_argument("action", choices=["list", "show"])
    p.add_argument("name", nargs="?", type=Path)
    p.add_argument("--root", type=Path, default=Path("models"))
    _key_args(p, "verify signed models with")
    p.set_defaults(func=_cmd_models)

    add_serve_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 user error).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USER_ERROR
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (SegmlError, FileNotFoundError, PermissionError) as exc:
        if args.debug:
            raise
        print(f"segml: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:  # pragma: no cover
        print("segml: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of stdout went away (`segml run | head`): every file is already written;
        # no traceback, and no second error when Python flushes stdout at exit (Python docs,
        # "Note on SIGPIPE")
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

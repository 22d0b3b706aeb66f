"""The ``segml`` command line: the same core API as the notebooks, one subcommand per step.

User errors (bad path, bad config key, schema errors, refusing to overwrite) print
one clear message and exit with status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from segml.errors import SegmlError

__all__ = ["main"]

EXIT_USER_ERROR = 2


class _Progress:
    """Step-by-step progress on stderr: ``[3/9] fitting model ... 1.2 s``."""

    def __init__(self, total: int, *, quiet: bool = False) -> None:
        self.total, self.i, self.quiet, self._t = total, 0, quiet, 0.0

    def __call__(self, message: str) -> None:
        self.done()
        self.i += 1
        self._t = time.perf_counter()
        if not self.quiet:
            print(f"[{self.i}/{self.total}] {message} ...", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self._t and not self.quiet:
            print(f"      done in {time.perf_counter() - self._t:.1f} s", file=sys.stderr,
                  flush=True)
        self._t = 0.0


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _add(sub: Any, name: str, help_: str, examples: str) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name, help=help_, description=help_,
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip(), "  "),
        formatter_class=_formatter,
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    return p


def _data_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data (default: the demo portfolio)")
    g.add_argument("--config", type=Path, help="TOML config (see `segml init`)")
    g.add_argument("--loader", help="named dataset: cdnow, cdnow_sample, marketing_campaign, "
                   "mall_customers, online_retail")
    g.add_argument("--path", type=Path, help="file for --loader (defaults to ../shared/data)")
    g.add_argument("--transactions", type=Path, help="your transactions file")
    g.add_argument("--customers", type=Path, help="your customers file")
    g.add_argument("--map", action="append", default=[], metavar="CANON=COLUMN",
                   help="column mapping for the transactions file, repeatable")
    g.add_argument("--customer-map", action="append", default=[], metavar="CANON=COLUMN",
                   help="column mapping for the customers file, repeatable")
    g.add_argument("--as-of", help="features use rows up to this day (required for real data)")
    g.add_argument("--sep", help="separator of both text files: one character, 'tab' or '\\s+' "
                   "(default: sniffed; refused when ambiguous)")
    g.add_argument("--encoding", help="text encoding of both files, e.g. cp1252 "
                   "(default: byte-order mark, else strict UTF-8)")
    g.add_argument("--decimal", help="decimal mark, '.' (default) or ','")
    g.add_argument("--thousands", help="thousands mark ('.' when --decimal is ','; '' for none)")
    g.add_argument("--sheet", help="Excel sheet of the transactions file")
    g.add_argument("--customer-sheet", help="Excel sheet of the customers file")
    g.add_argument("--ignore-columns", metavar="COLS",
                   help="comma-separated file columns to leave out, in either file "
                   "([data] ignore_columns)")
    v = p.add_argument_group("value parsing (config [data] keys of the same names)")
    v.add_argument("--date-format", metavar="FORMAT",
                   help="layout of the transaction dates: strptime ('%%d/%%m/%%Y'), ISO8601, "
                   "excel, epoch_s or epoch_ms ([data] timestamp_format)")
    v.add_argument("--customer-date-format", metavar="FORMAT",
                   help="layout of the customers' signup_date ([data] customer_date_format)")
    order = v.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True,
                       help="01/02/2024 is 1 February (when the values do not show it)")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="01/02/2024 is 2 January")
    v.add_argument("--date-sentinels", choices=["error", "exclude"],
                   help="placeholder dates such as 1900-01-01 or 9999-12-31")
    v.add_argument("--errors", choices=["raise", "exclude"],
                   help="rows with a missing customer id, date or amount (excluded are counted)")
    v.add_argument("--dedupe", action="store_const", const=True,
                   help="drop exact duplicate rows (counted either way)")
    v.add_argument("--exclude-products", metavar="CODES",
                   help="comma-separated product codes that are not sales, e.g. POST,DOT,M")
    v.add_argument("--exclude-product-pattern", metavar="REGEX",
                   help="regex for product codes that are not sales, e.g. '^(POST|DOT)$'")


def _key_args(p: argparse.ArgumentParser, what: str) -> None:
    g = p.add_argument_group("signing key (HMAC-SHA256; never on the command line itself)")
    k = g.add_mutually_exclusive_group()
    k.add_argument("--key-file", type=Path, metavar="PATH",
                   help=f"read the key to {what} from this file (key= in Python)")
    k.add_argument("--key-env", metavar="VAR",
                   help=f"read the key to {what} from this environment variable")


def _key(args: argparse.Namespace) -> bytes | None:
    """Return the signing key named by ``--key-file`` / ``--key-env`` (None without them)."""
    from segml.errors import ConfigError

    path, var = getattr(args, "key_file", None), getattr(args, "key_env", None)
    if path is not None:
        try:
            key = Path(path).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise ConfigError(
                f"--key-file {path}: cannot read it ({exc.strerror or exc}). Fix: pass a "
                "readable file that holds the key (key=b'...' in Python), or use --key-env VAR."
            ) from exc
        if not key:
            raise ConfigError(f"--key-file {path} is empty. Fix: put the key in that file "
                              "(key=b'...' in Python), or use --key-env VAR.")
        return key
    if var is not None:
        value = os.environ.get(var, "")
        if not value:
            raise ConfigError(
                f"--key-env {var}: that environment variable is not set or is empty. Fix: "
                f"export {var}=<key> first, or use --key-file PATH (key=b'...' in Python)."
            )
        return value.encode("utf-8")
    return None


def _config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    from segml.config import load_config, validate_config
    from segml.errors import ConfigError

    cfg = load_config(getattr(args, "config", None))
    over: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for key in ("loader", "path", "transactions", "customers"):
        val = getattr(args, key, None)
        if val is not None:
            data[key] = str(val)
    for key in ("sep", "encoding", "decimal", "thousands", "sheet", "customer_sheet"):
        if getattr(args, key, None) is not None:
            data[key] = getattr(args, key)
    if getattr(args, "ignore_columns", None):
        data["ignore_columns"] = [c.strip() for c in args.ignore_columns.split(",") if c.strip()]
    for flag, key, example in (("map", "mapping", "amount=value"),
                               ("customer_map", "customer_mapping", "customer_id=cust_no")):
        for item in getattr(args, flag, []) or []:
            if "=" not in item:
                canon, col = example.split("=")
                raise ConfigError(
                    f"--{flag.replace('_', '-')} {item!r}: expected CANON=COLUMN. Fix: write it "
                    f"as --{flag.replace('_', '-')} {example} (config: [data.{key}] {canon} = "
                    f"\"{col}\").")
            k, v = item.split("=", 1)
            data.setdefault(key, {})[k.strip()] = v.strip()
    for key, attr in (("timestamp_format", "date_format"), ("dayfirst", "dayfirst"),
                      ("customer_date_format", "customer_date_format"),
                      ("date_sentinels", "date_sentinels"), ("errors", "errors"),
                      ("dedupe", "dedupe"), ("exclude_product_pattern", "exclude_product_pattern")):
        if getattr(args, attr, None) is not None:
            data[key] = getattr(args, attr)
    if getattr(args, "exclude_products", None) is not None:
        data["exclude_products"] = [c.strip() for c in args.exclude_products.split(",")
                                    if c.strip()]
    if data:
        over["data"] = data
    if getattr(args, "as_of", None) is not None:  # --as-of "" is refused, not ignored
        over["features"] = {"as_of": args.as_of}
    if over:
        merged = {**cfg}
        for section, vals in over.items():
            merged[section] = {**cfg[section], **vals}
        if "loader" in data or "transactions" in data:
            for k in ("loader", "transactions", "customers"):
                if k not in data:
                    merged["data"][k] = None
        cfg = validate_config(merged)
    return cfg


# --------------------------------------------------------------------------- handlers


def _cmd_init(args: argparse.Namespace) -> int:
    from segml._atomic import write_text
    from segml.config import EXAMPLE_CONFIG

    write_text(args.path, EXAMPLE_CONFIG, overwrite=args.force)
    print(f"wrote {args.path} — edit it, then: segml run --config {args.path}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from segml.datasets import make_portfolio
    from segml.errors import ConfigError

    if not 2 <= args.n_segments <= args.n_customers:
        raise ConfigError(
            f"--n-customers {args.n_customers} --n-segments {args.n_segments}: need "
            "2 <= n-segments <= n-customers. Fix: pass e.g. "
            "--n-customers 4000 --n-segments 5 (config: [demo] n_customers, n_segments)."
        )
    pf = make_portfolio(args.n_customers, n_segments=args.n_segments,
                        random_state=args.random_state)
    pf.write(args.out, overwrite=args.force, format=args.format)
    _print_summary(pf.summary())
    print(f"\nwrote {args.out}/ (transactions, customers, truth)")
    return 0


def _print_summary(summary: dict[str, Any]) -> None:
    width = max(len(k) for k in summary)
    for k, v in summary.items():
        if isinstance(v, dict):
            print(f"{k:<{width}}")
            for kk, vv in v.items():
                print(f"  {kk:<{width}} {_fmt(vv)}")
        else:
            print(f"{k:<{width}} {_fmt(v)}")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 10 else f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


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
    from segml.pipeline import (
        N_STEPS,
        check_outputs,
        print_run_summary,
        run_pipeline,
        write_run,
    )

    cfg = _config_from_args(args)
    if args.run_id is not None:
        cfg["output"]["run_id"] = args.run_id
    if args.model_format:
        cfg["output"]["model_format"] = args.model_format
    key = _key(args)
    check_outputs(cfg, overwrite=args.force)  # every output, before any work
    progress = _Progress(N_STEPS + 1, quiet=args.quiet)
    result = run_pipeline(cfg, progress=progress, save_overwrite=args.force,
                          data_overwrite=args.force, publish_model=False, key=key)
    progress("writing the run folder and report, publishing the model")
    write_run(result, overwrite=args.force)
    progress.done()
    print_run_summary(result)
    return 0


def _cmd_select_k(args: argparse.Namespace) -> int:
    from segml.pipeline import (
        build_run_features,
        check_run_config,
        load_data,
        model_matrix,
        run_select_k,
    )

    cfg = _config_from_args(args)
    check_run_config(cfg)
    data = load_data(cfg, progress=lambda m: None)
    fs = build_run_features(cfg, data)
    X, _ = model_matrix(cfg, fs)
    sel = run_select_k(cfg, X, fs, progress=not args.quiet)
    print(sel.table.to_string(max_rows=60))
    print(f"\nrecommended: {sel.recommended}\n{sel.rationale}")
    return 0


def _check_k_flag(k: int | None) -> None:
    """Refuse ``--k`` below 2 before anything is loaded (k <= customers is checked later)."""
    from segml.errors import ConfigError

    if k is not None and k < 2:
        raise ConfigError(
            f"--k {k}: a segmentation needs at least 2 segments. Fix: pass --k 2 or more "
            "(config: [segmentation] k_min = k_max = K), or leave --k out to choose k."
        )


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
    progress = _Progress(N_STEPS, quiet=args.quiet)
    result = run_pipeline(cfg, progress=progress, save_overwrite=args.force,
                          data_overwrite=args.force, key=key)
    progress.done()
    print_run_summary(result, outputs=False)
    return 0


def _check_out_suffix(out: Path, command: str) -> None:
    """Refuse an ``--out`` that is neither .csv nor .parquet (it was written as CSV anyway)."""
    from segml.errors import ConfigError

    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(
            f"--out {str(out)[-60:]}: segml {command} writes .csv or .parquet, not "
            f"{out.suffix or 'a file without extension'!r}. Fix: end --out with .csv or .parquet."
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


def _read_labels(path: Path, column: str | None) -> Any:
    """Read one segmentation file for ``segml compare``: customer_id -> label Series."""
    from segml.errors import SchemaError
    from segml.io import read_table

    df = read_table(path, dtype={"customer_id": str})
    cols = [str(c) for c in df.columns]
    shown = ", ".join(repr(c) for c in cols[:8]) + (", ..." if len(cols) > 8 else "")
    if "customer_id" not in df.columns:
        raise SchemaError(
            f"{path.name}: no 'customer_id' column (columns: {shown}). Fix: name the id "
            "column customer_id in the file (segml compare aligns the two files on it)."
        )
    labels = [c for c in cols if c != "customer_id"]
    if column is None:
        if not labels:
            raise SchemaError(
                f"{path.name}: only a customer_id column, no label column to compare. Fix: "
                "add a label column (e.g. segment_name), or compare segments.csv of a run."
            )
        column = "segment_name" if "segment_name" in labels else labels[0]
    elif column not in df.columns or column == "customer_id":
        raise SchemaError(
            f"{path.name}: no label column {column!r} (columns: {shown}). Fix: pass "
            "--column with one of these columns, or leave it out to use segment_name "
            "(or the first non-id column)."
        )
    ids = df["customer_id"]
    dup = ids[ids.duplicated()]
    if len(dup):
        ex = ", ".join(repr(str(v)[:20]) for v in dup.unique()[:3])
        raise SchemaError(
            f"{path.name}: customer_id has {len(dup):,} duplicated row(s), e.g. {ex}; a "
            "segmentation gives one label per customer. Fix: keep one row per customer_id."
        )
    return df.set_index("customer_id")[column]


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
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from segml.pipeline import check_outputs, run_pipeline, write_run

    cfg = _config_from_args(args)
    if args.run_id is not None:
        cfg["output"]["run_id"] = args.run_id
    check_outputs(cfg, overwrite=args.force, model=False)  # the report folder only
    result = run_pipeline(cfg, progress=_Progress(99, quiet=True), publish_model=False,
                          data_overwrite=args.force)
    write_run(result, overwrite=args.force, publish_model=False)  # no model is saved
    print(f"report: {result.outputs['report']}")
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from segml._atomic import check_replaceable_dir
    from segml.backtest import backtest
    from segml.backtest.report import MARKER, write_backtest
    from segml.pipeline import load_data

    check_replaceable_dir(args.out, overwrite=args.force, marker=MARKER,
                          what="backtest folder")  # before any work
    cfg = _config_from_args(args)
    data = load_data(cfg, progress=lambda m: None)
    rule = args.cutoffs.strip() if not any(ch.isdigit() for ch in args.cutoffs) else [
        d.strip() for d in args.cutoffs.split(",") if d.strip()]  # a rule name, or dates
    res = backtest(data.transactions, data.customers, cutoffs=rule, horizon=args.horizon,
                   segmenters=args.segmenters, mode=args.mode, n_boot=args.n_boot,
                   start=args.start, end=args.end, random_state=args.random_state)
    print(res.summary())
    print(f"\nwrote {write_backtest(res, args.out, overwrite=args.force)}/ "
          "(backtest.html, verdict.txt, CSV tables)")
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
    p.add_argument("--run-id", help="name of the run folder (default from data and as_of); "
                   "a plain name, no path")
    p.add_argument("--force", action="store_true",
                   help="replace segml's existing run folder and model (kept as a version)")
    p.add_argument("--model-format", choices=["joblib", "skops"],
                   help="model file format ([output] model_format; default joblib)")
    _key_args(p, "sign the model with")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
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
    p.add_argument("--quiet", action="store_true")
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
    p.add_argument("--quiet", action="store_true")
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
    p.add_argument("--previous", type=Path, required=True,
                   help="scores of the previous run (segml score output or scores.csv of "
                   "a refresh)")
    p.add_argument("--previous-as-of", help="date of the previous run (default: its as_of "
                   "column)")
    p.add_argument("--segment-column", default="segment_name",
                   help="segment column of --previous (default segment_name)")
    p.add_argument("--recent-days", type=int, default=90,
                   help="payment-slip window in days (default 90)")
    p.add_argument("--impute-missing", action="store_true",
                   help="impute model columns the data lacks (counted in the report)")
    p.add_argument("--unknown", choices=["ignore", "error"], default="ignore",
                   help="category levels not seen in training: score as unknown or stop")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--force", action="store_true", help="replace an existing folder")
    _key_args(p, "check a signed model with")
    p.set_defaults(func=_cmd_refresh)

    p = _add(sub, "report", "run the pipeline and write only the report folder (no model "
             "is saved)", "segml report --config segml.toml --run-id q4 --force")
    _data_args(p)
    p.add_argument("--run-id", help="name of the run folder; a plain name, no path")
    p.add_argument("--force", action="store_true", help="replace segml's existing run folder")
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
                   help="comma-separated: clusters and built-in rule sets (the baselines none "
                   "and recency_deciles are always added)")
    p.add_argument("--mode", choices=["refit", "frozen"], default="refit")
    p.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples per cutoff")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="folder for the page and tables")
    p.add_argument("--force", action="store_true", help="replace segml's backtest folder")
    p.set_defaults(func=_cmd_backtest)

    p = _add(sub, "models", "list saved models or show one manifest",
             "segml models list\nsegml models show models/demo")
    p.add_argument("action", choices=["list", "show"])
    p.add_argument("name", nargs="?", type=Path)
    p.add_argument("--root", type=Path, default=Path("models"))
    _key_args(p, "verify signed models with")
    p.set_defaults(func=_cmd_models)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

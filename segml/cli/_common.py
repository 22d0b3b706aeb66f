"""Shared pieces of the ``segml`` CLI: argument groups, config from flags, progress, checks."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

EXIT_USER_ERROR = 2


class _Progress:
    """Step-by-step progress on stderr: ``[3/9] fitting model ...`` then ``done in 1.2 s``.

    ``total`` None: steps are numbered without a total (``[3] ...``). A message starting
    with ``note: `` is printed within the current step and takes no number.

    Shown when stderr is a terminal; silent with ``quiet`` (``--quiet``) and when stderr is
    not a terminal (a log, a pipe) unless ``force`` (``--progress``). ``bars`` tells the
    pipeline whether its long loops (the k sweep) may draw a progress bar too.
    """

    def __init__(self, total: int | None, *, quiet: bool = False, force: bool = False
                 ) -> None:
        self.total, self.i, self._t = total, 0, 0.0
        self.quiet = bool(quiet) or not (force or _stderr_is_tty())
        self.bars = not self.quiet

    def __call__(self, message: str) -> None:
        if message.startswith("note: "):  # said within a step: no number of its own
            if not self.quiet:
                print(f"      {message}", file=sys.stderr, flush=True)
            return
        self.done()
        self.i += 1
        self._t = time.perf_counter()
        if not self.quiet:
            step = f"{self.i}/{self.total}" if self.total else str(self.i)
            print(f"[{step}] {message} ...", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self._t and not self.quiet:
            print(f"      done in {time.perf_counter() - self._t:.1f} s", file=sys.stderr,
                  flush=True)
        self._t = 0.0


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def _progress_args(p: argparse.ArgumentParser) -> None:
    """``--quiet`` / ``--progress``: progress lines on stderr (default: only on a terminal)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quiet", action="store_true", help="no progress lines")
    g.add_argument("--progress", action="store_true",
                   help="progress lines on stderr even when it is not a terminal")


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
                   "mall_customers, online_retail, complete_journey, ta_feng")
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


def _check_k_flag(k: int | None) -> None:
    """Refuse ``--k`` below 2 before anything is loaded (k <= customers is checked later)."""
    from segml.errors import ConfigError

    if k is not None and k < 2:
        raise ConfigError(
            f"--k {k}: a segmentation needs at least 2 segments. Fix: pass --k 2 or more "
            "(config: [segmentation] k_min = k_max = K), or leave --k out to choose k."
        )


def _check_out_suffix(out: Path, command: str) -> None:
    """Refuse an ``--out`` that is neither .csv nor .parquet (it was written as CSV anyway)."""
    from segml.errors import ConfigError

    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(
            f"--out {str(out)[-60:]}: segml {command} writes .csv or .parquet, not "
            f"{out.suffix or 'a file without extension'!r}. Fix: end --out with .csv or .parquet."
        )


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

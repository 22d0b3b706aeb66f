"""The input of ``segml run --engine spark``: the run's files read and checked with Spark.

:func:`read_run_input` reads what ``segml run`` reads, so that the features can be built on
Spark:

* **your files** (``[data] transactions`` / ``customers``, ``--transactions``): CSV (every
  column read as text, then parsed) or Parquet, with Spark's own readers, so nothing passes
  through pandas. segml's table contract is applied in Spark: the ``mapping`` /
  ``customer_mapping`` renames, the required columns, missing ids, timestamps and amounts that
  do not parse, duplicate customer ids, status synonyms, and (CSV) bytes that are not valid
  in the configured encoding (Spark would show them as U+FFFD without a word). Problems raise
  :class:`~segml.errors.SchemaError` with the column, the count, a few offending values and the
  fix, as :func:`segml.schema.validate_transactions` with ``errors="raise"`` does.
* **the demo portfolio and the named loaders** (``cdnow``, ``ta_feng``...): loaded and
  validated by segml's pandas path (:func:`segml.pipeline.load_data`), then handed to Spark
  (``createDataFrame``). They are fixed, one-machine datasets.

Not validated on Spark (the pandas path checks them; see ``docs/SPARK.md``): placeholder dates
(1900-01-01, 2099-12-31), day/month order guessed from the values (give ``timestamp_format``),
exact duplicate rows (not counted), and the share of transaction ids found in the customers
table. ``[data]`` options that only the pandas reader implements are refused by
:func:`check_spark_data_options` before any work.
"""

from __future__ import annotations

import codecs
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from segml.errors import EngineError, InputFileError, SchemaError
from segml.schema import DataQualityReport
from segml.schema.columns import (
    CUSTOMER_COLUMNS,
    REQUIRED_CUSTOMER_COLUMNS,
    REQUIRED_TRANSACTION_COLUMNS,
    STATUS_SYNONYMS,
    TRANSACTION_COLUMNS,
)

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column, SparkSession
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["SparkInput", "check_spark_data_options", "read_run_input", "spark_charset",
           "spark_date_pattern"]

#: ``[data]`` options only the pandas reader implements, with the value that is a no-op.
_PANDAS_ONLY = {
    "negative_amounts": "net", "decimal": None, "thousands": None, "sheet": None,
    "customer_sheet": None, "ignore_columns": [], "errors": "raise", "dayfirst": None,
    "date_sentinels": "error", "dedupe": False, "exclude_products": [],
    "exclude_product_pattern": None,
}
#: Loaders whose source has no transactions (the Spark features need them).
_NO_TRANSACTIONS = ("marketing_campaign", "mall_customers")
_STRPTIME = {"%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm",
             "%S": "ss", "%f": "SSSSSS", "%b": "MMM", "%B": "MMMM", "%j": "DDD"}
_N_SHOW = 5
_REPLACEMENT = "\ufffd"
#: Python codec name -> the charset Spark's CSV reader takes
_SPARK_CHARSETS = {"utf-8": "utf-8", "latin-1": "iso-8859-1", "iso8859-1": "iso-8859-1",
                   "ascii": "us-ascii", "utf-16": "utf-16", "utf-16-be": "utf-16be",
                   "utf-16-le": "utf-16le", "utf-32": "utf-32"}


@dataclass
class SparkInput:
    """Input of a Spark run.

    Attributes
    ----------
    name : str
        Source name (``demo``, the loader, or the transactions file stem).
    transactions : pyspark.sql.DataFrame
        Canonical transactions (``customer_id`` string, ``timestamp`` timestamp, ``amount``
        double, optional canonical columns).
    customers : pyspark.sql.DataFrame or None
        Canonical customers.
    quality : dict
        One :class:`~segml.schema.DataQualityReport` per table.
    truth : pandas.Series or None
        Planted segments (demo only).
    default_as_of : pandas.Timestamp or None
        The demo's end date (real data: ``features.as_of`` is required).
    """

    name: str
    transactions: SparkDataFrame
    customers: SparkDataFrame | None
    quality: dict[str, Any] = field(default_factory=dict)
    truth: pd.Series | None = None
    default_as_of: pd.Timestamp | None = None


def check_spark_data_options(cfg: dict[str, Any]) -> None:
    """Refuse ``[data]`` settings the Spark reader does not implement (before any work).

    Raises
    ------
    EngineError
        Naming the options, their values and the fix.
    """
    data = cfg["data"]
    used = {k: data.get(k) for k, off in _PANDAS_ONLY.items() if data.get(k, off) != off}
    if used:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in used.items())
        raise EngineError(
            f"config: [data] {shown} is only implemented by the pandas reader; the Spark "
            "engine would ignore it. Fix: remove it from [data] (and its CLI flag, e.g. "
            f"--{next(iter(used)).replace('_', '-')}), or run with the default engine "
            "([engine] engine = \"pandas\", no --engine spark)."
        )
    if data["loader"] in _NO_TRANSACTIONS:
        raise EngineError(
            f"config: data.loader={data['loader']!r} has no transactions, and the Spark engine "
            "builds features from transactions only. Fix: run it with the default engine "
            "([engine] engine = \"pandas\", no --engine spark)."
        )
    for key in ("timestamp_format", "customer_date_format"):
        if data.get(key) is not None:
            spark_date_pattern(data[key], key)
    spark_charset(data.get("encoding"))
    for key in ("transactions", "customers"):
        path = data.get(key)
        if path and Path(str(path)).suffix.lower() not in (".csv", ".txt", ".tsv", ".parquet"):
            raise EngineError(
                f"config: data.{key}={_short(path)}: the Spark engine reads CSV and Parquet "
                "files only. Fix: convert it to Parquet or CSV (--transactions / --customers), "
                "or use the default engine ([engine] engine = \"pandas\")."
            )


def spark_charset(encoding: str | None) -> str:
    """Translate segml's ``[data] encoding`` (a Python codec name) into Spark's CSV charset.

    Spark 4's CSV reader takes only ISO-8859-1, US-ASCII, UTF-8, UTF-16(BE/LE) and UTF-32.

    Raises
    ------
    EngineError
        An encoding Python does not know, or one Spark's CSV reader does not take (cp1252...).

    Examples
    --------
    >>> spark_charset("latin-1"), spark_charset(None)
    ('iso-8859-1', 'utf-8')
    """
    if encoding is None:
        return "utf-8"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        name = None
    if name not in _SPARK_CHARSETS:
        raise EngineError(
            f"config: data.encoding={encoding!r} is not an encoding Spark's CSV reader takes "
            f"(it takes {', '.join(sorted(set(_SPARK_CHARSETS.values())))}). Fix: convert the "
            f"file to UTF-8 (e.g. iconv -f {encoding} -t utf-8), or use the default engine "
            "([engine] engine = \"pandas\"), which reads it."
        )
    return _SPARK_CHARSETS[name]


def spark_date_pattern(fmt: str | None, key: str = "timestamp_format") -> str | None:
    """Translate segml's ``timestamp_format`` (strptime or ``"ISO8601"``) into a Spark pattern.

    Parameters
    ----------
    fmt : str or None
        ``None`` / ``"ISO8601"`` (Spark's ISO parser) or a strptime format such as
        ``"%d/%m/%Y %H:%M"``.
    key : str
        Config key named in the error.

    Returns
    -------
    str or None
        A Spark datetime pattern, or None for ISO 8601.

    Raises
    ------
    EngineError
        ``excel`` / ``epoch_*`` layouts and strptime directives without a Spark equivalent.

    Examples
    --------
    >>> spark_date_pattern("%d/%m/%Y %H:%M")
    'dd/MM/yyyy HH:mm'
    """
    if fmt is None or fmt == "ISO8601":
        return None
    directives = re.findall(r"%.", fmt)
    bad = [d for d in directives if d not in _STRPTIME]
    if bad or "'" in fmt:
        raise EngineError(
            f"config: data.{key}={fmt!r} uses {bad[:3] or ['quotes']}, which the Spark reader "
            f"does not translate (it takes ISO8601 and the strptime codes "
            f"{' '.join(_STRPTIME)}). Fix: set [data] {key} (--date-format) to such a "
            "format, or use the default engine ([engine] engine = \"pandas\")."
        )
    out, pos = [], 0
    for m in re.finditer(r"%.", fmt):
        lit = fmt[pos:m.start()]
        out.append(re.sub(r"([A-Za-z]+)", r"'\1'", lit))
        out.append(_STRPTIME[m.group()])
        pos = m.end()
    out.append(re.sub(r"([A-Za-z]+)", r"'\1'", fmt[pos:]))
    return "".join(out)


def read_run_input(spark: SparkSession, cfg: dict[str, Any], *, progress: Any = None,
                   overwrite: bool = False) -> SparkInput:
    """Read and check the run's input on Spark (module docstring).

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session (:func:`segml.spark.session.session_from_config`).
    cfg : dict
        Validated configuration.
    progress : callable, optional
        Receives one message per step.
    overwrite : bool, default False
        Allow regenerating a demo folder holding another portfolio.

    Returns
    -------
    SparkInput

    Raises
    ------
    InputFileError
        A local file that does not exist.
    SchemaError
        A required column missing, a mapping naming no column, values that do not parse,
        duplicate customer ids.
    """
    say = progress or (lambda m: None)
    data = cfg["data"]
    check_spark_data_options(cfg)
    if data["transactions"] or data["customers"]:
        if not data["transactions"]:
            raise EngineError(
                "config: data.customers is set without data.transactions; the Spark engine "
                "builds features from transactions. Fix: pass --transactions (config [data] "
                "transactions), or use the default engine ([engine] engine = \"pandas\")."
            )
        say("reading and checking your files with Spark")
        quality: dict[str, Any] = {}
        cust = None
        if data["customers"]:
            cust, quality["customers"] = _customers(spark, cfg)
        tx, quality["transactions"] = _transactions(spark, cfg)
        return SparkInput(name=Path(data["transactions"]).stem, transactions=tx,
                          customers=cust, quality=quality)
    from segml.pipeline.load import load_data

    # the demo / a named loader: segml's pandas reader and checks, then Spark
    pandas_cfg = {**cfg, "engine": {**cfg["engine"], "engine": "pandas"}}
    loaded = load_data(pandas_cfg, progress=say, overwrite=overwrite)
    if loaded.transactions is None:  # a loader shipping aggregates only
        raise EngineError(
            f"data source {loaded.name!r} has no transactions, and the Spark engine builds "
            "features from transactions only. Fix: use the default engine ([engine] engine = "
            "\"pandas\", no --engine spark)."
        )
    say(f"handing {len(loaded.transactions):,} transactions to Spark")
    tx = spark.createDataFrame(_arrow_ready(loaded.transactions))
    cust = (None if loaded.customers is None
            else spark.createDataFrame(_arrow_ready(loaded.customers)))
    return SparkInput(name=loaded.name, transactions=tx, customers=cust,
                      quality=dict(loaded.quality), truth=loaded.truth,
                      default_as_of=loaded.default_as_of)


# ------------------------------------------------------------------------------------ helpers
def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain columns Spark's ``createDataFrame`` takes (categoricals and ids as text)."""
    out = frame.reset_index(drop=True).copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or col == "customer_id":
            out[col] = s.astype("object").where(s.notna(), None).astype(str).where(
                s.notna(), None)
    return out


def _read(spark: SparkSession, path: str, cfg: dict[str, Any]) -> SparkDataFrame:
    p = Path(path)
    if "://" not in path and not p.exists():
        raise InputFileError(
            f"input file {path!r} does not exist. Fix: correct the path (--transactions / "
            "--customers; config [data] transactions / customers)."
        )
    if p.suffix.lower() == ".parquet":
        return _read_parquet(spark, path)
    data = cfg["data"]
    sep = data["sep"] or ("\t" if p.suffix.lower() == ".tsv" else ",")
    return spark.read.csv(path, header=True, sep=sep, encoding=spark_charset(data["encoding"]),
                          inferSchema=False, mode="FAILFAST")


def _read_parquet(spark: SparkSession, path: str) -> SparkDataFrame:
    """Read Parquet; nanosecond timestamps (pandas' default) become microsecond timestamps.

    Spark refuses ``TIMESTAMP(NANOS)`` columns; they are read as longs
    (``spark.sql.legacy.parquet.nanosAsLong``, left on in the session) and converted, which
    truncates below the microsecond (segml uses calendar days). Which columns are nanosecond
    timestamps is read from the Parquet footer with pyarrow (local paths only; a remote file
    with them fails with Spark's PARQUET_TYPE_ILLEGAL error).
    """
    from pyspark.sql import functions as F  # noqa: N812

    if "://" in path:
        return spark.read.parquet(path)
    import pyarrow as pa
    import pyarrow.dataset as ds

    schema = ds.dataset(path, format="parquet").schema
    nanos = [f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"]
    if nanos:
        spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    sdf = spark.read.parquet(path)
    return sdf.withColumns({c: F.timestamp_micros(F.floor(F.col(f"`{c}`") / 1000))
                            for c in nanos})


def _resolve(sdf: SparkDataFrame, mapping: dict[str, str], known: dict[str, str],
             required: tuple[str, ...], table: str, flag: str) -> tuple[dict[str, str], list[str]]:
    """Canonical name -> input column, and the input columns not used (segml's rules)."""
    present = list(sdf.columns)
    for canon, src in mapping.items():
        if canon not in known:
            close = difflib.get_close_matches(canon, list(known), n=3)
            raise SchemaError(
                f"{table}: mapping key {canon!r} is not a canonical column"
                + (f" (did you mean {', '.join(map(repr, close))}?)" if close else "")
                + f". Fix: use one of {', '.join(list(known)[:12])}... in [data.{flag}] "
                "(CLI --map / --customer-map)."
            )
        if src not in present:
            raise SchemaError(
                f"{table}.{canon}: mapping names column {src!r}, which is not in the file "
                f"(columns: {', '.join(map(repr, present[:8]))}). Fix: correct [data.{flag}] "
                f"{canon} (CLI --map {canon}=COLUMN)."
            )
    resolved = {c: c for c in present if c in known and c not in mapping.values()}
    resolved.update(mapping)
    missing = [c for c in required if c not in resolved]
    if missing:
        close = difflib.get_close_matches(missing[0], present, n=3, cutoff=0.4)
        raise SchemaError(
            f"{table}.{missing[0]}: required column {missing[0]!r} is missing (columns: "
            f"{', '.join(map(repr, present[:8]))}"
            + (f"; close: {', '.join(map(repr, close))}" if close else "")
            + f"). Fix: map it: [data.{flag}] {missing[0]} = \"COLUMN\" "
            f"(CLI --map {missing[0]}=COLUMN)."
        )
    ignored = [c for c in present if c not in resolved.values()]
    return resolved, ignored


def _blank(col: Column) -> Column:
    from pyspark.sql import functions as F  # noqa: N812

    text = F.trim(col.cast("string"))
    return col.isNull() | (text == "") | F.lower(text).isin("na", "nan", "null", "none", "-")


def _parse_time(sdf: SparkDataFrame, name: str, pattern: str | None) -> Column:
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql import types as T  # noqa: N812

    kind = sdf.schema[name].dataType
    if isinstance(kind, T.TimestampType | T.TimestampNTZType):
        return F.col(name)
    if isinstance(kind, T.DateType):
        return F.col(name).cast("timestamp")
    text = F.trim(F.col(name).cast("string"))
    parsed = (F.try_to_timestamp(text) if pattern is None
              else F.try_to_timestamp(text, F.lit(pattern)))
    return F.when(_blank(F.col(name)), F.lit(None)).otherwise(parsed)


def _parse_number(sdf: SparkDataFrame, name: str) -> Column:
    from pyspark.sql import functions as F  # noqa: N812

    col = F.col(name)
    return F.when(_blank(col), F.lit(None)).otherwise(
        F.trim(col.cast("string")).try_cast("double"))


def _undecodable(path: str, cols: list[str]) -> dict[str, Column]:
    """Per column of a text file: rows whose value holds U+FFFD (bytes Spark could not decode).

    Spark's CSV reader replaces bytes that are not valid in the given encoding with U+FFFD and
    says nothing; segml refuses them, as its pandas reader does. Parquet stores text as UTF-8
    already, so nothing is checked there.
    """
    from pyspark.sql import functions as F  # noqa: N812

    if Path(path).suffix.lower() == ".parquet":
        return {}
    return {c: F.coalesce(F.col(c).cast("string").contains(_REPLACEMENT), F.lit(False))
            for c in cols}


def _encoding_error(table: str, column: str, bad: int, n: int, shown: str,
                    cfg: dict[str, Any]) -> SchemaError:
    enc = spark_charset(cfg["data"]["encoding"])
    return SchemaError(
        f"{table}.{column}: {bad:,} of {n:,} values hold bytes that are not valid {enc} "
        f"(Spark shows them as U+FFFD, e.g. {shown}). Fix: give the file's encoding if Spark "
        "reads it: --encoding iso-8859-1 (config [data] encoding = \"iso-8859-1\"); else "
        "(cp1252, written by Excel on Windows, and others) convert the file to UTF-8 "
        "(iconv -f cp1252 -t utf-8) or use the default engine ([engine] engine = \"pandas\")."
    )


def _examples(sdf: SparkDataFrame, bad: Column, column: str) -> str:
    rows = sdf.where(bad).select(column).limit(_N_SHOW).collect()
    return ", ".join(_short(r[0], 30) for r in rows)


def _transactions(spark: SparkSession, cfg: dict[str, Any]
                  ) -> tuple[SparkDataFrame, DataQualityReport]:
    from pyspark.sql import functions as F  # noqa: N812

    data = cfg["data"]
    raw = _read(spark, data["transactions"], cfg)
    resolved, ignored = _resolve(raw, dict(data["mapping"] or {}), TRANSACTION_COLUMNS,
                                 REQUIRED_TRANSACTION_COLUMNS, "transactions", "mapping")
    src = raw.select(*[F.col(f"`{s}`").alias(c) for c, s in resolved.items()])
    pattern = spark_date_pattern(data["timestamp_format"])
    parsed: dict[str, Column] = {}
    for canon, kind in TRANSACTION_COLUMNS.items():
        if canon not in resolved:
            continue
        if kind == "datetime":
            parsed[canon] = _parse_time(src, canon, pattern)
        elif kind == "float":
            parsed[canon] = _parse_number(src, canon)
        elif kind == "status":
            key = F.lower(F.trim(F.col(canon).cast("string")))
            mapped = F.lit(None).cast("string")
            for syn, val in STATUS_SYNONYMS.items():
                mapped = F.when(key == syn, F.lit(val)).otherwise(mapped)
            parsed[canon] = F.when(_blank(F.col(canon)), F.lit(None)).otherwise(mapped)
        else:
            parsed[canon] = F.when(_blank(F.col(canon)), F.lit(None)).otherwise(
                F.trim(F.col(canon).cast("string")))
    checks = {
        ("customer_id", "missing"): _blank(F.col("customer_id")),
        ("timestamp", "missing"): _blank(F.col("timestamp")),
        ("amount", "missing"): _blank(F.col("amount")),
    }
    for canon, kind in TRANSACTION_COLUMNS.items():
        if canon in resolved and kind in ("datetime", "float", "status"):
            checks[(canon, "unparsed")] = ~_blank(F.col(canon)) & parsed[canon].isNull()
    for canon, cond in _undecodable(data["transactions"], list(resolved)).items():
        checks[(canon, "undecodable")] = cond
    counts = src.agg(F.count(F.lit(1)).alias("_n"), *[
        F.sum(F.when(cond, 1).otherwise(0)).alias(f"{c}__{why}")
        for (c, why), cond in checks.items()]).collect()[0]
    n = int(counts["_n"])
    if n == 0:
        raise SchemaError(f"transactions file {data['transactions']!r} has no rows. Fix: pass "
                          "a file with transactions (--transactions).")
    for (canon, why), cond in sorted(checks.items(), key=lambda kv: kv[0][1] != "undecodable"):
        bad = int(counts[f"{canon}__{why}"] or 0)
        if not bad:
            continue
        if why == "undecodable":  # before the others: a wrong encoding breaks parsing too
            raise _encoding_error("transactions", canon, bad, n,
                                  _examples(src, cond, canon), cfg)
        fix = {("timestamp", "unparsed"): "give the layout: [data] timestamp_format = "
               "\"%d/%m/%Y\" (--date-format); ISO dates parse without it",
               ("status", "unparsed"): f"use one of {', '.join(sorted(STATUS_SYNONYMS))}"}.get(
            (canon, why), f"fill or remove those rows, or map another column (--map {canon}="
                          "COLUMN, [data.mapping])")
        what = ("are missing" if why == "missing" else
                f"do not parse as {TRANSACTION_COLUMNS[canon]}")
        shown = ("" if why == "missing"
                 else f" (e.g. {_examples(src, cond, canon)})")
        raise SchemaError(
            f"transactions.{canon}: {bad:,} of {n:,} values {what}{shown}. Fix: {fix}; "
            "the Spark reader has no errors=\"exclude\" (use the default engine for it)."
        )
    tx = src.select(*[parsed[c].alias(c) for c in resolved])
    report = DataQualityReport(table="transactions", n_input_rows=n, n_output_rows=n,
                               ignored_columns=ignored)
    neg = tx.where(F.col("amount") < 0).count()
    report.add("flagged", "negative amount (kept, revenue net of returns)", int(neg))
    return tx, report


def _customers(spark: SparkSession, cfg: dict[str, Any]
               ) -> tuple[SparkDataFrame, DataQualityReport]:
    from pyspark.sql import functions as F  # noqa: N812

    data = cfg["data"]
    raw = _read(spark, data["customers"], cfg)
    resolved, ignored = _resolve(raw, dict(data["customer_mapping"] or {}), CUSTOMER_COLUMNS,
                                 REQUIRED_CUSTOMER_COLUMNS, "customers", "customer_mapping")
    src = raw.select(*[F.col(f"`{s}`").alias(c) for c, s in resolved.items()])
    cols = [F.trim(F.col("customer_id").cast("string")).alias("customer_id")]
    aggs = [F.count(F.lit(1)).alias("n"),
            F.sum(F.when(_blank(F.col("customer_id")), 1).otherwise(0)).alias("miss"),
            F.countDistinct(F.trim(F.col("customer_id").cast("string"))).alias("ids")]
    if "signup_date" in resolved:
        signup = _parse_time(src, "signup_date", spark_date_pattern(
            data["customer_date_format"], "customer_date_format"))
        cols.append(signup.alias("signup_date"))
        bad_signup = ~_blank(F.col("signup_date")) & signup.isNull()
        aggs.append(F.sum(F.when(bad_signup, 1).otherwise(0)).alias("bad_signup"))
    cols += [F.col(c) for c in resolved if c not in ("customer_id", "signup_date")]
    cust = src.select(*cols)
    undecodable = _undecodable(data["customers"], list(resolved))
    aggs += [F.sum(F.when(cond, 1).otherwise(0)).alias(f"{c}__undecodable")
             for c, cond in undecodable.items()]
    row = src.agg(*aggs).collect()[0]
    n, miss, ids = int(row["n"]), int(row["miss"] or 0), int(row["ids"])
    for c, cond in undecodable.items():
        if row[f"{c}__undecodable"]:
            raise _encoding_error("customers", c, int(row[f"{c}__undecodable"]), n,
                                  _examples(src, cond, c), cfg)
    if miss:
        raise SchemaError(f"customers.customer_id: {miss:,} of {n:,} ids are missing. Fix: fill "
                          "or remove those rows, or map another id column (--customer-map "
                          "customer_id=COLUMN, [data.customer_mapping]).")
    if ids < n:
        dup = (cust.groupBy("customer_id").count().where(F.col("count") > 1)
               .limit(_N_SHOW).collect())
        raise SchemaError(
            f"customers.customer_id: {n - ids:,} duplicate ids (e.g. "
            f"{', '.join(_short(r['customer_id'], 20) for r in dup)}); one row per customer is "
            "needed. Fix: deduplicate the customers file, or map the right id column "
            "(--customer-map customer_id=COLUMN).")
    if "signup_date" in resolved and row["bad_signup"]:
        raise SchemaError(
            f"customers.signup_date: {int(row['bad_signup']):,} of {n:,} values do not parse "
            f"as dates (e.g. {_examples(src, bad_signup, 'signup_date')}). Fix: give the "
            "layout: [data] customer_date_format = \"%d/%m/%Y\" (--customer-date-format).")
    report = DataQualityReport(table="customers", n_input_rows=n, n_output_rows=n,
                               ignored_columns=ignored)
    return cust, report

"""The rows a feature may use: input checks, the as-of window, exact money and order keys.

The canonical pandas frame becomes one polars frame; every family of features aggregates
the rows selected here (see the definitions in :mod:`segml.features.transactions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from segml.errors import ConfigError, SchemaError
from segml.features._time import cutoff, to_as_of, window_start

_QUARTERS = ("spend_q1_share", "spend_q2_share", "spend_q3_share", "spend_q4_share")
_EPOCH = pd.Timestamp("1970-01-01")
_OPTIONAL = ("order_id", "category", "channel", "status", "margin", "cost", "due_date",
             "paid_date")


@dataclass(frozen=True)
class _Input:
    lf: pl.LazyFrame  # needed columns, text as String or Categorical, no row filter yet
    columns: frozenset[str]
    order_has_nulls: bool
    order_codes: bool = False  # order_id holds integer codes (see _pandas_to_polars)


def _as_input(transactions: Any, needed: Sequence[str]) -> _Input:
    """Select the needed columns and hand them to polars once."""
    if isinstance(transactions, pd.DataFrame):
        cols = list(transactions.columns)
    elif isinstance(transactions, pl.DataFrame | pl.LazyFrame):
        cols = list(transactions.collect_schema().names())
    else:
        raise SchemaError(
            "transactions should be a pandas or polars DataFrame, got "
            f"{type(transactions).__name__}."
        )
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in cols]
    if missing:
        raise SchemaError(
            f"transactions lacks required column(s) {missing}; got {cols}. Map your columns "
            "with segml.schema.validate_transactions(mapping={...})."
        )
    use = ["customer_id", "timestamp", "amount"] + [c for c in needed if c in cols]
    use = list(dict.fromkeys(use))
    if isinstance(transactions, pd.DataFrame):
        sub = transactions[use]
        for c in ("timestamp", "due_date", "paid_date"):
            if c in use:
                _check_datetime(sub[c], c)
        lf = _pandas_to_polars(sub).lazy()
    else:
        lf = transactions.lazy().select(use)
        schema = lf.collect_schema()
        for c in ("timestamp", "due_date", "paid_date"):
            if c in use and not isinstance(schema[c], pl.Datetime | pl.Date):
                raise SchemaError(
                    f"transactions '{c}' has dtype {schema[c]}, expected a datetime; parse it "
                    "once at load."
                )
    schema = lf.collect_schema()
    casts = [] if _is_text(schema["customer_id"]) else [pl.col("customer_id").cast(pl.String)]
    for c in ("timestamp", "due_date", "paid_date"):
        if c not in use:
            continue
        if isinstance(schema[c], pl.Datetime) and schema[c].time_zone is not None:
            casts.append(pl.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None))
        elif schema[c] == pl.Date:
            casts.append(pl.col(c).cast(pl.Datetime("us")))
    if "order_id" in use and not (_is_text(schema["order_id"]) or _is_code(schema["order_id"])):
        casts.append(pl.col("order_id").cast(pl.String))
    for c in ("category", "channel", "status"):
        if c in use and not _is_text(schema[c]):
            casts.append(pl.col(c).cast(pl.String))
    for c in ("amount", "margin", "cost"):
        if c in use:
            casts.append(pl.col(c).cast(pl.Float64).fill_nan(None))
    if casts:
        lf = lf.with_columns(casts)
    order_nulls = False
    if "order_id" in use:
        if isinstance(transactions, pd.DataFrame):
            order_nulls = bool(transactions["order_id"].isna().any())
        elif isinstance(transactions, pl.DataFrame):
            order_nulls = transactions["order_id"].null_count() > 0
        else:
            order_nulls = True  # cheap to handle, costly to check on a lazy frame
    codes = "order_id" in use and _is_code(schema["order_id"])
    return _Input(lf, frozenset(use), order_nulls, codes)


#: Text columns handed to polars as a Categorical (few levels, or one per customer).
_CATEGORICAL = ("customer_id", "category", "channel", "status")


def _is_text(dtype: pl.DataType) -> bool:
    """Text the features compare, group and sort as it is: String or Categorical.

    (An Enum sorts in its own level order, not as text, so it is cast to String as before.)
    """
    return dtype == pl.String or isinstance(dtype, pl.Categorical)


def _is_code(dtype: pl.DataType) -> bool:
    """Integer order ids of at most 32 bits (:func:`_order_key` keys them without text)."""
    return dtype in (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32)


def _pandas_to_polars(frame: pd.DataFrame) -> pl.DataFrame:
    """Hand a pandas frame to polars through Arrow, text as integer codes.

    Polars keeps text as 16-byte views plus a copy of every string longer than 12 bytes, so
    five text columns of a 36M-line log cost about 3 GiB as polars ``String``. Dictionary
    encoding them in Arrow (one hash pass, no string copied) gives 4 bytes a line:
    ``customer_id``, ``category``, ``channel`` and ``status`` become polars ``Categorical``
    (compared and grouped like text); ``order_id``, which the features only count and group,
    becomes its dictionary codes (an ``Int32``: equal codes, equal ids; missing stays missing).
    """
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. an object column mixing ints and str
        return pl.from_pandas(frame)
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        if name not in (*_CATEGORICAL, "order_id") or not (
            pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
        ):
            continue
        coded = pc.dictionary_encode(col)
        if name == "order_id":  # one dictionary for every chunk: codes are global
            coded = pa.chunked_array([c.indices for c in coded.chunks], type=pa.int32())
        table = table.set_column(i, name, coded)
    return pl.from_arrow(table)


def _check_datetime(col: pd.Series, name: str) -> None:
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return
    raise SchemaError(
        f"transactions '{name}' has dtype {col.dtype}, expected datetime64; parse dates once at "
        "load (pd.to_datetime, or segml.schema.validate_transactions) - dates kept as Python "
        "objects are also about 10x slower."
    )


def _customer_ids(customers: Any) -> pl.Series | None:
    if customers is None:
        return None
    if isinstance(customers, pd.DataFrame):
        if "customer_id" in customers.columns:
            values = customers["customer_id"]
        elif customers.index.name == "customer_id":
            values = customers.index.to_series()
        else:
            raise SchemaError(
                "customers frame has no 'customer_id' column or index; got columns "
                f"{list(customers.columns)[:10]}."
            )
    elif isinstance(customers, pl.DataFrame):
        values = customers["customer_id"].to_pandas()
    else:
        values = pd.Series(np.asarray(customers, dtype=object) if not isinstance(
            customers, pd.Series | pd.Index) else customers)
    values = pd.Series(values)
    if values.isna().any():
        raise SchemaError(
            f"customers has {int(values.isna().sum())} missing customer_id value(s); every "
            "customer needs an id."
        )
    return pl.Series("customer_id", values.astype(str).to_numpy(dtype=object), dtype=pl.String)


def _check_nonneg_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ConfigError(f"{name}={value!r} should be a whole number >= 0.")
    return int(value)


def _day_int(ts: pd.Timestamp) -> int:
    return int((ts.normalize() - _EPOCH).days)


# --------------------------------------------------------------------------------------------
# the shared pass
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Window:
    end: pd.Timestamp  # exclusive cutoff
    start: pd.Timestamp | None
    as_of_day: int  # days since epoch of the as_of calendar day
    as_of_month: int  # year * 12 + month - 1 of as_of


def _window(as_of: Any, lookback_days: int | None) -> _Window:
    ts = to_as_of(as_of)
    end = cutoff(ts)
    start = window_start(ts, lookback_days)
    return _Window(end, start, _day_int(ts), ts.year * 12 + ts.month - 1)


def _rows(inp: _Input, win: _Window) -> pl.LazyFrame:
    """Rows on or before as_of with the masks every family uses.

    All rows up to the cutoff are kept (they define who exists as of ``as_of``); ``_in`` marks
    the rows that count (inside the lookback window, not cancelled), ``_buy`` the purchase lines
    and ``_rt`` the return lines among them. One pass then serves both the universe and the
    aggregates.
    """
    lf = inp.lf.filter(pl.col("timestamp") < win.end.to_pydatetime())
    is_in = pl.lit(True)
    if win.start is not None:
        is_in = is_in & (pl.col("timestamp") >= win.start.to_pydatetime())
    is_ret = pl.col("amount") < 0
    if "status" in inp.columns:
        is_in = is_in & (pl.col("status") != "cancelled").fill_null(True)
        is_ret = is_ret | (pl.col("status") == "returned").fill_null(False)
    is_ret = is_ret.fill_null(False)
    day = pl.col("timestamp").cast(pl.Date).cast(pl.Int32)
    return lf.with_columns(
        day.alias("_day"),
        is_in.alias("_in"),
        (is_in & ~is_ret).alias("_buy"),
        (is_in & is_ret).alias("_rt"),
    )


_SCALES = (1, 100, 10_000)
_INT_LIMIT = 2.0**62


def _money_scale(rows: pl.LazyFrame, expr: pl.Expr) -> int | None:
    """Smallest power-of-ten scale making every money value an integer, or None.

    Money sums are done on integers at that scale (cents for ordinary prices), so they are exact
    and do not depend on row order (float addition is not associative: summing the same values in
    another order can change the last bit). Values that are not whole at 1/10000 fall back to
    float sums (then sums are correct to rounding only).
    """
    checks = [((expr * s).round() - expr * s).abs().max().alias(f"_d{s}") for s in _SCALES]
    stats = rows.select(
        *checks, expr.abs().max().alias("_max"), expr.count().alias("_n")
    ).collect()
    biggest, n = stats["_max"][0], stats["_n"][0]
    if biggest is None or n == 0:
        return 1
    for s in _SCALES:
        dev = stats[f"_d{s}"][0]
        if dev is not None and dev <= 1e-6 and float(biggest) * s * max(n, 1) < _INT_LIMIT:
            return s
    return None


def _as_money(expr: pl.Expr, scale: int | None) -> pl.Expr:
    return expr if scale is None else (expr * scale).round().cast(pl.Int64)


@dataclass(frozen=True)
class _Money:
    rows: pl.LazyFrame  # window rows with ``_m`` (and ``_gm``) money columns
    scale: int | None
    margin_scale: int | None


def _money_rows(inp: _Input, win: _Window) -> _Money:
    rows = _rows(inp, win)
    counted = rows.filter(pl.col("_in"))
    scale = _money_scale(counted, pl.col("amount"))
    rows = rows.with_columns(_as_money(pl.col("amount"), scale).alias("_m"))
    margin_scale = None
    if "margin" in inp.columns or "cost" in inp.columns:
        gm = pl.col("margin") if "margin" in inp.columns else pl.col("amount") - pl.col("cost")
        margin_scale = _money_scale(counted, gm)
        rows = rows.with_columns(_as_money(gm, margin_scale).alias("_gm"))
    return _Money(rows, scale, margin_scale)


def _unscale(expr: pl.Expr, scale: int | None) -> pl.Expr:
    out = expr.cast(pl.Float64)
    return out if scale is None or scale == 1 else out / scale


#: Keys of missing integer order ids: ``_NULL_DAY_KEY + _day`` lies above every 32-bit code.
_NULL_DAY_KEY = 2**32 + 2**31


def _order_key(inp: _Input) -> pl.Expr:
    """One value per order: the order id, or the purchase day where the id is missing."""
    if "order_id" not in inp.columns:
        return pl.col("_day")
    if not inp.order_has_nulls:
        return pl.col("order_id")
    if inp.order_codes:
        return pl.coalesce(pl.col("order_id").cast(pl.Int64),
                           pl.lit(_NULL_DAY_KEY, dtype=pl.Int64) + pl.col("_day"))
    return pl.coalesce(pl.col("order_id").cast(pl.String),
                       pl.lit("\x00day:") + pl.col("_day").cast(pl.String))


def _where(mask: pl.Expr, expr: pl.Expr) -> pl.Expr:
    """``expr`` where ``mask``, else null (cheaper than ``filter`` inside a group-by)."""
    return pl.when(mask).then(expr)


def _count_distinct(mask: pl.Expr, expr: pl.Expr) -> pl.Expr:
    """Distinct non-null values of ``expr`` where ``mask`` (nulls are not counted)."""
    masked = _where(mask, expr)
    return (masked.n_unique() - (masked.null_count() > 0).cast(pl.UInt32)).cast(pl.Int64)


def _share(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(None).cast(pl.Float64)

"""Point-in-time transaction features per customer: RFM, behaviour, payment.

The aggregation core runs on polars (one lazy group-by pass over the rows for RFM and behaviour,
one small extra pass for inter-purchase gaps, one for invoices). The canonical pandas frame is
converted once; the result comes back as pandas, indexed by ``customer_id`` (string), **sorted**,
with float64 / int64 / bool columns, so the same input always gives the same frame byte for byte
(whatever the row order).

Definitions shared by every function here (the as-of rules are in :mod:`segml.features._time`):

* **Rows used**: ``timestamp < cutoff(as_of)`` (and inside the lookback window when given);
  rows with ``status == "cancelled"`` are ignored entirely.
* **Return line**: ``amount < 0`` or ``status == "returned"``. **Purchase line**: any other row
  (``amount >= 0``; CDNOW's $0 rows are purchases).
* **Order**: distinct ``order_id`` among purchase lines when the column exists (a missing
  ``order_id`` counts as its own purchase day); without ``order_id``, an order is a distinct
  purchase *day* (several rows of one customer on one day are one order).
* **Universe**: every customer with at least one row on or before ``as_of`` (any status, even
  before the lookback window), plus every id in ``customers``. A customer whose first row is after
  ``as_of`` does not exist yet and is not listed (point in time).
* **Money sums are exact**: when every counted amount is whole in cents (or in 1/10000), sums
  are done on integers at that scale, so ``monetary`` is the correctly rounded decimal total and
  does not depend on row order (float addition in another order can change the last bit).
  Finer amounts fall back to float sums.
* **Prospect**: a customer with no purchase line in the window (``frequency == 0``). Prospects are
  never dropped; the value each feature takes for them is given in each function's docstring:
  counts and sums are 0, ratios that have no denominator are NaN, flags are False.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

from segml.errors import ConfigError, SchemaError
from segml.features._time import cutoff, to_as_of, window_start

__all__ = [
    "rfm_features",
    "behaviour_features",
    "payment_features",
    "transaction_features",
    "ShareLevels",
    "top_levels",
    "RFM_COLUMNS",
]

RFM_COLUMNS = ("recency_days", "is_prospect", "frequency", "monetary", "avg_order_value")
_QUARTERS = ("spend_q1_share", "spend_q2_share", "spend_q3_share", "spend_q4_share")
_EPOCH = pd.Timestamp("1970-01-01")
_OPTIONAL = ("order_id", "category", "channel", "status", "margin", "cost", "due_date",
             "paid_date")


@dataclass(frozen=True)
class ShareLevels:
    """Levels that got their own ``category_share_<x>`` / ``channel_share_<x>`` column.

    Returned by :func:`transaction_features` / :func:`behaviour_features` with
    ``return_levels=True`` and given back through their ``category_levels`` /
    ``channel_levels`` arguments to rebuild the same columns on other data.

    Attributes
    ----------
    category, channel : list of str or None
        Levels in column order; None when the transactions have no such column.
    """

    category: list[str] | None = None
    channel: list[str] | None = None


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Input:
    lf: pl.LazyFrame  # needed columns, customer_id String, no row filter yet
    columns: frozenset[str]
    order_has_nulls: bool


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
    casts = [pl.col("customer_id").cast(pl.String)]
    for c in ("timestamp", "due_date", "paid_date"):
        if c not in use:
            continue
        if isinstance(schema[c], pl.Datetime) and schema[c].time_zone is not None:
            casts.append(pl.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None))
        elif schema[c] == pl.Date:
            casts.append(pl.col(c).cast(pl.Datetime("us")))
    for c in ("order_id", "category", "channel", "status"):
        if c in use:
            casts.append(pl.col(c).cast(pl.String))
    for c in ("amount", "margin", "cost"):
        if c in use:
            casts.append(pl.col(c).cast(pl.Float64).fill_nan(None))
    lf = lf.with_columns(casts)
    order_nulls = False
    if "order_id" in use:
        if isinstance(transactions, pd.DataFrame):
            order_nulls = bool(transactions["order_id"].isna().any())
        else:
            order_nulls = True  # cheap to handle, costly to check on a lazy frame
    return _Input(lf, frozenset(use), order_nulls)


def _pandas_to_polars(frame: pd.DataFrame) -> pl.DataFrame:
    """Hand a pandas frame to polars through Arrow (zero-copy for Arrow-backed strings)."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. an object column mixing ints and str
        return pl.from_pandas(frame)
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
        is_in = is_in & (pl.col("status").fill_null("completed") != "cancelled")
        is_ret = is_ret | (pl.col("status").fill_null("") == "returned")
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


def _order_key(inp: _Input) -> pl.Expr:
    if "order_id" not in inp.columns:
        return pl.col("_day")
    if not inp.order_has_nulls:
        return pl.col("order_id")
    return pl.coalesce(pl.col("order_id"), pl.lit("\x00day:") + pl.col("_day").cast(pl.String))


def _where(mask: pl.Expr, expr: pl.Expr) -> pl.Expr:
    """``expr`` where ``mask``, else null (cheaper than ``filter`` inside a group-by)."""
    return pl.when(mask).then(expr)


def _count_distinct(mask: pl.Expr, expr: pl.Expr) -> pl.Expr:
    """Distinct non-null values of ``expr`` where ``mask`` (nulls are not counted)."""
    masked = _where(mask, expr)
    return (masked.n_unique() - (masked.null_count() > 0).cast(pl.UInt32)).cast(pl.Int64)


def _rfm_aggs(inp: _Input) -> list[pl.Expr]:
    buy = pl.col("_buy")
    return [
        _count_distinct(buy, _order_key(inp)).alias("_freq"),
        _where(buy, pl.col("_day")).max().alias("_last_day"),
        _where(pl.col("_in"), pl.col("_m")).sum().alias("_monetary"),
    ]


def _rfm_columns(win: _Window, scale: int | None) -> list[pl.Expr]:
    freq = pl.col("_freq").fill_null(0).cast(pl.Int64)
    monetary = _unscale(pl.col("_monetary").fill_null(0), scale)
    return [
        (pl.lit(win.as_of_day) - pl.col("_last_day")).cast(pl.Float64).alias("recency_days"),
        (freq == 0).alias("is_prospect"),
        freq.alias("frequency"),
        monetary.alias("monetary"),
        pl.when(freq > 0)
        .then(monetary / freq)
        .otherwise(None)
        .cast(pl.Float64)
        .alias("avg_order_value"),
    ]


def _share(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(None).cast(pl.Float64)


def top_levels(
    transactions: Any,
    column: str,
    as_of: Any,
    n: int,
    *,
    lookback_days: int | None = None,
) -> list[str]:
    """Most valuable levels of ``column`` (by purchase spend, as of ``as_of``).

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions.
    column : {"category", "channel"}
        The column to rank.
    as_of : date-like
        The as-of date (rows after it are not looked at).
    n : int
        How many levels to keep.
    lookback_days : int, optional
        Lookback window in days.

    Returns
    -------
    list of str
        Up to ``n`` levels, by total purchase spend descending, ties by name ascending. Missing
        values and a level literally named ``"other"`` are never returned (they fall in "other").

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 3), "amount": [5.0, 2.0, 9.0],
    ...     "category": ["music", "books", "music"]})
    >>> top_levels(tx, "category", "2024-01-31", 1)
    ['music']
    """
    n = _check_nonneg_int("n", n)
    inp = _as_input(transactions, [column, "status"])
    if column not in inp.columns:
        raise SchemaError(f"transactions has no '{column}' column to rank levels of.")
    return _learn_levels(_money_rows(inp, _window(as_of, lookback_days)).rows, column, n)


def _learn_levels(rows: pl.LazyFrame, column: str, n: int) -> list[str]:
    if n == 0:
        return []
    spend = (
        rows.filter(pl.col("_buy") & pl.col(column).is_not_null() & (pl.col(column) != "other"))
        .group_by(column)
        .agg(pl.col("_m").sum().alias("_s"))
        .sort(["_s", column], descending=[True, False])
        .head(n)
        .collect()
    )
    return [str(v) for v in spend[column].to_list()]


def _check_levels(name: str, levels: Any) -> list[str] | None:
    if levels is None:
        return None
    if isinstance(levels, str):
        raise ConfigError(f"{name} should be a list of levels, got the string {levels!r}.")
    out = [str(v) for v in levels]
    if len(set(out)) != len(out) or "other" in out:
        raise ConfigError(
            f"{name}={out!r} should be distinct levels and must not contain 'other' "
            "(the bucket for every level not listed)."
        )
    return out


def _behaviour_aggs(
    inp: _Input, win: _Window, trend_window_days: int, cats: list[str] | None,
    chans: list[str] | None,
) -> list[pl.Expr]:
    buy = pl.col("_buy")
    amt = pl.col("_m")
    ts = pl.col("timestamp")
    recent_start = (win.end - pd.Timedelta(days=trend_window_days)).to_pydatetime()
    prev_start = (win.end - pd.Timedelta(days=2 * trend_window_days)).to_pydatetime()
    month = ts.dt.year().cast(pl.Int32) * 12 + ts.dt.month().cast(pl.Int32) - 1
    quarter = ts.dt.quarter()
    aggs = [
        _where(buy, pl.col("_day")).min().alias("_first_day"),
        _count_distinct(buy, pl.col("_day")).alias("_n_days"),
        _where(buy, month).min().alias("_first_month"),
        _count_distinct(buy, month).alias("_n_months"),
        _where(buy, amt).sum().alias("_gross"),
        _where(pl.col("_rt"), amt).abs().sum().alias("_returned"),
        _where(buy & (ts >= recent_start), amt).sum().alias("_recent"),
        _where(buy & (ts >= prev_start) & (ts < recent_start), amt).sum().alias("_previous"),
    ]
    aggs += [_where(buy & (quarter == q), amt).sum().alias(f"_q{q}") for q in (1, 2, 3, 4)]
    for col, levels, tag in (("category", cats, "_cat"), ("channel", chans, "_chan")):
        if levels is None:
            continue
        aggs += [
            _where(buy & (pl.col(col) == lvl), amt).sum().alias(f"{tag}{i}")
            for i, lvl in enumerate(levels)
        ]
        listed = pl.col(col).is_in(levels).fill_null(False) if levels else pl.lit(False)
        aggs.append(_where(buy & ~listed, amt).sum().alias(f"{tag}_other"))
    if chans is not None:
        aggs.append(_count_distinct(buy, pl.col("channel")).alias("_n_channels"))
    if "margin" in inp.columns or "cost" in inp.columns:
        aggs.append(_where(pl.col("_in"), pl.col("_gm")).sum().alias("_margin"))
    return aggs


def _gap_stats(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Compute the population std of the gaps (days) between a customer's distinct purchase days."""
    days = (
        rows.filter(pl.col("_buy"))
        .select("customer_id", "_day")
        .unique()
        .sort("customer_id", "_day")
    )
    gaps = days.with_columns(
        pl.when(pl.col("customer_id") == pl.col("customer_id").shift(1))
        .then(pl.col("_day") - pl.col("_day").shift(1))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("_gap")
    )
    return gaps.group_by("customer_id").agg(pl.col("_gap").std(ddof=0).alias("_gap_std"))


def _behaviour_columns(
    inp: _Input, win: _Window, cats: list[str] | None, chans: list[str] | None,
    margin_scale: int | None,
) -> list[pl.Expr]:
    gross = pl.col("_gross").fill_null(0.0)
    n_days = pl.col("_n_days").fill_null(0)
    mean_gap = pl.when(n_days >= 2).then(
        (pl.col("_last_day") - pl.col("_first_day")).cast(pl.Float64) / (n_days - 1)
    )
    months_span = pl.lit(win.as_of_month) - pl.col("_first_month") + 1
    recent = pl.col("_recent").fill_null(0.0)
    previous = pl.col("_previous").fill_null(0.0)
    out = [
        (pl.lit(win.as_of_day) - pl.col("_first_day")).cast(pl.Float64).alias("tenure_days"),
        mean_gap.cast(pl.Float64).alias("interpurchase_mean_days"),
        pl.when((n_days >= 3) & (mean_gap > 0))
        .then(pl.col("_gap_std") / mean_gap)
        .otherwise(None)
        .cast(pl.Float64)
        .alias("interpurchase_cv"),
        _share(pl.col("_n_months").cast(pl.Float64), months_span.cast(pl.Float64)).alias(
            "active_month_share"
        ),
        _share(recent - previous, recent + previous).alias("spend_trend"),
    ]
    shares = [_share(pl.col(f"_q{q}").fill_null(0.0), gross) for q in (1, 2, 3, 4)]
    out += [s.alias(name) for s, name in zip(shares, _QUARTERS, strict=True)]
    out.append(pl.max_horizontal(shares).alias("season_peak_share"))
    for prefix, levels, tag in (("category_share_", cats, "_cat"), ("channel_share_", chans,
                                                                       "_chan")):
        if levels is None:
            continue
        parts = [pl.col(f"{tag}{i}").fill_null(0.0) for i in range(len(levels))]
        out += [_share(p, gross).alias(f"{prefix}{lvl}") for p, lvl in zip(parts, levels,
                                                                          strict=True)]
        out.append(_share(pl.col(f"{tag}_other").fill_null(0.0), gross).alias(f"{prefix}other"))
    if chans is not None:
        out.append(pl.col("_n_channels").fill_null(0).cast(pl.Int64).alias("n_channels"))
    out.append(_share(pl.col("_returned").fill_null(0.0), gross).alias("return_rate"))
    if "margin" in inp.columns or "cost" in inp.columns:
        out.append(_unscale(pl.col("_margin").fill_null(0), margin_scale).alias("gross_margin"))
    return out


def _payment_stats(
    inp: _Input, rows: pl.LazyFrame, win: _Window, late_grace_days: int
) -> pl.LazyFrame:
    end = win.end.to_pydatetime()
    inv = rows.filter(pl.col("_in") & pl.col("due_date").is_not_null())
    if "paid_date" in inp.columns:
        # a payment after as_of has not happened yet as of as_of (point in time)
        paid = pl.when(pl.col("paid_date") < end).then(pl.col("paid_date")).otherwise(None)
    else:
        paid = pl.lit(None, dtype=pl.Datetime("us"))
    inv = inv.with_columns(
        pl.col("due_date").cast(pl.Date).cast(pl.Int32).alias("_due"),
        paid.cast(pl.Date).cast(pl.Int32).alias("_paid"),
        pl.col("due_date").lt(end).alias("_is_due"),
    )
    if "order_id" in inp.columns:
        key = _order_key(inp).alias("_inv")
        inv = (
            inv.with_columns(key)
            .group_by("customer_id", "_inv")
            .agg(
                pl.col("_due").min(),
                pl.col("_is_due").any(),
                pl.when(pl.col("_paid").null_count() == 0).then(pl.col("_paid").max()).alias(
                    "_paid"
                ),
            )
        )
    late = (pl.col("_paid") - pl.col("_due")).clip(lower_bound=0).cast(pl.Float64)
    is_paid = pl.col("_paid").is_not_null()
    return inv.group_by("customer_id").agg(
        late.filter(is_paid).mean().alias("days_late_mean"),
        late.filter(is_paid).max().alias("days_late_max"),
        is_paid.sum().alias("_n_paid"),
        (late.filter(is_paid) > late_grace_days).sum().alias("_n_late"),
        pl.col("_is_due").sum().alias("_n_due"),
        (pl.col("_is_due") & ~is_paid).sum().alias("_n_unpaid"),
    )


def _payment_columns(risk_late_share: float, risk_unpaid_share: float) -> list[pl.Expr]:
    late_share = _share(pl.col("_n_late").cast(pl.Float64), pl.col("_n_paid").cast(pl.Float64))
    unpaid_share = _share(
        pl.col("_n_unpaid").cast(pl.Float64), pl.col("_n_due").cast(pl.Float64)
    )
    return [
        pl.col("days_late_mean").cast(pl.Float64),
        pl.col("days_late_max").cast(pl.Float64),
        late_share.alias("late_share"),
        unpaid_share.alias("unpaid_share"),
        ((late_share >= risk_late_share).fill_null(False)
         | (unpaid_share >= risk_unpaid_share).fill_null(False)).alias("payment_risk"),
    ]


def _check_share(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not (
        0.0 <= float(value) <= 1.0
    ):
        raise ConfigError(f"{name}={value!r} should be a share between 0 and 1.")
    return float(value)


def _compute(
    transactions: Any,
    as_of: Any,
    *,
    families: tuple[str, ...],
    customers: Any = None,
    lookback_days: int | None = None,
    top_categories: int = 5,
    top_channels: int = 4,
    trend_window_days: int = 180,
    category_levels: Sequence[str] | None = None,
    channel_levels: Sequence[str] | None = None,
    late_grace_days: int = 0,
    risk_late_share: float = 0.5,
    risk_unpaid_share: float = 0.2,
) -> tuple[pd.DataFrame, ShareLevels]:
    """Compute the features of ``families`` and the share levels (learned unless given)."""
    win = _window(as_of, lookback_days)
    top_categories = _check_nonneg_int("top_categories", top_categories)
    top_channels = _check_nonneg_int("top_channels", top_channels)
    late_grace_days = _check_nonneg_int("late_grace_days", late_grace_days)
    trend_window_days = _check_nonneg_int("trend_window_days", trend_window_days)
    if trend_window_days == 0:
        raise ConfigError("trend_window_days=0 should be >= 1.")
    risk_late_share = _check_share("risk_late_share", risk_late_share)
    risk_unpaid_share = _check_share("risk_unpaid_share", risk_unpaid_share)
    cat_levels = _check_levels("category_levels", category_levels)
    chan_levels = _check_levels("channel_levels", channel_levels)
    ids = _customer_ids(customers)

    needed = ["order_id", "status"]
    if "behaviour" in families:
        needed += ["category", "channel", "margin", "cost"]
    if "payment" in families:
        needed += ["due_date", "paid_date"]
    inp = _as_input(transactions, needed)
    money = _money_rows(inp, win)
    rows = money.rows

    cats = chans = None
    if "behaviour" in families:
        if "category" in inp.columns:
            cats = cat_levels if cat_levels is not None else _learn_levels(
                rows, "category", top_categories)
        if "channel" in inp.columns:
            chans = chan_levels if chan_levels is not None else _learn_levels(
                rows, "channel", top_channels)

    aggs = _rfm_aggs(inp)
    if "behaviour" in families:
        aggs += _behaviour_aggs(inp, win, trend_window_days, cats, chans)
    agg = rows.group_by("customer_id").agg(aggs)
    if "behaviour" in families:
        agg = agg.join(_gap_stats(rows), on="customer_id", how="left")
    has_payment = "payment" in families and "due_date" in inp.columns
    if has_payment:
        agg = agg.join(_payment_stats(inp, rows, win, late_grace_days), on="customer_id",
                       how="left")

    if ids is None:
        joined = agg
    else:
        universe = pl.concat([agg.select("customer_id"), ids.to_frame().lazy()]).unique()
        joined = universe.join(agg, on="customer_id", how="left")
    out_cols: list[pl.Expr] = []
    if "rfm" in families:
        out_cols += _rfm_columns(win, money.scale)
    if "behaviour" in families:
        out_cols += _behaviour_columns(inp, win, cats, chans, money.margin_scale)
    if has_payment:
        out_cols += _payment_columns(risk_late_share, risk_unpaid_share)
    result = (
        joined.select(pl.col("customer_id"), *out_cols)
        .sort("customer_id")
        .collect(engine="streaming")
    )
    if result["customer_id"].null_count():
        raise SchemaError(
            "transactions has missing customer_id values; every row needs a customer id "
            "(segml.schema.validate_transactions reports them)."
        )
    levels = ShareLevels(
        category=list(cats) if cats is not None else None,
        channel=list(chans) if chans is not None else None,
    )
    return _to_pandas(result), levels


def _to_pandas(result: pl.DataFrame) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name in result.columns[1:]:
        s = result[name]
        if s.dtype == pl.Boolean:
            data[name] = s.fill_null(False).to_numpy().astype(bool)
        elif s.dtype.is_integer():
            data[name] = s.fill_null(0).to_numpy().astype("int64")
        else:
            data[name] = s.cast(pl.Float64).to_numpy().astype("float64")
    index = pd.Index(result["customer_id"].to_numpy(), dtype="str", name="customer_id")
    return pd.DataFrame(data, index=index)


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def rfm_features(
    transactions: Any,
    as_of: Any,
    *,
    lookback_days: int | None = None,
    customers: Any = None,
) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer as of ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions (``customer_id``, datetime64 ``timestamp``, ``amount``; optional
        ``order_id``, ``status``). Not modified. Row order does not matter.
    as_of : date-like
        Required. Rows with ``timestamp < normalize(as_of) + 1 day`` count.
    lookback_days : int, optional
        Use only the last ``lookback_days`` calendar days (``as_of`` included).
    customers : pandas Index, Series, DataFrame or list-like, optional
        Customer ids to include even without purchases (prospects).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (string, sorted), columns:

        - ``recency_days`` (float): whole calendar days from the last purchase day to ``as_of``;
          NaN for prospects.
        - ``is_prospect`` (bool): no purchase line in the window.
        - ``frequency`` (int): distinct orders (``order_id`` among purchase lines; without the
          column, distinct purchase days); 0 for prospects.
        - ``monetary`` (float): sum of ``amount`` over non-cancelled rows, net of returns (currency
          of ``amount``); 0 for prospects without returns.
        - ``avg_order_value`` (float): ``monetary / frequency``; NaN for prospects.

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or an argument is out of range.
    SchemaError
        When a required column is absent or ``timestamp`` is not datetime64.

    Examples
    --------
    >>> ts = pd.to_datetime(["2024-01-01 00:00", "2024-01-10 18:00", "2024-01-05 09:00"])
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "timestamp": ts,
    ...                    "amount": [10.0, 30.0, 5.0]})
    >>> f = rfm_features(tx, "2024-01-31", customers=["c"])
    >>> f["frequency"].to_dict(), f["recency_days"].tolist()
    ({'a': 2, 'b': 1, 'c': 0}, [21.0, 26.0, nan])
    """
    return _compute(transactions, as_of, families=("rfm",), customers=customers,
                    lookback_days=lookback_days)[0]


@overload
def behaviour_features(
    transactions: Any, as_of: Any, *, return_levels: Literal[False] = ..., **kwargs: Any
) -> pd.DataFrame: ...


@overload
def behaviour_features(
    transactions: Any, as_of: Any, *, return_levels: Literal[True], **kwargs: Any
) -> tuple[pd.DataFrame, ShareLevels]: ...


def behaviour_features(
    transactions: Any,
    as_of: Any,
    *,
    customers: Any = None,
    lookback_days: int | None = None,
    top_categories: int = 5,
    top_channels: int = 4,
    trend_window_days: int = 180,
    category_levels: Sequence[str] | None = None,
    channel_levels: Sequence[str] | None = None,
    return_levels: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, ShareLevels]:
    """Behaviour features per customer as of ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions. Uses ``category``, ``channel``, ``status``, ``margin``, ``cost``
        when present.
    as_of : date-like
        Required as-of date.
    customers : list-like or frame, optional
        Ids to include as prospects when they have no purchase.
    lookback_days : int, optional
        Lookback window in calendar days.
    top_categories, top_channels : int, default 5 and 4
        Number of levels (by total purchase spend in the window, ties by name) that get their own
        share column; the rest, and missing values, go to ``..._other``.
    trend_window_days : int, default 180
        Length of the recent and previous windows of ``spend_trend``.
    category_levels, channel_levels : list of str, optional
        Use these levels instead of learning them (scoring reuses the levels learned at fit).
    return_levels : bool, default False
        Also return the levels used (learned or given), as a :class:`ShareLevels`.

    Returns
    -------
    pandas.DataFrame, or (pandas.DataFrame, ShareLevels) with ``return_levels=True``
        Indexed by ``customer_id`` (string, sorted). Spend below means purchase-line ``amount``
        (returns and cancelled rows excluded). Columns, with the value for prospects:

        - ``tenure_days``: days from the first purchase day in the window to ``as_of`` (NaN).
        - ``interpurchase_mean_days``: mean gap in days between consecutive distinct purchase
          days, ``(last - first) / (n_days - 1)``; NaN with fewer than 2 purchase days (NaN).
        - ``interpurchase_cv``: population std / mean of those gaps; NaN with fewer than 3
          purchase days (2 gaps) (NaN).
        - ``active_month_share``: calendar months with a purchase / calendar months from the
          first purchase month to the ``as_of`` month, both included (NaN).
        - ``spend_trend``: ``(recent - previous) / (recent + previous)`` in [-1, 1], ``recent`` =
          spend in the last ``trend_window_days`` days up to ``as_of``, ``previous`` = the
          ``trend_window_days`` before; NaN when both are 0 (NaN).
        - ``spend_q1_share`` … ``spend_q4_share``: share of spend by calendar quarter; NaN when
          spend is 0 (NaN). ``season_peak_share``: the largest of the four (NaN).
        - ``category_share_<level>`` / ``category_share_other`` (when ``category`` exists),
          ``channel_share_<level>`` / ``channel_share_other`` (when ``channel`` exists): share of
          spend; NaN when spend is 0 (NaN). ``n_channels`` (int): distinct channels with a
          purchase (0).
        - ``return_rate``: value of return lines (absolute amount) / purchase spend, so the share
          of gross revenue returned (can exceed 1 when the purchase preceded the window); NaN when
          spend is 0 (NaN).
        - ``gross_margin`` (only with ``margin`` or ``cost``): sum of ``margin`` (else
          ``amount - cost``) over non-cancelled rows, returns included (0).

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or an argument is out of range.
    SchemaError
        When a required column is absent or a date column is not datetime64.
    """
    frame, levels = _compute(
        transactions, as_of, families=("behaviour",), customers=customers,
        lookback_days=lookback_days, top_categories=top_categories, top_channels=top_channels,
        trend_window_days=trend_window_days, category_levels=category_levels,
        channel_levels=channel_levels,
    )
    return (frame, levels) if return_levels else frame


def payment_features(
    transactions: Any,
    as_of: Any,
    *,
    customers: Any = None,
    lookback_days: int | None = None,
    late_grace_days: int = 0,
    risk_late_share: float = 0.5,
    risk_unpaid_share: float = 0.2,
) -> pd.DataFrame:
    """Payment behaviour per customer as of ``as_of`` (needs ``due_date``).

    An **invoice** is an order (``order_id``) when the column exists, else a row; only rows with a
    ``due_date`` that count as of ``as_of`` (issued on or before it, not cancelled) are invoices.
    An invoice's due date is the earliest of its lines, its paid date the latest, and it is unpaid
    if any line is. **Point in time**: a ``paid_date`` after ``as_of`` has not happened yet, so
    such an invoice is unpaid as of ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions with ``due_date`` (and usually ``paid_date``; without it every
        invoice is unpaid).
    as_of : date-like
        Required as-of date.
    customers : list-like or frame, optional
        Ids to include as prospects.
    lookback_days : int, optional
        Lookback window (by invoice ``timestamp``).
    late_grace_days : int, default 0
        An invoice is *late* when paid more than this many days after its due date.
    risk_late_share, risk_unpaid_share : float, default 0.5 and 0.2
        ``payment_risk`` is True when ``late_share >= risk_late_share`` or
        ``unpaid_share >= risk_unpaid_share``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (string, sorted). Without a ``due_date`` column the frame has
        no columns. Columns (value for customers without invoices in brackets):

        - ``days_late_mean``, ``days_late_max``: over invoices paid by ``as_of``,
          ``max(days_between(paid_date, due_date), 0)`` (NaN).
        - ``late_share``: paid invoices paid late / paid invoices (NaN).
        - ``unpaid_share``: invoices due by ``as_of`` (``due_date < cutoff(as_of)``) and not paid
          by ``as_of`` / invoices due by ``as_of`` (NaN).
        - ``payment_risk`` (bool): the rule above (False).

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or an argument is out of range.
    SchemaError
        When a required column is absent or a date column is not datetime64.
    """
    return _compute(
        transactions, as_of, families=("payment",), customers=customers,
        lookback_days=lookback_days, late_grace_days=late_grace_days,
        risk_late_share=risk_late_share, risk_unpaid_share=risk_unpaid_share,
    )[0]


@overload
def transaction_features(
    transactions: Any, as_of: Any, *, return_levels: Literal[False] = ..., **kwargs: Any
) -> pd.DataFrame: ...


@overload
def transaction_features(
    transactions: Any, as_of: Any, *, return_levels: Literal[True], **kwargs: Any
) -> tuple[pd.DataFrame, ShareLevels]: ...


def transaction_features(
    transactions: Any,
    as_of: Any,
    *,
    customers: Any = None,
    lookback_days: int | None = None,
    top_categories: int = 5,
    top_channels: int = 4,
    trend_window_days: int = 180,
    category_levels: Sequence[str] | None = None,
    channel_levels: Sequence[str] | None = None,
    late_grace_days: int = 0,
    risk_late_share: float = 0.5,
    risk_unpaid_share: float = 0.2,
    return_levels: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, ShareLevels]:
    """All transaction features (RFM, behaviour, payment) in one pass over the rows.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions. Not modified; row order does not matter.
    as_of : date-like
        Required as-of date.
    customers : list-like or frame, optional
        Ids to include as prospects (frequency 0) when they have no purchase.
    lookback_days : int, optional
        Lookback window in calendar days, ``as_of`` included.
    top_categories, top_channels, trend_window_days, category_levels, channel_levels
        See :func:`behaviour_features`.
    late_grace_days, risk_late_share, risk_unpaid_share
        See :func:`payment_features`.
    return_levels : bool, default False
        Also return the category/channel levels used (learned or given), as a
        :class:`ShareLevels`; pass them back as ``category_levels`` / ``channel_levels`` to
        rebuild the same share columns on other data.

    Returns
    -------
    pandas.DataFrame, or (pandas.DataFrame, ShareLevels) with ``return_levels=True``
        Indexed by ``customer_id`` (string, sorted): the columns of :func:`rfm_features`, then
        :func:`behaviour_features`, then :func:`payment_features` (when ``due_date`` exists),
        with the same definitions and prospect values.

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or an argument is out of range.
    SchemaError
        When a required column is absent or a date column is not datetime64.
    """
    frame, levels = _compute(
        transactions, as_of, families=("rfm", "behaviour", "payment"), customers=customers,
        lookback_days=lookback_days, top_categories=top_categories, top_channels=top_channels,
        trend_window_days=trend_window_days, category_levels=category_levels,
        channel_levels=channel_levels, late_grace_days=late_grace_days,
        risk_late_share=risk_late_share, risk_unpaid_share=risk_unpaid_share,
    )
    return (frame, levels) if return_levels else frame

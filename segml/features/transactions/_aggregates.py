"""The polars expressions of each family (RFM, behaviour, payment) and the one pass running them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from segml.errors import ConfigError, SchemaError
from segml.features.transactions._rows import (
    _QUARTERS,
    _as_input,
    _check_nonneg_int,
    _count_distinct,
    _customer_ids,
    _Input,
    _money_rows,
    _order_key,
    _share,
    _unscale,
    _where,
    _Window,
    _window,
)
from segml.features.transactions.levels import ShareLevels, _check_levels, _learn_levels

RFM_COLUMNS = ("recency_days", "is_prospect", "frequency", "monetary", "avg_order_value")
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
        .sort("customer_id", "_day")  # text order: the same rows whatever the input order
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

    # one row per customer from here: a Categorical id (see _pandas_to_polars) becomes text
    agg = agg.with_columns(pl.col("customer_id").cast(pl.String))
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

"""segml's feature frame computed on Spark with the PySpark DataFrame API.

:func:`spark_feature_frame` reproduces, column for column, :func:`segml.features.build_features`
(``docs/CONTRACTS.md``) on Spark DataFrames of canonical transactions and customers: the RFM
core, the behaviour family, the payment family (with ``due_date``), the RFM scores and the ABC
class here; the attributes, CLV and growth potential in :mod:`segml.spark.customers`; the
``forward`` family in :mod:`segml.spark.forward`. The semantics are segml's, not Spark's defaults:

* **as_of boundary**: a row counts iff ``timestamp < normalize(as_of) + 1 day`` (the whole day
  ``as_of`` is in); the lookback window is ``cutoff - n days <= timestamp``.
* **day counts** are whole calendar days between dates. Spark's ``datediff`` of the two dates is
  exactly that (segml documents calendar days, not a floor of the elapsed time), so days are
  ``datediff(to_date(timestamp), 1970-01-01)`` with the session time zone UTC.
* **exact cents**: money is summed as integers at the smallest scale (1, 100 or 10000) making
  every amount whole, as segml does, so sums do not depend on partitioning or row order.
* **population std** of the inter-purchase gaps: ``stddev_pop`` (Spark's ``stddev`` is n-1).
* **quantile edges**: the RFM cut points and ABC thresholds are learned by segml's own
  :class:`~segml.features.RFMScorer` and :class:`~segml.features.ABCClassifier` on the buyers'
  three per-customer values pulled to the driver over Arrow (24 bytes a buyer), so they are
  exactly segml's (numpy's linear quantiles; Spark's ``percentile_approx`` is approximate and its
  exact ``percentile`` interpolates with another formula). The scores themselves are computed
  in Spark with those frozen edges (tie policy of :mod:`segml.features.scores`).

With a customers table, the per-customer steps follow (:mod:`segml.spark.customers`): the
customer attributes (age, age band, ordered / nominal labels, relationship), the historical CLV
and the growth-potential score. See ``docs/SPARK.md`` for what is distributed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 (pyspark convention)
from pyspark.sql import types as T  # noqa: N812

from segml._asof import parse_as_of
from segml.errors import ConfigError, EngineError, SchemaError
from segml.features import FeatureSpec, FeatureState
from segml.features.spec import FORWARD_TRANSFORMS
from segml.spark.customers import customer_block
from segml.spark.forward import MAX_FIT_ROWS, forward_columns
from segml.spark.frames import SparkFeatureSet, to_pandas
from segml.spark.money import _money, _scale_aggs, _scale_of, _unscale
from segml.spark.payment import _day, _payment_columns, _payment_stats, _share
from segml.spark.scores import _fit_value, _score

__all__ = ["SparkFeatureSet", "spark_feature_frame", "to_pandas", "SPARK_COLUMNS"]

_EPOCH = dt.date(1970, 1, 1)
_RFM = ("recency_days", "frequency", "monetary")
_QUARTERS = ("spend_q1_share", "spend_q2_share", "spend_q3_share", "spend_q4_share")
_SCORES = ("r_score", "f_score", "m_score", "rfm_code", "abc_class")
#: Columns that can come out of :func:`spark_feature_frame` (share columns are per level).
SPARK_COLUMNS = (
    "recency_days", "is_prospect", "frequency", "monetary", "avg_order_value", "tenure_days",
    "interpurchase_mean_days", "interpurchase_cv", "active_month_share", "spend_trend",
    *_QUARTERS, "season_peak_share", "n_channels", "return_rate", "gross_margin",
    "days_late_mean", "days_late_max", "late_share", "unpaid_share", "payment_risk", *_SCORES,
)


# ------------------------------------------------------------------------------------ helpers
def _check_input(tx: DataFrame) -> dict[str, T.DataType]:
    types = {f.name: f.dataType for f in tx.schema.fields}
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in types]
    if missing:
        raise SchemaError(
            f"transactions lacks required column(s) {missing}; got {list(types)[:12]}. Fix: "
            "rename the Spark columns to segml's canonical names (customer_id, timestamp, "
            "amount; see docs/CONTRACTS.md) before spark_feature_frame."
        )
    for c in ("timestamp", "due_date", "paid_date"):
        if c in types and not isinstance(types[c], T.TimestampType | T.TimestampNTZType
                                         | T.DateType):
            raise SchemaError(
                f"transactions '{c}' has Spark type {types[c].simpleString()}, expected a "
                f"timestamp or date. Fix: parse it once, e.g. F.to_timestamp('{c}')."
            )
    return types


def _check_utc(tx: DataFrame, types: dict[str, T.DataType]) -> None:
    if not any(isinstance(t, T.TimestampType) for t in types.values()):
        return
    tz = tx.sparkSession.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise EngineError(
            f"spark.sql.session.timeZone is {tz!r}; segml's timestamps are naive UTC, and the "
            "calendar day of a timestamp (day counts, the as_of boundary) would shift. Fix: "
            "set spark.sql.session.timeZone=UTC (segml.spark.get_session does)."
        )


def _ts(name: str, types: dict[str, T.DataType]) -> Column:
    col = F.col(name)
    return col.cast("timestamp") if isinstance(types[name], T.DateType) else col


def _lit_ts(value: pd.Timestamp, kind: T.DataType) -> Column:
    lit = F.lit(value.to_pydatetime())
    return lit.cast("timestamp_ntz") if isinstance(kind, T.TimestampNTZType) else lit


# ------------------------------------------------------------------------------------ public
def spark_feature_frame(
    tx_sdf: DataFrame,
    customers_sdf: DataFrame | None = None,
    spec: FeatureSpec | None = None,
    as_of: Any = None,
    *,
    lookback_days: int | None = None,
    state: FeatureState | None = None,
    top_categories: int = 5,
    top_channels: int = 4,
    trend_window_days: int = 180,
    late_grace_days: int = 0,
    risk_late_share: float = 0.5,
    risk_unpaid_share: float = 0.2,
    min_peers: int = 5,
    forward_max_fit_rows: int = MAX_FIT_ROWS,
) -> SparkFeatureSet:
    """Build segml's feature frame on Spark (the frame of ``build_features``).

    Parameters
    ----------
    tx_sdf : pyspark.sql.DataFrame
        Canonical transactions (``customer_id`` string, ``timestamp`` timestamp in UTC,
        ``amount`` double; optional ``order_id``, ``status``, ``category``, ``channel``,
        ``margin``, ``cost``, ``due_date``, ``paid_date``).
    customers_sdf : pyspark.sql.DataFrame, optional
        Customers with ``customer_id`` (and ``signup_date`` for the as-of universe): customers
        without purchases are prospects; ones first seen after ``as_of`` are left out.
    spec : FeatureSpec, optional
        When given, every transaction-derived column it names must be one this function
        builds, else :class:`~segml.errors.EngineError` lists the missing ones (nothing is
        dropped silently). Attribute columns are not checked (they come from ``customers_sdf``).
    as_of : date-like
        Required (ISO ``YYYY-MM-DD``); see ``docs/CONTRACTS.md``.
    lookback_days : int, optional
        Lookback window in calendar days, ``as_of`` included.
    state : FeatureState, optional
        Frozen state of an earlier fit (segml's or this function's): its share levels, RFM
        cut points and ABC thresholds are reused instead of learned.
    top_categories, top_channels, trend_window_days, late_grace_days, risk_late_share, \
risk_unpaid_share
        As in :func:`segml.features.transactions.transaction_features`.
    min_peers : int, default 5
        Fewest buyers of a growth-potential profile cell for its own peer median (as
        :func:`segml.features.build_features`).
    forward_max_fit_rows : int, default 50_000_000
        With a ``forward`` family in ``spec`` and no ``state``: most customers whose
        ``(x, t_x, T, monetary)`` summary is pulled to the driver to fit BG/NBD and
        Gamma-Gamma (32 bytes a customer); more is refused with an ``EngineError``.

    Returns
    -------
    SparkFeatureSet
        ``frame`` (a Spark DataFrame, one row per customer), the scorer / classifier used and
        the levels; ``.to_pandas()`` gives the frame indexed like ``build_features(...).frame``.

    Raises
    ------
    ConfigError
        ``as_of`` missing / not ISO / before the first transaction.
    SchemaError
        Required columns missing or dates not parsed; customers with missing or duplicated
        ids.
    EngineError
        Session time zone not UTC; ``spec`` names transaction columns these data cannot give;
        more than ``forward_max_fit_rows`` customers to fit the forward family on.
    """
    as_of_ts = parse_as_of(as_of)
    types = _check_input(tx_sdf)
    _check_utc(tx_sdf, types)
    kind = types["timestamp"] if not isinstance(types["timestamp"], T.DateType) else (
        T.TimestampType())
    end = as_of_ts.normalize() + pd.Timedelta(days=1)
    start = None
    if lookback_days is not None:
        if isinstance(lookback_days, bool) or not isinstance(lookback_days, int) or (
                lookback_days < 1):
            raise ConfigError(f"lookback_days={lookback_days!r} should be a whole number >= 1. "
                              "Fix: [features] lookback_days = 365 (Python: lookback_days=365).")
        start = end - pd.Timedelta(days=lookback_days)
    as_of_day = int((as_of_ts.normalize() - pd.Timestamp(_EPOCH)).days)
    as_of_month = as_of_ts.year * 12 + as_of_ts.month - 1

    ts = _ts("timestamp", types)
    has = set(types)
    amount = F.col("amount").cast("double")
    amount = F.when(F.isnan(amount), F.lit(None)).otherwise(amount)
    before_end = ts < _lit_ts(end, kind)
    is_in = F.lit(True)
    if start is not None:
        is_in = is_in & (ts >= _lit_ts(start, kind))
    is_ret = amount < 0
    if "status" in has:
        status = F.col("status").cast("string")
        is_in = is_in & (F.coalesce(status, F.lit("completed")) != "cancelled")
        is_ret = is_ret | (F.coalesce(status, F.lit("")) == "returned")
    is_ret = F.coalesce(is_ret, F.lit(False))
    gm = None
    if "margin" in has:
        gm = F.col("margin").cast("double")
    elif "cost" in has:
        gm = amount - F.col("cost").cast("double")
    if gm is not None:
        gm = F.when(F.isnan(gm), F.lit(None)).otherwise(gm)

    # one pass over all rows: the data's range, the rows left out, the money scales
    counted = before_end & is_in
    stat_cols = [F.min(ts).alias("_start"), F.count(F.when(~before_end, 1)).alias("_after")]
    if start is not None:
        stat_cols.append(F.count(F.when(before_end & (ts < _lit_ts(start, kind)), 1))
                         .alias("_before"))
    stat_cols += _scale_aggs(amount, counted, "m")
    if gm is not None:
        stat_cols += _scale_aggs(gm, counted, "g")
    stats = tx_sdf.select(*stat_cols).collect()[0]
    if stats["_start"] is not None and pd.Timestamp(stats["_start"]) >= end:
        raise ConfigError(
            f"as_of={as_of_ts.date()} is before the first transaction "
            f"({pd.Timestamp(stats['_start']).date()}); there is nothing to build features on. "
            "Fix: pick an as_of inside the data's range: config [features] as_of / CLI --as-of, "
            "Python spark_feature_frame(as_of=...)."
        )
    scale = _scale_of(stats, "m")
    margin_scale = _scale_of(stats, "g") if gm is not None else None
    report = {"rows_after_as_of": int(stats["_after"]),
              "rows_before_window": int(stats["_before"]) if start is not None else 0,
              "money_scale": scale}

    day = _day(ts)
    cols = [F.col("customer_id").cast("string").alias("customer_id"), ts.alias("_ts"),
            day.alias("_day"), is_in.alias("_in"), (is_in & ~is_ret).alias("_buy"),
            (is_in & is_ret).alias("_rt"), _money(amount, scale).alias("_m"),
            (F.year(ts) * 12 + F.month(ts) - 1).alias("_month"), F.quarter(ts).alias("_q")]
    for c in ("order_id", "category", "channel"):
        if c in has:
            cols.append(F.col(c).cast("string").alias(c))
    if gm is not None:
        cols.append(_money(gm, margin_scale).alias("_gm"))
    for c in ("due_date", "paid_date"):
        if c in has:
            cols.append(_ts(c, types).alias(c))
    # read by the level ranking, the aggregation, the gaps and the invoices: computed once
    rows = tx_sdf.where(before_end).select(*cols).cache()

    cats = chans = None
    if "category" in has:
        cats = _levels(rows, "category", top_categories,
                       state.category_levels if state is not None else None)
    if "channel" in has:
        chans = _levels(rows, "channel", top_channels,
                        state.channel_levels if state is not None else None)

    buy, m = F.col("_buy"), F.col("_m")
    if "order_id" in has:
        key = F.coalesce(F.col("order_id"),
                         F.concat(F.lit("\x00day:"), F.col("_day").cast("string")))
    else:
        key = F.col("_day")
    end_lit = _lit_ts(end, kind)
    recent_start = _lit_ts(end - pd.Timedelta(days=trend_window_days), kind)
    prev_start = _lit_ts(end - pd.Timedelta(days=2 * trend_window_days), kind)
    tsc = F.col("_ts")
    aggs = [
        F.countDistinct(F.when(buy, key)).alias("_freq"),
        F.max(F.when(buy, F.col("_day"))).alias("_last_day"),
        F.sum(F.when(F.col("_in"), m)).alias("_monetary"),
        F.min(F.when(buy, F.col("_day"))).alias("_first_day"),
        F.countDistinct(F.when(buy, F.col("_day"))).alias("_n_days"),
        F.min(F.when(buy, F.col("_month"))).alias("_first_month"),
        F.countDistinct(F.when(buy, F.col("_month"))).alias("_n_months"),
        F.sum(F.when(buy, m)).alias("_gross"),
        F.sum(F.abs(F.when(F.col("_rt"), m))).alias("_returned"),
        F.sum(F.when(buy & (tsc >= recent_start), m)).alias("_recent"),
        F.sum(F.when(buy & (tsc >= prev_start) & (tsc < recent_start), m)).alias("_previous"),
    ]
    aggs += [F.sum(F.when(buy & (F.col("_q") == q), m)).alias(f"_q{q}") for q in (1, 2, 3, 4)]
    for col, levels, tag in (("category", cats, "_cat"), ("channel", chans, "_chan")):
        if levels is None:
            continue
        aggs += [F.sum(F.when(buy & (F.col(col) == lvl), m)).alias(f"{tag}{i}")
                 for i, lvl in enumerate(levels)]
        listed = F.coalesce(F.col(col).isin(levels), F.lit(False)) if levels else F.lit(False)
        aggs.append(F.sum(F.when(buy & ~listed, m)).alias(f"{tag}_other"))
    if chans is not None:
        aggs.append(F.countDistinct(F.when(buy, F.col("channel"))).alias("_n_channels"))
    if gm is not None:
        aggs.append(F.sum(F.when(F.col("_in"), F.col("_gm"))).alias("_margin"))
    agg = rows.groupBy("customer_id").agg(*aggs)

    # population std of the gaps between distinct purchase days
    days = rows.where(buy).select("customer_id", "_day").distinct()
    w = Window.partitionBy("customer_id").orderBy("_day")
    gaps = (days.withColumn("_gap", (F.col("_day") - F.lag("_day").over(w)).cast("double"))
            .groupBy("customer_id").agg(F.stddev_pop("_gap").alias("_gap_std")))
    agg = agg.join(gaps, "customer_id", "left")
    has_payment = "due_date" in has
    if has_payment:
        agg = agg.join(_payment_stats(rows, has, end_lit, late_grace_days), "customer_id",
                       "left")

    universe = _universe(tx_sdf, customers_sdf, agg, end, kind)
    joined = universe.join(agg, "customer_id", "left")

    freq = F.coalesce(F.col("_freq"), F.lit(0)).cast("long")
    monetary = _unscale(F.coalesce(F.col("_monetary"), F.lit(0)), scale)
    out = [
        (F.lit(as_of_day) - F.col("_last_day")).cast("double").alias("recency_days"),
        (freq == 0).alias("is_prospect"),
        freq.alias("frequency"),
        monetary.alias("monetary"),
        F.when(freq > 0, monetary / freq).cast("double").alias("avg_order_value"),
    ]
    gross = F.coalesce(F.col("_gross"), F.lit(0))
    n_days = F.coalesce(F.col("_n_days"), F.lit(0))
    mean_gap = F.when(n_days >= 2, (F.col("_last_day") - F.col("_first_day")).cast("double")
                      / (n_days - 1))
    recent = F.coalesce(F.col("_recent"), F.lit(0))
    previous = F.coalesce(F.col("_previous"), F.lit(0))
    out += [
        (F.lit(as_of_day) - F.col("_first_day")).cast("double").alias("tenure_days"),
        mean_gap.cast("double").alias("interpurchase_mean_days"),
        F.when((n_days >= 3) & (mean_gap > 0), F.col("_gap_std") / mean_gap).cast("double")
        .alias("interpurchase_cv"),
        _share(F.col("_n_months"), F.lit(as_of_month) - F.col("_first_month") + 1)
        .alias("active_month_share"),
        _share(recent - previous, recent + previous).alias("spend_trend"),
    ]
    shares = [_share(F.coalesce(F.col(f"_q{q}"), F.lit(0)), gross) for q in (1, 2, 3, 4)]
    out += [s.alias(name) for s, name in zip(shares, _QUARTERS, strict=True)]
    out.append(F.greatest(*shares).alias("season_peak_share"))
    for prefix, levels, tag in (("category_share_", cats, "_cat"),
                                ("channel_share_", chans, "_chan")):
        if levels is None:
            continue
        out += [_share(F.coalesce(F.col(f"{tag}{i}"), F.lit(0)), gross).alias(f"{prefix}{lvl}")
                for i, lvl in enumerate(levels)]
        out.append(_share(F.coalesce(F.col(f"{tag}_other"), F.lit(0)), gross)
                   .alias(f"{prefix}other"))
    if chans is not None:
        out.append(F.coalesce(F.col("_n_channels"), F.lit(0)).cast("long").alias("n_channels"))
    out.append(_share(F.coalesce(F.col("_returned"), F.lit(0)), gross).alias("return_rate"))
    if gm is not None:
        out.append(_unscale(F.coalesce(F.col("_margin"), F.lit(0)), margin_scale)
                   .alias("gross_margin"))
    if has_payment:
        out += _payment_columns(risk_late_share, risk_unpaid_share)
    # collected once for the cut points and once by the caller: computed once
    frame = joined.select(F.col("customer_id"), *out).cache()

    # before the cut points are collected
    _check_spec(spec, [*frame.columns, *_SCORES, "clv", "growth_potential", *FORWARD_TRANSFORMS,
                       *(["net_margin"] if gm is not None else [])])
    rfm, abc = (state.rfm_scorer, state.abc) if state is not None else _fit_value(frame)
    unscored = frame
    frame = _score(frame, rfm, abc)
    out = SparkFeatureSet(frame=frame, rfm_scorer=rfm, abc=abc, category_levels=cats,
                          channel_levels=chans, report=report, cached=[rows, unscored])
    out = customer_block(out, customers_sdf, as_of_ts, spec, state, min_peers=min_peers,
                         margin=gm is not None)
    out.frame, out.forward = forward_columns(out.frame, tx_sdf, ts, before_end, as_of_ts, spec,
                                             state, min_peers, forward_max_fit_rows, out.report)
    return out


def _levels(rows: DataFrame, column: str, n: int, given: list[str] | None) -> list[str]:
    """Top ``n`` levels by purchase spend, ties by name (segml's ``_learn_levels``)."""
    if given is not None:
        return list(given)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"top levels n={n!r} should be a whole number >= 0.")
    if n == 0:
        return []
    top = (rows.where(F.col("_buy") & F.col(column).isNotNull() & (F.col(column) != "other"))
           .groupBy(column).agg(F.sum("_m").alias("_s"))
           .orderBy(F.col("_s").desc(), F.col(column).asc()).limit(n).collect())
    return [str(r[column]) for r in top]


def _universe(tx: DataFrame, customers: DataFrame | None, agg: DataFrame, end: pd.Timestamp,
              kind: T.DataType) -> DataFrame:
    """Select customers with a row on or before as_of, and table ones not first seen after it."""
    ids = agg.select("customer_id")
    if customers is None:
        return ids
    ctypes = {f.name: f.dataType for f in customers.schema.fields}
    if "customer_id" not in ctypes:
        raise SchemaError(
            f"customers has no 'customer_id' column; got {list(ctypes)[:10]}. Fix: rename the "
            "id column to customer_id (see docs/CONTRACTS.md)."
        )
    table = customers.select(F.col("customer_id").cast("string").alias("customer_id"),
                             *([_ts("signup_date", ctypes).alias("_signup")]
                               if "signup_date" in ctypes else []))
    ts = _ts("timestamp", {f.name: f.dataType for f in tx.schema.fields})
    first_tx = tx.groupBy(F.col("customer_id").cast("string").alias("customer_id")).agg(
        F.min(ts).alias("_first_tx"))
    table = table.join(first_tx, "customer_id", "left")
    first = (F.least(F.col("_first_tx"), F.col("_signup")) if "signup_date" in ctypes
             else F.col("_first_tx"))
    kept = table.where(first.isNull() | (first < _lit_ts(end, kind))).select("customer_id")
    return ids.unionByName(kept).distinct()


def _check_spec(spec: FeatureSpec | None, built: list[str]) -> None:
    if spec is None:
        return
    wanted = list(spec.columns())
    tx_like = [c for c in wanted if c in SPARK_COLUMNS or c.startswith(
        ("category_share_", "channel_share_")) or c in ("clv", "net_margin", "growth_potential")
        or c in FORWARD_TRANSFORMS]
    missing = [c for c in tx_like if c not in built]
    if missing:
        raise EngineError(
            f"the feature spec uses column(s) {missing[:6]} that the Spark engine does not "
            "build (yet) from these transactions. Fix: drop them from the spec's families "
            "(FeatureSpec / [features] spec) or build features with engine = \"pandas\" "
            "(config [engine] engine, Python build_features)."
        )


"""The ``forward`` feature family (BG/NBD + Gamma-Gamma, :mod:`segml.value`) on Spark.

1. **Summary in Spark.** :func:`segml.value.rfm_summary`'s ``(x, t_x, T, monetary)`` per
   customer, over the rows on or before ``as_of`` (the whole history, as segml: the models need
   the first purchase). The rows are shuffled into hash buckets of ``customer_id`` and segml's
   own ``rfm_summary`` runs on each bucket (``applyInPandas``); it is per customer, so the
   summary equals segml's bit for bit (its float sums included).
2. **Fit on the driver** (no state): the four summary columns of every modelled customer are
   pulled over Arrow, sorted by ``customer_id`` as segml's summary is (32 bytes a customer:
   100M customers are 3.2 GB on the driver; ``max_fit_rows`` refuses more), and segml's own
   :class:`~segml.value.BGNBD` / :class:`~segml.value.GammaGamma` are fitted on them.
3. **Per customer in Spark**: ``mapInPandas`` calls segml's vectorised
   :func:`~segml.value.forward_value` (or ``BGNBD.predict``) on each Arrow batch with the
   parameters frozen, so the expectations are segml's functions of the same inputs.
4. **Peers**: the median ``expected_spend`` of the repeat buyers per growth-potential profile
   cell, with Spark's exact ``percentile(…, 0.5)`` (equal to pandas' median, see
   :mod:`segml.spark.value`), then ``forward_growth_potential`` as a column expression.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (pyspark convention)
from pyspark.sql import types as T  # noqa: N812

from segml.errors import ConfigError, DataQualityWarning, EngineError
from segml.features import FeatureSpec, FeatureState
from segml.features.forward import frozen_forward
from segml.spark.value import by_columns, growth_by, peer_cells, with_peer
from segml.value import (
    BGNBD,
    FORWARD_COLUMNS,
    TIME_UNITS,
    ForwardState,
    GammaGamma,
    forward_value,
    rfm_summary,
)
from segml.value.family import SPEND_COLUMNS, check_forward_columns

__all__: list[str] = []

#: Most customers whose summary is pulled to the driver for the fit (32 bytes each).
MAX_FIT_ROWS = 50_000_000
#: About this many transaction rows per summary bucket (one pandas frame in one task).
_BUCKET_ROWS = 1_000_000
_WHAT = "feature family 'forward'"


def _summary_batch(as_of: str, time_unit: str) -> Any:
    """Make the per-group function: segml's own ``rfm_summary`` of the group's customers."""
    def run(rows: pd.DataFrame) -> pd.DataFrame:
        with warnings.catch_warnings():  # the counts are taken in Spark (one aggregate)
            warnings.simplefilter("ignore", DataQualityWarning)
            out = rfm_summary(rows, as_of, time_unit=time_unit)
        out = out.reset_index()
        return out[["customer_id", "x", "t_x", "T", "monetary"]]

    return run


def spark_summary(tx: DataFrame, ts: Any, before_end: Any, as_of: pd.Timestamp,
                  time_unit: str) -> tuple[DataFrame, dict[str, int]]:
    """``rfm_summary(tx, as_of, time_unit)`` in Spark (columns customer_id, x, t_x, T, monetary).

    The rows on or before ``as_of`` are shuffled into hash buckets of ``customer_id`` (every
    customer's rows in one bucket, at most about a million rows a bucket) and each bucket is
    summarised by segml's own :func:`~segml.value.rfm_summary` (``applyInPandas``): the summary
    is per customer, so it equals segml's bit for bit, whatever the buckets. Returns the lazy
    summary and the row counts segml reports (``n_return_rows``, ``n_cancelled_rows``,
    ``n_missing_amount_rows``), counted in one Spark aggregate.
    """
    has_status = "status" in tx.columns
    amount = F.col("amount").cast("double")
    cancelled = F.lit(False)
    returned = F.coalesce(amount < 0, F.lit(False))
    if has_status:
        status = F.coalesce(F.col("status").cast("string"), F.lit(""))
        cancelled = status == "cancelled"
        returned = returned | ((status == "returned") & ~cancelled)
    keep = before_end & ~returned & ~cancelled
    stats = tx.select(
        F.count(F.when(before_end & returned & ~cancelled, 1)).alias("_ret"),
        F.count(F.when(before_end & cancelled, 1)).alias("_can"),
        F.count(F.when(keep & (amount.isNull() | F.isnan(amount)), 1)).alias("_na"),
        F.count(F.when(before_end, 1)).alias("_rows"),
    ).collect()[0]
    partitions = int(tx.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)
    buckets = max(partitions, -(-int(stats["_rows"]) // _BUCKET_ROWS), 1)
    cols = [F.col("customer_id").cast("string").alias("customer_id"),
            ts.cast("timestamp").alias("timestamp"), amount.alias("amount")]
    if has_status:
        cols.append(F.col("status").cast("string").alias("status"))
    rows = tx.where(before_end).select(*cols).withColumn(
        "_bucket", F.pmod(F.xxhash64("customer_id"), F.lit(buckets)))
    schema = T.StructType([T.StructField("customer_id", T.StringType()),
                           T.StructField("x", T.LongType()),
                           T.StructField("t_x", T.DoubleType()),
                           T.StructField("T", T.DoubleType()),
                           T.StructField("monetary", T.DoubleType())])
    summary = rows.groupBy("_bucket").applyInPandas(
        _summary_batch(str(as_of.date()), time_unit), schema)
    counts = {"n_return_rows": int(stats["_ret"]), "n_cancelled_rows": int(stats["_can"]),
              "n_missing_amount_rows": int(stats["_na"])}
    return summary, counts


def _fit(summary: DataFrame, as_of: pd.Timestamp, opts: dict[str, Any], min_peers: int,
         need_spend: bool, counts: dict[str, int], max_fit_rows: int) -> ForwardState:
    """Fit as :func:`segml.value.fit_forward` does, on the summary pulled to the driver."""
    n = summary.count()
    if n > max_fit_rows:
        raise EngineError(
            f"{_WHAT}: {n} customers to fit BG/NBD on, more than max_fit_rows={max_fit_rows} "
            f"(32 bytes each on the driver: {n * 32 / 1e9:.1f} GB). Fix: raise max_fit_rows "
            "(Python spark_feature_frame(forward_max_fit_rows=...)) with a larger driver "
            "(spark.driver.memory), or fit the family on a sample with the pandas path and pass "
            "its state (state=)."
        )
    pdf = summary.orderBy("customer_id").select("x", "t_x", "T", "monetary").toPandas()
    pdf = pdf.astype({"x": "int64", "t_x": "float64", "T": "float64", "monetary": "float64"})
    try:
        bg = BGNBD().fit(pdf)
    except ConfigError as exc:
        raise ConfigError(f"{_WHAT}: {exc} Or remove [families.forward] from the feature "
                          "spec.") from exc
    report: dict[str, Any] = {
        "n_customers": int(bg.n_customers_), "n_repeat_buyers": int(bg.n_repeat_buyers_),
        "bgnbd_log_likelihood": bg.log_likelihood_, **counts,
    }
    state = ForwardState(options=opts, as_of=str(as_of.date()), purchases=bg.params_,
                         min_peers=int(min_peers), fit_report=report)
    if not need_spend:
        return state
    zero = (pdf["x"] >= 1) & (pdf["monetary"] == 0)
    report["zero_spend_repeaters"] = int(zero.sum())
    try:
        gg = GammaGamma().fit(pdf[~zero])
    except ConfigError as exc:
        raise ConfigError(f"{_WHAT}: {exc} Or keep only 'p_alive' and 'expected_purchases' in "
                          "[families.forward.columns].") from exc
    state.spend = gg.params_
    report["gamma_gamma_log_likelihood"] = gg.log_likelihood_
    report["independence"] = asdict(gg.independence_)
    return state


def _predict(state: ForwardState, spend: bool) -> Any:
    """Make the per-batch function: segml's forward_value / BGNBD.predict, parameters frozen."""
    opts = dict(state.options)
    rate = (1.0 + opts["discount_rate"]) ** (TIME_UNITS[opts["time_unit"]] / 365.25) - 1.0
    purchases, gg_params = state.purchases, state.spend

    def run(batches):
        bg = BGNBD()
        bg.params_ = purchases
        gg = None
        if spend:
            gg = GammaGamma()
            gg.params_ = gg_params
        for b in batches:
            summary = b.set_index("customer_id")
            summary = summary.astype({"x": "int64", "t_x": "float64", "T": "float64",
                                      "monetary": "float64"})
            if spend:
                fv = forward_value(bg, gg, summary, horizon=opts["horizon"],
                                   discount_rate=rate, margin=opts["margin"])
                out = pd.DataFrame({"p_alive": fv["p_alive"],
                                    "expected_purchases": fv["expected_purchases"],
                                    "expected_spend": fv["expected_spend"],
                                    "forward_clv": fv["clv"]})
            else:
                out = bg.predict(summary, float(opts["horizon"]))
            out.index.name = "customer_id"
            yield out.reset_index().assign(x=summary["x"].to_numpy())

    return run


def forward_columns(
    frame: DataFrame, tx: DataFrame, ts: Any, before_end: Any, as_of: pd.Timestamp,
    spec: FeatureSpec | None, state: FeatureState | None, min_peers: int,
    max_fit_rows: int, report: dict[str, Any],
) -> tuple[DataFrame, ForwardState | None]:
    """Add the ``forward`` columns the spec lists (fit at ``as_of``, or the state's frozen).

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        The feature frame so far (with the growth-potential profile columns).
    tx : pyspark.sql.DataFrame
        The canonical transactions; ``ts`` / ``before_end`` their timestamp column and the
        as-of boundary (from :func:`segml.spark.features.spark_feature_frame`).
    as_of : pandas.Timestamp
        The build's date.
    spec : FeatureSpec or None
        Nothing happens unless it has a ``forward`` family.
    state : FeatureState or None
        None: fit; else its ``forward`` parameters are applied.
    min_peers : int
        Fewest repeat buyers of a profile cell for its own peer spend.
    max_fit_rows : int
        Most customers pulled to the driver for the fit.
    report : dict
        ``report["forward"]`` is set as by :func:`segml.features.build_features`.

    Returns
    -------
    (pyspark.sql.DataFrame, ForwardState or None)
    """
    options = spec.forward_options() if spec is not None else None
    if options is None:
        return frame, None
    columns = check_forward_columns(list(spec.families["forward"].columns))
    need_spend = any(c in SPEND_COLUMNS for c in columns)
    summary, counts = spark_summary(tx, ts, before_end, as_of, options["time_unit"])
    summary = summary.cache()
    if state is None:
        forward = _fit(summary, as_of, options, min_peers, need_spend, counts, max_fit_rows)
    else:
        forward = frozen_forward(state)
        if [c for c in columns if c in SPEND_COLUMNS] and forward.spend is None:
            raise ConfigError(
                f"forward columns {[c for c in columns if c in SPEND_COLUMNS]} need the spend "
                "model, and this state was fitted without it. Fix: refit with those columns "
                "in the spec (and 'amount' in the data)."
            )
    spend = need_spend and forward.spend is not None
    out_cols = list(FORWARD_COLUMNS[:4]) if spend else ["p_alive", "expected_purchases"]
    schema = T.StructType([T.StructField("customer_id", T.StringType())]
                          + [T.StructField(c, T.DoubleType()) for c in out_cols]
                          + [T.StructField("x", T.LongType())])
    per = summary.mapInPandas(_predict(forward, spend), schema)
    by = growth_by(frame.columns)
    fwd = frame.select("customer_id", *by_columns(frame, by)).join(per, "customer_id", "inner")
    fwd = fwd.cache()
    names = [f"_by{i}" for i in range(len(by))]
    n_fallback = 0
    if spend:
        es = F.col("expected_spend")
        if state is None:
            tuples, medians, glob, rows, key = peer_cells(fwd, names, es, F.col("x") >= 1,
                                                          forward.min_peers)
            forward.peer_spend, forward.global_peer_spend = medians, glob
        else:
            tuples, _, _, rows, key = peer_cells(fwd, names, es, F.lit(True), None)
        n_fallback = int(sum(n for k, n in rows.items() if k not in forward.peer_spend))
        fwd, peer = with_peer(fwd, names, tuples, key, forward.peer_spend,
                              forward.global_peer_spend)
        gap = F.greatest(peer - es, F.lit(0.0))
        fwd = fwd.select("customer_id", *out_cols, F.when(
            peer.isNotNull() & es.isNotNull(), F.col("expected_purchases") * gap)
            .alias("forward_growth_potential"))
    n_modelled = summary.count()
    n_frame = frame.count()
    joined = frame.join(fwd.select(F.col("customer_id").alias("_fid"),
                                   *(F.col(c).alias(f"_f_{c}") for c in columns)),
                        F.col("customer_id") == F.col("_fid"), "left")
    report["forward"] = {
        "n_modelled": n_modelled, "peer_fallback": n_fallback,
        "not_modelled": n_frame - n_modelled, "as_of_fit": forward.as_of, "peer_by": list(by),
        "fit": dict(forward.fit_report),
    }
    # a frozen state's column order already holds the forward columns (null): fill them there
    kept = [F.col(f"_f_{c}").alias(c) if c in columns else F.col(c) for c in frame.columns]
    added = [F.col(f"_f_{c}").alias(c) for c in columns if c not in frame.columns]
    return joined.select(*kept, *added), forward

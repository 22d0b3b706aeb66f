"""The payment family on Spark: invoices, lateness and unpaid shares (as segml defines them)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (pyspark convention)

__all__: list[str] = []


def _day(ts: Column) -> Column:
    return F.datediff(F.to_date(ts), F.lit("1970-01-01").cast("date"))


def _share(num: Column, den: Column) -> Column:
    return F.when(den > 0, num.cast("double") / den.cast("double"))


def _payment_stats(rows: DataFrame, has: set[str], end_lit: Column, grace: int) -> DataFrame:
    """Invoices (orders, else rows) with a due date: lateness and unpaid counts per customer."""
    inv = rows.where(F.col("_in") & F.col("due_date").isNotNull())
    if "paid_date" in has:  # a payment after as_of has not happened yet as of as_of
        paid = F.when(F.col("paid_date") < end_lit, F.col("paid_date"))
    else:
        paid = F.lit(None).cast("timestamp")
    inv = inv.select(
        "customer_id", *(["order_id"] if "order_id" in has else []), "_day",
        _day(F.col("due_date")).alias("_due"), _day(paid).alias("_paid"),
        (F.col("due_date") < end_lit).alias("_is_due"),
    )
    if "order_id" in has:
        key = F.coalesce(F.col("order_id"),
                         F.concat(F.lit("\x00day:"), F.col("_day").cast("string")))
        inv = inv.groupBy("customer_id", key.alias("_inv")).agg(
            F.min("_due").alias("_due"), F.max(F.col("_is_due").cast("int")).alias("_is_due"),
            F.when(F.count(F.when(F.col("_paid").isNull(), 1)) == 0, F.max("_paid"))
            .alias("_paid"),
        ).withColumn("_is_due", F.col("_is_due") == 1)
    late = F.greatest(F.col("_paid") - F.col("_due"), F.lit(0)).cast("double")
    is_paid = F.col("_paid").isNotNull()
    return inv.groupBy("customer_id").agg(
        F.avg(F.when(is_paid, late)).alias("days_late_mean"),
        F.max(F.when(is_paid, late)).alias("days_late_max"),
        F.count(F.when(is_paid, 1)).alias("_n_paid"),
        F.count(F.when(is_paid & (late > grace), 1)).alias("_n_late"),
        F.count(F.when(F.col("_is_due"), 1)).alias("_n_due"),
        F.count(F.when(F.col("_is_due") & ~is_paid, 1)).alias("_n_unpaid"),
    )


def _payment_columns(risk_late: float, risk_unpaid: float) -> list[Column]:
    late_share = _share(F.col("_n_late"), F.col("_n_paid"))
    unpaid_share = _share(F.col("_n_unpaid"), F.col("_n_due"))
    return [
        F.col("days_late_mean").cast("double").alias("days_late_mean"),
        F.col("days_late_max").cast("double").alias("days_late_max"),
        late_share.alias("late_share"),
        unpaid_share.alias("unpaid_share"),
        (F.coalesce(late_share >= risk_late, F.lit(False))
         | F.coalesce(unpaid_share >= risk_unpaid, F.lit(False))).alias("payment_risk"),
    ]

"""Driver samples of a Spark frame: uniform or stratified, reproducible across partitionings.

With an id column the sample is *bottom-k by hash*: the rows with the smallest
``xxhash64(id, seed)`` (overall, or within each stratum in proportion to its size), so the same
seed picks the same customers however the frame is partitioned. The result is indexed by the
id, sorted.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from segml.errors import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["driver_sample"]

_HASH = "_segml_hash"


def _to_pandas(sdf: SparkDataFrame, id_column: str) -> pd.DataFrame:
    pdf = sdf.toPandas()
    if id_column in pdf.columns:
        pdf = pdf.set_index(id_column).sort_index(kind="stable")
    return pdf


def _quotas(counts: dict[Any, int], size: int) -> dict[Any, int]:
    """Proportional allocation of ``size`` rows to strata (largest remainder, capped)."""
    n = sum(counts.values())
    keys = sorted(counts, key=lambda s: (s is None, str(s)))
    exact = {s: size * counts[s] / n for s in keys}
    quota = {s: min(counts[s], math.floor(exact[s])) for s in keys}
    rest = size - sum(quota.values())
    for s in sorted(keys, key=lambda s: exact[s] - math.floor(exact[s]), reverse=True):
        if rest <= 0:
            break
        if quota[s] < counts[s]:
            quota[s] += 1
            rest -= 1
    return quota


def _stratified(hashed: SparkDataFrame, size: int, stratify_by: str,
                id_column: str) -> SparkDataFrame:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    counts = {r[stratify_by]: int(r["count"])
              for r in hashed.groupBy(stratify_by).count().collect()}
    quota = _quotas(counts, size)
    limit = F.lit(0)
    for s, q in quota.items():
        cond = F.col(stratify_by).isNull() if s is None else F.col(stratify_by) == F.lit(s)
        limit = F.when(cond, F.lit(q)).otherwise(limit)
    rank = F.row_number().over(Window.partitionBy(stratify_by).orderBy(_HASH, id_column))
    return (hashed.withColumn("_segml_rank", rank)
            .where(F.col("_segml_rank") <= limit).drop("_segml_rank"))


def driver_sample(sdf: SparkDataFrame, size: int, *, seed: int, n_rows: int | None = None,
                  id_column: str = "customer_id",
                  stratify_by: str | None = None) -> pd.DataFrame:
    """Pull a uniform (or stratified) sample of ``size`` rows (all rows when fewer) to the driver.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        Feature frame.
    size : int
        Rows wanted.
    seed : int
        Hash seed: the same seed gives the same rows.
    n_rows : int, optional
        Row count of ``sdf`` when already known.
    id_column : str, default "customer_id"
        With this column the sample is the ``size`` rows of smallest ``xxhash64(id, seed)``
        (independent of partitioning) and the result is indexed by it, sorted.
    stratify_by : str, optional
        Column whose groups (missing values are one group) get ``size`` rows in proportion
        to their size (largest remainder), each its smallest hashes; needs ``id_column``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    SchemaError
        ``stratify_by`` is not a column, or stratifying without ``id_column``.
    """
    from pyspark.sql import functions as F

    if stratify_by is not None and (stratify_by not in sdf.columns
                                    or id_column not in sdf.columns):
        raise SchemaError(
            f"stratify_by={stratify_by!r} needs that column and the id column {id_column!r} "
            f"in the Spark frame (it has {sdf.columns[:8]}). Fix: pass "
            "fit_spark(stratify_by=...) naming a column of the frame, and id_column=..."
        )
    n = sdf.count() if n_rows is None else n_rows
    if size >= n:
        return _to_pandas(sdf, id_column)
    if id_column not in sdf.columns:
        frac = min(1.0, (size + 5 * math.sqrt(size) + 10) / n)
        pdf = sdf.sample(withReplacement=False, fraction=frac, seed=seed).toPandas()
        return pdf.sample(n=min(size, len(pdf)), random_state=seed).sort_index()
    h = F.xxhash64(F.col(id_column), F.lit(int(seed))).bitwiseAND(F.lit(0x7FFFFFFFFFFFFFFF))
    hashed = sdf.withColumn(_HASH, h / F.lit(float(2**63)))
    if stratify_by is not None:
        pdf = _stratified(hashed, size, stratify_by, id_column).drop(_HASH).toPandas()
        return pdf.set_index(id_column).sort_index(kind="stable")
    frac = (size + 5 * math.sqrt(size) + 10) / n
    while True:  # a hash threshold keeps about frac * n rows; widen it in the rare shortfall
        part = hashed.where(F.col(_HASH) < F.lit(min(frac, 1.0)))
        if frac >= 1.0 or part.count() >= size:
            break
        frac *= 1.5
    pdf = part.orderBy(_HASH).limit(size).drop(_HASH).toPandas()
    return pdf.set_index(id_column).sort_index(kind="stable")

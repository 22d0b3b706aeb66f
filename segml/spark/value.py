"""Historical CLV and the growth-potential score on Spark, as segml's feature builder has them.

* ``clv`` / ``net_margin``: :func:`segml.features.historical_clv` with its defaults (a 365-day
  period, 3 periods of expected lifetime, the ``acquisition_cost`` attribute, gross margin
  instead of revenue when the transactions have it), the same double operations in the same
  order, per row in Spark.
* ``growth_potential``: :class:`segml.features.GrowthPotential` (peer cells of the first two
  of ``age_band, education, region, company_size, industry, life_stage``). The peer medians
  are computed in Spark with the exact ``percentile(monetary, 0.5)`` of each cell's buyers:
  for the median Spark's interpolation ``0.5 a + 0.5 b`` and pandas' ``(a + b) / 2`` are the
  same double (halving is exact), so the learned medians equal segml's. The cells (one row
  each: the ``by`` values, counts and median) come to the driver, the frozen medians go back
  as a broadcast lookup joined on the ``by`` values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (pyspark convention)
from pyspark.sql import types as T  # noqa: N812

from segml.errors import ConfigError
from segml.features import GrowthPotential

__all__: list[str] = []

#: Candidate peer-profile columns (mirror of ``segml.features.build._GROWTH_BY``; a test keeps
#: the two equal): the first two present are the growth-potential cells.
GROWTH_BY = ("age_band", "education", "region", "company_size", "industry", "life_stage")
_PERIOD_DAYS = 365
_LIFETIME_PERIODS = 3.0


def growth_by(columns: list[str]) -> tuple[str, ...]:
    """Return the growth-potential profile columns of a frame with these columns."""
    return tuple(c for c in GROWTH_BY if c in columns)[:2]


def clv_columns(cost: Column | None, margin: bool) -> list[Column]:
    """``clv`` (and ``net_margin`` with margin) of :func:`segml.features.historical_clv`.

    Parameters
    ----------
    cost : Column or None
        Acquisition cost per customer (missing counts as 0); None: no cost.
    margin : bool
        Whether the frame has ``gross_margin`` (then it replaces revenue).

    Returns
    -------
    list of Column
    """
    freq = F.col("frequency").cast("double")
    revenue = F.coalesce(F.col("monetary").cast("double"), F.lit(0.0))
    basis = F.coalesce(F.col("gross_margin"), F.lit(0.0)) if margin else revenue
    cost = F.lit(0.0) if cost is None else F.coalesce(F.when(~F.isnan(cost), cost), F.lit(0.0))
    periods = (F.greatest(F.coalesce(F.col("tenure_days"), F.lit(0.0)),
                          F.lit(float(_PERIOD_DAYS))) / F.lit(float(_PERIOD_DAYS)))
    buyer = freq > 0
    aov = F.when(buyer, basis / freq).otherwise(F.lit(0.0))
    per_period = F.when(buyer, freq / periods).otherwise(F.lit(0.0))
    out = [(aov * per_period * F.lit(_LIFETIME_PERIODS) - cost).alias("clv")]
    if margin:
        out.append((basis - cost).alias("net_margin"))
    return out


def _key_part(value: Any, as_float: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<missing>"
    return str(float(value)) if as_float else str(value)


def _by_columns(frame: DataFrame, by: tuple[str, ...]) -> list[Column]:
    """Select the profile columns (NaN as null); one the frame lacks is all missing."""
    types = {f.name: f.dataType for f in frame.schema.fields}
    out = []
    for i, c in enumerate(by):
        if c not in types:  # build_features reindexes to a frozen state's columns: NaN
            out.append(F.lit(None).cast("string").alias(f"_by{i}"))
            continue
        col = F.col(c)
        if isinstance(types[c], T.FloatType | T.DoubleType):
            col = F.when(~F.isnan(col), col)
        out.append(col.alias(f"_by{i}"))
    return out


def growth_potential(
    frame: DataFrame, min_peers: int, frozen: GrowthPotential | None
) -> tuple[DataFrame, GrowthPotential]:
    """Add ``growth_potential`` (learn the peer medians, or use the frozen ones).

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        The feature frame with ``monetary`` and the attribute columns.
    min_peers : int
        Fewest buyers of a cell for its own median.
    frozen : GrowthPotential or None
        A fitted state's estimator (its ``by`` and medians are used as they are).

    Returns
    -------
    (pyspark.sql.DataFrame, GrowthPotential)
        The frame with the column appended, and the estimator (learned or the frozen one).

    Raises
    ------
    ConfigError
        ``min_peers`` not an integer >= 1.
    """
    by = tuple(frozen.by) if frozen is not None else growth_by(frame.columns)
    m = F.col("monetary").cast("double")
    keyed = frame.select("*", *_by_columns(frame, by))
    names = [f"_by{i}" for i in range(len(by))]
    types = {f.name: f.dataType for f in keyed.schema.fields}
    if frozen is None:
        if isinstance(min_peers, bool) or not isinstance(min_peers, int | np.integer) or (
                min_peers < 1):
            raise ConfigError(f"min_peers={min_peers!r} should be an integer >= 1. Fix: "
                              "[features] min_peers = 5 (Python: min_peers=5).")
        cells = keyed.groupBy(*names).agg(
            F.count(F.lit(1)).alias("_rows"), F.count(F.when(m > 0, 1)).alias("_n"),
            F.percentile(F.when(m > 0, m), F.lit(0.5)).alias("_med"),
        ).collect()
        glob = frame.where(m > 0).agg(F.percentile(m, F.lit(0.5)).alias("_g")).collect()[0]["_g"]
        tuples = [tuple(r[n] for n in names) for r in cells]
    else:
        cells = []
        tuples = ([tuple(r) for r in keyed.select(*names).distinct().collect()] if by
                  else [()])
    as_float = [isinstance(types[n], T.IntegralType) and any(t[i] is None for t in tuples)
                for i, n in enumerate(names)]

    def key(values: tuple) -> str:
        if not by:
            return "<all>"
        return "\x1f".join(_key_part(v, f) for v, f in zip(values, as_float, strict=True))

    if frozen is None:
        gp = GrowthPotential(by=by, min_peers=min_peers)
        medians = {key(t): float(r["_med"]) for t, r in zip(tuples, cells, strict=True)
                   if r["_n"] >= min_peers}
        gp.cell_medians_ = medians
        gp.global_median_ = float(glob) if glob is not None else float("nan")
        gp.feature_names_in_ = np.asarray(["monetary", *by], dtype=object)
        gp.n_features_in_ = len(gp.feature_names_in_)
        gp.n_fallback_ = int(sum(r["_rows"] for t, r in zip(tuples, cells, strict=True)
                                 if key(t) not in medians))
    else:
        gp = frozen
    glob_lit = F.lit(None).cast("double") if math.isnan(gp.global_median_) else F.lit(
        float(gp.global_median_))
    if by:
        schema = T.StructType([T.StructField(n, types[n], True) for n in names]
                              + [T.StructField("_peer", T.DoubleType(), True)])
        rows = [(*t, gp.cell_medians_.get(key(t))) for t in tuples]
        lookup = frame.sparkSession.createDataFrame(rows, schema)
        lk = lookup.select(*(F.col(n).alias(f"{n}_lk") for n in names), "_peer")
        cond = None
        for n in names:
            c = keyed[n].eqNullSafe(lk[f"{n}_lk"])
            cond = c if cond is None else cond & c
        keyed = keyed.join(F.broadcast(lk), cond, "left")
        peer = F.coalesce(F.col("_peer"), glob_lit)
    else:
        peer = F.coalesce(F.lit(gp.cell_medians_.get("<all>")).cast("double"), glob_lit)
    spend = F.coalesce(m, F.lit(0.0))
    score = F.when(peer > 0, (peer - spend) / peer).otherwise(F.lit(0.0))
    score = F.least(F.greatest(score, F.lit(0.0)), F.lit(1.0))
    out = keyed.select(*(F.col(c) for c in frame.columns), score.alias("growth_potential"))
    return out, gp

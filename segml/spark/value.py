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


def by_columns(frame: DataFrame, by: tuple[str, ...]) -> list[Column]:
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


def peer_cells(
    keyed: DataFrame, names: list[str], value: Column, member: Column, min_peers: int | None
) -> tuple[list[tuple], dict[str, float], float, dict[str, int], Any]:
    """Cells of the profile columns ``names`` with their row counts and medians of ``value``.

    ``min_peers`` None: no medians (a frozen state's are used); only the cells and counts.
    Returns the cells' value tuples, the medians of cells with at least ``min_peers`` members
    (by segml's cell key), the members' global median (NaN without members), the rows of each
    key, and the key function.
    """
    types = {f.name: f.dataType for f in keyed.schema.fields}
    aggs = [F.count(F.lit(1)).alias("_rows")]
    if min_peers is not None:
        aggs += [F.count(F.when(member, 1)).alias("_n"),
                 F.percentile(F.when(member, value), F.lit(0.5)).alias("_med")]
    cells = keyed.groupBy(*names).agg(*aggs).collect()
    tuples = [tuple(r[n] for n in names) for r in cells]
    as_float = [isinstance(types[n], T.IntegralType) and any(t[i] is None for t in tuples)
                for i, n in enumerate(names)]

    def key(values: tuple) -> str:
        if not names:
            return "<all>"
        return "\x1f".join(_key_part(v, f) for v, f in zip(values, as_float, strict=True))

    rows: dict[str, int] = {}
    for t, r in zip(tuples, cells, strict=True):
        rows[key(t)] = rows.get(key(t), 0) + int(r["_rows"])
    medians: dict[str, float] = {}
    glob = float("nan")
    if min_peers is not None:
        medians = {key(t): float(r["_med"]) for t, r in zip(tuples, cells, strict=True)
                   if r["_n"] >= min_peers}
        g = keyed.where(member).agg(F.percentile(value, F.lit(0.5)).alias("_g")).collect()[0][0]
        glob = float(g) if g is not None else float("nan")
    return tuples, medians, glob, rows, key


def with_peer(keyed: DataFrame, names: list[str], tuples: list[tuple], key: Any,
              medians: dict[str, float], glob: float) -> tuple[DataFrame, Column]:
    """Join each row's cell median (a broadcast lookup on the cell values).

    Returns the frame and the peer column: the cell's median, else the global one (null when
    that is NaN).
    """
    glob_lit = F.lit(None).cast("double") if math.isnan(glob) else F.lit(float(glob))
    if not names:
        return keyed, F.coalesce(F.lit(medians.get("<all>")).cast("double"), glob_lit)
    types = {f.name: f.dataType for f in keyed.schema.fields}
    schema = T.StructType([T.StructField(f"{n}_lk", types[n], True) for n in names]
                          + [T.StructField("_peer", T.DoubleType(), True)])
    lookup = keyed.sparkSession.createDataFrame(
        [(*t, medians.get(key(t))) for t in tuples], schema)
    cond = None
    for n in names:
        c = keyed[n].eqNullSafe(lookup[f"{n}_lk"])
        cond = c if cond is None else cond & c
    joined = keyed.join(F.broadcast(lookup), cond, "left")
    return joined, F.coalesce(F.col("_peer"), glob_lit)


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
    keyed = frame.select("*", *by_columns(frame, by))
    names = [f"_by{i}" for i in range(len(by))]
    if frozen is None:
        check_min_peers(min_peers)
        tuples, medians, glob, rows, key = peer_cells(keyed, names, m, m > 0, min_peers)
        gp = GrowthPotential(by=by, min_peers=min_peers)
        gp.cell_medians_ = medians
        gp.global_median_ = glob
        gp.feature_names_in_ = np.asarray(["monetary", *by], dtype=object)
        gp.n_features_in_ = len(gp.feature_names_in_)
        gp.n_fallback_ = int(sum(n for k, n in rows.items() if k not in medians))
    else:
        gp = frozen
        tuples, _, _, _, key = peer_cells(keyed, names, m, m > 0, None)
    keyed, peer = with_peer(keyed, names, tuples, key, gp.cell_medians_, gp.global_median_)
    spend = F.coalesce(m, F.lit(0.0))
    score = F.when(peer > 0, (peer - spend) / peer).otherwise(F.lit(0.0))
    score = F.least(F.greatest(score, F.lit(0.0)), F.lit(1.0))
    out = keyed.select(*(F.col(c) for c in frame.columns), score.alias("growth_potential"))
    return out, gp


def check_min_peers(min_peers: Any) -> None:
    """Refuse a ``min_peers`` that is not an integer >= 1."""
    if isinstance(min_peers, bool) or not isinstance(min_peers, int | np.integer) or (
            min_peers < 1):
        raise ConfigError(f"min_peers={min_peers!r} should be an integer >= 1. Fix: "
                          "[features] min_peers = 5 (Python: min_peers=5).")

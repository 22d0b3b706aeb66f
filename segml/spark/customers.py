"""The per-customer steps of the Spark features estimator after the transaction features.

The order is :class:`segml.features.FeatureBuilder`'s: the customer attributes and the
historical CLV (:mod:`segml.spark.attributes`, :mod:`segml.spark.value`), the attributes joined
after the value columns, then the growth-potential score, and, with a fitted state, the frame
reindexed to the state's columns (absent ones null, listed in
``report["columns_absent_vs_state"]``).
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (pyspark convention)

from segml.features import FeatureSpec, FeatureState
from segml.features.spec import FORWARD_TRANSFORMS
from segml.spark.attributes import attribute_report, attributes, number
from segml.spark.frames import SparkFeatureSet
from segml.spark.value import clv_columns, growth_potential

__all__: list[str] = []


def customer_block(
    fs: SparkFeatureSet,
    customers: DataFrame | None,
    as_of: pd.Timestamp,
    spec: FeatureSpec | None,
    state: FeatureState | None,
    *,
    min_peers: int,
    margin: bool,
) -> SparkFeatureSet:
    """Add CLV, the attributes and growth potential to a scored transaction frame.

    Parameters
    ----------
    fs : SparkFeatureSet
        The scored transaction features (``fs.cached[-1]`` is the cached unscored frame, whose
        ids are the as-of universe).
    customers : pyspark.sql.DataFrame or None
        The customers table.
    as_of : pandas.Timestamp
        The build's date.
    spec : FeatureSpec or None
        Levels for the attributes.
    state : FeatureState or None
        Frozen age bands, growth medians and column order.
    min_peers : int
        Fewest buyers of a growth-potential cell for its own median.
    margin : bool
        Whether the frame has ``gross_margin``.

    Returns
    -------
    SparkFeatureSet
        ``fs`` with the new frame, ``age_encoder``, ``growth``, ``attribute_columns`` and the
        attribute counts in ``report``.
    """
    frame = fs.frame
    base = list(frame.columns)
    kept: list[str] = []
    cost = None
    if customers is not None:
        attrs = attributes(customers, as_of, spec, state.age_encoder if state else None)
        attribute_report(attrs, customers, fs.cached[-1].select("customer_id"))
        fs.report.update(attrs.report)
        fs.age_encoder = attrs.age_encoder
        kept = [c for c in attrs.columns if c not in base]
        frame = frame.join(attrs.frame.select("customer_id", *kept), "customer_id", "left")
        if "acquisition_cost" in kept:
            kind = {f.name: f.dataType for f in frame.schema.fields}["acquisition_cost"]
            cost = number(F.col("acquisition_cost"), kind)
    fs.attribute_columns = kept
    value = clv_columns(cost, margin) if "tenure_days" in base else []
    frame = frame.select(*(F.col(c) for c in base), *value, *(F.col(c) for c in kept))
    # read by the growth cells, the global median and the caller: computed once
    frame = frame.cache()
    fs.cached.append(frame)
    frozen = state.growth if state is not None else None
    if state is None or frozen is not None:
        frame, fs.growth = growth_potential(frame, min_peers, frozen)
    if state is not None and state.columns:
        have = set(frame.columns)
        fs.report["columns_absent_vs_state"] = [
            c for c in state.columns if c not in have and c != "growth_potential"
            and c not in FORWARD_TRANSFORMS]
        frame = frame.select("customer_id", *(
            F.col(c) if c in have else F.lit(None).cast("double").alias(c)
            for c in state.columns))
    fs.frame = frame
    return fs

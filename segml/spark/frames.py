"""The result of the Spark features estimator and its pandas layout (segml's frame dtypes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import types as T  # noqa: N812

from segml.features import ABCClassifier, RFMScorer

__all__ = ["SparkFeatureSet", "to_pandas"]


@dataclass
class SparkFeatureSet:
    """Result of :func:`spark_feature_frame`.

    Attributes
    ----------
    frame : pyspark.sql.DataFrame
        ``customer_id`` plus the feature columns, one row per customer (not sorted).
    rfm_scorer : RFMScorer or None
        The cut points used (learned on the buyers, or the frozen ones given).
    abc : ABCClassifier or None
        The ABC thresholds used.
    category_levels, channel_levels : list of str or None
        Levels of the share columns.
    report : dict
        ``rows_after_as_of``, ``rows_before_window``, ``money_scale``; with a customers
        table also build_features' attribute counts (``missing``, ``missing_income``,
        ``implausible_birth_years``, ``implausible_ages``, ``unknown_levels``,
        ``dropped_customer_columns``).
    age_encoder : AgeEncoder or None
        The age bands used (None without a ``birth_year`` / ``age`` column).
    growth : GrowthPotential or None
        The growth-potential peer medians used (learned in Spark, or the frozen ones).
    attribute_columns : list of str
        The customer-attribute columns of ``frame`` (their booleans come back as pandas
        ``boolean``, as build_features keeps them).
    forward : segml.value.ForwardState or None
        The BG/NBD + Gamma-Gamma parameters of the ``forward`` family (None when it is off).
    cached : list of pyspark.sql.DataFrame
        The window rows and the unscored frame, cached while building (the cut points and the
        caller both read them); call :meth:`unpersist` when done.
    """

    frame: DataFrame
    rfm_scorer: RFMScorer | None
    abc: ABCClassifier | None
    category_levels: list[str] | None = None
    channel_levels: list[str] | None = None
    report: dict[str, Any] = field(default_factory=dict)
    cached: list[DataFrame] = field(default_factory=list, repr=False)
    """Intermediate frames kept in Spark's cache (rows and unscored features)."""
    age_encoder: Any = None
    growth: Any = None
    attribute_columns: list[str] = field(default_factory=list)
    forward: Any = None

    def unpersist(self) -> None:
        """Release the cached intermediate frames (``frame`` is recomputed if used again)."""
        for sdf in self.cached:
            sdf.unpersist()
        self.cached = []

    def to_pandas(self) -> pd.DataFrame:
        """Collect the frame over Arrow, indexed by sorted string ``customer_id``."""
        return to_pandas(self.frame, attributes=self.attribute_columns)


def to_pandas(frame: DataFrame, attributes: Sequence[str] = ()) -> pd.DataFrame:
    """Collect a Spark feature frame as segml's pandas layout.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        With a ``customer_id`` column.
    attributes : sequence of str, default ()
        Customer-attribute columns: their booleans are pandas ``boolean`` (null = NA) and
        their integers ``float64`` when a value is missing, as in build_features' frame.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (``str``, sorted); booleans ``bool``, integers ``int64``,
        doubles ``float64`` (null = NaN), text ``str`` (null = NaN), dates and timestamps
        ``datetime64[ns]``.
    """
    types = {f.name: f.dataType for f in frame.schema.fields}
    pdf = frame.toPandas()
    out = {}
    for name in frame.columns:
        if name == "customer_id":
            continue
        kind = types[name]
        col = pdf[name]
        if isinstance(kind, T.BooleanType) and name in attributes:
            out[name] = pd.array(col.astype(object).where(col.notna(), None), dtype="boolean")
        elif isinstance(kind, T.BooleanType):
            out[name] = col.astype(bool).to_numpy()
        elif isinstance(kind, T.IntegralType):
            out[name] = col.astype("float64" if col.isna().any() else "int64").to_numpy()
        elif isinstance(kind, T.TimestampType | T.TimestampNTZType | T.DateType):
            out[name] = pd.to_datetime(col).astype("datetime64[ns]").to_numpy()
        elif isinstance(kind, T.StringType):
            out[name] = col.astype("str").to_numpy()
        else:
            out[name] = pd.to_numeric(col, errors="raise").astype("float64").to_numpy()
    index = pd.Index(pdf["customer_id"].astype("str"), dtype="str", name="customer_id")
    result = pd.DataFrame(out, index=index)
    for name in result.columns:
        if isinstance(types[name], T.StringType):
            result[name] = result[name].astype("str")
    return result.sort_index()

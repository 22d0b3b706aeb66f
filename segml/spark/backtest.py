"""The backtest's per-cutoff feature builds on Spark (``backtest(engine="spark")``).

:class:`SparkFeatureBuilder` has the two methods :func:`segml.backtest.fit_at` calls on a
:class:`segml.features.FeatureBuilder` (``fit_transform`` in refit mode, ``transform`` on the
first cutoff's builder in frozen mode) and returns a :class:`segml.features.FeatureSet` whose
``frame`` is :func:`segml.spark.features.spark_feature_frame`'s, collected over Arrow. The
transactions become one Spark DataFrame, created once and cached for every cutoff; each build
cuts it at its cutoff in Spark (``timestamp < as_of + 1 day``), so rows after a cutoff are never
read, as on the pandas path.

Only the columns :func:`~segml.spark.features.spark_feature_frame` builds are available
(``docs/SPARK.md``): with no spec, the cluster segmenters use the default spec of those
columns (the backtest adds a note saying so); a spec naming other columns is refused.
Everything after the build (segmenters, outcomes, bootstrap) runs on the driver as before.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from segml.errors import ConfigError, EngineError

__all__ = ["SparkBuilders", "SparkFeatureBuilder", "spark_builder_factory"]

#: transaction columns shipped to Spark (the ones spark_feature_frame reads)
_TX_COLUMNS = ("customer_id", "timestamp", "amount", "order_id", "status", "category",
               "channel", "margin", "cost", "due_date", "paid_date")


class SparkFeatureBuilder:
    """A ``FeatureBuilder`` stand-in that builds the features on Spark (module docstring).

    Parameters
    ----------
    tx_sdf : pyspark.sql.DataFrame
        Every transaction (cached by :func:`spark_builder_factory`).
    customers_sdf : pyspark.sql.DataFrame or None
        ``customer_id`` and ``signup_date`` of the customers table.
    spec : FeatureSpec, optional
        Spec of the features (default: :meth:`FeatureSpec.default` of the Spark columns).
    """

    def __init__(self, tx_sdf: Any, customers_sdf: Any, spec: Any = None) -> None:
        self.tx_sdf = tx_sdf
        self.customers_sdf = customers_sdf
        self.spec = spec
        self.state_: Any = None

    def fit_transform(self, transactions: Any, customers: Any, *, as_of: Any) -> Any:
        """Build as of ``as_of``, learning the state (levels, RFM edges, ABC thresholds).

        ``transactions`` and ``customers`` are the pandas-side arguments of
        ``FeatureBuilder.fit_transform``; they are not read (the Spark frames are).
        """
        return self._build(as_of, None)

    def transform(self, transactions: Any, customers: Any, *, as_of: Any) -> Any:
        """Build as of ``as_of`` with the state learned by :meth:`fit_transform`."""
        if self.state_ is None:
            raise ConfigError("SparkFeatureBuilder.transform before fit_transform. Fix: call "
                              "fit_transform at the first cutoff (backtest does).")
        return self._build(as_of, self.state_)

    def _build(self, as_of: Any, state: Any) -> Any:
        from segml._asof import parse_as_of
        from segml.features import FeatureSet, FeatureSpec, FeatureState
        from segml.spark.features import spark_feature_frame

        as_of = parse_as_of(as_of, where="backtest cutoff").normalize()
        fs = spark_feature_frame(self.tx_sdf, self.customers_sdf, self.spec, as_of, state=state)
        try:
            frame = fs.to_pandas()
        finally:
            fs.unpersist()
        spec = self.spec if self.spec is not None else FeatureSpec.default(frame.columns)
        missing = [c for c in spec.columns() if c not in frame.columns]
        if missing:
            raise EngineError(
                f"feature spec column(s) {missing[:5]}{' ...' if len(missing) > 5 else ''} are "
                "not built on Spark (customer attributes, CLV and forward value are not yet; "
                "docs/SPARK.md). Fix: pass a spec of the Spark-built columns "
                "(backtest(feature_spec=spec.select(...))) or engine='pandas' "
                "(CLI: --engine pandas)."
            )
        reused = state is not None
        if state is None:
            state = FeatureState(as_of=as_of, category_levels=fs.category_levels,
                                 channel_levels=fs.channel_levels, rfm_scorer=fs.rfm_scorer,
                                 abc=fs.abc, columns=list(frame.columns))
            self.state_ = state
        else:
            frame = frame.reindex(columns=state.columns)
        report = {"n_customers": len(frame), "engine": "spark", **fs.report,
                  "state_reused": reused}
        return FeatureSet(frame=frame, spec=spec, as_of=as_of, state=state, report=report)


class SparkBuilders:
    """Factory of :class:`SparkFeatureBuilder` sharing the cached Spark frames.

    Call it with a spec to get a builder; :meth:`unpersist` releases the cached frames.
    """

    def __init__(self, tx_sdf: Any, customers_sdf: Any) -> None:
        self.tx_sdf = tx_sdf
        self.customers_sdf = customers_sdf

    def __call__(self, spec: Any = None) -> SparkFeatureBuilder:
        """Return a new (unfitted) builder of ``spec`` on the shared Spark frames."""
        return SparkFeatureBuilder(self.tx_sdf, self.customers_sdf, spec)

    def unpersist(self) -> None:
        """Release the cached transactions and customers."""
        for sdf in (self.tx_sdf, self.customers_sdf):
            if sdf is not None:
                sdf.unpersist()


def spark_builder_factory(spark: Any, transactions: pd.DataFrame,
                          customers: pd.DataFrame | None) -> SparkBuilders:
    """Ship the transactions (and customers' signup dates) to Spark once; return a factory.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session (e.g. :func:`segml.spark.session.get_session`).
    transactions : pandas.DataFrame
        Canonical transactions (only the columns :func:`spark_feature_frame` reads travel).
    customers : pandas.DataFrame or None
        Canonical customers (``customer_id`` and, when present, ``signup_date`` travel).

    Returns
    -------
    SparkBuilders
        ``factory(spec) -> SparkFeatureBuilder`` sharing the cached Spark frames.

    Raises
    ------
    ConfigError
        When ``spark`` is not a SparkSession.
    """
    if spark is None or not hasattr(spark, "createDataFrame"):
        raise ConfigError(
            f"engine='spark' needs a Spark session, got {type(spark).__name__}. Fix: pass "
            "backtest(engine='spark', spark=segml.spark.get_session(master='local[2]')) "
            "(config [engine] engine = \"spark\")."
        )
    cols = [c for c in _TX_COLUMNS if c in transactions.columns]
    tx_sdf = spark.createDataFrame(transactions[cols]).cache()
    cu_sdf = None
    if customers is not None:
        ccols = [c for c in ("customer_id", "signup_date") if c in customers.columns]
        cu_sdf = spark.createDataFrame(customers[ccols]).cache()

    return SparkBuilders(tx_sdf, cu_sdf)

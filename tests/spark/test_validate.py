"""Silhouettes on Spark equal segml's / scikit-learn's on the same labels; select_k on Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_samples
from sklearn.preprocessing import StandardScaler

from segml.cluster import Segmenter
from segml.cluster.silhouette import sqeuclidean_silhouette
from segml.errors import ConfigError, SchemaError
from segml.spark.validate import (
    euclidean_silhouette_spark,
    labelled_matrix_sdf,
    select_k_spark,
    sqeuclidean_silhouette_spark,
)


def _frame(Z, labels):
    return pd.DataFrame({"segml_z": [row.tolist() for row in Z],
                         "segment": np.asarray(labels, dtype=np.int64)})


@pytest.fixture(scope="module")
def blobs():
    """600 rows, 3 features, 3 uneven blobs plus a singleton cluster (label 3)."""
    rng = np.random.default_rng(0)
    Z = np.vstack([rng.normal(0, 1, (300, 3)), rng.normal(3, 1, (200, 3)),
                   rng.normal((0, 5, 0), 0.7, (99, 3)), [[9.0, 9.0, 9.0]]])
    labels = np.repeat([0, 1, 2, 3], [300, 200, 99, 1])
    return Z, labels


def test_hand_computed_sqeuclidean_silhouette(spark):
    # [0],[1] | [10],[11]: a = 1, b = mean(100, 121) = 110.5 (and 81, 100 -> 90.5 ...)
    sdf = spark.createDataFrame(_frame(np.array([[0.0], [1.0], [10.0], [11.0]]), [0, 0, 1, 1]))
    res = sqeuclidean_silhouette_spark(sdf)
    expected = [1 - 1 / 110.5, 1 - 1 / 90.5, 1 - 1 / 90.5, 1 - 1 / 110.5]
    assert res.overall == pytest.approx(np.mean(expected), abs=1e-12)
    assert res.per_cluster.to_dict() == pytest.approx({0: np.mean(expected[:2]),
                                                       1: np.mean(expected[2:])}, abs=1e-12)
    assert (res.negative_share, res.n_samples) == (0.0, 4)


def test_sqeuclidean_silhouette_equals_segml_and_spark_evaluator(spark, blobs):
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F

    Z, labels = blobs
    sdf = spark.createDataFrame(_frame(Z, labels)).repartition(3)
    res = sqeuclidean_silhouette_spark(sdf)
    ref = sqeuclidean_silhouette(Z, labels)
    assert res.overall == pytest.approx(ref.overall, abs=1e-9)
    assert res.negative_share == pytest.approx(ref.negative_share, abs=1e-12)
    np.testing.assert_allclose(res.per_cluster.sort_index().to_numpy(),
                               ref.per_cluster.sort_index().to_numpy(), atol=1e-9)
    assert res.per_cluster[3] == 0.0  # singleton
    assert res.to_dict()["kind"] == ref.to_dict()["kind"] == "silhouette_sqeuclidean_full"
    # Spark's own evaluator, on the same rows without the singleton
    keep = labels < 3
    vec = spark.createDataFrame(_frame(Z[keep], labels[keep])).select(
        array_to_vector("segml_z").alias("v"), F.col("segment").cast("double").alias("p"))
    spark_value = ClusteringEvaluator(featuresCol="v", predictionCol="p",
                                      distanceMeasure="squaredEuclidean").evaluate(vec)
    assert spark_value == pytest.approx(sqeuclidean_silhouette(Z[keep], labels[keep]).overall,
                                        abs=1e-9)


def test_euclidean_silhouette_equals_sklearn(spark, blobs):
    Z, labels = blobs
    sdf = spark.createDataFrame(_frame(Z, labels)).repartition(2)
    res = euclidean_silhouette_spark(sdf)
    s = silhouette_samples(Z, labels, metric="euclidean")
    assert res.overall == pytest.approx(s.mean(), abs=1e-9)
    per = pd.Series(s).groupby(labels).mean()
    np.testing.assert_allclose(res.per_cluster.sort_index().to_numpy(), per.to_numpy(),
                               atol=1e-9)
    assert res.negative_share == pytest.approx((s < 0).mean(), abs=1e-12)
    with pytest.raises(ConfigError, match="600 rows > max_rows=100.*Fix: use sqeuclidean"):
        euclidean_silhouette_spark(sdf, max_rows=100)


def test_silhouette_input_errors(spark):
    sdf = spark.createDataFrame(_frame(np.array([[0.0], [1.0]]), [0, 0]))
    with pytest.raises(ConfigError, match="at least 2 clusters.*Fix: fit k >= 2"):
        sqeuclidean_silhouette_spark(sdf)
    with pytest.raises(SchemaError, match="label_col='cluster' is not a column.*Fix"):
        sqeuclidean_silhouette_spark(sdf, label_col="cluster")
    with pytest.raises(SchemaError, match="features_col='z' is not a column.*Fix"):
        sqeuclidean_silhouette_spark(sdf, features_col="z")


def test_labelled_matrix_and_select_k_on_all_rows(spark):
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(c, 0.4, (n, 2)) for c, n in (((0, 0), 150), ((4, 0), 100),
                                                            ((0, 4), 60))])
    pdf = pd.DataFrame(X, columns=["a", "b"], index=[f"c{i:03d}" for i in range(len(X))])
    pdf.index.name = "customer_id"
    sdf = spark.createDataFrame(pdf.reset_index())
    seg = Segmenter(n_clusters=3, preprocessor=StandardScaler(), random_state=0).fit(pdf)
    rows = labelled_matrix_sdf(sdf, seg, keep=["customer_id"]).collect()
    ids = [r["customer_id"] for r in rows]
    np.testing.assert_array_equal([r["segment"] for r in rows], seg.predict(pdf.loc[ids]))
    np.testing.assert_allclose(np.vstack([r["segml_z"] for r in rows]),
                               seg.preprocessor_.transform(pdf.loc[ids]), atol=1e-12)

    # the sweep fits a 120-row sample; each k is judged by the silhouette of all 310 rows
    res = select_k_spark(sdf, k_range=[2, 3, 4], sample_size=120, n_init=3, random_state=0)
    assert res.recommended["k"] == 3
    assert res.table["n_sample"].eq(120).all() and list(res.table["k"]) == [2, 3, 4]
    for k, fit in res.fits.items():
        full = sqeuclidean_silhouette(fit.preprocessor_.transform(pdf), fit.predict(pdf))
        row = res.table.set_index("k").loc[k]
        assert row["silhouette_sqeuclidean_full"] == pytest.approx(full.overall, abs=1e-9)
    with pytest.raises(ConfigError, match=r"k_range=\[1, 2\] should hold integers >= 2"):
        select_k_spark(sdf, k_range=[1, 2])

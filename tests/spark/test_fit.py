"""fit_spark: MLlib fits exported into scikit-learn, the driver-sample fit, the saved model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from segml.cluster import Segmenter
from segml.errors import ConfigError, SchemaError
from segml.spark.export import export_gmm, export_kmeans
from segml.spark.fit import VECTOR_COL, fit_spark, model_matrix_sdf
from segml.spark.sample import driver_sample

COLS = ["monetary", "frequency", "recency_days", "avg_order_value"]


@pytest.fixture(scope="module")
def portfolio():
    """Buyers of a 700-customer demo portfolio: full feature frame and its spec."""
    from segml.datasets import make_portfolio
    from segml.features import build_features

    p = make_portfolio(700, n_segments=4, random_state=0)
    fs = build_features(p.transactions, p.customers, p.as_of)
    frame = fs.frame[~fs.frame["is_prospect"].astype(bool)].sort_index()
    return frame, fs.spec


@pytest.fixture(scope="module")
def numeric(portfolio):
    frame, _ = portfolio
    return frame[COLS].astype("float64")


@pytest.fixture(scope="module")
def numeric_sdf(spark, numeric):
    return spark.createDataFrame(numeric.reset_index()).repartition(2)


@pytest.fixture(scope="module")
def kmeans_fit(numeric_sdf):
    return fit_spark(numeric_sdf, k=4, strategy="distributed", n_init=2, random_state=0)


def _mllib_labels(fit, sdf, cols):
    """MLlib's own labels (raw numbering) and the model matrix, by customer id."""
    vec = model_matrix_sdf(sdf, fit.segmenter.preprocessor_, cols, keep=["customer_id"])
    rows = fit.mllib_model.transform(vec).select("customer_id", VECTOR_COL, "prediction")
    rows = rows.collect()
    ids = [r["customer_id"] for r in rows]
    Z = np.vstack([r[VECTOR_COL].toArray() for r in rows])
    raw = np.array([int(r["prediction"]) for r in rows])
    return ids, Z, raw


# ----------------------------------------------------------------------------- export, no Spark
def test_export_kmeans_predicts_nearest_centre():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 3))
    est = export_kmeans(centers, inertia=12.5, n_iter=7, max_iter=100, seed=3)
    X = rng.normal(size=(400, 3)) * 2
    nearest = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
    np.testing.assert_array_equal(est.predict(X), nearest)
    np.testing.assert_array_equal(est.cluster_centers_, centers)
    assert (est.inertia_, est.n_iter_) == (12.5, 7)
    assert not hasattr(est, "labels_")


def test_export_kmeans_refuses_duplicate_centres():
    with pytest.raises(ConfigError, match="duplicate centre.*Fix: use a smaller k"):
        export_kmeans(np.zeros((2, 3)), inertia=0.0, n_iter=1, max_iter=10, seed=0)


def test_export_gmm_equals_the_sklearn_fit_it_copies():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (150, 2)), rng.normal(4, 0.5, (100, 2))])
    ref = GaussianMixture(2, covariance_type="full", random_state=0).fit(X)
    est = export_gmm(ref.weights_, ref.means_, ref.covariances_, n_iter=ref.n_iter_,
                     max_iter=100, log_likelihood=ref.score(X) * len(X), n_rows=len(X), seed=0)
    np.testing.assert_allclose(est.precisions_cholesky_, ref.precisions_cholesky_, rtol=1e-9)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-9)
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))


def test_export_gmm_refuses_singular_covariance():
    cov = np.zeros((1, 2, 2))
    with pytest.raises(ConfigError, match="singular covariance.*Fix: use fewer segments"):
        export_gmm(np.ones(1), np.zeros((1, 2)), cov, n_iter=1, max_iter=10,
                   log_likelihood=0.0, n_rows=10, seed=0)


def test_import_segml_spark_fit_does_not_import_pyspark():
    code = "import sys, segml, segml.spark.fit; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- distributed
def test_distributed_kmeans_exports_mllib_labels(kmeans_fit, numeric, numeric_sdf):
    fit = kmeans_fit
    seg = fit.segmenter
    assert isinstance(seg, Segmenter) and isinstance(seg.estimator_, KMeans)
    assert (fit.n_rows, fit.n_fit_rows) == (len(numeric), len(numeric))
    # the scaler holds the population moments of every row (what StandardScaler computes)
    ref = StandardScaler().fit(numeric)
    np.testing.assert_allclose(seg.preprocessor_.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(seg.preprocessor_.scale_, ref.scale_, rtol=1e-12)
    ids, Z, raw = _mllib_labels(fit, numeric_sdf, COLS)
    np.testing.assert_array_equal(seg.estimator_.predict(Z), raw)  # 100% of rows
    labels = seg.predict(numeric.loc[ids])
    np.testing.assert_array_equal(labels, seg.label_order_[raw])
    # the kept init has the lowest MLlib cost, and labels are ordered by mean monetary
    assert fit.init_scores[fit.best_init] == min(fit.init_scores)
    assert len(fit.seeds) == 2 and fit.seeds[0] != fit.seeds[1]
    means = numeric.loc[ids, "monetary"].groupby(labels).mean()
    assert means.is_monotonic_decreasing and list(means.index) == [0, 1, 2, 3]


def test_distributed_gmm_exports_mllib_labels(numeric, numeric_sdf):
    fit = fit_spark(numeric_sdf, k=3, method="gmm", strategy="distributed", n_init=2,
                    max_iter=40, random_state=0)
    seg = fit.segmenter
    assert isinstance(seg.estimator_, GaussianMixture)
    np.testing.assert_allclose(seg.estimator_.weights_.sum(), 1.0, atol=1e-12)
    ids, Z, raw = _mllib_labels(fit, numeric_sdf, COLS)
    np.testing.assert_array_equal(seg.estimator_.predict(Z), raw)
    np.testing.assert_array_equal(seg.predict(numeric.loc[ids]), seg.label_order_[raw])
    assert fit.init_scores[fit.best_init] == max(fit.init_scores)


def test_saved_distributed_model_loads_and_scores(kmeans_fit, numeric, tmp_path):
    from segml.persistence import load_model, save_model
    from segml.scoring import score_features

    path = save_model(kmeans_fit.model, tmp_path / "spark-model")
    loaded = load_model(path)
    assert isinstance(loaded.segmenter, Segmenter)
    assert type(loaded.segmenter.estimator_) is KMeans
    scored = score_features(loaded, numeric).frame
    np.testing.assert_array_equal(scored["segment_id"].to_numpy(),
                                  kmeans_fit.segmenter.predict(numeric))
    assert scored["customer_id"].tolist() == numeric.index.tolist()


def test_several_inits_beat_a_bad_single_init(spark):
    # 9 tight blobs on a grid, one 10x larger: MLlib's k-means|| init with the first seed of
    # random_state=2 merges blobs (cost 39.1); the second seed finds the 9 blobs (cost 11.7)
    rng = np.random.default_rng(0)
    centres = np.array([[i * 4.0, j * 4.0] for i in range(3) for j in range(3)])
    sizes = [20, 20, 20, 20, 200, 20, 20, 20, 20]
    X = np.vstack([c + rng.normal(0, 0.3, (s, 2)) for c, s in zip(centres, sizes, strict=True)])
    truth = np.repeat(np.arange(9), sizes)
    pdf = pd.DataFrame(X, columns=["a", "b"])
    pdf.insert(0, "customer_id", [f"c{i:04d}" for i in range(len(pdf))])
    sdf = spark.createDataFrame(pdf)
    one = fit_spark(sdf, k=9, strategy="distributed", n_init=1, random_state=2)
    two = fit_spark(sdf, k=9, strategy="distributed", n_init=2, random_state=2)
    assert one.seeds == two.seeds[:1]
    assert one.init_scores == pytest.approx(two.init_scores[:1], rel=1e-9)
    cost_one = one.segmenter.estimator_.inertia_
    cost_two = two.segmenter.estimator_.inertia_
    assert cost_two <= cost_one / 2  # 11.7 vs 39.1 when measured
    X_df = pdf.set_index("customer_id")
    assert adjusted_rand_score(truth, two.segmenter.predict(X_df)) > 0.99
    assert adjusted_rand_score(truth, one.segmenter.predict(X_df)) < 0.95


# ----------------------------------------------------------------------------- sample
def test_sample_of_all_rows_is_the_normal_fit(numeric, numeric_sdf):
    fit = fit_spark(numeric_sdf, k=4, strategy="sample", sample_size=10_000, random_state=0)
    assert fit.n_fit_rows == len(numeric)
    ref = Segmenter(n_clusters=4, preprocessor=StandardScaler(), random_state=0).fit(numeric)
    pd.testing.assert_index_equal(fit.sample.index, numeric.index)
    assert adjusted_rand_score(ref.labels_, fit.segmenter.predict(numeric)) == 1.0
    np.testing.assert_allclose(fit.segmenter.cluster_centers_, ref.cluster_centers_,
                               atol=1e-9)


def test_sample_of_all_rows_with_a_spec_is_the_normal_fit(spark, portfolio):
    from segml.features import make_preprocessor

    frame, spec = portfolio
    spec = spec.select(COLS)
    sdf = spark.createDataFrame(frame[COLS].reset_index())
    fit = fit_spark(sdf, k=3, spec=spec, strategy="sample", sample_size=5_000, random_state=4)
    ref = Segmenter(n_clusters=3, preprocessor=make_preprocessor(spec, frame[COLS]),
                    random_state=4).fit(frame[COLS])
    assert adjusted_rand_score(ref.labels_, fit.segmenter.predict(frame[COLS])) == 1.0
    np.testing.assert_array_equal(fit.model.predict(frame[COLS]), ref.labels_)


def test_driver_sample_is_exact_and_independent_of_partitioning(numeric, numeric_sdf):
    a = driver_sample(numeric_sdf, 200, seed=7)
    b = driver_sample(numeric_sdf.repartition(3), 200, seed=7)
    c = driver_sample(numeric_sdf, 200, seed=8)
    assert len(a) == 200 and a.index.is_unique and a.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(a, b)
    assert not a.index.equals(c.index)
    pd.testing.assert_frame_equal(a, numeric.loc[a.index])


def test_stratified_sample_keeps_group_shares(spark):
    rng = np.random.default_rng(5)
    tier = ["a"] * 900 + ["b"] * 90 + [None] * 10  # missing values are a stratum of their own
    pdf = pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(1000)],
                        "x": rng.normal(size=1000), "y": rng.normal(size=1000), "tier": tier})
    sdf = spark.createDataFrame(pdf)
    a = driver_sample(sdf, 100, seed=3, stratify_by="tier")
    assert a["tier"].fillna("?").value_counts().to_dict() == {"a": 90, "b": 9, "?": 1}
    pd.testing.assert_frame_equal(a, driver_sample(sdf.repartition(3), 100, seed=3,
                                                   stratify_by="tier"))
    # largest remainder: 4 rows of 50/30/20 -> exact 2, 1.2, 0.8 -> 2, 1, 1
    small = spark.createDataFrame(pdf.iloc[:100].assign(tier=["a"] * 50 + ["b"] * 30 + ["c"] * 20))
    b = driver_sample(small, 4, seed=0, stratify_by="tier")
    assert b["tier"].value_counts().to_dict() == {"a": 2, "b": 1, "c": 1}
    # a stratum column that is not a feature is used for sampling only
    fit = fit_spark(sdf, k=2, columns=["x", "y"], strategy="sample", sample_size=100,
                    stratify_by="tier", n_init=1, random_state=0)
    assert list(fit.sample.columns) == ["x", "y"] and len(fit.sample) == 100
    assert list(fit.segmenter.feature_names_in_) == ["x", "y"]
    with pytest.raises(SchemaError, match="stratify_by='nope' needs that column.*Fix"):
        driver_sample(sdf, 10, seed=0, stratify_by="nope")


# ----------------------------------------------------------------------------- errors
def test_bad_arguments_are_refused(numeric_sdf):
    with pytest.raises(ConfigError, match="strategy='everywhere'.*Fix"):
        fit_spark(numeric_sdf, k=3, strategy="everywhere")
    with pytest.raises(ConfigError, match="method='dbscan'.*Fix"):
        fit_spark(numeric_sdf, k=3, method="dbscan")
    with pytest.raises(ConfigError, match="k=1 should be an integer >= 2"):
        fit_spark(numeric_sdf, k=1)
    with pytest.raises(ConfigError, match="covariance_type='diag'.*full covariances only"):
        fit_spark(numeric_sdf, k=3, method="gmm", strategy="distributed",
                  covariance_type="diag")
    with pytest.raises(SchemaError, match=r"\['nope'\] are not in the Spark frame.*Fix"):
        fit_spark(numeric_sdf, k=3, columns=["monetary", "nope"])
    with pytest.raises(ConfigError, match="order_by='income' is not a column.*Fix"):
        fit_spark(numeric_sdf, k=3, order_by="income")


def test_distributed_refuses_missing_values_without_a_spec(spark):
    pdf = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "x": [1.0, None, 3.0, 4.0],
                        "y": [1.0, 2.0, 3.0, 5.0]})
    with pytest.raises(SchemaError, match=r"missing values: x \(1 rows\).*Fix: fill"):
        fit_spark(spark.createDataFrame(pdf), k=2, strategy="distributed")


def test_distributed_with_a_spec_applies_its_preprocessor_on_spark(spark, portfolio):
    # one-hot region and imputed income: the spec preprocessor is fitted on the driver sample
    # and run on every row with mapInPandas before MLlib
    frame, spec = portfolio
    cols = [*COLS, "region", "income"]
    data = frame[cols]
    assert data["income"].isna().any()
    spec = spec.select(cols).with_weights(geographic=1, demographic=1)
    sdf = spark.createDataFrame(data.reset_index())
    fit = fit_spark(sdf, k=3, spec=spec, strategy="distributed", n_init=1, sample_size=400,
                    random_state=1)
    seg = fit.segmenter
    assert len(fit.sample) == 400 and fit.n_fit_rows == len(data)
    assert any(str(c).startswith("region_") for c in seg.model_feature_names_)
    ids, Z, raw = _mllib_labels(fit, sdf, list(seg.preprocessor_.feature_names_in_))
    np.testing.assert_array_equal(seg.estimator_.predict(Z), raw)
    np.testing.assert_allclose(Z, seg.preprocessor_.transform(data.loc[ids]), atol=1e-12)
    labels = seg.predict(data.loc[ids])
    np.testing.assert_array_equal(labels, seg.label_order_[raw])
    np.testing.assert_array_equal(fit.model.predict(data.loc[ids]), labels)

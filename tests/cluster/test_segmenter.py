import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from segml.cluster import Segmenter
from segml.errors import ConfigError

# scikit-learn's contract checks for Segmenter (and the bisecting waiver) are in
# tests/test_estimator_contract.py.


def _blobs(n=600, centers=None, random_state=0):
    centers = centers if centers is not None else [[0, 0], [10, 0], [0, 10]]
    return make_blobs(n, centers=centers, cluster_std=1.0, random_state=random_state)


def test_labels_ordered_by_size_then_centroid():
    X, _ = make_blobs([300, 100, 200], centers=[[0, 0], [10, 0], [0, 10]], random_state=0)
    seg = Segmenter(n_clusters=3, random_state=1).fit(X)
    assert np.bincount(seg.labels_).tolist() == [300, 200, 100]
    np.testing.assert_allclose(seg.cluster_centers_.round(0), [[0, 0], [0, 10], [10, 0]], atol=1)
    assert seg.order_by_ == "size"


@pytest.mark.parametrize("algorithm", ["kmeans", "minibatch", "bisecting", "gmm"])
def test_same_labels_for_any_seed_after_ordering(algorithm):
    X, _ = make_blobs([300, 100, 200], centers=[[0, 0], [10, 0], [0, 10]], random_state=0)
    runs = [Segmenter(algorithm=algorithm, n_clusters=3, random_state=s).fit_predict(X)
            for s in (0, 1, 2)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


def test_order_by_monetary_descending():
    X, _ = make_blobs([100, 100, 100], centers=[[0, 0], [10, 0], [0, 10]], random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b"])
    frame["monetary"] = np.where(frame["a"] > 5, 1000.0, np.where(frame["b"] > 5, 500.0, 10.0))
    seg = Segmenter(n_clusters=3, random_state=0).fit(frame)
    assert seg.order_by_ == "monetary"
    means = frame.groupby(seg.labels_)["monetary"].mean()
    assert means.tolist() == [1000.0, 500.0, 10.0]
    forced = Segmenter(n_clusters=3, order_by="size", random_state=0).fit(frame)
    assert forced.order_by_ == "size"


def test_predict_transform_proba_consistent_with_ordering():
    X, _ = make_blobs([250, 150, 100], centers=[[0, 0], [8, 0], [0, 8]], random_state=3)
    km = Segmenter(n_clusters=3, random_state=0).fit(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(km.transform(X).argmin(axis=1), km.labels_)
    assert km.get_feature_names_out().tolist() == [f"distance_to_segment_{j}" for j in range(3)]
    gm = Segmenter(algorithm="gmm", n_clusters=3, random_state=0).fit(X)
    proba = gm.predict_proba(X)
    np.testing.assert_array_equal(proba.argmax(axis=1), gm.predict(X))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert not hasattr(km, "predict_proba")
    np.testing.assert_array_equal(gm.labels_, gm.predict(X))
    assert km.label_order_[km.estimator_.labels_].tolist() == km.labels_.tolist()


def test_fit_sample_size_and_float32_keep_the_partition():
    X, y = make_blobs(20_000, 5, centers=6, cluster_std=1.5, random_state=7)
    full = Segmenter(n_clusters=6, random_state=0).fit(X)
    sampled = Segmenter(n_clusters=6, fit_sample_size=2000, dtype="float32", random_state=0).fit(X)
    assert sampled.n_fit_samples_ == 2000 and full.n_fit_samples_ == 20_000
    assert sampled.labels_.shape == (20_000,)
    assert adjusted_rand_score(full.labels_, sampled.labels_) > 0.99
    assert sampled.cluster_centers_.dtype == np.float64
    assert sampled.estimator_.cluster_centers_.dtype == np.float32


def test_distance_quantiles():
    X, _ = _blobs()
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    q = seg.train_distance_quantiles_
    assert list(q) == ["p50", "p90", "p95", "p99"]
    assert q["p50"] <= q["p90"] <= q["p95"] <= q["p99"]
    own = np.linalg.norm(X - seg.cluster_centers_[seg.labels_], axis=1)
    assert q["p99"] == pytest.approx(np.percentile(own, 99))


def test_preprocessor_is_cloned_and_frame_untouched():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "spend": np.r_[rng.normal(100, 5, 50), rng.normal(10, 1, 50)],
            "region": ["North"] * 50 + ["South"] * 50,
        }
    )
    before = frame.copy()
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["spend"]), ("cat", OneHotEncoder(), ["region"])]
    )
    seg = Segmenter(n_clusters=2, preprocessor=pre, random_state=0).fit(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert not hasattr(pre, "transformers_")  # the caller's preprocessor stays unfitted
    assert seg.feature_names_in_.tolist() == ["spend", "region"]
    assert seg.model_feature_names_.tolist() == [
        "num__spend", "cat__region_North", "cat__region_South"
    ]
    assert np.bincount(seg.labels_).tolist() == [50, 50]
    np.testing.assert_array_equal(seg.predict(frame), seg.labels_)
    with pytest.raises(ValueError, match="feature names"):
        seg.predict(frame[["region", "spend"]])


def test_per_row_attributes_documented():
    X, _ = _blobs()
    seg = Segmenter(n_clusters=3, random_state=0).fit(X)
    assert Segmenter.PER_ROW_ATTRIBUTES == ("labels_", "estimator_.labels_")
    assert seg.labels_.shape == (600,) and seg.estimator_.labels_.shape == (600,)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"algorithm": "dbscan"}, r"algorithm='dbscan' is not one of \('kmeans'"),
        ({"covariance_type": "pooled"}, r"covariance_type='pooled' is not one of"),
        ({"n_clusters": 0}, r"n_clusters=0 should be an integer >= 1"),
        ({"n_init": 1.5}, r"n_init=1\.5 should be an integer >= 1"),
        ({"n_init": "many"}, r"n_init='many' should be an integer >= 1 or \"auto\""),
        ({"max_iter": True}, r"max_iter=True should be an integer >= 1"),
        ({"fit_sample_size": 2}, r"fit_sample_size=2 should be None or an integer >= n_clusters=5"),
        ({"dtype": "float16"}, r"dtype='float16' is not one of \('float64', 'float32'\)"),
        ({"order_by": 3}, r"order_by=3 should be a column name, 'size' or None"),
        ({"order_by": "clv"}, r"order_by='clv' is not a column of the input"),
    ],
)
def test_parameter_errors(params, match):
    X, _ = _blobs()
    with pytest.raises(ConfigError, match=match):
        Segmenter(**params).fit(X)


def test_too_few_samples():
    with pytest.raises(ConfigError, match=r"n_samples=3 should be >= n_clusters=5"):
        Segmenter().fit(np.arange(6.0).reshape(3, 2))


def test_preprocessor_producing_nan():
    class Passthrough(StandardScaler):
        def transform(self, X, copy=None):
            out = np.asarray(X, dtype=float).copy()
            out[0, 0] = np.nan
            return out

    X, _ = _blobs()
    with pytest.raises(ConfigError, match=r"preprocessor produced NaN or infinite values"):
        Segmenter(n_clusters=3, preprocessor=Passthrough()).fit(X)


@pytest.mark.parametrize(
    ("algorithm", "expected"), [("kmeans", 10), ("minibatch", 3), ("bisecting", 1), ("gmm", 3)]
)
def test_n_init_auto_per_algorithm(algorithm, expected):
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0], [5.1, 5.0], [5.0, 5.1]])
    seg = Segmenter(algorithm=algorithm, n_clusters=2, random_state=0).fit(X)
    assert seg.get_params()["n_init"] == "auto"
    assert seg.estimator_.n_init == expected
    assert Segmenter(algorithm=algorithm, n_clusters=2, n_init=2, random_state=0).fit(
        X
    ).estimator_.n_init == 2


def test_gmm_refuses_float32_and_names_the_fix():
    X = np.random.default_rng(0).standard_normal((60, 3))
    with pytest.raises(ConfigError, match=r"dtype='float32' with algorithm='gmm'.*Fix: use "
                       r"dtype='float64'"):
        Segmenter(algorithm="gmm", n_clusters=2, dtype="float32").fit(X)


def test_collapsed_gmm_component_is_a_config_error(monkeypatch):
    """scikit-learn's 'ill-defined empirical covariance' becomes one message with a fix."""
    import sklearn.mixture

    def boom(self, X, y=None):
        raise ValueError("Fitting the mixture model failed because some components have "
                         "ill-defined empirical covariance (for instance caused by singleton)")

    monkeypatch.setattr(sklearn.mixture.GaussianMixture, "fit", boom)
    X = np.random.default_rng(0).standard_normal((60, 3))
    with pytest.raises(ConfigError, match=r"gmm with k=2 .* could not be fitted on 60 rows x 3 "
                       r"features.*Fix: use fewer segments"):
        Segmenter(algorithm="gmm", n_clusters=2, covariance_type="diag").fit(X)
    with pytest.raises(ValueError, match="bad data") as info:  # other errors pass through
        monkeypatch.setattr(sklearn.mixture.GaussianMixture, "fit",
                            lambda self, X, y=None: (_ for _ in ()).throw(ValueError("bad data")))
        Segmenter(algorithm="gmm", n_clusters=2).fit(X)
    assert not isinstance(info.value, ConfigError)

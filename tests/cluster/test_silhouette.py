import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_samples, silhouette_score

from segml.cluster import sampled_silhouette, sqeuclidean_silhouette, stratified_sample_indices
from segml.errors import ConfigError


def test_hand_computed_four_points():
    # x=0: a=1, b=mean(100,121)=110.5 -> 1-1/110.5 ; x=1: a=1, b=mean(81,100)=90.5
    r = sqeuclidean_silhouette(np.array([[0.0], [1.0], [10.0], [11.0]]), [0, 0, 1, 1])
    expected = np.array([1 - 1 / 110.5, 1 - 1 / 90.5, 1 - 1 / 90.5, 1 - 1 / 110.5])
    np.testing.assert_allclose(r.values, expected, rtol=0, atol=1e-15)
    assert r.kind == "silhouette_sqeuclidean_full"
    assert r.overall == pytest.approx(expected.mean(), abs=1e-15)
    per = {0: expected[:2].mean(), 1: expected[2:].mean()}
    assert r.per_cluster.to_dict() == pytest.approx(per)
    assert r.negative_share == 0.0


def test_singleton_cluster_scores_zero_like_sklearn():
    X = np.array([[0.0], [1.0], [5.0], [9.0], [10.0]])
    labels = [0, 0, 1, 2, 2]
    r = sqeuclidean_silhouette(X, labels)
    assert r.values[2] == 0.0
    np.testing.assert_allclose(
        r.values, silhouette_samples(X, labels, metric="sqeuclidean"), atol=1e-12
    )


@pytest.mark.slow
def test_equals_sklearn_sqeuclidean_on_20k_rows():
    X, y = make_blobs(20_000, 6, centers=5, cluster_std=2.5, random_state=0)
    X = X * 3 + 50  # off-centre data: the decomposition must not lose precision
    r = sqeuclidean_silhouette(X, y, chunk_size=4096)
    assert abs(r.overall - silhouette_score(X, y, metric="sqeuclidean")) < 1e-9


def test_per_sample_values_equal_sklearn():
    X, y = make_blobs(1500, 4, centers=4, cluster_std=3.0, random_state=2)
    r = sqeuclidean_silhouette(X, y, chunk_size=100)
    np.testing.assert_allclose(r.values, silhouette_samples(X, y, metric="sqeuclidean"), atol=1e-9)
    assert r.negative_share == pytest.approx(float((r.values < 0).mean()))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(2, 5),
    chunk=st.integers(1, 64),
)
def test_invariant_to_chunk_size_and_label_names(seed, k, chunk):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    labels = np.arange(40) % k
    base = sqeuclidean_silhouette(X, labels)
    renamed = sqeuclidean_silhouette(X, (labels + 7) * 3, chunk_size=chunk)
    np.testing.assert_allclose(base.values, renamed.values, atol=1e-12)
    assert np.all(base.values <= 1 + 1e-12) and np.all(base.values >= -1 - 1e-12)


def test_to_dict_has_no_per_row_values():
    r = sqeuclidean_silhouette(np.array([[0.0], [1.0], [10.0], [11.0]]), ["a", "a", "b", "b"])
    d = r.to_dict()
    json.dumps(d)
    assert set(d) == {"kind", "overall", "negative_share", "n_samples", "per_cluster"}
    assert d["per_cluster"]["a"] == pytest.approx(r.per_cluster["a"])


@pytest.mark.parametrize(
    ("X", "labels", "match"),
    [
        (np.zeros((4, 1)), [0, 0, 0, 0], r"Number of labels is 1\. Valid values are 2 to"),
        (np.zeros((4, 1)), [0, 1, 2, 3], r"Number of labels is 4\. .*n_samples=4"),
        (np.zeros((4, 1)), [0, 1], r"labels should have shape \(4,\) to match X; got \(2,\)"),
        (np.zeros(4), [0, 1, 0, 1], r"X should be 2-dimensional; got an array with shape \(4,\)"),
        (np.array([[np.nan], [1], [2], [3]]), [0, 1, 0, 1], r"X contains NaN or infinite"),
    ],
)
def test_input_errors(X, labels, match):
    with pytest.raises(ConfigError, match=match):
        sqeuclidean_silhouette(X, labels)


def test_chunk_size_error():
    with pytest.raises(ConfigError, match=r"chunk_size=0 should be >= 1"):
        sqeuclidean_silhouette(np.zeros((4, 1)), [0, 0, 1, 1], chunk_size=0)


def test_sampled_equals_sklearn_when_sample_covers_all_rows():
    X, y = make_blobs(300, 3, centers=3, random_state=1)
    r = sampled_silhouette(X, y, sample_size=1000, n_bootstrap=50, random_state=0)
    assert r.kind == "silhouette_euclidean_sample"
    assert r.sample_size == 300
    assert r.mean == pytest.approx(silhouette_score(X, y), abs=1e-12)
    assert r.ci_low <= r.mean <= r.ci_high


def test_sampled_is_reproducible_and_close_to_full():
    X, y = make_blobs(6000, 3, centers=4, cluster_std=2.0, random_state=4)
    a = sampled_silhouette(X, y, sample_size=1500, n_bootstrap=100, random_state=3)
    b = sampled_silhouette(X, y, sample_size=1500, n_bootstrap=100, random_state=3)
    assert a == b
    assert a.sample_size == pytest.approx(1500, abs=4)
    full = silhouette_score(X, y)
    assert abs(a.mean - full) < 0.03
    assert a.ci_high - a.ci_low < 0.05
    d = a.to_dict()
    json.dumps(d)
    assert d["kind"] == "silhouette_euclidean_sample" and d["stratified"] is True


def test_stratified_sample_keeps_small_strata():
    labels = np.array([0] * 990 + [1] * 10)
    idx = stratified_sample_indices(labels, 50, random_state=0)
    assert (labels[idx] == 1).sum() == 2  # floor(50*10/1000)=0 -> at least 2
    assert (labels[idx] == 0).sum() == 49
    assert np.all(np.diff(idx) > 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sample_size": 2}, r"sample_size=2 should be >= 3"),
        ({"n_bootstrap": 0}, r"n_bootstrap=0 should be >= 1"),
        ({"confidence": 1.0}, r"confidence=1.0 should be in the open interval \(0, 1\)"),
    ],
)
def test_sampled_argument_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        sampled_silhouette(np.arange(8.0).reshape(-1, 1), [0, 1] * 4, **kwargs)


def test_unstratified_sample_with_one_label_errors():
    labels = np.array([0] * 999 + [1])
    X = np.arange(1000.0).reshape(-1, 1)
    with pytest.raises(ConfigError, match=r"holds a single label; use stratify=True"):
        sampled_silhouette(X, labels, sample_size=3, stratify=False, random_state=0)


def test_spark_silhouette_is_the_result_without_per_row_values():
    """Spark's all-row silhouette is a SilhouetteResult with values=None; same to_dict."""
    from segml.cluster import SilhouetteResult
    from segml.spark.validate import SparkSilhouette

    per = pd.Series([0.5, -0.25], index=pd.Index([0, 1]), name="silhouette_euclidean_full")
    r = SparkSilhouette(kind="silhouette_euclidean_full", per_cluster=per, overall=0.125,
                        negative_share=0.5, n_samples=4)
    assert isinstance(r, SilhouetteResult) and r.values is None
    d = r.to_dict()
    assert d == {"kind": "silhouette_euclidean_full", "overall": 0.125, "negative_share": 0.5,
                 "n_samples": 4, "per_cluster": {0: 0.5, 1: -0.25}}
    assert [type(k) for k in d["per_cluster"]] == [int, int]
    assert "values" not in d and "values" not in repr(r)

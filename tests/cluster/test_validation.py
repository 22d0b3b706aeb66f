import json

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from segml.cluster import Segmenter, sqeuclidean_silhouette, validate_segments
from segml.errors import ConfigError


@pytest.fixture(scope="module")
def fitted():
    X, _ = make_blobs([300, 200, 100], centers=[[0, 0], [10, 0], [0, 30]], random_state=0)
    return Segmenter(n_clusters=3, random_state=0).fit(X), X


def test_per_segment_and_overall(fitted):
    seg, X = fitted
    v = validate_segments(seg, X, n_resamples=3, random_state=0)
    per = v.per_segment
    assert per["n"].tolist() == [300, 200, 100]
    assert per["share"].tolist() == pytest.approx([0.5, 1 / 3, 1 / 6])
    assert per["nearest_segment"].tolist() == [1, 0, 0]
    sil = sqeuclidean_silhouette(X, seg.labels_)
    assert v.overall["silhouette_sqeuclidean_full"] == pytest.approx(sil.overall)
    np.testing.assert_allclose(per["silhouette"], sil.per_cluster.to_numpy())
    assert (per["separation_ratio"] > 1).all()
    assert per["jaccard"].tolist() == [1.0, 1.0, 1.0]
    assert v.overall["stability_ari_mean"] == 1.0
    assert v.overall["min_segment_share"] == pytest.approx(1 / 6)
    np.testing.assert_allclose(
        v.centroid_distances.loc[0, 1],
        np.linalg.norm(seg.cluster_centers_[0] - seg.cluster_centers_[1]),
    )


def test_to_dict_is_json_and_has_no_rows(fitted):
    seg, X = fitted
    v = validate_segments(seg, X, stability=False)
    d = v.to_dict()
    text = json.dumps(d)
    assert d["stability"] is None
    assert len(d["per_segment"]) == 3
    assert "silhouette_values" not in text
    assert v.silhouette_values.shape == (600,)


def test_single_segment_present_errors(fitted):
    seg, X = fitted
    one = X[seg.labels_ == 0]
    with pytest.raises(ConfigError, match=r"fall in 1 segment; validation needs at least 2"):
        validate_segments(seg, one, stability=False)


def test_unfitted_errors():
    with pytest.raises(Exception, match="not fitted"):
        validate_segments(Segmenter(), np.zeros((5, 2)))


@pytest.fixture(scope="module")
def portfolio_fit():
    from segml.datasets import make_portfolio
    from segml.features import build_features, make_preprocessor

    p = make_portfolio(600, n_segments=4, random_state=1)
    fs = build_features(p.transactions, p.customers, p.as_of)
    frame = fs.frame[~fs.frame["is_prospect"].astype(bool)]
    pre = make_preprocessor(fs.spec, frame)
    seg = Segmenter(preprocessor=pre, n_clusters=4, order_by="size", random_state=0).fit(frame)
    return seg, pre, frame


def test_fit_matrix_is_fit_then_transform(portfolio_fit):
    # issue 19: Segmenter.fit takes the preprocessor's fit_transform (one pass); the model is
    # the one fitted on clone(pre).fit(X).transform(X): same labels, centres within 1e-12
    from sklearn.base import clone

    seg, pre, frame = portfolio_fit
    Z = np.asarray(clone(pre).fit(frame).transform(frame), dtype=np.float64)
    np.testing.assert_array_equal(np.asarray(seg._inner_matrix(frame)), Z)
    plain = Segmenter(n_clusters=4, order_by="size", random_state=0).fit(Z)
    np.testing.assert_array_equal(seg.labels_, plain.labels_)
    np.testing.assert_allclose(seg.cluster_centers_, plain.cluster_centers_, atol=1e-12)


def test_validation_labels_come_from_one_transform(portfolio_fit):
    # issue 19: labels from the model matrix already built equal predict(X) (two transforms)
    seg, _, frame = portfolio_fit
    v = validate_segments(seg, frame, stability=False)
    sil = sqeuclidean_silhouette(seg._inner_matrix(frame), seg.predict(frame))
    np.testing.assert_array_equal(v.silhouette_values, sil.values)
    assert v.per_segment["n"].tolist() == np.bincount(seg.predict(frame), minlength=4).tolist()

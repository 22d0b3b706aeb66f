"""Gap statistic, prediction strength, the "gap" rule and the silhouette reading."""

import numpy as np
import pandas as pd
import pytest

from segml.cluster.gap import gap_choice, gap_statistic, pca_uniform_reference
from segml.cluster.prediction_strength import _pair_share, prediction_strength
from segml.cluster.recommend import NO_SEGMENTS, SEGMENTS, recommend_by_gap, silhouette_reading
from segml.cluster.stability import StabilityResult
from segml.errors import ConfigError

K = [1, 2, 3, 4]


def _s(values):
    return pd.Series(values, index=K, dtype="float64")


def test_gap_choice_methods_on_a_hand_made_curve():
    gap, s = _s([0.10, 0.50, 0.48, 0.60]), _s([0.05, 0.05, 0.05, 0.05])
    assert gap_choice(gap, s) == 2  # 0.50 >= 0.48 - 0.05
    assert gap_choice(gap, s, method="firstSEmax") == 2
    assert gap_choice(gap, s, method="globalSEmax") == 4  # 0.50 < 0.60 - 0.05
    assert gap_choice(_s([0.5, 0.4, 0.3, 0.2]), s) == 1
    with pytest.raises(ConfigError, match="method"):
        gap_choice(gap, s, method="elbow")


def test_pca_reference_stays_in_the_principal_box():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3)) @ np.array([[3, 1, 0], [0, 1, 0], [0, 0, 0.2]])
    R, R2 = list(pca_uniform_reference(X, np.random.RandomState(1), 2))
    assert not np.allclose(R, R2)
    assert R.shape == X.shape
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    px, pr = (X - mean) @ vt.T, (R - mean) @ vt.T
    assert (pr.min(axis=0) >= px.min(axis=0) - 1e-9).all()
    assert (pr.max(axis=0) <= px.max(axis=0) + 1e-9).all()


def test_gap_statistic_table_and_separated_groups():
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(0, 0.1, (60, 2)), rng.normal(5, 0.1, (60, 2))]
    g = gap_statistic(X, range(1, 5), n_references=5, n_init=3, random_state=0)
    assert g.table.index.tolist() == K
    assert set(g.table.columns) == {"log_w", "ref_log_w", "gap", "gap_sd", "gap_s"}
    np.testing.assert_allclose(g.table["gap_s"], g.table["gap_sd"] * np.sqrt(1.2), rtol=1e-12)
    assert g.choice() == 2 and g.n_rows == 120
    with pytest.raises(ConfigError, match=r"k_range=\[0, 1\] should hold integers >= 1"):
        gap_statistic(X, [0, 1])


def test_pair_share_by_hand():
    # test cluster 0 = rows 0-2, predicted (0, 0, 1): 1 of 3 pairs together; cluster 1: 1 of 1
    assert _pair_share(np.array([0, 0, 0, 1, 1]), np.array([0, 0, 1, 1, 1])) == pytest.approx(1 / 3)
    assert _pair_share(np.array([0, 0, 1]), np.array([1, 1, 0])) == 1.0


def test_prediction_strength_k1_and_separated_groups():
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(0, 0.1, (40, 2)), rng.normal(5, 0.1, (40, 2))]
    assert prediction_strength(X, 1, n_splits=2).values.tolist() == [1.0, 1.0]
    assert prediction_strength(X, 2, n_splits=2, random_state=0).mean == 1.0
    with pytest.raises(ConfigError, match="needs at least 200 rows; got 80"):
        prediction_strength(X, 100)


def _gap_rule_inputs(gap, ps, jac):
    g = pd.DataFrame({"gap": gap, "gap_s": 0.05, "prediction_strength": ps}, index=K)
    t = pd.DataFrame({"algorithm": "kmeans", "covariance_type": None, "k": K,
                      "too_small": False, "stability_jaccard_min": jac,
                      "silhouette_euclidean_sample": [np.nan, 0.5, 0.6, 0.4]})
    return t, g


def test_gap_rule_on_hand_made_tables():
    # clear peak at 3, reproducible: segments, k=3
    t, g = _gap_rule_inputs([0.1, 0.5, 0.9, 0.88], [1, 0.9, 0.9, 0.5], [np.nan, 0.9, 0.9, 0.5])
    rec, text = recommend_by_gap(t, g, 0.03, n_refits=10)
    assert (rec["verdict"], rec["k"], rec["supported"], rec["k_interval"]) == (
        SEGMENTS, 3, [3], [3, 3])
    assert text.startswith("Recommended k=3: the smallest k that is both reproducible")
    # peak at 4 (within 2 s: 3 and 4) but 4 is not reproducible: still 3
    t, g = _gap_rule_inputs([0.1, 0.5, 0.9, 0.95], [1, 0.9, 0.9, 0.5], [np.nan, 0.9, 0.9, 0.5])
    assert recommend_by_gap(t, g, 0.03, n_refits=10)[0]["k"] == 3
    # k=1 is the peak: no clear segments
    t, g = _gap_rule_inputs([0.9, 0.5, 0.6, 0.7], [1, 0.9, 0.9, 0.9], [np.nan, 0.9, 0.9, 0.9])
    rec, text = recommend_by_gap(t, g, 0.03, n_refits=10)
    assert (rec["verdict"], rec["k"]) == (NO_SEGMENTS, 1)
    assert text.startswith("No clear segments: one population fits as well as any partition")
    # the gap keeps rising, the reproducible k fall far short: no clear segments
    t, g = _gap_rule_inputs([0.1, 0.3, 0.4, 0.9], [1, 0.9, 0.9, 0.3], [np.nan, 0.9, 0.9, 0.3])
    rec, text = recommend_by_gap(t, g, 0.03, n_refits=10)
    assert rec["verdict"] == NO_SEGMENTS
    assert "the k where the gap statistic peaks is not reproducible" in text
    assert "k=4: prediction strength 0.30 < 0.80; worst segment's bootstrap Jaccard 0.30 < " \
        "0.75" in text


@pytest.mark.parametrize(("value", "reading"), [
    (0.71, "strong"), (0.70, "reasonable"), (0.51, "reasonable"), (0.50, "weak"),
    (0.26, "weak"), (0.25, "no substantial structure"), (-0.1, "no substantial structure"),
    (float("nan"), ""),
])
def test_kaufman_rousseeuw_reading(value, reading):
    assert silhouette_reading(value) == reading


def test_min_jaccard_interval():
    refits = np.array([[1.0, 0.5], [0.9, 0.7], [0.8, 0.9], [0.6, 1.0]])  # worst 0.5 .7 .8 .6
    r = StabilityResult("bootstrap", 4, 1.0, 10, np.ones(4), pd.Series([0.8, 0.8]), refits)
    assert r.min_jaccard_interval(0.5) == pytest.approx((0.575, 0.725))
    with pytest.raises(ConfigError, match=r"level=1\.0 should be in the open interval"):
        r.min_jaccard_interval(1.0)


def test_a_value_just_under_its_threshold_never_prints_as_the_threshold():
    from segml.cluster.recommend import _below

    # "prediction strength 0.80 < 0.80" was printed for 0.7996
    assert [_below(v, 0.8) for v in (0.30, 0.7996, 0.7949, 0.79999)] == \
        ["0.30", "0.7996", "0.79", "0.79999"]

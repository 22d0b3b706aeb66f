import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

from segml.cluster import select_k
from segml.cluster.recommend import recommend_by_criteria as _recommend
from segml.errors import ConfigError

CENTERS4 = [[0, 0], [12, 0], [0, 12], [12, 12]]


@pytest.fixture(scope="module")
def four_blobs():
    X, y = make_blobs(1200, centers=CENTERS4, cluster_std=1.0, random_state=0)
    return X, y


def test_recommends_planted_k_with_agreeing_criteria(four_blobs):
    X, _ = four_blobs
    r = select_k(X, k_range=range(2, 8), n_stability=3, rule="largest_stable",
                 min_jaccard=0.85, progress=False, random_state=0)
    assert r.recommended["k"] == 4
    assert r.recommended["algorithm"] == "kmeans"
    assert r.recommended["votes"] >= 4
    assert r.recommended["params"] == {
        "algorithm": "kmeans", "n_clusters": 4, "n_init": "auto", "max_iter": 300
    }
    assert r.recommended["rule"] == "largest_stable"
    assert r.rationale.startswith(
        "Recommended k=4 (kmeans): the largest number of segments whose every segment is "
        "reproducible (per-segment Jaccard >= 0.85 over 3 refits)"
    )
    assert "All criteria agree." in r.rationale
    t = r.table
    assert t["k"].tolist() == list(range(2, 8))
    assert t.loc[t["k"] == 4, "inertia_knee"].item()
    assert t.loc[t["k"] == 4, "stability_ari_mean"].item() == 1.0
    for col in ("silhouette_sqeuclidean_full", "silhouette_euclidean_sample",
                "calinski_harabasz", "davies_bouldin", "inertia", "min_segment_share"):
        assert t[col].notna().all(), col
    json.dumps(r.to_dict())


def test_disagreement_is_reported():
    # 4 planted blobs, two of them close: the criteria do not all agree
    X, _ = make_blobs(1000, centers=[[0, 0], [3.5, 0], [12, 0], [0, 12]], random_state=2)
    r = select_k(X, k_range=range(2, 7), stability=False, rule="largest_stable", progress=False,
                 random_state=0)
    assert {c: p["k"] for c, p in r.picks.items()} == {
        "silhouette_sqeuclidean_full": 3,
        "silhouette_euclidean_sample": 3,
        "calinski_harabasz": 4,
        "davies_bouldin": 3,
        "inertia_knee": 3,
    }
    assert r.recommended["k"] == 3 and r.recommended["votes"] == 4
    assert r.rationale == (
        "Recommended k=3 (kmeans): chosen by 4 of 5 criteria (silhouette_sqeuclidean_full, "
        "silhouette_euclidean_sample, davies_bouldin, inertia_knee). "
        "Disagreement: calinski_harabasz prefers k=4 (kmeans). "
        "Stability was not computed; the recommendation is the criteria's votes."
    )
    assert r.recommended["rule"] == "votes"


def test_reproducible_and_independent_of_n_jobs(four_blobs):
    X, _ = four_blobs
    kw = dict(k_range=[3, 4, 5], n_stability=2, n_references=3, n_splits=2, progress=False,
              random_state=7)
    timing = ["fit_seconds", "metrics_seconds", "stability_seconds"]
    a = select_k(X, **kw).table.drop(columns=timing)
    b = select_k(X, n_jobs=2, **kw).table.drop(columns=timing)
    pd.testing.assert_frame_equal(a, b)


def test_small_segments_are_flagged_and_not_recommended():
    X, _ = make_blobs([560, 560, 20], centers=[[0, 0], [10, 0], [0, 10]], random_state=0)
    r = select_k(X, k_range=[2, 3], stability=False, min_segment_share=0.05, rule="votes",
                 progress=False, random_state=0)
    t = r.table.set_index("k")
    assert bool(t.at[3, "too_small"]) and not bool(t.at[2, "too_small"])
    assert t.at[3, "min_segment_share"] == pytest.approx(20 / 1140)
    assert r.recommended["k"] == 2
    assert "Flagged too small (a segment under 5% of customers): k=3 (kmeans)." in r.rationale


def test_all_too_small_still_recommends_with_note(four_blobs):
    X, _ = four_blobs
    r = select_k(X, k_range=[3, 4], stability=False, min_segment_share=0.9, rule="votes",
                 progress=False, random_state=0)
    assert "Every configuration has a segment below 90% of customers" in r.rationale


def test_gmm_rows_have_bic_and_covariance(four_blobs):
    X, _ = four_blobs
    r = select_k(X, k_range=[3, 4, 5], algorithms=["kmeans", "gmm"],
                 covariance_types=["full", "spherical"], stability=False, rule="votes",
                 progress=False, random_state=0)
    t = r.table
    assert len(t) == 9
    g = t[t["algorithm"] == "gmm"]
    assert set(g["covariance_type"]) == {"full", "spherical"}
    assert g["bic"].notna().all() and g["aic"].notna().all()
    assert t.loc[t["algorithm"] == "kmeans", "covariance_type"].isna().all()
    assert r.picks["bic"]["k"] == 4


def test_preprocessor_and_sampling_settings(four_blobs):
    X, _ = four_blobs
    r = select_k(X * 1000, preprocessor=StandardScaler(), k_range=[4], fit_sample_size=300,
                 dtype="float32", stability=False, rule="votes", progress=False, random_state=0)
    assert r.table["n_fit_samples"].tolist() == [300]
    assert r.table["dtype"].tolist() == ["float32"]
    assert r.settings["sampling_note"].startswith("models fitted on a uniform sample of 300")


@pytest.mark.parametrize("dtype", ["auto", "float32"])
def test_gmm_fits_in_float64_whatever_the_dtype(four_blobs, monkeypatch, dtype):
    """float32 diagonal mixtures crash on ~300k customers: the sweep keeps gmm in float64."""
    import sys

    # the package exports the function under the module's name: patch the module itself
    monkeypatch.setattr(sys.modules["segml.cluster.select_k"], "AUTO_FLOAT32_ROWS", 100)
    X, _ = four_blobs
    r = select_k(X, k_range=[3, 4], algorithms=["kmeans", "gmm"], covariance_types=["diag"],
                 dtype=dtype, stability=False, rule="votes", progress=False, random_state=0)
    assert r.table.groupby("algorithm")["dtype"].agg(set).to_dict() == {
        "kmeans": {"float32"}, "gmm": {"float64"}}
    assert r.settings["dtype"] == {"kmeans": "float32", "gmm": "float64"}


def test_progress_bar_can_be_silenced(four_blobs, capsys):
    X, _ = four_blobs
    select_k(X, k_range=[2, 3], stability=False, rule="votes", progress=False, random_state=0)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    select_k(X, k_range=[2, 3], stability=False, rule="votes", progress=True, random_state=0)
    assert "select_k" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k_range": [0, 2]}, r"k_range=\[0, 2\] should hold integers >= 1"),
        ({"k_range": [1], "rule": "votes"}, r"rule='votes' compares partitions: k_range should"),
        ({"ps_threshold": 0.0}, r"ps_threshold=0\.0 should be in \(0, 1\]"),
        ({"algorithms": ["hdbscan"]}, r"algorithms=\('hdbscan',\) should be a non-empty subset"),
        ({"covariance_types": []}, r"covariance_types=\(\) should be a non-empty subset"),
        ({"min_segment_share": 1.0}, r"min_segment_share=1\.0 should be in \[0, 1\)"),
        ({"dtype": "int8"}, r"dtype='int8' should be 'auto', 'float64' or 'float32'"),
        ({"fit_sample_size": -5}, r"fit_sample_size=-5 should be a positive integer, 'auto'"),
        ({"k_range": [2, 30]}, r"n_samples=20 should be > the largest k=30"),
        ({"rule": "elbow"},
         r"rule='elbow' should be one of \('gap', 'largest_stable', 'votes'\)"),
        ({"min_jaccard": 0.0}, r"min_jaccard=0\.0 should be in \(0, 1\]"),
    ],
)
def test_argument_errors(kwargs, match):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ConfigError, match=match):
        select_k(X, progress=False, **kwargs)


def test_non_finite_input_error():
    X = np.ones((10, 2))
    X[0, 0] = np.nan
    with pytest.raises(ConfigError, match=r"finite 2-dimensional numeric matrix"):
        select_k(X, k_range=[2], progress=False)


def _table(rows):
    """A hand-made select_k table: (k, silhouette, CH, DB, jaccard_min, too_small)."""
    t = pd.DataFrame(
        rows, columns=["k", "silhouette_sqeuclidean_full", "calinski_harabasz",
                       "davies_bouldin", "stability_jaccard_min", "too_small"],
    )
    t.insert(0, "algorithm", "kmeans")
    t.insert(1, "covariance_type", None)
    t["stability_ari_mean"] = t["stability_jaccard_min"]
    t["inertia_knee"] = False
    return t


# nested structure as on the demo portfolio: k=3 is the coarse, best-separated split that the
# separation criteria prefer; k=5 is the finest partition that every refit reproduces
NESTED = [
    (3, 0.39, 784.0, 1.70, 1.00, False),
    (4, 0.24, 652.0, 1.97, 0.85, False),
    (5, 0.27, 571.0, 1.92, 0.94, False),
    (6, 0.28, 525.0, 1.92, 0.63, False),
    (7, 0.27, 460.0, 2.24, 0.80, True),
]


def test_largest_stable_rule_on_a_hand_made_table():
    rec, text, picks = _recommend(_table(NESTED), 0.03, n_refits=10, min_jaccard=0.85)
    assert rec["k"] == 5 and rec["rule"] == "largest_stable"
    assert rec["criteria"] == [] and rec["votes"] == 0
    assert {c: p["k"] for c, p in picks.items()} == {
        "silhouette_sqeuclidean_full": 3, "calinski_harabasz": 3, "davies_bouldin": 3,
        "stability_ari": 3,
    }
    assert text == (
        "Recommended k=5 (kmeans): the largest number of segments whose every segment is "
        "reproducible (per-segment Jaccard >= 0.85 over 10 refits) and at least 3% of "
        "customers. Stable and large enough: k=3 (kmeans), k=4 (kmeans), k=5 (kmeans). "
        "Criteria that pick it: none (0 of 4). "
        "By votes the criteria would pick k=3 (kmeans) (4 of 4). "
        "Disagreement: silhouette_sqeuclidean_full prefers k=3 (kmeans); calinski_harabasz "
        "prefers k=3 (kmeans); davies_bouldin prefers k=3 (kmeans); stability_ari prefers "
        "k=3 (kmeans). Flagged too small (a segment under 3% of customers): k=7 (kmeans)."
    )


def test_largest_stable_threshold_and_votes_rule():
    t = _table(NESTED)
    assert _recommend(t, 0.03, min_jaccard=0.99)[0]["k"] == 3
    assert _recommend(t, 0.03, min_jaccard=0.6)[0]["k"] == 6
    rec, text, _ = _recommend(t, 0.03, rule="votes")
    assert rec["k"] == 3 and rec["rule"] == "votes"
    assert text.startswith("Recommended k=3 (kmeans): chosen by 4 of 4 criteria")


def test_largest_stable_ties_go_to_the_higher_silhouette():
    t = pd.concat([_table(NESTED[:3]), _table([(5, 0.31, 500.0, 2.0, 0.90, False)])],
                  ignore_index=True)
    t.loc[3, ["algorithm", "covariance_type"]] = ["gmm", "diag"]
    rec, _, _ = _recommend(t, 0.03, min_jaccard=0.85)
    assert (rec["k"], rec["algorithm"], rec["covariance_type"]) == (5, "gmm", "diag")
    t.loc[3, "silhouette_sqeuclidean_full"] = 0.20
    assert _recommend(t, 0.03, min_jaccard=0.85)[0]["algorithm"] == "kmeans"


def test_no_stable_configuration_falls_back_to_votes():
    t = _table([(k, s, c, d, 0.5, False) for k, s, c, d, _, _ in NESTED])
    rec, text, _ = _recommend(t, 0.03, min_jaccard=0.85)
    assert rec["k"] == 3 and rec["rule"] == "votes"
    assert text.endswith(
        "No configuration has every segment stable (Jaccard >= 0.85); fell back to the "
        "criteria's votes."
    )


def test_largest_stable_when_every_configuration_is_too_small():
    t = _table([(k, s, c, d, j, True) for k, s, c, d, j, _ in NESTED])
    rec, text, _ = _recommend(t, 0.03, min_jaccard=0.85)
    assert rec["k"] == 5
    assert text.startswith(
        "Recommended k=5 (kmeans): the largest number of segments whose every segment is "
        "reproducible (per-segment Jaccard >= 0.85) and as large as the data allow (no "
        "configuration keeps every segment at 3%). Stable: k=3 (kmeans), k=4 (kmeans), "
        "k=5 (kmeans)."
    )

"""Screening in select_k (tracker issue 19): the gap rule's expensive parts only where they count.

With ``screen=True`` bootstrap stability and the mixture rows are computed only at the k whose
prediction strength passes; the recommendation must be the full sweep's, and the result must
say what was skipped.
"""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segml.cluster import Segmenter, select_k
from segml.cluster.recommend import recommend_by_gap
from segml.errors import ConfigError

FAST = dict(n_stability=4, n_references=4, n_splits=3, sample_silhouette_size=300,
            n_bootstrap=20, progress=False)
KEYS = ("verdict", "k", "algorithm", "covariance_type", "k_interval", "supported",
        "reproducible", "gap_peak_k", "unsupported", "params")


@pytest.fixture(scope="module")
def three_blobs():
    X, y = make_blobs(600, centers=[[0, 0], [9, 0], [0, 9]], cluster_std=1.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def both(three_blobs):
    X, _ = three_blobs
    kw = dict(k_range=range(1, 7), algorithms=["kmeans", "gmm"], covariance_types=["diag"],
              random_state=0, **FAST)
    return select_k(X, screen=False, **kw), select_k(X, screen=True, **kw)


def test_screened_recommendation_equals_the_full_sweep(both, three_blobs):
    full, fast = both
    assert {k: full.recommended[k] for k in KEYS} == {k: fast.recommended[k] for k in KEYS}
    assert fast.recommended["k"] == 3 and fast.verdict == "segments"
    # the recommended model recovers the planted blobs
    seg = Segmenter(**fast.recommended["params"], random_state=0).fit(three_blobs[0])
    assert adjusted_rand_score(three_blobs[1], seg.labels_) >= 0.98


def test_screening_skips_gmm_rows_and_stability_where_ps_fails(both):
    full, fast = both
    ps = fast.table.drop_duplicates("k").set_index("k")["prediction_strength"]
    passing = sorted(int(k) for k, v in ps.items() if k >= 2 and v >= 0.8)
    failing = sorted(int(k) for k, v in ps.items() if k >= 2 and v < 0.8)
    assert passing and failing  # the planted frame exercises both branches
    gmm = fast.table[fast.table["algorithm"] == "gmm"]
    assert sorted(gmm.loc[gmm["k"] >= 2, "k"].tolist()) == passing
    km = fast.table[fast.table["algorithm"] == "kmeans"].set_index("k")
    assert km.loc[passing, "stability_jaccard_min"].notna().all()
    assert km.loc[failing, "stability_jaccard_min"].isna().all()
    # the rows computed are the full sweep's rows (same seeds), timings aside
    cols = ["silhouette_sqeuclidean_full", "inertia", "stability_jaccard_min", "gap"]
    f = full.table.set_index(["algorithm", "k"]).loc[[("kmeans", k) for k in passing], cols]
    s = fast.table.set_index(["algorithm", "k"]).loc[[("kmeans", k) for k in passing], cols]
    np.testing.assert_allclose(f.to_numpy(float), s.to_numpy(float), rtol=1e-9)
    assert len(full.table) == 12 and len(fast.table) == 6 + 1 + len(passing)


def test_screening_is_said_in_rationale_and_settings(both):
    full, fast = both
    note = fast.settings["screen_note"]
    assert fast.settings["screen"] is True and full.settings["screen"] is False
    assert note.startswith("screened for speed on 600 rows: bootstrap stability and the gmm "
                           "rows computed only at k=")
    assert note.endswith("select_k(screen=False) computes every row")
    assert "Screened for speed on 600 rows" in fast.rationale
    assert note in fast.settings["sampling_note"]
    assert full.settings["screen_note"] == "" and "creened" not in full.rationale
    # a k that fails prediction strength is not reported with a made-up Jaccard of 0
    assert "bootstrap Jaccard 0.00" not in fast.rationale


def test_auto_screens_from_the_row_threshold(three_blobs, monkeypatch):
    import sys

    mod = sys.modules["segml.cluster.select_k"]
    monkeypatch.setattr(mod, "SCREEN_ROWS", 500)
    monkeypatch.setattr(mod, "SCREEN_GMM_SAMPLE", 200)
    X, _ = three_blobs
    r = select_k(X, k_range=range(1, 5), algorithms=["kmeans", "gmm"],
                 covariance_types=["diag"], random_state=0, **FAST)
    assert r.settings["screen"] is True and r.settings["gmm_fit_sample_size"] == 200
    fitted = r.table[(r.table["algorithm"] == "gmm") & (r.table["k"] >= 2)]
    assert len(fitted) and (fitted["n_fit_samples"] == 200).all()
    assert "gmm rows fitted on a uniform sample of 200 of 600 rows (k-means rows on 600)" in \
        r.settings["screen_note"]
    small = select_k(X[:400], k_range=range(1, 5), random_state=0, **FAST)
    assert small.settings["screen"] is False


def test_screen_is_validated(three_blobs):
    with pytest.raises(ConfigError, match=r"screen='yes' should be True, False or 'auto'"):
        select_k(three_blobs[0], k_range=[1, 2], screen="yes", **FAST)


def test_missing_jaccard_after_failed_ps_is_not_a_reason():
    import pandas as pd

    gap = pd.DataFrame({"gap": [0.1, 0.9, 0.5], "gap_s": [0.05] * 3,
                        "prediction_strength": [1.0, 0.95, 0.4]}, index=[1, 2, 3])
    table = pd.DataFrame({"algorithm": ["kmeans"] * 2, "covariance_type": [None] * 2,
                          "k": [2, 3], "too_small": [False, False],
                          "stability_jaccard_min": [0.9, np.nan]})
    rec, text = recommend_by_gap(table, gap, 0.03, n_refits=5)
    assert rec["k"] == 2 and rec["reproducible"] == [1, 2]
    assert "k=3: prediction strength 0.40 < 0.80." in text
    assert "Jaccard 0.00" not in text


def test_gap_and_prediction_strength_in_float32_match_float64():
    from segml.cluster.gap import gap_table

    X, _ = make_blobs(800, centers=[[0, 0], [8, 0], [0, 8], [8, 8]], cluster_std=1.0,
                      random_state=3)
    kw = dict(n_references=4, sample_size=None, n_init=3, n_splits=2, random_state=0)
    a = gap_table(X, 6, **kw)
    b = gap_table(X, 6, dtype="float32", **kw)
    # same seeds, same draws: float32 k-means moves log W by rounding only
    np.testing.assert_allclose(b["gap"], a["gap"], atol=1e-3)
    np.testing.assert_allclose(b["prediction_strength"], a["prediction_strength"], atol=1e-6)
    assert int(a["gap"].idxmax()) == int(b["gap"].idxmax()) == 4
    with pytest.raises(ConfigError, match="dtype='float16'"):
        gap_table(X, 3, dtype="float16", **kw)

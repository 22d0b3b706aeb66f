"""Planted truth: select_k finds the planted number of segments and the fit recovers them.

The data are the demo portfolio (``make_portfolio``: 4,000 customers, 5 planted segments, of which
one is B2B accounts) through the default feature spec with the attribute families
(demographic, geographic, psychographic) given weight 1, buyers only. Since issue 15 the
default spec has them at weight 0 (they describe segments, not drive them), but the demo
generator plants its segments partly on those attributes: at the default weights the k=5 fit
reaches ARI 0.72 (seed 0) instead of 0.95. Flags and missing indicators are no longer
standardised either (the demo's B2B accounts are marked by missing demographics, which used to
sit 2.4 SD away and now at most 1 SD): with the attributes weighted, k=5 reaches ARI 0.941 and
0.940 on seeds 1 and 2 (0.95+ before) and the old largest-stable rule picks k=6 (ARI 0.925
on seed 1); the thresholds below were lowered to those measurements (issue 15).

The structure is nested: B2B accounts and lapsed customers sit far from three closer B2C
segments, so silhouette, Calinski-Harabasz and Davies-Bouldin prefer k=3 (ARI about 0.45
against the truth); the old recommendation rule (largest k whose every segment is stable,
``rule="largest_stable"``) is what finds k=5 (k=6 since issue 15, see above).

Firmographics (B2B-only) are describe-only by default since issue 15 ("firmographic attributes
describe-only" in bench/RESULTS.md). This module keeps the space it was written for, with the
firmographic family at its old default weight 0.5: it checks the old rule on a fixed space, not
the default. At firmographic 0 (other attributes at 1) k=5 reaches ARI 0.969 / 0.967 / 0.971 on
seeds 0-2 and the old rule picks k=7 / 5 / 5 (seed 0: k=6 is not stable, k=7 is; ARI 0.849); at
firmographic 1 it picks k=4 / 5 / 4 with ARI at k=5 0.740 / 0.735 / 0.736 (same section).
"""

import pytest
from sklearn.metrics import adjusted_rand_score

from segml.cluster import Segmenter, profile_segments, select_k, validate_segments
from segml.datasets import make_portfolio
from segml.features import build_features, make_preprocessor


def _buyers(seed):
    p = make_portfolio(4000, n_segments=5, random_state=seed)
    fs = build_features(p.transactions, p.customers, p.as_of)
    frame = fs.frame[~fs.frame["is_prospect"].astype(bool)]
    spec = fs.spec.with_weights(demographic=1, firmographic=0.5, geographic=1, psychographic=1)
    return frame, make_preprocessor(spec, frame), p.truth.reindex(frame.index)


@pytest.fixture(scope="module", params=[0, 1, 2], ids=lambda s: f"seed{s}")
def planted(request):
    seed = request.param
    frame, pre, truth = _buyers(seed)
    Z = pre.fit_transform(frame)
    return seed, frame, pre, Z, truth


@pytest.mark.slow
def test_fit_at_planted_k_recovers_segments(planted):
    seed, frame, pre, _, truth = planted
    seg = Segmenter(n_clusters=5, preprocessor=pre, random_state=seed).fit(frame)
    assert adjusted_rand_score(truth, seg.labels_) >= 0.93
    v = validate_segments(seg, frame, n_resamples=3, random_state=seed)
    assert v.overall["stability_ari_mean"] > 0.8
    prof = profile_segments(frame, seg.labels_)
    assert prof.names.is_unique
    # segment 0 is ordered by mean monetary, so it is the most valuable
    assert prof.table["monetary_mean"].idxmax() == 0


@pytest.mark.slow
def test_select_k_recommends_planted_k(planted):
    seed, _, _, Z, truth = planted
    # the old rule, named: the default "gap" rule answers a different question (are there
    # clear segments at all?) and is tested in test_no_structure.py
    r = select_k(Z, k_range=range(3, 9), min_segment_share=0.03, rule="largest_stable",
                 min_jaccard=0.85, progress=False, random_state=seed)
    assert r.recommended["k"] in (5, 6), r.rationale
    assert r.recommended["rule"] == "largest_stable"
    # the separation criteria prefer the coarse split, and the rationale says so
    assert r.picks["silhouette_sqeuclidean_full"]["k"] == 3
    assert "silhouette_sqeuclidean_full prefers k=3 (kmeans)" in r.rationale
    seg = Segmenter(**r.recommended["params"], random_state=seed).fit(Z)
    assert adjusted_rand_score(truth, seg.labels_) >= 0.9
    coarse = Segmenter(n_clusters=3, random_state=seed).fit(Z)
    assert adjusted_rand_score(truth, coarse.labels_) < 0.6

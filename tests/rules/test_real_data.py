"""Rule segments and clusters-vs-rules comparisons on real (CDNOW) and synthetic portfolios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from segml.rules import builtin_segmenter, compare_segmentations

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cdnow(shared_data):
    from segml.features import build_features
    from segml.io import load_cdnow

    ds = load_cdnow(shared_data / "CDNOW_master.txt")
    return build_features(ds.transactions, ds.customers, "1998-06-30")


@pytest.fixture(scope="module")
def cdnow_clusters(cdnow):
    from segml.cluster import Segmenter
    from segml.features import make_preprocessor

    f = cdnow.frame
    seg = Segmenter(n_clusters=5, preprocessor=make_preprocessor(cdnow.spec, f), random_state=0)
    return pd.Series(seg.fit(f).labels_, index=f.index, name="cluster")


@pytest.fixture(scope="module")
def portfolio():
    from segml.datasets import make_portfolio
    from segml.features import build_features

    p = make_portfolio(3000, random_state=0)
    return p, build_features(p.transactions, p.customers, p.as_of)


def _check_consistent(res, a, b):
    n = res.n_compared
    assert int(res.counts.to_numpy().sum()) == n
    assert res.scores["ari"] == pytest.approx(metrics.adjusted_rand_score(a, b.astype(str)))
    assert res.counts.to_numpy().max() / n <= res.agreement <= 1
    assert res.revenue_shares.to_numpy(dtype=float).sum() == pytest.approx(1.0)


def test_cdnow_rfm_groups_partition_every_customer(cdnow):
    f = cdnow.frame
    seg = builtin_segmenter("rfm_groups", overlap="error")  # exclusive on real scores too
    out = seg.fit_predict(f)
    assert len(out) == 23_570
    assert seg.segment_counts_["other"] == 0
    assert seg.segment_counts_["prospects"] == 0  # every CDNOW customer bought
    # every champion has r = 5 and (f + m) / 2 >= 4
    champs = f[out == "champions"]
    assert (champs["r_score"] == 5).all()
    assert ((champs["f_score"] + champs["m_score"]) / 2 >= 4).all()


def test_cdnow_every_builtin_set_runs(cdnow):
    # the pipeline's default rule sets, on data without prospects or customer attributes
    f = cdnow.frame
    life = builtin_segmenter("lifecycle").fit_predict(f)
    assert set(life.unique()) == {"active", "lapsed"}
    roles = builtin_segmenter("portfolio_roles").fit_predict(f)
    assert (roles == "to_reach").sum() == 0
    assert roles.value_counts().sum() == 23_570


def test_cdnow_clusters_vs_rfm_and_abc(cdnow, cdnow_clusters):
    f = cdnow.frame
    rfm = builtin_segmenter("rfm_groups").fit_predict(f)
    abc = builtin_segmenter("abc").fit_predict(f)
    vs_rfm = compare_segmentations(cdnow_clusters, rfm, f, names=("cluster", "rfm_groups"))
    vs_abc = compare_segmentations(cdnow_clusters, abc, f, names=("cluster", "abc"))
    _check_consistent(vs_rfm, cdnow_clusters, rfm)
    _check_consistent(vs_abc, cdnow_clusters, abc)
    # ABC as a rule segmentation: A is the top 20% of customers and holds most revenue
    assert vs_abc.profiles.loc[("abc", "A"), "share"] == pytest.approx(0.2, abs=0.01)
    assert vs_abc.profiles.loc[("abc", "A"), "revenue_share"] > 0.5
    # clusters and rules are related but not the same partition
    for res in (vs_rfm, vs_abc):
        assert 0.1 < res.scores["ari"] < 0.9
        assert "What cluster shows that" in res.summary()
    # the cluster with the most revenue is dominated by A-class customers
    top = vs_abc.profiles.loc["cluster"]["revenue_share"].astype(float).idxmax()
    assert vs_abc.row_shares.loc[top, "A"] > 0.5


def test_portfolio_roles_and_lifecycle_on_synthetic(portfolio):
    p, fs = portfolio
    f = fs.frame
    roles = builtin_segmenter("portfolio_roles").fit_predict(f)
    life_seg = builtin_segmenter("lifecycle")
    life = life_seg.fit_predict(f)
    prospects = f["is_prospect"].to_numpy(dtype=bool)
    interest = f["showed_interest"].fillna(False).to_numpy(dtype=bool)
    np.testing.assert_array_equal((roles == "to_reach").to_numpy(), prospects)
    np.testing.assert_array_equal((life == "potential").to_numpy(), prospects & interest)
    no_interest = prospects & ~interest
    np.testing.assert_array_equal(life.isin(["probable", "cold"]).to_numpy(), no_interest)
    assert life.isin(["active", "lapsed"]).to_numpy().sum() == (~prospects).sum()
    # the look-alike reference is the A class, and the A class scores high against itself
    scores = life_seg.lookalike_.score_samples(f)
    a_class = (f["abc_class"] == "A").to_numpy()
    assert life_seg.lookalike_.n_reference_ == int(a_class.sum())
    assert scores[a_class].mean() > scores[no_interest].mean()


def test_portfolio_clusters_vs_rules(portfolio):
    from segml.cluster import Segmenter
    from segml.features import make_preprocessor

    p, fs = portfolio
    f = fs.frame
    seg = Segmenter(n_clusters=5, preprocessor=make_preprocessor(fs.spec, f), random_state=0)
    cl = pd.Series(seg.fit(f).labels_, index=f.index)
    for name in ("rfm_groups", "abc"):
        lab = builtin_segmenter(name).fit_predict(f)
        res = compare_segmentations(cl, lab, f, names=("cluster", name))
        _check_consistent(res, cl, lab)
    truth = p.truth.reindex(f.index)
    vs_truth = compare_segmentations(truth, cl, names=("planted", "cluster"))
    assert vs_truth.scores["ari"] > 0.3  # clusters recover part of the planted structure

"""The backtest finds what segml's synthetic portfolio plants (segml._planted_segments).

``lapsed`` customers stop buying partway (churn = 1), ``new_growing`` ones buy more and more
often: the cluster segment holding the lapsed has the lowest purchase-again rate, and between
two cutoffs the growers move up the ABC classes more than any other planted segment, never
down.
"""

import pandas as pd
import pytest
from backtest_data import VALUE_SPEC

from segml.backtest import ClusterModel, backtest
from segml.datasets import make_portfolio


@pytest.fixture(scope="module")
def planted():
    pf = make_portfolio(800, n_segments=5, random_state=0)
    clusters = ClusterModel(k=5, n_init=3, spec=VALUE_SPEC)
    res = backtest(pf.transactions, pf.customers, cutoffs=["2024-06-30", "2024-09-30"],
                   horizon="3M", segmenters={"clusters": clusters, "abc": "abc"}, n_boot=0,
                   random_state=0)
    return pf, res


def test_lapsed_segment_has_the_lowest_purchase_again_rate(planted):
    pf, res = planted
    for c in res.cutoffs:
        lab = res.assignments["clusters"][c].dropna()
        majority = pd.crosstab(lab, pf.truth.loc[lab.index]).idxmax(axis=1)
        seg = res.segments[(res.segments["cutoff"] == c) & (res.segments["segmenter"] ==
                                                            "clusters")].set_index("segment")
        lapsed = majority.index[majority == "lapsed"]
        assert len(lapsed) == 1
        assert seg["bought_again_rate"].idxmin() == lapsed[0]
        assert seg.loc[lapsed[0], "bought_again_rate"] < 0.1 < seg["bought_again_rate"].drop(
            lapsed[0]).min()


def test_growers_move_up(planted):
    pf, res = planted
    m = res.assignments["abc"].dropna()  # A < B < C as text: a move to a smaller letter is up
    truth = pf.truth.loc[m.index]
    up = (m.iloc[:, 1] < m.iloc[:, 0]).groupby(truth).mean()
    down = (m.iloc[:, 1] > m.iloc[:, 0]).groupby(truth)
    assert up.idxmax() == "new_growing"
    assert up["new_growing"] > 2 * up.drop("new_growing").max()
    assert down.sum()["new_growing"] == 0
    grow = res.migration("abc", 0).loc[:, :]  # the matrix the report shows agrees
    assert int(grow.to_numpy().sum()) == len(m)

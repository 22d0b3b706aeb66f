"""segml.backtest.plot: each plot draws exactly the result's numbers, on the axes it is given."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from segml.backtest import backtest
from segml.backtest.plot import (
    plot_migration,
    plot_segment_rates,
    plot_stability,
    plot_validity,
    plot_validity_over_time,
)
from segml.errors import ConfigError


@pytest.fixture(scope="module")
def res(tx):
    return backtest(tx, cutoffs=["2023-12-31", "2024-03-31"], horizon="3M",
                    segmenters=["abc"], n_boot=5)


def _ax():
    return Figure().add_subplot()


def test_validity_points_are_the_overall_values(res):
    ax = plot_validity(res, "eta2_revenue", ax=_ax())
    want = res.overall[res.overall["metric"] == "eta2_revenue"].iloc[::-1]
    pts = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(pts[:, 0], want["value"], rtol=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == want["name"].tolist()


def test_validity_over_time_and_stability_lines(res):
    ax = plot_validity_over_time(res, "auc_bought_again", ax=_ax())
    assert [ln.get_label() for ln in ax.get_lines()] == ["abc", "none", "recency_deciles"]
    ax = plot_stability(res, "ari", ax=_ax())
    abc = res.stability[res.stability["segmenter"] == "abc"]["ari"].to_numpy()
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), abc, rtol=1e-12)
    k = res.n_segments.loc["abc"]
    want = f"abc (k={k.min()})" if k.min() == k.max() else f"abc (k={k.min()}-{k.max()})"
    assert ax.get_lines()[0].get_label() == want  # k next to the ARI it qualifies


def test_migration_heatmap_is_the_row_shares(res):
    ax = plot_migration(res, "abc", 0, ax=_ax())
    m = res.migration("abc", 0, normalize="index")
    np.testing.assert_allclose(ax.images[0].get_array(), np.nan_to_num(m.to_numpy(float)))
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(i) for i in m.index]


def test_segment_rates_bars(res):
    ax = plot_segment_rates(res, "abc", ax=_ax())
    seg = res.segments[(res.segments["segmenter"] == "abc")
                       & (res.segments["cutoff"] == res.cutoffs[-1])]
    np.testing.assert_allclose([p.get_height() for p in ax.patches], seg["bought_again_rate"])


def test_plot_errors(res):
    with pytest.raises(ConfigError, match=r"no metric 'lift' in this backtest"):
        plot_validity(res, "lift", ax=_ax())
    with pytest.raises(ConfigError, match=r"measure='gini' should be 'ari', 'psi'"):
        plot_stability(res, "gini", ax=_ax())
    with pytest.raises(ConfigError, match=r"no segments of 'abc' at 2020-01-01"):
        plot_segment_rates(res, "abc", pd.Timestamp("2020-01-01"), ax=_ax())

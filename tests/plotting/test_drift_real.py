"""plot_drift / plot_segment_drift on the real DriftReport of segml.monitoring."""

import numpy as np

from segml.cluster import Segmenter
from segml.datasets import make_portfolio
from segml.features import build_features, make_preprocessor
from segml.monitoring import drift_report
from segml.persistence import SegmentModel
from segml.plotting import plot_drift, plot_segment_drift


def test_drift_plots_receive_the_report_values():
    pf = make_portfolio(600, random_state=3)
    fs = build_features(pf.transactions, pf.customers, as_of="2023-12-31")
    buyers = fs.frame[~fs.frame["is_prospect"]]
    seg = Segmenter(n_clusters=3, preprocessor=make_preprocessor(fs.spec, buyers),
                    random_state=0).fit(buyers)
    model = SegmentModel.from_training(seg, buyers, feature_set=fs)
    new = build_features(pf.transactions, pf.customers, as_of="2024-12-31",
                         spec=fs.spec, state=fs.state).frame
    drift = drift_report(model, new[~new["is_prospect"]])
    ax = plot_drift(drift)
    heights = sorted(p.get_width() for p in ax.patches)
    assert np.allclose(heights, sorted(drift.features["psi"].to_numpy()))
    ax = plot_segment_drift(drift)
    bars = [p.get_height() for p in ax.patches]
    assert np.allclose(bars[:3], drift.segments.sort_values("segment_id")["train_share"])
    assert np.allclose(bars[3:], drift.segments.sort_values("segment_id")["new_share"])

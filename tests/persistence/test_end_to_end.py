"""End to end on the features layer: build -> fit -> save -> load -> score(transactions)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segml.cluster import Segmenter
from segml.datasets import make_portfolio
from segml.features import build_features, make_preprocessor
from segml.monitoring import alerts_from_transactions, drift_report
from segml.persistence import SegmentModel, load_model, save_model
from segml.scoring import score, score_features, score_one


@pytest.fixture(scope="module")
def portfolio():
    return make_portfolio(600, random_state=0)


def test_score_from_transactions_round_trip(tmp_path, portfolio):
    tx, cu, as_of = portfolio.transactions, portfolio.customers, portfolio.as_of
    fs = build_features(tx, cu, as_of)
    seg = Segmenter(n_clusters=4, preprocessor=make_preprocessor(fs.spec, fs.frame),
                    random_state=0, n_init=1).fit(fs.frame)
    model = SegmentModel.from_training(seg, fs.frame, feature_set=fs, name="e2e")
    assert model.scorer.fallbacks == []
    path = save_model(model, root=tmp_path)
    blob = b"".join(p.read_bytes() for p in path.iterdir())
    assert not any(cid.encode() in blob for cid in fs.frame.index)
    loaded = load_model(path)
    res = score(loaded, tx, cu, as_of)
    np.testing.assert_array_equal(res.frame["segment_id"].to_numpy(), seg.predict(fs.frame))
    assert res.frame["customer_id"].tolist() == fs.frame.index.tolist()
    assert "feature_report" in res.report
    # the frame the scores came from travels with them (the refresh reads drift from it)
    pd.testing.assert_frame_equal(res.features, fs.frame)
    assert score_features(loaded, fs.frame).features is None
    same = score_features(loaded, fs.frame).frame
    np.testing.assert_array_equal(same["distance"], res.frame["distance"])
    one = score_one(loaded, fs.frame.iloc[7].to_dict())
    assert one["segment_id"] == int(res.frame["segment_id"].iloc[7])
    assert drift_report(loaded, fs.frame).segment_psi == 0.0


def test_alerts_from_transactions(portfolio):
    out = alerts_from_transactions(
        portfolio.transactions, portfolio.customers, portfolio.as_of, recent_days=90
    )
    assert out.columns.tolist() == ["customer_id", "alert", "value", "threshold", "message"]
    assert set(out["alert"]) <= {"activity_drop", "payment_slip"}
    assert (out["value"] > out["threshold"]).where(out["alert"] == "activity_drop", True).all()

"""ForwardValuePredictor (the backtest protocol) and the forward columns through a saved model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segml.cluster import Segmenter
from segml.errors import ConfigError, NotFittedError
from segml.features import FeatureBuilder, FeatureSpec, make_preprocessor, redundant_columns
from segml.io import load_cdnow
from segml.model import SegmentModel
from segml.persistence import load_model, save_model
from segml.scoring import score
from segml.value import FORWARD_COLUMNS, ForwardValuePredictor, fit_forward, forward_features
from tests.value._sim import SIM, SIM_AS_OF

LATER = SIM_AS_OF + pd.Timedelta(days=30)


def test_predictor_fits_at_as_of_and_predicts_later_with_frozen_parameters():
    pred = ForwardValuePredictor(target="clv", horizon=10, margin=0.5, discount_rate=0.0)
    assert pred.fit(SIM, None, SIM_AS_OF) is pred
    state = fit_forward(SIM, SIM_AS_OF, options={"horizon": 10, "margin": 0.5,
                                                 "discount_rate": 0.0})
    assert pred.state_ == state
    out = pred.predict(SIM, None, LATER)
    cols, _ = forward_features(state, SIM, LATER)
    pd.testing.assert_series_equal(out, cols["forward_clv"].rename("clv"))
    assert out.index.name == "customer_id" and out.notna().all()
    spend = ForwardValuePredictor(target="spend", horizon=10).fit(SIM, None, SIM_AS_OF)
    np.testing.assert_allclose(spend.predict(SIM, None, LATER),
                               cols["expected_purchases"] * cols["expected_spend"], rtol=1e-12)
    # purchases need no amount; a customers table sets the index (NaN, counted, when unmodelled)
    buy = ForwardValuePredictor(target="purchases", horizon=10)
    buy.fit(SIM.drop(columns="amount"), None, SIM_AS_OF)
    cust = pd.DataFrame({"customer_id": ["c000", "nobody"]})
    got = buy.predict(SIM.drop(columns="amount"), cust, LATER)
    assert list(got.index) == ["c000", "nobody"] and got.attrs["not_modelled"] == 1
    assert got["c000"] == pytest.approx(cols.loc["c000", "expected_purchases"], rel=1e-12)
    assert np.isnan(got["nobody"])


def test_predictor_errors():
    with pytest.raises(ConfigError, match=r"target='value' is not one of.*Fix"):
        ForwardValuePredictor(target="value").fit(SIM, None, SIM_AS_OF)
    with pytest.raises(NotFittedError, match=r"not fitted yet.*Fix"):
        ForwardValuePredictor().predict(SIM, None, SIM_AS_OF)
    with pytest.raises(ConfigError, match=r"horizon=0 must be"):
        ForwardValuePredictor(horizon=0).fit(SIM, None, SIM_AS_OF)


@pytest.mark.filterwarnings("ignore::segml.errors.DataQualityWarning")
def test_saved_model_scores_with_forward_columns(shared_data, tmp_path):
    """A model whose spec has the family: the compiled scorer equals the pipeline, the scores
    carry the forward columns computed with the frozen parameters, and save/load keeps them."""
    ds = load_cdnow(shared_data / "CDNOW_sample.txt", sample=True)
    tx, cu = ds.transactions, ds.customers
    spec = FeatureSpec.default(["recency_days", "frequency", "monetary"]).with_forward(
        ["p_alive", "expected_purchases", "forward_clv"], horizon=39)
    fs = FeatureBuilder(spec).fit_transform(tx, cu, as_of="1997-09-30")
    buyers = fs.frame[~fs.frame["is_prospect"]]
    seg = Segmenter(n_clusters=3, preprocessor=make_preprocessor(fs.spec, buyers),
                    order_by="monetary", random_state=0).fit(buyers)
    model = SegmentModel.from_training(seg, buyers, name="forward", feature_set=fs,
                                       as_of=fs.as_of)
    # expected_purchases and forward_clv rank customers like recency_days here (Spearman
    # -0.96, -0.91): left out of the distance as redundant (issue 15), still in the scores
    redundant = {r.column for r in redundant_columns(fs.spec, buyers)}
    assert redundant == {"expected_purchases", "forward_clv"}
    assert "p_alive" in set(model.columns) and not redundant & set(model.columns)
    later = FeatureBuilder.from_state(fs.state, spec).transform(tx, cu, as_of="1998-06-30")
    frame = later.frame[~later.frame["is_prospect"]]
    np.testing.assert_array_equal(model.scorer.assign(model.scorer.matrix(frame)).labels,
                                  model.predict(frame))
    loaded = load_model(save_model(model, root=tmp_path))
    assert loaded.feature_state.forward == fs.state.forward
    skops = load_model(save_model(model, root=tmp_path / "skops", format="skops"))
    assert skops.feature_state.forward == fs.state.forward
    res = score(loaded, tx, cu, "1998-06-30")
    out = res.frame.set_index("customer_id")
    assert [c for c in FORWARD_COLUMNS if c in out] == ["p_alive", "expected_purchases",
                                                        "forward_clv"]
    pd.testing.assert_series_equal(out["forward_clv"], later.frame["forward_clv"],
                                   check_names=False)
    np.testing.assert_array_equal(out.loc[frame.index, "segment_id"],
                                  model.predict(frame))

"""No clear segments -> value tiers: the fallback a run takes, labelled for what it is (issue 15).

The data are the synthetic portfolio's null (``n_segments=1``: one population), on which the
gap rule answers "no clear segments" (``tests/cluster/test_no_structure.py``).
"""

import numpy as np
import pytest

from segml import segment
from segml.config import validate_config
from segml.errors import ConfigError, NoClearSegmentsError
from segml.workflow import demo_data

# value tiers are no longer the default fallback (the RFM groups are): asked for explicitly
ARGS = dict(as_of="2024-12-31", algorithms=["kmeans"], k_range=(1, 4), n_stability=3,
            rule_sets=["rfm_groups"], no_segments="value_tiers")


@pytest.fixture(scope="module")
def null_data():
    return demo_data(800, n_segments=1, random_state=3)


@pytest.fixture(scope="module")
def tiers(null_data):
    tx, cust = null_data
    return segment(tx, cust, **ARGS)


def test_no_clear_segments_gives_value_tiers_labelled_as_such(tiers):
    sel = tiers.selection
    assert sel.verdict == "no clear segments"
    assert sel.recommended["k"] == 1
    assert sel.settings["partition"] == "value_tiers"
    assert "value tiers" in sel.settings["verdict_note"]
    assert "not clusters" in sel.settings["verdict_note"]
    assert sorted(tiers.labels.unique()) == [0, 1, 2]


def test_value_tiers_are_contiguous_ranges_of_monetary_top_first(tiers):
    m = tiers.run.features.frame.loc[tiers.labels.index, "monetary"]
    lo = m.groupby(tiers.labels).min()
    hi = m.groupby(tiers.labels).max()
    # tier 0 is the most valuable and no customer of a lower tier spent more than one above
    assert lo[0] >= hi[1] and lo[1] >= hi[2]
    assert m.groupby(tiers.labels).mean().is_monotonic_decreasing


def test_value_tier_model_scores_its_training_customers_back(tiers):
    frame = tiers.run.features.frame.loc[tiers.labels.index]
    np.testing.assert_array_equal(tiers.model.predict(frame), tiers.labels.to_numpy())


def test_no_segments_stop_raises_with_the_fix(null_data):
    tx, cust = null_data
    with pytest.raises(NoClearSegmentsError, match=r"no clear segments.*Fix: .*no_segments"):
        segment(tx, cust, **{**ARGS, "no_segments": "stop"})


def test_forced_k_is_not_replaced_by_tiers(null_data):
    tx, cust = null_data
    forced = segment(tx, cust, **{**ARGS, "k_range": (4, 4)})
    assert "partition" not in forced.selection.settings
    assert forced.labels.nunique() == 4


@pytest.mark.parametrize(("key", "value", "match"), [
    ("no_segments", "guess",
     r"no_segments='guess' should be 'value_tiers', 'rfm_groups' or 'stop'"),
    ("value_tiers", 1, r"value_tiers=1 should be a whole number from 2 to 10"),
    ("value_tiers", 11, r"value_tiers=11 should be"),
])
def test_fallback_settings_are_checked(key, value, match):
    with pytest.raises(ConfigError, match=match):
        validate_config({"segmentation": {key: value}})


def test_backtest_cluster_model_falls_back_like_segml_run(tiers):
    from segml.backtest import ClusterModel

    frame = tiers.run.features.frame.loc[tiers.labels.index]
    seg = {"algorithms": ["kmeans"], "k_max": 4, "n_stability": 3, "no_segments": "value_tiers"}
    model = ClusterModel(segmentation=seg).fit(frame)
    assert model.partition_ == "value_tiers" and model.k_ == 3
    np.testing.assert_array_equal(model.predict(frame).astype(int), tiers.labels.to_numpy())
    # "stop" cannot stop a backtest: k = 2.. is swept instead, and the model says clusters
    swept = ClusterModel(segmentation={**seg, "no_segments": "stop"}).fit(frame)
    assert swept.partition_ == "clusters" and 2 <= swept.k_ <= 4


def test_value_tiers_without_a_value_column_is_refused():
    import pandas as pd

    from segml.cluster.tiers import value_tiers

    with pytest.raises(ValueError, match=r"value tiers need one of monetary, clv.*Fix: force"):
        value_tiers(pd.DataFrame({"age": [30.0, 40.0, 50.0]}))


def test_degenerate_rule_in_scoring_follows_how_the_model_was_fitted(tiers):
    """A $0 buyer is set aside (-2) only by a model fitted without such buyers."""
    from segml.cluster.tiers import value_tiers
    from segml.model import SegmentModel
    from segml.scoring import score_features

    frame = tiers.run.features.frame.loc[tiers.labels.index].copy()
    zero = frame.index[0]
    frame.loc[zero, "monetary"] = 0.0
    got = score_features(tiers.model, frame).frame.set_index("customer_id")
    assert got.loc[zero, "segment_id"] == -2  # fitted on buyers with monetary > 0
    with_zero = SegmentModel.from_training(value_tiers(frame), frame, name="with-zero")
    again = score_features(with_zero, frame).frame.set_index("customer_id")
    assert again.loc[zero, "segment_id"] >= 0  # this model clustered the $0 buyer

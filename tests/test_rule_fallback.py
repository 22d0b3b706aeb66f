"""No clear segments -> the RFM groups (rules), saved and scored with the training edges.

Issue 15's fallback ``[segmentation] no_segments = "rfm_groups"``: the groups of the
``rfm_groups`` rule set become the run's segments (:class:`RuleGroupSegmenter`), labelled as
rule groups, saved as a model of kind "rules" and scored on new customers with the quintile
edges learned on the training customers.
"""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml import segment
from segml.cluster.fallback import RuleGroupSegmenter
from segml.config import validate_config
from segml.errors import ConfigError
from segml.features import RFMScorer
from segml.model import SegmentModel
from segml.persistence import MODEL_FILE, load_model, save_model
from segml.rules import builtin_segmenter
from segml.scoring import score_features
from segml.workflow import demo_data

# Ten buyers, each column a permutation of 1..10: the quintile cut points are 2.8, 4.6, 6.4
# and 8.2 (numpy's linear interpolation), so values 1-2 score 1, 3-4 score 2, ... 9-10 score 5
# (recency the other way round: 1-2 score 5).
IDS = [f"SECRET-{c}" for c in "abcdefghij"]
TRAIN = pd.DataFrame({
    "recency_days": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "frequency": [10, 1, 9, 2, 5, 3, 8, 4, 6, 7],
    "monetary": [10.0, 1, 9, 2, 5, 3, 8, 4, 6, 7],
}, index=pd.Index(IDS, name="customer_id"))
# (r, fm) -> group by hand: a (5, 5) champions, b (5, 1) new, c (4, 5) loyal, d (4, 1)
# promising, e (3, 3) need_attention, f (3, 2) about_to_sleep, g (2, 4) at_risk,
# h (2, 2) hibernating, i (1, 3) at_risk, j (1, 4) at_risk
EXPECTED = ["champions", "new", "loyal", "promising", "need_attention", "about_to_sleep",
            "at_risk", "hibernating", "at_risk", "at_risk"]
# present groups in the rule set's order (potential_loyalists, cannot_lose, lost: none)
GROUPS = ["champions", "loyal", "new", "promising", "need_attention", "about_to_sleep",
          "at_risk", "hibernating"]
# the rule set's other groups, no training customer: ids 8-12 after the segments
EMPTY = ["potential_loyalists", "cannot_lose", "lost", "prospects", "other"]


@pytest.fixture()
def fitted():
    scorer = RFMScorer().fit(TRAIN)
    return RuleGroupSegmenter("rfm_groups", rfm_scorer=scorer).fit(TRAIN)


def test_exact_groups_on_a_hand_computed_frame(fitted):
    assert fitted.segment_names_ == GROUPS
    assert fitted.n_clusters_ == 8
    got = [fitted.segment_names_[i] for i in fitted.labels_]
    assert got == EXPECTED
    np.testing.assert_array_equal(fitted.predict(TRAIN), fitted.labels_)
    np.testing.assert_array_equal(fitted.cluster_centers_, np.eye(13)[:8])
    assert fitted.group_names_ == GROUPS + EMPTY


def test_new_customer_is_scored_with_the_training_edges(fitted):
    # recency 2.9 is above one cut point (2.8): r = 4; frequency 10.5 and monetary 9 are above
    # all four: f = m = 5 -> loyal. On this batch's own edges it would be the best of three
    # (r = 5) -> champions.
    batch = pd.DataFrame({"recency_days": [2.9, 50.0, 60.0], "frequency": [10, 1, 1],
                          "monetary": [9.0, 1.0, 1.0]}, index=["x", "y", "z"])
    ids = fitted.predict(batch)
    assert fitted.segment_names_[ids[0]] == "loyal"
    own = RuleGroupSegmenter("rfm_groups", rfm_scorer=RFMScorer()).fit(batch)
    assert own.segment_names_[own.labels_[0]] == "champions"  # what re-computed edges give


def test_the_frames_own_scores_are_read_without_a_scorer():
    frame = TRAIN.copy()
    frame[["r_score", "f_score", "m_score"]] = RFMScorer().fit_transform(TRAIN)
    seg = RuleGroupSegmenter("rfm_groups").fit(frame)
    assert [seg.segment_names_[i] for i in seg.labels_] == EXPECTED
    assert list(seg.feature_names_in_) == ["r_score", "f_score", "m_score"]


def test_save_load_score_gives_the_training_groups_and_no_ids(tmp_path, fitted):
    model = SegmentModel.from_training(fitted, TRAIN, name="rfm-fallback")
    assert model.kind == "rules"
    assert model.segment_names == dict(enumerate(GROUPS + EMPTY))
    assert model.n_segments == 13
    assert [s["train_share"] for s in model.to_manifest()["segments"][8:]] == [0.0] * 5
    path = save_model(model, root=tmp_path)
    loaded = load_model(path)
    assert loaded.kind == "rules" and loaded.manifest["kind"] == "rules"
    assert loaded.manifest["algorithm"] == "rules:rfm_groups"
    got = score_features(loaded, TRAIN).frame.set_index("customer_id")
    assert got.loc[IDS, "segment_name"].tolist() == EXPECTED
    assert not got["fits_no_segment"].any()
    np.testing.assert_allclose(got["distance"].to_numpy(dtype=float), 0.0, atol=1e-12)
    new = pd.DataFrame({"customer_id": ["x"], "recency_days": [2.9], "frequency": [10],
                        "monetary": [9.0]}).set_index("customer_id")
    one = score_features(loaded, new).frame
    assert one["segment_name"].tolist() == ["loyal"]
    from segml.scoring import score_one

    rec = score_one(loaded, {"recency_days": 2.9, "frequency": 10, "monetary": 9.0})
    assert rec["segment_name"] == "loyal" and not rec["fits_no_segment"]
    assert loaded.scorer.fallbacks == []  # scored through its own transform by design
    blob = b"".join(p.read_bytes() for p in path.iterdir())
    blob += pickle.dumps(joblib.load(path / MODEL_FILE))
    assert b"SECRET-" not in blob


def test_a_model_file_without_kind_loads_as_clusters(tmp_path):
    """Files written before the field existed hold clusters; they still load."""
    import hashlib
    import json

    from sklearn.cluster import KMeans

    from segml.persistence import MANIFEST, MANIFEST_HASH

    km = KMeans(2, n_init=1, random_state=0).fit(TRAIN)
    path = save_model(SegmentModel.from_training(km, TRAIN, name="old"), root=tmp_path)
    m = json.loads((path / MANIFEST).read_bytes())
    assert m.pop("kind") == "clusters"
    data = (json.dumps(m, indent=2, sort_keys=True) + "\n").encode()
    (path / MANIFEST).write_bytes(data)
    (path / MANIFEST_HASH).write_text(
        "sha256:" + hashlib.sha256(data).hexdigest() + "  manifest.json\n")
    old = load_model(path)
    assert old.kind == "clusters"
    np.testing.assert_array_equal(old.predict(TRAIN), km.predict(TRAIN[km.feature_names_in_]))


def test_unknown_kind_is_refused_with_the_fix(fitted):
    with pytest.raises(ConfigError, match=r"kind='tiers' should be one of clusters, value_tiers, "
                       r"rules\. Fix: "):
        SegmentModel.from_training(fitted, TRAIN, kind="tiers")


def test_a_customer_of_a_group_absent_in_training_gets_that_group(tmp_path, fitted):
    """No training customer is a potential loyalist; a new one is scored as one, not as 0."""
    # r = 5 (recency 1), f = 3 (5.0), m = 3 (5.5): fm = 3 -> potential_loyalists (id 8)
    assert list(fitted.predict(pd.DataFrame(
        {"recency_days": [1.0], "frequency": [5], "monetary": [5.5]}))) == [8]
    model = load_model(save_model(SegmentModel.from_training(fitted, TRAIN, name="rfm-absent"),
                                  root=tmp_path))
    new = pd.DataFrame({"customer_id": ["p", "a"], "recency_days": [1.0, 1.0],
                        "frequency": [5, 10], "monetary": [5.5, 10.0]}).set_index("customer_id")
    got = score_features(model, new).frame.set_index("customer_id")
    assert got["segment_name"].tolist() == ["potential_loyalists", "champions"]
    assert got["segment_id"].tolist() == [8, 0]
    assert not got["fits_no_segment"].any()
    np.testing.assert_allclose(got["distance"].to_numpy(dtype=float), 0.0, atol=1e-12)
    from segml.scoring import score_one

    rec = score_one(model, {"recency_days": 1.0, "frequency": 5, "monetary": 5.5})
    assert (rec["segment_id"], rec["segment_name"]) == (8, "potential_loyalists")
    assert not rec["fits_no_segment"]


def test_one_group_is_refused_with_the_fix():
    frame = TRAIN.iloc[:1]
    with pytest.raises(ConfigError, match=r"fall in 1 group \(champions\).*Fix: .*no_segments"):
        RuleGroupSegmenter("rfm_groups", rfm_scorer=RFMScorer().fit(TRAIN)).fit(frame)


def test_missing_rfm_inputs_are_refused_with_the_fix(fitted):
    from segml.errors import SchemaError

    with pytest.raises(SchemaError, match=r"lacks frequency, monetary.*Fix: "):
        fitted.predict(TRAIN[["recency_days"]])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 30), st.integers(1, 5000)),
                min_size=12, max_size=60))
def test_groups_are_the_rule_sets_groups(rows):
    """Invariant: the segments are exactly the rfm_groups rule set on the frozen scores."""
    frame = pd.DataFrame(rows, columns=["recency_days", "frequency", "monetary"]).astype(float)
    scorer = RFMScorer().fit(frame)
    scored = frame.copy()
    scored[["r_score", "f_score", "m_score"]] = scorer.transform(frame)
    truth = builtin_segmenter("rfm_groups").fit(scored).predict(scored).astype(str)
    if truth.nunique() < 2:
        return
    seg = RuleGroupSegmenter("rfm_groups", rfm_scorer=scorer).fit(frame)
    got = np.asarray(seg.segment_names_, dtype=object)[seg.labels_]
    assert list(got) == truth.tolist()
    np.testing.assert_array_equal(seg.predict(frame), seg.labels_)


def test_no_segments_rfm_groups_is_a_valid_setting():
    cfg = validate_config({"segmentation": {"no_segments": "rfm_groups"}})
    assert cfg["segmentation"]["no_segments"] == "rfm_groups"


# ------------------------------------------------------------------ through segment()
ARGS = dict(as_of="2024-12-31", algorithms=["kmeans"], k_range=(1, 4), n_stability=3,
            rule_sets=["rfm_groups"])


@pytest.fixture(scope="module")
def groups():
    tx, cust = demo_data(800, n_segments=1, random_state=3)
    return segment(tx, cust, **ARGS, no_segments="rfm_groups")


def test_no_clear_segments_gives_the_rfm_groups_labelled_as_such(groups):
    sel = groups.selection
    assert sel.verdict == "no clear segments"
    assert sel.settings["partition"] == "rfm_groups"
    note = sel.settings["verdict_note"]
    assert "no clear segments, so the" in note and "RFM groups (rules" in note
    assert "not clusters" in note
    # names are the rule set's, and they are the run's own rfm_groups rule segments
    named = groups.labels.map(dict(groups.run.profiles.names))
    rules = groups.run.rule_labels["rfm_groups"].loc[groups.labels.index].astype(str)
    assert (named.to_numpy() == rules.to_numpy()).all()
    assert groups.model.kind == "rules"
    # the model names the run's segments as the run does, then the empty groups of the set
    k = groups.run.segmenter.n_clusters_
    assert groups.model.segment_names == {
        **dict(groups.run.profiles.names.items()),
        **dict(enumerate(groups.run.segmenter.group_names_[k:], start=k))}
    assert sorted(groups.model.segment_names.values()) == sorted(
        builtin_segmenter("rfm_groups").fit(groups.run.features.frame).segments_)


def test_a_small_rule_group_is_reported_as_kept_not_as_a_k_choice(groups):
    floor = groups.run.features.report["size_floor"]
    assert floor["met"] is False and floor["smallest_share"] == pytest.approx(0.0185, abs=1e-4)
    assert floor["note"].endswith("under the size floor segmentation.min_segment_share=3%; the "
                                  "RFM groups are rules: a small group is kept as it is, not "
                                  "merged")


def test_rfm_group_model_scores_its_training_customers_back(groups, tmp_path):
    frame = groups.run.features.frame.loc[groups.labels.index]
    path = save_model(groups.model, root=tmp_path)
    loaded = load_model(path)
    got = score_features(loaded, frame).frame
    np.testing.assert_array_equal(got["segment_id"].to_numpy(), groups.labels.to_numpy())
    # the frame's own score columns are not what the model reads: the training edges are
    scrambled = frame.assign(r_score=1, f_score=1, m_score=1)
    np.testing.assert_array_equal(loaded.predict(scrambled), groups.labels.to_numpy())


def test_backtest_cluster_model_falls_back_to_the_rfm_groups(groups):
    from segml.backtest import ClusterModel

    frame = groups.run.features.frame.loc[groups.labels.index]
    seg = {"algorithms": ["kmeans"], "k_max": 4, "n_stability": 3,
           "no_segments": "rfm_groups"}
    model = ClusterModel(segmentation=seg).fit(frame)
    assert model.partition_ == "rfm_groups"
    names = np.asarray(model.segmenter_.segment_names_, dtype=object)
    got = names[model.predict(frame).astype(int).to_numpy()]
    want = builtin_segmenter("rfm_groups").fit(frame).predict(frame).astype(str)
    assert list(got) == want.tolist()

"""Segment names carry only true traits (effect size + test), are unique, show the value tier."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.cluster import NamingThresholds, name_segments, profile_segments
from segml.cluster.naming import VALUE_TIERS
from segml.errors import ConfigError

SIG, NOT_SIG = 1e-6, 0.2


def _lift(rows):
    """rows: (segment, feature, segment_mean, base_mean, z, p[, segment_median, base_q75])."""
    out = []
    for r in rows:
        s, f, m, bm, z, p, *rest = r
        med, q75 = (rest + [np.nan, np.nan])[:2]
        out.append({"segment": s, "feature": f, "segment_mean": m, "base_mean": bm, "z": z,
                    "p_value": p, "segment_median": med, "base_q75": q75})
    return pd.DataFrame(out)


def _table(n, revenue_share):
    n = np.asarray(n, dtype=float)
    share = n / n.sum()
    rs = np.asarray(revenue_share, dtype=float)
    return pd.DataFrame({"n": n.astype(int), "share": share, "revenue_share": rs,
                         "value_index": rs / share}, index=pd.Index(range(len(n)), name="segment"))


def test_hand_made_profile_exact_names_and_states():
    table = _table([200, 300, 500], [0.70, 0.10, 0.20])  # value index 3.5, 0.33, 0.4
    table["one_off_share"] = [0.05, 0.9, 0.3]  # base 43%: segment 1 at lift 2.09
    lift = _lift([
        (0, "monetary", 700, 200, 1.8, SIG), (1, "monetary", 67, 200, -0.5, SIG),
        (2, "monetary", 80, 200, -0.45, SIG),
        (0, "recency_days", 20, 150, -0.9, SIG, 15, 250),
        (1, "recency_days", 400, 150, 1.7, SIG, 390, 250),
        (2, "recency_days", 150, 150, 0.0, 0.9, 140, 250),
        (0, "frequency", 9, 3, 1.2, SIG, 8), (1, "frequency", 1.1, 3, -0.6, SIG, 1),
        (2, "frequency", 2.0, 3, -0.55, SIG, 2),
        (0, "spend_trend", 0.4, 0.0, 0.8, SIG), (1, "spend_trend", -0.9, 0.0, -1.5, SIG),
        (2, "spend_trend", -0.3, 0.0, -0.6, SIG),
    ])
    n = name_segments(table, lift, pd.DataFrame())
    assert n.names.tolist() == [
        "top-value active frequent growing buyers",
        # declining is implied by lapsed and left out of the name (still in the states)
        "low-value lapsed one-off buyers",
        "low-value occasional declining buyers",
    ]
    s = n.states
    assert s["value_tier"].tolist() == ["top-value", "low-value", "low-value"]
    assert s["recency_state"].tolist() == ["active", "lapsed", "typical"]
    assert s["trend_state"].tolist() == ["growing", "declining", "declining"]
    assert s["is_top_revenue"].tolist() == [1.0, 0.0, 0.0]
    assert n.evidence[1]["recency_state"] == (
        "recency_days mean 400 days vs 150 days overall (z=+1.70, Welch p<0.001); "
        "median 390 days, beyond 3 in 4 customers (250)"
    )
    assert n.evidence[1]["frequency_state"] == (
        "90% bought once vs 43% overall (lift 2.09, binomial p<0.001)")
    assert n.notes == []


def test_cooling_when_median_below_base_q75():
    table = _table([500, 500], [0.5, 0.5])
    lift = _lift([(0, "recency_days", 200, 150, 0.6, SIG, 180, 250),
                  (1, "recency_days", 100, 150, -0.6, SIG, 90, 250)])
    assert name_segments(table, lift, pd.DataFrame()).names.tolist() == [
        "mid-value cooling buyers", "active buyers"]


@pytest.mark.parametrize(
    ("z", "p", "named"),
    [(0.8, SIG, True), (0.8, NOT_SIG, False), (0.3, SIG, False), (-0.49, SIG, False)],
)
def test_trait_needs_effect_size_and_significance(z, p, named):
    table = _table([500, 500], [0.4, 0.6])  # segment 1 is the top-revenue one
    lift = _lift([(0, "frequency", 5.0, 3.0, z, p, 5), (1, "frequency", 3.0, 3.0, 0.0, 0.9, 3)])
    name = name_segments(table, lift, pd.DataFrame()).names[0]
    assert ("frequent" in name or "occasional" in name) is named


def test_top_revenue_segment_always_carries_its_tier():
    # 70% of customers, 76% of revenue: value index 1.09, nothing significant -> still tiered
    table = _table([700, 300], [0.76, 0.24])
    lift = _lift([(0, "monetary", 108, 100, 0.05, NOT_SIG), (1, "monetary", 80, 100, -0.1, 0.3)])
    n = name_segments(table, lift, pd.DataFrame())
    assert n.names.tolist() == ["mid-value buyers", "typical buyers"]
    assert "average" not in n.names[0]
    assert n.evidence[0]["is_top_revenue"] == "the largest revenue share: 76% of revenue"


def test_non_top_tier_only_when_revenue_difference_is_significant():
    table = _table([100, 100, 800], [0.30, 0.05, 0.65])  # value index 3, 0.5, 0.81
    lift = _lift([(0, "monetary", 300, 100, 1.0, NOT_SIG), (1, "monetary", 50, 100, -0.5, SIG),
                  (2, "monetary", 81, 100, -0.1, SIG)])
    assert name_segments(table, lift, pd.DataFrame()).names.tolist() == [
        "typical buyers", "low-value buyers", "mid-value buyers"]


def _cats(rows):
    return pd.DataFrame(rows, columns=["segment", "column", "category", "segment_share",
                                       "base_share", "lift"])


@pytest.mark.parametrize(
    ("share", "base", "named"),
    [(0.80, 0.40, True),     # 80%, lift 2
     (0.55, 0.4583, False),  # 55%, lift 1.2
     (0.55, 0.25, False),    # lift 2.2 but not a clear majority
     (0.80, 0.5714, False),  # majority but lift 1.4
     (0.60, 0.40, True)],    # exactly at both thresholds
)
def test_attribute_needs_majority_and_lift(share, base, named):
    table = _table([200, 200], [0.6, 0.4])
    top = _cats([(0, "region", "Lazio", share, base, share / base)])
    name = name_segments(table, _lift([]), top).names[0]
    assert name.endswith(", Lazio") is named


def test_attribute_thresholds_on_profile_segments():
    """A real frame: 55% Lazio at lift 1.2 is not a trait; 80% at lift 2 is."""
    def frame(lazio_in_0, lazio_in_1):
        region = (["Lazio"] * lazio_in_0 + ["Nord"] * (100 - lazio_in_0)
                  + ["Lazio"] * lazio_in_1 + ["Nord"] * (100 - lazio_in_1))
        return pd.DataFrame({"region": region, "x": np.tile([0.0, 1.0], 100)})

    labels = [0] * 100 + [1] * 100
    weak = profile_segments(frame(55, 37), labels)  # base 46%: lift 1.196
    assert all("Lazio" not in nm for nm in weak.names)
    strong = profile_segments(frame(80, 0), labels)  # base 40%: lift 2
    assert strong.names[0] == "typical customers, Lazio"
    assert strong.names[1] == "typical customers, Nord"


def test_unique_by_next_true_trait_never_a_number():
    table = _table([400, 400, 200], [0.15, 0.15, 0.70])
    base = [(s, "recency_days", 400, 150, 1.5, SIG, 380, 250) for s in (0, 1)]
    lift = _lift(base + [
        (0, "avg_order_value", 30, 60, -0.9, SIG), (1, "avg_order_value", 95, 60, 0.7, SIG),
        (0, "tenure_days", 300, 280, 0.6, SIG), (1, "tenure_days", 290, 280, 0.1, NOT_SIG),
        (2, "recency_days", 10, 150, -1.0, SIG, 8, 250),
    ])
    n = name_segments(table, lift, pd.DataFrame())
    assert n.names.tolist() == [
        "low-value lapsed buyers, small baskets", "low-value lapsed buyers, big baskets",
        "top-value active buyers"]
    assert not any("#" in nm for nm in n.names)


def test_last_resort_suffix_is_noted():
    table = _table([500, 500], [0.5, 0.5])
    n = name_segments(table, _lift([]), pd.DataFrame())
    # a tie in revenue: the first segment is the top one and shows its tier, which separates
    assert n.names.tolist() == ["mid-value customers", "typical customers"]
    assert n.notes == []
    table = pd.DataFrame({"n": [500, 500]}, index=pd.Index([0, 1], name="segment"))
    n = name_segments(table, _lift([]), pd.DataFrame())
    assert n.names.tolist() == ["typical customers (segment 0)", "typical customers (segment 1)"]
    assert n.notes == [
        "segment 0: no true trait left to tell 'typical customers' apart from another segment; "
        "named with its segment number",
        "segment 1: no true trait left to tell 'typical customers' apart from another segment; "
        "named with its segment number",
    ]


def test_prospects_are_named_prospects():
    table = _table([100, 100], [1.0, 0.0])
    table["prospect_share"] = [0.0, 1.0]
    lift = _lift([(0, "recency_days", 20, 20, 0, 1.0, 20, 40)])
    assert name_segments(table, lift, pd.DataFrame()).names[1] == "prospects"


@pytest.mark.parametrize(
    "kwargs", [{"min_effect": 0}, {"alpha": 1.5}, {"min_majority": 0.4}, {"min_lift": 1.0},
               {"lapsed_effect": 0.1}],
)
def test_threshold_errors(kwargs):
    with pytest.raises(ConfigError, match=r"naming thresholds \['\w+'\] out of range.*Fix:"):
        NamingThresholds(**kwargs)


def test_stricter_thresholds_name_less():
    rng = np.random.default_rng(1)
    f = pd.DataFrame({"recency_days": np.r_[rng.uniform(0, 60, 80), rng.uniform(100, 160, 80)],
                      "monetary": rng.gamma(2, 100, 160)})
    lab = [0] * 80 + [1] * 80
    assert "active" in profile_segments(f, lab).names[0]
    strict = profile_segments(f, lab, naming=NamingThresholds(min_effect=3.0, lapsed_effect=3))
    assert "active" not in strict.names[0]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 8), n=st.integers(40, 300))
def test_names_unique_deterministic_and_top_revenue_tiered(seed, k, n):
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({
        "recency_days": rng.uniform(0, 400, n), "frequency": rng.integers(1, 12, n),
        "monetary": rng.gamma(2, 100, n), "spend_trend": rng.uniform(-1, 1, n),
        "avg_order_value": rng.gamma(3, 20, n), "region": rng.choice(["N", "S", "C"], n),
    })
    # segments that differ for real on some seeds: shift recency by label
    labels = rng.integers(0, k, n)
    f["recency_days"] += labels * rng.uniform(0, 150)
    a = profile_segments(f, labels)
    b = profile_segments(f.copy(), labels.copy())
    assert a.names.is_unique
    assert a.names.tolist() == b.names.tolist()
    assert not any("#" in nm or "average" in nm for nm in a.names)
    top = a.table["revenue_share"].idxmax()
    assert a.names[top].startswith(a.states.at[top, "value_tier"])
    # the suffix is used only with a note
    suffixed = [nm for nm in a.names if "(segment " in nm]
    assert len(suffixed) == len(a.naming_notes)


def _full_lift(rows):
    """rows: (segment, feature, mean, base_mean, z, p, median, q75, base_median, std, n)."""
    cols = ["segment", "feature", "segment_mean", "base_mean", "z", "p_value",
            "segment_median", "base_q75", "base_median", "segment_std", "n"]
    return pd.DataFrame(rows, columns=cols)


def test_lapsed_after_three_purchase_cycles_even_below_base_q75():
    table = _table([500, 500], [0.5, 0.5])
    lift = _full_lift([
        (0, "recency_days", 480, 360, 0.7, SIG, 490, 505, 470, 20, 500),
        (1, "recency_days", 240, 360, -0.7, SIG, 230, 505, 470, 90, 500),
        (0, "interpurchase_mean_days", 80, 82, 0.0, 0.9, 80, 120, 82, 30, 100),
        (1, "interpurchase_mean_days", 84, 82, 0.0, 0.9, 84, 120, 82, 30, 400),
    ])
    n = name_segments(table, lift, pd.DataFrame())
    assert n.names.tolist() == ["mid-value lapsed buyers", "active buyers"]
    assert n.evidence[0]["recency_state"].endswith(
        "median 490 days, over 3x the typical gap between orders (82 days)")


def test_extra_trait_only_when_measured_on_most_of_the_segment():
    table = _table([400, 400, 200], [0.2, 0.2, 0.6])
    lift = _full_lift([
        (0, "recency_days", 400, 150, 1.5, SIG, 390, 250, 140, 50, 400),
        (1, "recency_days", 400, 150, 1.5, SIG, 390, 250, 140, 50, 400),
        # gaps between orders exist for 40 of the 400 one-off-ish customers of segment 0
        (0, "interpurchase_mean_days", 10, 60, -1.0, SIG, 9, 90, 50, 5, 40),
        (0, "avg_order_value", 20, 60, -0.8, SIG, 18, 90, 50, 10, 400),
        (1, "avg_order_value", 90, 60, 0.8, SIG, 95, 90, 50, 10, 400),
    ])
    names = name_segments(table, lift, pd.DataFrame()).names.tolist()
    assert names[:2] == ["low-value lapsed buyers, small baskets",
                         "low-value lapsed buyers, big baskets"]


def test_look_alikes_are_ranked_against_each_other():
    """No trait against the base separates 0 and 1; their spend differs (Welch), so it names."""
    table = _table([3000, 70, 1000], [0.04, 0.0, 0.96])
    lift = _full_lift([
        (0, "monetary", 14, 100, -0.4, SIG, 12, 110, 45, 8, 3000),
        (1, "monetary", 0.5, 100, -0.45, SIG, 0, 110, 45, 1, 70),
        (2, "monetary", 380, 100, 1.2, SIG, 300, 110, 45, 200, 1000),
        (0, "tenure_days", 500, 500, 0.0, 0.8, 500, 520, 500, 20, 3000),
        (1, "tenure_days", 501, 500, 0.0, 0.8, 501, 520, 500, 20, 70),
    ])
    n = name_segments(table, lift, pd.DataFrame())
    assert n.names.tolist() == ["low-value buyers, higher spend", "low-value buyers, lower spend",
                                "top-value buyers"]
    assert n.notes == []
    trait = n.traits[1][-1]
    assert trait.kind == "compare" and trait.feature == "monetary"


#: The sign of z each word claims (a numeric trait against the base).
_SIGN = {"active": -1, "cooling": 1, "lapsed": 1, "frequent": 1, "occasional": -1,
         "growing": 1, "declining": -1, "late-paying": 1, "prompt-paying": -1}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 6), n=st.integers(60, 400))
def test_every_named_trait_passes_its_thresholds_on_the_raw_data(seed, k, n):
    """Recomputed from the raw frame, not read back from the profile: an attribute in a name
    holds for >= 60% of its segment with lift >= 1.5; a numeric word has |z| >= 0.5 with the
    sign it claims; the tier word is the value index's tier; the top-revenue segment's name
    starts with its tier; names are unique."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    cats = np.array(["Nord", "Centro", "Sud", "Isole"])
    lean, home = rng.uniform(0.2, 0.95, k), rng.choice(cats, k)  # each segment's own region
    region = np.where(rng.random(n) < lean[labels], home[labels], rng.choice(cats, n))
    f = pd.DataFrame({
        "recency_days": rng.uniform(0, 400, n) + labels * rng.uniform(0, 120),
        "frequency": rng.integers(1, 12, n) * (labels % 2) + 1,
        "monetary": rng.gamma(2, 100, n) * (1 + labels * rng.uniform(0, 1)),
        "spend_trend": rng.uniform(-1, 1, n) + 0.2 * (labels - k / 2),
        "avg_order_value": rng.gamma(3, 20, n) * (1 + (labels == 0)),
        "region": region, "channel": rng.choice(["web", "shop"], n),
    })
    th = NamingThresholds()
    prof = profile_segments(f, labels)
    named = name_segments(prof.table, prof.lift, prof.top_categories)
    assert named.names.tolist() == prof.names.tolist()
    assert prof.names.is_unique
    revenue = f["monetary"].groupby(labels).sum() / f["monetary"].sum()
    value_index = revenue / (pd.Series(labels).value_counts().sort_index() / n)
    for s, traits in named.traits.items():
        seg = f[labels == s]
        for t in traits:
            assert t.words in prof.names[s]
            if t.kind == "attribute":
                col, cat = t.evidence.split(":")[0].split(" = ")
                share, base = (seg[col] == cat).mean(), (f[col] == cat).mean()
                assert share >= th.min_majority - 1e-9, (t, share)
                assert share / base >= th.min_lift - 1e-9, (t, share, base)
            elif t.kind == "frequency" and t.words == "one-off":
                share, base = (seg["frequency"] == 1).mean(), (f["frequency"] == 1).mean()
                assert share >= th.min_majority - 1e-9 and share / base >= th.min_lift - 1e-9
            elif t.kind in ("recency", "frequency", "trend", "payment", "extra", "feature"):
                x = f[t.feature]
                z = (seg[t.feature].mean() - x.mean()) / x.std(ddof=0)
                assert abs(z) >= th.min_effect - 1e-9, (t, z)
                if t.words in _SIGN:
                    assert np.sign(z) == _SIGN[t.words], (t, z)
            elif t.kind == "value_tier":
                assert t.words == next(w for w, low in VALUE_TIERS if value_index[s] >= low)
    top = int(revenue.idxmax())
    tier = next(w for w, low in VALUE_TIERS if value_index[top] >= low)
    assert prof.names[top].startswith(tier), (prof.names[top], tier)

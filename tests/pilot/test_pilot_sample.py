"""pilot_sample: exact arm counts, reproducibility, balance check, every error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency

from segml.errors import ConfigError, SchemaError
from segml.pilot import pilot_sample


def _seg(sizes: dict[str, int]) -> pd.Series:
    labels = [s for s, n in sizes.items() for _ in range(n)]
    return pd.Series(labels, index=[f"c{i:03d}" for i in range(len(labels))])


def test_fraction_gives_exact_arm_counts():
    p = pilot_sample(_seg({"a": 4, "b": 6, "c": 10}), fraction=0.5, random_state=0)
    # a: 2 -> 1 control (0.5*2), 1 treated; b: 3 -> 2 control (1.5 half up), 1; c: 5 -> 3, 2
    assert p.arms[["segment", "n_base", "n_pilot", "n_treatment", "n_control"]].values.tolist() \
        == [["a", 4, 2, 1, 1], ["b", 6, 3, 1, 2], ["c", 10, 5, 2, 3]]
    assert p.arms["fraction"].tolist() == [0.5, 0.5, 0.5]
    assert p.frame.columns.tolist() == ["customer_id", "segment", "arm"]
    assert len(p.frame) == 10 and p.frame["customer_id"].is_unique
    counts = p.frame.groupby(["segment", "arm"]).size().to_dict()
    assert counts == {("a", "control"): 1, ("a", "treatment"): 1, ("b", "control"): 2,
                      ("b", "treatment"): 1, ("c", "control"): 3, ("c", "treatment"): 2}
    seg = _seg({"a": 4, "b": 6, "c": 10})
    assert (seg.loc[p.frame["customer_id"]].to_numpy() == p.frame["segment"].to_numpy()).all()


def test_size_is_exact_by_largest_remainder():
    # quotas 7 * (3, 3, 4) / 10 = 2.1, 2.1, 2.8 -> 2, 2, 3 (the 0.8 remainder gets the seat)
    p = pilot_sample(_seg({"a": 3, "b": 3, "c": 4}), size=7, control_share=0.5, random_state=1)
    assert p.arms["n_pilot"].tolist() == [2, 2, 3]
    assert p.arms["n_control"].tolist() == [1, 1, 2]
    assert int(p.arms["n_pilot"].sum()) == 7


def test_control_share_and_not_stratified():
    p = pilot_sample(_seg({"a": 10, "b": 10}), fraction=1.0, control_share=0.2)
    assert p.arms["n_control"].tolist() == [2, 2]
    q = pilot_sample(_seg({"a": 10, "b": 10}), size=10, stratify=False, control_share=0.3)
    assert len(q.frame) == 10 and (q.frame["arm"] == "control").sum() == 3


def test_same_seed_same_pilot_in_any_row_order():
    seg = _seg({"a": 30, "b": 50})
    p1 = pilot_sample(seg, fraction=0.3, random_state=7)
    p2 = pilot_sample(seg.sample(frac=1.0, random_state=3), fraction=0.3, random_state=7)
    pd.testing.assert_frame_equal(p1.frame, p2.frame)
    p3 = pilot_sample(seg, fraction=0.3, random_state=8)
    assert not p1.frame.equals(p3.frame)


def test_frame_input_uses_segment_name():
    scores = pd.DataFrame({"customer_id": ["x1", "x2", "x3", "x4"], "segment_id": [0, 0, 1, 1],
                           "segment_name": ["lo", "lo", "hi", "hi"]})
    p = pilot_sample(scores, fraction=1.0)
    assert sorted(p.arms["segment"]) == ["hi", "lo"]
    p = pilot_sample(scores, fraction=1.0, segment_column="segment_id")
    assert p.arms["segment"].tolist() == [0, 1]


@settings(max_examples=40)
@given(sizes=st.lists(st.integers(4, 40), min_size=1, max_size=5),
       fraction=st.floats(0.5, 1.0), share=st.floats(0.25, 0.75), seed=st.integers(0, 99))
@example(sizes=[4], fraction=0.5, share=0.75, seed=0)  # refused: no customer left to treat
def test_every_segment_sampled_at_the_same_fraction(sizes, fraction, share, seed):
    seg = _seg({f"s{i}": n for i, n in enumerate(sizes)})
    # a segment whose pilot cannot hold both arms is refused (e.g. 4 customers, fraction 0.5,
    # control share 0.75: 2 in the pilot, 2 in control, none treated); hypothesis found it
    pilots = [int(np.floor(fraction * n + 0.5)) for n in sizes]
    controls = [int(np.floor(share * n + 0.5)) for n in pilots]
    if any(c < 1 or n - c < 1 for n, c in zip(pilots, controls, strict=True)):
        with pytest.raises(ConfigError, match=r"too small to hold both a treatment and a "
                                              r"control arm.*Fix: raise fraction/size"):
            pilot_sample(seg, fraction=fraction, control_share=share, random_state=seed)
        return
    p = pilot_sample(seg, fraction=fraction, control_share=share, random_state=seed)
    for row in p.arms.itertuples():
        assert row.n_pilot == int(np.floor(fraction * row.n_base + 0.5))
        assert row.n_control == int(np.floor(share * row.n_pilot + 0.5))
        assert row.n_treatment + row.n_control == row.n_pilot
    assert p.frame["customer_id"].is_unique
    assert set(p.frame["customer_id"]) <= set(seg.index)


def test_balance_check_numeric_smd_and_categorical_chi2():
    seg = _seg({"a": 40, "b": 40})
    rng = np.random.default_rng(0)
    cov = pd.DataFrame({"age": rng.normal(40, 10, 80), "region": rng.choice(["n", "s"], 80),
                        "const": ["x"] * 80}, index=seg.index)
    p = pilot_sample(seg, fraction=1.0, covariates=cov, random_state=0)
    t = p.frame.set_index("customer_id")["arm"].eq("treatment")
    age_t, age_c = cov.loc[t[t].index, "age"], cov.loc[t[~t].index, "age"]
    smd = (age_t.mean() - age_c.mean()) / np.sqrt((age_t.var() + age_c.var()) / 2)
    b = p.balance.set_index("covariate")
    assert b.loc["age", "test"] == "smd"
    np.testing.assert_allclose(b.loc["age", "statistic"], smd, rtol=1e-12)
    assert b.loc["age", "balanced"] == (abs(smd) < 0.1)
    tab = pd.crosstab(t.to_numpy(), cov.loc[t.index, "region"].to_numpy()).to_numpy()
    stat, pval = chi2_contingency(tab, correction=False)[:2]
    np.testing.assert_allclose([b.loc["region", "statistic"], b.loc["region", "p_value"]],
                               [stat, pval], rtol=1e-12)
    assert (b.loc["const", "statistic"], b.loc["const", "p_value"]) == (0.0, 1.0)
    assert p.balanced == bool(b["balanced"].all())


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"size": 11}, r"size=11 is larger than the base of 10 customers.*--size"),
    ({"size": 1}, r"size=1 should be an integer >= 2"),
    ({"fraction": 0.0}, r"fraction=0.0 should be in \(0, 1\].*--fraction"),
    ({"fraction": 1.5}, r"fraction=1.5 should be in \(0, 1\]"),
    ({"fraction": float("nan")}, r"fraction=nan should be in \(0, 1\]"),
    ({}, r"pass exactly one of size= .* and fraction="),
    ({"size": 4, "fraction": 0.5}, r"pass exactly one of size="),
    ({"fraction": 0.5, "control_share": 1.0}, r"control_share=1.0 should be a number in \(0, 1\)"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        pilot_sample(_seg({"a": 5, "b": 5}), **kwargs)


def test_segment_too_small_names_it_and_the_fix():
    with pytest.raises(ConfigError, match=r"1 segment\(s\) too small .* \('tiny': 2 customers "
                       r"-> 1 in the pilot\)\. Fix: raise fraction/size .*--fraction"):
        pilot_sample(_seg({"big": 40, "tiny": 2}), fraction=0.5)


def test_input_errors():
    dup = pd.Series(["a", "a", "b"], index=["c1", "c1", "c2"])
    with pytest.raises(SchemaError, match=r"1 duplicated customer id\(s\), e.g. 'c1'"):
        pilot_sample(dup, fraction=1.0)
    na = pd.Series(["a", None, "b", "b"], index=["c1", "c2", "c3", "c4"])
    with pytest.raises(SchemaError, match=r"1 customer\(s\) without a segment, e.g. 'c2'"):
        pilot_sample(na, fraction=1.0)
    with pytest.raises(SchemaError, match=r"assignments is empty"):
        pilot_sample(pd.Series([], dtype=str), fraction=1.0)
    with pytest.raises(SchemaError, match=r"no segment column 'seg'.*segment_column="):
        pilot_sample(pd.DataFrame({"customer_id": ["a"], "x": [1]}), fraction=1.0,
                     segment_column="seg")
    with pytest.raises(SchemaError, match=r"covariates: 10 pilot customer\(s\) have no row"):
        pilot_sample(_seg({"a": 5, "b": 5}), fraction=1.0,
                     covariates=pd.DataFrame({"age": [1.0]}, index=["zz"]))

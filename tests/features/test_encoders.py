"""Exact values for each attribute encoder, the FamilyWeight rule, and sklearn's checks."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from segml.errors import ConfigError
from segml.features.encoders import (
    AgeEncoder,
    FamilyWeight,
    FrequencyEncoder,
    LogMoney,
    MultiLabelFlags,
    OrdinalScale,
    RareOneHot,
    ToFloat,
    Winsorizer,
    normalize_level,
)

# --------------------------------------------------------------------- single-column contract
# scikit-learn's generic checks run on every encoder in tests/test_estimator_contract.py; here
# the one-column use (the usual one) of the two encoders that name their output by meaning.


@pytest.mark.parametrize(
    ("encoder", "column"),
    [
        (AgeEncoder(as_of_year=2026), pd.Series(np.arange(1930.0, 1980.0), name="birth_year")),
        (MultiLabelFlags(), pd.Series(["price; brand", "Brand", None, "tech", ""] * 10,
                                      name="interests", dtype="str")),
    ],
)
def test_single_column_encoders_contract(encoder, column):
    X = column.to_frame()
    a = encoder.fit_transform(X)
    before = dict(encoder.__dict__)
    b = encoder.transform(X)
    assert_array_equal(a, b)
    assert encoder.__dict__.keys() == before.keys()
    assert encoder.feature_names_in_.tolist() == [column.name]
    assert encoder.n_features_in_ == 1
    assert len(encoder.get_feature_names_out()) == a.shape[1]
    again = pickle.loads(pickle.dumps(encoder))
    assert_array_equal(again.transform(X), a)
    perm = np.random.default_rng(0).permutation(len(X))
    assert_array_equal(encoder.transform(X.iloc[perm]), a[perm])
    out = encoder.set_output(transform="pandas").transform(X)
    assert out.columns.tolist() == encoder.get_feature_names_out().tolist()
    encoder.set_output(transform="default")
    with pytest.raises(ValueError, match=r"feature names"):
        encoder.transform(X.rename(columns={column.name: "other"}))


# --------------------------------------------------------------------- AgeEncoder


def test_age_encoder_exact_values_and_bands():
    X = pd.DataFrame({"birth_year": [2010.0, 2008.0, 1990.0, 1961.0, 1893.0, np.nan, 1926.0]})
    enc = AgeEncoder(as_of_year=2026).fit(X)
    out = enc.set_output(transform="pandas").transform(X)
    assert out.columns.tolist() == ["age", "age_band"]
    # 2026-2010=16 (plausible, band <18); 18 -> "18-24"; 36 -> "35-44"; 65 -> "65+";
    # 133 implausible -> NaN; missing -> NaN; 100 -> plausible (inclusive) -> "65+".
    assert_allclose(out["age"], [16, 18, 36, 65, np.nan, np.nan, 100])
    assert_allclose(out["age_band"], [0, 1, 3, 6, np.nan, np.nan, 6])
    assert enc.band_labels_ == ["<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    assert enc.n_implausible_ == 1
    assert enc.n_missing_ == 1
    assert enc.quality(X) == {"n_implausible": 1, "n_missing": 1}
    labels = enc.band_label(out["age_band"])
    assert labels.tolist()[:4] == ["<18", "18-24", "35-44", "65+"]
    assert labels.isna().tolist() == [False, False, False, False, True, True, False]


def test_age_encoder_counts_implausible_in_new_data_and_too_young():
    enc = AgeEncoder(as_of_year=2026).fit(pd.DataFrame({"birth_year": [1980.0]}))
    assert enc.n_implausible_ == 0
    new = pd.DataFrame({"birth_year": [1899.0, 1900.0, 2015.0, 1980.0]})
    out = enc.transform(new)
    assert_allclose(out[:, 0], [np.nan, np.nan, np.nan, 46])
    assert enc.quality(new) == {"n_implausible": 3, "n_missing": 0}
    assert enc.n_implausible_ == 0  # the training count: transform records nothing


def test_age_encoder_from_age_and_no_bands():
    enc = AgeEncoder(source="age", bands=()).fit(np.array([[30.0], [120.0]]))
    assert enc.get_feature_names_out().tolist() == ["age"]
    assert_allclose(enc.transform(np.array([[30.0], [120.0]])), [[30.0], [np.nan]])


def test_age_encoder_errors():
    X = pd.DataFrame({"birth_year": [1980.0]})
    with pytest.raises(ConfigError, match=r"as_of_year=None: a reference year is required"):
        AgeEncoder().fit(X)
    with pytest.raises(ConfigError, match=r"source='dob' should be 'birth_year' or 'age'"):
        AgeEncoder(source="dob").fit(X)
    with pytest.raises(ConfigError, match=r"min_age=50 should be < max_age=20"):
        AgeEncoder(as_of_year=2026, min_age=50, max_age=20).fit(X)
    with pytest.raises(ConfigError, match=r"bands=\(18, 18\) should be strictly increasing"):
        AgeEncoder(as_of_year=2026, bands=(18, 18)).fit(X)
    two = AgeEncoder(as_of_year=2026).fit(np.array([[1990.0, 1980.0]]))
    with pytest.raises(ValueError, match=r"X has 1 features, but AgeEncoder is expecting 2"):
        two.transform(np.array([[1990.0]]))


# --------------------------------------------------------------------- LogMoney / Winsorizer


def test_log_money_signed_and_inverse():
    X = pd.DataFrame({"monetary": [0.0, 9.0, -9.0, np.nan]})
    enc = LogMoney().set_output(transform="pandas")
    out = enc.fit_transform(X)
    assert out.columns.tolist() == ["monetary"]
    assert_allclose(out["monetary"], [0.0, np.log(10), -np.log(10), np.nan])
    assert enc.n_negative_ == 1
    assert enc.quality(pd.DataFrame({"monetary": [-1.0, -2.0, 3.0]})) == {"n_negative": 2}
    assert enc.n_negative_ == 1  # the training count: quality records nothing
    assert_allclose(enc.inverse_transform(out.to_numpy()), X.to_numpy())


@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=2, max_size=30))
@settings(max_examples=50, deadline=None)
def test_log_money_is_monotone(values):
    x = np.sort(np.asarray(values))[:, None]
    y = LogMoney().fit_transform(x).ravel()
    assert np.all(np.diff(y) >= 0)
    assert np.all(np.sign(y) == np.sign(x.ravel()))


def test_winsorizer_exact_limits_and_frozen():
    X = np.arange(1.0, 101.0)[:, None]
    w = Winsorizer(quantiles=(0.1, 0.9)).fit(X)
    assert_allclose(w.lower_, [10.9])
    assert_allclose(w.upper_, [90.1])
    assert_allclose(w.transform(np.array([[-5.0], [50.0], [1e6], [np.nan]])).ravel(),
                    [10.9, 50.0, 90.1, np.nan])


def test_winsorizer_bad_quantiles():
    with pytest.raises(ConfigError, match=r"quantiles=\(0.9, 0.1\) should be two numbers"):
        Winsorizer(quantiles=(0.9, 0.1)).fit(np.ones((3, 1)))


def test_to_float_bool_and_nullable():
    X = pd.DataFrame({"b": pd.array([True, False, None], dtype="boolean"),
                      "i": pd.array([1, None, 3], dtype="Int64")})
    assert_allclose(ToFloat().fit_transform(X), [[1, 1], [0, np.nan], [np.nan, 3]])


# --------------------------------------------------------------------- RareOneHot


def test_rare_one_hot_groups_rare_levels_and_counts_unknown():
    X = pd.DataFrame({"region": ["north", "north", "north", "south", "south", "east", None]},
                     dtype="str")
    enc = RareOneHot(min_frequency=2).set_output(transform="pandas").fit(X)
    assert enc.get_feature_names_out().tolist() == ["region_north", "region_south", "region_other"]
    out = enc.transform(pd.DataFrame({"region": ["south", "east", "mars", None]}, dtype="str"))
    assert out.columns.tolist() == ["region_north", "region_south", "region_other"]
    assert_allclose(out.to_numpy(), [[0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1]])
    # "mars"; "east" and missing were seen (rare) in fit
    assert enc.quality(pd.DataFrame({"region": ["south", "east", "mars", None]},
                                    dtype="str")) == {"n_unknown": 1}
    assert enc.quality(X) == {"n_unknown": 0}


def test_rare_one_hot_max_levels_and_policies():
    X = pd.DataFrame({"c": list("aaaabbbcd")})
    enc = RareOneHot(max_levels=3).fit(X)
    assert enc.get_feature_names_out().tolist() == ["c_a", "c_b", "c_other"]
    ign = RareOneHot(unknown="ignore").fit(X)
    assert_allclose(ign.transform(pd.DataFrame({"c": ["z"]})), [[0, 0, 0, 0]])
    assert ign.quality(pd.DataFrame({"c": ["z"]})) == {"n_unknown": 1}
    err = RareOneHot(unknown="error").fit(X)
    with pytest.raises(ValueError, match=r"unknown categor"):
        err.transform(pd.DataFrame({"c": ["z"]}))
    with pytest.raises(ConfigError, match=r"unknown='drop' should be one of \['error', 'ignore'"):
        RareOneHot(unknown="drop").fit(X)


def test_rare_one_hot_column_mismatch_is_an_error():
    enc = RareOneHot().fit(pd.DataFrame({"c": ["a"]}))
    with pytest.raises(ValueError, match=r"feature names"):
        enc.transform(pd.DataFrame({"d": ["a"]}))


# --------------------------------------------------------------------- OrdinalScale


def test_ordinal_scale_canonical_levels_normalised_and_unknown_counted():
    X = pd.DataFrame({
        "education": ["PhD", "basic", "Graduation", None, "Master"],
        "satisfaction": ["Very Satisfied", "neutral", "very-dissatisfied", "meh", None],
        "journey_stage": ["won", "lost", "first_contact", "offer", "Negotiation"],
    }, dtype="str")
    enc = OrdinalScale().set_output(transform="pandas").fit(X)
    out = enc.transform(X)
    assert out.columns.tolist() == ["education", "satisfaction", "journey_stage"]
    assert_allclose(out["education"], [4, 0, np.nan, np.nan, 3])
    assert_allclose(out["satisfaction"], [4, 2, 0, np.nan, np.nan])
    assert_allclose(out["journey_stage"], [4, -1, 0, 2, 3])
    assert enc.n_unknown_ == 2  # "Graduation" and "meh"; missing values are not unknown
    assert enc.quality(X) == {"n_unknown": 2}


def test_ordinal_scale_explicit_levels():
    enc = OrdinalScale(levels={"size": ["S", "M", "L"]}).fit(pd.DataFrame({"size": ["m"]}))
    assert enc.levels_ == {"size": ["s", "m", "l"]}
    assert_allclose(enc.transform(pd.DataFrame({"size": ["L", "XL"]})).ravel(), [2, np.nan])
    assert enc.quality(pd.DataFrame({"size": ["L", "XL"]})) == {"n_unknown": 1}
    assert enc.n_unknown_ == 0  # the training count ("m" is a level)
    seq = OrdinalScale(levels=["low", "high"]).fit(np.array([["high"], ["low"]], dtype=object))
    assert_allclose(seq.transform(np.array([["high"]], dtype=object)), [[1.0]])


def test_ordinal_scale_errors():
    with pytest.raises(ConfigError, match=r"has no levels for column 'b'; levels are given for"):
        OrdinalScale(levels={"a": ["x"]}).fit(pd.DataFrame({"b": ["x"]}))
    with pytest.raises(ConfigError, match=r"levels for column 'a' repeat a level"):
        OrdinalScale(levels={"a": ["x", "X"]}).fit(pd.DataFrame({"a": ["x"]}))
    with pytest.raises(ConfigError, match=r"levels='abc' should be a mapping"):
        OrdinalScale(levels="abc").fit(pd.DataFrame({"a": ["x"]}))


def test_normalize_level():
    assert normalize_level(" Very Satisfied ") == "very_satisfied"
    assert normalize_level("first-contact") == "first_contact"
    assert np.isnan(normalize_level(None))
    assert np.isnan(normalize_level(pd.NA))


# --------------------------------------------------------------------- FrequencyEncoder


def test_frequency_encoder_exact_shares():
    X = pd.DataFrame({"city": ["milano", "milano", "roma", None]}, dtype="str")
    enc = FrequencyEncoder().set_output(transform="pandas").fit(X)
    out = enc.transform(pd.DataFrame({"city": ["roma", "milano", "torino", None]}, dtype="str"))
    assert out.columns.tolist() == ["city_freq"]
    assert_allclose(out["city_freq"], [0.25, 0.5, 0.0, 0.25])
    new = pd.DataFrame({"city": ["roma", "milano", "torino", None]}, dtype="str")
    assert enc.quality(new) == {"n_unknown": 1}


# --------------------------------------------------------------------- FamilyWeight


def _mean_sq_pair_distance(X):
    X = np.asarray(X, dtype=float)
    d = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    return d.mean()


def test_family_weight_equal_budget_30_onehot_vs_3_value_columns():
    rng = np.random.default_rng(7)
    n = 300
    region = pd.DataFrame({"region": rng.integers(0, 30, size=n).astype(str)})
    geo = RareOneHot().fit_transform(region)
    assert geo.shape[1] == 30
    value = rng.lognormal(size=(n, 3)) * [1.0, 100.0, 1e4]
    wg = FamilyWeight(weight=1.0).fit_transform(geo)
    wv = FamilyWeight(weight=1.0).fit_transform(value)
    # mean over all ordered pairs of the squared distance = 2 * sum of population variances
    assert _mean_sq_pair_distance(wg) == pytest.approx(2.0)
    assert _mean_sq_pair_distance(wv) == pytest.approx(2.0)
    # "value counts double": weight 2 doubles the family's squared-distance budget
    w2 = FamilyWeight(weight=2.0).fit_transform(value)
    assert _mean_sq_pair_distance(w2) == pytest.approx(4.0)


def test_family_weight_count_method_on_standardised_columns():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(200, 30))
    a = (a - a.mean(0)) / a.std(0)
    b = rng.normal(size=(200, 3))
    b = (b - b.mean(0)) / b.std(0)
    fa = FamilyWeight(method="count").fit(a)
    fb = FamilyWeight(method="count").fit(b)
    assert fa.scale_ == pytest.approx(np.sqrt(1 / 30))
    assert fb.scale_ == pytest.approx(np.sqrt(1 / 3))
    assert _mean_sq_pair_distance(fa.transform(a)) == pytest.approx(2.0)
    assert _mean_sq_pair_distance(fb.transform(b)) == pytest.approx(2.0)


def test_family_weight_frozen_and_constant_block():
    fw = FamilyWeight(weight=4.0).fit(np.array([[0.0], [2.0]]))  # var = 1
    assert fw.scale_ == pytest.approx(2.0)
    assert_allclose(fw.transform(np.array([[10.0]])), [[20.0]])
    const = FamilyWeight(weight=1.0).fit(np.ones((3, 2)))
    assert const.total_variance_ == 0.0
    assert const.scale_ == 1.0


@pytest.mark.parametrize("weight", [0, -1.0, float("nan"), "2", True])
def test_family_weight_bad_weight(weight):
    with pytest.raises(ConfigError, match=r"weight=.* should be a finite number > 0"):
        FamilyWeight(weight=weight).fit(np.ones((2, 1)))


def test_family_weight_bad_method():
    with pytest.raises(ConfigError, match=r"method='sqrt' should be 'variance' or 'count'"):
        FamilyWeight(method="sqrt").fit(np.ones((2, 1)))


@given(
    st.integers(2, 40),
    st.integers(1, 8),
    st.floats(0.1, 10.0),
    st.integers(0, 2**31 - 1),
)
@settings(max_examples=40, deadline=None)
def test_family_weight_budget_is_weight_property(n_rows, n_cols, weight, seed):
    X = np.random.default_rng(seed).normal(size=(n_rows, n_cols)) * 10
    out = FamilyWeight(weight=weight).fit_transform(X)
    assert _mean_sq_pair_distance(out) == pytest.approx(2 * weight, rel=1e-9)


def test_encoders_do_not_mutate_input():
    X = pd.DataFrame({"region": ["a", None, "b"], "education": ["phd", "basic", None]},
                     dtype="str")
    before = X.copy()
    RareOneHot().fit_transform(X[["region"]])
    OrdinalScale().fit_transform(X[["education"]])
    FrequencyEncoder().fit_transform(X[["region"]])
    pd.testing.assert_frame_equal(X, before)


# --------------------------------------------------------------------- MultiLabelFlags


def test_multi_label_flags_exact_and_unknown():
    X = pd.DataFrame({"interests": ["Sustainability; price", "price;brand", None, "", "tech"]})
    enc = MultiLabelFlags(min_count=1).set_output(transform="pandas").fit(X)
    assert enc.labels_ == [["brand", "price", "sustainability", "tech"]]
    out = enc.transform(X)
    assert out.columns.tolist() == ["interest_brand", "interest_price",
                                    "interest_sustainability", "interest_tech"]
    assert_allclose(out.to_numpy(), [[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0],
                                     [0, 0, 0, 1]])
    rare = MultiLabelFlags(min_count=2, sep=";", prefix="likes_").fit(X)
    assert rare.get_feature_names_out().tolist() == ["likes_price"]
    assert rare.n_unknown_ == 3  # brand, sustainability, tech seen once each
    assert rare.quality(X) == {"n_unknown": 3}
    assert rare.quality(pd.DataFrame({"interests": ["price; golf"]})) == {"n_unknown": 1}


def test_multi_label_flags_errors():
    X = pd.DataFrame({"interests": ["a"]})
    with pytest.raises(ConfigError, match=r"sep='' should be a non-empty string"):
        MultiLabelFlags(sep="").fit(X)
    with pytest.raises(ConfigError, match=r"min_count=0 should be an integer >= 1"):
        MultiLabelFlags(min_count=0).fit(X)
    with pytest.raises(ValueError, match=r"X has 1 features, but MultiLabelFlags is expecting 2"):
        MultiLabelFlags().fit(np.array([["x", "y"]], dtype=object)).transform(np.array([["x"]]))


def test_multi_label_flags_several_columns_are_encoded_independently():
    X = pd.DataFrame({"interests": ["price; brand", "tech", None],
                      "channels": ["email", "email; sms", "price"]})
    enc = MultiLabelFlags(prefix="likes_").set_output(transform="pandas").fit(X)
    assert enc.labels_ == [["brand", "price", "tech"], ["email", "price", "sms"]]
    out = enc.transform(X)
    assert out.columns.tolist() == [
        "likes_interests_brand", "likes_interests_price", "likes_interests_tech",
        "likes_channels_email", "likes_channels_price", "likes_channels_sms",
    ]
    assert_allclose(out.to_numpy(), [[1, 1, 0, 1, 0, 0], [0, 0, 1, 1, 0, 1], [0, 0, 0, 0, 1, 0]])
    # "price" is a label of both columns, each learned on its own; "golf" has no column
    new = pd.DataFrame({"interests": ["golf; price"], "channels": ["fax"]})
    assert_allclose(enc.transform(new).to_numpy(), [[0, 1, 0, 0, 0, 0]])
    assert enc.quality(new) == {"n_unknown": 2}
    # each column alone gives the single-column names and values
    one = MultiLabelFlags(prefix="likes_").fit(X[["channels"]])
    assert_allclose(one.transform(X[["channels"]]), out.to_numpy()[:, 3:])
    assert one.get_feature_names_out().tolist() == ["likes_email", "likes_price", "likes_sms"]


def test_age_encoder_several_columns_are_encoded_independently():
    X = pd.DataFrame({"holder_1": [1990.0, 1893.0, np.nan], "holder_2": [2000.0, 1960.0, 1940.0]})
    enc = AgeEncoder(as_of_year=2026, bands=(30, 60)).set_output(transform="pandas").fit(X)
    out = enc.transform(X)
    assert out.columns.tolist() == ["holder_1_age", "holder_1_age_band",
                                    "holder_2_age", "holder_2_age_band"]
    assert_allclose(out.to_numpy(), [[36, 1, 26, 0], [np.nan, np.nan, 66, 2],
                                     [np.nan, np.nan, 86, 2]])
    assert enc.quality(X) == {"n_implausible": 1, "n_missing": 1}
    single = AgeEncoder(as_of_year=2026, bands=(30, 60)).fit(X[["holder_2"]])
    assert single.get_feature_names_out().tolist() == ["age", "age_band"]
    assert_allclose(single.transform(X[["holder_2"]]), out.to_numpy()[:, 2:])
    no_bands = AgeEncoder(as_of_year=2026, bands=()).fit(X)
    assert no_bands.get_feature_names_out().tolist() == ["holder_1_age", "holder_2_age"]


# ---------------------------------------------------------------- models saved before the split


def _as_saved_before_the_split(est) -> bytes:
    """Pickle ``est`` naming its classes and helpers by the former module path.

    Before the encoders became a package every class (and RareOneHot's feature-name
    helper) lived in ``segml.features.encoders``; protocol 2 writes module paths as text.
    """
    blob = pickle.dumps(est, protocol=2)
    for sub in ("age", "multilabel", "numeric", "onehot", "ordinal"):
        blob = blob.replace(f"csegml.features.encoders.{sub}\n".encode(),
                            b"csegml.features.encoders\n")
    assert b"segml.features.encoders.onehot" not in blob
    return blob


def test_models_pickled_before_the_split_still_load():
    X = pd.DataFrame({"c": ["a", "a", "b", None, "c"]})
    rare = RareOneHot(min_frequency=2).fit(X)
    back = pickle.loads(_as_saved_before_the_split(rare))
    assert_array_equal(back.transform(X), rare.transform(X))
    assert back.get_feature_names_out().tolist() == ["c_a", "c_other"]
    ages = pd.DataFrame({"birth_year": [1990.0, 1893.0]})
    age = pickle.loads(_as_saved_before_the_split(AgeEncoder(as_of_year=2026).fit(ages)))
    assert_allclose(age.transform(ages), [[36.0, 3.0], [np.nan, np.nan]])
    # MultiLabelFlags kept one flat list of labels and the last batch's n_unknown_
    labels = pd.DataFrame({"interests": ["price; brand", "golf"]})
    old = MultiLabelFlags().fit(labels)
    old.labels_ = ["brand", "golf", "price"]
    back = pickle.loads(_as_saved_before_the_split(old))
    assert back.get_feature_names_out().tolist() == ["interest_brand", "interest_golf",
                                                     "interest_price"]
    assert_allclose(back.transform(labels), [[1, 0, 1], [0, 1, 0]])
    assert back.quality(pd.DataFrame({"interests": ["chess"]})) == {"n_unknown": 1}


@given(
    st.lists(st.lists(st.one_of(st.none(), st.floats(1890, 2020, allow_nan=False)),
                      min_size=3, max_size=3), min_size=1, max_size=12),
    st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b; c", "C;d", " e ", ""])),
                      min_size=2, max_size=2), min_size=1, max_size=12),
)
@settings(max_examples=30, deadline=None)
def test_several_columns_equal_each_column_alone_property(years, answers):
    ages = pd.DataFrame(years, columns=["p", "q", "r"], dtype="float64")
    enc = AgeEncoder(as_of_year=2026).fit(ages)
    out = enc.transform(ages)
    for j, col in enumerate(ages.columns):
        alone = AgeEncoder(as_of_year=2026).fit(ages[[col]])
        assert_array_equal(out[:, 2 * j:2 * j + 2], alone.transform(ages[[col]]))
    total = [AgeEncoder(as_of_year=2026).fit(ages[[c]]).quality(ages[[c]]) for c in ages]
    assert enc.quality(ages) == {k: sum(t[k] for t in total) for k in total[0]}
    labels = pd.DataFrame(answers, columns=["u", "v"], dtype=object)
    flags = MultiLabelFlags().fit(labels)
    got = flags.transform(labels)
    start = 0
    for col in labels.columns:
        alone = MultiLabelFlags().fit(labels[[col]])
        width = len(alone.get_feature_names_out())
        assert_array_equal(got[:, start:start + width], alone.transform(labels[[col]]))
        start += width
    assert start == got.shape[1] == len(flags.get_feature_names_out())

"""LookalikeScorer: exact scores on a tiny frame, contract, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from segml.errors import ConfigError, NotFittedError, RuleSyntaxError, SchemaError
from segml.rules import LookalikeScorer


def tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "abc_class": pd.array(["A", "A", "B", "none"], dtype="str"),
            "age": [30.0, 50.0, 30.0, 50.0],
            "gender": pd.array(["F", "F", "M", "F"], dtype="str"),
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


def test_exact_scores():
    scorer = LookalikeScorer(features=["age", "gender"]).fit(tiny())
    # age: reference mean 40, population std 10 -> z = -1, 1, -1, 1
    # gender=F: reference mean 1, std sqrt(3/16) -> z^2 = 0 or 16/3 ; gender=M mirrors it
    assert scorer.encoded_names_ == ["age", "gender=F", "gender=M"]
    assert scorer.center_.tolist() == [40.0, 1.0, 0.0]
    np.testing.assert_allclose(scorer.scale_, [10.0, math.sqrt(3 / 16), math.sqrt(3 / 16)])
    near = 1 / (1 + math.sqrt(1 / 3))  # only the age differs
    far = 1 / (1 + math.sqrt(35) / 3)  # age and both gender columns differ
    out = scorer.transform(tiny())
    np.testing.assert_allclose(out["lookalike_score"], [near, near, far, near])
    assert out["is_lookalike"].tolist() == [True, True, False, True]
    assert list(out.columns) == list(scorer.get_feature_names_out())
    assert out.index.equals(tiny().index)
    assert scorer.n_reference_ == 2


def test_missing_values_use_the_columns_a_row_has():
    scorer = LookalikeScorer(features=["age", "gender"]).fit(tiny())
    new = pd.DataFrame(
        {"age": [np.nan, np.nan, 40.0], "gender": pd.array(["F", None, None], dtype="str")}
    )
    score = scorer.score_samples(new)
    assert score[0] == 1.0  # gender F matches, age unknown
    assert np.isnan(score[1])  # nothing known
    assert score[2] == 1.0
    assert scorer.predict(new).tolist() == [True, False, True]


def test_unseen_level_counts_as_no_known_level():
    scorer = LookalikeScorer(features=["gender"]).fit(tiny())
    s = scorer.score_samples(pd.DataFrame({"gender": ["X"]}))
    # F indicator 0 (z^2 = 16/3), M indicator 0 (z = 0)
    assert s[0] == pytest.approx(1 / (1 + math.sqrt(8 / 3)))


def test_threshold_and_reference_are_parameters():
    frame = tiny()
    strict = LookalikeScorer(features=["age"], threshold=0.6).fit(frame)
    assert strict.predict(frame).tolist() == [False] * 4  # all at 0.5
    by_b = LookalikeScorer(features=["age"], reference="abc_class == 'B'").fit(frame)
    assert by_b.center_.tolist() == [30.0]
    assert by_b.score_samples(frame).tolist() == [1.0, 1 / 3, 1.0, 1 / 3]


def test_default_features_are_attribute_columns():
    frame = tiny().assign(interest_tech=[True, True, False, False], monetary=[9.0, 8, 7, 6])
    scorer = LookalikeScorer().fit(frame)
    assert scorer.features_ == ["age", "gender", "interest_tech"]
    assert list(scorer.feature_names_in_) == scorer.features_


def test_does_not_mutate_and_is_deterministic():
    frame = tiny()
    before = frame.copy()
    a = LookalikeScorer(features=["age", "gender"]).fit_transform(frame)
    b = clone(LookalikeScorer(features=["age", "gender"])).fit_transform(frame)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=3, max_size=30))
def test_scores_in_unit_interval_and_reference_profile_scores_one(ages):
    n = len(ages)
    frame = pd.DataFrame({"age": ages, "abc_class": ["A"] + ["C"] * (n - 1)})
    scorer = LookalikeScorer(features=["age"]).fit(frame)
    s = scorer.score_samples(frame).to_numpy()
    ok = ~np.isnan(s)
    assert ((s[ok] > 0) & (s[ok] <= 1)).all()
    if scorer.scale_[0] > 0:
        assert s[0] == 1.0  # the single reference row is its own profile


@pytest.mark.parametrize(
    ("kwargs", "frame_fn", "error", "match"),
    [
        ({"threshold": 2}, tiny, ConfigError, r"threshold=2 should be a number in \[0, 1\]"),
        ({"max_categories": 0}, tiny, ConfigError, r"max_categories=0 should be an int >= 1"),
        ({"features": []}, tiny, ConfigError, r"features=\[\] is empty"),
        (
            {"features": ["income"]},
            tiny,
            SchemaError,
            r"the frame lacks feature columns \['income'\]",
        ),
        (
            {},
            lambda: tiny()[["abc_class"]],
            ConfigError,
            r"found no attribute columns to compare on; pass features=",
        ),
        (
            {"features": ["age"], "reference": "abc_class == 'Z'"},
            tiny,
            ConfigError,
            r"the reference group \"abc_class == 'Z'\" is empty",
        ),
        (
            {"features": ["age"], "reference": "abc == 'A'"},
            tiny,
            RuleSyntaxError,
            r"rule 'reference': unknown column 'abc'",
        ),
        (
            {"features": ["when"]},
            lambda: tiny().assign(when=pd.Timestamp("2020-01-01")),
            SchemaError,
            r"columns \['when'\] are not numeric, boolean or string",
        ),
    ],
)
def test_errors(kwargs, frame_fn, error, match):
    with pytest.raises(error, match=match):
        LookalikeScorer(**kwargs).fit(frame_fn())


def test_not_fitted_and_bad_inputs():
    with pytest.raises(NotFittedError, match=r"LookalikeScorer is not fitted yet"):
        LookalikeScorer().transform(tiny())
    with pytest.raises(ConfigError, match=r"LookalikeScorer found no attribute columns"):
        LookalikeScorer().fit([[1, 2]])  # a list's columns are x0, x1: no attribute column
    with pytest.raises(ValueError, match=r"LookalikeScorer.fit: expected a 2D array"):
        LookalikeScorer().fit([1, 2])
    scorer = LookalikeScorer(features=["age"]).fit(tiny())
    with pytest.raises(SchemaError, match=r"the frame lacks feature columns \['age'\] \(a ndarray "
                                          r"has no column names: its columns are x0, x1, ..."):
        scorer.transform(np.zeros((2, 1)))
    with pytest.raises(SchemaError, match=r"the frame lacks feature columns \['age'\]"):
        scorer.transform(tiny()[["gender"]])


def test_allow_no_features_scores_nothing():
    frame = tiny()[["abc_class"]]
    scorer = LookalikeScorer(allow_no_features=True).fit(frame)
    assert scorer.features_ == []
    out = scorer.transform(frame)
    assert out["lookalike_score"].isna().all()
    assert not out["is_lookalike"].any()


def test_pickle_roundtrip():
    import pickle

    scorer = LookalikeScorer(features=["age", "gender"]).fit(tiny())
    back = pickle.loads(pickle.dumps(scorer))
    pd.testing.assert_frame_equal(back.transform(tiny()), scorer.transform(tiny()))


def _reference_scores(scorer: LookalikeScorer, X: pd.DataFrame) -> np.ndarray:
    """The scores as computed before issue 19: an object comparison per level, nanmean."""
    blocks = []
    for c in scorer.features_:
        s = X[c]
        if scorer.kinds_[c] == "str":
            vals = s.astype(object).to_numpy(dtype=object, na_value=None)
            miss = s.isna().to_numpy()
            for level in scorer.categories_[c]:
                col = (vals == level).astype(float)
                col[miss] = np.nan
                blocks.append(col)
        else:
            blocks.append(s.astype("float64").to_numpy(dtype="float64", na_value=np.nan))
    enc = np.column_stack(blocks)
    used = scorer.scale_ > 0
    z = (enc[:, used] - scorer.center_[used]) / scorer.scale_[used]
    with np.errstate(invalid="ignore"), _nowarn():
        return 1.0 / (1.0 + np.sqrt(np.nanmean(z**2, axis=1)))


class _nowarn:
    def __enter__(self) -> None:
        import warnings

        self._c = warnings.catch_warnings()
        self._c.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._c.__exit__(*exc)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "none"]),
                          st.one_of(st.none(), st.floats(0, 100)),
                          st.sampled_from(["F", "M", "X", None])), min_size=3, max_size=30))
def test_vectorised_scores_equal_the_per_level_nanmean_scores(rows):
    # issue 19: _encode factorizes once and score_samples sums without nanmean; the scores
    # must equal the former per-level comparison + nanmean ones (same sums: bit for bit)
    frame = pd.DataFrame(
        {"abc_class": pd.array([r[0] for r in rows], dtype="str"),
         "age": [np.nan if r[1] is None else r[1] for r in rows],
         "gender": pd.array([r[2] for r in rows], dtype="str")},
        index=pd.Index([f"c{i}" for i in range(len(rows))], name="customer_id"),
    )
    if not (frame["abc_class"] == "A").any():
        frame.loc["c0", "abc_class"] = "A"
    scorer = LookalikeScorer(features=["age", "gender"]).fit(frame)
    other = frame.assign(gender=pd.array(["M", None, "Q"] * len(frame), dtype="str")[:len(frame)])
    for X in (frame, other):
        got = scorer.score_samples(X).to_numpy()
        np.testing.assert_array_equal(got, _reference_scores(scorer, X))


def test_scores_do_not_depend_on_the_row_blocks(monkeypatch):
    # score_samples works in blocks of rows (issue 19: memory); a row's score is its own
    rng = np.random.default_rng(3)
    n = 50
    frame = pd.DataFrame({
        "abc_class": pd.array(rng.choice(["A", "B", "none"], n), dtype="str"),
        "age": np.where(rng.random(n) < 0.1, np.nan, rng.normal(40, 10, n)),
        "gender": pd.array(rng.choice(["F", "M", None], n), dtype="str"),
    })
    scorer = LookalikeScorer(features=["age", "gender"]).fit(frame)
    whole = scorer.score_samples(frame)
    monkeypatch.setattr("segml.rules.lookalike._BLOCK_ROWS", 7)
    blocked = scorer.score_samples(frame)
    pd.testing.assert_series_equal(blocked, whole, rtol=1e-12, atol=0)
    assert blocked.notna().sum() > n // 2

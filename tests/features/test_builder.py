"""FeatureBuilder: fit at one date, transform at another, the report as a value, no side effects."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from segml.errors import ConfigError, NotFittedError
from segml.features import FeatureBuilder, FeatureSet, FeatureSpec, build_features

T1 = "2024-03-31"
T2 = "2024-06-05"  # within a week of the last transaction (2024-06-01)


def _tx() -> pd.DataFrame:
    rows = [
        ("a", "2024-01-10", 100.0, "books", "web"),
        ("a", "2024-03-01", 50.0, "music", "web"),
        ("a", "2024-05-01", 200.0, "games", "store"),  # after T1
        ("b", "2024-02-15", 20.0, "music", "store"),
        ("c", "2024-03-20", 10.0, "books", "web"),
        ("c", "2024-06-01", 300.0, "games", "web"),  # after T1
        ("d", "2024-05-15", 40.0, "games", "store"),  # d is not yet a customer at T1
    ]
    cid, ts, amount, category, channel = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": pd.array(cid, dtype="str"),
            "timestamp": pd.to_datetime(list(ts)),
            "amount": list(amount),
            "order_id": pd.array([f"o{i}" for i in range(len(rows))], dtype="str"),
            "category": pd.array(category, dtype="str"),
            "channel": pd.array(channel, dtype="str"),
        }
    )


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.array(["a", "b", "c", "p"], dtype="str"),
            "birth_year": [1980.0, 1990.0, np.nan, 2001.0],
            "region": pd.array(["north", "south", "north", None], dtype="str"),
            "income": [50_000.0, np.nan, 20_000.0, 30_000.0],
        }
    )


@pytest.fixture(scope="module")
def fitted() -> FeatureBuilder:
    return FeatureBuilder().fit(_tx(), _customers(), as_of=T1)


def test_fit_at_t1_transform_at_t2_equals_build_features_with_the_state(fitted):
    got = fitted.transform(_tx(), _customers(), as_of=T2)
    want = build_features(_tx(), _customers(), T2, state=fitted.state_)
    pd.testing.assert_frame_equal(got.frame, want.frame)
    assert got.report == want.report
    assert got.spec == want.spec and got.as_of == want.as_of == pd.Timestamp(T2)
    assert got.state is fitted.state_

    f = got.frame
    assert f.index.tolist() == ["a", "b", "c", "d", "p"]
    assert f["frequency"].tolist() == [3, 1, 2, 1, 0]
    assert f["monetary"].tolist() == [350.0, 20.0, 310.0, 40.0, 0.0]
    # levels learned at T1 (books 110, music 70): games, first bought after T1, is "other"
    assert fitted.state_.category_levels == ["books", "music"]
    assert [c for c in f if c.startswith("category_share_")] == [
        "category_share_books", "category_share_music", "category_share_other"]
    assert f.loc["a", ["category_share_books", "category_share_music",
                       "category_share_other"]].tolist() == [100 / 350, 50 / 350, 200 / 350]
    assert f.loc["d", "category_share_other"] == 1.0
    # frequency cut points of T1's buyers [2, 1, 1]: quantiles 1, 1, 1.2, 1.6
    assert f["f_score"].tolist() == [5, 1, 5, 1, 0]
    # monetary cut points of T1's buyers [150, 20, 10]: 14, 18, 46, 98
    assert f["m_score"].tolist() == [5, 3, 5, 3, 0]
    assert got.report["not_yet_customers"] == 0
    assert got.report["state_reused"] is True


def test_transform_keeps_the_fit_levels_a_refit_learns_new_ones(fitted):
    frozen = fitted.transform(_tx(), _customers(), as_of=T2).frame
    refit = FeatureBuilder().fit_transform(_tx(), _customers(), as_of=T2).frame
    assert "category_share_games" not in frozen
    assert refit["category_share_games"].tolist()[:4] == [200 / 350, 0.0, 300 / 310, 1.0]


def test_fit_transform_equals_build_features_at_the_same_date():
    fb = FeatureBuilder()
    got = fb.fit_transform(_tx(), _customers(), as_of=T1)
    want = build_features(_tx(), _customers(), T1)
    pd.testing.assert_frame_equal(got.frame, want.frame)
    assert got.report == want.report
    assert got.report["state_reused"] is False
    assert got.report["not_yet_customers"] == 1  # d
    assert got.spec == want.spec
    assert got.state is fb.state_
    assert joblib.hash(got.state) == joblib.hash(want.state)
    # fit alone learns the same state
    assert joblib.hash(FeatureBuilder().fit(_tx(), _customers(), as_of=T1).state_) == (
        joblib.hash(want.state))


def test_fit_then_transform_at_the_fit_date_gives_the_fit_frame(fitted):
    fit_frame = FeatureBuilder().fit_transform(_tx(), _customers(), as_of=T1).frame
    pd.testing.assert_frame_equal(fitted.transform(_tx(), _customers(), as_of=T1).frame,
                                  fit_frame)


def test_transform_does_not_change_the_builder():
    fb = FeatureBuilder().fit(_tx(), _customers(), as_of=T1)
    before = joblib.hash(fb)
    keys = sorted(vars(fb))
    for as_of in (T2, "2024-05-01", T1):
        fb.transform(_tx(), _customers(), as_of=as_of)
    fb.transform(_tx(), None, as_of=T2)
    fb.transform(_tx().head(2), _customers().head(1), as_of="2024-03-05")  # other counts
    assert joblib.hash(fb) == before
    assert sorted(vars(fb)) == keys == ["lookback_days", "min_peers", "spec", "state_"]


def test_a_saved_state_is_not_changed_by_rebuilds():
    fs = build_features(_tx(), _customers(), T1)
    before = joblib.hash(fs.state)
    build_features(_tx(), _customers(), T2, state=fs.state)
    FeatureBuilder.from_state(fs.state).transform(_tx(), _customers(), as_of=T2)
    assert joblib.hash(fs.state) == before


def test_the_report_comes_back_with_the_frame(fitted):
    out = fitted.transform(_tx(), _customers(), as_of=T1)
    assert isinstance(out, FeatureSet)
    r = out.report
    assert r["rows_after_as_of"] == 3
    assert r["not_yet_customers"] == 1
    assert r["customers_only_in_transactions"] == 0
    assert r["n_customers"] == 4 and r["n_prospects"] == 1
    assert r["missing_income"] == 1
    assert r["columns_absent_vs_state"] == []
    # nothing about the build is left on the builder or the frame
    assert not [k for k in vars(fitted) if "report" in k]
    assert out.frame.attrs == {}


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError, match="FeatureBuilder is not fitted yet.*Fix: call .fit"):
        FeatureBuilder().transform(_tx(), _customers(), as_of=T1)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        clone(FeatureBuilder().fit(_tx(), _customers(), as_of=T1)).transform(
            _tx(), _customers(), as_of=T1)


def test_estimator_conventions():
    spec = FeatureSpec.default(["monetary", "frequency"])
    fb = FeatureBuilder(spec, lookback_days=90, min_peers=3)
    assert fb.get_params() == {"spec": spec, "lookback_days": 90, "min_peers": 3}
    assert fb.set_params(min_peers=2) is fb and fb.min_peers == 2
    assert not hasattr(fb, "state_")  # the constructor stores parameters only
    fb.fit(_tx(), _customers(), as_of=T1)
    assert fb.state_.lookback_days == 90
    assert "FeatureBuilder" in repr(fb)


def test_from_state_and_errors(fitted):
    fb = FeatureBuilder.from_state(fitted.state_)
    assert fb.lookback_days is None and fb.state_ is fitted.state_
    pd.testing.assert_frame_equal(fb.transform(_tx(), _customers(), as_of=T2).frame,
                                  fitted.transform(_tx(), _customers(), as_of=T2).frame)
    with pytest.raises(ConfigError, match="state should be a FeatureState, got dict.*Fix"):
        FeatureBuilder.from_state({})
    with pytest.raises(ConfigError, match="state should be a FeatureState, got dict"):
        build_features(_tx(), _customers(), T2, state={})
    with pytest.raises(ConfigError, match="spec should be a FeatureSpec"):
        FeatureBuilder(spec={"families": {}}).fit(_tx(), _customers(), as_of=T1)
    with pytest.raises(ConfigError, match="pass transactions or aggregates, not both"):
        fitted.transform(_tx(), _customers(), as_of=T2, aggregates=pd.DataFrame())
    with pytest.raises(TypeError):
        FeatureBuilder().fit(_tx(), _customers(), T1)  # as_of is keyword only


def test_transform_reads_polars_like_pandas(fitted):
    pl = pytest.importorskip("polars")
    got = fitted.transform(pl.from_pandas(_tx()).lazy(), _customers(), as_of=T2)
    want = fitted.transform(_tx(), _customers(), as_of=T2)
    pd.testing.assert_frame_equal(got.frame, want.frame)
    assert got.report == want.report


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tx_order=st.permutations(range(7)),
    cu_order=st.permutations(range(4)),
    as_of=st.sampled_from([T1, "2024-04-15", "2024-05-20", T2]),
)
def test_property_transform_is_independent_of_row_order(fitted, tx_order, cu_order, as_of):
    want = fitted.transform(_tx(), _customers(), as_of=as_of)
    tx = _tx().iloc[list(tx_order)].reset_index(drop=True)
    cu = _customers().iloc[list(cu_order)].reset_index(drop=True)
    got = fitted.transform(tx, cu, as_of=as_of)
    pd.testing.assert_frame_equal(got.frame, want.frame)
    assert got.report == want.report


def test_fit_on_shuffled_rows_learns_the_same_state(fitted):
    tx = _tx().sample(frac=1.0, random_state=3).reset_index(drop=True)
    cu = _customers().iloc[::-1].reset_index(drop=True)
    assert joblib.hash(FeatureBuilder().fit(tx, cu, as_of=T1).state_) == joblib.hash(
        fitted.state_)

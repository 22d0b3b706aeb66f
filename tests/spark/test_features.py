"""Cross-engine equality: segml.spark.features against segml's default feature builder."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segml.datasets import make_portfolio
from segml.errors import ConfigError, EngineError, SchemaError
from segml.features import FeatureSpec, build_features
from segml.spark.features import spark_feature_frame, to_pandas
from segml.value import FORWARD_COLUMNS

AS_OF = "2024-01-31"


#: BG/NBD + Gamma-Gamma outputs: the models are fitted by an optimiser on summaries whose
#: money differs in the last bit (integer cents in Spark, Kahan float sums in pandas)
FORWARD_RTOL = 1e-6


def assert_same(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Ids, integer / bool / text columns exact; floats within 1e-9 relative (forward columns
    1e-6); missing values (attribute text, nullable booleans) at the same places."""
    assert got.index.equals(ref.index)
    assert list(got.columns) == [c for c in ref.columns if c in got.columns]
    for col in got.columns:
        a, b = got[col], ref[col]
        if b.dtype.kind == "f":
            assert a.dtype == np.float64, col
            rtol = FORWARD_RTOL if col in FORWARD_COLUMNS else 1e-9
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=rtol, atol=0,
                                       equal_nan=True, err_msg=col)
        else:
            assert a.dtype == b.dtype, (col, a.dtype, b.dtype)
            na, nb = pd.isna(a).to_numpy(), pd.isna(b).to_numpy()
            assert (na == nb).all(), col
            assert (a.to_numpy()[~na] == b.to_numpy()[~nb]).all(), col


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [
        # a: two orders the same day, one on as_of at 23:59:59 (in), one at 00:00 next day (out),
        #    a refund
        ("a", "2024-01-10 10:00:00", 100.00, "o1", "completed", "books"),
        ("a", "2024-01-10 18:00:00", 50.10, "o2", "completed", "music"),
        ("a", "2024-01-31 23:59:59", 20.00, "o3", "completed", "books"),
        ("a", "2024-02-01 00:00:00", 999.00, "o4", "completed", "books"),
        ("a", "2024-01-20 12:00:00", -30.00, "o5", "returned", "books"),
        # b: one purchase late on New Year's Eve: 31 calendar days before as_of
        ("b", "2023-12-31 23:00:00", 10.00, "o6", "completed", "music"),
        # c: a $0-only customer
        ("c", "2024-01-15 09:00:00", 0.00, "o7", "completed", "toys"),
        # d: same-day duplicate lines without an order id (one order: the day)
        ("d", "2024-01-05 08:00:00", 5.00, None, "completed", "toys"),
        ("d", "2024-01-05 08:00:00", 5.00, None, "completed", "toys"),
        ("d", "2023-11-05 08:00:00", 10.00, "o8", "completed", None),
        # e: first seen after as_of (not yet a customer)
        ("e", "2024-02-05 10:00:00", 40.00, "o9", "completed", "books"),
        # g: only a cancelled order (in the universe, a prospect)
        ("g", "2024-01-03 10:00:00", 70.00, "o10", "cancelled", "books"),
        # h, i: ties with b at the quantile edges (same frequency and amount)
        ("h", "2023-12-31 01:00:00", 10.00, "o11", "completed", "music"),
        ("i", "2024-01-01 00:00:00", 10.00, "o12", "completed", "music"),
    ]
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "order_id", "status",
                                     "category"])
    tx["timestamp"] = pd.to_datetime(tx["timestamp"])
    for c in ("customer_id", "order_id", "status", "category"):
        tx[c] = tx[c].astype("str") if c == "customer_id" else tx[c].astype("object")
    # datetime64[ns], as segml.schema.validate_customers gives (to_pandas returns ns)
    customers = pd.DataFrame({"customer_id": ["a", "b", "e", "f"],
                              "signup_date": pd.to_datetime(["2023-01-01", None, None,
                                                             "2023-06-01"]).astype(
                                                                 "datetime64[ns]")})
    return tx, customers


@pytest.fixture(scope="module")
def tiny(spark):
    tx, customers = _tiny()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = build_features(tx, customers, AS_OF).frame
    fs = spark_feature_frame(spark.createDataFrame(tx), spark.createDataFrame(customers),
                             None, AS_OF)
    got = fs.to_pandas()
    fs.unpersist()
    return got, ref


def test_tiny_hand_computed_values(tiny):
    got, _ = tiny
    assert got.index.tolist() == ["a", "b", "c", "d", "f", "g", "h", "i"]  # e not yet, f prospect
    a = got.loc["a"]
    assert a["frequency"] == 3  # o1, o2 (same day), o3 on as_of 23:59:59; o4 is after as_of
    assert a["recency_days"] == 0.0
    assert a["monetary"] == pytest.approx(140.10, rel=1e-12)  # 100 + 50.10 + 20 - 30
    assert a["avg_order_value"] == pytest.approx(46.70, rel=1e-12)
    assert a["tenure_days"] == 21.0
    assert a["interpurchase_mean_days"] == 21.0  # two purchase days, Jan 10 and Jan 31
    assert np.isnan(a["interpurchase_cv"])
    assert a["return_rate"] == pytest.approx(30.0 / 170.10, rel=1e-12)
    assert got.loc["b", "recency_days"] == 31.0  # calendar days, not a floor of 30.04 days
    assert got.loc["h", "recency_days"] == 31.0
    assert got.loc["i", "recency_days"] == 30.0
    assert got.loc["c", "frequency"] == 1 and got.loc["c", "monetary"] == 0.0
    assert got.loc["d", "frequency"] == 2  # the duplicated day counts once, plus o8
    assert got.loc["d", "monetary"] == 20.0
    for p in ("f", "g"):
        row = got.loc[p]
        assert bool(row["is_prospect"]) and row["frequency"] == 0 and row["monetary"] == 0.0
        assert np.isnan(row["recency_days"]) and row["rfm_code"] == "000"
        assert row["abc_class"] == "none"
    assert got["frequency"].dtype == np.int64 and got["is_prospect"].dtype == bool
    assert got["rfm_code"].dtype == "str"


def test_tiny_equals_segml(tiny):
    got, ref = tiny
    assert_same(got, ref)
    # the ties b / h at the quantile edges share one score
    assert got.loc["b", ["r_score", "f_score", "m_score"]].tolist() == \
        got.loc["h", ["r_score", "f_score", "m_score"]].tolist()


@pytest.fixture(scope="module")
def portfolio(spark):
    p = make_portfolio(500, random_state=3)
    as_of = "2024-06-30"
    # every family: the forward one (BG/NBD + Gamma-Gamma) is on only when the spec has it
    spec = FeatureSpec.from_dict({"families": {"value": {"columns": {
        "monetary": "log"}}}}).with_forward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = build_features(p.transactions, p.customers, as_of, spec)
    tx = spark.createDataFrame(p.transactions)
    cu = spark.createDataFrame(p.customers)
    fs = spark_feature_frame(tx, cu, spec, as_of)
    got = fs.to_pandas()
    fs.unpersist()
    return p, ref, fs, got, tx, cu


def test_portfolio_equals_segml(portfolio):
    p, ref, fs, got, _, _ = portfolio
    expected_tx_columns = {"recency_days", "frequency", "monetary", "avg_order_value",
                           "tenure_days", "interpurchase_cv", "spend_trend", "return_rate",
                           "gross_margin", "days_late_mean", "unpaid_share", "payment_risk",
                           "n_channels", "r_score", "rfm_code", "abc_class"}
    assert expected_tx_columns <= set(got.columns)
    assert any(c.startswith("category_share_") for c in got.columns)
    assert_same(got, ref.frame)  # every column: attributes, CLV, growth potential included
    assert len(got) == len(ref.frame)
    assert fs.age_encoder.get_params() == ref.state.age_encoder.get_params()
    assert fs.growth.by == ref.state.growth.by == ("age_band", "education")
    # exact: the same money, and Spark's median 0.5 a + 0.5 b is pandas' (a + b) / 2
    assert fs.growth.cell_medians_ == ref.state.growth.cell_medians_
    assert fs.growth.global_median_ == ref.state.growth.global_median_
    assert fs.growth.n_fallback_ == ref.state.growth.n_fallback_
    for key in ("missing", "unknown_levels", "implausible_birth_years", "missing_income"):
        assert fs.report[key] == ref.report[key], key
    # forward: parameters fitted on the driver from the Spark summary, peers from Spark medians
    want, have = ref.state.forward, fs.forward
    assert set(FORWARD_COLUMNS) <= set(got.columns)
    np.testing.assert_allclose(have.purchases.as_array(), want.purchases.as_array(),
                               rtol=FORWARD_RTOL)
    np.testing.assert_allclose(have.spend.as_array(), want.spend.as_array(), rtol=FORWARD_RTOL)
    assert have.peer_spend.keys() == want.peer_spend.keys()
    np.testing.assert_allclose([have.peer_spend[k] for k in want.peer_spend],
                               list(want.peer_spend.values()), rtol=FORWARD_RTOL)
    for key in ("n_customers", "n_repeat_buyers", "zero_spend_repeaters", "n_return_rows",
                "n_cancelled_rows", "n_missing_amount_rows"):
        assert have.fit_report[key] == want.fit_report[key], key
    for key in ("n_modelled", "not_modelled", "peer_fallback", "peer_by", "as_of_fit"):
        assert fs.report["forward"][key] == ref.report["forward"][key], key
    np.testing.assert_array_equal(fs.rfm_scorer.cut_points_, ref.state.rfm_scorer.cut_points_)
    assert fs.abc.threshold_a_ == ref.state.abc.threshold_a_
    assert fs.category_levels == ref.state.category_levels
    assert fs.report["money_scale"] == 100
    assert fs.report["rows_after_as_of"] == int((p.transactions["timestamp"] >=
                                                 pd.Timestamp("2024-07-01")).sum())


def test_frozen_state_at_a_later_as_of_equals_segml(portfolio, spark):
    from segml.features import FeatureBuilder

    p, ref, _, _, tx, cu = portfolio
    later = "2024-09-30"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = FeatureBuilder.from_state(ref.state, ref.spec).transform(
            p.transactions, p.customers, as_of=later).frame
    fs = spark_feature_frame(tx, cu, ref.spec, later, state=ref.state)
    got = fs.to_pandas()
    fs.unpersist()
    assert_same(got, want)  # reindexed to the state's columns, frozen growth medians and bands


def test_lookback_window_equals_segml(spark):
    tx, customers = _tiny()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = build_features(tx, customers, AS_OF, lookback_days=20).frame
    fs = spark_feature_frame(spark.createDataFrame(tx), spark.createDataFrame(customers), None,
                             AS_OF, lookback_days=20)
    got = fs.to_pandas()
    fs.unpersist()
    assert fs.report["rows_before_window"] == int((tx["timestamp"] <
                                                   pd.Timestamp("2024-01-12")).sum())
    assert got.loc["b", "frequency"] == 0 and bool(got.loc["b", "is_prospect"])
    assert_same(got, ref[[c for c in ref.columns if c in got.columns]])


def test_spec_with_columns_not_built_on_spark_is_refused(spark):
    tx, _ = _tiny()  # no due_date: no payment family
    spec = FeatureSpec.from_dict({"families": {"value": {"columns": {
        "monetary": "log", "clv": "log", "late_share": "standard"}}}})
    with pytest.raises(EngineError, match=r"spec uses column\(s\) \['late_share'\].*Fix: drop"):
        spark_feature_frame(spark.createDataFrame(tx), None, spec, AS_OF)


def test_as_of_before_first_transaction(spark):
    tx, _ = _tiny()
    with pytest.raises(ConfigError, match=r"as_of=2023-01-01 is before the first transaction "
                                          r"\(2023-11-05\).*Fix: pick an as_of"):
        spark_feature_frame(spark.createDataFrame(tx), None, None, "2023-01-01")


def test_as_of_is_required_and_iso(spark):
    tx, _ = _tiny()
    sdf = spark.createDataFrame(tx)
    with pytest.raises(ConfigError, match=r"YYYY-MM-DD"):
        spark_feature_frame(sdf, None, None, "12/01/2024")
    with pytest.raises(ConfigError, match=r"as_of"):
        spark_feature_frame(sdf, None, None, None)


def test_missing_columns_and_unparsed_dates(spark):
    tx, _ = _tiny()
    with pytest.raises(SchemaError, match=r"lacks required column\(s\) \['amount'\].*Fix:"):
        spark_feature_frame(spark.createDataFrame(tx.drop(columns="amount")), None, None, AS_OF)
    text = tx.assign(timestamp=tx["timestamp"].astype(str))
    with pytest.raises(SchemaError, match=r"'timestamp' has Spark type string.*Fix: parse it"):
        spark_feature_frame(spark.createDataFrame(text), None, None, AS_OF)


def test_session_time_zone_must_be_utc(spark):
    tx, _ = _tiny()
    sdf = spark.createDataFrame(tx)
    spark.conf.set("spark.sql.session.timeZone", "Europe/Rome")
    try:
        with pytest.raises(EngineError, match=r"timeZone is 'Europe/Rome'.*Fix: set "
                                              r"spark.sql.session.timeZone=UTC"):
            spark_feature_frame(sdf, None, None, AS_OF)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


_AFTER = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "z"]),
              st.integers(min_value=0, max_value=86_400 * 60),  # seconds after the cutoff
              st.integers(min_value=-5_000, max_value=50_000)),  # cents
    min_size=1, max_size=6,
)


@pytest.fixture(scope="module")
def before_cutoff(spark):
    """The tiny rows up to the end of the as_of day and their Spark features (built once: the
    same for every example below, only the rows after as_of vary)."""
    tx, customers = _tiny()
    base = tx[tx["timestamp"] < pd.Timestamp("2024-02-01")]
    cu = spark.createDataFrame(customers)
    one = spark_feature_frame(spark.createDataFrame(base), cu, None, AS_OF)
    a = one.to_pandas()
    one.unpersist()
    return base, cu, a


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(after=_AFTER)
def test_rows_after_as_of_change_nothing(spark, before_cutoff, after):
    base, cu, a = before_cutoff
    extra = pd.DataFrame({
        "customer_id": pd.Series([c for c, _, _ in after], dtype="str"),
        "timestamp": [pd.Timestamp("2024-02-01") + pd.Timedelta(seconds=s) for _, s, _ in after],
        "amount": [v / 100 for _, _, v in after],
        "order_id": [f"x{i}" for i in range(len(after))],
        "status": ["completed"] * len(after),
        "category": ["books"] * len(after),
    })
    two = spark_feature_frame(spark.createDataFrame(pd.concat([base, extra],
                                                              ignore_index=True)),
                              cu, None, AS_OF)
    b = two.to_pandas()
    two.unpersist()
    # a customer seen only after as_of ("z", "e") is not in either frame
    pd.testing.assert_frame_equal(a, b)


def test_to_pandas_layout(spark):
    sdf = spark.createDataFrame(pd.DataFrame({"customer_id": ["b", "a"], "x": [1.5, None],
                                              "n": [2, 3], "f": [True, False],
                                              "s": ["u", "v"]}))
    out = to_pandas(sdf)
    assert out.index.tolist() == ["a", "b"] and out.index.name == "customer_id"
    assert out["x"].dtype == np.float64 and np.isnan(out.loc["a", "x"])
    assert out["n"].dtype == np.int64 and out["f"].dtype == bool and out["s"].dtype == "str"

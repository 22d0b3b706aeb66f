"""Tests of the synthetic portfolio generator ``segml.datasets.make_portfolio``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from segml.datasets import (
    CATEGORIES,
    CHANNELS,
    CITIES,
    MACRO_AREAS,
    Portfolio,
    make_portfolio,
)
from segml.datasets._draw import _alloc, _top_share
from segml.errors import ConfigError, OutputExistsError
from segml.schema import ORDERED_LEVELS, validate_customers, validate_transactions

TX_DTYPES = {
    "customer_id": "str",
    "timestamp": "datetime64[ns]",
    "amount": "float64",
    "order_id": "str",
    "quantity": "float64",
    "product": "category",
    "category": "category",
    "channel": "category",
    "margin": "float64",
    "status": "category",
    "due_date": "datetime64[ns]",
    "paid_date": "datetime64[ns]",
}


@pytest.fixture(scope="module")
def port() -> Portfolio:
    return make_portfolio(3000, random_state=7)


def _per_customer(p: Portfolio) -> pd.DataFrame:
    """A few per-customer aggregates computed the plain pandas way."""
    tx = p.transactions
    tx = tx.assign(
        web=tx["channel"].eq("web"),
        agent=tx["channel"].eq("agent"),
        late=(tx["paid_date"] - tx["due_date"]).dt.days.clip(lower=0),
    )
    g = tx.groupby("customer_id")
    agg = pd.DataFrame(
        {
            "revenue": g["amount"].sum(),
            "orders": g["order_id"].nunique(),
            "recency": (p.as_of - g["timestamp"].max()).dt.days,
            "web": g["web"].mean(),
            "agent": g["agent"].mean(),
            "late": g["late"].mean(),
        }
    )
    agg["log_orders"] = np.log(agg["orders"])
    agg["log_aov"] = np.log(agg["revenue"].clip(lower=1) / agg["orders"])
    return agg


# --------------------------------------------------------------------------- exact helpers


def test_alloc_largest_remainder_exact():
    np.testing.assert_array_equal(_alloc(10, np.array([1.0, 1.0, 1.0])), [4, 3, 3])
    np.testing.assert_array_equal(_alloc(7, np.array([0.5, 0.0, 0.5])), [4, 0, 3])
    np.testing.assert_array_equal(_alloc(0, np.array([1.0, 2.0])), [0, 0])


def test_top_share_exact():
    # 10 customers, the top 2 carry 50 + 30 of 100
    vals = np.array([50.0, 30.0, 5.0, 5.0, 4.0, 2.0, 1.0, 1.0, 1.0, 1.0])
    assert _top_share(vals, 0.2) == pytest.approx(0.8)
    assert _top_share(np.array([]), 0.2) == 0.0


# --------------------------------------------------------------------------- determinism


def test_same_seed_identical_frames():
    a = make_portfolio(400, random_state=3)
    b = make_portfolio(400, random_state=3)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_series_equal(a.truth, b.truth)
    assert a.segment_names == b.segment_names
    assert a.summary() == b.summary()


def test_different_seeds_differ():
    a = make_portfolio(400, random_state=3)
    b = make_portfolio(400, random_state=4)
    assert not a.transactions["amount"].equals(b.transactions["amount"]) or len(
        a.transactions
    ) != len(b.transactions)
    assert not a.customers["city"].equals(b.customers["city"])
    assert not a.truth.equals(b.truth)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_written_bytes_identical_for_same_seed(tmp_path, fmt):
    make_portfolio(300, random_state=11).write(tmp_path / "a", format=fmt)
    make_portfolio(300, random_state=11).write(tmp_path / "b", format=fmt)
    make_portfolio(300, random_state=12).write(tmp_path / "c", format=fmt)
    names = sorted(f.name for f in (tmp_path / "a").iterdir())
    assert names == sorted(f"{t}.{fmt}" for t in ("customers", "transactions", "truth"))
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def test_written_parquet_round_trips(tmp_path):
    p = make_portfolio(300, random_state=2)
    out = p.write(tmp_path / "port")
    assert out == tmp_path / "port"
    pd.testing.assert_frame_equal(pd.read_parquet(out / "transactions.parquet"), p.transactions)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "customers.parquet"), p.customers)
    truth = pd.read_parquet(out / "truth.parquet")
    assert list(truth.columns) == ["customer_id", "segment"]
    assert truth["segment"].tolist() == p.truth.tolist()


def test_write_both_formats(tmp_path):
    make_portfolio(100, random_state=2).write(tmp_path / "p", format="both")
    assert len(list((tmp_path / "p").iterdir())) == 6


def test_write_refuses_to_overwrite(tmp_path):
    p = make_portfolio(100, random_state=0)
    p.write(tmp_path / "p")
    before = (tmp_path / "p" / "customers.parquet").read_bytes()
    other = make_portfolio(100, random_state=1)
    with pytest.raises(OutputExistsError, match=r"already exists; refusing to overwrite"):
        other.write(tmp_path / "p")
    assert (tmp_path / "p" / "customers.parquet").read_bytes() == before
    other.write(tmp_path / "p", overwrite=True)
    assert (tmp_path / "p" / "customers.parquet").read_bytes() != before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["p"]  # no temp folders left


def test_write_rejects_unknown_format(tmp_path):
    p = make_portfolio(50, random_state=0)
    with pytest.raises(ConfigError, match=r"format='xlsx' is not supported; use 'parquet'"):
        p.write(tmp_path / "p", format="xlsx")
    assert not (tmp_path / "p").exists()


# --------------------------------------------------------------------------- contract


def test_transactions_contract(port):
    tx = port.transactions
    assert list(tx.columns) == list(TX_DTYPES)
    assert {c: str(t) for c, t in tx.dtypes.items()} == TX_DTYPES
    assert isinstance(tx.index, pd.RangeIndex) and tx.index.start == 0
    key = tx[["customer_id", "timestamp"]]
    assert key.equals(key.sort_values(["customer_id", "timestamp"], kind="stable"))
    assert set(tx["customer_id"]) <= set(port.customers["customer_id"])
    assert tx["timestamp"].min() >= pd.Timestamp("2021-01-01")
    assert tx["timestamp"].max() < port.as_of + pd.Timedelta(days=1)
    assert set(tx["status"]) == {"completed", "returned"}
    assert set(tx["channel"]) == {"store", "web", "phone", "agent"}
    assert set(tx["category"]) == {"electronics", "home", "garden", "clothing", "food", "office"}
    assert tx.notna().drop(columns="paid_date").all().all()


def test_customers_contract(port):
    cust = port.customers
    assert cust["customer_id"].is_unique
    assert cust["customer_id"].is_monotonic_increasing
    assert str(cust["customer_id"].dtype) == "str"
    assert str(cust["signup_date"].dtype) == "datetime64[ns]"
    for col in ("is_b2b", "showed_interest", "interest_sustainability", "interest_technology",
                "interest_price", "interest_brand"):
        assert pd.api.types.is_bool_dtype(cust[col].dtype), col
        assert cust[col].notna().all(), col
    for col in ("age", "birth_year", "income", "household_size", "children", "complaints",
                "campaigns_sent", "campaigns_responded", "acquisition_cost", "latitude",
                "longitude", "survey_quality", "survey_service", "survey_price"):
        assert cust[col].dtype == "float64", col
    for col, levels in ORDERED_LEVELS.items():
        assert set(cust[col].dropna()) <= set(levels), col
    surveys = cust[["survey_quality", "survey_service", "survey_price"]].stack().dropna()
    assert surveys.between(1, 5).all() and (surveys % 1 == 0).all()
    assert (cust["campaigns_responded"] <= cust["campaigns_sent"]).all()
    assert set(cust["macro_area"]) == set(MACRO_AREAS)
    assert cust["postcode"].str.fullmatch(r"\d{5}").all()
    assert cust["latitude"].between(36.5, 47.2).all()
    assert cust["longitude"].between(6.5, 18.6).all()


def test_frames_are_fixed_points_of_the_validators(port):
    cust, _ = validate_customers(port.customers)
    pd.testing.assert_frame_equal(cust, port.customers)
    tx, report = validate_transactions(port.transactions, customers=port.customers,
                                       as_of=port.as_of)
    pd.testing.assert_frame_equal(tx, port.transactions)
    assert report.n_output_rows == len(port.transactions)


def test_truth_is_separate_and_aligned(port):
    truth = port.truth
    assert truth.name == "segment"
    assert truth.index.name == "customer_id"
    assert truth.index.equals(pd.Index(port.customers["customer_id"]))
    assert set(truth) == {*port.segment_names, "prospect"}
    assert "prospect" not in port.segment_names
    assert "segment" not in port.customers.columns
    for col in port.customers.columns:  # no column is the label in disguise
        s = port.customers[col].reset_index(drop=True)
        codes = pd.factorize(s, use_na_sentinel=False)[0]
        assert adjusted_rand_score(truth.to_numpy(), codes) < 0.6, col


def test_city_table_is_italian_and_complete():
    assert len(CITIES) >= 40
    assert {c[3] for c in CITIES} == set(MACRO_AREAS)
    assert len({c[2] for c in CITIES}) == 20  # every Italian region
    assert len({c[1] for c in CITIES}) == len(CITIES)  # one province code per city
    milano = next(c for c in CITIES if c[0] == "Milano")
    assert milano[1:4] == ("MI", "Lombardia", "North-West")
    assert milano[4] == pytest.approx(45.46, abs=0.05)


# --------------------------------------------------------------------------- shares and roles


def test_prospects_have_no_transactions(port):
    prospects = port.truth.index[port.truth == "prospect"]
    assert len(prospects) == round(0.12 * 3000)
    assert not set(prospects) & set(port.transactions["customer_id"])
    buyers = port.truth.index[port.truth != "prospect"]
    assert set(buyers) == set(port.transactions["customer_id"])


def test_prospects_interest_and_journey(port):
    cust = port.customers.set_index("customer_id")
    pro = cust.loc[port.truth == "prospect"]
    buy = cust.loc[port.truth != "prospect"]
    assert (buy["journey_stage"] == "won").all()
    assert 0.3 < pro["showed_interest"].mean() < 0.7
    interested = pro.loc[pro["showed_interest"], "journey_stage"]
    assert set(interested) <= {"first_contact", "meeting", "offer", "negotiation", "lost"}
    assert {"first_contact", "meeting", "offer"} <= set(interested)
    assert pro["satisfaction"].isna().all()
    assert (pro["complaints"] == 0).all()


@pytest.mark.parametrize(("prospect_share", "b2b_share"), [(0.0, 0.0), (0.3, 0.4), (0.05, 0.9)])
def test_share_parameters_honoured(prospect_share, b2b_share):
    n = 1000
    p = make_portfolio(n, prospect_share=prospect_share, b2b_share=b2b_share, random_state=0)
    assert (p.truth == "prospect").sum() == round(prospect_share * n)
    assert p.customers["is_b2b"].sum() == round(b2b_share * n)
    s = p.summary()
    assert s["b2b_share"] == pytest.approx(b2b_share, abs=1 / n)
    assert s["n_prospects"] + s["n_buyers"] == n
    assert ("b2b_accounts" in p.segment_names) == (b2b_share > 0)


def test_b2b_accounts_are_the_b2b_buyers(port):
    cust = port.customers.set_index("customer_id")
    buyers = port.truth != "prospect"
    is_b2b = cust["is_b2b"].to_numpy(dtype=bool)
    seg_b2b = (port.truth == "b2b_accounts").to_numpy()
    np.testing.assert_array_equal(is_b2b[buyers.to_numpy()], seg_b2b[buyers.to_numpy()])
    person = ["birth_year", "age", "gender", "income", "profession", "education",
              "marital_status", "household_size", "children", "life_stage"]
    assert cust.loc[is_b2b, person].isna().all().all()
    assert cust.loc[is_b2b, ["industry", "company_size"]].notna().all().all()
    assert cust.loc[~is_b2b, ["industry", "company_size"]].isna().all().all()
    assert cust.loc[~is_b2b, "gender"].notna().all()
    # the agent channel is mostly B2B
    tx = port.transactions
    agent_b2b = cust.loc[tx.loc[tx["channel"] == "agent", "customer_id"], "is_b2b"].mean()
    assert agent_b2b > 0.9


def test_segment_names():
    assert make_portfolio(50, n_segments=8, random_state=0).segment_names == (
        "loyal_high_value", "b2b_accounts", "bargain_hunters", "lapsed", "new_growing",
        "seasonal_gardeners", "late_payers", "tech_enthusiasts",
    )
    names = make_portfolio(50, n_segments=12, random_state=0).segment_names
    assert len(names) == len(set(names)) == 12
    assert names[8:] == ("loyal_high_value_2", "bargain_hunters_2", "lapsed_2", "new_growing_2")
    no_b2b = make_portfolio(50, n_segments=3, b2b_share=0.0, random_state=0)
    assert no_b2b.segment_names == ("loyal_high_value", "bargain_hunters", "lapsed")
    assert not no_b2b.customers["is_b2b"].any()


# --------------------------------------------------------------------------- realism


def test_returns_are_negative_lines_of_earlier_sales(port):
    tx = port.transactions
    ret = tx[tx["status"] == "returned"]
    assert 0.01 < len(ret) / len(tx) < 0.1
    assert (ret["amount"] < 0).all() and (ret["quantity"] < 0).all()
    assert (tx.loc[tx["status"] == "completed", "amount"] > 0).all()
    sales = tx[tx["status"] == "completed"].groupby("order_id")["timestamp"].first()
    assert ret["order_id"].isin(sales.index).all()
    assert (ret["timestamp"].to_numpy() > sales.loc[ret["order_id"]].to_numpy()).all()
    # clothing is returned more often than food
    rate = tx.groupby("category")["status"].apply(lambda s: (s == "returned").mean())
    assert rate["clothing"] > 3 * rate["food"]


def test_payment_terms_late_payers_and_unpaid(port):
    tx = port.transactions
    sales = tx[tx["status"] == "completed"]
    terms = (sales["due_date"] - sales["timestamp"].dt.normalize()).dt.days
    assert set(terms) == {30, 60}
    assert (sales["paid_date"].dropna() >= sales["timestamp"].dt.normalize()
            .loc[sales["paid_date"].notna()]).all()
    late = (sales["paid_date"] - sales["due_date"]).dt.days
    assert (late > 30).any()
    unpaid = sales["paid_date"].isna()
    assert 0.002 < unpaid.mean() < 0.1
    # chronic late payers: customers whose mean lateness is over two weeks
    per_customer = late.clip(lower=0).groupby(sales["customer_id"]).mean()
    assert 0.03 < (per_customer > 14).mean() < 0.4
    # B2B pays later than B2C
    b2b = port.customers.set_index("customer_id")["is_b2b"]
    by_type = per_customer.groupby(b2b.reindex(per_customer.index).to_numpy()).mean()
    assert by_type[True] > 2 * by_type[False]


def test_seasonality_q4_peak_and_garden_spring(port):
    tx = port.transactions
    q = tx["timestamp"].dt.quarter
    share = tx.groupby(q)["amount"].sum() / tx["amount"].sum()
    assert share[4] > 1.3 * share[[1, 2, 3]].max()
    garden = tx[tx["category"] == "garden"]
    months = garden["timestamp"].dt.month
    assert months.isin([3, 4, 5, 6]).mean() > 0.5


def test_heavy_tail_top20_share(port):
    share = port.summary()["top20_revenue_share"]
    assert 0.5 <= share <= 0.8
    order_values = port.transactions.groupby("order_id")["amount"].sum()
    assert order_values.mean() > 1.5 * order_values.median()  # right-skewed


def test_several_lines_per_order(port):
    lines = port.transactions.groupby("order_id").size()
    assert lines.max() >= 4 and 1.5 < lines.mean() < 4


def test_planted_behaviour_differs(port):
    agg = _per_customer(port)
    seg = port.truth.reindex(agg.index)
    med = agg.groupby(seg).median()
    assert med.loc["lapsed", "recency"] > 365 > med.loc["loyal_high_value", "recency"]
    assert med.loc["b2b_accounts", "agent"] > 0.4
    assert med.loc["bargain_hunters", "web"] > 0.6
    assert med.loc["loyal_high_value", "log_aov"] > med.loc["bargain_hunters", "log_aov"] + 1
    cust = port.customers.set_index("customer_id")
    age = cust["age"].groupby(port.truth).median()
    assert age["new_growing"] < 35 < age["loyal_high_value"]


def test_new_growing_customers_grow():
    p = make_portfolio(2000, random_state=5)
    tx = p.transactions
    ids = p.truth.index[p.truth == "new_growing"]
    sub = tx[tx["customer_id"].isin(ids) & (tx["status"] == "completed")]
    first = sub.groupby("customer_id")["timestamp"].transform("min")
    pos = (sub["timestamp"] - first) / (p.as_of - first)
    later_half = (pos > 0.5).groupby(sub["customer_id"]).mean()
    assert later_half.median() > 0.6


def test_noise_scales_within_segment_spread():
    tight = make_portfolio(1500, noise=0.2, random_state=0)
    loose = make_portfolio(1500, noise=2.0, random_state=0)

    def spread(p: Portfolio) -> float:
        age = p.customers.set_index("customer_id")["age"]
        return float(age.groupby(p.truth).std().drop("prospect").mean())

    assert spread(tight) < 0.5 * spread(loose)


def test_kmeans_on_simple_aggregates_recovers_segments(port):
    agg = _per_customer(port)
    cust = port.customers.set_index("customer_id").reindex(agg.index)
    feats = agg[["log_orders", "log_aov", "recency", "web", "agent", "late"]].assign(
        age=cust["age"].fillna(cust["age"].median()),
        b2b=cust["is_b2b"].astype(float),
    ).fillna(0.0)
    x = StandardScaler().fit_transform(feats)
    labels = KMeans(n_clusters=5, n_init=10, random_state=0).fit_predict(x)
    ari = adjusted_rand_score(port.truth.reindex(agg.index), labels)
    assert ari > 0.6  # chance is 0


# --------------------------------------------------------------------------- summary


def test_summary_is_consistent(port):
    s = port.summary()
    tx = port.transactions
    assert s["n_customers"] == 3000
    assert s["n_transactions"] == len(tx)
    assert s["n_orders"] == tx["order_id"].nunique()
    assert s["revenue"] == pytest.approx(tx["amount"].sum(), abs=0.01)
    assert s["first_date"] >= "2021-01-01" and s["last_date"] <= "2024-12-31"
    assert s["as_of"] == "2024-12-31"
    assert sum(s["segments"].values()) == 3000
    assert list(s["segments"]) == [*port.segment_names, "prospect"]


def test_params_record_the_arguments():
    p = make_portfolio(20, random_state=np.int64(4), start="2022-03-05 13:00")
    assert p.params == {
        "n_customers": 20, "n_segments": 5, "start": "2022-03-05", "end": "2024-12-31",
        "prospect_share": 0.12, "b2b_share": 0.15, "noise": 1.0, "missing_share": 0.0,
        "random_state": 4,
    }
    g = make_portfolio(20, random_state=np.random.default_rng(4))
    assert g.params["random_state"] == "Generator"


def test_missing_values_are_structural_by_default(port):
    cust = port.customers.set_index("customer_id")
    buyer_b2c = ((port.truth != "prospect") & ~cust["is_b2b"]).to_numpy()
    person = ["birth_year", "age", "income", "survey_quality", "survey_service",
              "survey_price", "satisfaction", "gender", "profession", "education"]
    assert cust.loc[buyer_b2c, person].notna().all().all()
    prospects = (port.truth == "prospect").to_numpy()
    assert 0.6 < cust.loc[prospects, "survey_quality"].isna().mean() < 0.95


def test_missing_share_adds_item_nonresponse_only():
    base = make_portfolio(2000, random_state=3)
    holes = make_portfolio(2000, missing_share=0.2, random_state=3)
    pd.testing.assert_frame_equal(base.transactions, holes.transactions)
    pd.testing.assert_series_equal(base.truth, holes.truth)
    cust = holes.customers.set_index("customer_id")
    b2c_buyer = ((holes.truth != "prospect") & ~cust["is_b2b"]).to_numpy()
    for col in ("income", "birth_year", "survey_price", "satisfaction"):
        assert 0.15 < cust.loc[b2c_buyer, col].isna().mean() < 0.25, col
    assert (cust["age"].isna() == cust["birth_year"].isna()).all()
    same = ["city", "is_b2b", "profession", "interest_price", "lead_source"]
    pd.testing.assert_frame_equal(base.customers[same], holes.customers[same])


def test_small_portfolio_edges():
    one = make_portfolio(1, random_state=0)
    assert len(one.customers) == 1 and one.summary()["n_buyers"] == 1
    short = make_portfolio(20, start="2024-01-01", end="2024-02-15", random_state=0)
    assert short.transactions["timestamp"].max() < pd.Timestamp("2024-02-16")
    assert short.as_of == pd.Timestamp("2024-02-15")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 0}, r"n_customers=0 should be >= 1\."),
        ({"n_customers": 2.5}, r"n_customers must be an integer, got 2\.5\."),
        ({"n_customers": True}, r"n_customers must be an integer, got True\."),
        ({"n_segments": 0}, r"n_segments=0 should be >= 1\."),
        ({"n_segments": 33}, r"n_segments=33 should be <= 32\."),
        ({"prospect_share": 1.0}, r"prospect_share=1\.0 should be a number in \[0, 1\)\."),
        ({"prospect_share": -0.1}, r"prospect_share=-0\.1 should be a number in \[0, 1\)\."),
        ({"b2b_share": 1.5}, r"b2b_share=1\.5 should be a number in \[0, 1\)\."),
        ({"b2b_share": "0.2"}, r"b2b_share='0\.2' should be a number in \[0, 1\)\."),
        ({"missing_share": 1}, r"missing_share=1 should be a number in \[0, 1\)\."),
        ({"noise": -1.0}, r"noise=-1\.0 should be a finite number >= 0\."),
        ({"noise": float("nan")}, r"noise=nan should be a finite number >= 0\."),
        ({"start": "not a date"}, r"start='not a date' is not a date \(use e\.g\."),
        ({"end": None}, r"end=None is not a date"),
        ({"random_state": "seed"}, r"random_state='seed' should be an int, a numpy Generator"),
        ({"random_state": True}, r"random_state=True should be an int, a numpy Generator"),
        ({"start": "2024-01-01", "end": "2024-01-10"},
         r"end=2024-01-10 should be at least 4 weeks after start=2024-01-01\."),
    ],
)
def test_invalid_arguments_raise_config_error(kwargs, match):
    args = {"n_customers": 10, **kwargs}
    n = args.pop("n_customers")
    with pytest.raises(ConfigError, match=match):
        make_portfolio(n, **args)


# --------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 80),
    k=st.integers(1, 10),
    prospect_share=st.floats(0, 0.9),
    b2b_share=st.floats(0, 0.9),
    noise=st.floats(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants_hold_for_any_arguments(n, k, prospect_share, b2b_share, noise, seed):
    p = make_portfolio(n, n_segments=k, prospect_share=prospect_share, b2b_share=b2b_share,
                       noise=noise, random_state=seed)
    cust, tx = p.customers, p.transactions
    assert len(cust) == n and cust["customer_id"].is_unique
    assert cust["customer_id"].is_monotonic_increasing
    assert len(p.segment_names) == k
    assert p.truth.index.equals(pd.Index(cust["customer_id"]))
    assert set(tx["customer_id"]) == set(p.truth.index[p.truth != "prospect"])
    key = tx[["customer_id", "timestamp"]]
    assert key.equals(key.sort_values(["customer_id", "timestamp"], kind="stable"))
    assert (tx["timestamp"] >= pd.Timestamp("2021-01-01")).all()
    assert (tx["timestamp"] < p.as_of + pd.Timedelta(days=1)).all()
    assert ((tx["amount"] > 0) == (tx["status"] == "completed")).all()
    assert (tx["due_date"] >= tx["timestamp"].dt.normalize()).all()
    assert (tx["paid_date"].dropna() <= p.as_of).all()
    assert cust["is_b2b"].sum() == round(b2b_share * n)


@pytest.mark.slow
def test_scale_50k_customers_contract():
    p = make_portfolio(50_000, random_state=0)
    tx = p.transactions
    assert 1_000_000 < len(tx) < 2_500_000
    assert tx["customer_id"].is_monotonic_increasing
    assert tx["customer_id"].isin(p.customers["customer_id"]).all()
    assert 0.5 <= p.summary()["top20_revenue_share"] <= 0.8


def test_planted_profiles_are_named_data():
    import dataclasses

    from segml._planted_segments import SEGMENT_PROFILES, SegmentProfile, select_profiles

    names = [p.name for p in SEGMENT_PROFILES]
    assert len(set(names)) == len(names)
    assert sum(p.b2b for p in SEGMENT_PROFILES) == 1
    for p in SEGMENT_PROFILES:
        assert isinstance(p, SegmentProfile)
        assert len(p.cats) == len(CATEGORIES)
        assert len(p.chans) == len(CHANNELS)
        assert len(p.macro) == len(MACRO_AREAS)
        assert len(p.interests) == 4 and len(p.survey) == 3 and len(p.leads) == 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        SEGMENT_PROFILES[0].rate = 1.0  # type: ignore[misc]
    more = select_profiles(len(SEGMENT_PROFILES) + 3, with_b2b=False)
    assert [p.name for p in more[:3]] == [n for n in names if n != "b2b_accounts"][:3]
    assert len({p.name for p in more}) == len(more)

"""Hostile inputs at the as-of edges: date spellings, not-yet customers, future attributes.

As-of universe (see ``segml.features.build``): a customer exists as of T when they have a
transaction on or before T, a signup on or before T, or no dated attribute at all. Someone
first seen after T is *not yet a customer*: not in the features (so never clustered or
scored), counted in ``report["not_yet_customers"]``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segml.config import load_config, validate_config
from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.features import build_features
from segml.io import load_online_retail
from tests.robustness.conftest import cli_error, cli_ok

AS_OF = "2024-03-31"


def _tx() -> pd.DataFrame:
    """Three customers: a buys before and after as_of, b before, late only after."""
    return pd.DataFrame({
        "customer_id": pd.array(["a", "a", "b", "late", "late"], dtype="str"),
        "timestamp": pd.to_datetime(["2024-01-05 00:00", "2024-04-02 00:00", "2024-03-31 23:59",
                                     "2024-04-01 00:00", "2024-05-01 00:00"]),
        "amount": [10.0, 99.0, 5.0, 7.0, 8.0],
    })


def _customers() -> pd.DataFrame:
    """a, b buyers; late (no signup, first row after as_of); signed_late (signup after);
    early (signup before, no purchase: prospect); nodate (no dated attribute: prospect);
    bought_first (signup after as_of but bought before it: a buyer)."""
    return pd.DataFrame({
        "customer_id": pd.array(["a", "b", "late", "signed_late", "early", "nodate",
                                 "bought_first"], dtype="str"),
        "signup_date": pd.to_datetime(["2023-01-01", None, None, "2024-04-01", "2024-03-31",
                                       None, "2024-06-01"]),
    })


def _tx_with_bought_first() -> pd.DataFrame:
    extra = pd.DataFrame({"customer_id": pd.array(["bought_first"], dtype="str"),
                          "timestamp": pd.to_datetime(["2024-02-01"]), "amount": [3.0]})
    return pd.concat([_tx(), extra], ignore_index=True)


def _write(tmp_path, tx: pd.DataFrame, cu: pd.DataFrame) -> tuple[str, str]:
    t, c = tmp_path / "tx.csv", tmp_path / "cu.csv"
    tx.assign(timestamp=tx["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(t, index=False)
    cu.assign(signup_date=cu["signup_date"].dt.strftime("%Y-%m-%d")).to_csv(c, index=False)
    return str(t), str(c)


def _features_argv(tmp_path, as_of: str, out: str = "f.parquet") -> list[str]:
    t, c = _write(tmp_path, _tx_with_bought_first(), _customers())
    return ["features", "--transactions", t, "--customers", c, "--as-of", as_of,
            "--out", str(tmp_path / out)]


# ------------------------------------------------------------------------- as_of spellings

BAD_AS_OF = [
    pytest.param("12/01/2024", "not a date in the accepted form", id="us-slashes"),
    pytest.param("2024", "not a date in the accepted form", id="year-only"),
    pytest.param("31st of Dec", "not a date in the accepted form", id="english-words"),
    pytest.param("20241231", "not a date in the accepted form", id="compact-digits"),
    pytest.param("2024-02-30", "not a valid calendar date", id="impossible-day"),
    pytest.param("", "not a date in the accepted form", id="empty"),
]


@pytest.mark.parametrize(("as_of", "match"), BAD_AS_OF)
def test_bad_as_of_text_refused_by_api(as_of, match):
    with pytest.raises(ConfigError, match=rf"as_of='{as_of}' is {match}") as err:
        build_features(_tx(), _customers(), as_of)
    assert "YYYY-MM-DD" in str(err.value) and "Fix:" in str(err.value)


@pytest.mark.parametrize(("as_of", "match"), BAD_AS_OF)
def test_bad_as_of_text_refused_by_cli(as_of, match, tmp_path, capsys):
    msg = cli_error(_features_argv(tmp_path, as_of), capsys,
                    match=rf"features\.as_of='{as_of}' is {match}")
    assert "--as-of 2024-12-31" in msg and "[features] as_of" in msg
    assert not (tmp_path / "f.parquet").exists()


@pytest.mark.parametrize("as_of", [pytest.param(2024, id="int"),
                                   pytest.param(20241231.0, id="float"),
                                   pytest.param(True, id="bool")])
def test_number_as_of_refused_by_api(as_of):
    with pytest.raises(ConfigError, match=rf"as_of={as_of!r} is a number, not a date"):
        build_features(_tx(), _customers(), as_of)


def test_toml_integer_as_of_refused_before_any_work(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[features]\nas_of = 2024\n")
    with pytest.raises(ConfigError, match=r"config: features\.as_of=2024 is a number"):
        load_config(cfg)
    t, c = _write(tmp_path, _tx(), _customers())
    cli_error(["features", "--config", str(cfg), "--transactions", t, "--customers", c,
               "--out", str(tmp_path / "f.parquet")], capsys,
              match=r"features\.as_of=2024 is a number, not a date")


@pytest.mark.parametrize("literal", ["2024-03-31", "2024-03-31T12:00:00", '"2024-03-31"'])
def test_toml_date_literal_accepted(literal, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[features]\nas_of = {literal}\n")
    assert load_config(cfg)["features"]["as_of"] in (
        dt.date(2024, 3, 31), dt.datetime(2024, 3, 31, 12), "2024-03-31")
    t, c = _write(tmp_path, _tx(), _customers())
    out, _ = cli_ok(["features", "--config", str(cfg), "--transactions", t, "--customers", c,
                     "--out", str(tmp_path / "f.parquet")], capsys)
    assert "as of 2024-03-31" in out


@pytest.mark.parametrize("as_of", [
    pytest.param(dt.date(2024, 3, 31), id="date"),
    pytest.param(dt.datetime(2024, 3, 31, 18, 30), id="datetime"),
    pytest.param(pd.Timestamp("2024-03-31"), id="timestamp"),
    pytest.param("2024-03-31T23:59:59", id="iso-datetime"),
])
def test_date_objects_accepted_by_api(as_of):
    fs = build_features(_tx(), None, as_of)
    assert fs.as_of.normalize() == pd.Timestamp(AS_OF)
    assert fs.frame.index.tolist() == ["a", "b"]


def test_config_validation_refuses_as_of_list():
    with pytest.raises(ConfigError, match=r"features\.as_of should be a date, got list"):
        validate_config({"features": {"as_of": [2024, 12, 31]}})


# ------------------------------------------------------------------------- the universe


def test_not_yet_customers_left_out_and_counted():
    fs = build_features(_tx_with_bought_first(), _customers(), AS_OF)
    f = fs.frame
    # late (first row after as_of) and signed_late (signup after as_of) do not exist yet
    assert f.index.tolist() == ["a", "b", "bought_first", "early", "nodate"]
    assert f["is_prospect"].to_dict() == {"a": False, "b": False, "bought_first": False,
                                          "early": True, "nodate": True}
    assert fs.report["not_yet_customers"] == 2
    assert fs.report["n_customers"] == 5
    assert fs.report["n_prospects"] == 2
    assert fs.report["rows_after_as_of"] == 3
    assert f.loc["a", "monetary"] == 10.0  # the 99 bought after as_of does not leak


def test_not_yet_customers_only_in_transactions_counted():
    fs = build_features(_tx(), None, AS_OF)
    assert fs.frame.index.tolist() == ["a", "b"]
    assert fs.report["not_yet_customers"] == 1


def test_not_yet_customers_absent_from_cli_features_file(tmp_path, capsys):
    out, _ = cli_ok(_features_argv(tmp_path, AS_OF), capsys)
    assert out.startswith("5 customers")
    ids = pd.read_parquet(tmp_path / "f.parquet").index.tolist()
    assert ids == ["a", "b", "bought_first", "early", "nodate"]


def test_not_yet_customers_never_reach_the_model_matrix():
    from segml.config import validate_config
    from segml.pipeline import model_matrix

    cfg = validate_config({"features": {"buyers_only": False}})
    fs = build_features(_tx_with_bought_first(), _customers(), AS_OF)
    X, frame = model_matrix(cfg, fs)
    assert sorted(X.index) == ["a", "b", "bought_first", "early", "nodate"]


def test_not_yet_customers_never_scored(tmp_path):
    from segml.cluster import Segmenter
    from segml.features import make_preprocessor
    from segml.persistence import SegmentModel, load_model, save_model
    from segml.scoring import score

    train = build_features(_tx_with_bought_first(), None, AS_OF)
    spec = replace(train.spec, min_level_customers=1)
    seg = Segmenter(n_clusters=2, preprocessor=make_preprocessor(spec, train.frame),
                    random_state=0, n_init=1).fit(train.frame)
    train.spec = spec
    path = save_model(SegmentModel.from_training(seg, train.frame, name="m",
                                                 feature_set=train), root=tmp_path)
    res = score(load_model(path), _tx_with_bought_first(), _customers(), AS_OF)
    scored = set(res.frame["customer_id"])
    assert scored.isdisjoint({"late", "signed_late"})
    assert {"a", "b", "bought_first"} <= scored
    assert res.report["feature_report"]["not_yet_customers"] == 2


def test_lookback_and_future_rows_counted():
    tx = _tx()
    fs = build_features(tx, None, AS_OF, lookback_days=30)
    # a's 2024-01-05 row is before the 30-day window (2024-03-02..2024-03-31)
    assert fs.report["rows_before_window"] == 1
    assert fs.report["rows_after_as_of"] == 3
    assert fs.frame.loc["a", "frequency"] == 0  # in the universe, no purchase in the window


def test_cancelled_rows_counted():
    tx = _tx().assign(status=pd.array(["completed", "completed", "cancelled", "completed",
                                       "cancelled"], dtype="str"))
    fs = build_features(tx, None, AS_OF)
    assert fs.report["rows_cancelled"] == 1  # b's row on as_of; the May one is after as_of
    assert fs.frame.loc["b", "frequency"] == 0  # b exists (a row on as_of) but bought nothing


def test_unparsed_signup_dates_are_a_schema_error():
    cu = _customers().assign(signup_date=["2023-01-01", "soon", None, None, None, None, None])
    with pytest.raises(SchemaError, match=r"'signup_date' holds values that are not dates.*Fix:"):
        build_features(_tx(), cu, AS_OF)


def test_as_of_before_first_transaction_is_an_error(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"as_of=2023-12-31 is before the first transaction "
                                          r"\(2024-01-05\).*2024-01-05\.\.2024-05-01"):
        build_features(_tx(), _customers(), "2023-12-31")
    cli_error(_features_argv(tmp_path, "2023-12-31"), capsys,
              match=r"before the first transaction \(2024-01-05\); no customer has a row")


def test_as_of_long_after_last_transaction_warns_with_the_range(tmp_path, capsys):
    with pytest.warns(DataQualityWarning,
                      match=r"as_of=2024-05-31 is 30 day\(s\) after the last transaction "
                            r"\(2024-05-01; the data covers 2024-01-05\.\.2024-05-01\)"):
        fs = build_features(_tx(), None, "2024-05-31")
    assert fs.report["days_after_last_transaction"] == 30
    with pytest.warns(DataQualityWarning, match=r"30 day\(s\) after the last transaction"):
        cli_ok(_features_argv(tmp_path, "2024-05-31"), capsys)


def test_as_of_within_a_week_of_the_end_is_quiet_but_counted():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fs = build_features(_tx(), None, "2024-05-08")
    assert fs.report["days_after_last_transaction"] == 7


# ------------------------------------------------------------ derived attributes at as_of


def _moved() -> pd.DataFrame:
    """Customer 1 buys in France, then moves to Germany after as_of; 2 stays in Italy."""
    return pd.DataFrame({
        "InvoiceNo": ["1", "2", "3", "4"],
        "StockCode": ["A", "A", "B", "C"],
        "Quantity": [1, 1, 1, 1],
        "InvoiceDate": ["2011-01-10 10:00", "2011-06-30 23:00", "2011-07-01 09:00",
                        "2011-03-01 12:00"],
        "UnitPrice": [5.0, 6.0, 7.0, 8.0],
        "CustomerID": [1.0, 1.0, 1.0, 2.0],
        "Country": ["France", "France", "Germany", "Italy"],
    })


@pytest.mark.parametrize(("as_of", "country"), [
    pytest.param("2011-06-30", "France", id="before-move"),
    pytest.param("2011-07-01", "Germany", id="after-move"),
])
def test_online_retail_country_as_of(as_of, country):
    ds = load_online_retail(_moved(), as_of=as_of)
    assert ds.customers.set_index("customer_id")["country"].to_dict() == {
        "1": country, "2": "Italy"}
    fs = build_features(ds.transactions, ds.customers, as_of)
    assert fs.frame.loc["1", "country"] == country


def test_online_retail_country_as_of_through_the_cli(tmp_path, capsys):
    src = tmp_path / "retail.csv"
    # whole-number ids: a CSV "1.0" id stays "1.0" (id parsing is the reader's business)
    _moved().astype({"CustomerID": "int64"}).to_csv(src, index=False)
    cli_ok(["features", "--loader", "online_retail", "--path", str(src), "--as-of",
            "2011-06-30", "--out", str(tmp_path / "f.parquet")], capsys)
    f = pd.read_parquet(tmp_path / "f.parquet")
    assert f["country"].to_dict() == {"1": "France", "2": "Italy"}


def test_online_retail_bad_as_of_refused():
    with pytest.raises(ConfigError, match=r"as_of='30/06/2011' is not a date"):
        load_online_retail(_moved(), as_of="30/06/2011")


# ------------------------------------------------------------------------- properties

_ids = st.sampled_from(["a", "b", "c", "d"])
_rows = st.lists(st.tuples(_ids, st.integers(0, 90), st.integers(0, 500)),
                 min_size=1, max_size=20)
_signups = st.dictionaries(st.sampled_from(["a", "b", "p", "q"]),
                           st.one_of(st.none(), st.integers(-30, 90)), max_size=4)
_BASE = pd.Timestamp("2024-01-01")


def _frames(rows, signups) -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    tx["timestamp"] = _BASE + pd.to_timedelta(tx.pop("day"), unit="D")
    tx["customer_id"] = tx["customer_id"].astype("str")
    tx["amount"] = tx["amount"].astype("float64")
    cu = pd.DataFrame({
        "customer_id": pd.array(list(signups), dtype="str"),
        "signup_date": pd.to_datetime([None if d is None else _BASE + pd.Timedelta(days=d)
                                       for d in signups.values()]).astype("datetime64[ns]"),
    })
    return tx, cu


@given(_rows, _rows, _signups, st.integers(0, 60))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_not_yet_customers_never_appear_and_future_rows_never_leak(
    rows, future, signups, as_of_day
):
    tx, cu = _frames(rows, signups)
    as_of = _BASE + pd.Timedelta(days=as_of_day)
    cut = as_of + pd.Timedelta(days=1)
    past = tx[tx["timestamp"] < cut]
    if past.empty:
        with pytest.raises(ConfigError, match="before the first transaction"):
            build_features(tx, cu, as_of)
        return
    fut, _ = _frames(future, {})
    fut["timestamp"] = fut["timestamp"] + (cut - _BASE)  # every extra row is after as_of
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # past may end long before as_of
        base = build_features(tx, cu, as_of)
        more = build_features(pd.concat([tx, fut], ignore_index=True), cu, as_of)
    # first appearance = earliest of first row and signup, among those that exist
    first = tx.groupby("customer_id")["timestamp"].min()
    sign = cu.set_index("customer_id")["signup_date"]
    ids = sorted(set(first.index) | set(sign.index))
    seen = pd.concat([first.reindex(ids), sign.reindex(ids)], axis=1).min(axis=1)
    not_yet = {c for c in ids if pd.notna(seen[c]) and seen[c] >= cut}
    assert not_yet.isdisjoint(base.frame.index)
    assert set(base.frame.index) == set(ids) - not_yet
    assert base.report["not_yet_customers"] == len(not_yet)
    # rows after as_of (new customers included) change nothing for those who exist
    extra_known = set(fut["customer_id"]) & (set(sign.index) - set(first.index))
    newly_late = {c for c in extra_known if pd.isna(sign[c])}
    expected = base.frame.drop(index=sorted(newly_late))
    pd.testing.assert_frame_equal(expected, more.frame)
    assert np.isfinite(more.frame["monetary"].to_numpy()).all()

"""refresh: new alerts only (hand-made history), exact movers and shares, the folder, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.datasets import make_portfolio
from segml.errors import ConfigError, OutputExistsError, SchemaError
from segml.monitoring import psi
from segml.refresh import RefreshResult, new_alerts, previous_assignments, refresh
from segml.refresh.page import render_refresh_page
from segml.scoring import score

PREV, NOW = pd.Timestamp("2024-09-30"), pd.Timestamp("2024-12-31")


def _history() -> pd.DataFrame:
    """A lost years ago; B lapses between the runs; C is active; D lapsed, came back, lapsed."""
    dates = {
        "A": list(pd.date_range("2020-01-01", periods=12, freq="30D")),
        "B": list(pd.date_range("2024-01-04", "2024-08-31", freq="30D")),
        "C": list(pd.date_range("2024-01-01", periods=12, freq="30D"))
        + [pd.Timestamp("2024-09-30"), pd.Timestamp("2024-12-31")],
        "D": list(pd.date_range("2023-01-01", "2023-12-31", freq="7D"))
        + [pd.Timestamp("2024-10-05")],
    }
    rows = [(c, d, 10.0 + i, f"{c}{i}") for c, ds in dates.items() for i, d in enumerate(ds)]
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "order_id"])


def test_only_new_alerts_on_a_hand_made_history(fit_model):
    tx = _history()
    model = fit_model(tx, None, PREV, k=2)
    previous = score(model, tx, None, PREV).frame.assign(as_of="2024-09-30")
    r = refresh(model, tx, as_of=NOW, previous=previous)  # the date comes from the as_of column
    assert r.previous_as_of == PREV
    # at 2024-09-30 A (1,404 days) and D (274 days) alert; at 2024-12-31 A, B (122 days, 4.1x
    # its 30-day interval) and D (87 days after coming back on 2024-10-05, 7.2x its 12 days)
    got = r.alerts[["customer_id", "alert", "value", "new"]].values.tolist()
    assert got == [["A", "activity_drop", 1496.0, False], ["B", "activity_drop", 122.0, True],
                   ["D", "activity_drop", 87.0, True]]
    assert r.new_alerts["customer_id"].tolist() == ["B", "D"]
    assert (r.counts["alerts_now"], r.counts["alerts_before"], r.counts["new_alerts"]) == (3, 2, 2)
    assert r.counts["new_alerts_by_kind"] == {"activity_drop": 2}


def test_new_alerts_rule():
    cur = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
                        "alert": ["activity_drop"] * 3 + ["payment_slip"] * 2,
                        "value": [900.0, 80.0, 40.0, 12.0, 9.0]})
    old = pd.DataFrame({"customer_id": ["a", "c", "d", "b"],
                        "alert": ["activity_drop", "activity_drop", "payment_slip",
                                  "payment_slip"],
                        "value": [810.0, 200.0, 10.0, 8.0]})
    # a: alerting then, no purchase since (900 >= 90) -> old; b: only a payment alert then;
    # c: alerting then but bought since (40 < 90) -> a new episode; d: slip already then; e: new
    assert new_alerts(cur, old, days_between=90).tolist() == [False, True, True, False, True]
    with pytest.raises(SchemaError, match=r"previous alerts: missing column\(s\) \['value'\]"):
        new_alerts(cur, old.drop(columns="value"), days_between=90)


@pytest.fixture(scope="module")
def run(fit_model):
    pf = make_portfolio(400, random_state=1)
    prev = pf.as_of - pd.Timedelta(days=91)
    model = fit_model(pf.transactions, pf.customers, prev, k=3)
    today = score(model, pf.transactions, pf.customers, pf.as_of).frame
    names = today.set_index("customer_id")["segment_name"]
    # the previous run as it would have been: today's segments, 3 customers elsewhere,
    # 2 customers absent (new since), 1 customer gone since
    before = names.copy()
    moved = before.index[[0, 5, 9]]
    levels = sorted(set(names))
    for c in moved:
        before[c] = levels[(levels.index(before[c]) + 1) % len(levels)]
    before = pd.concat([before.drop(before.index[[1, 2]]), pd.Series({"GONE": levels[0]})])
    r = refresh(model, pf.transactions, pf.customers, as_of=pf.as_of, previous=before,
                previous_as_of=prev)
    return r, names, before, moved


def test_movers_migration_and_shares_are_exact(run):
    r, names, before, moved = run
    expect = pd.DataFrame({"customer_id": list(moved), "from_segment": before[moved].tolist(),
                           "to_segment": names[moved].tolist()})
    pd.testing.assert_frame_equal(r.movers, expect, check_dtype=False)
    assert r.migration.to_numpy().sum() == len(names) - 2
    assert r.migration.to_numpy().trace() == len(names) - 2 - 3
    assert (r.counts["only_before"], r.counts["only_now"], r.counts["movers"]) == (1, 2, 3)
    seg = r.segments.set_index("segment")
    assert seg["previous_n"].to_dict() == before.value_counts().to_dict()
    assert seg["current_n"].to_dict() == names.value_counts().to_dict()
    np.testing.assert_allclose(
        r.segment_psi, psi(before.value_counts(normalize=True)[seg.index].to_numpy(),
                           names.value_counts(normalize=True)[seg.index].to_numpy()),
        rtol=1e-12)
    assert r.drift is not None and r.drift.n_new == int((r.scores["segment_id"] >= 0).sum())
    d = r.drift_table()
    assert d["against"].tolist()[-2:] == ["training", "previous_run"]
    assert set(d["what"]) == {"recency_days", "frequency", "monetary", "segment_shares"}


def test_refresh_folder_is_written_once_and_feeds_the_next_refresh(run, tmp_path):
    r = run[0]
    out = r.write(tmp_path / "ref", page="<html></html>")
    files = sorted(p.name for p in out.iterdir())
    assert files == ["drift.csv", "migration.csv", "movers.csv", "new_alerts.csv",
                     "refresh.html", "scores.csv", "segments.csv", "summary.json"]
    assert len(pd.read_csv(out / "movers.csv")) == 3
    assert json.loads((out / "summary.json").read_text())["counts"]["movers"] == 3
    with pytest.raises(OutputExistsError, match=r"already exists"):
        r.write(tmp_path / "ref")
    prev, when = previous_assignments(out / "scores.csv")
    assert when == r.as_of and prev.to_dict() == run[1].to_dict()


def test_previous_errors():
    ok = pd.DataFrame({"customer_id": ["a", "b"], "segment_name": ["x", "y"]})
    with pytest.raises(SchemaError, match=r"previous: 1 duplicated customer id\(s\), e.g. 'a'"):
        previous_assignments(pd.concat([ok, ok.iloc[:1]]))
    with pytest.raises(SchemaError, match=r"previous: no segment column 'segment_name'.*"
                       r"--segment-column"):
        previous_assignments(ok.rename(columns={"segment_name": "seg"}))
    with pytest.raises(SchemaError, match=r"previous: no customer_id column"):
        previous_assignments(ok.drop(columns="customer_id"))
    with pytest.raises(SchemaError, match=r"the as_of column holds 2 dates"):
        previous_assignments(ok.assign(as_of=["2024-01-01", "2024-02-01"]))


def test_refresh_date_errors(fit_model):
    tx = _history()
    model = fit_model(tx, None, PREV, k=2)
    prev = pd.Series(["segment_0"] * 4, index=list("ABCD"))
    with pytest.raises(ConfigError, match=r"previous_as_of is needed .*--previous-as-of"):
        refresh(model, tx, as_of=NOW, previous=prev)
    with pytest.raises(ConfigError, match=r"previous_as_of=2024-12-31 is not before "
                       r"as_of=2024-12-31"):
        refresh(model, tx, as_of=NOW, previous=prev, previous_as_of=NOW)


@settings(max_examples=50)
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from(["activity_drop",
                                                                     "payment_slip"]),
                          st.floats(0, 400), st.booleans()), unique_by=lambda t: t[:2]),
       st.floats(1, 200))
def test_new_alerts_properties(rows, days):
    cur = pd.DataFrame([r[:3] for r in rows], columns=["customer_id", "alert", "value"])
    was = np.array([r[3] for r in rows], dtype=bool)
    new = new_alerts(cur, cur.loc[was], days_between=days)
    # nothing alerting at the previous run -> every alert is new
    assert new_alerts(cur, cur.iloc[:0], days_between=days).all()
    # an alert not raised before is new; one raised before is new only as a fresh episode
    fresh = (cur["alert"] == "activity_drop").to_numpy() & (cur["value"].to_numpy() < days)
    assert new.tolist() == (~was | (was & fresh)).tolist()


def test_page_shows_the_tables_and_escapes_names(run):
    r = run[0]
    page = render_refresh_page(r, max_rows=2)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "Migration (rows: previous segment, columns: today)" in page
    assert f"New alerts since the previous run ({r.counts['new_alerts']:,} of" in page
    assert page.count("<tr") >= len(r.segments) + len(r.migration)
    odd = RefreshResult(**{**r.__dict__,
                           "segments": r.segments.assign(segment="<b>&x")})
    assert "&lt;b&gt;&amp;x" in render_refresh_page(odd) and "<b>&x" not in \
        render_refresh_page(odd)

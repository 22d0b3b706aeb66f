"""The report's front page and its "Alerts and drift" section, on hand-built runs."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from report_fixtures import parse, tiny_run

from segml.refresh import RefreshResult
from segml.report import render_report
from segml.report.markup import _cards


def _sections(page: str) -> dict[str, str]:
    return {k: "".join(v) for k, v in parse(page).by_section.items()}


def _rows(page: str, section: str) -> list[list[str]]:
    """Cell texts of the first table of a section, header row first."""
    body = page[page.index(f'<section id="{section}">'):]
    body = body[:body.index("</section>")]
    table = body[body.index("<table>"):body.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
            for r in rows]


def _refresh(prev: list[float], now: list[float], *, new: list[bool]) -> RefreshResult:
    alerts = pd.DataFrame({"customer_id": [f"C00{i}" for i in range(len(new))],
                           "alert": ["activity_drop"] * len(new),
                           "value": [200.0 + i for i in range(len(new))],
                           "threshold": [150.0] * len(new),
                           "message": ["no purchase for 200 days"] * len(new), "new": new})
    segs = pd.DataFrame({"segment": ["loyal & high value", "lapsed"], "previous_n": [4, 6],
                         "current_n": [4, 4], "previous_share": prev, "current_share": now})
    return RefreshResult(
        as_of=pd.Timestamp("2025-03-31"), previous_as_of=pd.Timestamp("2024-12-31"),
        scores=pd.DataFrame(), movers=pd.DataFrame(), migration=pd.DataFrame(),
        segments=segs, segment_psi=0.041, drift=None, alerts=alerts,
        counts={"new_alerts": int(sum(new)), "alerts_now": len(new), "alerts_before": 1,
                "movers": 2})


def test_front_page_segment_table_and_headline():
    page = render_report(tiny_run(), {})
    s = _sections(page)
    front = page[page.index('<section id="front">'):]
    front = front[:front.index("</section>")]
    assert "<b>8</b><span>customers in segments</span>" in front
    assert "<b>2</b><span>segments</span>" in front
    # pareto of [500, 400, 600, 20, 30, 10, 40, 400]: top ceil(1.6)=2 -> 1100 / 2000
    assert "The top 20% of customers bring 55% of revenue." in s["front"]
    assert _rows(page, "front") == [
        ["segment", "customers", "share", "revenue share", "role"],
        ["0 · loyal &amp; high value", "4", "50.0%", "95.0%", "precious"],
        ["1 · lapsed", "4", "50.0%", "5.0%", "to win back"],
    ]
    assert "Trend since last run: not shown, no previous run is known" in s["front"]
    assert "Actions per segment: not recorded" in s["front"]
    # no prospects in this run, no alerts computed: neither card is drawn
    assert "prospects" not in front and "alert" not in front
    assert "alerts-drift" not in parse(page).sections


def test_front_page_actions_prospects_and_abc():
    run = tiny_run()
    profiles = SimpleNamespace(**{**vars(run.profiles),
                                  "actions": pd.Series(["keep them close", "win-back offer"])})
    frame = run.features.frame.assign(
        is_prospect=[False] * 8, abc_class=["A", "B", "A", "C", "C", "C", "C", "B"])
    extra = pd.DataFrame({c: [np.nan] * 2 for c in frame.columns},
                         index=pd.Index(["P1", "P2"], name="customer_id"))
    extra["is_prospect"] = True
    frame = pd.concat([frame, extra])
    run = tiny_run(profiles=profiles, features=SimpleNamespace(
        frame=frame, as_of=run.features.as_of, spec=None, report={"n_prospects": 2}))
    page = render_report(run, {})
    s = _sections(page)
    assert _rows(page, "front")[0][-2:] == ["role", "action"]
    assert _rows(page, "front")[1][-1] == "keep them close"
    assert ('<td class="wide"><span class="clip" title="keep them close">keep them close'
            '</span></td>') in page
    assert "<b>2</b><span>prospects (no purchase yet, not in a segment)</span>" in page
    assert "2 prospects (customers with no purchase yet) are not in any segment" in s["front"]
    # 2 of the 8 buyers are class A (prospects not counted)
    assert ("The top 20% of customers bring 55% of revenue; class A (the customers who make "
            "the first 80% of revenue) is 25% of customers.") in s["front"]


def test_trend_and_alerts_section_from_a_refresh():
    ref = _refresh([0.4, 0.6], [0.5, 0.5], new=[True, False, True])
    page = render_report(tiny_run(), {}, refresh=ref)
    doc = parse(page)
    assert doc.sections[:3] == ["front", "alerts-drift", "choice-of-k"]
    rows = _rows(page, "front")
    assert rows[0][4] == "trend"
    assert [r[4] for r in rows[1:]] == ["▲\u00a0+10.0\u00a0pts", "▼\u00a0-10.0\u00a0pts"]
    s = _sections(page)
    assert "<b>2</b><span>new alerts since the last run</span>" in page
    assert "2 alert(s) raised since the last run, 3 open in all" in s["front"]
    assert "share of customers since the run of 2024-12-31, in points" in s["front"]
    a = s["alerts-drift"]
    assert "Refresh as of 2025-03-31, compared with the run of 2024-12-31." in a
    assert "C000" in a and "C002" in a and "C001" not in a  # only the new ones listed
    assert "segment_shares" in a and "previous_run" in a  # the drift table


def test_refresh_with_no_new_alert_says_so():
    page = render_report(tiny_run(), {}, refresh=_refresh([0.5, 0.5], [0.5, 0.5],
                                                          new=[False]))
    s = _sections(page)
    assert "No new alert since the previous run." in s["alerts-drift"]
    assert [r[4] for r in _rows(page, "front")[1:]] == ["=\u00a0+0.0\u00a0pts"] * 2


def test_counters_shown_only_when_they_apply():
    report = {"n_customers": 8, "implausible_ages": 0, "implausible_birth_years": 0,
              "missing_income": 3, "rows_cancelled": 0, "rows_after_as_of": 5}
    run = tiny_run(quality={"features": report})
    s = _sections(render_report(run, {}))["data-quality"]
    # the tiny frame has no age, birth_year or income column: those checks mean nothing
    assert "implausible" not in s and "missing_income" not in s
    assert "n_customers8" in s and "rows_after_as_of5" in s
    assert "Checked, none found: rows_cancelled." in s
    frame = run.features.frame.assign(age=40.0, income=1.0)
    run = tiny_run(quality={"features": report}, features=SimpleNamespace(
        frame=frame, as_of=run.features.as_of, spec=None, report=report))
    s = _sections(render_report(run, {}))
    assert "missing_income3" in s["data-quality"]
    assert "implausible_ages" in s["data-quality"]
    # shown once: the features section does not repeat the data-quality section's counts
    assert "Feature-building counts" not in s["features"]


def test_feature_counts_in_features_section_when_quality_lacks_them():
    s = _sections(render_report(tiny_run(quality={}), {}))
    assert "Feature-building counts" in s["features"] and "n_customers8" in s["features"]


@pytest.mark.parametrize("value", [None, float("nan"), "", np.nan])
def test_empty_kpi_cards_are_left_out(value):
    assert _cards({"empty": value, "k": 2}) == (
        '<div class="cards"><div class="card"><b>2</b><span>k</span></div></div>')
    assert _cards({"empty": value}) == ""


def test_k_card_for_kmeans_has_no_empty_covariance():
    page = render_report(tiny_run(), {})
    k = page[page.index('<section id="choice-of-k">'):]
    k = k[:k.index("</section>")]
    assert "covariance" not in k
    assert "<b></b>" not in page


def test_every_table_in_a_scroll_box_and_numbers_marked():
    page = render_report(tiny_run(), {})
    assert page.count("<table") == page.count('<div class="tbl"><table')
    assert '<td class="num">95.0%</td>' in page


def test_long_names_and_actions_are_clipped_with_the_whole_text_in_the_title():
    """On screen a long name or action is cut to a few lines; the title and print keep it."""
    run = tiny_run()
    name = "top-value active frequent growing late-paying buyers, region North-West & <b>"
    action = "tighter payment terms: shorter due dates, deposits or pre-payment"
    profiles = SimpleNamespace(**{**vars(run.profiles),
                                  "names": pd.Series([name, "lapsed"]),
                                  "actions": pd.Series([action, "win-back offer"])})
    page = render_report(tiny_run(profiles=profiles), {})
    esc = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f'<span class="clip" title="0 · {esc}">0 · {esc}</span>' in page
    assert f'<td class="wide"><span class="clip" title="{action}">{action}</span></td>' in page
    # the customer-share column is marked secondary (hidden in a narrow window), header too
    assert '<th class="secondary">share</th>' in page
    assert '<td class="num secondary">50.0%</td>' in page
    css = page[page.index("<style>"):page.index("</style>")]
    assert "-webkit-line-clamp: 3" in css
    printed = css[css.index("@media print"):]
    assert ".clip, th .clip { display: inline; -webkit-line-clamp: none" in printed

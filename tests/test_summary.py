"""The printed run summary: the segment table with each segment's action, in 100 columns."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from segml.pipeline.summary import format_segments, summary_table

ACTION = ("tighter payment terms: shorter due dates, deposits or pre-payment, reminders before "
          "the due date, review credit limits")
LONG = "top-value active frequent growing late-paying buyers, region North-West (higher spend)"


def _run(actions: pd.Series | None) -> SimpleNamespace:
    prof = SimpleNamespace(
        names=pd.Series({0: LONG, 1: "lapsed"}), roles=pd.Series({0: "to secure",
                                                                  1: "to serve efficiently"}),
        table=pd.DataFrame({"n": [1234, 56], "share": [0.9566, 0.0434],
                            "revenue_share": [0.991, 0.009]}, index=[0, 1]))
    if actions is not None:
        prof.actions = actions
    return SimpleNamespace(profiles=prof)


def test_summary_table_carries_the_whole_action():
    table = summary_table(_run(pd.Series({1: "win-back voucher", 0: ACTION})))
    assert list(table.columns) == ["segment", "role", "customers", "share", "revenue", "action"]
    assert table.loc[0, "action"] == ACTION and table.loc[1, "action"] == "win-back voucher"
    assert table.loc[0, "share"] == "95.7%" and table.loc[1, "revenue"] == "0.9%"
    # profiles without actions (an older model): no action column, not an empty one
    assert "action" not in summary_table(_run(pd.Series(dtype=object))).columns
    assert "action" not in summary_table(_run(None)).columns


def test_printed_segments_fit_100_columns_and_cut_nothing():
    text = format_segments(summary_table(_run(pd.Series({0: ACTION, 1: "win-back voucher"}))))
    lines = text.splitlines()
    assert max(map(len, lines)) <= 100, text
    # id 2 + name + role 20 + customers 9 + share 5 + revenue 7, two spaces between: the
    # name column gets 100 - 53 = 47 characters and the long name wraps inside it
    assert lines[0] == ("id  segment" + " " * 40 + "  role" + " " * 16
                        + "  customers  share  revenue")
    assert lines[1] == (" 0  top-value active frequent growing late-paying" + " " * 2
                        + "  to secure" + " " * 11 + "      1,234  95.7%    99.1%")
    assert lines[2] == "    buyers, region North-West (higher spend)"
    assert lines[3] == ("    action: tighter payment terms: shorter due dates, deposits or "
                        "pre-payment, reminders before the")
    assert lines[4] == "            due date, review credit limits"
    assert lines[5] == (" 1  lapsed" + " " * 41 + "  to serve efficiently         56   4.3%"
                        "     0.9%")
    assert lines[6] == "    action: win-back voucher"
    assert len(lines) == 7


def test_narrow_width_is_honoured():
    text = format_segments(summary_table(_run(pd.Series({0: ACTION, 1: "x"}))), width=72)
    assert max(map(len, text.splitlines())) <= 72, text

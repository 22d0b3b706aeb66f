"""The report's front page (a sales manager's one screen) and its "Alerts and drift" section.

The front page says, on one screen: which segments there are (colour, name, size, revenue
share, trend since the last run when one is known, role and action when the profiles carry
them), how concentrated revenue is (Pareto / ABC, one sentence), how many alerts are open
and how many prospects are not in any segment. The analyst's sections follow it.

The "Alerts and drift" section is built from a refresh (:class:`segml.refresh.RefreshResult`,
duck-typed: ``segments``, ``alerts``, ``new_alerts``, ``counts``, ``drift_table()``,
``segment_psi``, ``as_of``, ``previous_as_of``); without one it is not shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from segml.report.figures import _shares
from segml.report.markup import _cards, _e, _fmt, _note, _table

#: Rows of the new-alerts table shown in the report (the CSV of ``segml alerts`` has all).
MAX_ALERT_ROWS = 25


def _as_dict(values: Any) -> dict[Any, Any] | None:
    """Return a per-segment Series/dict as a plain dict (None when absent or empty)."""
    if values is None:
        return None
    try:
        out = dict(values)
    except (TypeError, ValueError):
        return None
    return out or None


def _lookup(mapping: Mapping[Any, Any] | None, seg: Any) -> Any:
    if not mapping:
        return None
    if seg in mapping:
        return mapping[seg]
    return mapping.get(str(seg))


def n_prospects(run: Any) -> int | None:
    """Count the customers without a purchase (prospects), who are in no segment.

    Parameters
    ----------
    run : RunResult
        A run; its feature set's ``is_prospect`` column (or ``report["n_prospects"]``).

    Returns
    -------
    int or None
        The count, or None when the run does not record it.
    """
    fs = getattr(run, "features", None)
    frame = getattr(fs, "frame", None)
    if isinstance(frame, pd.DataFrame) and "is_prospect" in frame.columns:
        return int(frame["is_prospect"].fillna(False).astype(bool).sum())
    report = getattr(fs, "report", None)
    if isinstance(report, Mapping) and report.get("n_prospects") is not None:
        return int(report["n_prospects"])
    return None


def concentration_sentence(run: Any) -> str | None:
    """Return the Pareto / ABC headline in one sentence (None without revenue).

    E.g. "The top 20% of customers bring 67% of revenue; class A (the customers who make
    the first 80% of revenue) is 24% of customers."
    """
    pareto = getattr(run, "pareto", None)
    top20 = getattr(pareto, "top20_share", None)
    if top20 is None or not isinstance(top20, int | float) or math.isnan(float(top20)):
        return None
    text = f"The top 20% of customers bring {float(top20):.0%} of revenue"
    frame = getattr(getattr(run, "features", None), "frame", None)
    if isinstance(frame, pd.DataFrame) and "abc_class" in frame.columns:
        buyers = frame
        if "is_prospect" in frame.columns:
            buyers = frame[~frame["is_prospect"].fillna(False).astype(bool)]
        cls = buyers["abc_class"].astype("string")
        if len(cls) and (cls == "A").any():
            text += (f"; class A (the customers who make the first 80% of revenue) is "
                     f"{float((cls == 'A').mean()):.0%} of customers")
    return text + "."


def _trend(refresh: Any, table: pd.DataFrame) -> list[str] | None:
    """Return the change of each segment's customer share since the previous run."""
    segs = getattr(refresh, "segments", None)
    if not isinstance(segs, pd.DataFrame) or not {"segment", "previous_share",
                                                  "current_share"} <= set(segs.columns):
        return None
    by = {str(r.segment): r for r in segs.itertuples()}
    out = []
    for seg, row in table.iterrows():
        r = by.get(str(row["name"])) or by.get(str(seg))
        if r is None:
            out.append("new segment")
            continue
        d = 100.0 * (float(r.current_share) - float(r.previous_share))
        arrow = "\u25b2" if d > 0.05 else ("\u25bc" if d < -0.05 else "=")
        out.append(f"{arrow}\u00a0{d:+.1f}\u00a0pts")
    return out


def alert_counts(refresh: Any) -> dict[str, int] | None:
    """Return ``{"new": n, "open": n}`` alerts of a refresh, or None without one."""
    if refresh is None:
        return None
    alerts = getattr(refresh, "alerts", None)
    if not isinstance(alerts, pd.DataFrame):
        return None
    new = int(alerts["new"].sum()) if "new" in alerts.columns else len(alerts)
    return {"new": new, "open": int(len(alerts))}


def front_page(run: Any, figures: Mapping[str, bytes], refresh: Any = None) -> str:
    """Render the front page: KPI cards, the concentration headline and the segment table.

    Parameters
    ----------
    run : RunResult
        The pipeline's result.
    figures : dict of str to bytes
        Unused (the front page has no figure; the signature of every section).
    refresh : RefreshResult, optional
        Gives the trend column and the alerts count.

    Returns
    -------
    str
        HTML.
    """
    shares = _shares(run)
    prospects = n_prospects(run)
    alerts = alert_counts(refresh)
    revenue = None if shares is None or math.isnan(shares.total_revenue) else \
        shares.total_revenue
    parts = [_cards({
        "customers in segments": None if shares is None else shares.n_customers,
        "segments": None if shares is None else len(shares.table),
        "prospects (no purchase yet, not in a segment)": prospects or None,
        "revenue": revenue,
        "new alerts since the last run": None if alerts is None else alerts["new"],
    })]
    sentence = concentration_sentence(run)
    if sentence:
        parts.append(f'<p class="headline">{_e(sentence)}</p>')
    verdict_note = (getattr(getattr(run, "selection", None), "settings", None) or {}).get(
        "verdict_note")
    if verdict_note:  # value tiers or a forced k: said before the table, not in an appendix
        parts.append(_note(verdict_note[0].upper() + verdict_note[1:] + "."))
    if shares is None:
        parts.append(_note("No segment labels were recorded for this run."))
        return "".join(parts)
    t = shares.table
    profiles = getattr(run, "profiles", None)
    roles = _as_dict(getattr(profiles, "roles", None))
    actions = _as_dict(getattr(profiles, "actions", None))
    front = pd.DataFrame(index=pd.Index(
        [f"{seg} \u00b7 {name}" if str(name) != str(seg) else str(seg)
         for seg, name in zip(t.index, t["name"], strict=True)], name="segment"))
    front["customers"] = t["customers"].to_numpy(np.int64)
    front["share"] = t["customer_share"].to_numpy()
    if "revenue_share" in t.columns and t["revenue_share"].notna().any():
        front["revenue share"] = t["revenue_share"].to_numpy()
    trend = _trend(refresh, t) if refresh is not None else None
    if trend is not None:
        front["trend"] = trend
    if roles:
        front["role"] = [_lookup(roles, s) for s in t.index]
    if actions:
        front["action"] = [_lookup(actions, s) for s in t.index]
    colors = dict(zip(front.index, t["color"], strict=True))
    # long names and actions are cut to a few lines on screen (whole in the title and in
    # print), and a narrow window hides the customer-share column (the count stays), so ten
    # segments with long names still fit the first screen at 800 px
    parts.append('<div class="front-table">' + _table(front, swatches=colors,
                                                      classes={"action": "wide",
                                                               "role": "role",
                                                               "share": "secondary"},
                                                      clip=("", "action")) + "</div>")
    notes = []
    if trend is None:
        notes.append("Trend since last run: not shown, no previous run is known for this "
                     "report (segml refresh compares a run with the previous one).")
    else:
        prev = getattr(refresh, "previous_as_of", None)
        notes.append("Trend: change of each segment's share of customers since the run of "
                     f"{_fmt(prev) if prev is not None else 'the previous run'}, in points.")
    if prospects:
        notes.append(f"{prospects:,} prospects (customers with no purchase yet) are not in "
                     "any segment; shares are of the customers in segments.")
    if not actions:
        notes.append("Actions per segment: not recorded by this run's profiles.")
    if alerts is not None:
        notes.append(f"{alerts['new']:,} alert(s) raised since the last run, "
                     f"{alerts['open']:,} open in all: see Alerts and drift.")
    parts.append("".join(f'<p class="small">{_e(n)}</p>' for n in notes))
    return "".join(parts)


def alerts_section(run: Any, figures: Mapping[str, bytes], refresh: Any = None) -> str:
    """Render the "Alerts and drift" section of a refresh (new alerts, drift table).

    Parameters
    ----------
    run : RunResult
        The pipeline's result (unused; the signature of every section).
    figures : dict of str to bytes
        Unused.
    refresh : RefreshResult
        The refresh to show.

    Returns
    -------
    str
        HTML.
    """
    if refresh is None:
        return _note("No refresh was given: alerts and drift need a previous run "
                     "(segml refresh / segml alerts).")
    counts = dict(getattr(refresh, "counts", None) or {})
    as_of, prev = getattr(refresh, "as_of", None), getattr(refresh, "previous_as_of", None)
    parts = []
    if as_of is not None and prev is not None:
        parts.append(f"<p>Refresh as of {_e(_fmt(as_of))}, compared with the run of "
                     f"{_e(_fmt(prev))}.</p>")
    parts.append(_cards({
        "new alerts": counts.get("new_alerts"), "open alerts": counts.get("alerts_now"),
        "alerts at the previous run": counts.get("alerts_before"),
        "customers who moved segment": counts.get("movers"),
        "segment-share PSI vs the previous run": getattr(refresh, "segment_psi", None),
    }))
    new = getattr(refresh, "new_alerts", None)
    if isinstance(new, pd.DataFrame):
        if len(new):
            kinds = new["alert"].value_counts().rename_axis("alert").rename("new alerts")
            parts.append("<h3>New alerts by kind</h3>" + _table(kinds.to_frame()))
            shown = new.drop(columns=[c for c in ("threshold",) if c in new.columns])
            parts.append("<h3>New alerts</h3>" + _table(shown, index=False,
                                                          max_rows=MAX_ALERT_ROWS))
            parts.append(_note("The full list: segml alerts (CSV or Parquet)."))
        else:
            parts.append(_note("No new alert since the previous run."))
    drift = refresh.drift_table() if hasattr(refresh, "drift_table") else None
    if isinstance(drift, pd.DataFrame) and not drift.empty:
        drift = drift.sort_values("psi", ascending=False, kind="stable")
        parts.append("<h3>Drift (population stability index, highest first)</h3>"
                     + _table(drift, index=False, max_rows=20))
        parts.append(_note("PSI below 0.1: stable; 0.1 to 0.25: moderate shift; above "
                           "0.25: the segments should be re-fitted."))
    return "".join(parts)

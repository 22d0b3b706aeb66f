"""Segment names that are true: only traits that differ from the base, tested on the profile.

A name is built from parts in a fixed order, each only when the segment differs from the base
(every customer profiled) by a stated effect size AND a significance test at the segment's size:

1. **value tier** from the value index (revenue share / customer share): ``top-value``
   (>= 3), ``high-value`` (>= 1.5), ``mid-value``, ``low-value`` (< 2/3). Shown when the tier
   is not ``mid-value`` and the revenue column's Welch test is significant; the segment with
   the largest revenue share always shows its tier (it is never "average").
2. **recency state** on ``recency_days``: ``active`` (z <= -0.5); above the base (z >= 0.5)
   ``lapsed`` when the segment's median recency is beyond the base's 75th percentile (its
   typical customer waited longer than three customers in four) or beyond 3 times the base's
   median gap between orders (``interpurchase_mean_days``: silent for three purchase cycles;
   without either number: z >= 1), else ``cooling``.
3. **frequency**: ``frequent`` (z >= 0.5); ``one-off`` when customers who bought once are a
   clear majority of the segment with a real lift (the attribute thresholds below, on the
   profile's ``one_off_share``); else ``occasional`` when z <= -0.5.
4. **trend**: ``growing`` (``spend_trend`` z >= 0.5 and mean > 0) or ``declining`` (z <= -0.5
   and mean < 0; not said of a lapsed segment, where it is implied).
5. **payment**: ``late-paying`` (``days_late_mean`` z >= 0.5) or ``prompt-paying``.
6. **one attribute** (a category of a demographic / geographic / firmographic column) when it
   holds for at least 60% of the segment with a lift of at least 1.5 over its base share and a
   one-sided binomial test against the base share is significant.

``z`` is the standardised difference (segment mean - base mean) / base standard deviation, and
"significant" means Welch's t-test of the segment against the rest of the base (from the
profile's means, standard deviations and counts) has ``p < alpha`` (default 0.01).

Names are unique: segments that would share a name each get their next most distinctive true
trait that a look-alike does not share (other numeric features by ``|z|``, then further
attributes by lift), until they differ. When no trait against the base separates them, the
look-alikes are ranked on the feature that separates them best ("lower spend" / "higher
spend"; every pair of neighbours differs at Welch ``p < alpha``). Only when that fails too is
``(segment <id>)`` appended, and the result says so in :attr:`Naming.notes`. Everything is
deterministic (ties broken by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from segml.cluster._naming_words import (
    CMP_WORDS,
    attribute_words,
    extra_words,
    number,
    ordinal,
    p_text,
    render,
)
from segml.errors import ConfigError
from segml.playbook import STATE_VALUES

__all__ = ["NamingThresholds", "Naming", "Trait", "name_segments", "VALUE_TIERS", "STATES"]

#: Value tiers from the value index, highest first: (word, lowest value index).
VALUE_TIERS: tuple[tuple[str, float], ...] = (
    ("top-value", 3.0),
    ("high-value", 1.5),
    ("mid-value", 2.0 / 3.0),
    ("low-value", -np.inf),
)

#: The words every state can take ("typical" = not different from the base, or not measured).
STATES = STATE_VALUES

#: Never extra traits: the parts above, and features that restate them mechanically (scores,
#: clv ~ monetary, growth_potential = shortfall of spend vs peers) or that are trivially
#: extreme for one-off buyers (a single purchase is 100% in its season and quarter).
_NOT_EXTRA = {"r_score", "f_score", "m_score", "recency_days", "frequency", "spend_trend",
              "days_late_mean", "clv", "growth_potential", "season_peak_share",
              "spend_q1_share", "spend_q2_share", "spend_q3_share", "spend_q4_share",
              "interpurchase_cv", "late_share", "days_late_max"}
_PARTS = ("recency_days", "frequency", "spend_trend", "days_late_mean")
@dataclass(frozen=True)
class NamingThresholds:
    """The thresholds a trait must pass to be named (documented in the module docstring).

    Parameters
    ----------
    min_effect : float, default=0.5
        Smallest ``|z|`` (difference from the base in base standard deviations).
    lapsed_effect : float, default=1.0
        Recency ``z`` from which a segment is ``lapsed`` rather than ``cooling`` when the
        profile lacks the base's 75th percentile (``base_q75``).
    alpha : float, default=0.01
        Largest p-value of the segment-vs-rest test.
    min_majority : float, default=0.6
        Smallest share of the segment an attribute must hold for.
    min_lift : float, default=1.5
        Smallest segment share / base share of an attribute.
    """

    min_effect: float = 0.5
    lapsed_effect: float = 1.0
    alpha: float = 0.01
    min_majority: float = 0.6
    min_lift: float = 1.5

    def __post_init__(self) -> None:
        checks = {
            "min_effect": self.min_effect > 0,
            "lapsed_effect": self.lapsed_effect >= self.min_effect,
            "alpha": 0 < self.alpha < 1,
            "min_majority": 0.5 <= self.min_majority <= 1,
            "min_lift": self.min_lift > 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"naming thresholds {bad} out of range ({self}). Fix: min_effect > 0, "
                "lapsed_effect >= min_effect, 0 < alpha < 1, 0.5 <= min_majority <= 1, "
                "min_lift > 1 (NamingThresholds(...))."
            )


@dataclass(frozen=True)
class Trait:
    """One true trait of a segment: the words in the name and the numbers behind them."""

    kind: str
    words: str
    feature: str
    strength: float
    evidence: str


@dataclass
class Naming:
    """Names, the traits behind them and the states the playbook reads.

    Attributes
    ----------
    names : pandas.Series
        Unique name per segment.
    traits : dict
        Segment -> the :class:`Trait` objects in its name, in name order.
    states : pandas.DataFrame
        Indexed by segment: ``value_tier``, ``recency_state``, ``frequency_state``,
        ``trend_state``, ``tenure_state``, ``payment_state`` (words of :data:`STATES`) and
        ``is_top_revenue`` (1.0 / 0.0).
    evidence : dict
        Segment -> {state column -> the numbers behind its value}.
    notes : list of str
        Last-resort suffixes (segments with no true trait left to tell them apart).
    """

    names: pd.Series
    traits: dict[Any, list[Trait]]
    states: pd.DataFrame
    evidence: dict[Any, dict[str, str]]
    notes: list[str] = field(default_factory=list)


class _Stats:
    """Lookup of one segment's numeric statistics in the tidy ``lift`` frame."""

    def __init__(self, lift: pd.DataFrame) -> None:
        self.rows = {(r["segment"], r["feature"]): r for r in lift.to_dict("records")}

    def get(self, s: Any, feature: str) -> dict[str, Any] | None:
        row = self.rows.get((s, feature))
        if row is None or pd.isna(row.get("z")) or pd.isna(row.get("segment_mean")):
            return None
        return row

    def significant(self, row: dict[str, Any], th: NamingThresholds) -> bool:
        p = row.get("p_value", np.nan)
        return bool(pd.notna(p) and p < th.alpha)

    def differs(self, row: dict[str, Any], th: NamingThresholds, sign: int) -> bool:
        return sign * float(row["z"]) >= th.min_effect and self.significant(row, th)

    @staticmethod
    def evidence(row: dict[str, Any], unit: str = "") -> str:
        p = row.get("p_value", np.nan)
        ptxt = f", Welch {p_text(float(p))}" if pd.notna(p) else ""
        return (f"{row['feature']} mean {number(row['segment_mean'])}{unit} vs "
                f"{number(row['base_mean'])}{unit} overall (z={row['z']:+.2f}{ptxt})")


def _tier(value_index: float) -> str:
    for word, low in VALUE_TIERS:
        if value_index >= low:
            return word
    return "low-value"  # pragma: no cover - the last bound is -inf


def _lapsed_or_cooling(
    st: _Stats, s: Any, row: dict[str, Any], th: NamingThresholds
) -> tuple[str, str]:
    """Lapsed: median recency beyond the base's 75th percentile or 3x the base's typical gap."""
    med, q75 = row.get("segment_median", np.nan), row.get("base_q75", np.nan)
    gap_row = st.rows.get((s, "interpurchase_mean_days"), {})
    gap = gap_row.get("base_median", np.nan)
    if pd.isna(med) or (pd.isna(q75) and pd.isna(gap)):
        return ("lapsed" if row["z"] >= th.lapsed_effect else "cooling"), ""
    if pd.notna(q75) and med > q75:
        return "lapsed", f"median {med:,.0f} days, beyond 3 in 4 customers ({q75:,.0f})"
    if pd.notna(gap) and gap > 0 and med > 3 * gap:
        return "lapsed", (f"median {med:,.0f} days, over 3x the typical gap between orders "
                          f"({gap:,.0f} days)")
    return "cooling", (f"median {med:,.0f} days, within the base's 75th percentile "
                       f"({q75:,.0f})" if pd.notna(q75) else "")


def _one_off(table: pd.DataFrame, s: Any, th: NamingThresholds) -> str | None:
    """Evidence text when the segment is mostly one-off buyers (majority, lift, binomial)."""
    if "one_off_share" not in table.columns or pd.isna(table.at[s, "one_off_share"]):
        return None
    n = table["n"].astype(float)
    base = float((table["one_off_share"] * n).sum() / n.sum())
    share = float(table.at[s, "one_off_share"])
    if base <= 0 or share < th.min_majority - 1e-9 or share / base < th.min_lift - 1e-9:
        return None
    k = round(share * int(table.at[s, "n"]))
    p = float(stats.binomtest(k, int(table.at[s, "n"]), base, alternative="greater").pvalue)
    if p >= th.alpha:
        return None
    return (f"{share:.0%} bought once vs {base:.0%} overall (lift {share / base:.2f}, "
            f"binomial {p_text(p)})")


def _attributes(
    top: pd.DataFrame, table: pd.DataFrame, s: Any, th: NamingThresholds
) -> list[Trait]:
    if top.empty:
        return []
    eps = 1e-9  # "at least": 0.6 / 0.4 is 1.4999999999999998 in floating point
    rows = top[(top["segment"] == s) & (top["segment_share"] >= th.min_majority - eps)
               & (top["lift"] >= th.min_lift - eps)]
    n = int(table.at[s, "n"])
    out = []
    for r in rows.sort_values(["lift", "column", "category"], ascending=[False, True, True],
                              kind="stable").to_dict("records"):
        k = round(float(r["segment_share"]) * n)
        p = float(stats.binomtest(k, n, float(r["base_share"]), alternative="greater").pvalue)
        if p < th.alpha:
            out.append(Trait(
                "attribute", attribute_words(str(r["column"]), str(r["category"])),
                str(r["column"]), float(r["lift"]),
                f"{r['column']} = {r['category']}: {r['segment_share']:.0%} of the segment vs "
                f"{r['base_share']:.0%} overall (lift {r['lift']:.2f}, binomial {p_text(p)})",
            ))
    return out


def _extra_numeric(st: _Stats, s: Any, features: Sequence[str], used: set[str],
                   th: NamingThresholds, size: int) -> list[Trait]:
    out = []
    for f in features:
        if f in used or f in _NOT_EXTRA:
            continue
        row = st.get(s, f)
        # measured on a clear majority of the segment (gaps between orders are not, for
        # one-off buyers)
        if row is None or row.get("n", size) < th.min_majority * size:
            continue
        z = float(row["z"])
        if not (st.differs(row, th, 1) or st.differs(row, th, -1)):
            continue
        low, high = extra_words(f)
        out.append(Trait("extra", high if z > 0 else low, f, abs(z), _Stats.evidence(row)))
    return sorted(out, key=lambda t: (-t.strength, t.feature))


def name_segments(
    table: pd.DataFrame,
    lift: pd.DataFrame,
    top_categories: pd.DataFrame,
    *,
    revenue_col: str = "monetary",
    thresholds: NamingThresholds | None = None,
) -> Naming:
    """Name every segment from its true traits (see the module docstring for the rules).

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by segment with ``n`` and, when revenue is known, ``share``,
        ``revenue_share`` and ``value_index``; ``prospect_share`` when known. The
        ``table`` of :class:`segml.cluster.ProfileResult`.
    lift : pandas.DataFrame
        Tidy ``segment, feature, segment_mean, base_mean, z, p_value`` and optionally
        ``segment_median`` and ``base_q75`` (the ``lift`` of a profile).
    top_categories : pandas.DataFrame
        Tidy ``segment, column, category, segment_share, base_share, lift``.
    revenue_col : str, default="monetary"
        Feature whose Welch test backs the value tier.
    thresholds : NamingThresholds or None, default=None
        ``None`` uses the defaults.

    Returns
    -------
    Naming
        Names, traits, states (for the playbook) and their evidence.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n": [500, 500], "share": [0.5, 0.5],
    ...                       "revenue_share": [0.8, 0.2], "value_index": [1.6, 0.4]})
    >>> lift = pd.DataFrame({
    ...     "segment": [0, 1, 0, 1], "feature": ["monetary"] * 2 + ["recency_days"] * 2,
    ...     "segment_mean": [800.0, 200, 20, 300], "base_mean": [500.0, 500, 160, 160],
    ...     "z": [1.0, -1.0, -0.9, 0.9], "p_value": [1e-9] * 4})
    >>> name_segments(table, lift, pd.DataFrame()).names.tolist()
    ['high-value active buyers', 'low-value cooling buyers']
    """
    th = NamingThresholds() if thresholds is None else thresholds
    segments = list(table.index)
    st = _Stats(lift)
    features = sorted(set(lift["feature"])) if not lift.empty else []
    rfm = any(f in features for f in ("recency_days", "frequency", revenue_col))
    has_value = "value_index" in table.columns and table["value_index"].notna().any()
    top_rev = None
    if has_value and "revenue_share" in table.columns and table["revenue_share"].notna().any():
        top_rev = table["revenue_share"].astype(float).idxmax()

    traits: dict[Any, list[Trait]] = {}
    pools: dict[Any, list[Trait]] = {}
    state_rows: dict[Any, dict[str, Any]] = {}
    evidence: dict[Any, dict[str, str]] = {}
    nouns: dict[Any, str] = {}
    for s in segments:
        parts: list[Trait] = []
        state = {k: "typical" for k in STATES}
        ev: dict[str, str] = {}
        prospects = "prospect_share" in table.columns and table.at[s, "prospect_share"] >= 0.5
        nouns[s] = "prospects" if prospects else ("buyers" if rfm else "customers")
        tier_trait = None
        if has_value and pd.notna(table.at[s, "value_index"]):
            vi = float(table.at[s, "value_index"])
            state["value_tier"] = _tier(vi)
            ev["value_tier"] = (
                f"{table.at[s, 'revenue_share']:.0%} of revenue from {table.at[s, 'share']:.0%} "
                f"of customers, value index {vi:.2f}"
            )
            row = st.get(s, revenue_col)
            if row is not None:
                ev["value_tier"] += f"; {_Stats.evidence(row)}"
            tier_trait = Trait("value_tier", state["value_tier"], revenue_col, abs(np.log(vi))
                               if vi > 0 else np.inf, ev["value_tier"])
            shown = s == top_rev or (
                state["value_tier"] != "mid-value" and not prospects
                and (row is None or st.significant(row, th))
            )
            if shown:
                parts.append(tier_trait)
            elif state["value_tier"] != "mid-value" and not (row is None
                                                            or st.significant(row, th)):
                state["value_tier"] = "typical"  # the name does not claim it; nor does a role
        used = {revenue_col}
        if not prospects:
            row = st.get(s, "recency_days")
            if row is not None:
                used.add("recency_days")
                word = None
                if st.differs(row, th, -1):
                    word = "active"
                elif st.differs(row, th, 1):
                    word, why = _lapsed_or_cooling(st, s, row, th)
                if word:
                    state["recency_state"] = word
                    ev["recency_state"] = _Stats.evidence(row, " days") + (
                        f"; {why}" if word != "active" and why else "")
                    parts.append(Trait("recency", word, "recency_days", abs(row["z"]),
                                       ev["recency_state"]))
            row = st.get(s, "frequency")
            if row is not None:
                used.add("frequency")
                word = None
                one_off = _one_off(table, s, th)
                if st.differs(row, th, 1):
                    word = "frequent"
                    ev["frequency_state"] = _Stats.evidence(row, " orders")
                elif one_off is not None:
                    word = "one-off"
                    ev["frequency_state"] = one_off
                elif st.differs(row, th, -1):
                    word = "occasional"
                    ev["frequency_state"] = _Stats.evidence(row, " orders")
                if word:
                    state["frequency_state"] = word
                    parts.append(Trait("frequency", word, "frequency", abs(row["z"]),
                                       ev["frequency_state"]))
            row = st.get(s, "spend_trend")
            if row is not None:
                used.add("spend_trend")
                word = None
                if st.differs(row, th, 1) and row["segment_mean"] > 0:
                    word = "growing"
                elif st.differs(row, th, -1) and row["segment_mean"] < 0:
                    word = "declining"
                if word:
                    state["trend_state"] = word
                    ev["trend_state"] = _Stats.evidence(row)
                    if not (word == "declining" and state["recency_state"] == "lapsed"):
                        parts.append(Trait("trend", word, "spend_trend", abs(row["z"]),
                                           ev["trend_state"]))
            row = st.get(s, "tenure_days")
            if row is not None:
                for sign, word in ((-1, "new"), (1, "long-standing")):
                    if st.differs(row, th, sign):
                        state["tenure_state"] = word
                        ev["tenure_state"] = _Stats.evidence(row, " days")
            row = st.get(s, "days_late_mean")
            if row is not None:
                used.add("days_late_mean")
                for sign, word in ((1, "late-paying"), (-1, "prompt-paying")):
                    if st.differs(row, th, sign):
                        state["payment_state"] = word
                        ev["payment_state"] = _Stats.evidence(row, " days late")
                        parts.append(Trait("payment", word, "days_late_mean", abs(row["z"]),
                                           ev["payment_state"]))
        extras = _extra_numeric(st, s, features, used, th, int(table.at[s, "n"]))
        if not rfm and not any(t.kind != "value_tier" for t in parts) and extras:
            first = extras.pop(0)  # data without RFM: the strongest feature is the adjective
            parts.append(Trait("feature", first.words, first.feature, first.strength,
                               first.evidence))
            if extras:  # ... and the next one stands in for the missing RFM parts
                parts.append(extras.pop(0))
        attrs = _attributes(top_categories, table, s, th)
        if attrs:
            parts.append(attrs[0])
        pool = list(extras) + attrs[1:]
        if tier_trait is not None and tier_trait not in parts:
            pool.append(tier_trait)  # a mid-value tier is true, just not distinctive
        traits[s] = parts
        pools[s] = pool
        state["is_top_revenue"] = 1.0 if s == top_rev else 0.0
        if s == top_rev:
            ev["is_top_revenue"] = (f"the largest revenue share: "
                                    f"{table.at[s, 'revenue_share']:.0%} of revenue")
        state_rows[s] = state
        evidence[s] = ev

    names = {s: render(traits[s], nouns[s]) for s in segments}
    notes: list[str] = []
    for _ in range(50):
        dups = _duplicates(names)
        if not dups:
            break
        progressed = False
        for group in dups:
            for s in group:
                others = [pools[o] for o in group if o != s]
                # the next true trait that at least one look-alike does not share
                pick = next((t for t in pools[s]
                             if not all(any(u.words == t.words for u in o) for o in others)),
                            None)
                if pick is not None:
                    pools[s].remove(pick)
                    traits[s].append(pick)
                    names[s] = render(traits[s], nouns[s])
                    progressed = True
        if not progressed:  # no base trait separates them: compare them with each other
            for group in dups:
                used_cmp = {t.feature for s in group for t in traits[s]
                            if t.kind in ("compare", "extra")}
                cmp = _comparative(st, group, features, used_cmp, th)
                for s, t in cmp.items():
                    traits[s].append(t)
                    names[s] = render(traits[s], nouns[s])
                    progressed = True
        if not progressed:
            break
    counts = pd.Series(names).value_counts()
    for s in segments:
        if counts[names[s]] > 1:
            notes.append(f"segment {s}: no true trait left to tell '{names[s]}' apart from "
                         "another segment; named with its segment number")
    names = {s: (f"{nm} (segment {s})" if counts[nm] > 1 else nm) for s, nm in names.items()}
    idx = table.index
    states = pd.DataFrame([state_rows[s] for s in segments], index=idx)
    return Naming(
        names=pd.Series([names[s] for s in segments], index=idx, name="name"),
        traits=traits, states=states, evidence=evidence, notes=notes,
    )


def _duplicates(names: dict[Any, str]) -> list[list[Any]]:
    by: dict[str, list[Any]] = {}
    for s, nm in names.items():
        by.setdefault(nm, []).append(s)
    return [sorted(g, key=str) for _, g in sorted(by.items()) if len(g) > 1]


def _comparative(
    st: _Stats, group: Sequence[Any], features: Sequence[str], used: set[str],
    th: NamingThresholds,
) -> dict[Any, Trait]:
    """Rank look-alike segments on the feature that separates them best (Welch per neighbours).

    Every pair of neighbours in the ranking must differ at ``p < alpha``; the feature whose
    weakest neighbour gap has the largest ``|t|`` wins (ties by name). Empty when none does.
    """
    best: tuple[float, str, list[tuple[Any, dict[str, Any]]]] | None = None
    for f in features:
        if f in used or (f in _NOT_EXTRA and f not in _PARTS):
            continue
        rows = [(s, st.get(s, f)) for s in group]
        if any(r is None or pd.isna(r.get("segment_std", np.nan)) or r.get("n", 0) < 2
               for _, r in rows):
            continue
        rows.sort(key=lambda sr: (sr[1]["segment_mean"], str(sr[0])))
        weakest = np.inf
        for (_, a), (_, b) in zip(rows, rows[1:], strict=False):
            res = stats.ttest_ind_from_stats(a["segment_mean"], a["segment_std"], a["n"],
                                             b["segment_mean"], b["segment_std"], b["n"],
                                             equal_var=False)
            if not (pd.notna(res.pvalue) and res.pvalue < th.alpha):
                weakest = -np.inf
                break
            weakest = min(weakest, abs(float(res.statistic)))
        if weakest > -np.inf and (best is None or weakest > best[0]):
            best = (weakest, f, rows)
    if best is None:
        return {}
    _, f, rows = best
    what = CMP_WORDS.get(f, f.replace("_", " "))
    m = len(rows)
    means = ", ".join(f"segment {s}: {number(r['segment_mean'])}" for s, r in rows)
    out = {}
    for i, (s, _) in enumerate(rows):
        if m == 2:
            rank = "lower" if i == 0 else "higher"
        else:
            rank = "lowest" if i == 0 else "highest" if i == m - 1 else f"{ordinal(i + 1)}-lowest"
        out[s] = Trait("compare", f"{rank} {what}", f, float(best[0]),
                       f"{f} mean among look-alike segments ({means}); neighbours differ at "
                       f"Welch p < {th.alpha:g}")
    return out

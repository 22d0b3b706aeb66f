"""Segment names that are true: only traits that differ from the base, tested on the profile.

A name is built from parts in a fixed order, each only when the segment differs from the base
(every customer profiled) by a stated effect size AND a significance test at the segment's size:

1. **value tier** from the value index (revenue share / customer share): ``top-value``
   (>= 3), ``high-value`` (>= 1.5), ``mid-value``, ``low-value`` (< 2/3). Shown when the tier
   is not ``mid-value`` and the revenue column's Welch test is significant; the segment with
   the largest revenue share always shows its tier (it is never "average").
2. **recency state** on ``recency_days``: ``active`` (z <= -0.5); above the base (z >= 0.5)
   ``lapsed`` when the segment's median recency is beyond the base's 75th percentile (its
   typical customer waited longer than three customers in four; without that number: z >= 1),
   else ``cooling``.
3. **frequency**: ``frequent`` (z >= 0.5); below (z <= -0.5) ``one-off`` when the segment's
   median ``frequency`` is at most 1, else ``occasional``.
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
trait (other numeric features by ``|z|``, then further attributes by lift), until they differ.
Only when a segment has no true trait left is ``(segment <id>)`` appended, and the result says
so in :attr:`Naming.notes`. Everything is deterministic (ties broken by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

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

_GEO = ("country", "region", "macro_area", "province", "city")
_NOT_EXTRA = {"r_score", "f_score", "m_score", "recency_days", "frequency", "spend_trend",
              "days_late_mean"}
#: Words for numeric features used as extra traits: feature -> (low phrase, high phrase).
_EXTRA_WORDS = {
    "tenure_days": ("recently acquired", "long-standing"),
    "avg_order_value": ("small baskets", "big baskets"),
    "n_channels": ("single-channel", "multi-channel"),
    "interpurchase_mean_days": ("short gaps between orders", "long gaps between orders"),
    "return_rate": ("few returns", "many returns"),
    "active_month_share": ("rarely active months", "active most months"),
}


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


def _p_text(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


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
        ptxt = f", Welch {_p_text(float(p))}" if pd.notna(p) else ""
        return (f"{row['feature']} mean {row['segment_mean']:,.3g}{unit} vs "
                f"{row['base_mean']:,.3g}{unit} overall (z={row['z']:+.2f}{ptxt})")


def _tier(value_index: float) -> str:
    for word, low in VALUE_TIERS:
        if value_index >= low:
            return word
    return "low-value"  # pragma: no cover - the last bound is -inf


def _attribute_words(column: str, category: str) -> str:
    if column in _GEO:
        return category
    if column == "age_band":
        return f"aged {category}"
    if category == "True":
        if column == "is_b2b":
            return "B2B"
        if column.startswith("interest_"):
            return f"interested in {column.removeprefix('interest_').replace('_', ' ')}"
        return column.replace("_", " ")
    return f"{column.replace('_', ' ')} {category}"


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
                "attribute", _attribute_words(str(r["column"]), str(r["category"])),
                str(r["column"]), float(r["lift"]),
                f"{r['column']} = {r['category']}: {r['segment_share']:.0%} of the segment vs "
                f"{r['base_share']:.0%} overall (lift {r['lift']:.2f}, binomial {_p_text(p)})",
            ))
    return out


def _extra_numeric(st: _Stats, s: Any, features: Sequence[str], used: set[str],
                   th: NamingThresholds) -> list[Trait]:
    out = []
    for f in features:
        if f in used or f in _NOT_EXTRA:
            continue
        row = st.get(s, f)
        if row is None:
            continue
        z = float(row["z"])
        if not (st.differs(row, th, 1) or st.differs(row, th, -1)):
            continue
        low, high = _EXTRA_WORDS.get(f, (f"low {f.replace('_', ' ')}",
                                         f"high {f.replace('_', ' ')}"))
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
        used = {revenue_col}
        if not prospects:
            row = st.get(s, "recency_days")
            if row is not None:
                used.add("recency_days")
                word = None
                if st.differs(row, th, -1):
                    word = "active"
                elif st.differs(row, th, 1):
                    q75, med = row.get("base_q75", np.nan), row.get("segment_median", np.nan)
                    lapsed = (med > q75 if pd.notna(q75) and pd.notna(med)
                              else row["z"] >= th.lapsed_effect)
                    word = "lapsed" if lapsed else "cooling"
                if word:
                    state["recency_state"] = word
                    ev["recency_state"] = _Stats.evidence(row, " days")
                    parts.append(Trait("recency", word, "recency_days", abs(row["z"]),
                                       ev["recency_state"]))
            row = st.get(s, "frequency")
            if row is not None:
                used.add("frequency")
                word = None
                if st.differs(row, th, 1):
                    word = "frequent"
                elif st.differs(row, th, -1):
                    med = row.get("segment_median", np.nan)
                    word = "one-off" if pd.notna(med) and med <= 1 else "occasional"
                if word:
                    state["frequency_state"] = word
                    ev["frequency_state"] = _Stats.evidence(row, " orders")
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
        attrs = _attributes(top_categories, table, s, th)
        if attrs:
            parts.append(attrs[0])
        extras = _extra_numeric(st, s, features, used, th)
        if not rfm and not any(t.kind != "value_tier" for t in parts) and extras:
            first = extras.pop(0)  # data without RFM: the strongest feature is the adjective
            parts.append(Trait("feature", first.words, first.feature, first.strength,
                               first.evidence))
        pool = list(extras) + attrs[1:]
        if tier_trait is not None and tier_trait not in parts:
            pool.append(tier_trait)  # a mid-value tier is true, just not distinctive
        traits[s] = parts
        pools[s] = pool
        state["is_top_revenue"] = 1.0 if s == top_rev else 0.0
        state_rows[s] = state
        evidence[s] = ev

    names = {s: _render(traits[s], nouns[s]) for s in segments}
    notes: list[str] = []
    for _ in range(50):
        groups = pd.Series(names).groupby(pd.Series(names)).groups
        dups = [sorted(g, key=str) for g in groups.values() if len(g) > 1]
        if not dups:
            break
        progressed = False
        for group in dups:
            for s in group:
                if pools[s]:
                    traits[s].append(pools[s].pop(0))
                    names[s] = _render(traits[s], nouns[s])
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


def _render(parts: Sequence[Trait], noun: str) -> str:
    adjectives = [t.words for t in parts if t.kind not in ("attribute", "extra")]
    tails = [t.words for t in parts if t.kind in ("attribute", "extra")]
    head = " ".join([*adjectives, noun]) if adjectives else f"typical {noun}"
    if noun == "prospects" and not adjectives:
        head = "prospects"
    return ", ".join([head, *tails])

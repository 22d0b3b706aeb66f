"""Words of segment names: phrases for features and attributes, p-values, rendering.

Private to :mod:`segml.cluster.naming`; no statistics are decided here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

GEO = ("country", "region", "macro_area", "province", "city")

#: Words for a feature when look-alike segments are ranked on it.
CMP_WORDS = {"monetary": "spend", "recency_days": "recency", "frequency": "order count",
             "avg_order_value": "basket", "tenure_days": "tenure"}
#: Words for numeric features used as extra traits: feature -> (low phrase, high phrase).
EXTRA_WORDS = {
    "tenure_days": ("recently acquired", "long-standing"),
    "avg_order_value": ("small baskets", "big baskets"),
    "n_channels": ("single-channel", "multi-channel"),
    "interpurchase_mean_days": ("short gaps between orders", "long gaps between orders"),
    "return_rate": ("few returns", "many returns"),
    "active_month_share": ("rarely active months", "active most months"),
    "income": ("lower income", "higher income"),
    "age": ("younger", "older"),
    "children": ("fewer children", "more children"),
    "household_size": ("smaller households", "larger households"),
    "complaints": ("fewer complaints", "more complaints"),
    "response_rate": ("low response rate", "high response rate"),
}


def extra_words(feature: str) -> tuple[str, str]:
    """Return the (low, high) phrases of a numeric feature, e.g. ("small baskets", "big ...")."""
    if feature in EXTRA_WORDS:
        return EXTRA_WORDS[feature]
    for prefix, fmt in (("category_share_", "{} {}"), ("channel_share_", "{} via {}")):
        if feature.startswith(prefix):
            what = feature.removeprefix(prefix).replace("_", " ")
            return fmt.format("less", what), fmt.format("more", what)
    what = feature.replace("_", " ")
    return f"low {what}", f"high {what}"


def p_text(p: float) -> str:
    """Return ``p<0.001`` or ``p=0.012``."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def number(x: float) -> str:
    """Return a readable number: ``1,069``, ``15.4``, ``0.819``."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def ordinal(i: int) -> str:
    """Return ``1st``, ``2nd``, ``3rd``, ``4th``, ..."""
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(i, f"{i}th")


def attribute_words(column: str, category: str) -> str:
    """Return how a category reads in a name: ``Lazio``, ``aged 55-64``, ``B2B``, ..."""
    if column in GEO:
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


def render(parts: Sequence[Any], noun: str) -> str:
    """Join a segment's traits: adjectives before the noun, attributes and extras after it."""
    adjectives = [t.words for t in parts if t.kind not in ("attribute", "extra", "compare")]
    tails = [t.words for t in parts if t.kind in ("attribute", "extra", "compare")]
    head = " ".join([*adjectives, noun]) if adjectives else f"typical {noun}"
    if noun == "prospects" and not adjectives:
        head = "prospects"
    return ", ".join([head, *tails])

"""The canonical columns of the two tables, their kinds and levels, and input matching.

Input columns are matched to them by a ``mapping`` from canonical name to the user's name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import pandas as pd

from segml.errors import SchemaError
from segml.schema._common import _clip, _map_fix, _names

#: Canonical transactions columns -> kind. The first three are required.
#: Kinds: ``id`` (canonical text id), ``datetime``, ``float``, ``string`` (text), ``label``
#: (text with few distinct values over many rows, kept as a pandas ``category`` of text:
#: 1-4 bytes a line instead of about 14), ``status`` (a ``category`` of :data:`STATUS_LEVELS`).
TRANSACTION_COLUMNS: dict[str, str] = {
    "customer_id": "id",
    "timestamp": "datetime",
    "amount": "float",
    "order_id": "string",
    "quantity": "float",
    "product": "label",
    "category": "label",
    "channel": "label",
    "margin": "float",
    "cost": "float",
    "status": "status",
    "due_date": "datetime",
    "paid_date": "datetime",
}
REQUIRED_TRANSACTION_COLUMNS = ("customer_id", "timestamp", "amount")

#: Canonical customers columns -> kind. Only ``customer_id`` is required.
#: Columns starting with ``interest_`` are boolean flags, ``survey_`` Likert answers.
CUSTOMER_COLUMNS: dict[str, str] = {
    "customer_id": "id",
    "signup_date": "datetime",
    "acquisition_cost": "float",
    "birth_year": "float",
    "age": "float",
    "gender": "string",
    "income": "float",
    "profession": "string",
    "education": "ordered",
    "marital_status": "string",
    "household_size": "float",
    "children": "float",
    "life_stage": "string",
    "is_b2b": "bool",
    "industry": "string",
    "company_size": "ordered",
    "country": "string",
    "region": "string",
    "macro_area": "string",
    "province": "string",
    "city": "string",
    "postcode": "string",
    "latitude": "float",
    "longitude": "float",
    "journey_stage": "ordered",
    "lead_source": "string",
    "satisfaction": "ordered",
    "complaints": "float",
    "campaigns_sent": "float",
    "campaigns_responded": "float",
    "showed_interest": "bool",
}
REQUIRED_CUSTOMER_COLUMNS = ("customer_id",)
PREFIX_KINDS = {"interest_": "bool", "survey_": "float"}

#: Canonical ordered levels (lowest first). ``journey_stage`` also allows ``lost``.
ORDERED_LEVELS: dict[str, tuple[str, ...]] = {
    "education": ("basic", "secondary", "bachelor", "master", "phd"),
    "company_size": ("micro", "small", "medium", "large"),
    "journey_stage": ("first_contact", "meeting", "offer", "negotiation", "won", "lost"),
    "satisfaction": (
        "very_dissatisfied",
        "dissatisfied",
        "neutral",
        "satisfied",
        "very_satisfied",
    ),
}

#: The canonical statuses: the categories of the validated ``status`` column.
STATUS_LEVELS = ("cancelled", "completed", "returned")
STATUS_SYNONYMS: dict[str, str] = {
    "completed": "completed",
    "complete": "completed",
    "ok": "completed",
    "paid": "completed",
    "shipped": "completed",
    "delivered": "completed",
    "returned": "returned",
    "return": "returned",
    "refund": "returned",
    "refunded": "returned",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "cancel": "cancelled",
    "void": "cancelled",
}

def _resolve_columns(
    df: pd.DataFrame,
    mapping: Mapping[str, str] | None,
    known: Mapping[str, str],
    required: tuple[str, ...],
    table: str,
) -> tuple[dict[str, str], list[str]]:
    """Return canonical name -> input column, and the ignored input columns."""
    mapping = dict(mapping or {})
    present = [str(c) for c in df.columns]
    for canon, src in mapping.items():
        if canon not in known and not canon.startswith(tuple(PREFIX_KINDS)):
            close = difflib.get_close_matches(canon, list(known), n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise SchemaError(
                f"{table}: mapping key {_clip(canon)} is not a canonical column.{hint} "
                f"Fix: use one of {', '.join(known)} (or an interest_*/survey_* name)."
            )
        if src not in df.columns:
            close = difflib.get_close_matches(str(src), present, n=3)
            hint = f" Close matches: {', '.join(map(_clip, close))}." if close else ""
            raise SchemaError(
                f"{table}.{canon}: mapping {{{canon!r}: {_clip(src)}}} names column "
                f"{_clip(src)}, which is not in the table.{hint} "
                f"Columns present: {_names(present)}. "
                f"Fix: correct the mapping to an existing column name."
            )
    shared = {s for s in mapping.values() if list(mapping.values()).count(s) > 1}
    if shared:
        src = sorted(shared, key=str)[0]
        canons = [c for c, s in mapping.items() if s == src]
        raise SchemaError(
            f"{table}: mapping sends column {_clip(src)} to {len(canons)} canonical columns "
            f"({', '.join(map(_clip, canons))}); each canonical column needs its own source. "
            "Fix: map only one of them (--map / config [data.mapping] or "
            "[data.customer_mapping]; Python mapping=), or copy the column first."
        )
    resolved: dict[str, str] = {}
    mapped_sources = set(mapping.values())
    for col in present:
        if col in mapped_sources:
            continue
        if col in known or col.startswith(tuple(PREFIX_KINDS)):
            resolved[col] = col
    resolved.update(mapping)
    for req in required:
        if req not in resolved:
            close = difflib.get_close_matches(req, present, n=3, cutoff=0.4)
            hint = f" Close matches: {', '.join(map(_clip, close))}." if close else ""
            raise SchemaError(
                f"{table}.{req}: required column {req!r} is missing.{hint} "
                f"Columns present: {_names(present)}. "
                f"Fix: rename your column to {req!r}, or map it: {_map_fix(table, req)}."
            )
    used = set(resolved.values())
    ignored = [c for c in present if c not in used]
    return resolved, ignored

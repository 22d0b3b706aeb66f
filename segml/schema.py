"""Table contracts: validate transactions and customers into canonical, typed frames.

Users keep their own column names and pass a ``mapping`` from canonical name to
their name (``{"amount": "dollar_value"}``). Validation returns the canonical
frame (names and dtypes in ``docs/CONTRACTS.md``) together with a
:class:`DataQualityReport` that counts every row excluded or repaired, by
reason. Malformed input raises :class:`~segml.errors.SchemaError` whose message
names the column, the problem, up to five offending values with their row
numbers (0-based positions in the input table) and the fix.

The caller's frame is never mutated.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from segml.errors import SchemaError

__all__ = [
    "TRANSACTION_COLUMNS",
    "CUSTOMER_COLUMNS",
    "ORDERED_LEVELS",
    "DataQualityReport",
    "Validated",
    "validate_transactions",
    "validate_customers",
]

#: Canonical transactions columns -> kind. The first three are required.
TRANSACTION_COLUMNS: dict[str, str] = {
    "customer_id": "id",
    "timestamp": "datetime",
    "amount": "float",
    "order_id": "string",
    "quantity": "float",
    "product": "string",
    "category": "string",
    "channel": "string",
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

_TRUE = {"true", "t", "yes", "y", "1", "1.0", "si", "sì"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
# an offset only counts after a time of day, so "04-09-2012" is not read as "-2012"
_TZ_SUFFIX = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$"
_MAX_EXAMPLES = 5
_MAX_CHARS = 60  # longest quoted value in a message
_MAX_NAMES = 10  # column names listed in a message


@dataclass
class DataQualityReport:
    """What validation excluded, repaired or flagged, counted by reason.

    Attributes
    ----------
    table : str
        ``"transactions"`` or ``"customers"``.
    n_input_rows, n_output_rows : int
        Row counts before and after validation.
    excluded : dict of str to int
        Rows removed from the output, by reason (they add up to
        ``n_input_rows - n_output_rows``).
    repaired : dict of str to int
        Values changed but rows kept (e.g. timezone converted), by reason.
    flagged : dict of str to int
        Rows kept unchanged but worth knowing about (zero amounts, returns,
        unknown customers, rows after ``as_of``), by reason.
    ignored_columns : list of str
        Input columns that are not part of the contract.
    """

    table: str
    n_input_rows: int
    n_output_rows: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    def add(self, kind: Literal["excluded", "repaired", "flagged"], reason: str, n: int) -> None:
        """Add ``n`` rows under ``reason`` (zero counts are not recorded)."""
        if n:
            bucket: dict[str, int] = getattr(self, kind)
            bucket[reason] = bucket.get(reason, 0) + int(n)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "table": self.table,
            "n_input_rows": self.n_input_rows,
            "n_output_rows": self.n_output_rows,
            "excluded": dict(self.excluded),
            "repaired": dict(self.repaired),
            "flagged": dict(self.flagged),
            "ignored_columns": list(self.ignored_columns),
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (kind, reason) with its count, for tables in reports."""
        rows = [
            (kind, reason, n)
            for kind in ("excluded", "repaired", "flagged")
            for reason, n in getattr(self, kind).items()
        ]
        return pd.DataFrame(rows, columns=["kind", "reason", "rows"])

    def __str__(self) -> str:
        lines = [f"{self.table}: {self.n_input_rows:,} rows in, {self.n_output_rows:,} rows out"]
        for kind in ("excluded", "repaired", "flagged"):
            for reason, n in getattr(self, kind).items():
                lines.append(f"  {kind:<9} {n:>10,}  {reason}")
        if self.ignored_columns:
            lines.append(f"  ignored columns: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


class Validated(NamedTuple):
    """A validated canonical frame and its data-quality report."""

    frame: pd.DataFrame
    report: DataQualityReport


# --------------------------------------------------------------------------- helpers


def _show(value: Any) -> str:
    """Render one offending value readably (numpy scalars as Python, missing as <missing>)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<missing>"
    if isinstance(value, np.generic):
        value = value.item()
    return _clip(value)


def _clip(value: Any, limit: int = _MAX_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis (messages stay short)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    end = text[-1] if text[-1] in "'\"" else ""  # keep the closing quote of a string
    return text[: limit - 1 - len(end)] + "…" + end


def _names(names: list[str], limit: int = _MAX_NAMES) -> str:
    """Quote the first ``limit`` names, each clipped, then ``and N more``."""
    shown = ", ".join(_clip(n) for n in names[:limit])
    return f"[{shown}" + (f" and {len(names) - limit:,} more]" if len(names) > limit else "]")


def _examples(values: pd.Series, mask: np.ndarray | pd.Series) -> str:
    """Format up to five offending values with their 0-based row numbers."""
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    shown = ", ".join(f"row {i}: {_show(values.iloc[i])}" for i in idx[:_MAX_EXAMPLES])
    more = f" (and {len(idx) - _MAX_EXAMPLES:,} more)" if len(idx) > _MAX_EXAMPLES else ""
    return f"{len(idx):,} offending value(s) — {shown}{more}"


def _fail(table: str, column: str, problem: str, values: pd.Series | None,
          mask: Any, fix: str) -> SchemaError:
    where = f"{table}.{column}" if column else table
    detail = f": {_examples(values, mask)}" if values is not None else ""
    return SchemaError(f"{where}: {problem}{detail}. Fix: {fix}")


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
                f"Fix: rename your column to {req!r} or pass mapping={{{req!r}: '<your column>'}}."
            )
    used = set(resolved.values())
    ignored = [c for c in present if c not in used]
    return resolved, ignored


def _to_id(s: pd.Series, table: str, column: str) -> tuple[pd.Series, np.ndarray]:
    """Convert ids to strings; integral floats lose their ``.0``; return (ids, missing)."""
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(vals)
        if finite.any() and np.all(np.mod(vals[finite], 1) == 0):
            s = s.astype("Int64")
    out = s.astype("str")
    stripped = out.str.strip()
    missing = (s.isna() | stripped.eq("") | stripped.isna()).to_numpy(dtype=bool)
    return stripped, missing


def _has_tz_suffix(s: pd.Series) -> np.ndarray:
    return s.astype("str").str.contains(_TZ_SUFFIX, regex=True, na=False).to_numpy(dtype=bool)


def _to_datetime(
    s: pd.Series, table: str, column: str, fmt: str | None, report: DataQualityReport,
    *, allow_missing: bool
) -> pd.Series:
    """Parse to tz-naive ``datetime64[ns]``; tz-aware input becomes naive UTC."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        report.add("repaired", f"{column}: tz-aware converted to UTC", int(s.notna().sum()))
        return s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return s.astype("datetime64[ns]")
    present = s.notna().to_numpy(dtype=bool)
    if s.dtype == object:
        tz_obj = s.map(lambda v: getattr(v, "tzinfo", None) is not None).to_numpy(dtype=bool)
        is_text = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        aware = tz_obj | (is_text & _has_tz_suffix(s))
    elif pd.api.types.is_string_dtype(s.dtype):
        aware = _has_tz_suffix(s)
    else:
        aware = np.zeros(len(s), dtype=bool)
    naive = present & ~aware
    if aware.any() and naive.any():
        first_naive = np.flatnonzero(naive)[:2]
        ex = ", ".join(f"row {i}: {_show(s.iloc[i])}" for i in first_naive)
        raise _fail(
            table, column,
            f"mixes timezone-aware and naive timestamps ({int(aware.sum()):,} aware, "
            f"{int(naive.sum()):,} naive; naive e.g. {ex}); aware values are",
            s, aware,
            "make every value carry an offset (e.g. +01:00) or none; segml converts aware "
            "values to UTC and refuses to guess the zone of naive ones",
        )
    if pd.api.types.is_numeric_dtype(s.dtype) and fmt is None:
        # integers such as 19970101 are dates in YYYYMMDD form (CDNOW)
        s = s.astype("Int64").astype("str")
        fmt = "%Y%m%d"
    utc = bool(aware.any())
    parsed = pd.to_datetime(s, errors="coerce", format=fmt or "ISO8601", utc=utc)
    retry = present & parsed.isna().to_numpy(dtype=bool)
    if fmt is None and retry.any():
        # non-ISO text: parse only the leftovers element by element (slow path)
        again = pd.to_datetime(s[retry], errors="coerce", format="mixed", utc=utc)
        parsed = parsed.copy()
        parsed[retry] = again
    if aware.any():
        report.add("repaired", f"{column}: tz-aware converted to UTC", int(aware.sum()))
        parsed = parsed.dt.tz_localize(None)
    bad = present & parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        raise _fail(
            table, column, "has values that cannot be parsed as dates", s, bad,
            "fix or remove those rows, or pass the format explicitly "
            "(e.g. timestamp_format='%d-%m-%Y')",
        )
    if not allow_missing and (~present).any():
        raise _fail(table, column, "has missing dates", s, ~present,
                    "fill or remove rows without a date (pass errors='exclude' to drop and count)")
    return parsed.astype("datetime64[ns]")


def _to_float(s: pd.Series, table: str, column: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype("float64")
    text = s.astype("str").str.strip()
    parsed = pd.to_numeric(text, errors="coerce")
    bad = (s.notna() & text.ne("") & parsed.isna()).to_numpy(dtype=bool)
    if bad.any():
        raise _fail(
            table, column, "has non-numeric values", s, bad,
            "remove currency symbols and thousands separators, use '.' as the decimal mark, "
            "or map another column",
        )
    return parsed.astype("float64")


def _to_bool(s: pd.Series, table: str, column: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean")
    text = s.astype("str").str.strip().str.lower()
    is_true = text.isin(_TRUE).to_numpy(dtype=bool)
    is_false = text.isin(_FALSE).to_numpy(dtype=bool)
    present = s.notna().to_numpy(dtype=bool) & text.ne("").to_numpy(dtype=bool)
    bad = present & ~(is_true | is_false)
    if bad.any():
        raise _fail(table, column, "has values that are not yes/no flags", s, bad,
                    "use true/false, yes/no or 1/0")
    out = pd.array(np.where(is_true, True, False), dtype="boolean")
    out[~present] = pd.NA
    return pd.Series(out, index=s.index, name=s.name)


def _to_string(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(vals)
        if finite.any() and np.all(np.mod(vals[finite], 1) == 0):
            s = s.astype("Int64")
    out = s.astype("str").str.strip()
    return out.mask(out.eq("") | s.isna())


def _to_ordered(s: pd.Series, table: str, column: str) -> pd.Series:
    levels = ORDERED_LEVELS[column]
    text = _to_string(s).str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    bad = (text.notna() & ~text.isin(levels)).to_numpy(dtype=bool)
    if bad.any():
        raise _fail(
            table, column, f"has values outside the levels {list(levels)}", s, bad,
            f"map your labels onto these levels before validating (e.g. in the loader), "
            f"or leave {column!r} out",
        )
    return text


def _to_status(s: pd.Series, table: str) -> pd.Series:
    text = _to_string(s).str.lower()
    norm = text.map(STATUS_SYNONYMS)
    bad = (text.notna() & norm.isna()).to_numpy(dtype=bool)
    if bad.any():
        raise _fail(
            table, "status", "has unknown status values", s, bad,
            f"use one of completed / returned / cancelled (synonyms accepted: "
            f"{', '.join(sorted(STATUS_SYNONYMS))})",
        )
    return norm.fillna("completed").astype("str")


def _check_not_empty(df: pd.DataFrame, table: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(
            f"{table}: expected a pandas DataFrame, got {type(df).__name__}. "
            "Fix: load the file with segml.io.read_* or pandas first."
        )
    if len(df) == 0:
        raise SchemaError(
            f"{table}: the table is empty (0 rows). "
            "Fix: check the file path, the separator and any filter applied before validation."
        )


def _exclude(df: pd.DataFrame, mask: np.ndarray, report: DataQualityReport,
             reason: str) -> pd.DataFrame:
    report.add("excluded", reason, int(mask.sum()))
    return df.loc[~mask] if mask.any() else df


# --------------------------------------------------------------------------- public API


def validate_transactions(
    df: pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    *,
    customers: pd.DataFrame | pd.Series | None = None,
    as_of: Any = None,
    negative_amounts: Literal["net", "drop", "error"] = "net",
    zero_amounts: Literal["keep", "drop"] = "keep",
    errors: Literal["raise", "exclude"] = "raise",
    timestamp_format: str | None = None,
) -> Validated:
    """Validate a transactions table into the canonical contract.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per order line or order, in the user's column names.
    mapping : dict, optional
        Canonical name -> the user's column (``{"amount": "dollar_value"}``).
        Columns already named canonically need no entry.
    customers : DataFrame or Series, optional
        The customers table (or its ids). Transactions of customers absent from it
        are kept and counted under ``flagged``.
    as_of : date-like, optional
        When given, rows after the calendar day ``as_of`` are counted under
        ``flagged`` ("after as_of"); they are kept here and excluded by the
        features layer, which owns the point-in-time boundary.
    negative_amounts : {"net", "drop", "error"}, default "net"
        Policy for negative amounts (returns/refunds): ``"net"`` keeps them so
        revenue is net of returns (counted as flagged), ``"drop"`` removes them
        (counted as excluded), ``"error"`` raises.
    zero_amounts : {"keep", "drop"}, default "keep"
        Zero-amount rows (free items, CDNOW has 80) are kept and counted, or dropped
        and counted.
    errors : {"raise", "exclude"}, default "raise"
        What to do with rows whose customer id or timestamp is missing: raise, or
        exclude them and count them by reason.
    timestamp_format : str, optional
        ``strptime`` format for the timestamp column (and date columns), e.g.
        ``"%Y%m%d"``.

    Returns
    -------
    Validated
        ``(frame, report)``: the canonical frame sorted by ``customer_id`` then
        ``timestamp`` with a fresh RangeIndex, and its :class:`DataQualityReport`.

    Raises
    ------
    SchemaError
        For every malformed input; the message names the column, the problem, up
        to five offending values with their row numbers, and the fix.

    Examples
    --------
    >>> raw = pd.DataFrame({"cust": ["a", "b"], "date": ["2024-01-02", "2024-01-03"],
    ...                     "value": [10.0, 5.5]})
    >>> tx, rep = validate_transactions(
    ...     raw, mapping={"customer_id": "cust", "timestamp": "date", "amount": "value"})
    >>> tx["amount"].sum(), rep.n_output_rows
    (np.float64(15.5), 2)
    """
    table = "transactions"
    _check_not_empty(df, table)
    for name, val, allowed in (
        ("negative_amounts", negative_amounts, ("net", "drop", "error")),
        ("zero_amounts", zero_amounts, ("keep", "drop")),
        ("errors", errors, ("raise", "exclude")),
    ):
        if val not in allowed:
            raise SchemaError(f"{name}={val!r} is not valid. Fix: use one of {allowed}.")
    resolved, ignored = _resolve_columns(df, mapping, TRANSACTION_COLUMNS,
                                         REQUIRED_TRANSACTION_COLUMNS, table)
    report = DataQualityReport(table=table, n_input_rows=len(df), ignored_columns=ignored)
    src = df.reset_index(drop=True)  # positions == row numbers; the caller's frame is untouched
    out: dict[str, pd.Series] = {}

    ids, missing_id = _to_id(src[resolved["customer_id"]], table, "customer_id")
    if missing_id.any() and errors == "raise":
        raise _fail(table, "customer_id", "has missing customer ids", src[resolved["customer_id"]],
                    missing_id, "fill them, or pass errors='exclude' to drop and count those rows")
    out["customer_id"] = ids

    ts_raw = src[resolved["timestamp"]]
    ts_missing = ts_raw.isna().to_numpy(dtype=bool)
    if ts_missing.any() and errors == "raise":
        raise _fail(table, "timestamp", "has missing timestamps", ts_raw, ts_missing,
                    "fill them, or pass errors='exclude' to drop and count those rows")
    out["timestamp"] = _to_datetime(ts_raw, table, "timestamp", timestamp_format, report,
                                    allow_missing=True)

    for canon, kind in TRANSACTION_COLUMNS.items():
        if canon in out or canon not in resolved:
            continue
        s = src[resolved[canon]]
        if kind == "float":
            out[canon] = _to_float(s, table, canon)
        elif kind == "datetime":
            out[canon] = _to_datetime(s, table, canon, None, report, allow_missing=True)
        elif kind == "status":
            out[canon] = _to_status(s, table)
        else:
            out[canon] = _to_string(s)
    frame = pd.DataFrame(out)

    amount_missing = frame["amount"].isna().to_numpy(dtype=bool)
    if amount_missing.any() and errors == "raise":
        raise _fail(table, "amount", "has missing amounts", src[resolved["amount"]],
                    amount_missing, "fill them, or pass errors='exclude' to drop and count")

    drop = np.zeros(len(frame), dtype=bool)
    for reason, mask in (
        ("missing customer_id", missing_id),
        ("missing timestamp", ts_missing),
        ("missing amount", amount_missing),
    ):
        mask = mask & ~drop
        report.add("excluded", reason, int(mask.sum()))
        drop |= mask

    amount = frame["amount"].to_numpy(dtype="float64", na_value=np.nan)
    neg = (amount < 0) & ~drop
    if neg.any():
        if negative_amounts == "error":
            raise _fail(table, "amount", "has negative amounts (returns or refunds)",
                        src[resolved["amount"]], neg,
                        "pass negative_amounts='net' to keep them as returns netted against "
                        "revenue, or 'drop' to exclude and count them")
        if negative_amounts == "drop":
            report.add("excluded", "negative amount (dropped by policy)", int(neg.sum()))
            drop |= neg
        else:
            report.add("flagged", "negative amount (return, netted)", int(neg.sum()))
    zero = (amount == 0) & ~drop
    if zero.any():
        if zero_amounts == "drop":
            report.add("excluded", "zero amount (dropped by policy)", int(zero.sum()))
            drop |= zero
        else:
            report.add("flagged", "zero amount (kept)", int(zero.sum()))

    frame = frame.loc[~drop] if drop.any() else frame

    if customers is not None:
        known = customers if isinstance(customers, pd.Series) else (
            customers["customer_id"] if "customer_id" in customers.columns else customers.index
        )
        known_ids, _ = _to_id(pd.Series(np.asarray(known)), "customers", "customer_id")
        unknown = ~frame["customer_id"].isin(known_ids.unique())
        n_unknown_customers = frame.loc[unknown, "customer_id"].nunique()
        report.add("flagged", "rows of customers absent from the customers table (kept)",
                   int(unknown.sum()))
        report.add("flagged", "customers absent from the customers table (kept)",
                   int(n_unknown_customers))

    if as_of is not None:
        cutoff = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        report.add("flagged", "rows after as_of (kept here; features exclude them)",
                   int((frame["timestamp"] >= cutoff).sum()))

    frame = frame.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    report.n_output_rows = len(frame)
    return Validated(frame, report)


def validate_customers(
    df: pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    *,
    errors: Literal["raise", "exclude"] = "raise",
    date_format: str | None = None,
) -> Validated:
    """Validate a customers table into the canonical contract.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per customer, in the user's column names.
    mapping : dict, optional
        Canonical name -> the user's column.
    errors : {"raise", "exclude"}, default "raise"
        Rows with a missing ``customer_id``: raise, or exclude and count.
        Duplicate ids always raise (which row is right cannot be guessed).
    date_format : str, optional
        ``strptime`` format for ``signup_date``.

    Returns
    -------
    Validated
        ``(frame, report)``: one row per customer sorted by ``customer_id``.

    Raises
    ------
    SchemaError
        Missing or mis-mapped columns, duplicate or missing ids, empty table,
        unparseable dates, non-numeric numbers, unknown ordered levels.

    Examples
    --------
    >>> raw = pd.DataFrame({"customer_id": [2, 1], "income": ["10", None]})
    >>> cust, rep = validate_customers(raw)
    >>> list(cust["customer_id"]), cust["income"].isna().sum()
    (['1', '2'], np.int64(1))
    """
    table = "customers"
    _check_not_empty(df, table)
    if errors not in ("raise", "exclude"):
        raise SchemaError(f"errors={errors!r} is not valid. Fix: use 'raise' or 'exclude'.")
    resolved, ignored = _resolve_columns(df, mapping, CUSTOMER_COLUMNS,
                                         REQUIRED_CUSTOMER_COLUMNS, table)
    report = DataQualityReport(table=table, n_input_rows=len(df), ignored_columns=ignored)
    src = df.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    raw_ids = src[resolved["customer_id"]]
    ids, missing = _to_id(raw_ids, table, "customer_id")
    if missing.any() and errors == "raise":
        raise _fail(table, "customer_id", "has missing customer ids", raw_ids, missing,
                    "fill them, or pass errors='exclude' to drop and count those rows")
    dup = ids.duplicated(keep=False).to_numpy(dtype=bool) & ~missing
    if dup.any():
        raise _fail(
            table, "customer_id", f"has duplicate ids ({ids[dup].nunique():,} ids repeated)",
            raw_ids, dup, "keep one row per customer (aggregate or deduplicate before loading)",
        )
    out["customer_id"] = ids
    for canon, src_col in resolved.items():
        if canon == "customer_id":
            continue
        kind = CUSTOMER_COLUMNS.get(canon) or next(
            k for p, k in PREFIX_KINDS.items() if canon.startswith(p)
        )
        s = src[src_col]
        if kind == "float":
            out[canon] = _to_float(s, table, canon)
        elif kind == "datetime":
            out[canon] = _to_datetime(s, table, canon, date_format, report, allow_missing=True)
        elif kind == "bool":
            out[canon] = _to_bool(s, table, canon)
        elif kind == "ordered":
            out[canon] = _to_ordered(s, table, canon)
        else:
            out[canon] = _to_string(s)
    frame = pd.DataFrame(out)
    frame = _exclude(frame, missing, report, "missing customer_id")
    for col in frame.columns:
        if col != "customer_id":
            report.add("flagged", f"{col}: missing values (kept as missing)",
                       int(frame[col].isna().sum()))
    frame = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    report.n_output_rows = len(frame)
    return Validated(frame, report)

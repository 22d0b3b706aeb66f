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

import datetime as dt
import difflib
import math
import re
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
#: Below this share of transaction customer ids found in the customers table, the two
#: tables do not share an id (wrong column mapped, or ids written differently).
MIN_ID_OVERLAP = 0.05


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


def _map_fix(table: str, canon: str, column: str = "COLUMN") -> str:
    """How to map ``column`` onto ``canon`` from the CLI, the config and Python."""
    flag, key = (("--customer-map", "customer_mapping") if table == "customers"
                 else ("--map", "mapping"))
    return (f"{flag} {canon}={column} on the CLI (config [data.{key}] {canon} = \"{column}\"; "
            f"Python mapping={{{canon!r}: {column!r}}})")


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


#: Text read as "no value": pandas' default ``read_csv`` NA strings plus ``-``, so a CSV
#: read by pandas and a DataFrame of strings give the same result.
NA_TOKENS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "-",
})
#: Float ids at or above this magnitude have already lost precision (float64 has 53 bits).
MAX_FLOAT_ID = 2.0**53
#: Numbers beyond this magnitude are refused: no real amount, quantity or attribute is that
#: large, and sums of up to 10^9 such values still fit in float64 without overflow.
MAX_ABS_NUMBER = 1e15
#: Dates treated as placeholders ("no date" written as a date): these days, and any day
#: before 1900-01-02 or after 2199-12-31. 1970-01-01 is NOT one (it is a real birth date).
SENTINEL_DAYS = ("1900-01-01", "2099-12-31")
_DATE_RANGE = (pd.Timestamp("1900-01-02"), pd.Timestamp("2200-01-01"))
#: ``timestamp_format`` values that are not ``strptime`` formats.
SPECIAL_FORMATS = ("ISO8601", "excel", "epoch_s", "epoch_ms")
_EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
_INTEGRAL_TEXT = r"(-?\d+)\.0+"
_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_ISO_TIME = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)?"
_DMY = r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})"
_DMY_TIME = r" (\d{1,2}):(\d{2})(?::(\d{2}))?"
_YYYYMMDD = r"(?:19|20|21)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"


class _Bad:
    """Markers for ids that cannot be made canonical (see :func:`_canonical_id`)."""

    FRACTION = "a fractional number"
    INFINITE = "infinite"
    IMPRECISE = "a float at or above 2**53 (precision already lost)"


def _canonical_id(v: Any) -> str | None:
    """Canonical text of one id value, ``None`` when missing, a :class:`_Bad` text when refused."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return None
        if math.isinf(f):
            return _Bad.INFINITE
        if not f.is_integer():
            return _Bad.FRACTION
        if abs(f) >= MAX_FLOAT_ID:
            return _Bad.IMPRECISE
        return str(int(f))
    text = str(v).strip()
    if text in NA_TOKENS:
        return None
    m = re.fullmatch(_INTEGRAL_TEXT, text)
    return m.group(1) if m else text


def _to_id(s: pd.Series, table: str, column: str) -> tuple[pd.Series, np.ndarray]:
    """Make ids canonical text; return ``(ids, missing)``.

    The canonical form of an id is text: integers (of any dtype) are written in
    decimal digits (``12345``); integral floats lose their
    fraction (``12345.0`` -> ``12345``), and so does text that spells one
    (``"12345.0"`` -> ``"12345"``, as spreadsheets write integer ids); any other
    text is kept verbatim after stripping surrounding spaces. Zero-padded text is
    NOT a number: ``"00042"`` stays ``"00042"`` and is a different id from ``42``
    (segml never strips zeros it cannot know are padding; the mismatch check of
    :func:`validate_transactions` points it out when it explains a mismatch).
    Missing: ``None``/``NaN``/``pd.NA`` and the text in :data:`NA_TOKENS` (``""``,
    ``NA``, ``NULL``, ``None``, ``nan``, ``-``...), the same whether pandas read the
    file or not.

    Raises
    ------
    SchemaError
        Fractional or infinite float ids, and float ids at or above 2**53, whose
        digits float64 can no longer represent.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    canon = [_canonical_id(v) for v in uniques]
    for bad in (_Bad.IMPRECISE, _Bad.FRACTION, _Bad.INFINITE):
        hit = [i for i, c in enumerate(canon) if c is bad]
        if hit:
            mask = np.isin(codes, hit)
            raise _fail(
                table, column, f"has ids that are {bad}", s, mask,
                "store the ids as text or int64 at the source, e.g. re-export the Parquet file "
                "from the original ids (float64 cannot hold every id exactly; segml reads CSV "
                "ids as text)",
            )
    lookup = np.array([c if c is not None else "" for c in canon] + [""], dtype=object)
    missing_u = np.array([c is None for c in canon] + [True], dtype=bool)
    ids = pd.Series(lookup[codes], index=s.index, name=s.name, dtype="str")
    missing = missing_u[codes]
    return ids.mask(missing), missing


def _opt(py: str, config: str | None = None, cli: str | None = None) -> str:
    """Name an option everywhere it can be set: ``py`` (config [data] ...; CLI ...)."""
    where = [w for w in (f"config [data] {config}" if config else "",
                         f"CLI {cli}" if cli else "") if w]
    return f"{py} ({'; '.join(where)})" if where else py


class DateOption(NamedTuple):
    """Where the format of one date column is set: Python argument, config key, CLI flag."""

    py: str | None = None
    config: str | None = None
    cli: str | None = None

    def use(self, value: str) -> str:
        """``"pass timestamp_format='excel' (config ...; CLI ...)"`` or a rewrite hint."""
        if not self.py:
            return "write the dates as YYYY-MM-DD"
        return "pass " + _opt(f"{self.py}={value!r}",
                              f'{self.config} = "{value}"' if self.config else None,
                              f"{self.cli} '{value}'" if self.cli else None)


TIMESTAMP_FORMAT = DateOption("timestamp_format", "timestamp_format", "--date-format")
CUSTOMER_DATE_FORMAT = DateOption("date_format", "customer_date_format",
                                  "--customer-date-format")
_NO_FORMAT = DateOption()
_DAY_FIX = _opt("dayfirst=True or False", "dayfirst = true/false", "--dayfirst/--monthfirst")


def _has_tz_suffix(s: pd.Series) -> np.ndarray:
    """Which values end with a time and a UTC offset (``10:00+01:00``, ``10:00Z``)."""
    text = s.astype("str")
    # an offset follows a date and a time, so it starts after the 10th character: a cheap
    # test on the tails leaves the full pattern to the few candidates
    cand = text.str.slice(10).str.contains(r"[+Z-]|UTC", regex=True, na=False)
    cand = cand.to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=bool)
    if cand.any():
        out[cand] = text[cand].str.contains(_TZ_SUFFIX, regex=True, na=False).to_numpy(bool)
    return out


class _Dates(NamedTuple):
    """A parsed date column: values (NaT where missing or a sentinel) and the two masks."""

    values: pd.Series
    missing: np.ndarray
    sentinel: np.ndarray


def _first(s: pd.Series, mask: np.ndarray) -> str:
    i = int(np.flatnonzero(mask)[0])
    return f"row {i}: {_show(s.iloc[i])}"


def _numeric_dates(num: np.ndarray, fmt: str) -> pd.Series:
    """Excel serial days or epoch seconds/milliseconds -> datetime64[us] (NaT out of range)."""
    if fmt == "excel":
        days = num
        base = _EXCEL_ORIGIN
    else:
        days = num / (86_400.0 if fmt == "epoch_s" else 86_400_000.0)
        base = pd.Timestamp("1970-01-01")
    # anything outside 0001..9999 cannot be a date at all: keep it NaT (reported as unparseable)
    lo = (pd.Timestamp("1000-01-01") - base) / pd.Timedelta(days=1)
    hi = (pd.Timestamp("9999-12-31") - base) / pd.Timedelta(days=1)
    ok = np.isfinite(days) & (days >= lo) & (days <= hi)
    us = np.where(ok, np.round(np.where(ok, days, 0) * 86_400e6), 0).astype("int64")
    out = base.as_unit("us").to_datetime64() + us.astype("timedelta64[us]")
    return pd.Series(np.where(ok, out, np.datetime64("NaT", "us")))


def _number_hint(num: np.ndarray) -> tuple[str, str]:
    """Say what numbers in a date column look like, and the format that would read them."""
    med = float(np.nanmedian(np.abs(num))) if np.isfinite(num).any() else 0.0
    if 10_000 <= med < 100_000:
        return "they look like Excel serial day numbers (45292 is 2024-01-01)", "excel"
    if 1e8 <= med < 1e11:
        return "they look like Unix epoch seconds (1704067200 is 2024-01-01)", "epoch_s"
    if 1e11 <= med < 1e14:
        return "they look like Unix epoch milliseconds", "epoch_ms"
    return "they are numbers, not dates", "excel"


def _refuse_numbers(s: pd.Series, num: np.ndarray, mask: np.ndarray, table: str, column: str,
                    opt: DateOption) -> SchemaError:
    what, special = _number_hint(num[mask])
    return _fail(table, column, f"holds plain numbers where dates are expected: {what}",
                 s, mask, f"if they are dates, {opt.use(special)} (formats for numbers: excel, "
                 "epoch_s, epoch_ms); otherwise map the real date column")


def _to_datetime(
    s: pd.Series, table: str, column: str, fmt: str | None, report: DataQualityReport,
    *, dayfirst: bool | None = None, sentinels: str = "error",
    opt: DateOption = _NO_FORMAT,
) -> _Dates:
    """Parse a date column strictly into tz-naive ``datetime64[ns]``.

    Rules (nothing is guessed):

    - real datetime dtypes are kept; tz-aware values become naive UTC (counted);
    - text must use ONE layout per column: ISO ``YYYY-MM-DD`` (with or without a
      time, not both — ``fmt="ISO8601"`` accepts the mix), ``DD/MM/YYYY`` or
      ``MM/DD/YYYY`` (``/ . -`` separators), ``YYYYMMDD``, or month names;
    - day/month order comes from evidence (a first part above 12 means day-first),
      or from ``dayfirst``; a column without evidence, or with evidence both ways
      or against ``dayfirst``, is refused;
    - plain numbers are refused unless ``fmt`` says ``"excel"`` (serial days),
      ``"epoch_s"`` or ``"epoch_ms"`` (integers of 8 digits are ``YYYYMMDD``);
    - sentinels (:data:`SENTINEL_DAYS`, days before 1900-01-02 or after
      2199-12-31) raise, or with ``sentinels="exclude"`` become NaT and are
      returned in the ``sentinel`` mask for the caller to count.
    """
    present = s.notna().to_numpy(dtype=bool)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        parsed = s.dt.tz_convert("UTC").dt.tz_localize(None)
        report.add("repaired", f"{column}: tz-aware converted to UTC", int(present.sum()))
    elif pd.api.types.is_datetime64_dtype(s.dtype):
        parsed = s
    elif pd.api.types.is_bool_dtype(s.dtype):
        raise _fail(table, column, "holds true/false values, not dates", s, present,
                    "map the real date column")
    elif pd.api.types.is_numeric_dtype(s.dtype):
        parsed = _parse_numbers(s, table, column, fmt, present, opt)
    else:
        text, present, aware = _date_text(s, table, column, present)
        parsed = _parse_text(text, s, table, column, fmt, present, dayfirst, aware, opt)
        if aware:
            report.add("repaired", f"{column}: tz-aware converted to UTC", int(present.sum()))
    parsed = pd.Series(parsed.to_numpy(), index=s.index, name=s.name)
    bad = present & parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        raise _fail(table, column, "has values that cannot be parsed as dates", s, bad,
                    f"fix or remove those rows, or {opt.use('%d-%m-%Y')} with your layout")
    sentinel = present & (
        (parsed < _DATE_RANGE[0]) | (parsed >= _DATE_RANGE[1])
        | np.isin(parsed.to_numpy().astype("datetime64[D]"),
                  np.array(SENTINEL_DAYS, dtype="datetime64[D]"))
    ).to_numpy(dtype=bool)
    if sentinel.any():
        if sentinels != "exclude":
            raise _fail(
                table, column,
                "has placeholder or out-of-range dates (1900-01-01, 2099-12-31, before 1900 or "
                "after 2199: 'no date' written as a date)", s, sentinel,
                "correct them, or pass " + _opt("date_sentinels='exclude'",
                                                 'date_sentinels = "exclude"',
                                                 "--date-sentinels exclude")
                + " to drop them (a timestamp drops its row; other dates become missing) "
                "and count them",
            )
        parsed = parsed.mask(sentinel)
    return _Dates(parsed.astype("datetime64[ns]"), ~present, sentinel)


def _date_text(s: pd.Series, table: str, column: str,
               present: np.ndarray) -> tuple[pd.Series, np.ndarray, bool]:
    """Date column as stripped text (NA tokens missing); refuse aware/naive mixes."""
    if s.dtype == object:
        tz_obj = s.map(lambda v: getattr(v, "tzinfo", None) is not None).to_numpy(dtype=bool)
        is_text = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        aware = tz_obj | (is_text & _has_tz_suffix(s))

        def as_text(v: Any) -> Any:
            if isinstance(v, (pd.Timestamp, dt.datetime)):
                return v.isoformat(sep=" ")
            if isinstance(v, dt.date):
                return v.isoformat() + " 00:00:00"
            if isinstance(v, (float, np.floating)) and float(v).is_integer():
                return str(int(v))
            return v

        text = s.map(as_text).astype("str")
    else:
        aware = _has_tz_suffix(s)
        text = s.astype("str")
    text = text.str.strip()
    na = (text.isna() | text.isin(list(NA_TOKENS))).to_numpy(dtype=bool)
    text = text.mask(na)
    present = present & ~na
    aware = aware & present
    naive = present & ~aware
    if aware.any() and naive.any():
        raise _fail(
            table, column,
            f"mixes timezone-aware and naive timestamps ({int(aware.sum()):,} aware, "
            f"{int(naive.sum()):,} naive; naive e.g. {_first(s, naive)}); aware values are",
            s, aware,
            "make every value carry an offset (e.g. +01:00) or none; segml converts aware "
            "values to UTC and refuses to guess the zone of naive ones",
        )
    return text, present, bool(aware.any())


def _parse_numbers(s: pd.Series, table: str, column: str, fmt: str | None,
                   present: np.ndarray, opt: DateOption) -> pd.Series:
    """Numbers in a date column: Excel/epoch when ``fmt`` says so, YYYYMMDD integers."""
    num = s.to_numpy(dtype="float64", na_value=np.nan)
    if fmt in ("excel", "epoch_s", "epoch_ms"):
        return _numeric_dates(num, fmt)
    whole = np.isfinite(num) & np.isclose(np.mod(np.nan_to_num(num), 1), 0)
    text = pd.Series(np.where(whole, np.nan_to_num(num).astype("int64").astype(str), None),
                     dtype="str").mask(~present)
    if fmt is None:
        ymd = present & text.str.fullmatch(_YYYYMMDD).fillna(False).to_numpy(dtype=bool)
        if not ymd[present].all():
            raise _refuse_numbers(s, num, present & ~ymd, table, column, opt)
        # integers such as 19970101 are dates in YYYYMMDD form (CDNOW)
        fmt = "%Y%m%d"
    frac = present & ~whole
    if frac.any():
        raise _fail(table, column, "holds fractional numbers where dates are expected", s,
                    frac, f"fix those rows, or {opt.use('excel')} if they are Excel serial days")
    return pd.to_datetime(text, errors="coerce", format=fmt)


#: Text date layouts, tested in this order on the values not yet classified.
_KINDS = {
    "ISO date-times (YYYY-MM-DD HH:MM)": _ISO_DATE + _ISO_TIME,
    "ISO dates (YYYY-MM-DD)": _ISO_DATE,
    "day/month dates (DD/MM/YYYY or MM/DD/YYYY)": _DMY,
    "day/month date-times": _DMY + _DMY_TIME,
    "YYYYMMDD numbers": _YYYYMMDD,
    "plain numbers": r"-?\d+(?:\.\d+)?",
    "dates with month names": r"(?i).*\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
                              r"[a-z]*\b.*",
}


def _parse_text(text: pd.Series, s: pd.Series, table: str, column: str, fmt: str | None,
                present: np.ndarray, dayfirst: bool | None, utc: bool,
                opt: DateOption) -> pd.Series:
    """Parse date text: with ``fmt``, or by the one layout every value shares.

    The work is done once per distinct text (a date column holds few distinct days);
    error messages still name rows of ``s``.
    """
    codes, uniq = pd.factorize(text.where(present))
    if len(uniq) == 0:
        return pd.Series(np.full(len(text), np.datetime64("NaT", "ns")))
    rows = _Rows(codes)
    parsed = _parse_unique(pd.Series(np.asarray(uniq, dtype=object), dtype="str"), s, rows,
                           table, column, fmt, dayfirst, utc, opt)
    vals = parsed.to_numpy()[np.clip(codes, 0, None)]
    vals[codes < 0] = np.datetime64("NaT")
    return pd.Series(vals)


class _Rows:
    """Map a mask over distinct values back to a mask over rows."""

    def __init__(self, codes: np.ndarray) -> None:
        self.codes = codes

    def __call__(self, mask: np.ndarray) -> np.ndarray:
        padded = np.append(np.asarray(mask, dtype=bool), False)  # code -1 (missing) -> False
        return padded[self.codes]


def _parse_unique(text: pd.Series, s: pd.Series, rows: _Rows, table: str, column: str,
                  fmt: str | None, dayfirst: bool | None, utc: bool,
                  opt: DateOption) -> pd.Series:
    """:func:`_parse_text` on distinct, present values."""
    present = np.ones(len(text), dtype=bool)
    if fmt in ("excel", "epoch_s", "epoch_ms"):
        num = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        return _numeric_dates(num, fmt)
    if fmt is not None:
        out = pd.to_datetime(text, errors="coerce", format=fmt, utc=utc)
        return out.dt.tz_localize(None) if utc else out
    masks: dict[str, np.ndarray] = {}
    taken = ~present
    for kind, pattern in _KINDS.items():
        m = np.zeros(len(text), dtype=bool)
        todo = np.flatnonzero(~taken)
        if len(todo):
            m[todo] = text.iloc[todo].str.fullmatch(pattern).fillna(False).to_numpy(bool)
        masks[kind] = m
        taken = taken | m
    used = [k for k, m in masks.items() if m.any()]
    if len(used) > 1:
        detail = "; ".join(f"{int(rows(masks[k]).sum()):,} {k}, e.g. {_first(s, rows(masks[k]))}"
                           for k in used[:4])
        if set(used) == {"ISO dates (YYYY-MM-DD)", "ISO date-times (YYYY-MM-DD HH:MM)"}:
            fix = (f"{opt.use('ISO8601')} to accept ISO dates with and without a time (a date "
                   "alone is midnight)" if opt.py else "give every value a time, or none")
        else:
            fix = f"write every value in the same layout, or {opt.use('%d/%m/%Y')} with yours"
        raise SchemaError(f"{table}.{column}: mixes date layouts ({detail}). Fix: {fix}.")
    kind = used[0] if used else None
    if kind == "plain numbers":
        num = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        raise _refuse_numbers(s, num[rows.codes], rows(present), table, column, opt)
    if kind == "YYYYMMDD numbers":
        return pd.to_datetime(text, errors="coerce", format="%Y%m%d")
    if kind == "dates with month names":
        return pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=bool(dayfirst))
    if kind is not None and kind.startswith("day/month"):
        return _parse_day_month(text, s, rows, table, column, dayfirst, opt,
                                with_time=kind.endswith("times"))
    # ISO, or nothing recognised (then every value is NaT and reported as unparseable)
    iso = text.where(taken & present)
    if utc:  # pandas' ISO parser knows Z and +hh:mm, not a "UTC" suffix
        iso = iso.str.replace(r"\s*UTC$", "+00:00", regex=True)
    out = pd.to_datetime(iso, errors="coerce", format="ISO8601", utc=utc)
    return out.dt.tz_localize(None) if utc else out


def _parse_day_month(text: pd.Series, s: pd.Series, rows: _Rows, table: str, column: str,
                     dayfirst: bool | None, opt: DateOption, *, with_time: bool) -> pd.Series:
    """Parse ``DD/MM/YYYY`` or ``MM/DD/YYYY`` text, choosing the order from evidence only."""
    pattern = "^" + _DMY + (_DMY_TIME if with_time else "") + "$"
    first = pd.to_numeric(text.str.replace(pattern, r"\1", regex=True), errors="coerce")
    second = pd.to_numeric(text.str.replace(pattern, r"\3", regex=True), errors="coerce")
    day_ev = rows((first > 12).fillna(False).to_numpy(dtype=bool))
    month_ev = rows((second > 12).fillna(False).to_numpy(dtype=bool))
    present = rows(np.ones(len(text), dtype=bool))
    layout = opt.use("%d/%m/%Y").removeprefix("pass ")
    if day_ev.any() and month_ev.any():
        raise SchemaError(
            f"{table}.{column}: has evidence for both day-first ({_first(s, day_ev)}) and "
            f"month-first ({_first(s, month_ev)}) dates in one column, so the order of the "
            "others cannot be known. Fix: correct the rows written the other way, then pass "
            f"{_DAY_FIX}" + (f" or {layout}" if opt.py else "") + "."
        )
    if dayfirst is None:
        if not (day_ev.any() or month_ev.any()):
            raise _fail(table, column,
                        "is ambiguous: every value could be day-first or month-first (both "
                        "parts 12 or less)", s, present,
                        f"pass {_DAY_FIX}" + (f", or {layout}" if opt.py else ""))
        dayfirst = bool(day_ev.any())
    contra = month_ev if dayfirst else day_ev
    if contra.any():
        raise _fail(table, column,
                    f"contradicts dayfirst={dayfirst}: these values only make sense "
                    f"{'month' if dayfirst else 'day'}-first", s, contra,
                    "correct those rows, or pass " + _opt(f"dayfirst={not dayfirst}",
                                                          f"dayfirst = {str(not dayfirst).lower()}",
                                                          "--dayfirst" if not dayfirst
                                                          else "--monthfirst")
                    + " if the whole column is written that way")
    order = r"\4-\3-\1" if dayfirst else r"\4-\1-\3"
    iso = text.str.replace(pattern, order + (r" \5:\6" if with_time else ""), regex=True)
    if with_time:
        sec = text.str.replace(pattern, r"\7", regex=True).fillna("")
        iso = iso + ":" + sec.where(sec.ne(""), "00")
    return pd.to_datetime(iso, errors="coerce", format="ISO8601")


#: A band or range written as text: ``45-54``, ``65+``, ``35-49K``, ``under 15K``.
_NUM = r"\$?\d+(?:[.,]\d+)?\s*[kKmM]?"
_BAND = (rf"(?i)\s*(?:(?:under|over|less than|more than|<|>)\s*{_NUM}|{_NUM}\s*(?:[-–]|to)\s*"
         rf"{_NUM}|{_NUM}\s*\+|\$?\d+(?:[.,]\d+)?\s*[kKmM])\s*")


def _to_float(s: pd.Series, table: str, column: str) -> pd.Series:
    """Parse numbers; refuse text that is not a number, infinities and magnitudes > 1e15."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        parsed = s.astype("float64")
    else:
        text = s.astype("str").str.strip()
        text = text.mask(text.isin(list(NA_TOKENS)))
        parsed = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = (text.notna() & parsed.isna()).to_numpy(dtype=bool)
        if bad.any():
            leave_out = (f"leave the column out: --ignore-columns {column} (config [data] "
                         f"ignore_columns = [\"{column}\"]; Python: drop it from the frame)")
            if text[bad].str.fullmatch(_BAND).mean() > 0.5:
                raise _fail(
                    table, column, "holds bands or ranges, not numbers", s, bad,
                    "convert each band to a number before loading (e.g. its midpoint), or "
                    + leave_out,
                )
            raise _fail(
                table, column, "has non-numeric values", s, bad,
                "remove currency symbols and thousands separators, use '.' as the decimal "
                "mark, map another column, or " + leave_out,
            )
    vals = parsed.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        huge = np.isinf(vals) | (np.abs(vals) > MAX_ABS_NUMBER)
    if huge.any():
        raise _fail(
            table, column,
            f"has infinite values or magnitudes above {MAX_ABS_NUMBER:.0e} (they would "
            "overflow sums and break the model)", s, huge,
            "correct or remove those rows (an id or a code mapped as a number, a unit "
            "mix-up, or a division by zero upstream)",
        )
    return pd.Series(vals, index=s.index, name=s.name)


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


def _check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        raise SchemaError(f"{name}={value!r} is not valid. Fix: use one of {allowed}.")


def _check_format(name: str, fmt: str | None) -> None:
    if fmt is not None and (not isinstance(fmt, str)
                            or ("%" not in fmt and fmt not in SPECIAL_FORMATS)):
        raise SchemaError(
            f"{name}={fmt!r} is neither a strptime format (with %, e.g. '%d/%m/%Y') nor one of "
            f"{', '.join(SPECIAL_FORMATS)}. Fix: pass one of those."
        )


def _product_filter(exclude_products: Any,
                    pattern: Any) -> tuple[list[str], re.Pattern[str] | None]:
    """Check the non-product-line options; return the codes and the compiled pattern."""
    if exclude_products is None:
        codes: list[str] = []
    elif isinstance(exclude_products, str) or not all(
            isinstance(c, str) for c in exclude_products):
        raise SchemaError(
            f"exclude_products={exclude_products!r} must be a list of product codes. "
            'Fix: pass a list such as ["POST", "DOT", "M"].'
        )
    else:
        codes = [c.strip() for c in exclude_products]
    compiled = None
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise SchemaError(
                f"exclude_product_pattern={pattern!r} is not a valid regular expression ({exc}). "
                'Fix: correct it, e.g. "^(POST|DOT|M)$".'
            ) from exc
    return codes, compiled


def _duplicate_rows(src: pd.DataFrame, keys: pd.DataFrame | None = None) -> np.ndarray:
    """Rows that repeat an earlier row exactly (every input column equal).

    ``keys`` (values derived row by row from ``src``, e.g. parsed id and timestamp) narrow
    the search: rows equal everywhere are equal on the keys, so the full comparison only
    runs on rows whose keys repeat.
    """
    out = np.zeros(len(src), dtype=bool)
    cand = (keys.duplicated(keep=False).to_numpy(dtype=bool) if keys is not None
            else np.ones(len(src), dtype=bool))
    if not cand.any():
        return out
    sub = src.loc[cand]
    try:
        out[cand] = sub.duplicated(keep="first").to_numpy(dtype=bool)
    except TypeError:  # unhashable cells (lists...): compare their text
        out[cand] = sub.astype("str").duplicated(keep="first").to_numpy(dtype=bool)
    return out


def _reconcile_ids(frame: pd.DataFrame, customers: pd.DataFrame | pd.Series,
                   report: DataQualityReport) -> None:
    """Count ids present in one table only; refuse a near-total mismatch."""
    known = customers if isinstance(customers, pd.Series) else (
        customers["customer_id"] if "customer_id" in customers.columns else customers.index
    )
    known_ids, known_missing = _to_id(pd.Series(np.asarray(known)), "customers", "customer_id")
    known_set = pd.Index(known_ids[~known_missing].unique())
    tx_set = pd.Index(frame["customer_id"].unique())
    found = tx_set.isin(known_set)
    unknown = ~frame["customer_id"].isin(known_set)
    report.add("flagged", "rows of customers absent from the customers table (kept)",
               int(unknown.sum()))
    report.add("flagged", "customers absent from the customers table (kept)",
               int((~found).sum()))
    report.add("flagged", "customers without transactions (prospects)",
               int((~known_set.isin(tx_set)).sum()))
    if len(tx_set) == 0 or len(known_set) == 0 or found.mean() >= MIN_ID_OVERLAP:
        return
    hint = ""
    for how, norm in (("leading zeros are removed ('00042' vs '42'; segml keeps text ids "
                       "verbatim)", lambda ix: ix.str.lstrip("0")),
                      ("case and spaces are ignored", lambda ix: ix.str.lower()
                       .str.replace(r"\s+", "", regex=True))):
        if norm(tx_set).isin(norm(known_set)).mean() >= 0.5:
            hint = f" They would match if {how}."
            break
    def short(values: pd.Index) -> str:
        return ", ".join(repr(v if len(v) <= 24 else v[:21] + "...") for v in values[:3])

    show, show_c = short(tx_set[~found]), short(known_set)
    raise SchemaError(
        f"transactions.customer_id: only {int(found.sum()):,} of {len(tx_set):,} customer ids "
        f"({found.mean():.1%}) are in the customers table — transactions have e.g. {show}; "
        f"customers have e.g. {show_c}.{hint} Fix: map the same id column in both tables "
        "(CLI --map customer_id=COLUMN and --customer-map customer_id=COLUMN; config "
        "[data.mapping] / [data.customer_mapping] customer_id = \"COLUMN\"; Python "
        "mapping={'customer_id': ...} for each) "
        "and write the ids the same way in both files."
    )


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
    dayfirst: bool | None = None,
    date_sentinels: Literal["error", "exclude"] = "error",
    dedupe: bool = False,
    exclude_products: list[str] | None = None,
    exclude_product_pattern: str | None = None,
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
        are kept and counted under ``flagged``, and so are customers without
        transactions (prospects). When fewer than 5% of the transactions' customer
        ids are in it, the two tables do not share an id and validation fails.
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
        What to do with rows whose customer id, timestamp or amount is missing
        (``NA``, ``NULL``, ``""``, ``-``... count as missing): raise, or exclude
        them and count them by reason. Config ``[data] errors``, CLI ``--errors``.
    timestamp_format : str, optional
        Layout of the timestamp column: a ``strptime`` format (``"%d/%m/%Y"``),
        ``"ISO8601"`` (ISO dates with and without a time in one column),
        ``"excel"`` (serial day numbers), ``"epoch_s"`` or ``"epoch_ms"``.
        Without it one layout per column is required and day/month order must be
        evident (see ``dayfirst``). Config ``[data] timestamp_format``, CLI
        ``--date-format``.
    dayfirst : bool, optional
        Whether ``01/02/2024`` is 1 February (True) or 2 January (False), for
        columns whose values do not show it (no part above 12). Also applies to
        ``due_date`` / ``paid_date``. Config ``[data] dayfirst``, CLI
        ``--dayfirst`` / ``--monthfirst``.
    date_sentinels : {"error", "exclude"}, default "error"
        Placeholder dates (1900-01-01, 2099-12-31, before 1900 or after 2199):
        raise, or exclude the row (timestamp) or blank the value (other dates),
        counted. Config ``[data] date_sentinels``, CLI ``--date-sentinels``.
    dedupe : bool, default False
        Rows that repeat an earlier row exactly (every input column) are kept and
        counted under ``flagged``, or with ``dedupe=True`` dropped and counted under
        ``excluded``. Config ``[data] dedupe``, CLI ``--dedupe``.
    exclude_products : list of str, optional
        ``product`` codes that are not sales (postage, fees, adjustments: e.g.
        ``["POST", "DOT", "M", "BANK CHARGES"]``); their rows are excluded and
        counted. Config ``[data] exclude_products``, CLI ``--exclude-products``.
    exclude_product_pattern : str, optional
        A regular expression; ``product`` codes it finds a match in
        (``re.search``) are excluded and counted, e.g. ``"^(POST|DOT|C2)$"``.
        Config ``[data] exclude_product_pattern``, CLI ``--exclude-product-pattern``.

    Returns
    -------
    Validated
        ``(frame, report)``: the canonical frame sorted by ``customer_id`` then
        ``timestamp`` with a fresh RangeIndex, and its :class:`DataQualityReport`.
        Cancelled and returned rows (``status``) are kept and counted.

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
        ("dayfirst", dayfirst, (None, True, False)),
        ("date_sentinels", date_sentinels, ("error", "exclude")),
        ("dedupe", dedupe, (False, True)),
    ):
        _check_choice(name, val, allowed)
    _check_format("timestamp_format", timestamp_format)
    codes, pattern = _product_filter(exclude_products, exclude_product_pattern)
    resolved, ignored = _resolve_columns(df, mapping, TRANSACTION_COLUMNS,
                                         REQUIRED_TRANSACTION_COLUMNS, table)
    if (codes or pattern) and "product" not in resolved:
        raise SchemaError(
            "transactions.product: exclude_products / exclude_product_pattern need a product "
            "column, and there is none. Fix: map your product code column "
            "(mapping={'product': 'StockCode'}; config [data.mapping] product; CLI --map "
            "product=StockCode) or drop those options."
        )
    report = DataQualityReport(table=table, n_input_rows=len(df), ignored_columns=ignored)
    src = df.reset_index(drop=True)  # positions == row numbers; the caller's frame is untouched
    out: dict[str, pd.Series] = {}
    exclude_hint = _opt("errors='exclude'", 'errors = "exclude"', "--errors exclude")

    ids, missing_id = _to_id(src[resolved["customer_id"]], table, "customer_id")
    if missing_id.any() and errors == "raise":
        raise _fail(table, "customer_id", "has missing customer ids", src[resolved["customer_id"]],
                    missing_id, f"fill them, or pass {exclude_hint} to drop and count those rows")
    out["customer_id"] = ids

    ts_raw = src[resolved["timestamp"]]
    ts = _to_datetime(ts_raw, table, "timestamp", timestamp_format, report, dayfirst=dayfirst,
                      sentinels=date_sentinels, opt=TIMESTAMP_FORMAT)
    if ts.missing.any() and errors == "raise":
        raise _fail(table, "timestamp", "has missing timestamps", ts_raw, ts.missing,
                    f"fill them, or pass {exclude_hint} to drop and count those rows")
    out["timestamp"] = ts.values

    for canon, kind in TRANSACTION_COLUMNS.items():
        if canon in out or canon not in resolved:
            continue
        s = src[resolved[canon]]
        if kind == "float":
            out[canon] = _to_float(s, table, canon)
        elif kind == "datetime":
            d = _to_datetime(s, table, canon, None, report, dayfirst=dayfirst,
                             sentinels=date_sentinels)
            report.add("repaired", f"{canon}: placeholder date set to missing",
                       int(d.sentinel.sum()))
            out[canon] = d.values
        elif kind == "status":
            out[canon] = _to_status(s, table)
        else:
            out[canon] = _to_string(s)
    frame = pd.DataFrame(out)
    duplicate = _duplicate_rows(src, frame[["customer_id", "timestamp"]])

    amount_missing = frame["amount"].isna().to_numpy(dtype=bool)
    if amount_missing.any() and errors == "raise":
        raise _fail(table, "amount", "has missing amounts", src[resolved["amount"]],
                    amount_missing, f"fill them, or pass {exclude_hint} to drop and count")

    non_product = np.zeros(len(frame), dtype=bool)
    if codes or pattern is not None:
        product = frame["product"]
        non_product = product.isin(codes).to_numpy(dtype=bool, copy=True)
        if pattern is not None:
            hits = [v for v in product.dropna().unique() if pattern.search(v)]
            non_product |= product.isin(hits).to_numpy(dtype=bool)

    drop = np.zeros(len(frame), dtype=bool)
    if not dedupe:
        report.add("flagged", "exact duplicate rows (kept; dedupe drops them)",
                   int(duplicate.sum()))
    for reason, mask in (
        ("exact duplicate rows (dedupe)", duplicate if dedupe else drop),
        ("missing customer_id", missing_id),
        ("missing timestamp", ts.missing),
        ("missing amount", amount_missing),
        ("timestamp: placeholder date (date_sentinels='exclude')", ts.sentinel),
        ("non-product lines (exclude_products / exclude_product_pattern)", non_product),
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
                        "revenue, or 'drop' to exclude and count them (config [data] "
                        "negative_amounts)")
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
    if "status" in frame.columns:
        report.add("flagged", "status cancelled/void (kept; features ignore them)",
                   int(frame["status"].eq("cancelled").sum()))
        report.add("flagged", "status returned (kept; netted as returns)",
                   int(frame["status"].eq("returned").sum()))

    if customers is not None:
        _reconcile_ids(frame, customers, report)

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
    dayfirst: bool | None = None,
    date_sentinels: Literal["error", "exclude"] = "error",
    dedupe: bool = False,
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
        Layout of ``signup_date`` (as ``timestamp_format`` of
        :func:`validate_transactions`). Config ``[data] customer_date_format``.
    dayfirst : bool, optional
        Day/month order of ``signup_date`` when its values do not show it.
    date_sentinels : {"error", "exclude"}, default "error"
        Placeholder dates: raise, or set them missing and count them.
    dedupe : bool, default False
        Drop rows that repeat an earlier row exactly (counted) before the
        duplicate-id check; without it they are duplicate ids and raise.

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
    for name, val, allowed in (
        ("errors", errors, ("raise", "exclude")),
        ("dayfirst", dayfirst, (None, True, False)),
        ("date_sentinels", date_sentinels, ("error", "exclude")),
        ("dedupe", dedupe, (False, True)),
    ):
        _check_choice(name, val, allowed)
    _check_format("date_format", date_format)
    resolved, ignored = _resolve_columns(df, mapping, CUSTOMER_COLUMNS,
                                         REQUIRED_CUSTOMER_COLUMNS, table)
    report = DataQualityReport(table=table, n_input_rows=len(df), ignored_columns=ignored)
    src = df.reset_index(drop=True)
    duplicate = _duplicate_rows(src) if dedupe else np.zeros(len(src), dtype=bool)
    out: dict[str, pd.Series] = {}
    raw_ids = src[resolved["customer_id"]]
    ids, missing = _to_id(raw_ids, table, "customer_id")
    if missing.any() and errors == "raise":
        raise _fail(table, "customer_id", "has missing customer ids", raw_ids, missing,
                    "fill them, or pass " + _opt("errors='exclude'", 'errors = "exclude"',
                                                 "--errors exclude")
                    + " to drop and count those rows")
    dup = np.zeros(len(ids), dtype=bool)
    rest = ~missing & ~duplicate
    dup[rest] = ids[rest].duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():
        exact = _duplicate_rows(src)
        copies = ("; they are exact copies: pass " + _opt("dedupe=True", "dedupe = true",
                                                          "--dedupe") + " to drop and count them"
                  if (exact | ~ids.duplicated(keep="first").to_numpy(bool))[dup].all() else "")
        raise _fail(
            table, "customer_id", f"has duplicate ids ({ids[dup].nunique():,} ids repeated)",
            raw_ids, dup, "keep one row per customer (aggregate or deduplicate before "
            f"loading){copies}",
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
            d = _to_datetime(s, table, canon, date_format, report, dayfirst=dayfirst,
                             sentinels=date_sentinels, opt=CUSTOMER_DATE_FORMAT)
            report.add("repaired", f"{canon}: placeholder date set to missing",
                       int(d.sentinel.sum()))
            out[canon] = d.values
        elif kind == "bool":
            out[canon] = _to_bool(s, table, canon)
        elif kind == "ordered":
            out[canon] = _to_ordered(s, table, canon)
        else:
            out[canon] = _to_string(s)
    frame = pd.DataFrame(out)
    frame = _exclude(frame, duplicate, report, "exact duplicate rows (dedupe)")
    frame = _exclude(frame, missing[~duplicate], report, "missing customer_id")
    for col in frame.columns:
        if col != "customer_id":
            report.add("flagged", f"{col}: missing values (kept as missing)",
                       int(frame[col].isna().sum()))
    frame = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    report.n_output_rows = len(frame)
    return Validated(frame, report)

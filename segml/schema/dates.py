"""Date columns: formats, day/month order, Excel and epoch numbers, sentinels and time zones."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from segml.errors import SchemaError
from segml.schema._common import _fail, _opt, _show
from segml.schema.ids import NA_TOKENS
from segml.schema.quality import DataQualityReport

# an offset only counts after a time of day, so "04-09-2012" is not read as "-2012"
_TZ_SUFFIX = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$"
#: Dates treated as placeholders ("no date" written as a date): these days, and any day
#: before 1900-01-02 or after 2199-12-31. 1970-01-01 is NOT one (it is a real birth date).
SENTINEL_DAYS = ("1900-01-01", "2099-12-31")
_DATE_RANGE = (pd.Timestamp("1900-01-02"), pd.Timestamp("2200-01-01"))
#: ``timestamp_format`` values that are not ``strptime`` formats.
SPECIAL_FORMATS = ("ISO8601", "excel", "epoch_s", "epoch_ms")
_EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_ISO_TIME = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)?"
_DMY = r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})"
_DMY_TIME = r" (\d{1,2}):(\d{2})(?::(\d{2}))?"
_YYYYMMDD = r"(?:19|20|21)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
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


def parse_dates(
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
    if isinstance(parsed, pd.Series):  # a lazy copy: no second 36M-line column while reading
        parsed = parsed.set_axis(s.index).rename(s.name)
    else:
        parsed = pd.Series(np.asarray(parsed), index=s.index, name=s.name)
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



def _check_format(name: str, fmt: str | None) -> None:
    if fmt is not None and (not isinstance(fmt, str)
                            or ("%" not in fmt and fmt not in SPECIAL_FORMATS)):
        raise SchemaError(
            f"{name}={fmt!r} is neither a strptime format (with %, e.g. '%d/%m/%Y') nor one of "
            f"{', '.join(SPECIAL_FORMATS)}. Fix: pass one of those."
        )

"""Number, flag, text, ordered-level and status columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from segml.schema._common import _fail
from segml.schema.columns import ORDERED_LEVELS, STATUS_LEVELS, STATUS_SYNONYMS
from segml.schema.ids import NA_TOKENS

_TRUE = {"true", "t", "yes", "y", "1", "1.0", "si", "sì"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
#: Numbers beyond this magnitude are refused: no real amount, quantity or attribute is that
#: large, and sums of up to 10^9 such values still fit in float64 without overflow.
MAX_ABS_NUMBER = 1e15
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
    if parsed.dtype == np.float64:  # shares the input's memory until either is written to
        return parsed.rename(s.name)
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


def _distinct(s: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """``(codes, distinct values)`` of a text column, missing included; None for other dtypes.

    Text columns of order lines repeat few values (product, category, channel, status): the
    text operations run on the distinct values and are spread back with the codes, instead
    of running on every row. A ``category`` of text (a Parquet dictionary) already is codes
    and distinct values; missing is then its last distinct value.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if not (isinstance(cats.dtype, pd.StringDtype) or (
                cats.dtype == object and pd.api.types.infer_dtype(cats) == "string")):
            return None
        codes = s.cat.codes.to_numpy()
        uniques = pd.Series([*cats, None], dtype="str")
        return np.where(codes < 0, len(cats), codes), uniques
    if not isinstance(s.dtype, pd.StringDtype):
        return None
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    return codes, pd.Series(uniques, dtype=s.dtype)


def _spread(values: pd.Series, codes: np.ndarray, like: pd.Series) -> pd.Series:
    """Per-row values from the per-distinct-value ``values`` (index and name of ``like``)."""
    return pd.Series(values.array.take(codes), index=like.index, name=like.name)


#: What Python's ``str.strip()`` removes from ASCII text (``\x1c``-``\x1f`` included).
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _clean_arrow_text(s: pd.Series) -> bool:
    """Tell whether ``s`` is Arrow text that :func:`_to_string` would return unchanged.

    One Arrow pass (ASCII check, trim, compare) instead of factorizing a column of mostly
    distinct values (``order_id``): clean means every value is ASCII, has no surrounding
    whitespace and is not empty (missing values stay missing either way).
    """
    if s.dtype != "str" or getattr(s.dtype, "storage", None) != "pyarrow":
        return False
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.array)  # the Arrow data itself (no copy)
    if pc.all(pc.string_is_ascii(arr)).as_py() is False:
        return False
    if pc.any(pc.equal(pc.binary_length(arr), 0)).as_py():
        return False
    return pc.all(pc.equal(pc.ascii_trim(arr, characters=_ASCII_SPACE), arr)).as_py() is not False


def _to_string(s: pd.Series) -> pd.Series:
    if _clean_arrow_text(s):  # already clean: no copy, no factorize
        return s.copy(deep=False)
    distinct = _distinct(s)
    if distinct is not None:
        codes, uniques = distinct
        out = _to_string_rows(uniques)
        if s.dtype == "str" and out.equals(uniques):  # already clean: no copy
            return s.copy(deep=False)
        return _spread(out, codes, s)
    return _to_string_rows(s)


def _to_string_rows(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(vals)
        if finite.any() and np.all(np.mod(vals[finite], 1) == 0):
            s = s.astype("Int64")
    out = s.astype("str").str.strip()
    return out.mask(out.eq("") | s.isna())


def _code_dtype(n: int) -> np.dtype:
    """Return the smallest signed integer holding the codes of ``n`` categories (and -1)."""
    for dt in (np.int8, np.int16, np.int32):
        if n < np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.int64)


def text_category(values: Any, codes: np.ndarray, levels: Sequence[str] | None = None,
                  *, index: pd.Index | None = None, name: Any = None) -> pd.Series:
    """Build the canonical ``category`` column of a label from distinct values and row codes.

    Row ``i`` holds ``values[codes[i]]``; a code below 0 (or a missing value) is missing.
    The categories are the distinct non-missing ``values`` in sorted order (or ``levels``),
    so the column does not depend on the order of the rows: the form
    :func:`validate_transactions` gives ``product``, ``category``, ``channel`` and
    ``status``. Only integer codes are written per row: no string is copied.

    Parameters
    ----------
    values : sequence of str
        Text per code (duplicates and missing values allowed).
    codes : numpy.ndarray of int
        One code per row.
    levels : sequence of str, optional
        Fixed categories (every non-missing value must be one of them).
    index, name : optional
        Of the returned Series.

    Returns
    -------
    pandas.Series
        A ``category`` of ``str``, unordered.

    Examples
    --------
    >>> text_category(["web", "store", None], np.array([0, 1, 2, -1, 0])).tolist()
    ['web', 'store', nan, nan, 'web']
    """
    values = pd.Index(values, dtype="str")
    cats = pd.Index(levels if levels is not None else values.dropna().unique(), dtype="str")
    cats = cats if levels is not None else cats.sort_values()
    value_codes = np.append(cats.get_indexer(values), -1).astype(_code_dtype(len(cats)))
    codes = np.asarray(codes)
    rows = value_codes[np.where(codes < 0, len(values), codes) if (codes < 0).any() else codes]
    dtype = pd.CategoricalDtype(cats, ordered=False)
    out = pd.Categorical.from_codes(rows, dtype=dtype, validate=False)
    return pd.Series(out, index=index, name=name, copy=False)


def _spread_category(values: pd.Series, codes: np.ndarray, like: pd.Series,
                     levels: tuple[str, ...] | None = None) -> pd.Series:
    """:func:`text_category` with the index and name of ``like``."""
    return text_category(values, codes, levels, index=like.index, name=like.name)


def _to_label(s: pd.Series) -> pd.Series:
    """Text with few distinct values as a ``category`` of clean text (see :func:`_to_string`)."""
    distinct = _distinct(s)
    if distinct is None:  # numbers or Python objects: clean row by row, then encode
        if isinstance(s.dtype, pd.CategoricalDtype):  # a category of numbers: as numbers
            s = s.astype(s.cat.categories.dtype)
        text = _to_string(s)
        codes, uniques = pd.factorize(text, use_na_sentinel=False)
        return _spread_category(pd.Series(uniques, dtype="str"), codes, s)
    codes, uniques = distinct
    return _spread_category(_to_string_rows(uniques), codes, s)


def _to_ordered(s: pd.Series, table: str, column: str) -> pd.Series:
    levels = ORDERED_LEVELS[column]
    distinct = _distinct(s)  # a few levels over many customers: the regex per distinct label
    text = _to_string(s if distinct is None else distinct[1]).str.lower().str.replace(
        r"[\s\-]+", "_", regex=True)
    bad = (text.notna() & ~text.isin(levels)).to_numpy(dtype=bool)
    if distinct is not None:
        bad = bad[distinct[0]]
        text = _spread(text, distinct[0], s)
    if bad.any():
        raise _fail(
            table, column, f"has values outside the levels {list(levels)}", s, bad,
            f"map your labels onto these levels before validating (e.g. in the loader), "
            f"or leave {column!r} out",
        )
    return text


def _to_status(s: pd.Series, table: str) -> pd.Series:
    """Statuses as a ``category`` of :data:`STATUS_LEVELS`; missing means completed."""
    distinct = _distinct(s)
    if distinct is None:
        codes, uniques = pd.factorize(s, use_na_sentinel=False)
        distinct = codes, pd.Series(uniques, dtype=object)
    codes, uniques = distinct
    text = _to_string_rows(uniques).str.lower()
    norm = text.map(STATUS_SYNONYMS)
    bad = (text.notna() & norm.isna()).to_numpy(dtype=bool)[codes]
    if bad.any():
        raise _fail(
            table, "status", "has unknown status values", s, bad,
            f"use one of completed / returned / cancelled (synonyms accepted: "
            f"{', '.join(sorted(STATUS_SYNONYMS))})",
        )
    return _spread_category(norm.fillna("completed").astype("str"), codes, s, STATUS_LEVELS)

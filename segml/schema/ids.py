"""Customer ids: the canonical text form of an id and the missing-id tokens."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from segml.schema._common import _fail

#: Text read as "no value": pandas' default ``read_csv`` NA strings plus ``-``, so a CSV
#: read by pandas and a DataFrame of strings give the same result.
NA_TOKENS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "-",
})
#: Float ids at or above this magnitude have already lost precision (float64 has 53 bits).
MAX_FLOAT_ID = 2.0**53
_INTEGRAL_TEXT = r"(-?\d+)\.0+"


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


def parse_ids(s: pd.Series, table: str, column: str) -> tuple[pd.Series, np.ndarray]:
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
    ids, missing, _, _ = _parse_id_codes(s, table, column)
    return ids, missing


def _canonical_uniques(uniques: Any) -> list[Any]:
    """:func:`_canonical_id` of each distinct value, with one column operation for plain ids.

    Text ids made only of ASCII letters, digits, ``_`` and ``-`` (``C000042``, ``12345``) are
    their own canonical form unless they spell a missing value (:data:`NA_TOKENS`); they are
    recognised in one vectorised match, so a million distinct ids cost no million Python
    calls. Every other value goes through :func:`_canonical_id` itself (same result).
    """
    dtype = getattr(uniques, "dtype", None)
    text_ids = isinstance(dtype, pd.StringDtype) or (
        dtype is not None and dtype.kind == "O" and len(uniques) > 0
        and pd.api.types.infer_dtype(uniques, skipna=False) == "string")
    if not text_ids:
        return [_canonical_id(v) for v in uniques]
    text = pd.Series(uniques, dtype="str")
    plain = (text.str.fullmatch(r"[A-Za-z0-9_\-]+") & ~text.isin(list(NA_TOKENS))).to_numpy(
        dtype=bool)
    out = text.to_numpy(dtype=object)
    for i in np.flatnonzero(~plain):
        out[i] = _canonical_id(out[i])
    return out.tolist()


def _parse_id_codes(s: pd.Series, table: str, column: str
                    ) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`parse_ids`, also returning integer codes of the canonical ids.

    Returns ``(ids, missing, codes, uniques)``: ``uniques`` holds the distinct canonical ids
    (object array, in order of first appearance in ``s``) and ``codes`` the position of each
    row's id in it (-1 when missing), so callers can compare, count and sort ids as integers.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    canon = _canonical_uniques(uniques)
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
    missing_u = np.array([c is None for c in canon] + [True], dtype=bool)
    missing = missing_u[codes]
    # distinct raw values can share a canonical id (" 42" and "42.0"): merge their codes
    canon_codes, canon_uniques = pd.factorize(
        np.array([c if c is not None else "" for c in canon], dtype=object))
    canon_codes = np.where(missing_u[:-1], -1, canon_codes)
    codes = np.append(canon_codes, -1)[codes] if len(canon) else codes
    unchanged = (isinstance(s.dtype, pd.StringDtype) and len(canon_uniques) == len(canon)
                 and not missing_u[:-1].any()
                 and np.array_equal(np.asarray(canon, dtype=object),
                                    np.asarray(uniques, dtype=object)))
    if unchanged:  # already canonical text: keep the column itself (no copy)
        ids = s.astype("str") if s.dtype != "str" else s.copy(deep=False)
        return ids, missing, codes, canon_uniques
    lookup = pd.array(list(canon_uniques) + [None], dtype="str")
    ids = pd.Series(lookup.take(codes), index=s.index, name=s.name, dtype="str")
    return ids, missing, codes, canon_uniques

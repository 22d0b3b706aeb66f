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

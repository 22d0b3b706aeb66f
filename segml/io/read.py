"""Read a user's transactions or customers file: read it as it is, map it, validate it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from segml._memory import release_unused
from segml.errors import SchemaError
from segml.readers import clip, fix_option, number_text, read_table
from segml.schema import (
    CUSTOMER_COLUMNS,
    PREFIX_KINDS,
    TRANSACTION_COLUMNS,
    Validated,
    validate_customers,
    validate_transactions,
)


def read_transactions(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None,
                      *, sep: str | None = None, encoding: str | None = None,
                      decimal: str | None = None, thousands: str | None = None,
                      sheet: str | int | None = None, read_kwargs: Mapping[str, Any] | None = None,
                      ignore_columns: Sequence[str] = (), **validate_kwargs: Any) -> Validated:
    """Read and validate a transactions file.

    Parameters
    ----------
    path : path-like
        CSV/TSV/TXT (plain or compressed), Parquet or Excel file.
    mapping : dict, optional
        Canonical name -> the file's column.
    sep, encoding, decimal, thousands, sheet : str, optional
        How to read the file (see :func:`segml.readers.read_table`): separator
        (sniffed when omitted), text encoding (byte-order mark or strict UTF-8
        when omitted), decimal and thousands marks, Excel sheet.
    read_kwargs : dict, optional
        Extra arguments for the pandas reader.
    ignore_columns : sequence of str, optional
        File columns to leave out before validation (e.g. an ``age`` column holding bands
        such as ``"45-54"`` where the contract wants a number); those the file lacks are
        skipped, since one list serves both files of a run.
    **validate_kwargs
        Passed to :func:`segml.schema.validate_transactions`.

    Returns
    -------
    Validated
        ``(frame, report)``.

    Raises
    ------
    InputFileError
        The file cannot be read as it is (see :func:`segml.readers.read_table`).
    SchemaError
        A numeric column written with another decimal or thousands mark than the
        options say, or any contract violation.
    """
    raw = read_table(path, sep=sep, encoding=encoding, decimal=decimal, thousands=thousands,
                     sheet=sheet, **_text_as_text(mapping, TRANSACTION_COLUMNS, read_kwargs))
    raw = drop_ignored(raw, ignore_columns, "transactions")
    _check_number_marks(raw, mapping, TRANSACTION_COLUMNS, "transactions", decimal, thousands)
    out = validate_transactions(raw, mapping, **validate_kwargs)
    del raw  # the raw frame's pages go back to the OS, not to every later stage's peak
    release_unused()
    return out


def read_customers(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None,
                   *, sep: str | None = None, encoding: str | None = None,
                   decimal: str | None = None, thousands: str | None = None,
                   sheet: str | int | None = None, read_kwargs: Mapping[str, Any] | None = None,
                   ignore_columns: Sequence[str] = (), **validate_kwargs: Any) -> Validated:
    """Read and validate a customers file (see :func:`read_transactions`)."""
    raw = read_table(path, sep=sep, encoding=encoding, decimal=decimal, thousands=thousands,
                     sheet=sheet, **_text_as_text(mapping, CUSTOMER_COLUMNS, read_kwargs))
    raw = drop_ignored(raw, ignore_columns, "customers")
    _check_number_marks(raw, mapping, CUSTOMER_COLUMNS, "customers", decimal, thousands)
    return validate_customers(raw, mapping, **validate_kwargs)


def drop_ignored(raw: pd.DataFrame, ignore: Sequence[str], table: str) -> pd.DataFrame:
    """Drop the ``ignore_columns`` this file has; the validator lists them as ignored."""
    present = [c for c in ignore if c in raw.columns]
    return raw.drop(columns=present) if present else raw


_DECIMAL_COMMA = re.compile(r"[-+]?\d{1,3}(?:\.\d{3})+,\d+|[-+]?\d+,(?:\d{1,2}|\d{4,})")
_THOUSANDS_COMMA = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+\.\d+|[-+]?\d{1,3}(?:,\d{3}){2,}")
_AMBIGUOUS_COMMA = re.compile(r"[-+]?\d{1,3},\d{3}")
_DECIMAL_POINT = re.compile(r"[-+]?\d*\.\d+")


def _check_number_marks(raw: pd.DataFrame, mapping: Mapping[str, str] | None,
                        kinds: Mapping[str, str], table: str, decimal: str | None,
                        thousands: str | None) -> None:
    """Refuse numeric columns left as text because of their decimal or thousands mark.

    ``12,50`` with the decimal mark ``"."`` (or ``12.50`` with ``","``) would
    otherwise fail later as "non-numeric" without naming the option that fixes it.
    """
    mapping = dict(mapping or {})
    prefixes = tuple(p for p, k in PREFIX_KINDS.items() if k == "float")
    floats = [c for c, k in kinds.items() if k == "float"]
    floats += [c for c in [*mapping, *map(str, raw.columns)]
               if c.startswith(prefixes) and c not in floats]
    dec = decimal or "."
    for canon in floats:
        col = mapping.get(canon, canon)
        if col not in raw.columns or pd.api.types.is_numeric_dtype(raw[col].dtype):
            continue
        s = raw[col].reset_index(drop=True)
        text = s.dropna().astype("str").str.strip()
        if dec == ".":
            text = text[text.ne("") & pd.to_numeric(text, errors="coerce").isna()]
        else:
            text = text[text.ne("") & ~text.str.fullmatch(number_text(dec, thousands))]
        if text.empty:
            continue
        if dec == ".":
            found = [(rx, problem, fix) for rx, problem, fix in (
                (_DECIMAL_COMMA, "a decimal comma", fix_option("decimal", "decimal", ",")),
                (_AMBIGUOUS_COMMA, "a comma that is a decimal or a thousands mark",
                 f"{fix_option('decimal', 'decimal', ',')} if ',' is the decimal mark, or "
                 f"--thousands ',' (config [data] thousands = \",\"; Python thousands=',') "
                 "if it separates thousands"),
                (_THOUSANDS_COMMA, "a thousands comma", fix_option("thousands", "thousands", ",")),
            ) if text.str.fullmatch(rx).any()]
            if not found:
                continue
            rx, problem, fix = found[0]
        else:
            rx, problem = _DECIMAL_POINT, f"a decimal point while the decimal mark is {dec!r}"
            fix = ("pass --decimal '.' or leave it out (config [data] decimal = \".\"; "
                   "Python decimal='.'), or fix those values")
            if not text.str.fullmatch(rx).any():
                continue
        bad = text[text.str.fullmatch(rx)]
        shown = ", ".join(f"row {i}: {clip(v)}" for i, v in bad.iloc[:3].items())
        where = f"{table}.{canon}" + (f" (column {clip(col)})" if col != canon else "")
        raise SchemaError(f"{where}: {len(bad):,} value(s) written with {problem} — {shown}. "
                          f"Fix: {fix}.")


_TEXT_KINDS = ("id", "string", "label", "ordered", "status")
#: Read as a pandas ``category`` (a Parquet dictionary): few distinct values over many lines.
_LABEL_KINDS = ("label", "status")


def _text_as_text(mapping: Mapping[str, str] | None, kinds: Mapping[str, str],
                  read_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Read id and label columns as text so codes survive (``00001``, postcode ``01234``).

    Otherwise pandas reads them as numbers (``1``, ``1234``) and, with a
    thousands mark, order numbers such as ``12.345`` as 12345. Label columns
    (``product``, ``category``, ``channel``, ``status``) are read as a ``category``
    of text: a 36M-line log holds them in 1-4 bytes a line instead of about 14.
    A ``dtype`` in ``read_kwargs`` wins.
    """
    kwargs = dict(read_kwargs or {})
    mapping = mapping or {}
    text: dict[str, Any] = {mapping.get(c, c): "category" if k in _LABEL_KINDS else str
                            for c, k in kinds.items() if k in _TEXT_KINDS}
    user = kwargs.get("dtype")
    if user is None:
        kwargs["dtype"] = text
    elif isinstance(user, Mapping):
        kwargs["dtype"] = {**text, **user}
    return kwargs  # a single dtype for every column is the caller's choice

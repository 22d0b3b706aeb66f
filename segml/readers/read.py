"""The one entry point, :func:`read_table`, and the Excel reader it dispatches to."""

from __future__ import annotations

import csv
import lzma
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from segml.errors import InputFileError
from segml.readers.files import _check_path, _format, _head_bytes, _refuse_other_format
from segml.readers.messages import _fail, clip, fix_option, names_list
from segml.readers.options import _check_encoding, _normalize_number_marks, normalize_sep
from segml.readers.text import _RAGGED_FIX, _apply_number_marks, _check_header, _read_text

_READ_ERRORS = (ValueError, OSError, ImportError, EOFError, lzma.LZMAError, zipfile.BadZipFile,
                csv.Error, KeyError)

def read_table(path: str | os.PathLike[str], *, sep: str | None = None,
               encoding: str | None = None, decimal: str | None = None,
               thousands: str | None = None, sheet: str | int | None = None,
               **kwargs: Any) -> pd.DataFrame:
    r"""Read a CSV/TSV/TXT (plain or compressed), Parquet or Excel file into a DataFrame.

    Values are read as the file has them (numbers as numbers, the rest as text)
    and typed by the validators in :mod:`segml.schema`.

    Parameters
    ----------
    path : path-like
        The file. Text: ``.csv``, ``.tsv``, ``.txt``, ``.dat``, ``.tab``, also
        inside ``.gz``, ``.bz2``, ``.xz``, ``.zst`` or a one-member ``.zip``.
        Parquet: ``.parquet``, ``.pq``. Excel: ``.xlsx``, ``.xlsm``, ``.xls``.
    sep : str, optional
        Separator of text files: one character (``"tab"`` and ``"\\t"`` mean a
        tab), or ``r"\s+"`` for whitespace-aligned files. Sniffed when omitted.
    encoding : str, optional
        Text encoding (e.g. ``"cp1252"``) of files without a byte-order mark; an
        8-bit encoding is only used when the file is not valid UTF-8. When
        omitted: the byte-order mark, else strict UTF-8.
    decimal : str, optional
        Decimal mark of numbers written as text, ``"."`` (default) or ``","``.
    thousands : str, optional
        Thousands mark of numbers written as text; defaults to ``"."`` when
        ``decimal=","`` (none otherwise); ``""`` for none. A column is converted
        only when every value is a number in these marks.
    sheet : str or int, optional
        Excel sheet name (or 0-based position); required when the workbook has
        several sheets.
    **kwargs
        Passed to the pandas reader (e.g. ``dtype``, ``header``, ``names``).

    Returns
    -------
    pandas.DataFrame
        At least one data row.

    Raises
    ------
    InputFileError
        Missing file, a folder, empty or header-only file, unsupported or
        disguised format, undecodable bytes, ambiguous separator, duplicate
        column names, a header that looks like data, an ambiguous zip or
        workbook, or a reader failure (with its cause).
    ConfigError
        An option value that cannot be used (unknown encoding, two-character
        separator, ...).
    """
    p = Path(path)
    _check_path(p)
    sep = normalize_sep(sep)
    encoding = _check_encoding(encoding)
    dec, thou = _normalize_number_marks(decimal, thousands)
    kind, compression, inner = _format(p)
    try:
        if kind == "parquet":
            _refuse_other_format(p, _head_bytes(p), "parquet")
            # parquet files carry their own types; text asked for as "category" is read
            # dictionary-encoded (pandas category, no string copied per line)
            kwargs = _parquet_kwargs(p, kwargs)
            # one block per column and each Arrow column freed once converted: no 2-D block
            # copy, a lower peak at millions of rows (same frame)
            kwargs.setdefault("to_pandas_kwargs", {"split_blocks": True, "self_destruct": True})
            df = pd.read_parquet(p, **kwargs)
        elif kind == "excel":
            df = _read_excel(p, sheet, kwargs)
        else:
            df = _read_text(p, compression, inner, sep, encoding, dec, thou, kwargs)
    except InputFileError:
        raise
    except _READ_ERRORS as exc:
        if isinstance(exc, ImportError):
            fix = "install the missing package named above, or save the file as .xlsx or .csv"
        elif isinstance(exc, pd.errors.ParserError):
            fix = _RAGGED_FIX
        else:
            fix = "check that the file is complete and in the format its name says"
        cause = " ".join(str(exc).split())
        cause = cause if len(cause) <= 200 else cause[:199] + "…"
        raise _fail(p, f"could not be read as {kind} ({type(exc).__name__}: {cause})",
                    fix) from exc
    if thou is not None or dec != ".":  # text cells of any format (pandas did pure columns)
        df = _apply_number_marks(df, dec, thou, set(kwargs.get("dtype") or ()))
    if df.shape[1] == 0:
        raise _fail(p, "has no columns and no rows", "export the table again, with its header")
    if len(df) == 0:
        raise _fail(p, f"has a header ({names_list(df.columns)}) but no data rows",
                    "export the rows too, or point to the right file")
    return df


def _parquet_kwargs(p: Path, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` for ``pandas.read_parquet``: ``dtype`` becomes Arrow's ``read_dictionary``.

    A Parquet file has its own types, so ``dtype`` is dropped; its text columns asked for as
    ``"category"`` are read as Arrow dictionaries, which pandas turns into a ``category``.
    """
    dtype = kwargs.pop("dtype", None)
    if not isinstance(dtype, Mapping) or "read_dictionary" in kwargs:
        return kwargs
    wanted = {str(c) for c, d in dtype.items() if str(d) == "category"}
    if wanted:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.read_schema(p)
        text = [f.name for f in schema if f.name in wanted and (
            pa.types.is_string(f.type) or pa.types.is_large_string(f.type))]
        if text:
            kwargs["read_dictionary"] = text
    return kwargs


def _read_excel(p: Path, sheet: str | int | None, kwargs: dict[str, Any]) -> pd.DataFrame:
    _refuse_plain_text_as_excel(p)
    if "sheet_name" in kwargs:
        sheet = kwargs.pop("sheet_name")
    with pd.ExcelFile(p) as xl:
        sheets = [str(s) for s in xl.sheet_names]
        if sheet is None:
            if len(sheets) > 1:
                raise _fail(p, f"has {len(sheets)} sheets ({names_list(sheets)})",
                            f"name the sheet to read: {fix_option('sheet', 'sheet', sheets[0])} "
                            "(for the customers file: --customer-sheet; config [data] "
                            "customer_sheet; Python read_customers(..., sheet=))")
            sheet = sheets[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(sheets):
                raise _fail(p, f"has no sheet number {sheet} (sheets: {names_list(sheets)})",
                            "pass a sheet name or a 0-based position that exists")
            sheet = sheets[sheet]
        elif str(sheet) not in sheets:
            raise _fail(p, f"has no sheet {clip(sheet)} (sheets: {names_list(sheets)})",
                        "pass one of the sheet names (--sheet / --customer-sheet; config [data] "
                        "sheet / customer_sheet; Python sheet=)")
        if "header" not in kwargs and "names" not in kwargs:
            head = pd.read_excel(xl, sheet_name=sheet, header=None, nrows=1)
            if len(head):
                _check_header(p, [str(v) for v in head.iloc[0].dropna()], ",")
        return pd.read_excel(xl, sheet_name=sheet, **kwargs)


def _refuse_plain_text_as_excel(p: Path) -> None:
    head = _head_bytes(p)
    if not (head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0")):
        raise _fail(p, f"is not an Excel workbook (it starts with {clip(head)})",
                    "give it the suffix of its real format (e.g. .csv)")

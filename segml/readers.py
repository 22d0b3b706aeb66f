r"""Read a user's table file into a raw DataFrame exactly as it is, or refuse with the fix.

:func:`read_table` is the only way segml reads a user's CSV/TSV/TXT (plain or
compressed: ``.gz``, ``.bz2``, ``.xz``, ``.zip``, ``.zst``), Parquet or Excel
file. Nothing is guessed from ambiguous evidence:

- **Encoding**: a byte-order mark decides (UTF-8, UTF-16, UTF-32; the mark never
  ends up in the first column name); otherwise the bytes must decode as strict
  UTF-8, or as the ``encoding`` option says (an 8-bit encoding such as cp1252
  only applies to files that are not valid UTF-8), or the file is refused naming
  the byte, the line and the ``encoding`` option. Text is never decoded with
  replacement characters.
- **Separator**: sniffed from the *decompressed, decoded* text over its first
  lines, respecting quotes: the one candidate among ``, ; tab |`` that splits
  the header and every sampled row into the same number of fields (more than
  one); whitespace-aligned files (CDNOW) when none of them splits the header. Two
  candidates that both fit, or a file read as one column whose header contains
  another candidate, are refused naming the ``sep`` option.
- **Numbers**: ``decimal`` and ``thousands`` marks (``decimal=","`` implies
  ``thousands="."``); a thousands mark is only accepted in properly grouped
  numbers (``1.234,50``), so ``12.50`` is never read as 1250.
- **Structure**: empty files, header-only files, binary files (or a Parquet/zip
  file renamed ``.csv``), duplicate column names, header-less files, zip
  archives with several members and workbooks with several sheets are refused
  with the fix.

Every message quotes at most a few short values.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, InputFileError

__all__ = ["read_table", "sniff_sep", "normalize_sep", "clip", "names_list", "fix_option",
           "number_text", "SEPARATORS"]

#: Separators sniffed in text files (whitespace alignment is the fallback).
SEPARATORS = (",", ";", "\t", "|")
WHITESPACE = r"\s+"
_SEP_ALIASES = {"\\t": "\t", "tab": "\t", "whitespace": WHITESPACE, "space": WHITESPACE,
                "comma": ",", "semicolon": ";", "pipe": "|"}
_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip", ".zst": "zstd"}
_TEXT = (".csv", ".tsv", ".txt", ".dat", ".tab", "")
_PARQUET = (".parquet", ".pq")
_EXCEL = (".xlsx", ".xlsm", ".xls")
_SNIFF_CHARS = 256 * 1024  # bytes decoded for sniffing
_SNIFF_ROWS = 50
_MAX_CHARS = 60
_MAX_NAMES = 10
#: Leading bytes of formats that are not text tables: (magic, what it is, suffix to use).
_MAGIC: tuple[tuple[bytes, str, str | None], ...] = (
    (b"PAR1", "a Parquet file", ".parquet"),
    (b"PK\x03\x04", "a zip archive or an Excel workbook", ".zip or .xlsx"),
    (b"\x1f\x8b", "gzip-compressed", ".gz (e.g. data.csv.gz)"),
    (b"\xfd7zXZ\x00", "xz-compressed", ".xz (e.g. data.csv.xz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", ".zst (e.g. data.csv.zst)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook", ".xls"),
    (b"%PDF", "a PDF document", None),
    (b"SQLite format 3\x00", "an SQLite database", None),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NUMBER_OR_DATE = re.compile(
    r"[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?"
    r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?)?"
)
_RAGGED_FIX = ("remove any title lines above the header, give every line as many fields as the "
               "header (quote values that contain the separator, drop trailing separators), or "
               "pass the right separator with --sep (config [data] sep; Python sep=)")
_READ_ERRORS = (ValueError, OSError, ImportError, EOFError, lzma.LZMAError, zipfile.BadZipFile,
                csv.Error, KeyError)


# --------------------------------------------------------------------------- short messages


def clip(value: Any, limit: int = _MAX_CHARS) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters with an ellipsis.

    Parameters
    ----------
    value : object
        What to quote in a message.
    limit : int, default 60
        Longest rendering kept.

    Returns
    -------
    str
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    end = text[-1] if text[-1] in "'\"" else ""  # keep the closing quote of a string
    return text[: limit - 1 - len(end)] + "…" + end


def names_list(names: Any, limit: int = _MAX_NAMES) -> str:
    """Quote the first ``limit`` names (each clipped), then ``and N more``.

    Parameters
    ----------
    names : iterable
        Column or sheet names.
    limit : int, default 10
        How many to show.

    Returns
    -------
    str
    """
    names = [str(n) for n in names]
    shown = ", ".join(clip(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def _fail(p: Path, problem: str, fix: str) -> InputFileError:
    return InputFileError(f"{p}: {problem}. Fix: {fix}")


def fix_option(flag: str, key: str, value: str, py: str | None = None) -> str:
    """``--flag V (config [data] key = "V"; Python key="V")`` for a Fix."""
    shown = value.replace("\t", "\\t")
    return (f"pass --{flag} {shown!r} (config [data] {key} = \"{shown}\"; "
            f"Python {py or key}={shown!r})")


# --------------------------------------------------------------------------- options


def normalize_sep(sep: str | None) -> str | None:
    r"""Check a separator option: one character, or ``\s+`` (aliases: tab, ``\t``, whitespace).

    Parameters
    ----------
    sep : str or None

    Returns
    -------
    str or None

    Raises
    ------
    ConfigError
        Anything else.
    """
    if sep is None:
        return None
    sep = _SEP_ALIASES.get(str(sep).lower(), sep)
    if sep == WHITESPACE or (isinstance(sep, str) and len(sep) == 1 and sep not in "\"\r\n"):
        return sep
    raise ConfigError(
        f"sep={clip(sep)} is not a usable separator. Fix: pass one character such as ';' or "
        "'\\t' (or 'tab'), or '\\s+' for whitespace-aligned files (--sep; config [data] sep; "
        "Python sep=)."
    )


def _normalize_number_marks(decimal: str | None,
                            thousands: str | None) -> tuple[str, str | None]:
    dec = "." if decimal is None else decimal
    if not isinstance(dec, str) or len(dec) != 1 or dec.isalnum():
        raise ConfigError(f"decimal={clip(decimal)} is not a decimal mark. Fix: pass '.' or ',' "
                          "(--decimal; config [data] decimal; Python decimal=).")
    if thousands is None:
        thou = "." if dec == "," else None
    else:
        thou = thousands or None
    if thou is not None and (len(thou) != 1 or thou.isalnum() or thou == dec):
        raise ConfigError(
            f"thousands={clip(thousands)} with decimal={dec!r} is not usable. Fix: pass one "
            "character other than the decimal mark, e.g. ',' or '.', or '' for none "
            "(--thousands; config [data] thousands; Python thousands=)."
        )
    return dec, thou


def _check_encoding(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ConfigError(
            f"encoding={clip(encoding)} is not a known text encoding. Fix: pass a Python codec "
            "name such as 'utf-8', 'cp1252', 'latin-1' or 'utf-16' (--encoding; config [data] "
            "encoding; Python encoding=)."
        ) from None
    return encoding


# --------------------------------------------------------------------------- the reader


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
            kwargs.pop("dtype", None)  # parquet files carry their own types
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


def _check_path(p: Path) -> None:
    if not p.exists():
        raise _fail(p, "file not found", f"check the path (cwd is {Path.cwd()})")
    if p.is_dir():
        raise _fail(p, "is a folder, not a file",
                    "pass the table file inside it (e.g. the .csv or .parquet)")
    if not p.is_file():
        raise _fail(p, "is not a regular file", "pass a table file")
    if not os.access(p, os.R_OK):
        raise _fail(p, "cannot be opened (permission denied)",
                    "make the file readable for this user")
    if p.stat().st_size == 0:
        raise _fail(p, "is empty (0 bytes)", "export the table again; the file has no content")


def _format(p: Path) -> tuple[str, str | None, str]:
    """Return (kind, compression, inner suffix) from the file name."""
    suffixes = [s.lower() for s in p.suffixes]
    last = suffixes[-1] if suffixes else ""
    compression = _COMPRESSIONS.get(last)
    if compression:
        inner = suffixes[-2] if len(suffixes) > 1 else ""
        if inner in _TEXT or compression == "zip":
            return "text", compression, inner
    else:
        if last in _PARQUET:
            return "parquet", None, last
        if last in _EXCEL:
            return "excel", None, last
        if last in _TEXT and last:
            return "text", None, last
    raise _fail(
        p, f"unsupported file type {clip(''.join(suffixes[-2:]))}",
        "use .csv/.tsv/.txt (optionally .gz/.bz2/.xz/.zip), .parquet or .xlsx, or read it "
        "with pandas and call segml.schema.validate_* directly",
    )


def _head_bytes(p: Path, n: int = 16) -> bytes:
    with open(p, "rb") as fh:
        return fh.read(n)


def _refuse_other_format(p: Path, head: bytes, expected: str) -> None:
    """Refuse a file whose leading bytes say it is something else (a renamed file)."""
    if expected == "parquet":
        if not head.startswith(b"PAR1"):
            raise _fail(p, f"is not a Parquet file (it starts with {clip(head)})",
                        "give it the suffix of its real format (.csv, .xlsx, ...)")
        return
    magics = [*_MAGIC]
    if head[:3] == b"BZh" and head[4:10] == b"1AY&SY":  # bzip2: level digit, then block magic
        magics.append((head[:10], "bzip2-compressed", ".bz2 (e.g. data.csv.bz2)"))
    for magic, what, suffix in magics:
        if head.startswith(magic):
            fix = (f"rename it to end in {suffix}" if suffix else
                   "export the table as CSV, Parquet or Excel")
            raise _fail(p, f"is {what}, not a text table", fix)


# --------------------------------------------------------------------------- text files


def _raw_bytes(p: Path, compression: str | None) -> tuple[bytes, str]:
    """Return the decompressed bytes and the inner name (for zip members)."""
    if compression is None:
        return p.read_bytes(), p.name
    if compression == "gzip":
        with gzip.open(p, "rb") as fh:
            return fh.read(), p.name
    if compression == "bz2":
        with bz2.open(p, "rb") as fh:
            return fh.read(), p.name
    if compression == "xz":
        with lzma.open(p, "rb") as fh:
            return fh.read(), p.name
    if compression == "zstd":
        try:
            import zstandard
        except ImportError:
            raise _fail(p, "is zstd-compressed and the 'zstandard' package is not installed",
                        "pip install zstandard, or decompress the file (zstd -d)") from None
        with open(p, "rb") as fh:
            return zstandard.ZstdDecompressor().stream_reader(fh).read(), p.name
    with zipfile.ZipFile(p) as zf:
        members = [i for i in zf.infolist()
                   if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        if not members:
            raise _fail(p, "is a zip archive with no file in it",
                        "zip the table file itself, or pass the table file")
        if len(members) > 1:
            raise _fail(p, f"is a zip archive with {len(members)} files "
                           f"({names_list(m.filename for m in members)})",
                        "extract the table you want and pass that file")
        member = members[0]
        inner = Path(member.filename).suffix.lower()
        if inner not in _TEXT:
            raise _fail(p, f"holds {clip(member.filename)}, which is not a text table",
                        "extract it and pass the file itself")
        return zf.read(member), member.filename


def _encoding(p: Path, data: bytes, encoding: str | None) -> str:
    """Return the encoding the whole of ``data`` decodes with strictly, or refuse.

    A byte-order mark decides; else the given encoding, else UTF-8. A given
    8-bit encoding (cp1252, latin-1, ...) is not applied to a file that is valid
    UTF-8: that would turn ``Forlì`` into ``ForlÃ¬`` (one option serves both
    files of a run, and they need not share an encoding).
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return _check_decodes(p, data, enc, given=False)
    if encoding is not None:
        if not codecs.lookup(encoding).name.startswith("utf") and _decodes(data, "utf-8"):
            return "utf-8"
        return _check_decodes(p, data, encoding, given=True)
    _refuse_other_format(p, data[:16], "text")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _fail(
            p, f"holds binary data (a NUL byte at byte {nul:,}), not text",
            "export the table as CSV; if it is UTF-16 text without a byte-order mark, pass "
            "--encoding utf-16-le (config [data] encoding = \"utf-16-le\"; "
            "Python encoding=\"utf-16-le\")",
        )
    return _check_decodes(p, data, "utf-8", given=False)


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether ``data`` decodes strictly, checked in 1 MiB steps (no full copy as text)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    step = 1 << 20
    try:
        for i in range(0, len(data), step):
            decoder.decode(data[i:i + step], final=i + step >= len(data))
    except UnicodeDecodeError:
        return False
    return True


def _check_decodes(p: Path, data: bytes, encoding: str, *, given: bool) -> str:
    if _decodes(data, encoding):
        return encoding
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        begin = max(data.rfind(b"\n", 0, exc.start) + 1, exc.start - 20)
        end = data.find(b"\n", exc.start, exc.start + 20)
        snippet = data[begin: end if end >= 0 else exc.start + 20].rstrip(b"\r")
        shown = clip(snippet.decode("ascii", errors="backslashreplace"))
        suggestion = "latin-1" if codecs.lookup(encoding).name == "cp1252" else "cp1252"
        how = f"as {encoding!r} (the encoding given)" if given else \
            "as UTF-8 (it has no byte-order mark)"
        raise _fail(
            p, f"cannot be decoded {how}: byte {exc.start:,} (line {line:,}) "
               f"is {data[exc.start:exc.start + 1]!r}, in {shown}",
            f"{fix_option('encoding', 'encoding', suggestion)} or the encoding the file was "
            "written in (Excel on Windows writes cp1252)",
        ) from None
    raise AssertionError("incremental and whole decoding disagree")  # pragma: no cover


def _sample(data: bytes, encoding: str) -> tuple[str, bool]:
    """Decode the first lines; return (text, whether that is the whole file)."""
    whole = len(data) <= _SNIFF_CHARS
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    text = decoder.decode(data[:_SNIFF_CHARS], final=whole).removeprefix("\ufeff")
    if whole:
        return text, True
    cut = text.rfind("\n")
    return (text[:cut] if cut > 0 else text), False


def _records(sample: str, sep: str) -> list[list[str]]:
    """Split the first rows of ``sample`` by ``sep`` (quotes respected; blank lines skipped)."""
    if sep == WHITESPACE:
        return [line.split() for line in sample.splitlines() if line.strip()][:_SNIFF_ROWS]
    rows: list[list[str]] = []
    try:
        for rec in csv.reader(io.StringIO(sample), delimiter=sep):
            if rec and (len(rec) > 1 or rec[0].strip()):  # pandas skips whitespace-only lines
                rows.append(rec)
            if len(rows) >= _SNIFF_ROWS:
                break
    except csv.Error:
        return []
    return rows


def sniff_sep(p: Path, sample: str) -> str:
    r"""Return the separator the sample's header and rows agree on, or refuse.

    Parameters
    ----------
    p : Path
        The file (for messages).
    sample : str
        The first lines of the decoded text.

    Returns
    -------
    str
        One of :data:`SEPARATORS`, ``r"\s+"`` for whitespace-aligned text, or
        ``","`` for a one-column file (no candidate splits the header).

    Raises
    ------
    InputFileError
        When two candidates both fit, or none fits while several split the header.
    """
    counts: dict[str, list[int]] = {}
    for cand in SEPARATORS:
        rows = _records(sample, cand)
        if rows and len(rows[0]) > 1:
            counts[cand] = [len(r) for r in rows]
    fits = [c for c, n in counts.items() if all(k == n[0] for k in n)]
    if len(fits) == 1:
        return fits[0]
    if len(fits) > 1 or (not fits and len(counts) > 1):
        detail = "; ".join(f"{c!r} gives {min(n)}–{max(n)} fields" if min(n) != max(n)
                           else f"{c!r} gives {n[0]} fields on every line"
                           for c, n in counts.items())
        first = (fits or list(counts))[0]
        raise _fail(p, f"the separator is ambiguous in the first {max(map(len, counts.values()))} "
                       f"lines ({detail})", fix_option("sep", "sep", first))
    if counts:  # one candidate splits the header: pandas reports the ragged line
        return next(iter(counts))
    ws = [len(r) for r in _records(sample, WHITESPACE)]
    if ws and ws[0] > 1 and all(k == ws[0] for k in ws):
        return WHITESPACE
    return ","  # one column


def _read_text(p: Path, compression: str | None, inner: str, sep: str | None,
               encoding: str | None, dec: str, thou: str | None,
               kwargs: dict[str, Any]) -> pd.DataFrame:
    data, name = _raw_bytes(p, compression)
    if not data:
        raise _fail(p, f"is empty once decompressed ({clip(name)} has 0 bytes)",
                    "export the table again")
    encoding = _encoding(p, data, encoding)
    sample, whole = _sample(data, encoding)
    lines = [line for line in sample.splitlines() if line.strip()]
    if not lines:
        raise _fail(p, "holds only blank lines", "export the table again, with its header")
    if len(lines) == 1 and whole:
        raise _fail(p, f"has a header line ({clip(lines[0])}) but no data rows",
                    "export the rows too, or point to the right file")
    given_sep = sep is not None
    if sep is None:
        sep = "\t" if inner in (".tsv", ".tab") else sniff_sep(p, sample)
    header_given = "header" in kwargs or "names" in kwargs
    if not header_given:
        records = _records(sample, sep)
        _check_header(p, records[0] if records else [], sep)
        _check_field_counts(p, records, sep)
        if records:
            _check_all_lines(p, data, encoding, sep, len(records[0]))
    df = pd.read_csv(io.BytesIO(data), sep=sep, decimal=dec, encoding=encoding, **kwargs)
    if df.shape[1] == 1:
        col = str(df.columns[0])
        other = [c for c in SEPARATORS if c != sep and c in col]
        if other:
            how = "you gave" if given_sep else f"taken from its {inner or 'name'}" \
                if inner in (".tsv", ".tab") else "sniffed"
            raise _fail(p, f"reads with the separator {how} ({sep!r}) as a single column "
                           f"{clip(col)}, but the header contains {other[0]!r}",
                        fix_option("sep", "sep", other[0]))
    return df


def _check_header(p: Path, header: list[str], sep: str) -> None:
    """Refuse duplicate column names and a first line that looks like data."""
    seen: dict[str, int] = {}
    for pos, name in enumerate(header):
        if name in seen and name.strip():
            raise _fail(p, f"the header names column {clip(name)} twice (columns "
                           f"{seen[name] + 1} and {pos + 1})",
                        "rename one of them in the file (pandas would silently rename the "
                        f"second to {clip(name + '.1')})")
        seen.setdefault(name, pos)
    if header and all(_NUMBER_OR_DATE.fullmatch(h.strip()) for h in header):
        raise _fail(p, f"the first line looks like data, not a header ({names_list(header, 4)})",
                    "add a header line with column names (e.g. customer_id"
                    f"{sep if sep != WHITESPACE else ' '}timestamp...); from Python you can pass "
                    "read_kwargs={'header': None, 'names': [...]}")


def number_text(decimal: str | None, thousands: str | None) -> str:
    """Return the regex of a number written with these marks (thousands properly grouped).

    Parameters
    ----------
    decimal : str or None
        Decimal mark (``None``: ``"."``).
    thousands : str or None
        Thousands mark (``None``: ``"."`` when ``decimal`` is ``","``, else none).

    Returns
    -------
    str
    """
    dec, thou = _normalize_number_marks(decimal, thousands)
    d = re.escape(dec)
    whole = rf"\d{{1,3}}(?:{re.escape(thou)}\d{{3}})+|\d+" if thou else r"\d+"
    return rf"[-+]?(?:{whole})(?:{d}\d+)?"


def _check_field_counts(p: Path, records: list[list[str]], sep: str) -> None:
    """Refuse rows with more or fewer fields than the header in the sampled lines.

    pandas would pad a short row with missing values, and when every row has one
    field more than the header it silently uses the first column as the index,
    shifting every value one column to the left.
    """
    n = len(records[0]) if records else 0
    bad = next((i for i, rec in enumerate(records) if len(rec) != n), None)
    if bad is None:
        return
    shown = clip((" " if sep == WHITESPACE else sep).join(records[bad]))
    raise _fail(p, f"the header has {n} fields but record {bad + 1} (the header is record 1) "
                   f"has {len(records[bad])} with the separator {sep!r}: {shown}",
                _RAGGED_FIX)


def _check_all_lines(p: Path, data: bytes, encoding: str, sep: str, n_fields: int) -> None:
    """Refuse any line of a quote-free file whose field count differs from the header's.

    The sample check covers the first lines; this covers the rest with a
    vectorised count of separators per line. Files with quotes (a quoted value
    may hold the separator or a line break), whitespace-aligned files and
    encodings where the separator is not one byte are left to pandas, which
    refuses long lines and pads short ones with missing values.
    """
    if sep == WHITESPACE or b'"' in data:
        return
    if codecs.lookup(encoding).name == "utf-8-sig":
        encoding = "utf-8"  # the BOM is only at the start of the data
    try:
        sep_byte, newline = sep.encode(encoding), "\n".encode(encoding)
    except UnicodeError:
        return
    if len(sep_byte) != 1 or newline != b"\n":
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    if not len(ends) or ends[-1] != len(arr) - 1:
        ends = np.append(ends, len(arr))  # last line without a line break
    starts = np.concatenate(([0], ends[:-1] + 1))
    counts = np.bincount(np.searchsorted(ends, np.flatnonzero(arr == sep_byte[0])),
                         minlength=len(ends))
    length = ends - starts - (arr[np.maximum(ends - 1, 0)] == 13)  # without a trailing \r
    bad = (counts != n_fields - 1) & (length > 0)
    for i in np.flatnonzero(bad & (counts == 0)):  # whitespace-only lines: pandas skips them
        bad[i] = bool(data[starts[i]:ends[i]].strip())
    bad = np.flatnonzero(bad)
    if not len(bad):
        return
    line = int(bad[0])
    text = data[starts[line]:ends[line]].decode(encoding, errors="replace").rstrip("\r")
    raise _fail(p, f"the header has {n_fields} fields but line {line + 1:,} has "
                   f"{int(counts[line]) + 1} with the separator {sep!r}: {clip(text)}"
                   + (f" ({len(bad):,} such lines)" if len(bad) > 1 else ""),
                _RAGGED_FIX)


def _apply_number_marks(df: pd.DataFrame, dec: str, thou: str | None,
                        keep: set[Any]) -> pd.DataFrame:
    """Convert text columns whose every value is a number in these marks (``1.234,50``)."""
    grouped = number_text(dec, thou or "")
    marks = [m for m in (thou, dec if dec != "." else None) if m]
    out = df
    for col in df.columns:
        s = df[col]
        if col in keep or not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        text = s.dropna().astype("str").str.strip()
        text = text[text.ne("")]
        if text.empty or not any(text.str.contains(m, regex=False).any() for m in marks):
            continue
        if not text.str.fullmatch(grouped).all():
            continue
        clean = s.astype("str").str.strip()
        if thou:
            clean = clean.str.replace(thou, "", regex=False)
        clean = clean.str.replace(dec, ".", regex=False).where(s.notna())
        if out is df:
            out = df.copy()
        out[col] = pd.to_numeric(clean.mask(clean.eq("")), errors="coerce").astype("float64")
    return out


# --------------------------------------------------------------------------- excel


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

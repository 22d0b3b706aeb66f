"""Text tables: separator sniffing, header and field-count checks, number marks, the CSV read."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segml.readers.files import _encoding, _raw_bytes
from segml.readers.messages import _fail, clip, fix_option, names_list
from segml.readers.options import SEPARATORS, WHITESPACE, number_text

_SNIFF_CHARS = 256 * 1024  # bytes decoded for sniffing
_SNIFF_ROWS = 50
_NUMBER_OR_DATE = re.compile(
    r"[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?"
    r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?)?"
)
_RAGGED_FIX = ("remove any title lines above the header, give every line as many fields as the "
               "header (quote values that contain the separator, drop trailing separators), or "
               "pass the right separator with --sep (config [data] sep; Python sep=)")
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

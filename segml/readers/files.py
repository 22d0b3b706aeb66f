"""What a file is before it is parsed: path checks, format and compression, raw bytes, encoding."""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
import zipfile
from pathlib import Path

from segml.readers.messages import _fail, clip, fix_option, names_list

_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip", ".zst": "zstd"}
_TEXT = (".csv", ".tsv", ".txt", ".dat", ".tab", "")
_PARQUET = (".parquet", ".pq")
_EXCEL = (".xlsx", ".xlsm", ".xls")
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

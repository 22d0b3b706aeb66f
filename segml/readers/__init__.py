"""Read a user's table file into a raw DataFrame exactly as it is, or refuse with the fix.

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

Modules: :mod:`~segml.readers.read` (:func:`read_table`), :mod:`~segml.readers.files`
(path, format, compression, bytes, encoding), :mod:`~segml.readers.text` (separator sniffing
and the text parse), :mod:`~segml.readers.options` (the user's reading options) and
:mod:`~segml.readers.messages` (short message helpers). Every public name is importable from
``segml.readers``.
"""

from __future__ import annotations

from segml.readers.messages import clip, fix_option, names_list
from segml.readers.options import SEPARATORS, WHITESPACE, normalize_sep, number_text
from segml.readers.read import read_table
from segml.readers.text import sniff_sep

__all__ = [
    "read_table",
    "sniff_sep",
    "normalize_sep",
    "clip",
    "names_list",
    "fix_option",
    "number_text",
    "SEPARATORS",
    # also public, defined in the submodules
    "WHITESPACE",
]

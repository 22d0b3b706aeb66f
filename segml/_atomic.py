"""Atomic, never-silently-overwriting file and folder writes.

Every output segml writes goes through here: the content is written to a
temporary sibling, flushed, then renamed into place, so a reader never sees a
half-written file and a crash leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from segml.errors import OutputExistsError

__all__ = ["atomic_path", "atomic_dir", "write_bytes", "write_text", "write_with", "check_writable"]


def check_writable(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Refuse to replace an existing output unless ``overwrite`` is true.

    Parameters
    ----------
    path : path-like
        The output that is about to be written.
    overwrite : bool
        Whether replacing an existing file or folder is allowed.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise OutputExistsError(
            f"{p} already exists; refusing to overwrite it. "
            "Choose another path, delete it, or pass overwrite=True (--force on the CLI)."
        )
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary file path that is renamed onto ``path`` on success.

    Parameters
    ----------
    path : path-like
        Final destination.
    overwrite : bool, default False
        Allow replacing an existing file.

    Yields
    ------
    pathlib.Path
        Where to write. On an exception the temporary file is removed and
        ``path`` is left untouched.
    """
    final = check_writable(path, overwrite=overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``path`` as a whole on success.

    Parameters
    ----------
    path : path-like
        Final folder.
    overwrite : bool, default False
        Allow replacing an existing folder (the old one is removed only after
        the new one is complete).

    Yields
    ------
    pathlib.Path
        A fresh empty folder beside ``path``.
    """
    final = check_writable(path, overwrite=overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; see :func:`atomic_path`."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str, *, overwrite: bool = False) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; see :func:`atomic_path`."""
    return write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def write_with(
    path: str | os.PathLike[str], writer: Callable[[Path], object], *, overwrite: bool = False
) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically.

    Useful for libraries that want a path (``DataFrame.to_parquet``, ``savefig``).
    """
    with atomic_path(path, overwrite=overwrite) as tmp:
        writer(tmp)
    return Path(path)

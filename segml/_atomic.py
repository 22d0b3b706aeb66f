"""Atomic, never-silently-overwriting file and folder writes.

Every output segml writes goes through here: the content is written to a
temporary sibling (a hidden ``.<name>.<random>.tmp``), flushed, then renamed into
place, so a reader never sees a half-written file and a crash leaves the previous
file intact. A killed write leaves only such a hidden temporary, which segml never
lists or loads.

* Temporaries are created with ``os.open(..., O_EXCL, 0o666)`` / ``os.mkdir(..., 0o777)``
  so the results follow the user's umask exactly like a plain ``open()``
  (``tempfile.mkstemp`` would leave 0600 files).
* A write that fails with an ``OSError`` (disk full, permission denied) removes its
  temporary and raises :class:`~segml.errors.OutputWriteError` with a fix.
* Without ``overwrite`` the final rename refuses an existing target, so two concurrent
  writers cannot both "win".
* Folders segml writes can carry a marker file; ``overwrite`` then replaces only a
  folder that has the marker (or holds nothing but files segml writes there).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from segml.errors import ConfigError, OutputExistsError, OutputWriteError, SegmlError

__all__ = [
    "atomic_path",
    "atomic_dir",
    "write_bytes",
    "write_text",
    "write_with",
    "check_writable",
    "check_parent",
    "check_name",
    "check_replaceable_dir",
    "write_error",
    "is_temporary",
    "make_temp_dir",
    "rename_new",
]

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_TEMP_RE = re.compile(r"\..+\.[0-9a-f]{12}\.(tmp|link)")
_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NO_ACCESS = (errno.EACCES, errno.EPERM, errno.EROFS)


def check_name(value: object, *, what: str, fix: str, forbid: str = "") -> str:
    """Check that ``value`` is one plain folder name (confined to its parent folder).

    Allowed: letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit,
    at most 128 characters. That excludes empty and hidden names, ``..``, absolute paths
    and path separators.

    Parameters
    ----------
    value : object
        The name to check.
    what : str
        What the name is, e.g. ``"run id"``.
    fix : str
        What to do instead (ends the message after ``Fix:``).
    forbid : str, default ""
        Extra characters that are not allowed (``"@"`` for model names).

    Returns
    -------
    str
        ``value``.

    Raises
    ------
    ConfigError
        When ``value`` is not such a name.
    """
    if (not isinstance(value, str) or not _NAME_RE.fullmatch(value)
            or any(c in value for c in forbid)):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise ConfigError(
            f"{what} {shown} is not valid: it must be a plain name of letters, digits, '.', "
            "'_' and '-' starting with a letter or digit (no path separators, '..', absolute "
            f"paths or hidden names{', no ' + repr(forbid) if forbid else ''}; at most 128 "
            f"characters), so the output stays inside its folder. Fix: {fix}"
        )
    return value


def is_temporary(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a temporary left by an unfinished write (``.<name>.<hex>.tmp``)."""
    return bool(_TEMP_RE.fullmatch(Path(path).name))


def write_error(path: str | os.PathLike[str], exc: OSError) -> OutputWriteError:
    """Turn an ``OSError`` raised while writing ``path`` into a one-line user error.

    Parameters
    ----------
    path : path-like
        The output being written.
    exc : OSError
        What the operating system said.

    Returns
    -------
    OutputWriteError
        To be raised ``from exc``.
    """
    p = Path(path)
    where = p.parent if str(p.parent) else Path(".")
    if exc.errno in _NO_SPACE:
        problem = "no space left on the device (disk or quota full)"
        fix = f"free space on the disk holding {where}/ or write to another folder"
    elif exc.errno in _NO_ACCESS:
        problem = "permission denied (or a read-only file system)"
        fix = f"make {where}/ writable or write to another folder"
    else:
        problem = exc.strerror or str(exc)
        fix = f"check {where}/ (exists, writable, space left) or write to another folder"
    return OutputWriteError(
        f"could not write {p}: {problem}. Nothing was written there and any previous version "
        f"is unchanged. Fix: {fix} ([output] reports_dir / models_dir in the config, the "
        "output path or root= in Python), then run again."
    )


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
    if os.path.lexists(p) and not overwrite:
        raise OutputExistsError(_exists_message(p))
    return p


def check_parent(path: str | os.PathLike[str], *, option: str) -> Path:
    """Check, before any work, that ``path`` can be created in a writable folder.

    Its nearest existing ancestor must be a folder this process may write to.

    Parameters
    ----------
    path : path-like
        The output about to be written.
    option : str
        The setting that chose the location, for the fix (e.g. ``"[output] reports_dir"``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        An ancestor of ``path`` is a file.
    OutputWriteError
        The folder is not writable.
    """
    p = Path(path)
    anc = p.parent
    while not os.path.lexists(anc) and anc != anc.parent:
        anc = anc.parent
    if os.path.lexists(anc) and not anc.is_dir():
        raise ConfigError(
            f"{anc} is a file, not a folder, so {p} cannot be written. Fix: point {option} "
            "at a folder, or move that file away."
        )
    if os.path.lexists(anc) and not os.access(anc, os.W_OK | os.X_OK):
        raise write_error(p, PermissionError(errno.EACCES, "Permission denied", str(anc)))
    return p


def _exists_message(p: Path) -> str:
    return (
        f"{p} already exists; refusing to overwrite it. Fix: pass --force on the CLI "
        "(overwrite=True in Python) to replace it, or choose another name/path, or delete it."
    )


def check_replaceable_dir(
    path: str | os.PathLike[str], *, overwrite: bool, marker: str,
    known: Collection[str] = (), what: str = "output folder",
) -> Path:
    """Check that writing the folder ``path`` may go ahead.

    A missing folder is fine. An existing one needs ``overwrite`` and must be segml's:
    it holds ``marker`` or (an older segml folder) nothing but names from ``known``.

    Parameters
    ----------
    path : path-like
        The folder.
    overwrite : bool
        ``--force`` / ``overwrite=True``.
    marker : str
        Name of the marker file segml writes inside such folders.
    known : collection of str, optional
        Entries an unmarked older segml folder may hold.
    what : str, default "output folder"
        Kind of folder, for the message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    ConfigError
        ``path`` exists but is not a folder segml wrote (``--force`` never deletes it).
    """
    p = check_writable(path, overwrite=overwrite)
    if not os.path.lexists(p):
        return p
    if p.is_symlink() or not p.is_dir():
        ours = False
    elif (p / marker).is_file():
        ours = True
    else:
        entries = {e.name for e in p.iterdir()}
        ours = bool(entries) and bool(known) and entries <= set(known)
    if not ours:
        raise ConfigError(
            f"{p} exists and is not a {what} written by segml (no {marker} marker); "
            "--force (overwrite=True) only replaces segml's own folders and never deletes "
            "this one. Fix: choose another name (--run-id / [output] run_id), or move or "
            "delete the folder yourself."
        )
    return p


def _temp_name(final: Path, suffix: str = "tmp") -> Path:
    return final.with_name(f".{final.name}.{secrets.token_hex(6)}.{suffix}")


def _make_temp_file(final: Path) -> Path:
    while True:
        tmp = _temp_name(final)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        os.close(fd)
        return tmp


def make_temp_dir(final: Path) -> Path:
    """Create an empty hidden temporary folder beside ``final`` (mode 0777 & ~umask)."""
    while True:
        tmp = _temp_name(final)
        try:
            os.mkdir(tmp, 0o777)
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        return tmp


def _remove(p: Path) -> None:
    with contextlib.suppress(OSError):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def rename_new(src: Path, dst: Path) -> None:
    """Rename ``src`` onto ``dst`` only if ``dst`` does not exist (no overwrite race).

    Files use ``os.link`` + unlink (fails with ``EEXIST`` atomically); folders use
    ``os.rename``, which fails onto a non-empty folder.

    Raises
    ------
    OutputExistsError
        When ``dst`` exists (another writer got there first).
    """
    try:
        if src.is_dir():
            if os.path.lexists(dst):
                raise FileExistsError(errno.EEXIST, "exists", str(dst))
            os.rename(src, dst)
        else:
            try:
                os.link(src, dst)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                    raise
                if os.path.lexists(dst):  # no hard links here: check, then rename
                    raise FileExistsError(errno.EEXIST, "exists", str(dst)) from exc
                os.rename(src, dst)
            else:
                src.unlink()
    except OSError as exc:
        if isinstance(exc, FileExistsError) or exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise OutputExistsError(_exists_message(dst)) from exc
        raise


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

    Raises
    ------
    OutputExistsError
        ``path`` exists (checked first and again at the rename) and ``overwrite`` is false.
    OutputWriteError
        The disk is full, or the folder is not writable.
    """
    final = check_writable(path, overwrite=overwrite)
    tmp: Path | None = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = _make_temp_file(final)
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, final)
        else:
            rename_new(tmp, final)
    except SegmlError:
        raise
    except OSError as exc:
        raise write_error(final, exc) from exc
    finally:
        if tmp is not None and os.path.lexists(tmp):
            _remove(tmp)


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike[str], *, overwrite: bool = False, marker: str | None = None,
    known: Collection[str] = (),
) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``path`` as a whole on success.

    Parameters
    ----------
    path : path-like
        Final folder.
    overwrite : bool, default False
        Allow replacing an existing folder (the old one is removed only after
        the new one is complete).
    marker : str, optional
        Write this (empty) marker file into the folder, and replace an existing folder
        only when it is segml's (see :func:`check_replaceable_dir`).
    known : collection of str, optional
        With ``marker``: entries an older unmarked segml folder may hold.

    Yields
    ------
    pathlib.Path
        A fresh empty folder beside ``path``.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    ConfigError
        With ``marker``: ``path`` exists and is not segml's.
    OutputWriteError
        The disk is full, or the folder is not writable.
    """
    final = Path(path)
    if marker is None:
        check_writable(final, overwrite=overwrite)
    else:
        check_replaceable_dir(final, overwrite=overwrite, marker=marker, known=known)
    tmp: Path | None = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = make_temp_dir(final)
        yield tmp
        if marker is not None:
            (tmp / marker).write_text("written by segml; --force may replace this folder\n")
        if not overwrite:
            rename_new(tmp, final)
        elif os.path.lexists(final):
            if marker is not None:  # checked again right before replacing
                check_replaceable_dir(final, overwrite=True, marker=marker, known=known)
            old = _temp_name(final, "tmp")
            os.rename(final, old)
            os.rename(tmp, final)
            _remove(old)
        else:
            os.rename(tmp, final)
    except SegmlError:
        raise
    except OSError as exc:
        raise write_error(final, exc) from exc
    finally:
        if tmp is not None and os.path.lexists(tmp):
            _remove(tmp)


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

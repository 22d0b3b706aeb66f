"""Short, safe messages about a file: clipped values, name lists, the option that fixes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segml.errors import InputFileError

_MAX_CHARS = 60
_MAX_NAMES = 10

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

"""The reading options a user can set: separator, decimal and thousands marks, encoding."""

from __future__ import annotations

import codecs
import re

from segml.errors import ConfigError
from segml.readers.messages import clip

#: Separators sniffed in text files (whitespace alignment is the fallback).
SEPARATORS = (",", ";", "\t", "|")
WHITESPACE = r"\s+"
_SEP_ALIASES = {"\\t": "\t", "tab": "\t", "whitespace": WHITESPACE, "space": WHITESPACE,
                "comma": ",", "semicolon": ";", "pipe": "|"}
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

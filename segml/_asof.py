"""Strict parsing of the ``as_of`` date, shared by the config, the CLI, the loaders and features.

Kept free of heavy imports (pandas only) so that :mod:`segml.config` can check
``features.as_of`` before any work starts.

Accepted, everywhere:

* the ISO text ``YYYY-MM-DD`` (``"2024-12-31"``), optionally with a time of day
  ``YYYY-MM-DDTHH:MM[:SS[.fff]]`` (``T`` or one space) and, after a time, a UTC offset
  (``Z``, ``+01:00``); the time of day never moves the boundary (see
  :mod:`segml.features._time`);
* in Python, and from a TOML date literal (``as_of = 2024-12-31``), a :class:`datetime.date`,
  :class:`datetime.datetime`, :class:`pandas.Timestamp` or :class:`numpy.datetime64`.

Refused with the accepted form: numbers (``2024``, ``20241231``, a TOML integer), other date
spellings (``12/01/2024``, ``31st of Dec``, ``2024``, ``20241231``), impossible dates
(``2024-02-30``), NaT and anything else.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError

__all__ = ["ACCEPTED_AS_OF", "parse_as_of"]

_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)

#: How the accepted forms are described in every as_of error message.
ACCEPTED_AS_OF = (
    "expected an ISO date YYYY-MM-DD (e.g. 2024-12-31), optionally with a time "
    "YYYY-MM-DDTHH:MM:SS"
)
_FIX = (
    "Fix: write the date as YYYY-MM-DD: config [features] as_of = \"2024-12-31\" (a TOML "
    "date 2024-12-31 works too), CLI --as-of 2024-12-31, Python as_of=\"2024-12-31\" "
    "(or a datetime.date / pandas.Timestamp)."
)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_as_of(value: Any, *, where: str = "as_of") -> pd.Timestamp:
    """Parse an ``as_of`` date strictly into a tz-naive :class:`pandas.Timestamp`.

    Parameters
    ----------
    value : str, datetime.date, datetime.datetime, pandas.Timestamp or numpy.datetime64
        The date. Text must be ISO ``YYYY-MM-DD`` (optionally with a time, see the module
        docstring). A tz-aware value is converted to UTC and made naive.
    where : str, default "as_of"
        How the value is named in error messages (``"config: features.as_of"``...).

    Returns
    -------
    pandas.Timestamp
        The parsed date, time of day kept.

    Raises
    ------
    ConfigError
        When ``value`` is None, NaT, a number, text in another form, an impossible date or
        any other type; the message gives the accepted form and where to fix it.

    Examples
    --------
    >>> parse_as_of("2024-12-31")
    Timestamp('2024-12-31 00:00:00')
    >>> parse_as_of("12/01/2024")
    Traceback (most recent call last):
    ...
    segml.errors.ConfigError: as_of='12/01/2024' is not a date in the accepted form: ...
    """
    if value is None:
        raise ConfigError(
            f"{where} is required and is never defaulted to the last date in the data; "
            f"pass the date the features describe. {_FIX}"
        )
    if isinstance(value, bool) or isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(
            f"{where}={_short(value)} is a number, not a date; {ACCEPTED_AS_OF}. {_FIX}"
        )
    if isinstance(value, str):
        text = value.strip()
        if not _ISO.match(text):
            raise ConfigError(
                f"{where}={_short(value)} is not a date in the accepted form: {ACCEPTED_AS_OF}. "
                f"{_FIX}"
            )
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{where}={_short(value)} is not a valid calendar date. {_FIX}"
            ) from exc
    elif isinstance(value, dt.date | np.datetime64):  # pd.Timestamp is a datetime
        ts = pd.Timestamp(value)
    else:
        raise ConfigError(
            f"{where} should be a date, got {type(value).__name__} {_short(value)}; "
            f"{ACCEPTED_AS_OF}. {_FIX}"
        )
    if pd.isna(ts):
        raise ConfigError(f"{where}={_short(value)} is missing (NaT); pass a real date. {_FIX}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts

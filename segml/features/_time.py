"""The as-of boundary and day counts, defined once for every feature.

Every transaction-derived feature is computed *as of* an explicit date. The rules, used by
every function in :mod:`segml.features` (see ``docs/CONTRACTS.md``):

* ``as_of`` is required. It is never defaulted to "the last date in the data".
* **Boundary, inclusive at day resolution**: a row counts as of ``as_of`` iff
  ``timestamp < cutoff(as_of)`` where ``cutoff(as_of) = normalize(as_of) + 1 day``. Everything on
  the calendar day ``as_of`` is in (23:59:59 included); 00:00 of the next day is out. The time of
  day of ``as_of`` itself is ignored.
* **Lookback window**: ``lookback_days=n`` keeps the last ``n`` calendar days up to and including
  ``as_of``: ``cutoff - n days <= timestamp < cutoff``. ``lookback_days=1`` keeps only the day
  ``as_of``.
* **Day counts** are whole calendar days between dates: ``(later.normalize() -
  earlier.normalize()).days``. So 23:59 on Monday to 00:01 on Tuesday is 1 day, and two times on
  the same day are 0 days apart. (Spark's ``datediff`` and DuckDB's ``date_diff('day', ...)``
  count date boundaries the same way; pandas' ``Timedelta.days`` floors the elapsed time instead,
  which is *not* what segml uses.)
* tz-aware timestamps are converted to UTC and made naive, as in ``validate_transactions``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from segml._asof import parse_as_of
from segml.errors import ConfigError, SchemaError

__all__ = ["to_as_of", "cutoff", "window_start", "filter_as_of", "days_between", "AsOfRows",
           "timestamp_values"]

_ONE_DAY = pd.Timedelta(days=1)


def to_as_of(as_of: Any) -> pd.Timestamp:
    """Parse ``as_of`` strictly into a tz-naive :class:`pandas.Timestamp`.

    Parameters
    ----------
    as_of : str, datetime, date, numpy.datetime64 or pandas.Timestamp
        The as-of date. Text must be ISO ``YYYY-MM-DD`` (optionally with a time of day
        ``YYYY-MM-DDTHH:MM:SS``); ``12/01/2024``, ``2024``, ``20241231`` and numbers are
        refused (see :func:`segml._asof.parse_as_of`). A tz-aware value is converted to UTC
        and made naive.

    Returns
    -------
    pandas.Timestamp
        The parsed date (time of day kept; the boundary only uses its calendar day).

    Raises
    ------
    ConfigError
        When ``as_of`` is None, NaT, a number or not an ISO date.

    Examples
    --------
    >>> to_as_of("1998-06-30")
    Timestamp('1998-06-30 00:00:00')
    """
    return parse_as_of(as_of)


def cutoff(as_of: Any) -> pd.Timestamp:
    """Exclusive upper bound of the rows that count as of ``as_of``.

    Parameters
    ----------
    as_of : date-like
        The as-of date (see :func:`to_as_of`).

    Returns
    -------
    pandas.Timestamp
        ``normalize(as_of) + 1 day``: rows with ``timestamp < cutoff(as_of)`` count.

    Examples
    --------
    >>> cutoff("1998-06-30 15:00")
    Timestamp('1998-07-01 00:00:00')
    """
    return to_as_of(as_of).normalize() + _ONE_DAY


def _check_lookback(lookback_days: Any) -> int | None:
    if lookback_days is None:
        return None
    if isinstance(lookback_days, bool) or not isinstance(lookback_days, int | np.integer):
        raise ConfigError(
            f"lookback_days={lookback_days!r} should be a positive whole number of days or None."
        )
    if lookback_days < 1:
        raise ConfigError(f"lookback_days={lookback_days} should be >= 1 (days, as_of included).")
    return int(lookback_days)


def window_start(as_of: Any, lookback_days: int | None) -> pd.Timestamp | None:
    """Inclusive lower bound of a lookback window, or None without one.

    Parameters
    ----------
    as_of : date-like
        The as-of date.
    lookback_days : int or None
        Number of calendar days in the window, the day ``as_of`` included.

    Returns
    -------
    pandas.Timestamp or None
        ``cutoff(as_of) - lookback_days days``.

    Raises
    ------
    ConfigError
        When ``lookback_days`` is not a positive integer.

    Examples
    --------
    >>> window_start("1998-06-30", 30)
    Timestamp('1998-06-01 00:00:00')
    """
    n = _check_lookback(lookback_days)
    if n is None:
        return None
    return cutoff(as_of) - pd.Timedelta(days=n)


class AsOfRows(NamedTuple):
    """Rows that count as of a date, with the counts of rows left out."""

    frame: pd.DataFrame
    """The rows inside ``[window_start, cutoff)``, original order, fresh RangeIndex."""
    n_after_as_of: int
    """Rows excluded because ``timestamp >= cutoff(as_of)`` (for the data-quality report)."""
    n_before_window: int
    """Rows excluded because they precede the lookback window (0 without one)."""


def filter_as_of(
    transactions: pd.DataFrame, as_of: Any, lookback_days: int | None = None
) -> AsOfRows:
    """Keep the transactions that count as of ``as_of`` (and inside the lookback window).

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions with a datetime64 ``timestamp`` column. Not modified.
    as_of : date-like
        The as-of date; every row on that calendar day is kept.
    lookback_days : int, optional
        Keep only the last ``lookback_days`` calendar days up to and including ``as_of``.

    Returns
    -------
    AsOfRows
        ``(frame, n_after_as_of, n_before_window)``.

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or ``lookback_days`` invalid.
    SchemaError
        When ``timestamp`` is absent or not datetime64.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a"],
    ...                    "timestamp": pd.to_datetime(["2024-01-31 23:59", "2024-02-01 00:00"]),
    ...                    "amount": [1.0, 2.0]})
    >>> rows = filter_as_of(tx, "2024-01-31")
    >>> len(rows.frame), rows.n_after_as_of
    (1, 1)
    """
    end = cutoff(as_of)
    start = window_start(as_of, lookback_days)
    ts = timestamp_values(transactions)
    before_end = ts < end.to_datetime64()
    keep = before_end
    n_before = 0
    if start is not None:
        in_window = ts >= start.to_datetime64()
        n_before = int((before_end & ~in_window).sum())
        keep = before_end & in_window
    n_after = int((~before_end).sum())
    frame = transactions.loc[keep].reset_index(drop=True)
    return AsOfRows(frame, n_after, n_before)


def timestamp_values(transactions: pd.DataFrame) -> np.ndarray:
    """Return the ``timestamp`` column as tz-naive ``datetime64`` values (UTC for aware ones).

    Raises
    ------
    SchemaError
        When the column is missing or not a parsed datetime.
    """
    if "timestamp" not in transactions.columns:
        raise SchemaError(
            "transactions has no 'timestamp' column; validate it with "
            "segml.schema.validate_transactions (or map your date column to 'timestamp')."
        )
    col = transactions["timestamp"]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    if not pd.api.types.is_datetime64_dtype(col.dtype):
        raise SchemaError(
            f"transactions 'timestamp' has dtype {col.dtype}, expected datetime64; parse it once "
            "at load (pd.to_datetime or segml.schema.validate_transactions)."
        )
    return col.to_numpy()


def days_between(later: Any, earlier: Any) -> Any:
    """Whole calendar days from ``earlier`` to ``later``.

    Defined as ``(later.normalize() - earlier.normalize()).days``.

    Parameters
    ----------
    later, earlier : Timestamp-like, or array-like / Series of datetimes
        Scalars or aligned arrays (broadcasting like numpy). Missing values give NaN.

    Returns
    -------
    int, float, numpy.ndarray or pandas.Series
        An int for two valid scalars (NaN if either is missing); a float64 array otherwise
        (a Series when ``later`` or ``earlier`` is one, keeping its index).

    Examples
    --------
    >>> days_between(pd.Timestamp("2024-01-02 00:01"), pd.Timestamp("2024-01-01 23:59"))
    1
    >>> days_between(pd.Timestamp("2024-01-01 23:59"), pd.Timestamp("2024-01-01 00:00"))
    0
    """
    scalar = np.ndim(later) == 0 and np.ndim(earlier) == 0
    if scalar:
        a, b = pd.Timestamp(later), pd.Timestamp(earlier)
        if pd.isna(a) or pd.isna(b):
            return float("nan")
        return int((_naive(a).normalize() - _naive(b).normalize()).days)
    index = None
    for obj in (later, earlier):
        if isinstance(obj, pd.Series):
            index = obj.index
            break
    a_days = _to_days(later)
    b_days = _to_days(earlier)
    nat = np.isnat(a_days) | np.isnat(b_days)
    out = (a_days - b_days).astype("int64").astype("float64")
    out = np.where(nat, np.nan, out)
    if index is not None:
        return pd.Series(out, index=index, dtype="float64")
    return out


def _naive(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _to_days(values: Any) -> np.ndarray:
    if np.ndim(values) == 0:
        ts = pd.Timestamp(values)
        if pd.isna(ts):
            return np.array("NaT", dtype="datetime64[D]")
        return np.datetime64(_naive(ts).normalize().date(), "D")
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    if not pd.api.types.is_datetime64_dtype(s.dtype):
        s = pd.to_datetime(s)
    # datetime64 -> datetime64[D] floors towards -inf, i.e. the calendar day.
    return s.to_numpy().astype("datetime64[D]")

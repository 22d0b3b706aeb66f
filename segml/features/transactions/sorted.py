"""Transactions checked, converted and sorted by time once, for builds at many as-of dates.

A backtest builds features at a dozen cutoffs from one log. Handing the whole pandas log to
each build re-checks it, converts it to polars again and filters it again; a time-sorted log
turns "the rows that count as of ``T``" into a prefix, found by binary search and taken as a
zero-copy slice. :class:`SortedTransactions` does the conversion the transaction features do
(:mod:`segml.features.transactions`: the same column checks, casts and tz handling) once, keeps
only the columns the features read, and sorts the rows by ``timestamp`` (stable; missing
timestamps last, never in a prefix). A build from ``SortedTransactions(tx).as_of(T)`` gives the
same frame as a build from ``tx`` (the features do not depend on row order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from segml.errors import SchemaError
from segml.features._time import cutoff
from segml.features.transactions._rows import _OPTIONAL, _as_input

__all__ = ["SortedTransactions", "FEATURE_TRANSACTION_COLUMNS"]

#: Transaction columns the feature build reads (the first three are required); the others are
#: dropped by :class:`SortedTransactions`.
FEATURE_TRANSACTION_COLUMNS = ("customer_id", "timestamp", "amount", *_OPTIONAL)


def feature_frame(transactions: Any) -> Any:
    """Return the feature columns of a pandas log as one polars frame, or the input unchanged.

    :class:`~segml.features.FeatureBuilder` converts a pandas log once with this and hands the
    polars frame to every step (as-of dates, every family) instead of each step converting
    the 3-column or 10-column slice it reads again. A log that is not a pandas frame, or
    fails a check of the conversion (missing column, date column not parsed), is returned
    as it is, so the step that reads it raises its own error as before.

    Parameters
    ----------
    transactions : Any
        Canonical transactions, or anything else.

    Returns
    -------
    polars.DataFrame or the input
        Same columns, values and row order as the conversion inside the feature functions.
    """
    if not isinstance(transactions, pd.DataFrame):
        return transactions
    try:
        return _as_input(transactions, _OPTIONAL).lf.collect()
    except SchemaError:
        return transactions


class SortedTransactions:
    """The feature columns of a transactions log as one polars frame sorted by time.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions (``customer_id``, datetime ``timestamp``, ``amount``; the
        optional columns of :data:`FEATURE_TRANSACTION_COLUMNS` are kept when present).

    Attributes
    ----------
    frame : polars.DataFrame
        The kept columns, ``customer_id`` as text, timestamps tz-naive (UTC), rows sorted by
        ``timestamp`` (stable; rows without a timestamp last). Text from a pandas log is
        dictionary-encoded: ``customer_id``, ``category``, ``channel`` and ``status`` are
        polars ``Categorical``, ``order_id`` its integer codes (equal ids, equal codes).
    order : numpy.ndarray or None
        Row positions of the input in sorted order (``frame`` row ``i`` is input row
        ``order[i]``); None when the input was already in time order.
    timestamps : numpy.ndarray
        ``frame["timestamp"]`` as ``datetime64`` (NaT last).

    Raises
    ------
    SchemaError
        When a required column is absent, a date column is not a parsed datetime, or the
        input is not a DataFrame (as the feature build itself).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "timestamp": pd.to_datetime(["2024-03-01 00:00", "2024-01-05 00:00",
    ...                                  "2024-01-31 23:00"]),
    ...     "amount": [1.0, 2.0, 3.0], "note": ["x", "y", "z"]})
    >>> st = SortedTransactions(tx)
    >>> st.frame.columns, st.order.tolist()
    (['customer_id', 'timestamp', 'amount'], [1, 2, 0])
    >>> st.as_of("2024-01-31")["amount"].to_list()  # the whole day counts
    [2.0, 3.0]
    """

    def __init__(self, transactions: Any) -> None:
        frame = _as_input(transactions, _OPTIONAL).lf.collect()
        ts = frame["timestamp"].to_numpy()
        if not isinstance(ts.dtype, np.dtype) or ts.dtype.kind != "M":  # pragma: no cover
            raise SchemaError(
                f"transactions 'timestamp' has dtype {frame['timestamp'].dtype}, expected a "
                "datetime. Fix: parse it at load (segml.schema.validate_transactions)."
            )
        if len(ts) > 1 and not (ts[1:] >= ts[:-1]).all():  # NaT compares False: sorted too
            order = np.argsort(ts, kind="stable")  # NaT sorts last
            frame = frame[order]
            ts = ts[order]
            self.order: np.ndarray | None = order
        else:
            self.order = None
        self.frame = frame
        self.timestamps = ts

    def __len__(self) -> int:
        return self.frame.height

    def n_as_of(self, as_of: Any) -> int:
        """Count the rows that count as of ``as_of``: they are the first ``n`` of ``frame``.

        Parameters
        ----------
        as_of : date-like
            The as-of date (its whole calendar day counts, :func:`segml.features.cutoff`).

        Returns
        -------
        int
        """
        bound = np.datetime64(cutoff(as_of)).astype(self.timestamps.dtype)
        return int(np.searchsorted(self.timestamps, bound, side="left"))

    def as_of(self, as_of: Any) -> pl.DataFrame:
        """Rows that count as of ``as_of``, a zero-copy slice of ``frame``.

        Parameters
        ----------
        as_of : date-like

        Returns
        -------
        polars.DataFrame
            Accepted by every feature function and :class:`segml.features.FeatureBuilder`
            like the input log.
        """
        return self.frame.slice(0, self.n_as_of(as_of))

    def source_rows(self, transactions: pd.DataFrame, n: int) -> pd.DataFrame:
        """Take the first ``n`` sorted rows from the original pandas log (all its columns).

        Parameters
        ----------
        transactions : pandas.DataFrame
            The log this object was built from.
        n : int
            Number of rows (e.g. :meth:`n_as_of`).

        Returns
        -------
        pandas.DataFrame
            A view when the log was already in time order, else a copy of those rows.
        """
        if self.order is None:
            return transactions.iloc[:n]
        return transactions.iloc[np.sort(self.order[:n])]

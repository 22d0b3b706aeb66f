"""Cutoff dates, the outcome window after each, and what customers did in it.

The as-of boundary is the features layer's (``segml.features`` rules, inclusive at day
resolution): a row counts as of ``T`` iff ``timestamp < normalize(T) + 1 day``. The outcome
window of ``T`` is ``(T, T + horizon]`` in the same sense: the rows with
``cutoff(T) <= timestamp < cutoff(T + horizon)``.

The transactions are sorted by time once (:class:`History`); every cutoff then takes its
rows as of ``T`` and its window rows by binary search, never by rereading or re-filtering.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from segml.errors import ConfigError, SchemaError
from segml.features import SortedTransactions, cutoff

__all__ = ["History", "parse_horizon", "make_cutoffs", "OUTCOMES"]

_RULES = {"monthly": "ME", "quarterly": "QE"}
_HORIZON = re.compile(r"^\s*(\d+)\s*([DWMY]?)\s*$", re.IGNORECASE)  # no unit: days

#: Outcome columns of :meth:`History.outcomes`.
OUTCOMES = ("revenue", "orders", "bought_again", "churned")


def _day_end(ts: pd.Timestamp) -> pd.Timestamp:
    """Exclusive bound of the rows that count as of ``ts`` (its calendar day included).

    The features layer's own definition (:func:`segml.features.cutoff`), so a backtest
    window and the features as of a cutoff can never disagree on a boundary row.
    """
    return cutoff(ts)


def _encode(values: pl.Series, *, listed: bool = True) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 for missing) and the sorted distinct values of a column, in polars.

    Text, a Categorical (it ranks in text order, with no string made per row) and integer
    codes are ranked as they are; anything else as text. With ``listed=False`` the values
    are not listed (order ids: only their codes are used, and they are millions).
    """
    if not (values.dtype == pl.String or isinstance(values.dtype, pl.Categorical)
            or values.dtype.is_integer()):
        values = values.cast(pl.String)
    codes = (values.rank("dense") - 1).fill_null(-1).cast(pl.Int64).to_numpy()
    if not listed:
        return codes, []
    return codes, values.drop_nulls().unique().sort().cast(pl.String).to_list()


def _as_date(value: Any, where: str) -> pd.Timestamp:
    from segml._asof import parse_as_of

    return parse_as_of(value, where=where)


def parse_horizon(horizon: Any) -> pd.DateOffset:
    """Turn a horizon into a calendar offset.

    Parameters
    ----------
    horizon : int, str or pandas.DateOffset
        Days as an int (``90``) or bare digits (``"90"``, as the CLI passes it), a count
        and unit as text (``"90D"``, ``"13W"``, ``"3M"``,
        ``"1Y"``: months and years are calendar months, so 1997-06-30 + ``"3M"`` is
        1997-09-30), or a ``DateOffset``.

    Returns
    -------
    pandas.DateOffset

    Raises
    ------
    ConfigError
        For anything else, or a horizon of zero.

    Examples
    --------
    >>> pd.Timestamp("1997-06-30") + parse_horizon("3M")
    Timestamp('1997-09-30 00:00:00')
    """
    if isinstance(horizon, pd.DateOffset):
        return horizon
    n, unit = None, "D"
    if isinstance(horizon, (int, np.integer)) and not isinstance(horizon, bool):
        n = int(horizon)
    elif isinstance(horizon, str) and (m := _HORIZON.match(horizon)):
        n, unit = int(m.group(1)), (m.group(2) or "D").upper()
    if n is None or n <= 0:
        raise ConfigError(
            f"horizon={horizon!r} is not a positive length of time. Fix: pass days as an int "
            "(horizon=90) or text such as '90D', '13W', '3M', '1Y' (CLI: --horizon 3M)."
        )
    key = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}[unit]
    return pd.DateOffset(**{key: n})


def make_cutoffs(rule: Any, *, first: pd.Timestamp, last: pd.Timestamp,
                 start: Any = None, end: Any = None) -> list[pd.Timestamp]:
    """Cutoff dates from a calendar rule or an explicit list.

    Parameters
    ----------
    rule : {"monthly", "quarterly"} or sequence of date-like
        Month or quarter ends, or the dates themselves (sorted, duplicates refused).
    first, last : pandas.Timestamp
        The first and last transaction days: a rule gives dates between them.
    start, end : date-like, optional
        Limit the rule's dates to ``[start, end]``.

    Returns
    -------
    list of pandas.Timestamp

    Raises
    ------
    ConfigError
        For an unknown rule, unsorted or repeated dates, or a rule that gives no date.
    """
    if isinstance(rule, str):
        if rule not in _RULES:
            raise ConfigError(
                f"cutoffs={rule!r} is not a calendar rule. Fix: pass 'monthly', 'quarterly' "
                "or a list of dates (CLI: --cutoffs quarterly or --cutoffs 1997-06-30,"
                "1997-09-30)."
            )
        lo = _as_date(start, "cutoff start") if start is not None else first
        hi = _as_date(end, "cutoff end") if end is not None else last
        dates = list(pd.date_range(lo.normalize(), hi.normalize(), freq=_RULES[rule]))
        if not dates:
            raise ConfigError(
                f"cutoffs={rule!r} gives no date between {lo.date()} and {hi.date()} (the last "
                "cutoff whose outcome window fits in the data). Fix: widen start/end "
                "(CLI: --start/--end), shorten --horizon, or pass explicit dates."
            )
        return dates
    if isinstance(rule, (pd.Timestamp, np.datetime64)) or not isinstance(rule, Sequence):
        raise ConfigError(
            f"cutoffs should be 'monthly', 'quarterly' or a list of dates, got "
            f"{type(rule).__name__}. Fix: e.g. cutoffs=['1997-06-30', '1997-09-30']."
        )
    dates = [_as_date(d, "cutoffs") for d in rule]
    if not dates:
        raise ConfigError("cutoffs is an empty list. Fix: pass at least one date.")
    bad = [str(b.date()) for a, b in zip(dates[:-1], dates[1:], strict=True)
           if b.normalize() <= a.normalize()]
    if bad:
        raise ConfigError(
            f"cutoffs must be increasing calendar days; out of order or repeated: "
            f"{', '.join(bad[:3])}. Fix: sort the dates and drop repeats."
        )
    return [d.normalize() for d in dates]


class History:
    """The transactions sorted by time once, sliced per cutoff by binary search.

    The log is checked and converted once (:class:`segml.features.SortedTransactions`: the
    feature columns as one time-sorted polars frame); each cutoff's feature rows are a
    zero-copy prefix of it (:meth:`rows_as_of`) and its outcome window a range of the same
    sorted arrays (:meth:`outcomes`). No sorted copy of the whole pandas log is kept.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``; ``order_id``
        optional: without it an order is a distinct purchase day, as in the features).
    """

    def __init__(self, transactions: pd.DataFrame) -> None:
        if not isinstance(transactions, pd.DataFrame):
            raise SchemaError(
                f"transactions should be a pandas DataFrame, got {type(transactions).__name__}."
                " Fix: pass the canonical transactions table (segml.schema)."
            )
        missing = [c for c in ("customer_id", "timestamp", "amount") if c not in transactions]
        if missing:
            raise SchemaError(
                f"transactions lack column(s) {', '.join(missing)}. Fix: map them with "
                "segml.schema.validate_transactions (CLI: --map customer_id=COLUMN)."
            )
        if not len(transactions):
            raise SchemaError("transactions has no rows; a backtest needs purchase history.")
        self.source = transactions
        self.rows = SortedTransactions(transactions)
        frame = self.rows.frame
        if frame["customer_id"].null_count():
            raise SchemaError(
                f"transactions has {frame['customer_id'].null_count()} row(s) without a "
                "customer_id. Fix: drop or fill them (segml.schema.validate_transactions "
                "reports them)."
            )
        self._ts = self.rows.timestamps
        self.first = pd.Timestamp(self._ts[0]).normalize()
        last = self._ts[~np.isnat(self._ts)]
        self.last = pd.Timestamp(last[-1] if len(last) else self._ts[0]).normalize()
        codes, ids = _encode(frame["customer_id"])
        self._codes = codes.astype(np.int32 if len(ids) < 2**31 else np.int64)
        self._ids = pd.Index(ids, dtype="str")
        self._amount = frame["amount"].to_numpy().astype("float64", copy=False)  # null: NaN
        # an order is (customer, order_id), or (customer, purchase day) without order ids
        if "order_id" in frame.columns:
            part = _encode(frame["order_id"], listed=False)[0]  # a missing order id is -1
        else:
            days = (self._ts.astype("datetime64[D]") - np.datetime64(self.first.date(), "D"))
            part = days.astype("int64")
        n_part = int(part.max()) + 2
        self._order = self._codes.astype("int64") * n_part + (part.astype("int64") + 1)

    def _pos(self, bound: pd.Timestamp) -> int:
        return int(np.searchsorted(self._ts, np.datetime64(bound), side="left"))

    def _tally(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Revenue and order count per customer code over sorted rows ``lo:hi``."""
        codes = self._codes[lo:hi]
        revenue = np.bincount(codes, weights=self._amount[lo:hi], minlength=len(self._ids))
        _, first_row = np.unique(self._order[lo:hi], return_index=True)
        return revenue, np.bincount(codes[first_row], minlength=len(self._ids))

    def window(self, start: Any = None, end: Any = None) -> pd.DataFrame:
        """Revenue and orders per customer in ``(start, end]``, whole calendar days.

        A purchase at any time on ``end`` counts; one on ``start`` does not (it belongs
        to the day the pilot or cutoff was drawn). Orders are counted as in
        :meth:`outcomes` (distinct ``order_id``, else distinct purchase days).

        Parameters
        ----------
        start, end : date-like, optional
            Window bounds; open-ended when omitted.

        Returns
        -------
        pandas.DataFrame
            ``revenue`` (float) and ``orders`` (int) indexed by ``customer_id`` (str),
            customers with at least one row in the window only, sorted by id.
        """
        lo = 0 if start is None else self._pos(_day_end(_as_date(start, "start")))
        hi = len(self._ts) if end is None else self._pos(_day_end(_as_date(end, "end")))
        revenue, orders = self._tally(lo, hi)
        seen = np.bincount(self._codes[lo:hi], minlength=len(self._ids)) > 0
        out = pd.DataFrame({"revenue": revenue[seen], "orders": orders[seen].astype("int64")},
                           index=pd.Index(self._ids[seen].astype("str"), name="customer_id"))
        return out.sort_index()

    def rows_as_of(self, cutoff: pd.Timestamp) -> pl.DataFrame:
        """Feature rows that count as of ``cutoff``: a zero-copy prefix of the sorted frame."""
        return self.rows.frame.slice(0, self._pos(_day_end(cutoff)))

    def as_of(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        """Rows of the original log (all its columns) that count as of ``cutoff``.

        A view when the log was already in time order, else a copy of those rows (for
        predictors, which take pandas).
        """
        return self.rows.source_rows(self.source, self._pos(_day_end(cutoff)))

    def check_window(self, cutoff: pd.Timestamp, offset: pd.DateOffset) -> pd.Timestamp:
        """Return the window's last day; raise when it runs past the data."""
        end = (cutoff + offset).normalize()
        if end > self.last:
            raise ConfigError(
                f"the outcome window of cutoff {cutoff.date()} ends {end.date()}, after the "
                f"last transaction day {self.last.date()}: its outcomes would be cut short. "
                f"Fix: use cutoffs up to {(self.last - offset).normalize().date()} or a shorter "
                "horizon (CLI: --cutoffs / --horizon)."
            )
        return end

    def outcomes(self, cutoff: pd.Timestamp, end: pd.Timestamp, offset: pd.DateOffset,
                 customers: pd.Index) -> pd.DataFrame:
        """Tally what each customer did in ``(cutoff, end]``.

        Parameters
        ----------
        cutoff, end : pandas.Timestamp
            The window (exclusive, inclusive; calendar days).
        offset : pandas.DateOffset
            The horizon, for ``churned`` (active in the horizon before ``cutoff``).
        customers : pandas.Index
            The customers to report, in this order.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``customers``: ``revenue`` (net, float), ``orders`` (int),
            ``bought_again`` (bool: at least one order in the window) and ``churned``
            (float 1/0: bought in the horizon before ``cutoff`` and not in the window;
            NaN for customers who were not active then).
        """
        lo, hi = self._pos(_day_end(cutoff)), self._pos(_day_end(end))
        before = self._pos(_day_end((cutoff - offset).normalize()))
        n_ids = len(self._ids)
        revenue, orders = self._tally(lo, hi)
        active = np.bincount(self._codes[before:lo], minlength=n_ids) > 0
        pos = self._ids.get_indexer(pd.Index(customers).astype("str"))
        known = pos >= 0
        take = np.where(known, pos, 0)
        rev = np.where(known, revenue[take], 0.0)
        n_ord = np.where(known, orders[take], 0).astype("int64")
        act = np.where(known, active[take], False)
        bought = n_ord > 0
        churned = np.where(act, (~bought).astype("float64"), np.nan)
        return pd.DataFrame({"revenue": rev, "orders": n_ord, "bought_again": bought,
                             "churned": churned}, index=pd.Index(customers, name="customer_id"))

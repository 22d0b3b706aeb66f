"""The public feature families: RFM, behaviour, payment, and all of them at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, overload

import pandas as pd

from segml.features.transactions._aggregates import _compute
from segml.features.transactions.levels import ShareLevels


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def rfm_features(
    transactions: Any,
    as_of: Any,
    *,
    lookback_days: int | None = None,
    customers: Any = None,
) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer as of ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions (``customer_id``, datetime64 ``timestamp``, ``amount``; optional
        ``order_id``, ``status``). Not modified. Row order does not matter.
    as_of : date-like
        Required. Rows with ``timestamp < normalize(as_of) + 1 day`` count.
    lookback_days : int, optional
        Use only the last ``lookback_days`` calendar days (``as_of`` included).
    customers : pandas Index, Series, DataFrame or list-like, optional
        Customer ids to include even without purchases (prospects).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (string, sorted), columns:

        - ``recency_days`` (float): whole calendar days from the last purchase day to ``as_of``;
          NaN for prospects.
        - ``is_prospect`` (bool): no purchase line in the window.
        - ``frequency`` (int): distinct orders (``order_id`` among purchase lines; without the
          column, distinct purchase days); 0 for prospects.
        - ``monetary`` (float): sum of ``amount`` over non-cancelled rows, net of returns (currency
          of ``amount``); 0 for prospects without returns.
        - ``avg_order_value`` (float): ``monetary / frequency``; NaN for prospects.

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or an argument is out of range.
    SchemaError
        When a required column is absent or ``timestamp`` is not datetime64.

    Examples
    --------
    >>> ts = pd.to_datetime(["2024-01-01 00:00", "2024-01-10 18:00", "2024-01-05 09:00"])
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "timestamp": ts,
    ...                    "amount": [10.0, 30.0, 5.0]})
    >>> f = rfm_features(tx, "2024-01-31", customers=["c"])
    >>> f["frequency"].to_dict(), f["recency_days"].tolist()
    ({'a': 2, 'b': 1, 'c': 0}, [21.0, 26.0, nan])
    """
    return _compute(transactions, as_of, families=("rfm",), customers=customers,
                    lookback_days=lookback_days)[0]


@overload
def behaviour_features(
    transactions: Any, as_of: Any, *, return_levels: Literal[False] = ..., **kwargs: Any
) -> pd.DataFrame: ...


@overload
def behaviour_features(
    transactions: Any, as_of: Any, *, return_levels: Literal[True], **kwargs: Any
) -> tuple[pd.DataFrame, ShareLevels]: ...


def behaviour_features(
    transactions: Any,
    as_of: Any,
    *,
    customers: Any = None,
    lookback_days: int | None = None,
    top_categories: int = 5,
    top_channels: int = 4,
    trend_window_days: int = 180,
    category_levels: Sequence[str] | None = None,
    channel_levels: Sequence[str] | None = None,
    return_levels: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, ShareLevels]:
    """Behaviour features per customer as of ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions. Uses ``category``, ``channel``, ``status``, ``margin``, ``cost``
        when present.
    as_of : date-like
        Required as-of date.
    customers : list-like or frame, optional
        Ids to include as prospects when they have no purchase.
    lookback_days : int, optional
        Lookback window in calendar days.
    top_categories, top_channels : int, default 5 and 4
        Number of levels (by total purchase spend in the window, ties by name) that get their own
        share column; the rest, and missing values, go to ``..._other``.
    trend_window_days : int, default 180
        Length of the recent and previous windows of ``spend_trend``.
    category_levels, channel_levels : list of str, optional
        Use these levels instead of learning them (scoring reuses the levels learned at fit).
    return_levels : bool, default False
        Also return the levels used (learned or given), as a :class:`ShareLevels`.

    Returns
    -------
    pandas.DataFrame, or (pandas.DataFrame, ShareLevels) with ``return_levels=True``
        Indexed by ``customer_id`` (string, sorted). Spend below means purchase-line ``amount``
        (returns and cancelled rows excluded). Columns, with the value for prospects:

        - ``tenure_days``: days from the first purchase day in the window to ``as_of`` (NaN).
        - ``interpurchase_mean_days``: mean gap in days between consecutive distinct purchase
          days, ``(last - first) / (n_days - 1)``; NaN with fewer than 2 purchase days (NaN).
        - ``interpurchase_cv``: population std / mean of those gaps; NaN with fewer than 3
          purchase days (2 gaps) (NaN).
        - ``active_month_share``: calendar months with a purchase / calendar months from the
          first purchase month to the ``as_of`` month, both included (NaN).
        - ``spend_trend``: ``(recent - previous) / (recent + previous)`` in [-1, 1], ``recent`` =
          spend in the last ``trend_window_days`` days up to ``as_of``, ``previous`` = the
          ``trend_window_days`` before; NaN when both are 0 (NaN).
        - ``spend_q1_share`` … ``spend_q4_share``: share of spend by calendar quarter; NaN when
          spend is 0 (NaN). ``season_peak_share``: the largest of the four (NaN).
        - ``category_share_<level>`` / ``category_share_other`` (when ``category`` exists),
          ``channel_share_<level>`` / ``channel_share_other`` (when ``channel`` exists): share of
          spend; NaN when spend is 0 (NaN). ``n_channels`` (int): distinct channels with a
          purchase (0).
        - ``return_rate``: value of return lines (absolute amount) / purchase spend, so the share
          of gross revenue returned (can exceed 1 when the purchase preceded the window); NaN when
          spend is 0 (NaN).
        - ``gross_margin`` (only with ``margin`` or ``cost``): sum of ``margin`` (else
          ``amount - cost``) over non-cancelled rows, returns included (0).

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or an argument is out of range.
    SchemaError
        When a required column is absent or a date column is not datetime64.
    """
    frame, levels = _compute(
        transactions, as_of, families=("behaviour",), customers=customers,
        lookback_days=lookback_days, top_categories=top_categories, top_channels=top_channels,
        trend_window_days=trend_window_days, category_levels=category_levels,
        channel_levels=channel_levels,
    )
    return (frame, levels) if return_levels else frame


def payment_features(
    transactions: Any,
    as_of: Any,
    *,
    customers: Any = None,
    lookback_days: int | None = None,
    late_grace_days: int = 0,
    risk_late_share: float = 0.5,
    risk_unpaid_share: float = 0.2,
) -> pd.DataFrame:
    """Payment behaviour per customer as of ``as_of`` (needs ``due_date``).

    An **invoice** is an order (``order_id``) when the column exists, else a row; only rows with a
    ``due_date`` that count as of ``as_of`` (issued on or before it, not cancelled) are invoices.
    An invoice's due date is the earliest of its lines, its paid date the latest, and it is unpaid
    if any line is. **Point in time**: a ``paid_date`` after ``as_of`` has not happened yet, so
    such an invoice is unpaid as of ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions with ``due_date`` (and usually ``paid_date``; without it every
        invoice is unpaid).
    as_of : date-like
        Required as-of date.
    customers : list-like or frame, optional
        Ids to include as prospects.
    lookback_days : int, optional
        Lookback window (by invoice ``timestamp``).
    late_grace_days : int, default 0
        An invoice is *late* when paid more than this many days after its due date.
    risk_late_share, risk_unpaid_share : float, default 0.5 and 0.2
        ``payment_risk`` is True when ``late_share >= risk_late_share`` or
        ``unpaid_share >= risk_unpaid_share``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (string, sorted). Without a ``due_date`` column the frame has
        no columns. Columns (value for customers without invoices in brackets):

        - ``days_late_mean``, ``days_late_max``: over invoices paid by ``as_of``,
          ``max(days_between(paid_date, due_date), 0)`` (NaN).
        - ``late_share``: paid invoices paid late / paid invoices (NaN).
        - ``unpaid_share``: invoices due by ``as_of`` (``due_date < cutoff(as_of)``) and not paid
          by ``as_of`` / invoices due by ``as_of`` (NaN).
        - ``payment_risk`` (bool): the rule above (False).

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or an argument is out of range.
    SchemaError
        When a required column is absent or a date column is not datetime64.
    """
    return _compute(
        transactions, as_of, families=("payment",), customers=customers,
        lookback_days=lookback_days, late_grace_days=late_grace_days,
        risk_late_share=risk_late_share, risk_unpaid_share=risk_unpaid_share,
    )[0]


@overload
def transaction_features(
    transactions: Any, as_of: Any, *, return_levels: Literal[False] = ..., **kwargs: Any
) -> pd.DataFrame: ...


@overload
def transaction_features(
    transactions: Any, as_of: Any, *, return_levels: Literal[True], **kwargs: Any
) -> tuple[pd.DataFrame, ShareLevels]: ...


def transaction_features(
    transactions: Any,
    as_of: Any,
    *,
    customers: Any = None,
    lookback_days: int | None = None,
    top_categories: int = 5,
    top_channels: int = 4,
    trend_window_days: int = 180,
    category_levels: Sequence[str] | None = None,
    channel_levels: Sequence[str] | None = None,
    late_grace_days: int = 0,
    risk_late_share: float = 0.5,
    risk_unpaid_share: float = 0.2,
    return_levels: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, ShareLevels]:
    """All transaction features (RFM, behaviour, payment) in one pass over the rows.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions. Not modified; row order does not matter.
    as_of : date-like
        Required as-of date.
    customers : list-like or frame, optional
        Ids to include as prospects (frequency 0) when they have no purchase.
    lookback_days : int, optional
        Lookback window in calendar days, ``as_of`` included.
    top_categories, top_channels, trend_window_days, category_levels, channel_levels
        See :func:`behaviour_features`.
    late_grace_days, risk_late_share, risk_unpaid_share
        See :func:`payment_features`.
    return_levels : bool, default False
        Also return the category/channel levels used (learned or given), as a
        :class:`ShareLevels`; pass them back as ``category_levels`` / ``channel_levels`` to
        rebuild the same share columns on other data.

    Returns
    -------
    pandas.DataFrame, or (pandas.DataFrame, ShareLevels) with ``return_levels=True``
        Indexed by ``customer_id`` (string, sorted): the columns of :func:`rfm_features`, then
        :func:`behaviour_features`, then :func:`payment_features` (when ``due_date`` exists),
        with the same definitions and prospect values.

    Raises
    ------
    ConfigError
        When ``as_of`` is missing or an argument is out of range.
    SchemaError
        When a required column is absent or a date column is not datetime64.
    """
    frame, levels = _compute(
        transactions, as_of, families=("rfm", "behaviour", "payment"), customers=customers,
        lookback_days=lookback_days, top_categories=top_categories, top_channels=top_channels,
        trend_window_days=trend_window_days, category_levels=category_levels,
        channel_levels=channel_levels, late_grace_days=late_grace_days,
        risk_late_share=risk_late_share, risk_unpaid_share=risk_unpaid_share,
    )
    return (frame, levels) if return_levels else frame

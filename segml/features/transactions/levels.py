"""The category and channel levels whose spend shares become features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from segml.errors import ConfigError, SchemaError
from segml.features.transactions._rows import _as_input, _check_nonneg_int, _money_rows, _window


@dataclass(frozen=True)
class ShareLevels:
    """Levels that got their own ``category_share_<x>`` / ``channel_share_<x>`` column.

    Returned by :func:`transaction_features` / :func:`behaviour_features` with
    ``return_levels=True`` and given back through their ``category_levels`` /
    ``channel_levels`` arguments to rebuild the same columns on other data.

    Attributes
    ----------
    category, channel : list of str or None
        Levels in column order; None when the transactions have no such column.
    """

    category: list[str] | None = None
    channel: list[str] | None = None


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------
def top_levels(
    transactions: Any,
    column: str,
    as_of: Any,
    n: int,
    *,
    lookback_days: int | None = None,
) -> list[str]:
    """Most valuable levels of ``column`` (by purchase spend, as of ``as_of``).

    Parameters
    ----------
    transactions : pandas.DataFrame or polars DataFrame / LazyFrame
        Canonical transactions.
    column : {"category", "channel"}
        The column to rank.
    as_of : date-like
        The as-of date (rows after it are not looked at).
    n : int
        How many levels to keep.
    lookback_days : int, optional
        Lookback window in days.

    Returns
    -------
    list of str
        Up to ``n`` levels, by total purchase spend descending, ties by name ascending. Missing
        values and a level literally named ``"other"`` are never returned (they fall in "other").

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 3), "amount": [5.0, 2.0, 9.0],
    ...     "category": ["music", "books", "music"]})
    >>> top_levels(tx, "category", "2024-01-31", 1)
    ['music']
    """
    n = _check_nonneg_int("n", n)
    inp = _as_input(transactions, [column, "status"])
    if column not in inp.columns:
        raise SchemaError(f"transactions has no '{column}' column to rank levels of.")
    return _learn_levels(_money_rows(inp, _window(as_of, lookback_days)).rows, column, n)


def _learn_levels(rows: pl.LazyFrame, column: str, n: int) -> list[str]:
    if n == 0:
        return []
    spend = (
        rows.filter(pl.col("_buy") & pl.col(column).is_not_null() & (pl.col(column) != "other"))
        .group_by(column)
        .agg(pl.col("_m").sum().alias("_s"))
        .with_columns(pl.col(column).cast(pl.String))  # ties by name, whatever the dtype
        .sort(["_s", column], descending=[True, False])
        .head(n)
        .collect()
    )
    return [str(v) for v in spend[column].to_list()]


def _check_levels(name: str, levels: Any) -> list[str] | None:
    if levels is None:
        return None
    if isinstance(levels, str):
        raise ConfigError(f"{name} should be a list of levels, got the string {levels!r}.")
    out = [str(v) for v in levels]
    if len(set(out)) != len(out) or "other" in out:
        raise ConfigError(
            f"{name}={out!r} should be distinct levels and must not contain 'other' "
            "(the bucket for every level not listed)."
        )
    return out

"""Historical customer lifetime value (the domain brief's formula) and net margin."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, SchemaError

__all__ = ["historical_clv"]


def _aligned(name: str, value: Any, index: pd.Index) -> np.ndarray:
    if isinstance(value, pd.Series):
        return value.reindex(index).to_numpy(dtype="float64", na_value=np.nan)
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ConfigError(
            f"{name}={value!r} should be a number or a Series indexed by customer_id."
        )
    return np.full(len(index), float(value))


def historical_clv(
    features: pd.DataFrame,
    *,
    acquisition_cost: float | pd.Series | None = None,
    period_days: int = 365,
    expected_lifetime_periods: float = 3.0,
    margin: float | pd.Series | None = None,
) -> pd.DataFrame:
    """Historical CLV: average order value × orders per period × expected lifetime − acquisition.

    ``clv = avg_order_value * purchases_per_period * expected_lifetime_periods - acquisition_cost``

    Units: ``avg_order_value`` is money per order (the currency of ``amount``);
    ``purchases_per_period = frequency / observed_periods`` is orders per period of
    ``period_days`` days, where ``observed_periods = max(tenure_days, period_days) / period_days``
    (history shorter than one period counts as one period, so a customer who bought yesterday is
    not extrapolated to hundreds of orders a year); ``expected_lifetime_periods`` is in periods;
    ``clv`` is money. Algebraically the value term is ``monetary / observed_periods *
    expected_lifetime_periods``.

    **Margin variant**: when per-customer gross margin is known (``margin`` argument, or a
    ``gross_margin`` column from :func:`~segml.features.transactions.transaction_features`, made
    when the transactions have ``margin`` or ``cost``), revenue is replaced by gross margin in the
    value term, and ``net_margin = gross_margin - acquisition_cost`` (money, historical, as of the
    features' ``as_of``) is returned too.

    Parameters
    ----------
    features : pandas.DataFrame
        Indexed by ``customer_id`` with ``frequency``, ``monetary`` and ``tenure_days`` (the
        output of :func:`~segml.features.transactions.transaction_features`). Not modified.
    acquisition_cost : float or Series, optional
        Money per customer. None uses an ``acquisition_cost`` column when present, else 0. A
        Series is aligned on the index. A missing cost counts as 0.
    period_days : int, default 365
        Length of one period in days.
    expected_lifetime_periods : float, default 3.0
        Expected relationship duration in periods.
    margin : float or Series, optional
        A margin *rate* in (0, 1] applied to revenue, or a Series of gross margin per customer
        (money). None uses the ``gross_margin`` column when present, else revenue.

    Returns
    -------
    pandas.DataFrame
        Same index, column ``clv`` (float) and, with margin information, ``net_margin``.
        Prospects (``frequency == 0``) have a value term of 0, so ``clv = -acquisition_cost``.

    Raises
    ------
    SchemaError
        When a needed column is missing.
    ConfigError
        When an argument is out of range.

    Examples
    --------
    >>> f = pd.DataFrame({"frequency": [4, 0], "monetary": [400.0, 0.0],
    ...                   "tenure_days": [730.0, np.nan]}, index=["a", "b"])
    >>> historical_clv(f, acquisition_cost=50.0)["clv"].tolist()
    [550.0, -50.0]
    """
    missing = [c for c in ("frequency", "monetary", "tenure_days") if c not in features.columns]
    if missing:
        raise SchemaError(
            f"historical_clv needs columns {missing}; compute them with "
            "segml.features.transactions.transaction_features."
        )
    if isinstance(period_days, bool) or not isinstance(period_days, int | np.integer) or (
        period_days < 1
    ):
        raise ConfigError(f"period_days={period_days!r} should be a whole number of days >= 1.")
    if isinstance(expected_lifetime_periods, bool) or not isinstance(
        expected_lifetime_periods, int | float | np.number
    ) or not np.isfinite(expected_lifetime_periods) or expected_lifetime_periods <= 0:
        raise ConfigError(
            f"expected_lifetime_periods={expected_lifetime_periods!r} should be a number > 0."
        )
    index = features.index
    freq = features["frequency"].to_numpy(dtype="float64", na_value=0.0)
    revenue = features["monetary"].to_numpy(dtype="float64", na_value=0.0)
    tenure = features["tenure_days"].to_numpy(dtype="float64", na_value=np.nan)

    if acquisition_cost is None:
        if "acquisition_cost" in features.columns:
            cost = features["acquisition_cost"].to_numpy(dtype="float64", na_value=np.nan)
        else:
            cost = np.zeros(len(index))
    else:
        cost = _aligned("acquisition_cost", acquisition_cost, index)
    cost = np.nan_to_num(cost, nan=0.0)

    gross_margin = None
    if margin is None:
        if "gross_margin" in features.columns:
            gross_margin = features["gross_margin"].to_numpy(dtype="float64", na_value=0.0)
    elif isinstance(margin, pd.Series):
        gross_margin = np.nan_to_num(_aligned("margin", margin, index), nan=0.0)
    else:
        rate = _aligned("margin", margin, index)[:1]
        if rate.size and not 0.0 < rate[0] <= 1.0:
            raise ConfigError(f"margin={margin!r} should be a rate in (0, 1] or a Series.")
        gross_margin = revenue * (rate[0] if rate.size else 1.0)

    buyer = freq > 0
    periods = np.maximum(np.nan_to_num(tenure, nan=0.0), period_days) / period_days
    basis = revenue if gross_margin is None else gross_margin
    with np.errstate(invalid="ignore", divide="ignore"):
        aov = np.where(buyer, basis / np.where(buyer, freq, 1.0), 0.0)
        per_period = np.where(buyer, freq / periods, 0.0)
    value = aov * per_period * float(expected_lifetime_periods)
    out = pd.DataFrame({"clv": value - cost}, index=index)
    if gross_margin is not None:
        out["net_margin"] = gross_margin - cost
    return out

"""Per-customer calibration summary (x, t_x, T, monetary) for the buy-till-you-die models.

Conventions (the ones of Fader, Hardie & Lee's CDNOW analyses):

* **One event per customer-day.** Rows are grouped by calendar day; several rows on one day
  are one purchase whose value is the sum of their amounts.
* **Purchase rows**: rows with ``status == "cancelled"`` are ignored; return lines
  (``amount < 0`` or ``status == "returned"``) are not purchases and are dropped. This is the
  purchase-line definition of :mod:`segml.features.transactions`. Rows up to the last day
  used (``holdout_end``, else ``calibration_end``) that are left out are counted in
  ``summary.attrs``: ``n_return_rows``, ``n_cancelled_rows``. Rows without an ``amount`` are
  purchases whose value counts as 0; they are counted in ``n_missing_amount_rows`` and a
  :class:`DataQualityWarning` says so.
* **Calibration rows** are those on or before the calendar day ``calibration_end`` (inclusive at
  day resolution, the boundary of :func:`segml.features._time.cutoff`). No later row feeds the
  calibration columns.
* ``x`` = purchase days after the first one (the first purchase is not a repeat);
  ``t_x`` = days from the first to the last purchase day; ``T`` = days from the first purchase
  day to ``calibration_end``; both divided by the days of ``time_unit`` (7 for weeks). A
  customer first buying on 1997-01-01 with calibration end 1997-09-30 has
  ``T = 272 / 7 = 38.857`` weeks, as in Hardie's published CDNOW summary.
* ``monetary`` = mean value of the *repeat* purchase days (the first day's value is excluded);
  NaN when ``x == 0``.
* With ``holdout_end``: ``x_holdout`` = purchase days in ``(calibration_end, holdout_end]``,
  ``spend_holdout`` = their value, ``duration_holdout`` = holdout length in ``time_unit``.
* Customers whose first purchase is after ``calibration_end`` are left out; their number is
  in ``summary.attrs["n_first_after_calibration"]`` and a :class:`DataQualityWarning` says so.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.features._time import cutoff, timestamp_values, to_as_of

__all__ = ["rfm_summary", "TIME_UNITS"]

#: Days per model time unit. ``"M"`` is an average month (365.25 / 12 days).
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def _unit_days(time_unit: Any) -> float:
    if time_unit not in TIME_UNITS:
        raise ConfigError(
            f"time_unit={time_unit!r} is not one of {sorted(TIME_UNITS)}. "
            "Fix: pass 'W' (weeks, the CDNOW convention), 'D' or 'M'."
        )
    return TIME_UNITS[time_unit]


def rfm_summary(
    transactions: pd.DataFrame,
    calibration_end: Any,
    *,
    time_unit: str = "W",
    holdout_end: Any = None,
) -> pd.DataFrame:
    """Summarise canonical transactions into the BG/NBD and Gamma-Gamma inputs.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions: ``customer_id``, datetime64 ``timestamp``, optional ``amount``
        and ``status``. Not modified.
    calibration_end : date-like
        Last calendar day of the calibration period (inclusive).
    time_unit : {"W", "D", "M"}, default "W"
        Unit of ``t_x``, ``T`` and ``duration_holdout``: weeks (7 days), days or average months.
    holdout_end : date-like, optional
        Last calendar day of the holdout period; adds ``x_holdout``, ``spend_holdout`` and
        ``duration_holdout``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (sorted), one row per customer with a purchase on or before
        ``calibration_end``: ``x`` (int64), ``t_x``, ``T`` (float64), ``monetary`` (float64,
        only when ``amount`` is present) and the holdout columns. ``attrs`` holds
        ``calibration_end``, ``holdout_end``, ``time_unit`` and ``n_first_after_calibration``.

    Raises
    ------
    SchemaError
        When ``customer_id`` or ``timestamp`` is missing or ``timestamp`` is not datetime64.
    ConfigError
        When a date cannot be parsed, ``holdout_end`` is not after ``calibration_end`` or
        ``time_unit`` is unknown.

    Warns
    -----
    DataQualityWarning
        When customers were left out because they first bought after ``calibration_end``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01",
    ...                                                 "2024-01-15", "2024-01-08"]),
    ...                    "amount": [5.0, 5.0, 20.0, 7.0]})
    >>> rfm_summary(tx, "2024-01-29").to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {'a': {'x': 1, 't_x': 2.0, 'T': 4.0, 'monetary': 20.0},
     'b': {'x': 0, 't_x': 0.0, 'T': 3.0, 'monetary': nan}}
    """
    unit = _unit_days(time_unit)
    if not isinstance(transactions, pd.DataFrame):
        raise SchemaError(
            f"transactions is a {type(transactions).__name__}, expected a pandas DataFrame. "
            "Fix: load it with segml.io or validate it with segml.schema.validate_transactions."
        )
    if "customer_id" not in transactions.columns:
        raise SchemaError(
            "transactions has no 'customer_id' column. Fix: map your id column to 'customer_id' "
            "(segml.schema.validate_transactions)."
        )
    ts = timestamp_values(transactions)
    cal_end = to_as_of(calibration_end).normalize()
    cal_cut = _day(cutoff(cal_end))
    hold_cut = None
    if holdout_end is not None:
        hold_end = to_as_of(holdout_end).normalize()
        if hold_end <= cal_end:
            raise ConfigError(
                f"holdout_end={holdout_end!r} is not after calibration_end={calibration_end!r}. "
                "Fix: pass a later holdout_end, or None for no holdout."
            )
        hold_cut = _day(cutoff(hold_end))
    has_amount = "amount" in transactions.columns
    day = ts.astype("datetime64[D]").astype("int64")
    end_cut = cal_cut if hold_cut is None else hold_cut
    keep = ~np.isnat(ts) & (day < end_cut)
    amount = None
    returned = np.zeros(len(keep), dtype=bool)
    cancelled = np.zeros(len(keep), dtype=bool)
    missing_amount = np.zeros(len(keep), dtype=bool)
    if has_amount:
        amount = pd.to_numeric(transactions["amount"]).to_numpy(dtype="float64", na_value=np.nan)
        returned |= amount < 0
        missing_amount = np.isnan(amount)
    if "status" in transactions.columns:
        status = transactions["status"].astype("string").fillna("")
        cancelled = (status == "cancelled").to_numpy()
        returned |= (status == "returned").to_numpy() & ~cancelled
    n_returned = int((keep & returned & ~cancelled).sum())
    n_cancelled = int((keep & cancelled).sum())
    keep &= ~returned & ~cancelled
    n_missing_amount = int((keep & missing_amount).sum())
    frame = pd.DataFrame({
        "customer_id": transactions["customer_id"].to_numpy()[keep],
        "day": day[keep],
        "amount": amount[keep] if amount is not None else 0.0,
    })
    daily = frame.groupby(["customer_id", "day"], sort=True).agg(amount=("amount", "sum"))
    daily = daily.reset_index()
    cal = daily[daily["day"] < cal_cut]
    g = cal.groupby("customer_id", sort=True)
    first = g["day"].min()
    last = g["day"].max()
    n_days = g["day"].size()
    out = pd.DataFrame(index=first.index)
    out["x"] = (n_days - 1).astype("int64")
    out["t_x"] = (last - first).to_numpy(dtype="float64") / unit
    out["T"] = ((cal_cut - 1) - first).to_numpy(dtype="float64") / unit
    if has_amount:
        total = g["amount"].sum()
        first_amount = g["amount"].first()  # days are sorted, so this is the first day
        with np.errstate(invalid="ignore", divide="ignore"):
            mon = (total - first_amount).to_numpy() / out["x"].to_numpy()
        out["monetary"] = np.where(out["x"].to_numpy() > 0, mon, np.nan)
    all_ids = pd.Index(daily["customer_id"].unique())
    n_late = int((~all_ids.isin(out.index)).sum())
    if hold_cut is not None:
        hold = daily[daily["day"] >= cal_cut]
        hold = hold[hold["customer_id"].isin(out.index)]
        hg = hold.groupby("customer_id", sort=True)
        out["x_holdout"] = hg["day"].size().reindex(out.index, fill_value=0).astype("int64")
        if has_amount:
            out["spend_holdout"] = hg["amount"].sum().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = float(hold_cut - cal_cut) / unit
    out.index.name = "customer_id"
    out.attrs.update(
        calibration_end=str(cal_end.date()),
        holdout_end=None if hold_cut is None else str(to_as_of(holdout_end).date()),
        time_unit=time_unit,
        n_first_after_calibration=n_late,
        n_return_rows=n_returned,
        n_cancelled_rows=n_cancelled,
        n_missing_amount_rows=n_missing_amount,
    )
    if n_missing_amount:
        warnings.warn(
            f"rfm_summary: {n_missing_amount} purchase row(s) have no amount; they count as "
            "purchases and their value as 0 in monetary "
            "(summary.attrs['n_missing_amount_rows']). Fix: fill or drop them before.",
            DataQualityWarning,
            stacklevel=2,
        )
    if n_late:
        warnings.warn(
            f"rfm_summary: {n_late} customer(s) first bought after calibration_end="
            f"{cal_end.date()} and are left out (summary.attrs['n_first_after_calibration']).",
            DataQualityWarning,
            stacklevel=2,
        )
    return out


def _day(ts: pd.Timestamp) -> int:
    return int(np.datetime64(ts.normalize().date(), "D").astype("int64"))

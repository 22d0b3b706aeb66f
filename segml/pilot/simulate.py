"""Simulated pilot outcomes with a planted treatment effect, to check a readout end to end.

Each pilot customer keeps buying at their own recent pace: orders in the pilot window
are ``Poisson(rate * window_days)`` with ``rate`` the customer's distinct orders in the
365 days up to ``as_of`` divided by 365 (so lapsed customers hardly buy); each order is
worth the customer's historical average order value times a ``Gamma(2, 1/2)`` factor
(mean 1). A treated customer of a segment named in ``uplift`` orders at
``rate * (1 + uplift[segment])``; everyone else - every control, and the treated of
the other segments - is unaffected, so a correct readout flags exactly those segments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from segml._validation import check_date, check_int
from segml.errors import ConfigError, SchemaError
from segml.pilot.readout import check_pilot_frame
from segml.pilot.sample import ARMS, PilotSample

__all__ = ["simulate_pilot_outcomes"]


def simulate_pilot_outcomes(
    pilot: PilotSample | pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    as_of: Any,
    window_days: int = 90,
    uplift: Mapping[Any, float] | None = None,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Draw each pilot customer's orders and revenue over the pilot window.

    Parameters
    ----------
    pilot : PilotSample or pandas.DataFrame
        The pilot (``customer_id, segment, arm``).
    transactions : pandas.DataFrame
        History (``customer_id, timestamp, amount``, optionally ``order_id``); only rows
        up to ``as_of`` are read.
    as_of : date-like
        Start of the pilot window.
    window_days : int, default 90
        Length of the pilot window.
    uplift : mapping, optional
        ``{segment: u}``: treated customers of that segment order at ``(1 + u)`` times
        their pace (``u > -1``). Default: no effect anywhere.
    random_state : int or None, default 0
        Seed.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, orders, revenue``, one row per pilot customer, in pilot order.

    Raises
    ------
    ConfigError
        A segment in ``uplift`` that is not in the pilot, or ``u <= -1``.
    SchemaError
        Transactions without ``customer_id``, ``timestamp`` or ``amount``.
    """
    frame = check_pilot_frame(pilot)
    ts0 = check_date("as_of", as_of)
    days = check_int("window_days", window_days, 1)
    uplift = dict(uplift or {})
    segs = set(frame["segment"])
    unknown = [s for s in uplift if s not in segs]
    if unknown:
        raise ConfigError(f"uplift names segment(s) {unknown[:5]} that are not in the pilot "
                          f"(segments: {sorted(map(str, segs))[:8]}).")
    bad = {s: u for s, u in uplift.items() if not (math.isfinite(u) and u > -1)}
    if bad:
        raise ConfigError(f"uplift {bad}: each value should be a finite number > -1.")
    miss = [c for c in ("customer_id", "timestamp", "amount") if c not in transactions.columns]
    if miss:
        raise SchemaError(f"transactions: missing column(s) {miss}.")
    tx = transactions
    t = pd.to_datetime(tx["timestamp"])
    end = ts0 + pd.Timedelta(days=1)  # rows on the as_of day count (inclusive day)
    hist = tx.loc[(t < end).to_numpy(), ["customer_id", "amount"]
                  + (["order_id"] if "order_id" in tx.columns else [])]
    hist = hist.assign(customer_id=hist["customer_id"].astype(str),
                       _recent=(t[t < end] >= end - pd.Timedelta(days=365)).to_numpy())
    g = hist.groupby("customer_id", sort=False)
    key = "order_id" if "order_id" in hist.columns else None
    n_all = g[key].nunique() if key else g.size()
    aov = (g["amount"].sum() / n_all).clip(lower=0.0)
    recent = hist[hist["_recent"]].groupby("customer_id", sort=False)
    n_recent = recent[key].nunique() if key else recent.size()
    ids = frame["customer_id"]
    rate = n_recent.reindex(ids).fillna(0.0).to_numpy(np.float64) / 365.0
    value = aov.reindex(ids).fillna(0.0).to_numpy(np.float64)
    mult = np.ones(len(frame))
    treated = (frame["arm"] == ARMS[0]).to_numpy()
    for s, u in uplift.items():
        mult[treated & (frame["segment"] == s).to_numpy()] = 1.0 + float(u)
    rng = np.random.default_rng(random_state)
    orders = rng.poisson(rate * days * mult)
    revenue = value * rng.gamma(2.0 * orders, 0.5)
    return pd.DataFrame({"customer_id": ids.to_numpy(), "orders": orders.astype(np.int64),
                         "revenue": np.round(revenue, 2)})

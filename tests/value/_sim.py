"""Simulated BG/NBD transactions shared by the forward-value tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SIM", "SIM_AS_OF"]


def _sim_transactions(n=150, seed=0):
    """BG/NBD purchase days of ``n`` customers from 2024-01-01 (first purchase in 60 days)."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-01-01")
    for cid in range(n):
        lam, drop, nu = rng.gamma(1.0, 1 / 15.0), rng.beta(1.0, 3.0), rng.gamma(4.0, 1 / 15.0)
        day = float(rng.integers(0, 60))
        first = True
        while day < 240:
            rows.append((f"c{cid:03d}", start + pd.Timedelta(days=int(day)),
                         round(float(rng.gamma(6.0, 1 / nu)), 2)))
            if not first and rng.random() < drop:
                break
            first = False
            day += 1 + rng.exponential(1 / lam)
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


SIM = _sim_transactions()
SIM_AS_OF = pd.Timestamp("2024-05-20")

"""Small transaction frames and a tiny predictor for the backtest tests (seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segml.features import FeatureSpec

#: A small model matrix for the cluster models of the tests (the full default preprocessor
#: is most of a fit's time on a busy box).
VALUE_SPEC = FeatureSpec.default(["recency_days", "frequency", "monetary", "avg_order_value",
                                  "tenure_days"])


def tiny_transactions(n_customers: int = 40, seed: int = 0) -> pd.DataFrame:
    """Canonical transactions over 2023-01-01 .. 2024-12-31, 1-12 purchases per customer."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    rows = []
    for i in range(n_customers):
        first = int(rng.integers(0, 300))
        n = int(rng.integers(1, 13))
        days = np.sort(rng.integers(first, 730, n))
        for d in days:
            ts = start + pd.Timedelta(days=int(d), hours=int(rng.integers(8, 20)))
            rows.append((f"c{i:03d}", ts, float(np.round(rng.gamma(2.0, 20.0 * (1 + i % 3)), 2))))
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    tx["customer_id"] = tx["customer_id"].astype("str")
    return tx


class RecentSpend:
    """A tiny predictor: spend in the last 180 days before as_of (higher = more value)."""

    def fit(self, transactions, customers, as_of):
        self.as_of_ = pd.Timestamp(as_of)
        self.max_seen_ = transactions["timestamp"].max()
        return self

    def predict(self, transactions, customers, as_of):
        t = transactions[transactions["timestamp"] > pd.Timestamp(as_of) - pd.Timedelta(days=180)]
        ids = transactions["customer_id"].unique()
        return t.groupby("customer_id")["amount"].sum().reindex(ids, fill_value=0.0)

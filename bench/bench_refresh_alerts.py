"""Bench: how many of a refresh's alerts are new, and what a refresh costs.

Two bases, each compared at two run dates a quarter apart:

* ``cdnow``: CDNOW master (23,570 customers who all first bought in Q1 1997, most never
  came back), runs on 1998-03-31 and 1998-06-30 - the activity alert "floods" with the
  customers lost in 1997;
* ``demo``: the synthetic portfolio (``--customers``, seed 0), runs on 2024-09-30 and
  2024-12-31; also a full :func:`segml.refresh.refresh` with a small k-means model fitted at
  the previous date (time it, count movers).

For each: alerts at the run date, alerts at the previous date, the new ones
(:func:`segml.refresh.new_alerts`), and the wall time.

Usage::

    .venv/bin/python bench/bench_refresh_alerts.py --customers 5000
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from segml.datasets import make_portfolio
from segml.features import build_features
from segml.io import load_cdnow
from segml.monitoring import alerts_from_transactions
from segml.persistence import SegmentModel
from segml.refresh import new_alerts, refresh
from segml.scoring import score


def _alerts(name: str, tx: pd.DataFrame, prev: str, now: str) -> None:
    t0 = time.perf_counter()
    a_now = alerts_from_transactions(tx, None, now)
    a_prev = alerts_from_transactions(tx, None, prev)
    days = (pd.Timestamp(now) - pd.Timestamp(prev)) / pd.Timedelta(days=1)
    new = new_alerts(a_now, a_prev, days_between=days)
    by = a_now.assign(new=new.to_numpy()).groupby("alert")["new"].agg(["size", "sum"])
    print(f"{name}: {tx['customer_id'].nunique():,} customers, run {now} vs {prev} "
          f"({time.perf_counter() - t0:.1f} s)")
    for kind, row in by.iterrows():
        print(f"  {kind:<14} alerting now {int(row['size']):>6,}   new {int(row['sum']):>6,}")
    print(f"  alerting at the previous run: {len(a_prev):,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=5000)
    args = ap.parse_args()
    cd = load_cdnow()
    _alerts("cdnow", cd.transactions, "1998-03-31", "1998-06-30")
    pf = make_portfolio(args.customers, random_state=0)
    _alerts("demo", pf.transactions, "2024-09-30", "2024-12-31")
    prev = pd.Timestamp("2024-09-30")
    fs = build_features(pf.transactions, pf.customers, prev)
    cols = ["recency_days", "frequency", "monetary"]
    pipe = Pipeline([
        ("pre", ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()),
                                    cols)])),
        ("km", KMeans(n_clusters=4, n_init=3, random_state=0)),
    ]).fit(fs.frame)
    model = SegmentModel.from_training(pipe, fs.frame, feature_set=fs, name="bench")
    before = score(model, pf.transactions, pf.customers, prev).frame
    t0 = time.perf_counter()
    r = refresh(model, pf.transactions, pf.customers, as_of=pf.as_of, previous=before,
                previous_as_of=prev)
    print(f"demo refresh ({args.customers:,} customers): {time.perf_counter() - t0:.1f} s")
    print("  " + r.summary())


if __name__ == "__main__":
    main()

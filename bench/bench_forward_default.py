"""Should the ``forward`` feature family be on by default for clustering? Measure, don't guess.

Two checks, each with the family off (default spec) and on (``spec.with_forward()``), same seeds:

1. **Demo portfolio** (``make_portfolio``, 4,000 customers, 5 planted segments, seeds 0-2): ARI of
   k-means at the planted k=5 against the planted truth (what tests/cluster/test_planted.py
   pins at >= 0.95 with the default spec).
2. **CDNOW master** (23,570 customers): features as of 1997-09-30, k-means k=5 on the buyers;
   share of the variance of the *next* 39 weeks' spend (1997-10-01 .. 1998-06-30, never seen by
   the features) explained by the segments (eta squared); higher = segments that say more about
   future value.

Also times the feature build with and without the family.

Run: ``nice -n 10 python bench/bench_forward_default.py``
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from segml.cluster import Segmenter
from segml.datasets import make_portfolio
from segml.features import FeatureBuilder, FeatureSpec, make_preprocessor
from segml.io import load_cdnow

warnings.simplefilter("ignore")


def _cluster(frame: pd.DataFrame, spec: FeatureSpec, k: int, seed: int = 0) -> np.ndarray:
    seg = Segmenter(n_clusters=k, preprocessor=make_preprocessor(spec, frame),
                    random_state=seed).fit(frame)
    return np.asarray(seg.labels_)


def _build(tx, cu, as_of, forward: bool):
    base = FeatureBuilder().fit(tx, cu, as_of=as_of).state_.columns
    spec = FeatureSpec.default(base)
    if forward:
        spec = spec.with_forward()
    t = time.perf_counter()
    fs = FeatureBuilder(spec).fit_transform(tx, cu, as_of=as_of)
    return fs, time.perf_counter() - t


def portfolio() -> None:
    print("| seed | ARI off | ARI on | build s off | build s on |")
    print("|---:|---:|---:|---:|---:|")
    for seed in (0, 1, 2):
        p = make_portfolio(4000, n_segments=5, random_state=seed)
        row = []
        times = []
        for forward in (False, True):
            fs, dt = _build(p.transactions, p.customers, p.as_of, forward)
            frame = fs.frame[~fs.frame["is_prospect"].astype(bool)]
            labels = _cluster(frame, fs.spec, 5)
            row.append(adjusted_rand_score(p.truth.reindex(frame.index), labels))
            times.append(dt)
        print(f"| {seed} | {row[0]:.3f} | {row[1]:.3f} | {times[0]:.2f} | {times[1]:.2f} |")


def cdnow() -> None:
    ds = load_cdnow()
    tx, cu = ds.transactions, ds.customers
    cal, hold = pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")
    future = tx[(tx["timestamp"] > cal + pd.Timedelta(days=1) - pd.Timedelta(seconds=1))
                & (tx["timestamp"] < hold + pd.Timedelta(days=1))]
    spend = future.groupby("customer_id")["amount"].sum()
    print("| family | k | eta² of next-39-week spend | build s |")
    print("|---|---:|---:|---:|")
    for forward in (False, True):
        fs, dt = _build(tx, cu, cal, forward)
        frame = fs.frame[~fs.frame["is_prospect"].astype(bool)]
        for k in (4, 5, 6):
            labels = _cluster(frame, fs.spec, k)
            y = spend.reindex(frame.index).fillna(0.0).to_numpy()
            means = pd.Series(y).groupby(labels).transform("mean").to_numpy()
            eta2 = 1 - ((y - means) ** 2).sum() / ((y - y.mean()) ** 2).sum()
            print(f"| {'on' if forward else 'off'} | {k} | {eta2:.3f} | {dt:.2f} |")


if __name__ == "__main__":
    portfolio()
    cdnow()

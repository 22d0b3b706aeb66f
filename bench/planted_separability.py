"""How distinguishable are the generator's planted segments in behaviour vs in the full matrix?

For ``make_portfolio(size, n_segments=k, random_state=seed)`` and each planted k, prints the
best ARI against the truth of ``KMeans(k, n_init=10)`` (best of three seeds) on

* ``default``: the default feature matrix of ``segml run`` (transactions and customers, default
  spec, buyers only);
* ``tx_spec``: the transaction families only (features built without the customers table),
  default transforms and family weights, missing values median-filled (so no missing-indicator
  column of a single customer takes a cluster);
* ``behaviour``: the plain behaviour matrix of ``tests/test_planted_generator.py`` (recency,
  frequency, monetary, order value, tenure, payment delay in log1p; trend, seasonality,
  activity, returns, late share, channel and category shares; standardised, equal weights);

then the median behaviour per planted segment. Issue 15 part C, step 1.

Usage::

    .venv/bin/python bench/planted_separability.py --size 3000 --planted 3,5,8 --seed 0
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from segml.datasets import make_portfolio
from segml.features import FeatureBuilder, make_preprocessor

LOG = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
       "days_late_mean"]
LINEAR = ["spend_trend", "season_peak_share", "active_month_share", "return_rate", "late_share"]
SHARES = ("channel_share_", "category_share_")
SHOW = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
        "spend_trend", "season_peak_share", "late_share", "return_rate"]


def behaviour_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The plain behaviour matrix (same as the generator test's)."""
    cols = LOG + LINEAR + [c for c in frame.columns if c.startswith(SHARES)]
    X = frame[cols].astype(float)
    X = X.fillna(X.median())
    X[LOG] = np.log1p(X[LOG].clip(lower=0))
    return ((X - X.mean()) / X.std(ddof=0).replace(0.0, 1.0)).to_numpy()


def best_ari(Z: np.ndarray, truth: np.ndarray, k: int, seed: int) -> float:
    return max(adjusted_rand_score(truth, KMeans(k, n_init=10, random_state=seed * 10 + s)
                                   .fit_predict(Z)) for s in range(3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--planted", default="3,5,8")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for k in [int(x) for x in args.planted.split(",")]:
        t = time.perf_counter()
        p = make_portfolio(args.size, n_segments=k, random_state=args.seed)
        gen = time.perf_counter() - t
        full = FeatureBuilder().fit_transform(p.transactions, p.customers, as_of=p.as_of)
        frame = full.frame[~full.frame["is_prospect"].astype(bool)]
        Z = make_preprocessor(full.spec, frame).fit_transform(frame)
        ari = {"default": best_ari(Z, p.truth.reindex(frame.index).to_numpy(), k, args.seed)}
        tx = FeatureBuilder().fit_transform(p.transactions, None, as_of=p.as_of)
        filled = tx.frame.fillna(tx.frame.median(numeric_only=True))
        truth = p.truth.reindex(tx.frame.index).to_numpy()
        ari["tx_spec"] = best_ari(make_preprocessor(tx.spec, filled).fit_transform(filled),
                                  truth, k, args.seed)
        ari["behaviour"] = best_ari(behaviour_matrix(tx.frame), truth, k, args.seed)
        print(f"\nsize={args.size} planted={k} seed={args.seed} buyers={len(tx.frame)} "
              f"generate={gen:.1f}s  best k-means ARI at k={k}: "
              + "  ".join(f"{name}={a:.3f}" for name, a in ari.items()))
        med = tx.frame.groupby(truth)[SHOW].median()
        med.insert(0, "buyers", pd.Series(truth).value_counts())
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(med.round(2).to_string())


if __name__ == "__main__":
    main()

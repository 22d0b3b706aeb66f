"""Diagonal Gaussian mixtures on the default demo model matrix in float32 vs float64.

Why segml fits mixtures in float64 only: with ``reg_covar=1e-6``, a float32 variance of a
standardised feature that is nearly constant inside a component (a rare flag sits at ~4 SD,
squares ~16, float32 rounding step ~1e-6) can come out below the floor, and scikit-learn stops
with "ill-defined empirical covariance". This fits one initialisation per k on the default
fit sample (200,000 rows) of the default ``segml run`` model matrix, in both precisions.

    python bench/bench_gmm_dtype.py --customers 300000   # the recorded run (bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from sklearn.mixture import GaussianMixture

from segml.config import validate_config
from segml.pipeline import build_run_features, load_data, model_matrix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--k", type=int, nargs="+", default=list(range(3, 11)))
    ap.add_argument("--fit-sample", type=int, default=200_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = validate_config({"demo": {"n_customers": args.customers, "folder": tmp + "/d"}})
        t = time.perf_counter()
        data = load_data(cfg)
        X, _ = model_matrix(cfg, build_run_features(cfg, data))
    Z = np.asarray(X, dtype=np.float64)
    print(f"model matrix {Z.shape[0]:,} x {Z.shape[1]} in {time.perf_counter() - t:.0f} s")
    n = min(args.fit_sample, len(Z))
    rows = Z[np.sort(np.random.RandomState(0).choice(len(Z), n, replace=False))]
    print("| k | float32 | float64 |\n|---|---|---|")
    for k in args.k:
        cells = []
        for dtype in (np.float32, np.float64):
            t = time.perf_counter()
            try:
                GaussianMixture(k, covariance_type="diag", n_init=1, random_state=k).fit(
                    rows.astype(dtype))
                out = "fits"
            except ValueError as exc:
                out = "fails (ill-defined covariance)" if "ill-defined" in str(exc) else str(exc)
            cells.append(f"{out}, {time.perf_counter() - t:.0f} s")
        print(f"| {k} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()

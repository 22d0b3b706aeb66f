"""Bench: full-data squared-Euclidean silhouette and select_k vs plain scikit-learn.

Each measurement runs in its own subprocess so peak RSS is measured fairly
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of that child only).

Usage: python bench/bench_cluster.py [--n 200000] [--d 20] [--k 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
from sklearn.datasets import make_blobs
task, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
X, _ = make_blobs(n, d, centers=8, cluster_std=4.0, random_state=0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
t = time.perf_counter()
if task == "kmeans_fit":
    from sklearn.cluster import KMeans
    labels = KMeans(k, n_init=1, random_state=0).fit(X).labels_
elif task == "silhouette_full":
    from sklearn.cluster import KMeans
    labels = KMeans(k, n_init=1, random_state=0).fit(X).labels_
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    from segml.cluster import sqeuclidean_silhouette
    out["value"] = sqeuclidean_silhouette(X, labels).overall
elif task == "sklearn_loop":
    from sklearn.cluster import KMeans
    for kk in range(2, 13):
        KMeans(kk, random_state=0).fit(X)
elif task == "select_k":
    from segml.cluster import select_k
    r = select_k(X, k_range=range(2, 13), stability=False, progress=False, random_state=0)
    out["recommended"] = r.recommended["k"]
    out["settings"] = {kk: r.settings[kk] for kk in ("fit_sample_size", "dtype")}
    out["fit_s"] = float(r.table["fit_seconds"].sum())
    out["metrics_s"] = float(r.table["metrics_seconds"].sum())
elif task == "select_k_stability":
    from segml.cluster import select_k
    r = select_k(X, k_range=range(2, 13), stability=True, n_stability=5, progress=False,
                 random_state=0)
    out["stability_s"] = float(r.table["stability_seconds"].sum())
out["wall_s"] = time.perf_counter() - t
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["rss_before_mib"] = base / 1024
print(json.dumps(out))
"""


def run(task: str, n: int, d: int, k: int) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, task, str(n), str(d), str(k)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--skip-stability", action="store_true")
    a = ap.parse_args()
    tasks = ["kmeans_fit", "silhouette_full", "sklearn_loop", "select_k"]
    if not a.skip_stability:
        tasks.append("select_k_stability")
    t0 = time.perf_counter()
    for task in tasks:
        r = run(task, a.n, a.d, a.k)
        print(f"{task:20s} n={a.n} d={a.d}: " + json.dumps(r), flush=True)
    print(f"total {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()

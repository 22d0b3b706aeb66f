"""Bench: full-data squared-Euclidean silhouette and select_k vs plain scikit-learn.

Each measurement runs in its own subprocess so peak RSS is measured fairly
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of that child only).

Usage: python bench/bench_cluster.py [--n 200000] [--d 20] [--k 8] [--real]

``--real`` instead runs select_k -> fit -> validation -> profiles on the marketing-campaign
table and CDNOW master (value family of the default feature spec).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import pandas as pd

from segml.cluster import Segmenter, profile_segments, select_k, validate_segments
from segml.features import FeatureSpec, build_features, make_preprocessor
from segml.io import load_cdnow, load_marketing_campaign

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


def run_real(name: str, frame: pd.DataFrame, spec: FeatureSpec) -> None:
    t = time.perf_counter()
    pre = make_preprocessor(spec, frame)
    r = select_k(frame, preprocessor=pre, k_range=range(3, 9), n_stability=5, progress=False,
                 random_state=0)
    seg = Segmenter(**r.recommended["params"], preprocessor=pre, random_state=0).fit(frame)
    v = validate_segments(seg, frame, n_resamples=5, random_state=0)
    p = profile_segments(frame, seg.labels_)
    print(f"## {name}: {frame.shape[0]} customers, {time.perf_counter() - t:.1f}s")
    print(r.rationale)
    print({k: round(v, 3) if isinstance(v, float) else v for k, v in v.overall.items()})
    for s in p.names.index:
        print(f"  {s}: {p.names[s]} | {p.roles[s]} | share {p.table.at[s, 'share']:.1%}"
              + (f" revenue {p.table.at[s, 'revenue_share']:.1%}" if "revenue_share" in p.table
                 else ""))


def real_data() -> None:
    ds = load_marketing_campaign()
    fs = build_features(None, ds.customers, "2014-06-30", aggregates=ds.features)
    d = fs.spec.to_dict()
    spec = FeatureSpec.from_dict({**d, "families": {f: d["families"][f] for f in ("value",)
                                                   if f in d["families"]}})
    run_real("marketing_campaign (value family)", fs.frame, spec)
    ds = load_cdnow()
    fs = build_features(ds.transactions, ds.customers, "1998-06-30")
    d = fs.spec.to_dict()
    spec = FeatureSpec.from_dict({**d, "families": {f: d["families"][f] for f in ("value",)
                                                   if f in d["families"]}})
    run_real("CDNOW master (value family)", fs.frame, spec)



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--skip-stability", action="store_true")
    ap.add_argument("--real", action="store_true")
    a = ap.parse_args()
    if a.real:
        real_data()
        return
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

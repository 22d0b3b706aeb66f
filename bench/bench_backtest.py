"""Benchmark a 12-cutoff backtest against 12 independent feature builds + fits.

Each side runs in its own subprocess so its peak RSS (``os.wait4`` rusage) is its own; both
generate the same synthetic portfolio first (``make_portfolio(n, random_state=0)``; the
generation is outside the timed part but inside the peak memory).

* ``backtest``: ``segml.backtest.backtest`` with monthly cutoffs (12), a 3-month horizon,
  a k-means cluster model (``ClusterModel(k=6)``, fixed k), ``rfm_groups``, ``abc`` and the two
  baselines, ``n_boot=0`` (the loop alone: the log checked, converted to polars and sorted by
  time once, each cutoff's feature rows a zero-copy prefix and its window a range of the same
  sorted arrays; a cluster model's labels are those of its fit), plus what the naive loop
  does not compute (outcomes of every customer, stability and drift between cutoffs).
* ``backtest+boot``: the same with ``n_boot`` bootstrap resamples (the intervals' cost).
* ``naive``: what an analyst writes: for each cutoff ``build_features`` on the whole log,
  the same three segmenters fitted and applied, the window's revenue and orders by a boolean
  filter + groupby.

Both loops must give the same assignments (the script compares a hash of them).

Usage::

    .venv/bin/python bench/bench_backtest.py               # 5,000 customers (smoke size)
    .venv/bin/python bench/bench_backtest.py --n 100000    # the issue's size (~3.4M lines)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time


def _segmenters() -> dict:
    from segml.backtest import ClusterModel

    return {"clusters": ClusterModel(k=6, random_state=0), "rfm_groups": "rfm_groups",
            "abc": "abc"}


def _portfolio(n: int):
    from segml.datasets import make_portfolio

    pf = make_portfolio(n, n_segments=5, random_state=0)
    return pf.transactions, pf.customers


def _cutoffs():
    import pandas as pd

    return list(pd.date_range("2023-07-31", periods=12, freq="ME"))


def _hash(labels: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(labels):
        for c in sorted(labels[name]):
            s = labels[name][c].sort_index()
            h.update(name.encode())
            h.update(("|".join(map(str, s.index)) + "#" + "|".join(map(str, s))).encode())
    return h.hexdigest()[:16]


def child_backtest(n: int, n_boot: int) -> dict:
    from segml.backtest import backtest

    tx, cust = _portfolio(n)
    t = time.perf_counter()
    res = backtest(tx, cust, cutoffs=_cutoffs(), horizon="3M", segmenters=_segmenters(),
                   n_boot=n_boot, random_state=0)
    secs = time.perf_counter() - t
    labels = {name: {c: a[c].dropna() for c in a.columns} for name, a in res.assignments.items()
              if name in ("clusters", "rfm_groups", "abc")}
    return {"seconds": secs, "lines": len(tx), "hash": _hash(labels),
            "timings": {k: round(v, 2) for k, v in res.timings.items()}}


def child_naive(n: int) -> dict:
    import pandas as pd
    from sklearn.base import clone

    from segml.features import build_features
    from segml.rules import builtin_segmenter

    tx, cust = _portfolio(n)
    t = time.perf_counter()
    labels: dict = {"clusters": {}, "rfm_groups": {}, "abc": {}}
    for c in _cutoffs():
        fs = build_features(tx, cust, as_of=c)
        frame = fs.frame[~fs.frame["is_prospect"].astype(bool)]
        for name, spec in _segmenters().items():
            if isinstance(spec, str):
                est = builtin_segmenter(spec)
            else:
                est = clone(spec).set_params(spec=fs.spec)
            est.fit(frame)
            labels[name][c] = pd.Series(est.predict(frame), index=frame.index).astype(str)
        lo, hi = c + pd.Timedelta(days=1), c + pd.DateOffset(months=3) + pd.Timedelta(days=1)
        win = tx[(tx["timestamp"] >= lo) & (tx["timestamp"] < hi)]
        g = win.groupby("customer_id")
        out = pd.DataFrame({"revenue": g["amount"].sum(),
                            "orders": g["order_id"].nunique()}).reindex(frame.index,
                                                                         fill_value=0)
        assert len(out) == len(frame)
    return {"seconds": time.perf_counter() - t, "lines": len(tx), "hash": _hash(labels)}


def run_child(part: str, n: int, n_boot: int) -> dict:
    cmd = [sys.executable, __file__, "--child", part, "--n", str(n), "--n-boot", str(n_boot)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{part} failed:\n{out}")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000, help="customers (default 5,000)")
    ap.add_argument("--n-boot", type=int, default=50)
    ap.add_argument("--child", choices=["backtest", "backtest+boot", "naive"])
    ap.add_argument("--skip-boot", action="store_true",
                    help="leave out the backtest+boot run (the largest sizes)")
    args = ap.parse_args()
    if args.child == "backtest":
        print(json.dumps(child_backtest(args.n, 0)))
        return
    if args.child == "backtest+boot":
        print(json.dumps(child_backtest(args.n, args.n_boot)))
        return
    if args.child == "naive":
        print(json.dumps(child_naive(args.n)))
        return
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, load "
          f"{os.getloadavg()[0]:.1f}; {args.n:,} customers, 12 monthly cutoffs, 3M horizon")
    rows = {}
    parts = ("backtest", "naive") if args.skip_boot else ("backtest", "naive", "backtest+boot")
    for part in parts:
        rows[part] = run_child(part, args.n, args.n_boot)
        print(f"{part:14s} {rows[part]['seconds']:8.1f} s  peak {rows[part]['peak_rss_mib']:8.1f}"
              f" MiB  lines {rows[part]['lines']:,}  labels {rows[part]['hash']}"
              + (f"  {rows[part]['timings']}" if "timings" in rows[part] else ""), flush=True)
    same = rows["backtest"]["hash"] == rows["naive"]["hash"]
    ratio = rows["naive"]["seconds"] / rows["backtest"]["seconds"]
    print(f"speed-up (naive / backtest): {ratio:.2f}x; same assignments: {same}; "
          f"load now {os.getloadavg()[0]:.1f}")
    if not same:
        raise SystemExit("the two loops gave different assignments")


if __name__ == "__main__":
    main()

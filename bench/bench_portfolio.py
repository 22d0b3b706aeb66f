"""Benchmark ``segml.datasets.make_portfolio`` against a plain per-customer pandas generator.

Each side runs in its own subprocess so its peak RSS (``os.wait4`` rusage) is its own.

* ``segml``: ``make_portfolio(n)`` (vectorised numpy over all customers), then
  ``Portfolio.write`` to parquet (timed separately).
* ``loop``: the way such a generator is usually hand-written - a Python loop over
  customers drawing each one's orders and lines with numpy, rows collected into
  lists, one ``pd.DataFrame`` and a ``sort_values`` at the end. Same orders/lines
  per customer on average, far fewer attributes. It runs on at most
  ``--loop-max`` customers (it is slow); compare rows/s.

Usage::

    .venv/bin/python bench/bench_portfolio.py              # 100k customers
    .venv/bin/python bench/bench_portfolio.py --n 1000000  # ~30M lines
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

CHILD_SEGML = r"""
import json, sys, time, tempfile, pathlib
from segml.datasets import make_portfolio
n = int(sys.argv[1])
t = time.perf_counter()
p = make_portfolio(n, random_state=0)
gen = time.perf_counter() - t
with tempfile.TemporaryDirectory() as d:
    t = time.perf_counter()
    out = p.write(pathlib.Path(d) / "portfolio")
    wr = time.perf_counter() - t
    size = sum(f.stat().st_size for f in out.iterdir())
s = p.summary()
print(json.dumps({"gen_s": gen, "write_s": wr, "lines": len(p.transactions),
                  "orders": s["n_orders"], "bytes": size, "customers": n}))
"""

CHILD_LOOP = r"""
import json, sys, time
import numpy as np, pandas as pd
n = int(sys.argv[1])
t = time.perf_counter()
rng = np.random.default_rng(0)
start = pd.Timestamp("2021-01-01").value
span = 1461 * 86_400 * 10**9
cats = np.array(["electronics", "home", "garden", "clothing", "food", "office"])
chans = np.array(["store", "web", "phone", "agent"])
rows = {k: [] for k in ("customer_id", "timestamp", "amount", "order_id", "quantity",
                        "category", "channel", "status")}
oid = 0
week = 7 * 86_400 * 10**9
for c in range(n):
    cid = f"C{c + 1:07d}"
    if rng.random() < 0.12:      # prospect
        continue
    rate = rng.lognormal(np.log(5.5), 0.5)
    n_orders = 1 + rng.poisson(rate * 3.0)
    ts = np.sort(start + (rng.random(n_orders) * span).astype(np.int64))
    for o in range(n_orders):
        oid += 1
        n_lines = 1 + rng.poisson(1.2)
        cat = cats[rng.integers(6)]
        ch = chans[rng.integers(4)]
        for _ in range(n_lines):
            q = 1 + rng.poisson(0.5)
            amt = round(float(rng.lognormal(3.5, 1.0)) * q, 2)
            rows["customer_id"].append(cid); rows["timestamp"].append(ts[o])
            rows["amount"].append(amt); rows["order_id"].append(f"ORD{oid:08d}")
            rows["quantity"].append(float(q)); rows["category"].append(cat)
            rows["channel"].append(ch); rows["status"].append("completed")
            if rng.random() < 0.05:
                rows["customer_id"].append(cid); rows["timestamp"].append(ts[o] + week)
                rows["amount"].append(-amt); rows["order_id"].append(f"ORD{oid:08d}")
                rows["quantity"].append(-float(q)); rows["category"].append(cat)
                rows["channel"].append(ch); rows["status"].append("returned")
df = pd.DataFrame(rows)
df["timestamp"] = df["timestamp"].astype("datetime64[ns]")
df = df.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
gen = time.perf_counter() - t
print(json.dumps({"gen_s": gen, "write_s": None, "lines": len(df),
                  "orders": int(oid), "bytes": None, "customers": n}))
"""


def run_child(code: str, n: int) -> dict:
    """Run ``code`` in a fresh interpreter; return its JSON line plus wall time and peak RSS."""
    with tempfile.TemporaryFile("w+") as out:
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code, str(n)], stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"child failed with exit code {proc.returncode}")
        out.seek(0)
        res = json.loads(out.read().strip().splitlines()[-1])
    res["wall_s"] = wall
    res["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    res["cpu_s"] = usage.ru_utime + usage.ru_stime  # robust to a busy shared machine
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="customers (default 100000)")
    ap.add_argument("--loop-max", type=int, default=20_000,
                    help="customers for the per-customer loop baseline (default 20000)")
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    print(f"load average {os.getloadavg()[0]:.1f}; python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, "
          f"pyarrow {pa.__version__}, cores {os.cpu_count()}")
    n_loop = min(args.n, args.loop_max)
    results = {
        "segml make_portfolio": run_child(CHILD_SEGML, args.n),
        "per-customer loop": run_child(CHILD_LOOP, n_loop),
    }
    hdr = (f"{'side':<22}{'customers':>11}{'lines':>12}{'gen s':>9}{'lines/s':>13}"
           f"{'write s':>9}{'MiB out':>9}{'wall s':>9}{'cpu s':>8}{'peak RSS MiB':>14}")
    print(hdr)
    for name, r in results.items():
        write = f"{r['write_s']:.2f}" if r["write_s"] is not None else "-"
        size = f"{r['bytes'] / 2**20:.0f}" if r["bytes"] is not None else "-"
        print(f"{name:<22}{r['customers']:>11,}{r['lines']:>12,}{r['gen_s']:>9.2f}"
              f"{r['lines'] / r['gen_s']:>13,.0f}{write:>9}{size:>9}{r['wall_s']:>9.2f}"
              f"{r['cpu_s']:>8.1f}"
              f"{r['peak_rss_mib']:>14,.0f}")
    seg, loop = results["segml make_portfolio"], results["per-customer loop"]
    speedup = (seg["lines"] / seg["gen_s"]) / (loop["lines"] / loop["gen_s"])
    print(f"throughput ratio (lines/s, segml / loop): {speedup:.1f}x; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

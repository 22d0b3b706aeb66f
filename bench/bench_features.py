"""Bench: segml's RFM feature build vs the plain pandas groupby().agg() of the same aggregates.

Same run, same data, each side in its own subprocess (peak RSS measured fairly with
``resource.getrusage``). The data come from ``segml.datasets.make_portfolio``, generated in
chunks of customers (each chunk its own seed, ids prefixed with the chunk number) and written
once to a Parquet file, so that generating 1M customers stays well under the memory budget.
Both sides load the same Parquet columns into a pandas frame (timestamps arrive as datetime64,
parsed once at load), then time only the feature computation.

Semantics computed by both sides (``docs`` in ``segml.features.transactions``): rows on or before
``as_of``, cancelled rows dropped; purchase lines = not returned and amount >= 0;
``recency_days`` = days from the last purchase day to ``as_of``; ``frequency`` = distinct
``order_id`` among purchase lines; ``monetary`` = sum of amount (net of returns);
``avg_order_value`` = monetary / frequency.

Usage::

    .venv/bin/python bench/bench_features.py                      # small, seconds
    .venv/bin/python bench/bench_features.py --customers 1000000  # >= 20M rows
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RFM_COLUMNS = ["customer_id", "timestamp", "amount", "order_id", "status"]
ALL_COLUMNS = RFM_COLUMNS + ["category", "channel", "margin", "due_date", "paid_date"]
CHUNK = 100_000


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------ children
def child_generate(path: str, n_customers: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from segml.datasets import make_portfolio

    t0 = time.perf_counter()
    writer = None
    rows = 0
    as_of = None
    n_chunks = (n_customers + CHUNK - 1) // CHUNK
    for i in range(n_chunks):
        n = min(CHUNK, n_customers - i * CHUNK)
        p = make_portfolio(n, random_state=i)
        tx = p.transactions[ALL_COLUMNS].copy()
        if n_chunks > 1:
            tx["customer_id"] = f"K{i:03d}" + tx["customer_id"]
            tx["order_id"] = f"K{i:03d}" + tx["order_id"]
        as_of = str(p.as_of.date())
        table = pa.Table.from_pandas(tx, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        rows += len(tx)
    writer.close()
    return {"rows": rows, "customers": n_customers, "as_of": as_of,
            "gen_s": time.perf_counter() - t0, "peak_rss_mb": _peak_rss_mb()}


def _load(path: str, columns: list[str]):
    import pandas as pd

    return pd.read_parquet(path, columns=columns)


def child_pandas(path: str, as_of: str, out: str) -> dict:
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    tx = _load(path, RFM_COLUMNS)
    load_s = time.perf_counter() - t0
    rss_loaded = _peak_rss_mb()
    t0 = time.perf_counter()
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    rows = tx[(tx["timestamp"] < end) & (tx["status"] != "cancelled")]
    buy = rows[(rows["amount"] >= 0) & (rows["status"] != "returned")]
    agg = buy.groupby("customer_id").agg(
        last=("timestamp", "max"), frequency=("order_id", "nunique"))
    monetary = rows.groupby("customer_id")["amount"].sum()
    res = pd.DataFrame(index=monetary.index)
    res["recency_days"] = (pd.Timestamp(as_of) - agg["last"].dt.normalize()).dt.days.astype(
        "float64").reindex(res.index)
    res["frequency"] = agg["frequency"].reindex(res.index).fillna(0).astype("int64")
    res["monetary"] = monetary
    res["avg_order_value"] = res["monetary"] / res["frequency"].replace(0, np.nan)
    res = res.sort_index()
    compute_s = time.perf_counter() - t0
    res.to_parquet(out)
    return {"rows": len(tx), "load_s": load_s, "compute_s": compute_s,
            "rss_after_load_mb": rss_loaded, "peak_rss_mb": _peak_rss_mb()}


def child_segml(path: str, as_of: str, out: str, family: str) -> dict:
    import polars as pl

    from segml.features.transactions import rfm_features, transaction_features

    t0 = time.perf_counter()
    if family == "rfm-lazy":
        tx = pl.scan_parquet(path).select(RFM_COLUMNS)
        n_rows = None
    else:
        tx = _load(path, ALL_COLUMNS if family == "all" else RFM_COLUMNS)
        n_rows = len(tx)
    load_s = time.perf_counter() - t0
    rss_loaded = _peak_rss_mb()
    t0 = time.perf_counter()
    if family == "all":
        res = transaction_features(tx, as_of)
    else:
        res = rfm_features(tx, as_of)
    compute_s = time.perf_counter() - t0
    res[["recency_days", "frequency", "monetary", "avg_order_value"]].to_parquet(out)
    return {"rows": n_rows, "load_s": load_s, "compute_s": compute_s,
            "rss_after_load_mb": rss_loaded, "peak_rss_mb": _peak_rss_mb(),
            "n_columns": res.shape[1]}


# ------------------------------------------------------------------------------- parent
def _run(*args: str) -> dict:
    cmd = [sys.executable, __file__, "--child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _compare(a_path: str, b_path: str) -> dict:
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(a_path)
    b = pd.read_parquet(b_path)
    same_index = a.index.astype(str).tolist() == b.index.astype(str).tolist()
    out = {"same_customers_and_order": same_index}
    for c in ("recency_days", "frequency"):
        out[f"{c}_identical"] = bool(np.array_equal(a[c].to_numpy(), b[c].to_numpy(),
                                                    equal_nan=True))
    for c in ("monetary", "avg_order_value"):
        diff = np.abs(a[c].to_numpy() - b[c].to_numpy())
        out[f"{c}_max_abs_diff"] = float(np.nanmax(diff)) if diff.size else 0.0
        out[f"{c}_bitwise_equal_share"] = float(np.mean(
            (a[c].to_numpy() == b[c].to_numpy()) | (np.isnan(a[c]) & np.isnan(b[c]))))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--all-features", action="store_true",
                    help="also time the full transaction_features build (more memory)")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    work = Path(args.workdir or tempfile.mkdtemp(prefix="segml_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    data = str(work / f"portfolio_{args.customers}.parquet")
    if not os.path.exists(data):
        gen = _run("generate", data, str(args.customers))
    else:
        import pyarrow.parquet as pq

        gen = {"rows": pq.ParquetFile(data).metadata.num_rows, "customers": args.customers,
               "as_of": "2024-12-31", "gen_s": float("nan"), "peak_rss_mb": float("nan")}
    as_of = gen["as_of"]
    print(f"data: {gen['rows']:,} transactions, {gen['customers']:,} customers, as_of {as_of} "
          f"(generated in {gen['gen_s']:.1f} s)")
    print(f"machine: {os.cpu_count()} cores, python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, polars {pl.__version__}, "
          f"pyarrow {pa.__version__}")
    results = {}
    sides = [("pandas", ("pandas", data, as_of, str(work / "pandas.parquet"))),
             ("segml rfm_features", ("segml", data, as_of, str(work / "segml.parquet"), "rfm")),
             ("segml rfm_features (polars lazy parquet)",
              ("segml", data, as_of, str(work / "segml_lazy.parquet"), "rfm-lazy"))]
    if args.all_features:
        sides.append(("segml transaction_features (all families)",
                      ("segml", data, as_of, str(work / "segml_all.parquet"), "all")))
    for name, child_args in sides:
        results[name] = _run(*child_args)
    rows = gen["rows"]
    print(f"\n{'side':45s} {'compute s':>10s} {'rows/s':>12s} {'load s':>8s} "
          f"{'RSS loaded MB':>14s} {'peak RSS MB':>12s}")
    for name, r in results.items():
        print(f"{name:45s} {r['compute_s']:10.2f} {rows / r['compute_s']:12,.0f} "
              f"{r['load_s']:8.2f} {r['rss_after_load_mb']:14.0f} {r['peak_rss_mb']:12.0f}")
    base = results["pandas"]["compute_s"]
    for name, r in results.items():
        if name != "pandas":
            print(f"speed-up vs pandas, {name}: {base / r['compute_s']:.2f}x")
    checks = {
        "segml vs pandas": _compare(str(work / "pandas.parquet"), str(work / "segml.parquet")),
        "lazy vs pandas": _compare(str(work / "pandas.parquet"),
                                   str(work / "segml_lazy.parquet")),
    }
    if args.all_features:
        checks["all vs pandas"] = _compare(str(work / "pandas.parquet"),
                                           str(work / "segml_all.parquet"))
    for name, c in checks.items():
        print(f"{name}: {json.dumps(c)}")
        ok = (c["same_customers_and_order"] and c["recency_days_identical"]
              and c["frequency_identical"] and c["monetary_max_abs_diff"] < 1e-6)
        if not ok:
            raise SystemExit(f"values differ: {name}")
    print("values: identical customers, order, recency and frequency; money within 1e-6")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "generate":
            res = child_generate(rest[0], int(rest[1]))
        elif kind == "pandas":
            res = child_pandas(*rest)
        else:
            res = child_segml(*rest)
        print(json.dumps(res))
    else:
        main()

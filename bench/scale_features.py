"""The features stage of ``segml run`` alone, before/after: one fresh process per measurement.

    python bench/scale_features.py bench/.data/quick-100000-s0 [--segml PATH] [--repeat 2]

Each child reads + validates the generator's Parquet files with ``segml.pipeline.load_data``
(not timed), then times what ``segml run`` does under "building features"
(``build_run_features`` + ``model_matrix`` + the rule-set column check) with
``time.process_time`` (CPU seconds, all threads), and then, in the same process on the same
frame, the bare polars group-by of the RFM columns (recency, frequency = distinct orders,
monetary, AOV, tenure; the harness's ``polars`` worker), conversion from pandas included.
The peak resident memory of each part is ``VmHWM`` after a reset through
``/proc/self/clear_refs`` (it includes what the process already holds: the loaded data).
``--segml`` points at an exported copy of an older tree (``git archive <rev> segml``).
Prints one JSON line per run with the load average before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import copy, json, sys, time
from pathlib import Path

def hwm_reset():
    Path("/proc/self/clear_refs").write_text("5")

def hwm_gib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 2**20, 2)

folder = sys.argv[1]
from segml.config import DEFAULTS
from segml.pipeline import load_data
import segml.pipeline.run as run
from segml.rules import builtin_missing_columns
cfg = copy.deepcopy(DEFAULTS)
cfg["data"]["transactions"] = f"{folder}/transactions.parquet"
cfg["data"]["customers"] = f"{folder}/customers.parquet"
cfg["features"]["as_of"] = "2024-12-31"
data = load_data(cfg)
import polars as pl, pandas as pd
hwm_reset()
c0, w0 = time.process_time(), time.perf_counter()
fs = run.build_run_features(cfg, data)
c1 = time.process_time()
X, frame = run.model_matrix(cfg, fs)
skipped = {n: builtin_missing_columns(n, fs.frame.columns) for n in cfg["rules"]["sets"]}
c2, w2 = time.process_time(), time.perf_counter()
feat_peak = hwm_gib()
del X, frame, fs
tx = data.transactions
as_of = pd.Timestamp(cfg["features"]["as_of"]) + pd.Timedelta(days=1)
hwm_reset()
p0, pw0 = time.process_time(), time.perf_counter()
ptx = pl.from_pandas(tx[["customer_id", "timestamp", "amount", "order_id"]])
g = (ptx.lazy().filter(pl.col("timestamp") < as_of).group_by("customer_id")
     .agg(pl.col("timestamp").max().alias("last"), pl.col("timestamp").min().alias("first"),
          pl.col("order_id").n_unique().alias("frequency"),
          pl.col("amount").sum().alias("monetary"))
     .with_columns(((as_of - pl.col("last")).dt.total_days()).alias("recency"),
                   ((as_of - pl.col("first")).dt.total_days()).alias("tenure"),
                   (pl.col("monetary") / pl.col("frequency")).alias("aov"))
     .select("customer_id", "recency", "frequency", "monetary", "aov", "tenure")
     .sort("customer_id").collect())
p1, pw1 = time.process_time(), time.perf_counter()
import segml
print(json.dumps({"rows": len(tx), "segml_file": segml.__file__,
                  "features_cpu_s": round(c2 - c0, 2),
                  "build_features_cpu_s": round(c1 - c0, 2),
                  "model_matrix_cpu_s": round(c2 - c1, 2),
                  "features_wall_s": round(w2 - w0, 1), "features_peak_gib": feat_peak,
                  "polars_cpu_s": round(p1 - p0, 2), "polars_wall_s": round(pw1 - pw0, 1),
                  "polars_peak_gib": hwm_gib(),
                  "ratio_cpu": round((c2 - c0) / (p1 - p0), 1)}))
"""


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--segml", type=Path, default=Path(__file__).resolve().parents[1],
                    help="folder holding the segml package to measure")
    ap.add_argument("--repeat", type=int, default=1, help="fresh processes, one after another")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.segml)}
    for _ in range(args.repeat):
        load0 = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        proc = subprocess.run([sys.executable, "-c", CHILD, str(args.folder.resolve())],
                              env=env, capture_output=True, text=True, cwd=args.segml)
        if proc.returncode:
            sys.exit(proc.stderr[-2000:])
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res.update(what=f"segml features stage ({args.segml})", load_before=load0,
                   load_after=" ".join(Path("/proc/loadavg").read_text().split()[:3]),
                   date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()

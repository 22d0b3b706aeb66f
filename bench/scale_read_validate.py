"""Read + validate alone, before/after: one fresh process per measurement (issue 19 profile).

    python bench/scale_read_validate.py bench/.data/full-1000000-s0 [--segml PATH] [--plain]

Times ``segml.pipeline.load_data`` (read + validate both files, as ``segml run`` does) with
the ``segml`` package found at ``--segml`` (default: this tree; pass an exported old tree to
compare), or with ``--plain`` pandas reading the same Parquet files plus one pass of checks
(nulls, negative amounts, unknown ids, duplicate customers). Prints one JSON line: wall and
CPU seconds, peak RSS (GiB) and the load average before and after.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import sys, time, json, copy, resource
folder, plain = sys.argv[1], sys.argv[2] == "1"
t0 = time.perf_counter()
if plain:
    import pandas as pd
    tx = pd.read_parquet(f"{folder}/transactions.parquet")
    cust = pd.read_parquet(f"{folder}/customers.parquet")
    checks = {c: int(tx[c].isna().sum()) for c in tx.columns}
    checks["negative"] = int((tx["amount"] < 0).sum())
    checks["unknown"] = int((~tx["customer_id"].isin(cust["customer_id"])).sum())
    checks["dup_customers"] = int(cust["customer_id"].duplicated().sum())
    n = len(tx)
else:
    from segml.config import DEFAULTS
    from segml.pipeline import load_data
    cfg = copy.deepcopy(DEFAULTS)
    cfg["data"]["transactions"] = f"{folder}/transactions.parquet"
    cfg["data"]["customers"] = f"{folder}/customers.parquet"
    cfg["features"]["as_of"] = "2024-12-31"
    data = load_data(cfg)
    n = len(data.transactions)
ru = resource.getrusage(resource.RUSAGE_SELF)
import segml
print(json.dumps({"rows": n, "segml_file": segml.__file__,
                  "wall_s": round(time.perf_counter() - t0, 1),
                  "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
                  "peak_gib": round(ru.ru_maxrss / 2**20, 2)}))
"""


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--segml", type=Path, default=Path(__file__).resolve().parents[1],
                    help="folder holding the segml package to measure")
    ap.add_argument("--plain", action="store_true", help="pandas read + one pass of checks")
    args = ap.parse_args()
    load0 = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    env = {**os.environ, "PYTHONPATH": str(args.segml)}
    # run from the measured tree: ``python -c`` puts the working folder first on sys.path
    proc = subprocess.run([sys.executable, "-c", CHILD, str(args.folder.resolve()),
                           "1" if args.plain else "0"], env=env, capture_output=True, text=True,
                          cwd=args.segml)
    if proc.returncode:
        sys.exit(proc.stderr[-2000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(what="plain pandas" if args.plain else f"segml load_data ({args.segml})",
               load_before=load0,
               load_after=" ".join(Path("/proc/loadavg").read_text().split()[:3]),
               children_peak_gib=round(
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, 2),
               date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print(json.dumps(res))


if __name__ == "__main__":
    main()

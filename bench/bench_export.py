"""Time ``segml export`` of a run folder per format (issue 18): CSV, Parquet, Excel.

A synthetic run folder (``segments.parquet`` + ``metrics.json``) of N customers with the
columns a default run writes is exported once per format; prints seconds and folder size.
Run::

    PYTHONPATH=. python bench/bench_export.py [--n 100000] [--formats csv,parquet,xlsx]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from segml.export import export_folder


def fake_run(folder: Path, n: int) -> Path:
    """Write a run folder with ``n`` customers (the columns of a default segml run)."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    (folder / ".segml-run").write_text("")
    (folder / "metrics.json").write_text(json.dumps({"as_of": "2024-12-31"}))
    (folder / "config.toml").write_text(
        '[rules]\nsets = ["rfm_groups", "abc", "portfolio_roles", "lifecycle"]\n')
    pd.DataFrame({
        "customer_id": [f"C{i:07d}" for i in range(n)],
        "segment_id": rng.integers(0, 5, n), "segment_name": "mid-value active buyers",
        "role": "to retain", "action": "thank them with an early-access offer",
        "confidence": rng.random(n), "distance": rng.random(n),
        "fits_no_segment": rng.random(n) < 0.01, "rfm_groups": "loyal", "abc": "B",
        "portfolio_roles": "core", "lifecycle": "active",
        "forward_clv": rng.random(n) * 1000,
    }).to_parquet(folder / "segments.parquet", index=False)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--formats", default="csv,parquet,xlsx")
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}; {args.n:,} customers")
    with tempfile.TemporaryDirectory() as tmp:
        run = fake_run(Path(tmp) / "run", args.n)
        for fmt in args.formats.split(","):
            out = Path(tmp) / f"out_{fmt}"
            t = time.perf_counter()
            export_folder(run, out, format=fmt)
            dt = time.perf_counter() - t
            size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
            print(f"{fmt:<8} {dt:7.1f} s  {size:6.1f} MB")


if __name__ == "__main__":
    main()

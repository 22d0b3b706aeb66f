"""Issue 19: CPU seconds of ``validate_segments``' stability refits, before and after.

Before: every stability refit refitted the whole :class:`segml.cluster.Segmenter` on the raw
feature rows, preprocessor (imputer, scaler) included. After: the rows are transformed once
with the fitted preprocessor and each refit fits only the clusterer on the model matrix.

Both run in the same process on the same fitted segmenter, so the load of the shared box hits
both alike: "after" is ``validate_segments(seg, frame)`` of this checkout; "before" is
``validate_segments(seg, frame, stability=False)`` plus (timed apart) the call the old code made,
``bootstrap_stability(clone(seg), frame, reference_labels=labels, n_resamples=10,
max_rows=20_000, random_state=0)`` (the same draws and seeds: the silhouettes draw no random
numbers). Times are ``time.process_time`` (CPU seconds of the process, all threads)::

    PYTHONPATH=$PWD python bench/scale_stability.py /tmp/wt-scale-data/quick-100000-s0 \
        --cache /tmp/wt-scale-data/stab-cache [--repeat 2] [--json out.json]

The data folder comes from ``bench/scale_data.generate(folder, 100_000, seed=0)``; features
and the model matrix are the real ones (``segml.pipeline``), cached (pickle) under ``--cache``.
The segmenter is fitted as ``segml run`` fits it after k selection (kmeans, ``--k``, the
sweep's fit sample and precision, labels ordered by monetary value, random_state 0).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_post import CpuMeter, _cached  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Time validation with the old and the new stability refits; return the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--n-resamples", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2,
                    help="rounds of (after, before), the order alternating (default 2)")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import numpy as np
    from sklearn.base import clone

    import segml.pipeline.run as prun
    from segml.cluster import Segmenter, bootstrap_stability, validate_segments
    from segml.cluster.select_k import AUTO_FIT_SAMPLE, AUTO_FLOAT32_ROWS
    from segml.config import DEFAULTS
    from segml.pipeline import load_data

    cfg = copy.deepcopy(DEFAULTS)
    cfg["data"]["transactions"] = str(args.data_dir / "transactions.parquet")
    cfg["data"]["customers"] = str(args.data_dir / "customers.parquet")
    cfg["features"]["as_of"] = "2024-12-31"

    def matrix() -> Any:
        data = load_data(cfg)
        fs = prun.build_run_features(cfg, data)
        _, frame, pre = prun.model_matrix(cfg, fs, return_preprocessor=True)
        return frame, pre

    frame, pre = _cached(args.cache, "frame-pre", matrix)
    n = len(frame)
    seg = Segmenter(
        preprocessor=clone(pre), algorithm="kmeans", n_clusters=args.k,
        fit_sample_size=AUTO_FIT_SAMPLE if n > AUTO_FIT_SAMPLE else None,
        dtype="float32" if n >= AUTO_FLOAT32_ROWS else "float64",
        order_by="monetary" if "monetary" in frame.columns else None, random_state=0,
    )
    meter = CpuMeter(None)
    meter.start("fit")
    seg.fit(frame)
    meter.stop()
    kw = dict(n_resamples=args.n_resamples, random_state=0)

    before = after = old = None
    for r in range(args.repeat):  # alternate the order: warm-up and load drift hit both
        ways = ("after", "before") if r % 2 == 0 else ("before", "after")
        for way in ways:
            if way == "after":
                meter.start(f"validate_after_{r}")
                after = validate_segments(seg, frame, **kw)
                meter.stop()
                continue
            meter.start(f"validate_no_stability_{r}")
            before = validate_segments(seg, frame, stability=False)
            meter.stop()
            meter.start(f"stability_before_{r}")  # what validate_segments called before
            old = bootstrap_stability(
                clone(seg), frame, reference_labels=seg.labels_, max_rows=20_000, **kw
            )
            meter.stop()

    def summary(res: Any) -> dict[str, Any]:
        lo, hi = res.min_jaccard_interval(0.9)
        return {"jaccard": [round(float(v), 3) for v in res.jaccard],
                "jaccard_min_interval_90": [round(lo, 3), round(hi, 3)],
                "ari_mean": round(res.ari_mean, 3)}

    np.testing.assert_array_equal(before.silhouette_values, after.silhouette_values)
    out = {
        "data": str(args.data_dir), "n_clustered": n, "n_model_columns":
            int(len(seg.model_feature_names_)), "k": args.k, "n_resamples": args.n_resamples,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_before_after": Path("/proc/loadavg").read_text().split()[:3],
        "stages": meter.stages,
        "validate_cpu_s": [
            {"before": round(meter.stages[f"validate_no_stability_{r}"]["cpu_s"]
                             + meter.stages[f"stability_before_{r}"]["cpu_s"], 2),
             "after": meter.stages[f"validate_after_{r}"]["cpu_s"]}
            for r in range(args.repeat)
        ],
        "stability_after": summary(after.stability),
        "stability_before": summary(old),
    }
    print(json.dumps(out, indent=1))
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])

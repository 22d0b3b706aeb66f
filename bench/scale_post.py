"""Issue 19: CPU seconds, peak RSS and profiles of the stages after k selection, at scale.

The stages ``segml run`` runs after choosing k — ``validate`` (silhouettes, stability),
``profile`` (profiles and names), ``rules`` (rule sets + comparison), ``save`` (stage the
model, reload it, re-score the training customers), ``batch_score`` (``score_data``: what
``segml score`` runs from transactions) and ``report`` (``write_run``: run folder + HTML) —
each timed with ``time.process_time`` (CPU seconds of the process, all threads: the shared
box is loaded, so wall time is noise) and the peak resident set during the stage (``VmHWM``
reset at each stage start, as in ``scale_stages.py``).

k selection is skipped: the run is fitted with a fixed k (``--k``, kmeans), the way
``analyse`` does once ``select_k`` returned; features and the selection are the real ones,
cached (pickle) under ``--cache`` so a rerun starts at the fit::

    PYTHONPATH=$PWD python bench/scale_post.py /tmp/scaledata/quick-100000-s0 --k 6 \
        --cache /tmp/wt-post19-cache [--profile /tmp/wt-post19-prof] [--json out.json]

``--profile DIR`` runs each stage under cProfile and writes ``DIR/<stage>.txt`` (top 40
cumulative and top 25 own-time lines, CPU seconds) and ``DIR/<stage>.prof``; profiled CPU
seconds are inflated by the profiler, so time without it.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import json
import pickle
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STAGES = ("fit", "validate", "profile", "rules", "save", "batch_score", "report")


def _status_kb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return float("nan")


class CpuMeter:
    """CPU seconds, wall seconds and peak RSS of named stages, optionally profiled."""

    def __init__(self, profile_dir: Path | None) -> None:
        self.profile_dir = profile_dir
        self.stages: dict[str, dict[str, Any]] = {}
        self._open: tuple[str, float, float, cProfile.Profile | None] | None = None

    def start(self, name: str) -> None:
        self.stop()
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass
        prof = None
        if self.profile_dir is not None:
            prof = cProfile.Profile(time.process_time)  # CPU seconds: the box is loaded
            prof.enable()
        self._open = (name, time.process_time(), time.perf_counter(), prof)

    def stop(self) -> None:
        if self._open is None:
            return
        name, c0, w0, prof = self._open
        self._open = None
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        if prof is not None:
            prof.disable()
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            stats.dump_stats(str(self.profile_dir / f"{name}.prof"))
            (self.profile_dir / f"{name}.txt").write_text(buf.getvalue())
        self.stages[name] = {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
                             "peak_rss_mb": round(_status_kb("VmHWM") / 1024),
                             "load": Path("/proc/loadavg").read_text().split()[0]}
        print(f"{name:12s} cpu {cpu:8.2f} s  wall {wall:8.2f} s  peak "
              f"{self.stages[name]['peak_rss_mb']} MiB", flush=True)


def _cached(cache: Path | None, name: str, make: Any) -> Any:
    path = None if cache is None else cache / f"{name}.pkl"
    if path is not None and path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)
    obj = make()
    if path is not None:
        cache.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return obj


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Time the stages after k selection; return the per-stage numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--profile", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--stages", default=",".join(STAGES))
    args = ap.parse_args(argv)
    wanted = set(args.stages.split(","))

    import segml.pipeline.run as prun
    from segml.config import DEFAULTS
    from segml.pipeline import analyse, load_data, save_run_model, score_data, write_run

    cfg = copy.deepcopy(DEFAULTS)
    cfg["data"]["transactions"] = str(args.data_dir / "transactions.parquet")
    cfg["data"]["customers"] = str(args.data_dir / "customers.parquet")
    cfg["features"]["as_of"] = "2024-12-31"
    cfg["segmentation"].update(algorithms=["kmeans"], k_min=args.k, k_max=args.k)
    cfg["output"]["run_id"] = "scale-post"

    data = _cached(args.cache, "data", lambda: load_data(cfg))
    fs = _cached(args.cache, "features", lambda: prun.build_run_features(cfg, data))

    def selection() -> Any:
        X, _ = prun.model_matrix(cfg, copy.deepcopy(fs))
        return prun.run_select_k(cfg, X, progress=False)

    sel = _cached(args.cache, f"selection-k{args.k}", selection)
    prun.build_run_features = lambda c, d: copy.deepcopy(fs)
    prun.run_select_k = lambda c, X, f=None, progress=True: copy.deepcopy(sel)

    meter = CpuMeter(args.profile)
    steps = (("fitting", "fit"), ("validating", "validate"), ("profiling", "profile"),
             ("rule segments", "rules"))

    def progress(msg: str) -> None:
        name = next((n for prefix, n in steps if msg.startswith(prefix)), None)
        if name is not None:
            meter.start(name)

    run = analyse(cfg, data, progress=progress)
    meter.stop()
    with tempfile.TemporaryDirectory(prefix="segml-scale-post-") as tmp:
        cfg["output"]["models_dir"] = str(Path(tmp) / "models")
        cfg["output"]["reports_dir"] = str(Path(tmp) / "reports")
        meter.start("save")
        save_run_model(run, publish=True)
        meter.stop()
        if "batch_score" in wanted:
            from segml.persistence import load_model

            model = load_model(run.model_path)
            meter.start("batch_score")
            scored = score_data(model, data, cfg)
            meter.stop()
            print("batch scored", len(scored.frame), "customers")
        if "report" in wanted:
            meter.start("report")
            write_run(run, overwrite=True)
            meter.stop()
    out = {"data": str(args.data_dir), "k": args.k, "n_clustered": len(run.labels),
           "stages": meter.stages}
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])

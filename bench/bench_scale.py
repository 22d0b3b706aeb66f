"""Scale harness (issue 19): segml's pipeline stage by stage against the plain way.

One command::

    make bench-scale SIZE=quick          # 100k customers, ~3M lines
    make bench-scale SIZE=full           # 1M customers, ~30M lines
    python bench/bench_scale.py --size smoke   # 2k customers (the test suite's smoke run)

Steps:

1. Generate the portfolio with segml's own generator in chunks to Parquet
   (``bench/scale_data.py``), cached under ``bench/.data/<size>-<n>-s<seed>/`` (git-ignored).
2. Run three child processes on those files (``bench/scale_stages.py``): ``segml`` (the real
   pipeline through its public API: read + validate, features, k selection, fit, validation,
   profiles, rules + comparison, save with its reload check, load, batch scoring from
   transactions, single-customer scoring, a 4-cutoff backtest, the run folder + report),
   ``pandas`` (group-by RFM + AOV + tenure, StandardScaler, scikit-learn KMeans with a
   50k-sample silhouette, joblib) and ``polars`` (read + validate and features). duckdb is not
   installed here and is not compared. segml's k selection runs with the product's defaults,
   read from ``segml.config.DEFAULTS["segmentation"]`` (algorithms kmeans + gmm, k 1..10 at
   the time of writing); ``--algorithms``, ``--k-min`` and ``--k-max`` override them. The
   plain way's silhouette sweep starts at k = 2 (a silhouette needs two clusters).
3. Per stage: wall time and peak resident memory of the process during the stage, and the
   ratio segml / plain (time and memory). Written to ``bench/results/scale_<size>.json`` and
   as a markdown table to ``bench/results/scale_<size>.md`` (copy it into
   ``bench/RESULTS.md``).

A stage that fails or cannot run says so (``failed: ...`` / ``not run: ...``) in its row; the
harness never stops at one stage. No time limit is asserted anywhere: the machine it runs on
decides the numbers, so the table records the machine, versions and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))  # the segml of this checkout, as the child processes get it

SIZES = {"smoke": 2_000, "quick": 100_000, "full": 1_000_000}
STAGES = ["read_validate", "features", "select_k", "fit", "validate", "profile", "rules",
          "backtest", "save", "load", "batch_score", "single_score", "report"]
LABELS = {
    "read_validate": "read + validate", "features": "features", "select_k": "k selection",
    "fit": "fit", "validate": "validation", "profile": "profiles",
    "rules": "rules + comparison", "backtest": "backtest (4 cutoffs)",
    "save": "save (+ reload check)", "load": "load", "batch_score": "batch scoring",
    "single_score": "single customer (median)", "report": "report / run folder",
}


def _versions() -> dict[str, str]:
    import numpy
    import pandas
    import polars
    import pyarrow
    import sklearn

    import segml

    return {"python": platform.python_version(), "segml": getattr(segml, "__version__", "?"),
            "numpy": numpy.__version__, "pandas": pandas.__version__,
            "polars": polars.__version__, "pyarrow": pyarrow.__version__,
            "scikit-learn": sklearn.__version__}


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _child(worker: str, data_dir: Path, out: Path, stages: list[str], algorithms: list[str],
           k_range: tuple[int, int], timeout: float | None, overrides: dict) -> dict:
    """Run one worker in a fresh process; return its stages (or the reason it has none)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import scale_stages; "
            "scale_stages.main(sys.argv[2:])")
    cmd = [sys.executable, "-c", code, str(HERE), worker, str(data_dir), str(out),
           ",".join(stages), ",".join(algorithms), str(k_range[0]), str(k_range[1]),
           json.dumps(overrides)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        done = json.loads(out.read_text())["stages"] if out.exists() else {}
        return {"error": f"timed out after {timeout:.0f} s (--timeout); stages finished "
                         f"before: {', '.join(done) or 'none'}", "stages": done}
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"[:400], "stages": {},
                "wall_s": round(wall, 1)}
    res = json.loads(out.read_text())
    res["wall_s"] = round(wall, 1)
    if proc.stderr.strip():
        res["stderr_tail"] = proc.stderr.strip().splitlines()[-5:]
    return res


def _ratio(a: dict, b: dict, key: str) -> float | None:
    x, y = a.get(key), b.get(key)
    if a.get("status") != "ok" or b.get("status") != "ok" or not x or not y:
        return None
    return round(x / y, 2)


def compare(workers: dict[str, dict]) -> dict[str, dict]:
    """Per stage: the segml row, the plain rows and the ratios segml / plain."""
    table = {}
    seg = dict(workers.get("segml", {}).get("stages", {}))
    seg.update(workers.get("segml-backtest", {}).get("stages", {}))
    for stage in STAGES:
        w = "segml-backtest" if stage == "backtest" else "segml"
        s = seg.get(stage) or {"status": "not run: " + workers.get(w, {}).get(
            "error", "left out (--workers / --stages)")}
        row = {"segml": s}
        for lib in ("pandas", "polars"):
            p = workers.get(lib, {}).get("stages", {}).get(stage)
            if p is None:
                continue
            row[lib] = p
            row[f"time_ratio_{lib}"] = _ratio(s, p, "seconds")
            row[f"memory_ratio_{lib}"] = _ratio(s, p, "peak_rss_mb")
        table[stage] = row
    return table


def _fmt_s(d: dict | None) -> str:
    if not d:
        return "—"
    if d.get("status") != "ok":
        return d.get("status", "?")
    s = d["seconds"]
    return f"{s * 1000:.2f} ms" if s < 1 else f"{s:.1f} s"


def _fmt_m(d: dict | None) -> str:
    return f"{d['peak_rss_mb'] / 1024:.2f}" if d and d.get("status") == "ok" else "—"


def _fmt_r(r: float | None) -> str:
    return "—" if r is None else f"{r:g}×"


def markdown(result: dict) -> str:
    """The RESULTS.md table of one harness run."""
    m = result["meta"]
    lines = [
        f"### {m['size']}: {m['n_customers']:,} customers, {m['n_lines']:,} lines "
        f"({m['date']})",
        "",
        f"Machine: {m['machine']}; load average before / after: {m['load_before']} / "
        f"{m['load_after']}. Versions: "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        f"Command: `{m['command']}`. Generation (chunked, cached): {m['generation']}.",
        f"segml: algorithms {', '.join(m['algorithms'])}, k {m['k_range'][0]}..{m['k_range'][1]}, "
        f"overrides {m['overrides'] or 'none'}, other settings the config defaults; the segml "
        "backtest runs `segml.backtest.backtest` (segmenter clusters: the default k selection "
        "at every cutoff; n_boot 50, horizon 3M) in its own process after its own read; "
        "plain: pandas / polars + scikit-learn KMeans "
        f"(default n_init) at k {max(2, m['k_range'][0])}..{m['k_range'][1]}, best "
        "silhouette on a 50k sample, joblib; its backtest runs that sweep at every cutoff.",
        "Peak = peak resident memory of the process during the stage (GiB, includes what "
        "earlier stages still hold). Ratio = segml / plain (pandas; polars where run).",
        "",
        "| stage | segml time | segml peak | pandas time | pandas peak | polars time | "
        "polars peak | time ratio (pandas / polars) | memory ratio (pandas / polars) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for stage, row in result["stages"].items():
        tr = _fmt_r(row.get("time_ratio_pandas"))
        mr = _fmt_r(row.get("memory_ratio_pandas"))
        if "polars" in row:
            tr += f" / {_fmt_r(row.get('time_ratio_polars'))}"
            mr += f" / {_fmt_r(row.get('memory_ratio_polars'))}"
        lines.append(
            f"| {LABELS[stage]} | {_fmt_s(row['segml'])} | {_fmt_m(row['segml'])} | "
            f"{_fmt_s(row.get('pandas'))} | {_fmt_m(row.get('pandas'))} | "
            f"{_fmt_s(row.get('polars'))} | {_fmt_m(row.get('polars'))} | {tr} | {mr} |")
    tot = result["totals"]
    lines += ["", "Process wall time (import + every stage): "
              + ", ".join(f"{k} {v} s" for k, v in tot.items()) + "."]
    for w, res in result["workers"].items():
        if res.get("error"):
            lines.append(f"- {w} worker: {res['error']}")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The harness's options; k selection defaults to segml's config (``[segmentation]``)."""
    from segml.config import DEFAULTS

    seg = DEFAULTS["segmentation"]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="smoke",
                    help="smoke (2k), quick (100k), full (1M) or a number of customers")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=50_000, help="customers per generated chunk")
    ap.add_argument("--data-dir", type=Path, default=HERE / ".data")
    ap.add_argument("--out-dir", type=Path, default=HERE / "results")
    ap.add_argument("--workers", default="segml,pandas,polars,segml-backtest",
                    help="child processes to run (segml-backtest: the segml backtest alone, "
                         "with --timeout)")
    ap.add_argument("--stages", default="analyse,backtest",
                    help="optional stages: analyse (features .. rules), backtest (plain way)")
    ap.add_argument("--algorithms", default=",".join(seg["algorithms"]),
                    help="segml k-selection algorithms (default: segml's config, "
                         "%(default)s)")
    ap.add_argument("--k-min", type=int, default=seg["k_min"],
                    help="smallest k searched (default: segml's config, %(default)s; the "
                         "plain way's silhouette sweep starts at 2 whatever this is)")
    ap.add_argument("--k-max", type=int, default=seg["k_max"],
                    help="largest k searched (default: segml's config, %(default)s)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per worker")
    ap.add_argument("--backtest-timeout", type=float, default=900,
                    help="seconds for the segml-backtest worker (default 900)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=JSON",
                    help="segml config override, e.g. segmentation.stability=false")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run the harness; return the result dict (also written as JSON + markdown)."""
    args = parse_args(argv)

    from scale_data import generate

    n = SIZES.get(args.size) or int(args.size)
    name = args.size if args.size in SIZES else f"n{n}"
    folder = args.data_dir / f"{name}-{n}-s{args.seed}"
    load_before = _loadavg()
    print(f"generating {n:,} customers into {folder} (cached)", flush=True)
    meta = generate(folder, n, seed=args.seed, chunk=min(args.chunk, n))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stages = [s for s in args.stages.split(",") if s]
    algorithms = [a for a in args.algorithms.split(",") if a]
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    workers = {}
    for w in [w for w in args.workers.split(",") if w]:
        print(f"running the {w} worker", flush=True)
        workers[w] = _child(w, folder, args.out_dir / f".scale_{name}_{w}.json", stages,
                            algorithms, (args.k_min, args.k_max),
                            args.backtest_timeout if w == "segml-backtest" else args.timeout,
                            overrides)
        (args.out_dir / f".scale_{name}_{w}.json").unlink(missing_ok=True)
    result = {
        "meta": {
            "size": name, "n_customers": meta["n_customers"], "n_lines": meta["n_lines"],
            "seed": args.seed, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                       f"{_mem_gib():.0f} GiB RAM, {platform.system()} {platform.release()}",
            "load_before": load_before, "load_after": _loadavg(),
            "versions": _versions(), "algorithms": algorithms,
            "k_range": [args.k_min, args.k_max], "overrides": overrides,
            "command": "python bench/bench_scale.py " + " ".join(argv or sys.argv[1:]),
            "generation": f"{meta['seconds']} s, peak {meta['peak_rss_mb']} MB "
                          f"(when first generated)",
        },
        "stages": compare(workers),
        "totals": {w: r.get("wall_s") for w, r in workers.items()},
        "workers": {w: {k: v for k, v in r.items() if k != "stages"}
                    for w, r in workers.items()},
    }
    (args.out_dir / f"scale_{name}.json").write_text(json.dumps(result, indent=1))
    md = markdown(result)
    (args.out_dir / f"scale_{name}.md").write_text(md)
    print(md)
    return result


def _mem_gib() -> float:
    try:
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
        return kb / 2**20
    except (OSError, StopIteration):
        return float("nan")


if __name__ == "__main__":
    main()

"""Issue 12 before/after: feature build and scoring speed of two segml source trees, same run.

The refactor of issue 12 (features as a fitted estimator, the model in its own module,
scoring in one package with a registry) must not cost speed. This script times the same
jobs on two source trees -- by default the commit before the refactor and the working
tree -- in alternating child processes (before, after, before, after...) so that load on
a shared machine falls on both sides alike. Each child imports segml from its tree only
(``PYTHONPATH``), so its timings and peak RSS are its own.

Jobs (same data for both trees, prepared once by the "after" tree):

1. ``build``: ``build_features(transactions, customers, as_of)`` on ``make_portfolio(n)``
   (best of ``--repeat``);
2. ``score``: a k=6 model on the built frame (``Segmenter`` + ``make_preprocessor``,
   ``SegmentModel.from_training``), then ``score_features(model, big, explain=0)`` on
   ``--rows`` rows sampled from the frame, against the scikit-learn pipeline's own
   ``Segmenter.predict(big)`` in the same child; labels must be identical; and one
   customer at a time with ``score_one`` (median and p99 over 500 records).

Usage::

    git worktree add --detach /tmp/seg-before bda6b3a
    python bench/bench_refactor.py --before /tmp/seg-before --after . \
        --customers 20000 --rows 200000 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def child_prepare(folder: Path, n: int) -> dict:
    from segml.datasets import make_portfolio

    p = make_portfolio(n, random_state=0)
    p.transactions.to_parquet(folder / "tx.parquet")
    p.customers.to_parquet(folder / "customers.parquet")
    (folder / "meta.json").write_text(json.dumps({"as_of": str(p.as_of)}))
    return {"tx_rows": len(p.transactions), "customers": len(p.customers)}


def _load(folder: Path):
    import pandas as pd

    tx = pd.read_parquet(folder / "tx.parquet")
    cu = pd.read_parquet(folder / "customers.parquet")
    as_of = json.loads((folder / "meta.json").read_text())["as_of"]
    return tx, cu, as_of


def child_build(folder: Path, repeat: int) -> dict:
    from segml.features import build_features

    tx, cu, as_of = _load(folder)
    best, fs = _best(lambda: build_features(tx, cu, as_of), repeat)
    return {"build_best_s": best, "tx_rows_per_s": len(tx) / best,
            "columns": fs.frame.shape[1], "peak_rss_mb": _rss_mb()}


def child_score(folder: Path, rows: int, repeat: int) -> dict:
    import numpy as np
    import pandas as pd

    from segml.cluster import Segmenter
    from segml.features import build_features
    from segml.features.build import make_preprocessor
    from segml.persistence import SegmentModel
    from segml.scoring import score_features, score_one

    tx, cu, as_of = _load(folder)
    fs = build_features(tx, cu, as_of)
    seg = Segmenter(n_clusters=6, preprocessor=make_preprocessor(fs.spec, fs.frame),
                    random_state=0, n_init=1).fit(fs.frame)
    model = SegmentModel.from_training(seg, fs.frame, feature_set=fs, name="bench")
    rng = np.random.default_rng(0)
    big = fs.frame.iloc[rng.integers(0, len(fs.frame), rows)]
    big.index = pd.Index([f"X{i}" for i in range(rows)], name="customer_id", dtype="str")
    p_best, p_lab = _best(lambda: seg.predict(big), repeat)
    s_best, res = _best(lambda: score_features(model, big, explain=0), repeat)
    recs = [fs.frame.iloc[i].to_dict() for i in range(0, len(fs.frame),
                                                       max(1, len(fs.frame) // 500))]
    one = []
    for rec in recs:
        t = time.perf_counter()
        score_one(model, rec)
        one.append(time.perf_counter() - t)
    one.sort()
    return {
        "pipeline_predict_s": p_best, "score_features_s": s_best,
        "speedup": p_best / s_best,
        "labels_identical": bool(np.array_equal(p_lab, res.frame["segment_id"].to_numpy())),
        "single_median_ms": statistics.median(one) * 1e3,
        "single_p99_ms": one[int(0.99 * (len(one) - 1))] * 1e3,
        "peak_rss_mb": _rss_mb(),
    }


def _run(tree: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree.resolve()))
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", *args],
                         capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise RuntimeError(f"{tree}: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path)
    ap.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args()
    if a.child:
        kind, folder = a.child[0], Path(a.child[1])
        if kind == "prepare":
            print(json.dumps(child_prepare(folder, a.customers)))
        elif kind == "build":
            print(json.dumps(child_build(folder, a.repeat)))
        else:
            print(json.dumps(child_score(folder, a.rows, a.repeat)))
        return
    if a.before is None:
        ap.error("--before TREE is required (a checkout of the commit to compare with)")
    trees = {"before": a.before, "after": a.after}
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        prep = _run(a.after, "prepare", str(folder), "--customers", str(a.customers))
        print(f"data: {prep['customers']:,} customers, {prep['tx_rows']:,} transaction rows; "
              f"score batch {a.rows:,} rows; best of {a.repeat}; {a.rounds} rounds")
        results: dict[str, list[dict]] = {"before": [], "after": []}
        for r in range(a.rounds):
            for side, tree in trees.items():
                b = _run(tree, "build", str(folder), "--repeat", str(a.repeat))
                s = _run(tree, "score", str(folder), "--rows", str(a.rows),
                         "--repeat", str(a.repeat))
                results[side].append({**b, **{f"score_{k}": v for k, v in s.items()}})
                print(f"round {r + 1} {side:6s} build {b['build_best_s']:.2f} s "
                      f"({b['tx_rows_per_s']:,.0f} tx rows/s, {b['columns']} cols, "
                      f"{b['peak_rss_mb']:.0f} MiB) | score_features {s['score_features_s']:.3f} s"
                      f" vs pipeline.predict {s['pipeline_predict_s']:.3f} s "
                      f"({s['speedup']:.2f}x, labels identical {s['labels_identical']}) | "
                      f"one customer median {s['single_median_ms']:.2f} ms "
                      f"p99 {s['single_p99_ms']:.2f} ms | peak {s['peak_rss_mb']:.0f} MiB",
                      flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

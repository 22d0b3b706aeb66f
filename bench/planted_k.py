"""Planted truth over sizes x planted segments x seeds: the k the default rule chooses, and ARI.

Tracker issue 15: the k-selection rule was tuned on one case (4,000 customers, 5 planted
segments). This harness holds it out: for every size, number of planted segments and seed it

1. generates ``make_portfolio(size, n_segments=planted, random_state=seed)``,
2. builds the features and model matrix exactly as ``segml run`` does, through the public
   pipeline functions (``segml.pipeline.build_run_features``, ``model_matrix``,
   ``run_select_k``) on the default configuration (``segml.config.validate_config``), so it
   picks up whatever k-selection rule is the default when it runs,
3. records the chosen k, the rule that chose it, the verdict if the rule gives one, the ARI
   against the planted truth of the recommended solution (fitted as ``segml run`` fits it) and
   of a k-means fit at the planted k on the same matrix, and the time of each step.

``planted = 1`` is the null case (one planted profile, no B2B accounts): the right answer is
"no clear segments" (a verdict, or k = 1); ARI is not defined there and is left empty.

Usage::

    .venv/bin/python bench/planted_k.py                                  # 3k, 20k x 3/5/8 x 6
    .venv/bin/python bench/planted_k.py --sizes 3000 --planted 1,3,5,8 --seeds 6
    .venv/bin/python bench/planted_k.py --sizes 100000 --seeds 0,1 --out /tmp/p100k.json

The JSON (``--out``) is rewritten after every run, so an interrupted sweep keeps what it
finished; the markdown table is printed at the end (and with ``--table-only`` from a JSON).
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
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results" / "planted_k.json"
#: Verdict strings that mean "the data show no segments" (matched case-insensitively).
NULL_WORDS = ("no clear", "no segment", "none")


def _ints(text: str) -> list[int]:
    return [int(x) for x in str(text).split(",") if x.strip()]


def _seeds(text: str) -> list[int]:
    """``"6"`` -> seeds 0..5 (a count); ``"0,3,7"`` or ``"4,"`` -> those seeds (a list)."""
    vals = _ints(text)
    if "," in str(text):
        return vals
    if len(vals) != 1 or vals[0] < 1:
        raise argparse.ArgumentTypeError(
            f"--seeds {text!r}: give a count >= 1 (6 = seeds 0..5) or a comma-separated list "
            "of seeds ('4,' for seed 4 alone).")
    return list(range(vals[0]))


def _verdict(selection: Any) -> str | None:
    """The rule's verdict if it gives one (attribute or ``recommended`` key), else None."""
    v = getattr(selection, "verdict", None)
    if v is None and isinstance(getattr(selection, "recommended", None), dict):
        v = selection.recommended.get("verdict")
    return None if v is None else str(v)


def run_one(size: int, planted: int, seed: int,
            segmentation: dict[str, Any] | None = None) -> dict[str, Any]:
    """Generate, build features, choose k and score one (size, planted, seed) case.

    Parameters
    ----------
    size : int
        Customers generated (prospects included; only buyers are clustered).
    planted : int
        Planted segments (``make_portfolio(n_segments=)``); 1 is the null case.
    seed : int
        ``random_state`` of the generator, the sweep and the fits.
    segmentation : dict, optional
        Overrides of the ``[segmentation]`` config (e.g. ``{"n_stability": 5}``); the
        defaults of :func:`segml.config.validate_config` otherwise.

    Returns
    -------
    dict
        ``size``, ``planted``, ``seed``, ``n_clustered``, ``k_chosen``, ``algorithm``,
        ``rule``, ``verdict``, ``k_right``, ``ari_recommended``, ``ari_planted_k``,
        ``seconds`` (per step).
    """
    from segml.cluster import Segmenter
    from segml.cluster.tiers import value_tiers
    from segml.config import validate_config
    from segml.datasets import make_portfolio
    from segml.features import make_preprocessor
    from segml.pipeline import LoadedData, build_run_features, model_matrix, run_select_k

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    pf = make_portfolio(size, n_segments=planted, random_state=seed)
    t["generate"] = time.perf_counter() - t0
    seg_cfg = {"random_state": seed, **(segmentation or {})}
    cfg = validate_config({"features": {"as_of": pf.as_of.date().isoformat()},
                           "segmentation": seg_cfg})
    data = LoadedData(name="planted", transactions=pf.transactions, customers=pf.customers,
                      truth=pf.truth, default_as_of=pf.as_of)
    t0 = time.perf_counter()
    fs = build_run_features(cfg, data)
    X, frame = model_matrix(cfg, fs)
    t["features"] = time.perf_counter() - t0
    truth = pf.truth.reindex(frame.index).to_numpy()

    t0 = time.perf_counter()
    selection = run_select_k(cfg, X, fs, progress=False)
    t["select_k"] = time.perf_counter() - t0
    rec = selection.recommended
    verdict = _verdict(selection)

    # the recommended solution, fitted the way segml run fits it (segml.pipeline.analyse)
    t0 = time.perf_counter()
    if int(rec["k"]) < 2:  # "no clear segments": segml run gives value tiers
        labels = value_tiers(frame, cfg["segmentation"]["value_tiers"],
                             random_state=cfg["segmentation"]["random_state"]).labels_
    else:
        params = dict(rec.get("params") or {})
        params.update(algorithm=rec["algorithm"], n_clusters=int(rec["k"]),
                      random_state=cfg["segmentation"]["random_state"])
        if rec["algorithm"] == "gmm":
            params["covariance_type"] = rec["covariance_type"]
        params.pop("preprocessor", None)
        pre = make_preprocessor(fs.spec, frame)
        labels = Segmenter(preprocessor=pre, **params).fit(frame).labels_
    ari_rec = adjusted_rand_score(truth, labels) if planted > 1 else None
    ari_planted = None
    if planted > 1:
        at_k = Segmenter(n_clusters=planted, preprocessor=make_preprocessor(fs.spec, frame),
                         random_state=seed).fit(frame)
        ari_planted = adjusted_rand_score(truth, at_k.labels_)
    t["fit"] = time.perf_counter() - t0

    k = int(rec["k"])
    if planted == 1:
        right = k == 1 or (verdict is not None
                           and any(w in verdict.lower() for w in NULL_WORDS))
    else:
        right = k == planted
    return {
        "size": size, "planted": planted, "seed": seed, "n_clustered": int(len(frame)),
        "k_chosen": k, "algorithm": str(rec["algorithm"]), "rule": rec.get("rule"),
        "verdict": verdict, "k_right": bool(right),
        "ari_recommended": None if ari_rec is None else round(float(ari_rec), 4),
        "ari_planted_k": None if ari_planted is None else round(float(ari_planted), 4),
        "seconds": {name: round(v, 2) for name, v in t.items()},
    }


def table(runs: list[dict[str, Any]]) -> str:
    """Markdown table: one row per (size, planted), k chosen per seed, counts right, ARI."""
    if not runs:
        return "(no runs)"
    df = pd.DataFrame(runs)
    lines = [
        "| size | planted | k chosen per seed | right | ARI recommended mean / min "
        "| ARI at planted k mean / min | s per run |",
        "|---:|---:|---|---:|---|---|---:|",
    ]

    def _ari(col: pd.Series) -> str:
        vals = col.dropna().astype(float)
        return "n/a" if vals.empty else f"{vals.mean():.3f} / {vals.min():.3f}"

    for (size, planted), g in df.groupby(["size", "planted"], sort=True):
        g = g.sort_values("seed")
        ks = " ".join(str(k) if not v else f"{k}({v})"
                      for k, v in zip(g["k_chosen"], g["verdict"].fillna(""), strict=True))
        secs = np.mean([sum(s.values()) for s in g["seconds"]])
        lines.append(
            f"| {size:,} | {planted} | {ks} | {int(g['k_right'].sum())}/{len(g)} "
            f"| {_ari(g['ari_recommended'])} | {_ari(g['ari_planted_k'])} | {secs:.0f} |"
        )
    return "\n".join(lines)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _meta(args: argparse.Namespace, segmentation: dict[str, Any]) -> dict[str, Any]:
    from segml.config import validate_config

    seg = validate_config({"segmentation": segmentation})["segmentation"]
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = None
    return {
        "commit": _git_commit(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "loadavg_start": load,
        "sizes": args.sizes, "planted": args.planted, "seeds": args.seeds,
        "segmentation": {k: seg[k] for k in ("algorithms", "k_min", "k_max", "rule",
                                             "min_jaccard", "n_stability", "stability",
                                             "min_segment_share") if k in seg},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=_ints, default=[3000, 20000],
                    help="customers per portfolio, comma-separated (default 3000,20000)")
    ap.add_argument("--planted", type=_ints, default=[3, 5, 8],
                    help="planted segments, comma-separated; 1 = null (default 3,5,8)")
    ap.add_argument("--seeds", type=_seeds, default=list(range(6)),
                    help="a count (6 = seeds 0..5) or a comma-separated list (default 6)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="JSON written after every run (default bench/results/planted_k.json)")
    ap.add_argument("--n-stability", type=int, default=None,
                    help="override [segmentation] n_stability (default: the config default)")
    ap.add_argument("--algorithms", default=None,
                    help="override [segmentation] algorithms, comma-separated")
    ap.add_argument("--k-max", type=int, default=None,
                    help="override [segmentation] k_max (default: the config default)")
    ap.add_argument("--table-only", action="store_true",
                    help="print the table of an existing --out JSON and exit")
    args = ap.parse_args(argv)
    if args.table_only:
        print(table(json.loads(args.out.read_text())["runs"]))
        return 0
    segmentation: dict[str, Any] = {}
    if args.n_stability is not None:
        segmentation["n_stability"] = args.n_stability
    if args.algorithms:
        segmentation["algorithms"] = args.algorithms.split(",")
    if args.k_max is not None:
        segmentation["k_max"] = args.k_max
    result: dict[str, Any] = {"meta": _meta(args, segmentation), "runs": []}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        for planted in args.planted:
            for seed in args.seeds:
                r = run_one(size, planted, seed, segmentation)
                result["runs"].append(r)
                print(f"size={size} planted={planted} seed={seed} k={r['k_chosen']} "
                      f"verdict={r['verdict']} ari_rec={r['ari_recommended']} "
                      f"ari_k={r['ari_planted_k']} s={sum(r['seconds'].values()):.0f}",
                      file=sys.stderr, flush=True)
                try:
                    result["meta"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
                except OSError:
                    pass
                args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(table(result["runs"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Segment names before and after the naming rewrite (issue 17), on CDNOW and the demo.

"Before" is commit ``c59064f``, the parent of ``76b0388`` (the commit that replaced the old
``profiles._names`` with :mod:`segml.cluster.naming`); "after" is the working tree this script
is in. The old commit is checked out with ``git worktree add --detach`` into a temporary
folder and run with ``PYTHONPATH`` pointing at it (one subprocess per tree, so each imports
its own ``segml``).

The number of segments is forced (``[segmentation] k_min = k_max = K``, what ``segml run
--k K`` does) and the same for both: the default now gives value tiers on the demo, and the
old default chose k by a different rule, so the defaults would compare different partitions.
k-means only, no stability refits, rule set ``abc`` only (names do not depend on them). The
demo portfolio is generated once by the *after* tree (the generator changed in between) and
both trees read the same Parquet files as plain data.

Two comparisons per data set:

* **same segments**: the old naming code (``c59064f``'s ``profile_segments``, on the old
  tree's own feature frame) applied to the *after* run's segments, matched by customer id:
  the naming change alone;
* **old run**: the old commit's own end-to-end run at the same k, each after-segment matched
  to the old segment with the largest Jaccard overlap of customers (the feature space and
  preprocessing changed too, so its segments differ; the Jaccard says by how much).

Usage::

    python bench/names_before_after.py [--datasets demo,cdnow] [--k-demo 5] [--k-cdnow 6]
        [--before c59064f] [--out bench/results/names_before_after.md]

Prints the Markdown tables (and writes them to ``--out``); the worker mode (``--worker``) is
what each tree's subprocess runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEFORE = "c59064f"
DATA = {"demo": {}, "cdnow": {"data": {"loader": "cdnow"},
                              "features": {"as_of": "1998-06-30"}}}


def _config(name: str, k: int, tmp: str) -> dict:
    cfg = {"segmentation": {"algorithms": ["kmeans"], "k_min": k, "k_max": k,
                            "stability": False, "rule": "largest_stable", "random_state": 0},
           "rules": {"sets": ["abc"]}, "demo": {"folder": f"{tmp}/data/demo"}}
    for section, values in DATA[name].items():
        cfg.setdefault(section, {}).update(values)
    return cfg


# --------------------------------------------------------------------------------------------
# worker: runs inside one tree (its own segml on PYTHONPATH)
# --------------------------------------------------------------------------------------------
def _segments(profiles, labels) -> list[dict]:
    table = profiles.table
    rows = []
    for seg, name in profiles.names.items():
        rows.append({"id": int(seg), "name": str(name), "n": int((labels == seg).sum()),
                     "revenue_share": (float(table.loc[seg, "revenue_share"])
                                       if "revenue_share" in table.columns else None),
                     "role": str(profiles.roles.get(seg, ""))})
    return rows


def worker(mode: str, cfg_path: str, out: str, labels_path: str | None = None) -> None:
    """Fit (``fit``) or only name given segments (``name``) in the tree on ``sys.path``."""
    import warnings

    import pandas as pd

    import segml
    from segml.config import validate_config
    from segml.pipeline import analyse, load_data

    warnings.simplefilter("ignore")
    cfg = validate_config(json.loads(Path(cfg_path).read_text()))
    data = load_data(cfg)
    t = time.perf_counter()
    if mode == "demo":  # only generate the demo portfolio's files (load_data writes them)
        result = {"as_of": str(data.default_as_of.date())}
    elif mode == "fit":
        run = analyse(cfg, data)
        labels = run.labels
        labels.rename_axis("customer_id").rename("segment").to_csv(f"{out}.labels.csv")
        result = {"segments": _segments(run.profiles, labels)}
    else:  # the tree's naming on segments fitted elsewhere (same customers, same as_of)
        from segml.cluster import profile_segments
        from segml.pipeline.run import build_run_features, model_matrix

        fs = build_run_features(cfg, data)
        _, frame = model_matrix(cfg, fs)
        given = pd.read_csv(labels_path, dtype={"customer_id": str}).set_index(
            "customer_id")["segment"]
        frame.index = frame.index.astype(str)
        common = frame.index.intersection(given.index)
        labels = given.loc[common]
        profiles = profile_segments(frame.loc[common], labels)
        result = {"segments": _segments(profiles, labels),
                  "not_in_this_frame": int(len(given) - len(common)),
                  "not_in_given": int(len(frame) - len(common))}
    result["seconds"] = round(time.perf_counter() - t, 1)
    result["segml"] = str(Path(segml.__file__).resolve().parent)
    Path(f"{out}.json").write_text(json.dumps(result, indent=1))


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------
def _call(tree: Path, mode: str, cfg: dict, out: Path, labels: Path | None = None) -> dict:
    cfg_path = out.with_suffix(".cfg.json")
    cfg_path.write_text(json.dumps(cfg))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", mode, str(cfg_path),
           str(out)] + ([str(labels)] if labels else [])
    env = {**os.environ, "PYTHONPATH": str(tree)}
    shared = REPO.parent / "shared" / "data"  # the old tree sits in /tmp: name the data folder
    if shared.is_dir():
        env.setdefault("SEGML_SHARED_DATA", str(shared))
    proc = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{mode} in {tree} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(Path(f"{out}.json").read_text())
    if Path(res["segml"]) != tree / "segml":
        raise SystemExit(f"{tree}: imported segml from {res['segml']}, not this tree")
    return res


def _jaccard(after: Path, before: Path) -> dict[int, tuple[int, float]]:
    import pandas as pd

    a = pd.read_csv(after, dtype={"customer_id": str}).set_index("customer_id")["segment"]
    b = pd.read_csv(before, dtype={"customer_id": str}).set_index("customer_id")["segment"]
    best = {}
    for sa in sorted(a.unique()):
        ia = set(a.index[a == sa])
        scores = {int(sb): len(ia & set(b.index[b == sb])) / len(ia | set(b.index[b == sb]))
                  for sb in b.unique()}
        sb = max(scores, key=lambda s: (scores[s], -s))
        best[int(sa)] = (sb, scores[sb])
    return best


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


def compare(name: str, k: int, before_tree: Path, tmp: Path) -> str:
    """Run both trees on one data set; return its Markdown section."""
    cfg = _config(name, k, str(tmp))
    t = time.perf_counter()
    if name == "demo":  # both trees read the same files (the generator changed in between)
        gen = _call(REPO, "demo", cfg, tmp / "demo-gen")
        folder = cfg.pop("demo")["folder"]
        cfg["data"] = {"transactions": f"{folder}/transactions.parquet",
                       "customers": f"{folder}/customers.parquet"}
        cfg["features"] = {"as_of": gen["as_of"]}
    after = _call(REPO, "fit", cfg, tmp / f"{name}-after")
    old_same = _call(before_tree, "name", cfg, tmp / f"{name}-oldnames",
                     tmp / f"{name}-after.labels.csv")
    before = _call(before_tree, "fit", cfg, tmp / f"{name}-before")
    match = _jaccard(tmp / f"{name}-after.labels.csv", tmp / f"{name}-before.labels.csv")
    old_by_id = {s["id"]: s for s in old_same["segments"]}
    before_by_id = {s["id"]: s for s in before["segments"]}
    lines = [f"### {name}, k = {k} (forced, k-means)", "",
             f"After: {sum(s['n'] for s in after['segments']):,} customers in segments. "
             f"The old naming on the same segments profiled "
             f"{sum(s['n'] for s in old_same['segments']):,} of them "
             f"({old_same['not_in_this_frame']:,} not in the old tree's feature frame). "
             f"Wall time of both trees: {time.perf_counter() - t:.0f} s.", "",
             "| seg | customers | revenue share | name now (role) | old naming, same segments "
             "(role) | old run: best-matching segment (Jaccard) |",
             "|---|---|---|---|---|---|"]
    for s in sorted(after["segments"], key=lambda s: -(s["revenue_share"] or 0)):
        o = old_by_id.get(s["id"], {})
        sb, jac = match[s["id"]]
        b = before_by_id[sb]
        lines.append(
            f"| {s['id']} | {s['n']:,} | {_pct(s['revenue_share'])} | {s['name']} "
            f"({s['role']}) | {o.get('name', '(not profiled)')} ({o.get('role', '')}) | "
            f"{b['name']} ({b['role']}; {b['n']:,} customers, {_pct(b['revenue_share'])} of "
            f"revenue) — {jac:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", nargs="+")
    ap.add_argument("--datasets", default="demo,cdnow")
    ap.add_argument("--k-demo", type=int, default=5)
    ap.add_argument("--k-cdnow", type=int, default=6)
    ap.add_argument("--before", default=BEFORE)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "names_before_after.md"))
    args = ap.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    ks = {"demo": args.k_demo, "cdnow": args.k_cdnow}
    with tempfile.TemporaryDirectory(prefix="segml-names-") as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree),
                        args.before], check=True, capture_output=True)
        try:
            parts = [f"Before = `{args.before}`, after = the tree of this script "
                     f"(`{_head()}`).\n"]
            for name in args.datasets.split(","):
                parts.append(compare(name, ks[name], tree, Path(tmp)))
                print(parts[-1], flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                            str(tree)], check=False)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _head() -> str:
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())

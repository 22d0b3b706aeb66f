"""Issue 15: a dip-test separation rule for k, read on the cached k_rules sweeps.

``ps_largest`` (:func:`k_rules.choose_k`: the largest reproducible k, kept when Gap(k) > Gap(1))
says k = 3 on the BG/NBD x Gamma-Gamma null, where k-means splits the point masses of one
transactional population (one-time buyers, buyers with exactly two purchases): reproducible,
but not structure. This script asks whether the clusters of a reproducible k are *separated*
in the sense of dip-means (Kalogeratos & Likas 2012) and projected-unimodality merge tests:

- the k-means fit at k is the sweep's ARI fit (``KMeans(k, n_init=10, random_state=seed)``);
- **pairs**: every cluster with the cluster of its **nearest centre** (the pairs deduplicated;
  at most k). The nearest neighbour is the pair most likely to be one mode cut in two, and it
  needs no Voronoi-adjacency computation in 44-54 dimensions. (Touching Voronoi cells were
  not used.);
- the union of the two clusters is projected onto the line joining their centres and
  Hartigan's dip test (package ``diptest``, 0.12.0) tests unimodality;
- k is **separated** when every pair rejects unimodality at alpha = 0.05. Every pair must
  reject for k to count, so this is an intersection-union test: each pair is tested at
  alpha and no multiplicity correction is needed (Berger 1982).

Calibration. With thousands of points any slight bimodality, and any discrete column, gives
p ~ 0, so the p-value is never read at the pair's full size:

- **p** (a): the median, over 5 random subsamples of 1,000 points of the pair's union (all
  points when fewer), of the dip test's tabulated p-value; separated when < 0.05;
- **stat** (b): the dip of the **whole** pair (no subsampling noise) read against the 0.05
  critical value at n' = min(pair size, 1,000) (0.0169 at 1,000, from ``diptest``'s table):
  the dip must be significant at the pair's own size and at least as large as 1,000 points
  would need, so a pair of 10,000 points does not reject for a tiny dip;
- **_j** (c), with either: before projecting, every column with a point mass (its mode holds
  >= 5% of the rows, the threshold ``null_reference.point_mass_values`` uses) and >= 3
  distinct values gets **cell jitter**: each value is spread uniformly over the interval
  between the midpoints to its neighbouring distinct values (the end values symmetrically),
  so a count column becomes its histogram density. A count with decreasing frequencies is then
  unimodal; without it, two adjacent count values are two "modes". Binary columns are left
  alone (jittering a 0/1 flag over its one gap would make it uniform).

Rules (all read from the sweep's table; 1 = "no clear segments"): ``dip_<variant>`` = the
largest k that ``ps_largest`` would accept (reproducible: prediction strength >= 0.8, every
segment's bootstrap Jaccard >= 0.75, no segment under the floor; and Gap(k) > Gap(1)) whose
pairs are all separated under ``<variant>`` in {p, p_j, stat, stat_j}; 1 when none. Chosen
before any run as the main one: ``dip_stat_j`` (deterministic, size-free, jitter for the
point masses the rule is meant to catch); the others are reported as sensitivity.
Variant ``gate2_<variant>``: ``ps_largest``'s k when the k = 2 fit is separated, else 1 (a
one-test "is there more than one mode at all" gate).

Usage (``PYTHONPATH`` = the worktree and the folder ``diptest`` is installed in, e.g.
``pip install --target /tmp/diplib diptest==0.12.0``)::

    python bench/dip_rule.py run --cache /tmp/pmass-cache --out /tmp/dip-out
    python bench/dip_rule.py run --cache /tmp/p20k-cache --out /tmp/dip-out
    python bench/dip_rule.py table --out /tmp/dip-out

``run`` writes one JSON per case (``dip_<case>_<size>_<planted>_<seed>.json``, skipped when
present) next to nothing else; the caches are only read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import k_rules  # noqa: E402

from segml.cluster.separation import nearest_pairs  # noqa: E402  (the product's pairs)

#: the rejection level of every pair's dip test
ALPHA = 0.05
#: points per subsample (variant p) and the size at which the dip threshold is read (stat)
SUBSAMPLE = 1000
#: subsamples per pair (variant p; the median p-value is used)
N_SUB = 5
#: a column's mode must hold this share of the rows for it to count as a point mass
MODE_SHARE = 0.05
VARIANTS = ("p", "p_j", "stat", "stat_j")
MAIN = "stat_j"


def dip_critical(n: int, alpha: float = ALPHA) -> float:
    """The dip statistic whose tabulated p-value at sample size ``n`` is ``alpha``.

    Parameters
    ----------
    n : int
        Sample size (>= 4).
    alpha : float
        The p-value.

    Returns
    -------
    float
        Found by bisection on ``diptest``'s interpolated p-value (decreasing in the dip).
    """
    from diptest.consts import Consts

    lo, hi = 0.0, 0.5
    for _ in range(60):
        mid = (lo + hi) / 2
        if Consts.compute_pval_interpolation(int(n), mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def cell_jitter(X: np.ndarray, rng: np.random.Generator, *,
                mode_share: float = MODE_SHARE) -> np.ndarray:
    """Spread each point-mass column's values uniformly over their cells (see module doc).

    Parameters
    ----------
    X : numpy.ndarray
        (n, p) matrix; not modified.
    rng : numpy.random.Generator
    mode_share : float
        A column is jittered when its most frequent value holds at least this share of the
        rows and it has at least 3 distinct values.

    Returns
    -------
    numpy.ndarray
        A copy; each jittered value ``v`` is uniform on ``[v - left/2, v + right/2]`` with
        ``left`` / ``right`` the gaps to the neighbouring distinct values (an end value uses
        its one gap on both sides).
    """
    X = np.array(X, dtype=np.float64, copy=True)
    for j in range(X.shape[1]):
        vals, inv, counts = np.unique(X[:, j], return_inverse=True, return_counts=True)
        if vals.size < 3 or counts.max() < mode_share * X.shape[0]:
            continue
        gaps = np.diff(vals)
        left = np.r_[gaps[0], gaps]
        right = np.r_[gaps, gaps[-1]]
        u = rng.uniform(size=X.shape[0])
        X[:, j] = vals[inv] - left[inv] / 2 + u * (left[inv] + right[inv]) / 2
    return X


def pair_dip(X: np.ndarray, labels: np.ndarray, centres: np.ndarray, a: int, b: int,
             rng: np.random.Generator, *, subsample: int = SUBSAMPLE,
             n_sub: int = N_SUB) -> dict[str, float]:
    """Dip test of clusters ``a`` and ``b`` projected onto the line joining their centres.

    Parameters
    ----------
    X : numpy.ndarray
        The (possibly jittered) matrix the points are projected from.
    labels, centres : numpy.ndarray
        The k-means fit (labels and centres from the unjittered matrix).
    a, b : int
        The two clusters.
    rng : numpy.random.Generator
        Draws the subsamples.
    subsample, n_sub : int
        Subsample size and count for the p-value.

    Returns
    -------
    dict
        ``n`` (pair size), ``dip`` (whole pair), ``p_stat`` (the whole pair's dip read at
        min(n, ``subsample``)), ``p_sub`` (median p over the subsamples).
    """
    import diptest
    from diptest.consts import Consts

    direction = centres[b] - centres[a]
    x = X[(labels == a) | (labels == b)] @ (direction / np.linalg.norm(direction))
    n = int(x.size)
    dip = float(diptest.dipstat(x))
    p_stat = float(Consts.compute_pval_interpolation(min(n, subsample), dip))
    if n <= subsample:
        p_sub = float(diptest.diptest(x)[1])
    else:
        p_sub = float(np.median([diptest.diptest(rng.choice(x, subsample, replace=False))[1]
                                 for _ in range(n_sub)]))
    return {"n": n, "dip": dip, "p_stat": p_stat, "p_sub": p_sub}


def separation(X: np.ndarray, labels: np.ndarray, centres: np.ndarray, *, seed: int = 0,
               ) -> dict[str, Any]:
    """Every nearest-centre pair's dip test, without and with cell jitter.

    Parameters
    ----------
    X : numpy.ndarray
        The matrix that was clustered.
    labels, centres : numpy.ndarray
        A k-means fit of ``X``.
    seed : int
        Seeds the jitter and the subsamples.

    Returns
    -------
    dict
        ``pairs`` (list of ``[a, b]``), ``raw`` and ``jitter`` (one :func:`pair_dip` dict per
        pair) and ``separated`` (variant -> bool: every pair rejects at :data:`ALPHA`).
    """
    rng = np.random.default_rng(seed)
    pairs = nearest_pairs(np.asarray(centres))
    Xj = cell_jitter(X, rng)
    out: dict[str, Any] = {"pairs": [list(p) for p in pairs], "raw": [], "jitter": []}
    for a, b in pairs:
        out["raw"].append(pair_dip(X, labels, centres, a, b, rng))
        out["jitter"].append(pair_dip(Xj, labels, centres, a, b, rng))
    out["separated"] = {
        v: all(r["p_sub" if v.startswith("p") else "p_stat"] < ALPHA
               for r in out["jitter" if v.endswith("_j") else "raw"])
        for v in VARIANTS}
    return out


def candidate_ks(tab: pd.DataFrame) -> list[int]:
    """The k >= 2 that ``ps_largest`` may pick: reproducible and Gap(k) > Gap(1).

    Parameters
    ----------
    tab : pandas.DataFrame
        A k_rules sweep table.

    Returns
    -------
    list of int
        Ascending.
    """
    g = tab.set_index(tab["k"].astype(int))["gap"]
    return [k for k in k_rules.reproducible_ks(tab) if k >= 2 and g[k] > g[1]]


def pick(tab: pd.DataFrame, seps: dict[int, dict[str, Any]], rule: str) -> int:
    """The k a dip rule picks (see the module docstring; 1 = "no clear segments").

    Parameters
    ----------
    tab : pandas.DataFrame
        The sweep's table.
    seps : dict
        k -> :func:`separation` result, for k = 2 and every k of :func:`candidate_ks`.
    rule : str
        ``"dip_<variant>"`` or ``"gate2_<variant>"``, variant of :data:`VARIANTS`.

    Returns
    -------
    int
    """
    kind, _, variant = rule.partition("_")
    if variant not in VARIANTS or kind not in ("dip", "gate2"):
        raise ValueError(f"rule={rule!r} should be dip_<v> or gate2_<v>, v in {VARIANTS}")
    if kind == "gate2":
        k = k_rules.choose_k(tab, "ps_largest")
        return k if k >= 2 and seps[2]["separated"][variant] else 1
    ok = [k for k in candidate_ks(tab) if seps[k]["separated"][variant]]
    return max(ok) if ok else 1


RULES = ("ps_largest", *(f"dip_{v}" for v in VARIANTS), *(f"gate2_{v}" for v in VARIANTS))


def run_case(sweep_path: Path, out_dir: Path) -> dict[str, Any]:
    """Fit k = 2 and every candidate k of one cached sweep, test separation, write the JSON."""
    from sklearn.cluster import KMeans

    r = json.loads(sweep_path.read_text())
    name = sweep_path.name.replace("sweep_", "dip_")
    out = out_dir / name
    if out.exists():
        return json.loads(out.read_text())
    X = np.load(sweep_path.parent / sweep_path.name.replace("sweep_", "X_").replace(
        ".json", ".npz"), allow_pickle=False)["X"]
    tab = pd.DataFrame(r["table"])
    t0 = time.process_time()
    seps: dict[int, dict[str, Any]] = {}
    for k in sorted({2, *candidate_ks(tab)}):
        km = KMeans(k, n_init=10, random_state=r["seed"]).fit(X)
        seps[k] = separation(X, km.labels_, km.cluster_centers_, seed=1000 * r["seed"] + k)
    res = {key: r[key] for key in ("case", "size", "planted", "seed", "n", "p", "ari")}
    res["candidate_ks"] = candidate_ks(tab)
    res["seps"] = {str(k): v for k, v in seps.items()}
    res["k"] = {rule: (k_rules.choose_k(tab, rule) if rule == "ps_largest"
                       else pick(tab, seps, rule)) for rule in RULES}
    res["cpu_s"] = round(time.process_time() - t0, 2)
    res["load"] = open("/proc/loadavg").read().split()[:3]
    out_dir.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res))
    return res


def truth_k(r: dict[str, Any]) -> int:
    """The right answer: 1 on nulls and one planted profile, else the planted k (Mall: 5)."""
    return 1 if r["case"] in k_rules.NULL_CASES or r["planted"] == 1 else int(r["planted"])


def _ari(r: dict[str, Any], k: int) -> str:
    if truth_k(r) == 1 or not r["ari"]:
        return "n/a"
    return "0.000" if k < 2 else f"{r['ari'][str(k)]:.3f}"


def _worst(sep: dict[str, Any] | None, key: str, jit: bool) -> str:
    if sep is None:
        return "-"
    rows = sep["jitter" if jit else "raw"]
    if key == "dip":
        return f"{min(x['dip'] for x in rows):.4f}"
    return f"{max(x[key] for x in rows):.3f}"


def case_table(results: list[dict[str, Any]]) -> str:
    """Markdown, one row per case: k per rule, ARI of the main pick, worst-pair dip and p."""
    head = ("| case | size | planted | seed | k: ps_largest / dip_p / dip_p_j / dip_stat / "
            "dip_stat_j | k: gate2 p / p_j / stat / stat_j | ARI: ps_largest / dip_stat_j "
            "| k = 2: dip, p_stat, p_sub (raw) | k = 2: dip, p_stat, p_sub (jitter) "
            "| at dip_stat_j's k: dip, p_stat (jitter) | at ps_largest's k: dip, p_stat (jitter) |")
    lines = [head, "|---|---:|---:|---:|---|---|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: (r["case"], r["size"], r["planted"], r["seed"])):
        k = r["k"]
        s2 = r["seps"].get("2")
        km = r["seps"].get(str(k[f"dip_{MAIN}"]))
        kp = r["seps"].get(str(k["ps_largest"]))
        lines.append(
            f"| {r['case']} | {r['size'] or r['n']:,} | {r['planted']} | {r['seed']} | "
            f"{k['ps_largest']} / {k['dip_p']} / {k['dip_p_j']} / {k['dip_stat']} / "
            f"{k['dip_stat_j']} | {k['gate2_p']} / {k['gate2_p_j']} / {k['gate2_stat']} / "
            f"{k['gate2_stat_j']} | {_ari(r, k['ps_largest'])} / {_ari(r, k['dip_stat_j'])} | "
            f"{_worst(s2, 'dip', False)}, {_worst(s2, 'p_stat', False)}, "
            f"{_worst(s2, 'p_sub', False)} | {_worst(s2, 'dip', True)}, "
            f"{_worst(s2, 'p_stat', True)}, {_worst(s2, 'p_sub', True)} | "
            f"{_worst(km, 'dip', True)}, {_worst(km, 'p_stat', True)} | "
            f"{_worst(kp, 'dip', True)}, {_worst(kp, 'p_stat', True)} |")
    return "\n".join(lines)


def summary(results: list[dict[str, Any]]) -> str:
    """Markdown, rule x case group: k per seed and how many are right."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["case"], r["size"] or r["n"], r["planted"]), []).append(r)
    lines = ["| rule | case | size | planted | k per seed | right |",
             "|---|---|---:|---:|---|---:|"]
    for rule in RULES:
        for (case, size, planted), rs in sorted(groups.items()):
            rs = sorted(rs, key=lambda r: r["seed"])
            ks = [r["k"][rule] for r in rs]
            right = sum(k == truth_k(r) for k, r in zip(ks, rs, strict=True))
            lines.append(f"| {rule} | {case} | {size:,} | {planted} | "
                         f"{' '.join(map(str, ks))} | {right}/{len(ks)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["run", "table"])
    ap.add_argument("--cache", type=Path, action="append", default=[],
                    help="a k_rules cache folder (sweep_*.json and X_*.npz); repeatable")
    ap.add_argument("--only", default="", help="run only sweeps whose name contains this")
    ap.add_argument("--out", type=Path, required=True, help="folder of the per-case JSONs")
    args = ap.parse_args(argv)
    if args.what == "run":
        for cache in args.cache:
            for path in sorted(cache.glob("sweep_*.json")):
                if args.only and args.only not in path.name:
                    continue
                r = run_case(path, args.out)
                print(path.name, r["k"], r["cpu_s"], r["load"], flush=True)
        return 0
    results = [json.loads(p.read_text()) for p in sorted(args.out.glob("dip_*.json"))]
    print(summary(results))
    print()
    print(case_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

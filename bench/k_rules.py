"""Issue 15: k rules compared on null and planted data, from one sweep per case.

For every case the slow parts run once and are cached under ``--cache``:

1. the model matrix (planted portfolios: ``make_portfolio(size, n_segments=planted,
   random_state=seed)`` through the default pipeline's ``build_run_features`` and
   ``model_matrix``, as ``bench/planted_k.py`` does; nulls: the generators of
   ``tests/cluster/test_no_structure.py``; Mall: income x spending score, standardised);
2. one k-means ``select_k`` sweep (``rule="gap"``, k = 1..10, the default config's filters) whose
   table holds, per k, the gap statistic and its ``s``, prediction strength and the worst
   segment's bootstrap Jaccard;
3. the ARI against the planted truth of one k-means fit (``n_init=10``) at every k.

Each rule is then a function of the cached table (:func:`segml.cluster.recommend.choose_k`), so
the comparison costs nothing once the sweeps are cached.

Usage::

    python bench/k_rules.py sweep --cases planted --sizes 3000 --planted 1,3,5,8 --seeds 6
    python bench/k_rules.py sweep --cases nulls --seeds 3
    python bench/k_rules.py table
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

ROOT = Path(__file__).resolve().parent.parent
#: where matrices and sweeps are cached (``--cache``); the code's features change the matrices,
#: so use a new folder after a feature-space change (stop 27: the firmographic weight)
CACHE = ROOT / "bench" / ".data" / "k_rules"
NULL_CASES = ("gaussian_blob", "uniform_box", "lognormal_rfm", "bgnbd_population")
#: the tests' fast sweep settings (tests/cluster/test_no_structure.py)
FAST = dict(n_stability=5, n_references=5, n_splits=3, sample_silhouette_size=500,
            n_bootstrap=20)


#: the k rules compared (besides ``"current"``, the default ``"gap"`` rule's own pick)
K_RULES = ("tibs", "ps_largest", "ps_strict")
#: Tibshirani & Walther's upper threshold (0.8-0.9) and Hennig's "highly stable" Jaccard
STRICT = dict(ps_threshold=0.9, min_jaccard=0.85)


def reproducible_ks(tab: pd.DataFrame, *, ps_threshold: float = 0.8,
                    min_jaccard: float = 0.75) -> list[int]:
    """The k of a sweep's table that pass the ``"gap"`` rule's reproducibility filters.

    Parameters
    ----------
    tab : pandas.DataFrame
        One row per k: ``k``, ``prediction_strength``, ``too_small`` and (when stability was
        computed) ``stability_jaccard_min``.
    ps_threshold, min_jaccard : float

    Returns
    -------
    list of int
        1, then every k >= 2 with prediction strength >= ``ps_threshold``, no segment too small
        and every segment's Jaccard >= ``min_jaccard``.
    """
    out = []
    for _, row in tab.sort_values("k").iterrows():
        k = int(row["k"])
        if k == 1:
            out.append(1)
            continue
        if not row["prediction_strength"] >= ps_threshold or bool(row.get("too_small", False)):
            continue
        jac = row.get("stability_jaccard_min")
        if jac is not None and pd.notna(jac) and not jac >= min_jaccard:
            continue
        out.append(k)
    return out


def choose_k(tab: pd.DataFrame, rule: str) -> int:
    """The k a rule of :data:`K_RULES` picks from a sweep's table (1: "no clear segments").

    ``"tibs"`` (a): the smallest k with ``Gap(k) >= Gap(k+1) - s(k+1)`` (Tibshirani, Walther &
    Hastie 2001; the largest k when none), kept only when it is reproducible (prediction
    strength >= 0.8, Jaccard >= 0.75, no segment too small). ``"ps_largest"`` (b): the largest
    reproducible k (Tibshirani & Walther 2005 select with prediction strength), kept only when
    ``Gap(k) > Gap(1)``. ``"ps_strict"`` (c): (b) at the upper ends of the published thresholds
    (prediction strength >= 0.9, Jaccard >= 0.85) and with ``Gap(k) > Gap(1) + 2 s(k)``.
    """
    tab = tab.reset_index(drop=True).sort_values("k")
    tab.index = tab["k"].astype(int).to_numpy()
    g, s = tab["gap"], tab["gap_s"]
    if rule == "tibs":
        rep = reproducible_ks(tab)
        ks = [int(k) for k in tab.index]
        pick = ks[-1]
        for a, b in zip(ks[:-1], ks[1:], strict=True):
            if g[a] >= g[b] - s[b]:
                pick = a
                break
        return pick if pick in rep else 1
    if rule in ("ps_largest", "ps_strict"):
        strict = rule == "ps_strict"
        k = max(reproducible_ks(tab, **(STRICT if strict else {})))
        z = 2.0 if strict else 0.0
        return k if k >= 2 and g[k] > g[1] + z * s[k] else 1
    raise ValueError(f"rule={rule!r} should be one of {K_RULES}")


def _matrix(case: str, size: int, planted: int, seed: int) -> tuple[np.ndarray, Any]:
    path = CACHE / f"X_{case}_{size}_{planted}_{seed}.npz"
    if path.exists():
        d = np.load(path, allow_pickle=False)
        return d["X"], (d["truth"] if "truth" in d.files else None)
    CACHE.mkdir(parents=True, exist_ok=True)
    truth = None
    if case == "planted":
        from segml.config import validate_config
        from segml.datasets import make_portfolio
        from segml.pipeline import LoadedData, build_run_features, model_matrix

        pf = make_portfolio(size, n_segments=planted, random_state=seed)
        cfg = validate_config({"features": {"as_of": pf.as_of.date().isoformat()},
                               "segmentation": {"random_state": seed}})
        data = LoadedData(name="planted", transactions=pf.transactions,
                          customers=pf.customers, truth=pf.truth, default_as_of=pf.as_of)
        fs = build_run_features(cfg, data)
        X, frame = model_matrix(cfg, fs)
        Z = np.asarray(X, dtype=np.float64)
        truth = pd.factorize(pf.truth.reindex(frame.index))[0]
    elif case == "mall":
        from sklearn.preprocessing import StandardScaler

        from segml.io.loaders import load_mall_customers

        ds = load_mall_customers(Path("/work/shared/data/Mall_Customers.csv"))
        income = ds.customers.set_index("customer_id")["income"].loc[ds.features.index]
        Z = StandardScaler().fit_transform(
            np.column_stack([income, ds.features["spending_score"]]))
    else:
        sys.path.insert(0, str(ROOT / "tests" / "cluster"))
        import test_no_structure as nulls

        Z = getattr(nulls, case)(seed=seed)
    np.savez(path, X=Z, **({} if truth is None else {"truth": truth}))
    return Z, truth


def case_matrix(case: str, size: int, planted: int, seed: int) -> tuple[np.ndarray, Any]:
    """The (cached) matrix a sweep clusters, and the planted truth's codes (None without one).

    Parameters
    ----------
    case : str
        ``"planted"``, ``"mall"`` or a name of :data:`NULL_CASES`.
    size, planted, seed : int
        As in :func:`sweep` (nulls: size 0, planted 1).

    Returns
    -------
    tuple of numpy.ndarray and (numpy.ndarray or None)
    """
    return _matrix(case, size, planted, seed)


def sweep(case: str, size: int, planted: int, seed: int) -> dict[str, Any]:
    """One cached k-means ``select_k`` sweep and the ARI at every k (see the module docstring)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from segml.cluster import select_k

    out = CACHE / f"sweep_{case}_{size}_{planted}_{seed}.json"
    if out.exists():
        return json.loads(out.read_text())
    t0 = time.perf_counter()
    Z, truth = _matrix(case, size, planted, seed)
    t_matrix = time.perf_counter() - t0
    t0 = time.perf_counter()
    kw: dict[str, Any] = dict(n_bootstrap=20, sample_silhouette_size=500)
    if case in NULL_CASES:
        kw = dict(FAST)
    elif case == "mall":
        kw = {**FAST, "n_references": 10, "n_stability": 10}
    else:
        kw["min_segment_share"] = 0.03  # the default config's
    sel = select_k(Z, algorithms=["kmeans"], rule="gap", progress=False, random_state=seed,
                   **kw)
    t_sweep = time.perf_counter() - t0
    cols = ["k", "gap", "gap_s", "prediction_strength", "stability_jaccard_min", "too_small",
            "min_segment_share"]
    tab = sel.table[[c for c in cols if c in sel.table]]
    ari: dict[int, float] = {}
    if truth is not None:
        for k in range(2, 11):
            lab = KMeans(k, n_init=10, random_state=seed).fit_predict(Z)
            ari[k] = round(float(adjusted_rand_score(truth, lab)), 4)
    res = {
        "case": case, "size": size, "planted": planted, "seed": seed, "n": int(Z.shape[0]),
        "p": int(Z.shape[1]), "settings": {k: v for k, v in kw.items()},
        "table": json.loads(tab.to_json(orient="records")),
        "current_k": int(sel.recommended["k"]), "current_verdict": sel.verdict,
        "ari": ari, "seconds": {"matrix": round(t_matrix, 1), "sweep": round(t_sweep, 1)},
        "load": open("/proc/loadavg").read().split()[:3],
    }
    out.write_text(json.dumps(res))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["sweep", "table"])
    ap.add_argument("--cases", default="planted", help="planted | nulls | mall")
    ap.add_argument("--sizes", default="3000")
    ap.add_argument("--planted", default="1,3,5,8")
    ap.add_argument("--seeds", default="6", help="a count (6 = 0..5) or a list ('0,3,')")
    ap.add_argument("--cache", type=Path, default=None,
                    help="cache folder (default bench/.data/k_rules; a new one after a feature "
                         "change)")
    args = ap.parse_args(argv)
    global CACHE
    CACHE = args.cache or CACHE
    seeds = ([int(s) for s in args.seeds.split(",") if s.strip()] if "," in args.seeds
             else list(range(int(args.seeds))))
    if args.what == "sweep":
        if args.cases == "planted":
            todo = [("planted", int(s), int(p), seed) for s in args.sizes.split(",")
                    for seed in seeds for p in args.planted.split(",")]
        elif args.cases == "nulls":
            todo = [(c, 0, 1, seed) for seed in seeds for c in NULL_CASES]
        else:
            todo = [("mall", 200, 5, seed) for seed in seeds]
        for case in todo:
            r = sweep(*case)
            print(case, "current k", r["current_k"], r["seconds"], r["load"], flush=True)
        return 0
    print(table())
    print()
    print(diagnostics())
    return 0


def load_sweeps(cache: Path | None = None) -> list[dict[str, Any]]:
    """Every cached sweep under ``cache`` (default :data:`CACHE`)."""
    return [json.loads(p.read_text()) for p in sorted((cache or CACHE).glob("sweep_*.json"))]


def table(cache: Path | None = None) -> str:
    """Markdown: rule x case (x size x planted), k per seed, right count, ARI of the pick.

    "right" is k = 1 on nulls (one planted profile included) and the planted k otherwise; the
    ARI of a k = 1 pick is 0 (one group), so the mean shows what "no clear segments" costs.
    """
    runs = load_sweeps(cache)
    lines = ["| rule | case | size | planted | k per seed | right | ARI of pick mean / min |",
             "|---|---|---:|---:|---|---:|---|"]
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["case"], r["size"], r["planted"]), []).append(r)
    for rule in ("current", *K_RULES):
        for (case, size, planted), rs in sorted(groups.items()):
            rs = sorted(rs, key=lambda r: r["seed"])
            truth_k = 1 if case in NULL_CASES or planted == 1 else planted
            ks = []
            aris = []
            for r in rs:
                tab = pd.DataFrame(r["table"])
                k = r["current_k"] if rule == "current" else choose_k(tab, rule)
                ks.append(k)
                if r["ari"] and truth_k > 1:
                    aris.append(r["ari"][str(k)] if k >= 2 else 0.0)
            right = sum(k == truth_k for k in ks)
            ari = (f"{np.mean(aris):.3f} / {np.min(aris):.3f}" if aris else "n/a")
            shown = size or rs[0].get("n", 0)  # the nulls' rows (size 0 in the cache key)
            lines.append(f"| {rule} | {case} | {shown:,} | {planted} | "
                         f"{' '.join(map(str, ks))} | {right}/{len(ks)} | {ari} |")
    return "\n".join(lines)


def diagnostics(cache: Path | None = None) -> str:
    """Markdown: per case and seed, the reproducible k, the gap's peak and the ARI per k."""
    lines = ["| case | size | planted | seed | n x p | reproducible k (0.8 / 0.75) | gap peak k "
             "| ARI at k = 2..10 | load at end |",
             "|---|---:|---:|---:|---|---|---:|---|---|"]
    for r in sorted(load_sweeps(cache), key=lambda r: (r["case"], r["size"], r["planted"],
                                                        r["seed"])):
        tab = pd.DataFrame(r["table"])
        rep = ",".join(map(str, reproducible_ks(tab)))
        peak = int(tab.loc[tab["gap"].idxmax(), "k"])
        ari = " ".join(f"{r['ari'][str(k)]:.2f}" for k in range(2, 11)) if r["ari"] else "n/a"
        if r["case"] == "planted" and r["planted"] == 1:
            ari = "n/a"
        lines.append(f"| {r['case']} | {r['size'] or r['n']:,} | {r['planted']} | {r['seed']} "
                     f"| {r['n']:,} x {r['p']} | {rep} | {peak} | {ari} "
                     f"| {' '.join(r.get('load', []))} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

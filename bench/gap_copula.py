"""Prototype (issue 15): the gap statistic against a one-population Gaussian-copula null.

The default ``"gap"`` rule compares ``log W_k`` with a PCA-aligned *uniform* reference. Real
segments have skewed, heavy-tailed behaviour inside them, so the gap against a uniform box keeps
rising to k_max and the reproducible planted k is "well short of the peak": every planted
portfolio gets "no clear segments". Here the null is instead **one population with the data's
own marginals and rank correlations** (SigClust's idea, Liu et al. 2008, with a Gaussian copula
in place of a Gaussian): draw a multivariate normal with the data's normal-scores correlation
and map each column through the data's empirical quantile function. Each reference column is a
permutation of the data's column, so ``W_1`` is identical and ``Gap(1) = 0`` exactly.

Rule tested (``copula_rule``): k >= 2 is *supported* when it is reproducible (the existing
prediction-strength / bootstrap-Jaccard / size filters of the ``"gap"`` rule) and its copula
gap exceeds ``z * s_k`` with ``z`` the one-sided Bonferroni quantile over the k >= 2 searched
(alpha 0.05); the recommendation is the smallest supported k within one ``s`` of the best
supported gap; no supported k: "no clear segments".

Outcome (bench/RESULTS.md, "a Gaussian-copula null for the gap statistic"): **not adopted**.
Right on the continuous nulls (Gaussian, uniform, lognormal: no signal at any k) and on
Mall (5), finds 3 planted segments, but says k = 3 "segments" on the BG/NBD x Gamma-Gamma null
in 3/3 seeds: one-time buyers sit on a sheet (frequency at its minimum, recency = T) that a
copula with the same marginals spreads out; the rank-normal Gaussian variant fails the same way.

Usage::

    python bench/gap_copula.py --cases null --seeds 0,1,2 --out /tmp/copula_null.json
    python bench/gap_copula.py --cases planted --seeds 0,1,2 --out /tmp/copula_planted.json
    python bench/gap_copula.py --cases real --out /tmp/copula_real.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
_SEED_MAX = np.iinfo(np.int32).max


def copula_reference(X: np.ndarray, rng: np.random.RandomState,
                     n_references: int = 1) -> Iterator[np.ndarray]:
    """Reference data sets from a Gaussian copula with ``X``'s empirical marginals.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
    rng : numpy.random.RandomState
    n_references : int, default=1

    Yields
    ------
    numpy.ndarray
        Arrays of ``X``'s shape; column j is a permutation of ``X[:, j]`` whose ranks follow a
        multivariate normal with ``X``'s normal-scores correlation matrix.
    """
    n, p = X.shape
    scores = norm.ppf(rankdata(X, axis=0) / (n + 1.0))
    sd = scores.std(axis=0)
    const = sd == 0
    scores[:, const] = 0.0
    sd[const] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):  # constant columns: correlation 0
        corr = np.corrcoef(scores, rowvar=False) if p > 1 else np.ones((1, 1))
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    w, v = np.linalg.eigh(corr)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    sorted_cols = np.sort(X, axis=0)
    cols = np.arange(p)
    for _ in range(int(n_references)):
        g = rng.standard_normal((n, p)) @ root.T
        ranks = np.argsort(np.argsort(g, axis=0, kind="stable"), axis=0, kind="stable")
        yield sorted_cols[ranks, cols]


def rank_normal_reference(X: np.ndarray, rng: np.random.RandomState,
                          n_references: int = 1) -> Iterator[np.ndarray]:
    """Variant: a Gaussian with ``X``'s covariance after a rank-normal transform of each column.

    The data is compared in the rank-normal space (see :func:`copula_gap`), so a monotone
    distortion of one population is not mistaken for structure.
    """
    mean = X.mean(axis=0)
    cov = np.cov(X, rowvar=False)
    w, v = np.linalg.eigh(np.atleast_2d(cov))
    root = v * np.sqrt(np.clip(w, 0.0, None))
    for _ in range(int(n_references)):
        yield rng.standard_normal(X.shape) @ root.T + mean


def _rank_normal(X: np.ndarray) -> np.ndarray:
    return norm.ppf(rankdata(X, axis=0) / (X.shape[0] + 1.0))


def _log_w(X: np.ndarray, k: int, n_init: int, seed: int) -> float:
    if k == 1:
        return float(np.log(((X - X.mean(axis=0)) ** 2).sum()))
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)
    return float(np.log(max(km.inertia_, np.finfo(float).tiny)))


def copula_gap(X: Any, k_max: int = 10, *, n_references: int = 10, n_init: int = 10,
               sample_size: int = 20_000, reference: str | Callable[..., Iterator[np.ndarray]]
               = "copula", random_state: int = 0) -> pd.DataFrame:
    """Gap curve of ``X`` against the copula (or rank-normal Gaussian) null, k = 1..k_max.

    ``reference`` may also be a callable with :func:`copula_reference`'s signature
    ``(X, rng, n_references)`` yielding reference arrays of ``X``'s shape (used by
    ``bench/null_reference.py``).
    """
    rng = np.random.RandomState(random_state)
    Z = np.asarray(X, dtype=np.float64)
    if Z.shape[0] > sample_size:
        Z = Z[np.sort(rng.choice(Z.shape[0], size=sample_size, replace=False))]
    if callable(reference):
        refs = reference(Z, rng, n_references)
    elif reference == "rank_normal":
        Z = _rank_normal(Z)
        refs = rank_normal_reference(Z, rng, n_references)
    else:
        refs = copula_reference(Z, rng, n_references)
    ks = list(range(1, k_max + 1))
    log_w = np.empty(len(ks))
    ref = np.empty((n_references, len(ks)))
    with threadpool_limits(limits=1):
        for j, k in enumerate(ks):
            log_w[j] = _log_w(Z, k, n_init, int(rng.randint(_SEED_MAX)))
        for b, R in enumerate(refs):
            for j, k in enumerate(ks):
                ref[b, j] = _log_w(R, k, n_init, int(rng.randint(_SEED_MAX)))
    sd = ref.std(axis=0)
    return pd.DataFrame({"log_w": log_w, "ref_log_w": ref.mean(axis=0),
                         "gap": ref.mean(axis=0) - log_w, "gap_sd": sd,
                         "gap_s": sd * np.sqrt(1.0 + 1.0 / n_references)},
                        index=pd.Index(ks, name="k"))


def copula_rule(gap: pd.DataFrame, reproducible: list[int], *, alpha: float = 0.05
                ) -> dict[str, Any]:
    """k >= 2 reproducible and gap > z s (Bonferroni over k >= 2); smallest within 1 s of best."""
    ks2 = [k for k in gap.index if k >= 2]
    z = float(norm.ppf(1.0 - alpha / max(len(ks2), 1)))
    g, s = gap["gap"], gap["gap_s"]
    signal = [int(k) for k in ks2 if g[k] > z * s[k]]
    supported = [k for k in signal if k in reproducible]
    if not supported:
        return {"k": 1, "verdict": "no clear segments", "z": z, "signal": signal,
                "supported": supported}
    best = max(supported, key=lambda k: g[k])
    k = min(c for c in supported if g[c] >= g[best] - s[best])
    return {"k": int(k), "verdict": "segments", "z": z, "signal": signal,
            "supported": supported, "best": int(best)}


def _tests_module():
    path = ROOT / "tests" / "cluster" / "test_no_structure.py"
    spec = importlib.util.spec_from_file_location("null_makers", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FAST = dict(n_stability=5, n_references=5, n_splits=3, sample_silhouette_size=500,
            n_bootstrap=20, progress=False)


def _score(name: str, seed: int, Z: np.ndarray, reproducible: list[int], old_k: int,
           args: argparse.Namespace, truth: np.ndarray | None = None,
           planted: int | None = None, extra: dict | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    out: dict[str, Any] = {"case": name, "seed": seed, "n": int(Z.shape[0]),
                           "p": int(Z.shape[1]), "old_k": old_k,
                           "reproducible": [int(k) for k in reproducible], **(extra or {})}
    for ref in args.references:
        gap = copula_gap(Z, 10, n_references=args.B, reference=ref, random_state=seed,
                         sample_size=args.sample_size)
        rule = copula_rule(gap, reproducible)
        out[ref] = {**rule, "gap": gap["gap"].round(4).tolist(),
                    "s": gap["gap_s"].round(4).tolist()}
        if truth is not None:
            for key, k in (("ari_chosen", rule["k"]), ("ari_planted_k", planted)):
                if k is not None and k >= 2:
                    lab = KMeans(k, n_init=10, random_state=seed).fit_predict(Z)
                    out[ref][key] = round(float(adjusted_rand_score(truth, lab)), 4)
                else:
                    out[ref][key] = 0.0 if k == 1 else None
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    return out


def null_cases(seed: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    from segml.cluster import select_k

    m = _tests_module()
    res = []
    for make in (m.gaussian_blob, m.uniform_box, m.lognormal_rfm, m.bgnbd_population):
        Z = make(seed=seed)
        sel = select_k(Z, random_state=seed, **FAST)
        res.append(_score(make.__name__, seed, Z, sel.recommended["reproducible"],
                          sel.recommended["k"], args))
        print(json.dumps(res[-1]), file=sys.stderr, flush=True)
    res.append(portfolio_case(3000, 1, seed, args))
    return res


def _pipeline(cfg: dict[str, Any], data: Any):
    from segml.pipeline import build_run_features, model_matrix, run_select_k

    fs = build_run_features(cfg, data)
    X, frame = model_matrix(cfg, fs)
    sel = run_select_k(cfg, X, fs, progress=False)
    return np.asarray(X, dtype=np.float64), frame, sel


def portfolio_case(size: int, planted: int, seed: int, args: argparse.Namespace
                   ) -> dict[str, Any]:
    from segml.config import validate_config
    from segml.datasets import make_portfolio
    from segml.pipeline import LoadedData

    pf = make_portfolio(size, n_segments=planted, random_state=seed)
    cfg = validate_config({"features": {"as_of": pf.as_of.date().isoformat()},
                           "segmentation": {"random_state": seed}})
    data = LoadedData(name="planted", transactions=pf.transactions, customers=pf.customers,
                      truth=pf.truth, default_as_of=pf.as_of)
    t0 = time.perf_counter()
    Z, frame, sel = _pipeline(cfg, data)
    sk = round(time.perf_counter() - t0, 1)
    truth = pf.truth.reindex(frame.index).to_numpy() if planted > 1 else None
    r = _score(f"portfolio_{planted}", seed, Z, sel.recommended["reproducible"],
               sel.recommended["k"], args, truth=truth, planted=planted if planted > 1 else None,
               extra={"select_k_seconds": sk})
    print(json.dumps(r), file=sys.stderr, flush=True)
    return r


def real_cases(args: argparse.Namespace) -> list[dict[str, Any]]:
    from segml.cluster import select_k
    from segml.config import validate_config
    from segml.io.loaders import load_mall_customers
    from segml.pipeline import load_data

    res = []
    shared = Path("/work/shared/data")
    ds = load_mall_customers(shared / "Mall_Customers.csv")
    income = ds.customers.set_index("customer_id")["income"].loc[ds.features.index]
    Z = StandardScaler().fit_transform(np.column_stack([income, ds.features["spending_score"]]))
    for seed in args.seeds:
        sel = select_k(Z, random_state=seed, **{**FAST, "n_references": 10, "n_stability": 10})
        res.append(_score("mall_income_score", seed, Z, sel.recommended["reproducible"],
                          sel.recommended["k"], args))
        print(json.dumps(res[-1]), file=sys.stderr, flush=True)
    if args.cdnow:
        cfg = validate_config({"data": {"loader": "cdnow"},
                               "features": {"as_of": "1998-06-30"},
                               "segmentation": {"random_state": 0, "algorithms": ["kmeans"],
                                                "n_stability": args.cdnow_stability}})
        data = load_data(cfg)
        t0 = time.perf_counter()
        Z, _, sel = _pipeline(cfg, data)
        r = _score("cdnow", 0, Z, sel.recommended["reproducible"], sel.recommended["k"], args,
                   extra={"select_k_seconds": round(time.perf_counter() - t0, 1)})
        res.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", choices=["null", "planted", "real"], required=True)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--planted", default="3,5,8")
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--B", type=int, default=10)
    ap.add_argument("--references", default="copula",
                    help="comma-separated: copula, rank_normal")
    ap.add_argument("--cdnow", action="store_true")
    ap.add_argument("--cdnow-stability", type=int, default=10,
                    help="bootstrap refits of the CDNOW sweep (k-means only there, for time)")
    ap.add_argument("--sample-size", type=int, default=20_000,
                    help="rows the copula gap is computed on at most (uniform sample)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    args.references = args.references.split(",")
    runs: list[dict[str, Any]] = []
    meta = {"loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "argv": argv or sys.argv}
    if args.cases == "real":
        runs = real_cases(args)
    else:
        for seed in args.seeds:
            if args.cases == "null":
                runs.extend(null_cases(seed, args))
            else:
                for planted in [int(p) for p in args.planted.split(",")]:
                    runs.append(portfolio_case(args.size, planted, seed, args))
            args.out.write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    meta["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    args.out.write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    for r in runs:
        line = {ref: (r[ref]["k"], r[ref].get("ari_chosen")) for ref in args.references}
        print(r["case"], r["seed"], "old", r["old_k"], "repro", r["reproducible"], line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

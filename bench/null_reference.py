"""Issue 15: one-population null references that keep the data's point-mass patterns.

The Gaussian-copula null of ``bench/gap_copula.py`` keeps every column's marginal and the rank
correlations, but spreads out point masses: on the BG/NBD x Gamma-Gamma null 60% of the
customers bought once (frequency at its minimum, recency = T), a lower-dimensional sheet that
k-means splits reproducibly and that the copula references do not have. Here the rows are first
grouped by their **point-mass pattern** (for each column whose mode holds >= 5% of the rows: is
the row at that mode?), patterns with fewer than 30 rows pooled into one group, and a reference
is drawn group by group, in the data's group sizes:

- ``hurdle``: a Gaussian-copula reference (:func:`gap_copula.copula_reference`) per group;
- ``perm``: every column permuted independently within each group (each group's marginals,
  no dependence inside a group).

In both, column j of a group's reference is a permutation of the data's column j in that group,
so a column at its point mass throughout a group stays there, the group sizes are the data's,
and ``W_1`` (hence ``Gap(1) = 0``) is the data's exactly.

Rule (:func:`largest_supported_rule`): k >= 2 is *supported* when it is reproducible (the
``"gap"`` rule's filters, :func:`k_rules.reproducible_ks` on the cached ``k_rules`` sweep) and
its gap against the reference exceeds ``z * s_k`` (one-sided Bonferroni over k = 2..10, alpha
0.05, :func:`gap_copula.copula_rule`); the recommendation is the **largest** supported k, the
variant the smallest supported k within one ``s`` of the best supported gap.

Usage::

    python bench/null_reference.py run --cases nulls --seeds 0,1,2
    python bench/null_reference.py run --cases planted --planted 1,3,5,8 --seeds 0,1,2
    python bench/null_reference.py run --cases mall --seeds 0,1,2
    python bench/null_reference.py run --cases nulls --seeds 3,4,5,6,7,8,9 \\
        --references hurdle,hurdle2 --out /tmp/null-reference-more
    python bench/null_reference.py table --references hurdle,perm,hurdle2
    python bench/null_reference.py diagnose --seeds 0,1,2,8

(``hurdle2``: the hurdle copula with ``depth=2`` pattern groups, see :func:`pattern_groups`.)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gap_copula  # noqa: E402
import k_rules  # noqa: E402

#: results folder; the k rules' sweeps (matrix, reproducibility table, ARI per k) are cached
#: under its ``sweeps``
OUT = Path("/tmp/null-reference")
SWEEPS = OUT / "sweeps"
REFERENCES = ("hurdle", "perm")


def _check_matrix(X: Any) -> np.ndarray:
    Z = np.asarray(X, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[0] < 1:
        raise ValueError(f"X should be a 2-D array with at least one row; got shape {Z.shape}.")
    if not np.isfinite(Z).all():
        raise ValueError("X should hold finite values only; it has NaN or infinite values.")
    return Z


def point_mass_values(X: Any, *, min_share: float = 0.05) -> dict[int, float]:
    """The columns whose most frequent value holds at least ``min_share`` of the rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite values; equal means exactly equal (no tolerance).
    min_share : float, default=0.05
        In (0, 1].

    Returns
    -------
    dict of int to float
        Column index -> its mode (the smallest of tied modes), for the point-mass columns only.

    Examples
    --------
    >>> point_mass_values([[0, 1.5], [0, 2.5], [1, 3.5]], min_share=0.5)
    {0: 0.0}
    """
    Z = _check_matrix(X)
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share={min_share!r} should be in (0, 1].")
    out: dict[int, float] = {}
    for j in range(Z.shape[1]):
        values, counts = np.unique(Z[:, j], return_counts=True)
        i = int(np.argmax(counts))
        if counts[i] >= min_share * Z.shape[0]:
            out[j] = float(values[i])
    return out


def pattern_groups(X: Any, *, min_share: float = 0.05, min_group_size: int = 30,
                   depth: int = 1) -> np.ndarray:
    """Group label per row: its point-mass pattern, small patterns pooled.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    min_share : float, default=0.05
        See :func:`point_mass_values`.
    min_group_size : int, default=30
        Patterns with fewer rows share one pooled group.
    depth : int, default=1
        Above 1, each group is split again by the point masses found within it (e.g. repeat
        buyers at two purchases), ``depth - 1`` times; the rows of a group's small patterns
        form a group of their own when they number ``min_group_size`` or more, else they join
        the group's largest part, so the coarser pattern is always kept.

    Returns
    -------
    numpy.ndarray of int, shape (n_samples,)
        0, 1, ... for the patterns with >= ``min_group_size`` rows (in the sorted order of the
        patterns, ``False`` before ``True`` column by column), -1 for the pooled rows. No
        point-mass column: every row in group 0.

    Examples
    --------
    >>> pattern_groups([[0, 1.0], [0, 2.0], [1, 3.0], [1, 4.0], [2, 5.0]],
    ...                min_share=0.4, min_group_size=2).tolist()
    [1, 1, 0, 0, 0]
    """
    Z = _check_matrix(X)
    if int(min_group_size) != min_group_size or min_group_size < 1:
        raise ValueError(f"min_group_size={min_group_size!r} should be an integer >= 1.")
    if int(depth) != depth or depth < 1:
        raise ValueError(f"depth={depth!r} should be an integer >= 1.")
    modes = point_mass_values(Z, min_share=min_share)
    if not modes:
        return np.zeros(Z.shape[0], dtype=int)
    cols = sorted(modes)
    pattern = Z[:, cols] == np.array([modes[j] for j in cols])
    uniq, inverse, counts = np.unique(pattern, axis=0, return_inverse=True, return_counts=True)
    big = counts >= min_group_size
    relabel = np.full(len(uniq), -1)
    relabel[big] = np.arange(int(big.sum()))
    labels = relabel[np.ravel(inverse)]
    for _ in range(int(depth) - 1):
        labels = _refine(Z, labels, min_share, int(min_group_size))
    return labels


def _refine(Z: np.ndarray, labels: np.ndarray, min_share: float,
            min_group_size: int) -> np.ndarray:
    out = np.full(len(labels), -1)
    nxt = 0
    for g in np.unique(labels[labels >= 0]):
        idx = np.flatnonzero(labels == g)
        sub = pattern_groups(Z[idx], min_share=min_share, min_group_size=min_group_size)
        small = sub < 0
        if 0 < small.sum() < min_group_size:
            sub[small] = np.argmax(np.bincount(sub[~small])) if (~small).any() else 0
        _, sub = np.unique(sub, return_inverse=True)
        out[idx] = nxt + np.ravel(sub)
        nxt += int(sub.max()) + 1
    return out


def _groups(X: np.ndarray, min_share: float, min_group_size: int,
            depth: int) -> list[np.ndarray]:
    labels = pattern_groups(X, min_share=min_share, min_group_size=min_group_size,
                            depth=depth)
    return [np.flatnonzero(labels == g) for g in np.unique(labels)]


def hurdle_copula_reference(X: Any, rng: np.random.RandomState, n_references: int = 1, *,
                            min_share: float = 0.05, min_group_size: int = 30,
                            depth: int = 1) -> Iterator[np.ndarray]:
    """Reference data sets: one Gaussian copula per point-mass pattern group.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    rng : numpy.random.RandomState
    n_references : int, default=1
    min_share, min_group_size, depth
        See :func:`pattern_groups`.

    Yields
    ------
    numpy.ndarray
        Arrays of ``X``'s shape; the rows of each group (same positions as in ``X``) are a
        :func:`gap_copula.copula_reference` draw on that group's rows, so column j within a
        group is a permutation of ``X``'s column j within it.
    """
    Z = _check_matrix(X)
    groups = _groups(Z, min_share, min_group_size, depth)
    # a one-row group (only the pooled one can be) is its own permutation; the copula's
    # correlation is undefined there
    draws = [gap_copula.copula_reference(Z[idx], rng, n_references) if len(idx) > 1 else None
             for idx in groups]
    for _ in range(int(n_references)):
        R = Z.copy()
        for idx, draw in zip(groups, draws, strict=True):
            if draw is not None:
                R[idx] = next(draw)
        yield R


def group_permutation_reference(X: Any, rng: np.random.RandomState, n_references: int = 1, *,
                                min_share: float = 0.05, min_group_size: int = 30,
                                depth: int = 1) -> Iterator[np.ndarray]:
    """Reference data sets: every column permuted independently within each pattern group.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    rng : numpy.random.RandomState
    n_references : int, default=1
    min_share, min_group_size, depth
        See :func:`pattern_groups`.

    Yields
    ------
    numpy.ndarray
        Arrays of ``X``'s shape; within each group, column j is a random permutation of ``X``'s
        column j in that group, drawn independently of the other columns.
    """
    Z = _check_matrix(X)
    groups = _groups(Z, min_share, min_group_size, depth)
    for _ in range(int(n_references)):
        R = Z.copy()
        for idx in groups:
            for j in range(Z.shape[1]):
                R[idx, j] = Z[rng.permutation(idx), j]
        yield R


def largest_supported_rule(gap: pd.DataFrame, reproducible: list[int], *,
                           alpha: float = 0.05) -> dict[str, Any]:
    """The largest k >= 2 that is reproducible and has ``Gap(k) > z s_k``; 1 when none.

    Parameters
    ----------
    gap : pandas.DataFrame
        Indexed by k, columns ``gap`` and ``gap_s`` (:func:`gap_copula.copula_gap`).
    reproducible : list of int
        The k that pass the reproducibility filters.
    alpha : float, default=0.05
        One-sided, Bonferroni over the k >= 2 of ``gap``.

    Returns
    -------
    dict
        ``k`` (largest supported, 1 when none), ``verdict``, ``k_within_1s`` (the smallest
        supported k within one ``s`` of the best supported gap: :func:`gap_copula.copula_rule`),
        ``z``, ``signal`` (k >= 2 with gap > z s) and ``supported``.
    """
    r = gap_copula.copula_rule(gap, reproducible, alpha=alpha)
    k = max(r["supported"]) if r["supported"] else 1
    return {"k": int(k), "verdict": r["verdict"], "k_within_1s": int(r["k"]), "z": r["z"],
            "signal": r["signal"], "supported": r["supported"]}


def _reference(name: str):
    return {"hurdle": hurdle_copula_reference, "perm": group_permutation_reference,
            "hurdle2": partial(hurdle_copula_reference, depth=2),
            "copula": "copula"}[name]


def run_case(case: str, size: int, planted: int, seed: int, references: list[str],
             B: int = 10) -> dict[str, Any]:
    """One case: the cached k_rules sweep, then the gap and the rule for each reference."""
    path = OUT / f"case_{case}_{size}_{planted}_{seed}.json"
    res: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    todo = [r for r in references if r not in res.get("refs", {})]
    if not todo:
        return res
    c0 = time.process_time()
    sw = k_rules.sweep(case, size, planted, seed)
    Z, _ = k_rules.case_matrix(case, size, planted, seed)
    sweep_cpu = time.process_time() - c0
    rep = k_rules.reproducible_ks(pd.DataFrame(sw["table"]))
    ari_k = {str(k): v for k, v in sw["ari"].items()}  # int keys when fresh, str from cache
    labels = pattern_groups(Z)
    _, counts = np.unique(labels[labels >= 0], return_counts=True)
    truth_k = planted if case == "planted" else (5 if case == "mall" else 1)
    res.update({"case": case, "size": size, "planted": planted, "seed": seed,
                "n": int(Z.shape[0]), "p": int(Z.shape[1]), "truth_k": truth_k,
                "reproducible": rep, "ps_largest": k_rules.choose_k(pd.DataFrame(sw["table"]),
                                                                    "ps_largest"),
                "point_mass_columns": len(point_mass_values(Z)),
                "groups": int(len(counts)), "group_sizes": sorted(counts.tolist(), reverse=True),
                "pooled": int((labels < 0).sum()), "ari": ari_k})
    res.setdefault("sweep_cpu_s", round(sweep_cpu, 1))
    res.setdefault("refs", {})
    for name in todo:
        c0 = time.process_time()
        gap = gap_copula.copula_gap(Z, 10, n_references=B, reference=_reference(name),
                                    random_state=seed)
        rule = largest_supported_rule(gap, rep)
        ari = {key: (ari_k.get(str(k)) if k >= 2 else (0.0 if ari_k else None))
               for key, k in (("ari", rule["k"]), ("ari_within_1s", rule["k_within_1s"]))}
        res["refs"][name] = {**rule, **ari, "gap": gap["gap"].round(4).tolist(),
                             "s": gap["gap_s"].round(4).tolist(),
                             "cpu_s": round(time.process_time() - c0, 1),
                             "load": Path("/proc/loadavg").read_text().split()[:3]}
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res))
    return res


def table(out: Path | None = None, references: tuple[str, ...] = REFERENCES) -> str:
    """Markdown: one row per case, seed and reference (see the RESULTS.md section).

    "right?" is the largest supported k / the within-one-s variant against the truth (1 on
    nulls, the planted k, 5 on Mall); ARI is the k-means fit's at each (k_rules' sweep).
    """
    rows = [json.loads(p.read_text()) for p in sorted((out or OUT).glob("case_*.json"))]
    order = {"gaussian_blob": 0, "uniform_box": 1, "lognormal_rfm": 2, "bgnbd_population": 3,
             "planted": 4, "mall": 5}
    rows.sort(key=lambda r: (order[r["case"]], r["planted"], r["seed"]))
    lines = ["| case | seed | ref | n x p | groups (pooled rows) | reproducible k | Gap k = 2..10 "
             "(s range) | z·s at 2, 3 | Gap > z·s at | supported | largest | within 1 s | right? "
             "| ARI |",
             "|---|---:|---|---|---|---|---|---|---|---|---:|---:|---|---|"]
    for r in rows:
        name = r["case"] if r["case"] != "planted" else f"planted {r['planted']}"
        for ref in references:
            if ref not in r["refs"]:
                continue
            x = r["refs"][ref]
            g, s = x["gap"][1:], x["s"][1:]
            zs = f"{x['z'] * x['s'][1]:.3f}, {x['z'] * x['s'][2]:.3f}"
            sup = ",".join(map(str, x["supported"])) or "none"
            sig = ",".join(map(str, x["signal"])) or "none"
            right = "yes" if x["k"] == r["truth_k"] else "**no**"
            right1 = "yes" if x["k_within_1s"] == r["truth_k"] else "no"
            ari = ("n/a" if r["truth_k"] == 1 or not r["ari"]
                   else f"{x['ari']:.3f} / {x['ari_within_1s']:.3f}")
            lines.append(
                f"| {name} | {r['seed']} | {ref} | {r['n']:,} x {r['p']} | "
                f"{r['groups']} ({r['pooled']}) | {','.join(map(str, r['reproducible']))} | "
                f"{' '.join(f'{v:.3f}' for v in g)} ({min(s):.3f}-{max(s):.3f}) | {zs} | "
                f"{sig} | {sup} | {x['k']} | {x['k_within_1s']} | {right} / {right1} | {ari} |")
    return "\n".join(lines)


def summary(out: Path | None = None, references: tuple[str, ...] = REFERENCES) -> str:
    """Markdown: per reference and case, k per seed (largest / within 1 s) and how many right."""
    rows = [json.loads(p.read_text()) for p in sorted((out or OUT).glob("case_*.json"))]
    cases = sorted({(r["case"], r["planted"]) for r in rows},
                   key=lambda c: (c[0] not in k_rules.NULL_CASES, c))
    lines = ["| reference | case | k per seed (largest) | right | k per seed (within 1 s) "
             "| right |", "|---|---|---|---:|---|---:|"]
    for ref in references:
        for case, planted in cases:
            rs = sorted((r for r in rows if (r["case"], r["planted"]) == (case, planted)
                         and ref in r["refs"]), key=lambda r: r["seed"])
            if not rs:
                continue
            name = case if case != "planted" else f"planted {planted}"
            ks = [r["refs"][ref]["k"] for r in rs]
            k1 = [r["refs"][ref]["k_within_1s"] for r in rs]
            t = rs[0]["truth_k"]
            lines.append(f"| {ref} | {name} | {' '.join(map(str, ks))} | "
                         f"{sum(k == t for k in ks)}/{len(ks)} | {' '.join(map(str, k1))} | "
                         f"{sum(k == t for k in k1)}/{len(k1)} |")
    return "\n".join(lines)


def diagnose(seed: int) -> str:
    """The BG/NBD null's diagnostics quoted in bench/RESULTS.md, for one seed (plain text).

    Pattern groups (depth 1 and 2), k-means at k = 2, 3, 4 against the depth-1 groups, the
    hurdle gap at k = 2, 3 against three reference seeds and B = 50 (k up to 4), every group
    alone against its own Gaussian copula, and the repeat buyers against a hurdle of their own.
    """
    from scipy.stats import norm
    from sklearn.cluster import KMeans

    z = float(norm.ppf(1 - 0.05 / 9))  # the table's Bonferroni over k = 2..10
    Z, _ = k_rules.case_matrix("bgnbd_population", 0, 1, seed)
    lab = pattern_groups(Z)
    lab2 = pattern_groups(Z, depth=2)
    out = [f"seed {seed}: repeat buyers {int((lab == 0).sum())}, one-timers "
           f"{int((lab == 1).sum())}; depth-2 groups {np.bincount(lab2).tolist()} "
           "(repeaters at frequency >= 2, at 1, one-timers)"]
    for k in (2, 3, 4):
        km = KMeans(k, n_init=10, random_state=seed).fit_predict(Z)
        tab = pd.crosstab(km, pd.Series(lab).map({0: "repeaters", 1: "one-timers"}))
        out.append(f"  k-means k={k} clusters x group: {tab.to_dict(orient='index')}")
    for B, rs in ((10, seed), (10, seed + 100), (10, seed + 200), (50, seed)):
        g = gap_copula.copula_gap(Z, 4, n_references=B, reference=hurdle_copula_reference,
                                  random_state=rs)
        out.append(f"  hurdle B={B} random_state={rs}: Gap(2) {g.gap[2]:.4f} vs z·s "
                   f"{z * g.gap_s[2]:.4f}, Gap(3) {g.gap[3]:.4f} vs {z * g.gap_s[3]:.4f}")
    for name, groups, k_max in (("depth 1", lab, 4), ("depth 2", lab2, 5)):
        for grp in np.unique(groups):
            G = gap_copula.copula_gap(Z[groups == grp], k_max, n_references=10,
                                      reference="copula", random_state=seed)
            out.append(f"  {name} group {grp} ({int((groups == grp).sum())} rows) alone vs its "
                       f"copula: Gap(2..{k_max}) {G.gap.loc[2:].round(4).tolist()}, "
                       f"s {G.gap_s.loc[2:].round(4).tolist()}")
    R = Z[lab == 0]
    share = {j: round(float((R[:, j] == v).mean()), 3) for j, v in point_mass_values(R).items()}
    out.append(f"  repeat buyers: point masses among them (column: share) {share}")
    for ref in ("copula", hurdle_copula_reference):
        G = gap_copula.copula_gap(R, 6, n_references=10, reference=ref, random_state=seed)
        out.append(f"  repeat buyers vs {'their copula' if ref == 'copula' else 'their hurdle'}"
                   f": Gap(2..6) {G.gap.loc[2:].round(4).tolist()}, "
                   f"s {G.gap_s.loc[2:].round(4).tolist()}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["run", "table", "diagnose"])
    ap.add_argument("--cases", default="nulls", help="nulls | planted | mall")
    ap.add_argument("--planted", default="1,3,5,8")
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--references", default="hurdle,perm")
    ap.add_argument("--B", type=int, default=10)
    ap.add_argument("--out", type=Path, default=OUT,
                    help="results folder (sweeps cached under its 'sweeps')")
    args = ap.parse_args(argv)
    OUT = args.out
    k_rules.CACHE = OUT / "sweeps"
    refs = args.references.split(",")
    if args.what == "table":
        print(table(references=tuple(refs)))
        print()
        print(summary(references=tuple(refs)))
        return 0
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.what == "diagnose":
        c0 = time.process_time()
        for seed in seeds:
            print(diagnose(seed), flush=True)
        print(f"{time.process_time() - c0:.1f} CPU s, load {Path('/proc/loadavg').read_text()}")
        return 0
    if args.cases == "nulls":
        todo = [(c, 0, 1, s) for s in seeds for c in k_rules.NULL_CASES]
    elif args.cases == "planted":
        todo = [("planted", args.size, int(p), s) for s in seeds
                for p in args.planted.split(",")]
    else:
        todo = [("mall", 200, 5, s) for s in seeds]
    for case in todo:
        r = run_case(*case, references=refs, B=args.B)
        print(case, "repro", r["reproducible"], "ps_largest", r["ps_largest"],
              {k: (v["k"], v["k_within_1s"], v["cpu_s"]) for k, v in r["refs"].items()},
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

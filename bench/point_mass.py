"""Issue 15: are ``ps_largest``'s reproducible partitions point-mass splits, and a guard for it.

On the BG/NBD x Gamma-Gamma null ``ps_largest`` (:func:`k_rules.choose_k`) picks k = 3: 60% of
the customers bought once, a point mass k-means splits off reproducibly. Hypothesis: the
reproducible k >= 2 partitions there are **point-mass splits**, one segment (or a union of
segments) coincides with the rows where one column sits at its point mass (its mode held by
>= 5% of the rows, :func:`null_reference.point_mass_values`), a one-column rule rather than
multi-feature structure.

Per case (the cached ``k_rules`` sweep, folder ``--cache``) and per reproducible k >= 2: one
k-means fit (``n_init=10``, ``random_state`` = the case seed, as the sweep's ARI fits); for each
point-mass column the **point-mass Jaccard** (:func:`point_mass_capture`: the best Jaccard
between the rows at the mode and one segment or the union of the segments whose share of rows at
the mode is >= 0.9). Two guards on top of ``ps_largest``, thresholds fixed before the runs
(mode share 5%, Jaccard 0.9, prediction strength 0.8):

- ``g1`` (:func:`g1_choose`): a reproducible k is discounted when its best point-mass Jaccard
  is >= 0.9 and the rows **off** that point mass are not reproducible at k - m (m: the segments
  the union takes; prediction strength >= 0.8 on those rows only, the sweep's ``n_splits``,
  ``n_init=10``; k - m < 2 is "not reproducible": the partition is then the one-column rule and
  nothing more); ``ps_largest`` on the reproducible k that remain (1 when none).
- ``g1b`` (``g1_choose(..., both_sides=True)``, added after the first runs showed g1 discounting
  planted segments that sit off a point mass): as g1, but a split is also kept when the rows
  **at** the point mass are reproducible at m (the union of m segments is itself structure).
- ``g2`` (:func:`g2_choose`): at ``ps_largest``'s k, the columns whose point mass a segment
  captures (Jaccard >= 0.9); the sweep is run again (same settings) on the rows off every one of
  those point masses; structure is kept only when that sub-sweep's ``ps_largest`` is >= 2.

Usage (the sweeps first, one process at a time; ``point_mass.py run`` runs any missing one)::

    python bench/k_rules.py sweep --cases nulls --seeds 0,1,2 --cache /tmp/pmass-cache
    python bench/k_rules.py sweep --cases mall --seeds 0,1,2 --cache /tmp/pmass-cache
    python bench/k_rules.py sweep --cases planted --planted 1,3,5,8 --seeds 0,1,2 \\
        --cache /tmp/pmass-cache
    python bench/point_mass.py run --cases nulls,mall,planted --seeds 0,1,2 --cache /tmp/pmass-cache
    python bench/point_mass.py table --cache /tmp/pmass-cache
    python bench/point_mass.py diagnose --seeds 0,1,2 --cache /tmp/pmass-cache
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import k_rules  # noqa: E402
from null_reference import point_mass_values  # noqa: E402

#: a column has a point mass when its mode holds at least this share of the rows
MODE_SHARE = 0.05
#: a segment (union) captures a point mass at this Jaccard; a segment joins the union at this
#: share of its rows at the mode
CAPTURE = 0.9
#: prediction strength that makes the rows off a point mass reproducible (the sweep's threshold)
PS_THRESHOLD = 0.8


def point_mass_masks(X: Any, *, min_share: float = MODE_SHARE) -> dict[int, np.ndarray]:
    """Rows at each point mass: column index -> boolean mask of the rows at the column's mode.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite values; "at the mode" means exactly equal.
    min_share : float, default=0.05
        A column has a point mass when its mode holds at least this share of the rows.

    Returns
    -------
    dict of int to numpy.ndarray of bool
        Only the point-mass columns, in column order.

    Examples
    --------
    >>> {j: m.tolist() for j, m in point_mass_masks([[0, 1], [0, 2], [1, 3]],
    ...                                              min_share=0.5).items()}
    {0: [True, True, False]}
    """
    Z = np.asarray(X, dtype=np.float64)
    modes = point_mass_values(Z, min_share=min_share)
    return {j: Z[:, j] == v for j, v in sorted(modes.items())}


@dataclass(frozen=True)
class Capture:
    """How well a partition isolates the rows at one point mass.

    Attributes
    ----------
    jaccard : float
        Jaccard between the rows at the mode and ``segments``' rows (0 when no candidate).
    segments : tuple
        The segment labels whose union is closest to the point mass.
    shares : dict
        Segment label -> share of its rows at the mode.
    """

    jaccard: float
    segments: tuple
    shares: dict


def point_mass_capture(labels: Any, at_mass: Any, *, min_share: float = CAPTURE) -> Capture:
    """The best Jaccard between a point mass's rows and one segment or a union of segments.

    Candidates: each segment alone, and the union of every segment with at least ``min_share``
    of its rows at the mode when that union is neither empty nor the whole partition (all
    segments together would be k = 1, not a split).

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Segment per row (at least two segments).
    at_mass : array-like of bool, shape (n_samples,)
        True for the rows at the point mass.
    min_share : float, default=0.9
        In (0, 1].

    Returns
    -------
    Capture

    Examples
    --------
    >>> c = point_mass_capture([0, 0, 1, 1, 2], [True, True, True, False, False])
    >>> round(c.jaccard, 3), c.segments
    (0.667, (0,))
    """
    lab = np.asarray(labels)
    mask = np.asarray(at_mass)
    if lab.ndim != 1 or mask.shape != lab.shape:
        raise ValueError(f"labels and at_mass should be 1-D of one length; got shapes "
                         f"{lab.shape} and {mask.shape}.")
    if mask.dtype != bool:
        raise ValueError(f"at_mass should be boolean; got dtype {mask.dtype}.")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share={min_share!r} should be in (0, 1].")
    segs = np.unique(lab)
    if len(segs) < 2:
        raise ValueError(f"labels should hold at least 2 segments; got {len(segs)}.")
    shares = {s.item(): float(mask[lab == s].mean()) for s in segs}

    def jac(members: tuple) -> float:
        rows = np.isin(lab, members)
        union = (rows | mask).sum()
        return float((rows & mask).sum() / union) if union else 0.0

    cands = [(s,) for s in shares]
    union = tuple(s for s, v in shares.items() if v >= min_share)
    if 2 <= len(union) < len(segs):
        cands.append(union)
    best = max(cands, key=lambda c: (jac(c), -len(c)))
    return Capture(jaccard=jac(best), segments=best, shares=shares)


def partition_point_masses(X: Any, labels: Any, *, min_share: float = MODE_SHARE,
                           capture: float = CAPTURE) -> pd.DataFrame:
    """One row per point-mass column: its mode's share and the partition's capture of it.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    min_share, capture : float
        See :func:`point_mass_masks` and :func:`point_mass_capture`.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``mode_share``, ``jaccard``, ``segments`` (their count ``m``),
        sorted by ``jaccard`` descending (ties: column order); empty without a point mass.
    """
    rows = []
    for j, mask in point_mass_masks(X, min_share=min_share).items():
        c = point_mass_capture(labels, mask, min_share=capture)
        rows.append({"column": j, "mode_share": float(mask.mean()), "jaccard": c.jaccard,
                     "segments": list(c.segments), "m": len(c.segments)})
    cols = ["column", "mode_share", "jaccard", "segments", "m"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["jaccard", "column"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


def g1_choose(guard: pd.DataFrame, *, capture: float = CAPTURE,
              ps_threshold: float = PS_THRESHOLD, both_sides: bool = False) -> int:
    """Guard g1: ``ps_largest`` after discounting the reproducible k that are point-mass splits.

    Parameters
    ----------
    guard : pandas.DataFrame
        One row per k of the sweep (k = 1 included): ``k``, ``gap``, ``reproducible`` (bool),
        ``jaccard`` (the best point-mass Jaccard at k; NaN without a point mass or at k = 1),
        ``off_k`` (k - m) and ``off_ps`` (prediction strength of the rows off that point mass
        at ``off_k``; NaN when not computed); with ``both_sides`` also ``at_m`` (m) and
        ``at_ps`` (prediction strength of the rows at the point mass at m).
    capture, ps_threshold : float
        A reproducible k >= 2 is discounted when ``jaccard >= capture`` and not
        (``off_k >= 2`` and ``off_ps >= ps_threshold``).
    both_sides : bool, default=False
        ``g1b`` (added after the first runs, see ``bench/RESULTS.md``): a split is also kept
        when the rows **at** the point mass are reproducible at m (``at_m >= 2`` and ``at_ps
        >= ps_threshold``), i.e. when the union of segments on the mass is itself structure.

    Returns
    -------
    int
        The largest reproducible k >= 2 not discounted, when its gap exceeds ``Gap(1)``; else 1.

    Examples
    --------
    >>> tab = pd.DataFrame({"k": [1, 2, 3], "gap": [0.0, 0.1, 0.2],
    ...                     "reproducible": [True, True, True], "jaccard": [None, 0.5, 0.95],
    ...                     "off_k": [None, None, 2], "off_ps": [None, None, 0.4]})
    >>> g1_choose(tab)
    2
    """
    need = {"k", "gap", "reproducible", "jaccard", "off_k", "off_ps"}
    if both_sides:
        need |= {"at_m", "at_ps"}
    if missing := sorted(need - set(guard.columns)):
        raise ValueError(f"guard table lacks columns {missing}; it needs {sorted(need)}.")
    tab = guard.set_index(guard["k"].astype(int))
    if 1 not in tab.index:
        raise ValueError("guard table should hold a row for k = 1 (its gap is the baseline).")
    kept = []
    for k, row in tab.sort_index().iterrows():
        if k < 2 or not bool(row["reproducible"]):
            continue
        split = pd.notna(row["jaccard"]) and row["jaccard"] >= capture
        off_ok = (pd.notna(row["off_k"]) and row["off_k"] >= 2 and pd.notna(row["off_ps"])
                  and row["off_ps"] >= ps_threshold)
        if both_sides:
            off_ok = off_ok or bool(pd.notna(row["at_m"]) and row["at_m"] >= 2
                                    and pd.notna(row["at_ps"]) and row["at_ps"] >= ps_threshold)
        if split and not off_ok:
            continue
        kept.append(k)
    if not kept:
        return 1
    k = max(kept)
    return int(k) if tab.at[k, "gap"] > tab.at[1, "gap"] else 1


def g2_choose(ps_k: int, captured: list[int], sub_ps_k: int | None) -> int:
    """Guard g2: keep ``ps_largest``'s k only when the rows off the captured masses have structure.

    Parameters
    ----------
    ps_k : int
        ``ps_largest``'s pick on all rows.
    captured : list of int
        The columns whose point mass a segment captures at ``ps_k`` (Jaccard >= 0.9).
    sub_ps_k : int or None
        ``ps_largest`` of the sweep on the rows off every captured point mass (None when that
        sweep was not run: nothing captured, or ``ps_k`` = 1).

    Returns
    -------
    int

    Examples
    --------
    >>> g2_choose(3, [0], 1), g2_choose(3, [0], 2), g2_choose(3, [], None)
    (1, 3, 3)
    """
    if ps_k < 2 or not captured:
        return int(ps_k)
    if sub_ps_k is None:
        raise ValueError(f"captured columns {captured} at k={ps_k} need the sub-sweep's k; "
                         "got None.")
    return int(ps_k) if sub_ps_k >= 2 else 1


def _sweep_table(Z: np.ndarray, seed: int, settings: dict[str, Any]) -> pd.DataFrame:
    from segml.cluster import select_k

    sel = select_k(Z, algorithms=["kmeans"], rule="gap", progress=False, random_state=seed,
                   **settings)
    cols = ["k", "gap", "gap_s", "prediction_strength", "stability_jaccard_min", "too_small",
            "min_segment_share"]
    return sel.table[[c for c in cols if c in sel.table]].reset_index(drop=True)


def run_case(case: str, size: int, planted: int, seed: int) -> dict[str, Any]:
    """One case: the cached sweep, the point-mass captures, g1's off-row PS and g2's sub-sweep."""
    from sklearn.cluster import KMeans

    from segml.cluster.prediction_strength import prediction_strength

    path = k_rules.CACHE / f"pmass_{case}_{size}_{planted}_{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    c0 = time.process_time()
    sw = k_rules.sweep(case, size, planted, seed)
    Z, _ = k_rules.case_matrix(case, size, planted, seed)
    tab = pd.DataFrame(sw["table"]).sort_values("k").reset_index(drop=True)
    rep = k_rules.reproducible_ks(tab)
    ps_k = k_rules.choose_k(tab, "ps_largest")
    masks = point_mass_masks(Z)
    n_splits = int(sw["settings"].get("n_splits", 5))
    per_k: dict[str, Any] = {}
    labels_at: dict[int, np.ndarray] = {}
    for k in [k for k in rep if k >= 2]:
        lab = KMeans(k, n_init=10, random_state=seed).fit_predict(Z)
        labels_at[k] = lab
        pm = partition_point_masses(Z, lab)
        entry: dict[str, Any] = {"masses": pm.head(3).to_dict(orient="records"),
                                 "jaccard": float(pm["jaccard"].iloc[0]) if len(pm) else None,
                                 "sizes": np.bincount(lab).tolist()}
        if len(pm):
            best = masks[int(pm["column"].iloc[0])]
            entry["shares"] = [round(float(best[lab == c].mean()), 3) for c in range(k)]
        if len(pm) and pm["jaccard"].iloc[0] >= CAPTURE:
            best = pm.iloc[0]
            at = masks[int(best["column"])]
            off_k, at_m = k - int(best["m"]), int(best["m"])
            entry.update(off_rows=int((~at).sum()), off_k=off_k, at_m=at_m)
            for key, rows, kk in (("off_ps", ~at, off_k), ("at_ps", at, at_m)):
                if kk >= 2 and rows.sum() >= 2 * kk:
                    entry[key] = round(prediction_strength(
                        Z[rows], kk, n_splits=n_splits, n_init=10, random_state=seed).mean, 4)
        per_k[str(k)] = entry
    guard = tab[["k", "gap"]].copy()
    guard["reproducible"] = guard["k"].isin(rep)
    guard["jaccard"] = [per_k.get(str(k), {}).get("jaccard") for k in guard["k"]]
    guard["off_k"] = [per_k.get(str(k), {}).get("off_k") for k in guard["k"]]
    for col in ("off_ps", "at_m", "at_ps"):
        guard[col] = [per_k.get(str(k), {}).get(col) for k in guard["k"]]
    guard = guard.astype({c: float for c in ("jaccard", "off_k", "off_ps", "at_m", "at_ps")})
    g1 = g1_choose(guard)
    g1b = g1_choose(guard, both_sides=True)
    captured: list[int] = []
    sub: dict[str, Any] = {}
    if ps_k >= 2:
        pm = partition_point_masses(Z, labels_at[ps_k])
        captured = [int(c) for c in pm.loc[pm["jaccard"] >= CAPTURE, "column"]]
    sub_k = None
    if captured:
        off = np.ones(len(Z), dtype=bool)
        for j in captured:
            off &= ~masks[j]
        sub = {"rows": int(off.sum())}
        try:
            st = _sweep_table(Z[off], seed, sw["settings"])
            sub_k = k_rules.choose_k(st, "ps_largest")
            sub.update(k=sub_k, reproducible=k_rules.reproducible_ks(st))
        except Exception as exc:  # too few rows for the k range: no structure shown there
            sub_k = 1
            sub.update(k=1, error=f"{type(exc).__name__}: {exc}")
    g2 = g2_choose(ps_k, captured, sub_k)
    truth_k = planted if case == "planted" else (5 if case == "mall" else 1)
    ari = {str(k): v for k, v in sw["ari"].items()}
    res = {"case": case, "size": size, "planted": planted, "seed": seed,
           "n": int(Z.shape[0]), "p": int(Z.shape[1]), "truth_k": truth_k,
           "point_mass_columns": len(masks), "reproducible": rep, "per_k": per_k,
           "ps_largest": ps_k, "g1": g1, "g1b": g1b, "g2": g2, "captured": captured, "sub": sub,
           "ari": ari, "cpu_s": round(time.process_time() - c0, 1),
           "load": Path("/proc/loadavg").read_text().split()[:3]}
    path.write_text(json.dumps(res))
    return res


def _case_name(r: dict[str, Any]) -> str:
    if r["case"] == "planted":
        return "portfolio_1" if r["planted"] == 1 else f"planted {r['planted']}"
    return r["case"]


def table(cache: Path | None = None) -> str:
    """Markdown: one row per case and seed (see the module docstring)."""
    runs = [json.loads(p.read_text()) for p in sorted((cache or k_rules.CACHE)
                                                      .glob("pmass_*.json"))]
    order = {c: i for i, c in enumerate((*k_rules.NULL_CASES, "planted", "mall"))}
    runs.sort(key=lambda r: (order[r["case"]], r["planted"], r["seed"]))
    lines = ["| case | seed | n x p | point-mass cols | reproducible k | per reproducible k >= 2: "
             "best column (mode share) Jaccard, m; off rows, PS off at k - m, PS at the mass at m "
             "| ps_largest | g1 | g1b | g2 (sub-sweep rows: k) | right? ps / g1 / g1b / g2 "
             "| ARI ps / g1 / g1b / g2 |",
             "|---|---:|---|---:|---|---|---:|---:|---:|---|---|---|"]
    for r in runs:
        cells = []
        for k, e in r["per_k"].items():
            if not e["masses"]:
                cells.append(f"{k}: none")
                continue
            b = e["masses"][0]
            cell = f"{k}: c{b['column']} ({b['mode_share']:.2f}) {b['jaccard']:.2f}, m {b['m']}"
            if "off_k" in e:
                ps = f"{e['off_ps']:.2f}" if "off_ps" in e else "n/a"
                at = f"{e['at_ps']:.2f}" if "at_ps" in e else "n/a"
                cell += f"; {e['off_rows']:,}, PS({e['off_k']}) {ps}, at PS({e['at_m']}) {at}"
            elif r["case"] == "bgnbd_population":
                cell += f"; sizes {e['sizes']}, shares {e['shares']}"
            cells.append(cell)
        sub = r["sub"]
        g2 = (f"{r['g2']} ({sub['rows']:,}: {sub['k']}"
              f"{' error' if 'error' in sub else ''})" if sub else str(r["g2"]))
        ks = (r["ps_largest"], r["g1"], r["g1b"], r["g2"])
        right = " / ".join("yes" if k == r["truth_k"] else "**no**" for k in ks)
        if r["ari"] and r["truth_k"] > 1:
            ari = " / ".join(f"{r['ari'][str(k)]:.3f}" if k >= 2 else "0" for k in ks)
        else:
            ari = "n/a"
        lines.append(f"| {_case_name(r)} | {r['seed']} | {r['n']:,} x {r['p']} | "
                     f"{r['point_mass_columns']} | {','.join(map(str, r['reproducible']))} | "
                     f"{'<br>'.join(cells) or '-'} | {r['ps_largest']} | {r['g1']} | {r['g1b']} "
                     f"| {g2} | "
                     f"{right} | {ari} |")
    return "\n".join(lines)


def diagnose(case: str = "bgnbd_population", seeds: tuple[int, ...] = (0, 1, 2)) -> str:
    """Markdown: per seed and reproducible k >= 2, each k-means segment's rows and make-up.

    Column 0's two most frequent values (on the BG/NBD null: one purchase, two purchases) and
    each segment's mean per column, to see what a reproducible partition cuts when no segment
    union captures the point mass; then, per seed, prediction strength (the sweep's
    ``n_splits``, ``n_init=10``) at k = 2 and 3 of the rows at column 0's mode and of the rest:
    whether g1b would keep a split of that point mass.
    """
    from sklearn.cluster import KMeans

    from segml.cluster.prediction_strength import prediction_strength

    ps_lines = ["| seed | rows at col 0's mode | PS at k = 2 / 3 (rows at the mode) | rows off "
                "| PS at k = 2 / 3 (rows off) |", "|---:|---:|---|---:|---|"]
    lines = ["| seed | k | segment | rows | at col 0's mode | at col 0's 2nd value | "
             "mean per column |", "|---:|---:|---:|---:|---:|---:|---|"]
    for seed in seeds:
        sw = k_rules.sweep(case, 0, 1, seed)
        Z, _ = k_rules.case_matrix(case, 0, 1, seed)
        vals, counts = np.unique(Z[:, 0], return_counts=True)
        first, second = vals[np.argsort(-counts, kind="stable")[:2]]
        n_splits = int(sw["settings"].get("n_splits", 5))
        cells = []
        for rows in (Z[:, 0] == first, Z[:, 0] != first):
            ps = [prediction_strength(Z[rows], k, n_splits=n_splits, n_init=10,
                                      random_state=seed).mean for k in (2, 3)]
            cells += [f"{int(rows.sum()):,}", " / ".join(f"{v:.2f}" for v in ps)]
        ps_lines.append(f"| {seed} | {' | '.join(cells)} |")
        for k in [k for k in k_rules.reproducible_ks(pd.DataFrame(sw["table"])) if k >= 2]:
            lab = KMeans(k, n_init=10, random_state=seed).fit_predict(Z)
            for c in range(k):
                rows = Z[lab == c]
                means = " ".join(f"{m:+.2f}" for m in rows.mean(axis=0))
                lines.append(f"| {seed} | {k} | {c} | {len(rows):,} | "
                             f"{(rows[:, 0] == first).mean():.2f} | "
                             f"{(rows[:, 0] == second).mean():.2f} | {means} |")
    return "\n".join(lines) + "\n\n" + "\n".join(ps_lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["run", "table", "diagnose"])
    ap.add_argument("--cases", default="nulls,mall,planted", help="nulls, mall, planted")
    ap.add_argument("--planted", default="1,3,5,8")
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--cache", type=Path, required=True,
                    help="the k_rules sweep cache (a new folder; results are written there)")
    args = ap.parse_args(argv)
    k_rules.CACHE = args.cache
    if args.what == "table":
        print(table())
        return 0
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.what == "diagnose":
        print(diagnose(seeds=tuple(seeds)))
        return 0
    todo = []
    for what in args.cases.split(","):
        if what == "nulls":
            todo += [(c, 0, 1, s) for s in seeds for c in k_rules.NULL_CASES]
        elif what == "planted":
            todo += [("planted", args.size, int(p), s) for s in seeds
                     for p in args.planted.split(",")]
        elif what == "mall":
            todo += [("mall", 200, 5, s) for s in seeds]
        else:
            raise SystemExit(f"--cases: {what!r} should be nulls, mall or planted")
    for case in todo:
        r = run_case(*case)
        print(case, "repro", r["reproducible"], "ps", r["ps_largest"], "g1", r["g1"], "g1b",
              r["g1b"], "g2",
              r["g2"], r["sub"], r["cpu_s"], "CPU s", r["load"], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

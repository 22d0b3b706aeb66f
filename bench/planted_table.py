"""Issue 15: one row per planted case from the cached k_rules sweeps (and hurdle2 runs).

Reads the sweeps that ``bench/k_rules.py sweep --cache DIR`` cached (``sweep_planted_*.json``)
and, when ``--nullref`` is given, the ``case_*.json`` that ``bench/null_reference.py run --out
NULLREF`` wrote; nothing is fitted here. Per case: the k each rule picks (``current``, the
default ``"gap"`` rule's own pick; ``tibs``, ``ps_largest``, ``ps_strict`` of
:func:`k_rules.choose_k`; ``hurdle2``'s largest supported k), the ARI of the k-means fit at each
pick and at the planted k (the sweep's fits), the prediction strength at the planted k, the
reproducible k and the gap's peak.

Usage::

    python bench/planted_table.py --cache /tmp/p20k-cache --nullref /tmp/p20k-nullref --size 20000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import k_rules  # noqa: E402

#: the rules of a row, in the table's order (``hurdle2`` only with a null_reference run)
RULES = ("current", *k_rules.K_RULES, "hurdle2")


def case_row(sweep: dict[str, Any], nullref: dict[str, Any] | None = None) -> dict[str, Any]:
    """One planted case's picks, ARI and prediction strength from its cached sweep.

    Parameters
    ----------
    sweep : dict
        A ``bench/k_rules.py`` sweep (``planted``, ``seed``, ``table``, ``current_k``, ``ari``
        keyed by k as a string, or empty without a planted truth).
    nullref : dict, optional
        The same case's ``bench/null_reference.py`` result; its ``refs["hurdle2"]["k"]`` is the
        ``hurdle2`` pick (None when absent).

    Returns
    -------
    dict
        ``size``, ``planted``, ``seed``, ``n``, ``p``, ``k`` (rule -> k, None when not run),
        ``ari`` (rule -> ARI of the pick: 0 for k = 1, None without a truth or a pick),
        ``ari_planted`` and ``ps_planted`` (None for one planted profile), ``reproducible`` and
        ``gap_peak``.
    """
    tab = pd.DataFrame(sweep["table"])
    planted = int(sweep["planted"])
    ks: dict[str, int | None] = {"current": int(sweep["current_k"])}
    for rule in k_rules.K_RULES:
        ks[rule] = int(k_rules.choose_k(tab, rule))
    ref = (nullref or {}).get("refs", {}).get("hurdle2")
    ks["hurdle2"] = int(ref["k"]) if ref else None
    ari_k = {str(k): v for k, v in (sweep.get("ari") or {}).items()}
    has_truth = bool(ari_k) and planted > 1

    def ari(k: int | None) -> float | None:
        if k is None or not has_truth:
            return None
        return 0.0 if k == 1 else ari_k.get(str(k))

    by_k = tab.set_index(tab["k"].astype(int))
    ps = (float(by_k.loc[planted, "prediction_strength"])
          if planted > 1 and planted in by_k.index else None)
    return {"size": int(sweep["size"]), "planted": planted, "seed": int(sweep["seed"]),
            "n": int(sweep["n"]), "p": int(sweep["p"]), "k": ks,
            "ari": {rule: ari(k) for rule, k in ks.items()},
            "ari_planted": ari(planted) if planted > 1 else None, "ps_planted": ps,
            "reproducible": k_rules.reproducible_ks(tab),
            "gap_peak": int(tab.loc[tab["gap"].idxmax(), "k"])}


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    """Markdown: one line per case, sorted by size, planted and seed (see :func:`case_row`)."""
    rules = [r for r in RULES if any(row["k"][r] is not None for row in rows)]
    head = ("| size | planted | seed | n x p | k: " + " / ".join(rules)
            + " | ARI of pick: " + " / ".join(rules)
            + " | ARI at planted k | PS at planted k | reproducible k | gap peak k |")
    lines = [head, "|---:|---:|---:|---|---|---|---:|---:|---|---:|"]
    for r in sorted(rows, key=lambda r: (r["size"], r["planted"], r["seed"])):
        k = " / ".join("-" if r["k"][x] is None else str(r["k"][x]) for x in rules)
        a = " / ".join(_fmt(r["ari"][x]) for x in rules)
        lines.append(f"| {r['size']:,} | {r['planted']} | {r['seed']} | {r['n']:,} x {r['p']} "
                     f"| {k} | {a} | {_fmt(r['ari_planted'])} | {_fmt(r['ps_planted'])} "
                     f"| {','.join(map(str, r['reproducible']))} | {r['gap_peak']} |")
    return "\n".join(lines)


def load_rows(cache: Path, nullref: Path | None = None, size: int | None = None
              ) -> list[dict[str, Any]]:
    """:func:`case_row` for every cached planted sweep under ``cache`` (one size if given)."""
    rows = []
    for path in sorted(cache.glob("sweep_planted_*.json")):
        sw = json.loads(path.read_text())
        if size is not None and int(sw["size"]) != size:
            continue
        ref = None
        if nullref is not None:
            p = nullref / path.name.replace("sweep_", "case_")
            ref = json.loads(p.read_text()) if p.exists() else None
        rows.append(case_row(sw, ref))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="k_rules' --cache folder")
    ap.add_argument("--nullref", type=Path, default=None, help="null_reference's --out folder")
    ap.add_argument("--size", type=int, default=None)
    args = ap.parse_args(argv)
    print(markdown(load_rows(args.cache, args.nullref, args.size)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Which planted segment is two k-means groups in the default model matrix, and why?

Issue 15 (planted truth): with 5 planted segments k-means at k = 6 matched the truth better than
at k = 5, and with 8 planted k = 9 beat k = 8. For ``make_portfolio(size, n_segments=planted,
random_state=seed)`` this script builds the default config's features and model matrix (through
``segml.pipeline.build_run_features`` / ``model_matrix``, as ``bench/planted_k.py`` does), fits
``KMeans(k, n_init=10)`` at the planted k - 1, k and k + 1, and prints

* the ARI of each fit against the truth,
* every planted segment whose second-largest k + 1 cluster holds >= 20% of it (a split), with
  the model-matrix columns whose means differ most between its two halves,
* the standard deviation in the model matrix of the columns asked for with ``--show``, among the
  B2B accounts and over all buyers.

``--zero COL[,COL]`` sets model-matrix columns to 0 before fitting (a what-if, e.g. a column
that would be constant); ``--b2b-scale COL[,COL]`` (``industry_*`` matches a prefix) shrinks
columns that vary only among the B2B accounts so that their spread there equals their spread
over all buyers (a what-if of standardising them among the accounts they describe);
``--company-size-mix`` replaces the generator's company-size probabilities (micro, small, medium,
large) for the run. ``--rule`` also runs the default config's k sweep
(``segml.pipeline.run_select_k``; ``--algorithms kmeans`` for k-means only) on the (possibly
modified) matrix and prints the k chosen, the verdict, the gap at the planted k and at its peak;
``--noise`` is ``make_portfolio``'s within-segment spread (default 1).

Usage::

    python bench/planted_split.py --size 3000 --planted 5,8 --seeds 0,1
    python bench/planted_split.py --planted 5 --seeds 0 --zero company_size
    python bench/planted_split.py --planted 3,5,8 --seeds 0,1,2 --zero company_size --rule \\
        --algorithms kmeans
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score


def case(size: int, planted: int, seed: int, segmentation: dict[str, Any] | None = None,
         noise: float = 1.0) -> tuple[Any, dict[str, Any], Any, pd.DataFrame, np.ndarray]:
    """Portfolio, config, feature set, model matrix and truth of one case."""
    from segml.config import validate_config
    from segml.datasets import make_portfolio
    from segml.pipeline import LoadedData, build_run_features, model_matrix

    pf = make_portfolio(size, n_segments=planted, noise=noise, random_state=seed)
    cfg = validate_config({"features": {"as_of": pf.as_of.date().isoformat()},
                           "segmentation": {"random_state": seed, **(segmentation or {})}})
    data = LoadedData(name="planted", transactions=pf.transactions, customers=pf.customers,
                      truth=pf.truth, default_as_of=pf.as_of)
    fs = build_run_features(cfg, data)
    X, frame = model_matrix(cfg, fs)
    return pf, cfg, fs, X, pf.truth.reindex(frame.index).to_numpy()


def splits(Z: np.ndarray, columns: list[str], truth: np.ndarray, labels: np.ndarray,
           top: int = 3) -> list[str]:
    """Planted segments whose second-largest cluster holds >= 20%, and what separates them."""
    out = []
    for name, row in pd.crosstab(truth, labels).iterrows():
        s = row.sort_values(ascending=False)
        if len(s) < 2 or s.iloc[1] < 0.2 * s.sum():
            continue
        a, b = s.index[:2]
        m = truth == name
        diff = Z[m & (labels == a)].mean(axis=0) - Z[m & (labels == b)].mean(axis=0)
        cols = np.argsort(-np.abs(diff))[:top]
        out.append(f"{name} {int(s.iloc[0])}/{int(s.iloc[1])} by "
                   + ", ".join(f"{columns[i]} ({diff[i]:+.2f})" for i in cols))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--planted", default="5,8")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--zero", default="", help="model-matrix columns set to 0 (what-if)")
    ap.add_argument("--b2b-scale", default="",
                    help="model-matrix columns (a trailing * matches a prefix) rescaled so "
                    "their sd among B2B accounts equals their sd over all buyers (what-if)")
    ap.add_argument("--show", default="company_size", help="columns whose spread is printed")
    ap.add_argument("--company-size-mix", default="",
                    help="micro,small,medium,large probabilities for this run")
    ap.add_argument("--noise", type=float, default=1.0, help="make_portfolio(noise=)")
    ap.add_argument("--rule", action="store_true", help="also run the default k sweep")
    ap.add_argument("--algorithms", default="", help="override [segmentation] algorithms")
    ap.add_argument("--k-max", type=int, default=None, help="override [segmentation] k_max")
    args = ap.parse_args(argv)
    if args.company_size_mix:
        import segml.datasets.customers as customers

        customers._COMPANY_SIZE_P = np.array([float(x) for x in args.company_size_mix.split(",")])
    zero = [c for c in args.zero.split(",") if c]
    seg: dict[str, Any] = {"algorithms": args.algorithms.split(",")} if args.algorithms else {}
    if args.k_max is not None:
        seg["k_max"] = args.k_max
    for planted in [int(x) for x in args.planted.split(",")]:
        for seed in [int(x) for x in args.seeds.split(",")]:
            t = time.process_time()
            pf, cfg, fs, X, truth = case(args.size, planted, seed, seg, args.noise)
            columns = [str(c) for c in X.columns]
            Z = np.asarray(X, dtype=np.float64).copy()
            for c in zero:
                Z[:, columns.index(c)] = 0.0
            b2b = truth == "b2b_accounts"
            scale = [c for pat in args.b2b_scale.split(",") if pat for c in columns
                     if c == pat or (pat.endswith("*") and c.startswith(pat[:-1]))]
            for c in scale:
                j = columns.index(c)
                sd_b2b = Z[b2b, j].std()
                if sd_b2b > 0:
                    base = Z[~b2b, j].mean()
                    Z[:, j] = base + (Z[:, j] - base) * Z[:, j].std() / sd_b2b
            if scale:
                print(f"  rescaled among B2B: {scale}")
            labels = {k: KMeans(k, n_init=10, random_state=seed).fit_predict(Z)
                      for k in (planted - 1, planted, planted + 1) if k >= 2}
            ari = "  ".join(f"k={k}: {adjusted_rand_score(truth, lab):.3f}"
                            for k, lab in labels.items())
            print(f"size={args.size} planted={planted} seed={seed} X={Z.shape} zero={zero} "
                  f"ARI {ari}")
            for line in splits(Z, columns, truth, labels[planted + 1]):
                print(f"  split at k={planted + 1}: {line}")
            for c in [c for c in args.show.split(",") if c in columns]:
                j = columns.index(c)
                print(f"  {c}: sd {Z[:, j].std():.3f} over buyers, {Z[b2b, j].std():.3f} "
                      f"among B2B; levels among B2B "
                      f"{dict(pd.Series(Z[b2b, j]).round(2).value_counts().sort_index())}")
            if args.rule:
                from segml.pipeline import run_select_k

                sel = run_select_k(cfg, pd.DataFrame(Z, index=X.index, columns=X.columns), fs,
                                   progress=False)
                tab = sel.table
                row = tab[tab["k"] == planted]
                ps = (f"{float(row['prediction_strength'].iloc[0]):.2f}"
                      if "prediction_strength" in tab and len(row) else "n/a")
                g = tab.drop_duplicates("k").set_index("k")
                peak = int(g["gap"].idxmax()) if "gap" in g else 0
                curve = (f" Gap(planted k)={g.at[planted, 'gap']:.3f}, Gap(1)={g.at[1, 'gap']:.3f},"
                         f" peak k={peak} Gap={g.at[peak, 'gap']:.3f} s={g.at[peak, 'gap_s']:.3f}"
                         if peak else "")
                print(f"  rule {cfg['segmentation']['rule']}: k={sel.recommended['k']} "
                      f"verdict={sel.verdict!r} PS(planted k)={ps}{curve}")
            print(f"  cpu {time.process_time() - t:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""CDNOW master backtest of issue 13: quarterly cutoffs 1997-06-30 -> 1998-03-31, 3-month horizon.

The default cluster model (k swept as ``segml run`` does) against the RFM groups, ABC, the
BG/NBD x Gamma-Gamma forecast deciles and the two baselines, refitted at each cutoff, judged
out of sample (segment rates cross-fitted over 5 folds of customers). Run::

    PYTHONPATH=. python bench/backtest_cdnow.py [--out DIR] [--n-boot 200]
        [--forward] [--no-clusters | --cluster-k K] [--n-folds 5]

``--forward`` adds the BG/NBD x Gamma-Gamma forecast of the next 13 weeks' spend
(``segml.value.ForwardValuePredictor``, issue 14) as a predictor judged with the same ranking
metrics; ``--no-clusters`` leaves the (slow) cluster sweep out; ``--cluster-k K`` fits a
cluster model with k fixed instead of swept (a fast stand-in, not segml run's model);
``--n-folds 1`` gives the old in-sample metrics.

Prints the verdict and the tables (``BacktestResult.summary``) and the per-cutoff tables.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from segml.backtest import ClusterModel, backtest
from segml.io import load_cdnow, shared_data_path
from segml.value import ForwardValuePredictor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--out", default=None, help="folder for the CSV tables")
    ap.add_argument("--n-stability", type=int, default=None,
                    help="refits per k in the cluster sweep (default: segml run's, 10)")
    ap.add_argument("--forward", action="store_true",
                    help="add the BG/NBD x Gamma-Gamma spend forecast as a predictor")
    ap.add_argument("--no-clusters", action="store_true", help="leave the cluster model out")
    ap.add_argument("--cluster-k", type=int, default=None,
                    help="cluster model with this fixed k (no sweep)")
    ap.add_argument("--n-folds", type=int, default=5,
                    help="folds of the cross-fitted segment rates (1: in sample)")
    args = ap.parse_args()
    ds = load_cdnow(shared_data_path("CDNOW_master.txt"))
    t = time.perf_counter()
    seg = {} if args.n_stability is None else {"n_stability": args.n_stability}
    print("cluster model: " + ("none" if args.no_clusters else f"k fixed at {args.cluster_k}"
                               if args.cluster_k is not None else
                               f"segml run's [segmentation] defaults, overrides {seg or 'none'}"))
    segmenters: dict = {} if args.no_clusters else {
        "clusters": ClusterModel(segmentation=seg) if args.cluster_k is None
        else ClusterModel(k=args.cluster_k)}
    segmenters.update({"rfm_groups": "rfm_groups", "abc": "abc",
                       "forecast_deciles": "forecast_deciles"})
    predictors = ({"forward_spend": ForwardValuePredictor(time_unit="W", horizon=13,
                                                          target="spend")}
                  if args.forward else None)
    res = backtest(ds.transactions, ds.customers, cutoffs="quarterly", start="1997-06-30",
                   end="1998-03-31", horizon="3M", segmenters=segmenters, predictors=predictors,
                   n_boot=args.n_boot, random_state=0, n_folds=args.n_folds,
                   progress=lambda m: print(f"[{time.perf_counter() - t:7.1f}s] {m}",
                                            flush=True))
    print(res.summary())
    with pd.option_context("display.width", 220, "display.max_columns", 30,
                           "display.max_rows", 200):
        print("\nper cutoff:")
        print(res.table("per_cutoff").to_string())
        print("\nstability per pair:")
        print(res.stability.round({"ari": 3, "psi": 3, "centroid_drift": 3}).to_string(index=False))
        print("\nsegments per cutoff (k):")
        print(res.n_segments.rename(columns=lambda c: str(c.date())).to_string())
    print(f"\ntimings: { {k: round(v, 1) for k, v in res.timings.items()} }, "
          f"total {time.perf_counter() - t:.1f}s")
    if args.out:
        from pathlib import Path

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        res.overall.to_csv(out / "overall.csv", index=False)
        res.validity.to_csv(out / "validity.csv", index=False)
        res.stability.to_csv(out / "stability.csv", index=False)
        res.segments.to_csv(out / "segments.csv", index=False)


if __name__ == "__main__":
    main()

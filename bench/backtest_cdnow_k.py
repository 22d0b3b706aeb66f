"""CDNOW backtest with k-means at k = 8, 50, 200: in-sample against out-of-sample metrics.

Shows the optimism of in-sample segment rates growing with the number of segments (issue 13).
Same cutoffs and horizon as ``bench/backtest_cdnow.py``, no bootstrap. The out-of-sample
values are the backtest's (5-fold cross-fitted); the in-sample ones are
:func:`segml.backtest.segment_metrics` on the same assignments without folds. Run::

    PYTHONPATH=. python bench/backtest_cdnow_k.py
"""

from __future__ import annotations

import time

import pandas as pd

from segml.backtest import ClusterModel, Groups, backtest, segment_metrics
from segml.io import load_cdnow, shared_data_path

METRICS = ("auc_bought_again", "capture_top10", "spearman_revenue", "top_segment_lift",
           "r2_revenue", "r2_log_revenue")


def main() -> None:
    ds = load_cdnow(shared_data_path("CDNOW_master.txt"))
    t = time.perf_counter()
    segs = {f"km{k}": ClusterModel(k=k) for k in (8, 50, 200)}
    res = backtest(ds.transactions, ds.customers, cutoffs="quarterly", start="1997-06-30",
                   end="1998-03-31", horizon="3M", segmenters=segs, n_boot=0, random_state=0)
    print("backtest", round(time.perf_counter() - t, 1), "s")
    for name in [*segs, "recency_deciles"]:
        ins = []
        for c in res.cutoffs:
            out = res.outcomes[c]
            codes, u = pd.factorize(res.assignments[name][c].loc[out.index], sort=True)
            grp = Groups(out["revenue"].to_numpy(), out["bought_again"].to_numpy())
            ins.append(segment_metrics(codes, len(u), grp))
        m = pd.DataFrame(ins).mean()
        ov = res.overall[res.overall["name"] == name].set_index("metric")["value"]
        print(name, "k", res.n_segments.loc[name].tolist(), " | ".join(
            f"{k}: {m[k]:.3f} -> {ov[k]:.3f}" for k in METRICS))


if __name__ == "__main__":
    main()

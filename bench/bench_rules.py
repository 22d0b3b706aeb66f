"""Benchmark rule segments and the clusters-vs-rules comparison against plain pandas/sklearn.

Each side runs in its own subprocess so its peak RSS (``os.wait4`` rusage) is its own.

* ``segml``: ``RuleSegmenter("rfm_groups").fit(frame).predict(frame)`` (parsed rules,
  three-valued logic, overlap counts) then ``compare_segmentations(clusters, rfm, frame)``
  (contingency, shares, revenue shares, lift, ARI/AMI/NMI/V, Hungarian matching, profiles
  with top attributes).
* ``plain``: the same 12 RFM groups hand-coded as pandas boolean masks + ``np.select``,
  then ``pd.crosstab`` + the four sklearn scores + ``linear_sum_assignment`` + revenue
  shares — what an analyst writes by hand, without profiles. sklearn gets the string
  labels as they are.
* ``plain+codes``: the same, with the labels integer-coded once (``pd.factorize``) before
  the sklearn scores (sklearn sorts the labels again in every metric; strings sort slowly).

Both sides must produce the same labels (the script checks a hash of them).

Usage::

    .venv/bin/python bench/bench_rules.py             # 1,000,000 customers
    .venv/bin/python bench/bench_rules.py --n 200000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

MAKE = r"""
import numpy as np, pandas as pd
def make(n):
    rng = np.random.default_rng(0)
    r = rng.integers(1, 6, n)
    f = rng.integers(1, 6, n)
    m = np.clip(f + rng.integers(-1, 2, n), 1, 5)
    pro = rng.random(n) < 0.05
    r[pro] = 0; f[pro] = 0; m[pro] = 0
    rec = np.where(pro, np.nan, (6 - r) * 60 + rng.integers(0, 60, n)).astype(float)
    mon = np.where(pro, 0.0, np.exp(m + rng.normal(0, 0.3, n)))
    abc = np.select([pro, m >= 5, m >= 3], ["none", "A", "B"], "C")
    gender = np.where(rng.random(n) < 0.5, "F", "M")
    idx = pd.Index([f"C{i:07d}" for i in range(n)], name="customer_id")
    frame = pd.DataFrame({"r_score": r, "f_score": f, "m_score": m, "recency_days": rec,
                          "frequency": f * 2, "monetary": mon, "abc_class": abc,
                          "gender": gender, "is_prospect": pro}, index=idx)
    frame["abc_class"] = frame["abc_class"].astype("str")
    frame["gender"] = frame["gender"].astype("str")
    clusters = pd.Series(np.where(pro, 4, np.clip((r + m) // 2 - 1, 0, 3)), index=idx)
    return frame, clusters
"""

CHILD_SEGML = (
    MAKE
    + r"""
import json, sys, time, hashlib
from segml.rules import RuleSegmenter, compare_segmentations
frame, clusters = make(int(sys.argv[1]))
t = time.perf_counter()
seg = RuleSegmenter("rfm_groups").fit(frame)
fit_s = time.perf_counter() - t
t = time.perf_counter()
labels = seg.predict(frame)
predict_s = time.perf_counter() - t
t = time.perf_counter()
res = compare_segmentations(clusters, labels, frame, names=("cluster", "rfm"))
compare_s = time.perf_counter() - t
h = hashlib.sha1(labels.astype(str).str.cat(sep=",").encode()).hexdigest()[:12]
print(json.dumps({"fit_s": fit_s, "predict_s": predict_s, "compare_s": compare_s,
                  "ari": res.scores["ari"], "agreement": res.agreement, "hash": h}))
"""
)

CHILD_PLAIN = (
    MAKE
    + r"""
import json, sys, time, hashlib
from scipy.optimize import linear_sum_assignment
from sklearn import metrics
frame, clusters = make(int(sys.argv[1]))
t = time.perf_counter()
r, f, m = frame["r_score"], frame["f_score"], frame["m_score"]
fm = (f + m) / 2
conds = [
    (r == 5) & (fm >= 4), r.between(3, 4) & (fm >= 4), (r >= 4) & (fm >= 2) & (fm < 4),
    (r == 5) & (fm < 2), (r == 4) & (fm < 2), (r == 3) & (fm >= 3) & (fm < 4),
    (r == 3) & (fm < 3), (r <= 2) & (r >= 1) & (fm >= 5),
    (r <= 2) & (r >= 1) & (fm >= 3) & (fm < 5), (r == 1) & (fm < 2),
    ((r == 2) & (fm < 3)) | ((r == 1) & fm.between(2, 2.5)), r == 0,
]
names = ["champions", "loyal", "potential_loyalists", "new", "promising", "need_attention",
         "about_to_sleep", "cannot_lose", "at_risk", "lost", "hibernating", "prospects"]
labels = pd.Series(np.select(conds, names, "other"), index=frame.index)
predict_s = time.perf_counter() - t
t = time.perf_counter()
ct = pd.crosstab(clusters, labels)
# sys.argv[2] == "codes": integer-code the labels once before the sklearn metrics
lab = pd.factorize(labels)[0] if sys.argv[2] == "codes" else labels
scores = {"ari": metrics.adjusted_rand_score(clusters, lab),
          "ami": metrics.adjusted_mutual_info_score(clusters, lab),
          "nmi": metrics.normalized_mutual_info_score(clusters, lab),
          "v": metrics.v_measure_score(lab, clusters)}
i, j = linear_sum_assignment(ct.to_numpy(), maximize=True)
agreement = ct.to_numpy()[i, j].sum() / len(labels)
rev = frame["monetary"].groupby([clusters, labels]).sum().unstack(fill_value=0)
rev = rev / frame["monetary"].sum()
compare_s = time.perf_counter() - t
h = hashlib.sha1(labels.astype(str).str.cat(sep=",").encode()).hexdigest()[:12]
print(json.dumps({"fit_s": 0.0, "predict_s": predict_s, "compare_s": compare_s,
                  "ari": scores["ari"], "agreement": agreement, "hash": h}))
"""
)


def run(code: str, n: int, variant: str = "") -> dict:
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(n), variant],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    wall = time.perf_counter() - t
    if status != 0:
        raise SystemExit(f"child failed:\n{err}")
    res = json.loads(out.strip().splitlines()[-1])
    res["wall_s"] = wall
    res["peak_rss_mib"] = usage.ru_maxrss / 1024
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    import numpy
    import pandas
    import scipy
    import sklearn

    print(
        f"python {platform.python_version()}, numpy {numpy.__version__}, pandas "
        f"{pandas.__version__}, scikit-learn {sklearn.__version__}, scipy {scipy.__version__}; "
        f"{os.cpu_count()} cpus; n = {args.n:,}"
    )
    seg = run(CHILD_SEGML, args.n)
    plain = run(CHILD_PLAIN, args.n, "strings")
    coded = run(CHILD_PLAIN, args.n, "codes")
    for other in (plain, coded):
        if seg["hash"] != other["hash"]:
            raise SystemExit(f"labels differ: segml {seg['hash']} vs plain {other['hash']}")
    print(f"labels identical (hash {seg['hash']}); ARI {seg['ari']:.4f} / {plain['ari']:.4f}")
    hdr = f"{'side':<12}{'fit s':>8}{'predict s':>11}{'rows/s':>13}{'compare s':>11}"
    print(hdr + f"{'wall s':>9}{'peak RSS MiB':>14}")
    for name, r in (("segml", seg), ("plain", plain), ("plain+codes", coded)):
        print(
            f"{name:<12}{r['fit_s']:>8.3f}{r['predict_s']:>11.3f}"
            f"{args.n / r['predict_s']:>13,.0f}{r['compare_s']:>11.3f}"
            f"{r['wall_s']:>9.2f}{r['peak_rss_mib']:>14.0f}"
        )


if __name__ == "__main__":
    main()

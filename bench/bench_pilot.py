"""Bench: how often the pilot readout finds a planted effect, and how often it false-flags.

The demo portfolio (``make_portfolio(--customers, random_state=0)``, prospects left out,
stratified by the planted segment), a pilot of ``--fraction`` of every segment, a 30-day
window simulated by :func:`segml.pilot.simulate_pilot_outcomes` with the treated customers
of ``--segment`` ordering ``1 + --uplift`` times as often. For each of ``--seeds`` seeds
(pilot draw, outcomes and bootstrap all seeded by it) it counts, per metric:

* true positives: the planted segment flagged (its adjusted interval excludes 0);
* false positives: any other segment flagged (family-wise: a run with one or more counts once);

and the same with ``--uplift 0`` (no effect anywhere: every flag is false). The readout holds
the family-wise error at ``alpha`` = 5% per metric (Bonferroni intervals), so the expected
false-positive share is at most about 0.05 per metric.

Usage::

    .venv/bin/python bench/bench_pilot.py --seeds 200
"""

from __future__ import annotations

import argparse
import time

from segml.datasets import make_portfolio
from segml.pilot import METRICS, pilot_readout, pilot_sample, simulate_pilot_outcomes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--fraction", type=float, default=0.7)
    ap.add_argument("--segment", default="new_growing")
    ap.add_argument("--uplift", type=float, default=2.0)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    pf = make_portfolio(args.customers, random_state=0)
    truth = pf.truth[pf.truth != "prospect"]
    t0 = time.perf_counter()
    for uplift in (args.uplift, 0.0):
        tp = dict.fromkeys(METRICS, 0)
        fp = dict.fromkeys(METRICS, 0)
        for seed in range(args.seeds):
            pilot = pilot_sample(truth, fraction=args.fraction, random_state=seed)
            eff = {args.segment: uplift} if uplift else {}
            out = simulate_pilot_outcomes(pilot, pf.transactions, as_of=pf.as_of,
                                          window_days=30, uplift=eff, random_state=seed)
            r = pilot_readout(pilot, out, n_boot=args.n_boot, random_state=seed)
            for m in METRICS:
                flagged = r.flagged(m)
                tp[m] += args.segment in flagged and bool(uplift)
                fp[m] += any(s != args.segment or not uplift for s in flagged)
        print(f"uplift {uplift:g} on {args.segment!r}, {args.seeds} seeds, pilot "
              f"{len(pilot.frame):,} of {len(truth):,} buyers in {len(pilot.arms)} segments:")
        for m in METRICS:
            print(f"  {m:<22} true positives {tp[m]:>4}/{args.seeds}   runs with a false "
                  f"positive {fp[m]:>4}/{args.seeds}")
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

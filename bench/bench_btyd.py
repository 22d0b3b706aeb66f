"""Bench: segml.value (BG/NBD + Gamma-Gamma, scipy) vs lifetimes 0.11.3 on the same summaries.

Jobs, each in its own subprocess (peak RSS from ``resource.getrusage``):

* ``cdnow``: CDNOW master (23,570 customers, 69,659 rows), calibration 1997-01-01 → 1997-09-30
  (39 weeks). segml times ``rfm_summary``, the BG/NBD fit, the Gamma-Gamma fit (customers with
  ``x >= 1`` and ``monetary > 0``; the master file has $0 rows) and the prediction.
* ``synthetic``: ``--customers`` customers simulated from BG/NBD + Gamma-Gamma with the CDNOW
  sample's published parameters, ages ``T`` uniform over a 12-week cohort ending 39 weeks
  later, continuous times (no two customers share ``(x, t_x, T)``: the fit's row collapsing
  does not help, the worst case).
* The other library fits the *same* ``(x, t_x, T, monetary)`` arrays (written to ``.npz``) when
  ``--other-python`` points at a Python with ``lifetimes`` installed, so fit and predict are
  compared like for like (lifetimes' own summary function rounds to whole periods, T = 39
  instead of 38.86 weeks, so it is not used).

"predict" = P(alive), expected purchases in the next 39 weeks, Gamma-Gamma expected spend per
customer; segml additionally times ``forward_value`` over 12 monthly periods (discount 1 %/month,
margin 30 %). Exactness: max relative difference of parameters and predictions between the two.

Usage::

    .venv/bin/python bench/bench_btyd.py                       # 20k synthetic, seconds
    nice -n 10 .venv/bin/python bench/bench_btyd.py --customers 1000000 \\
        --other-python /tmp/lifetimesvenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
CDNOW_SAMPLE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


# ------------------------------------------------------------------------------ children
def child_simulate(out: str, n: int, seed: int) -> dict:
    import numpy as np

    from segml.value import BGNBDParams, GammaGammaParams, simulate_bgnbd

    rng = np.random.default_rng(seed)
    T = 39.0 - rng.uniform(0.0, 12.0, n)
    t0 = time.perf_counter()
    s = simulate_bgnbd(n, BGNBDParams(**CDNOW_SAMPLE), T, spend=GammaGammaParams(**CDNOW_GG),
                       random_state=rng)
    sim_s = time.perf_counter() - t0
    np.savez(out, x=s["x"].to_numpy(float), t_x=s["t_x"].to_numpy(), T=s["T"].to_numpy(),
             monetary=s["monetary"].to_numpy())
    return {"simulate_s": sim_s, "n": n, "repeat_share": float((s["x"] > 0).mean()),
            "peak_mb": _peak_mb()}


def child_segml(inp: str, out: str, master: str) -> dict:
    import numpy as np
    import pandas as pd

    from segml.value import BGNBD, GammaGamma, forward_value

    res: dict = {"rss_after_import_mb": _rss_mb()}
    if master:
        from segml.io import load_cdnow
        from segml.value import rfm_summary

        tx = load_cdnow(master).transactions
        t0 = time.perf_counter()
        s = rfm_summary(tx, "1997-09-30")
        res["summary_s"] = time.perf_counter() - t0
        res["n_rows"] = len(tx)
        np.savez(inp, x=s["x"].to_numpy(float), t_x=s["t_x"].to_numpy(), T=s["T"].to_numpy(),
                 monetary=s["monetary"].to_numpy())
    d = np.load(inp)
    s = pd.DataFrame({k: d[k] for k in ("x", "t_x", "T", "monetary")})
    res["n"] = len(s)
    t0 = time.perf_counter()
    bg = BGNBD().fit(s)
    res["fit_bgnbd_s"] = time.perf_counter() - t0
    spend_rows = s[(s["x"] > 0) & (s["monetary"] > 0)]
    res["n_gg"] = len(spend_rows)
    t0 = time.perf_counter()
    gg = GammaGamma().fit(spend_rows)
    res["fit_gg_s"] = time.perf_counter() - t0
    x, t_x, T, m = (s[c].to_numpy() for c in ("x", "t_x", "T", "monetary"))
    t0 = time.perf_counter()
    p_alive = bg.probability_alive(x, t_x, T)
    e39 = bg.conditional_expected_purchases(39.0, x, t_x, T)
    spend = gg.conditional_expected_spend(x, m)
    res["predict_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fv = forward_value(bg, gg, s, horizon=12, period_length=52 / 12, discount_rate=0.01,
                       margin=0.3)
    res["forward_value_12m_s"] = time.perf_counter() - t0
    res["total_clv"] = float(fv["clv"].sum())
    res["params"] = {**bg.params_.__dict__, **gg.params_.__dict__}
    res["log_likelihood"] = bg.log_likelihood_
    res["bg_iterations"] = int(bg.result_.nit)
    np.savez(out, p_alive=p_alive, e39=e39, spend=spend)
    res["peak_mb"] = _peak_mb()
    return res


def child_lifetimes(inp: str, out: str) -> dict:
    import warnings

    import numpy as np
    import pandas as pd

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    import lifetimes
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    res: dict = {"import_s": time.perf_counter() - t0, "version": lifetimes.__version__,
                 "rss_after_import_mb": _rss_mb()}
    d = np.load(inp)
    s = pd.DataFrame({k: d[k] for k in ("x", "t_x", "T", "monetary")})
    t0 = time.perf_counter()
    bg = BetaGeoFitter().fit(s["x"], s["t_x"], s["T"])
    res["fit_bgnbd_s"] = time.perf_counter() - t0
    spend_rows = s[(s["x"] > 0) & (s["monetary"] > 0)]
    t0 = time.perf_counter()
    gg = GammaGammaFitter().fit(spend_rows["x"], spend_rows["monetary"])
    res["fit_gg_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    p_alive = np.asarray(bg.conditional_probability_alive(s["x"], s["t_x"], s["T"]), float)
    e39 = np.asarray(bg.conditional_expected_number_of_purchases_up_to_time(
        39.0, s["x"], s["t_x"], s["T"]), float)
    spend = np.asarray(gg.conditional_expected_average_profit(s["x"], s["monetary"].fillna(0)),
                       float)
    res["predict_s"] = time.perf_counter() - t0
    p = {**bg.params_.to_dict(), **gg.params_.to_dict()}
    res["params"] = {"r": p["r"], "alpha": p["alpha"], "a": p["a"], "b": p["b"], "p": p["p"],
                     "q": p["q"], "gamma": p["v"]}
    res["nonfinite_predictions"] = int((~np.isfinite(e39)).sum() + (~np.isfinite(p_alive)).sum())
    np.savez(out, p_alive=p_alive, e39=e39, spend=spend)
    res["peak_mb"] = _peak_mb()
    return res


# ------------------------------------------------------------------------------ driver
def _run(python: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([python, str(HERE), "--child", *args], capture_output=True,
                          text=True, check=False, env=env)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _compare(data: str, a: str, b: str, pa: dict, pb: dict) -> dict:
    import numpy as np

    from segml.value import bgnbd_log_likelihood, gamma_gamma_log_likelihood

    d = np.load(data)
    rep = (d["x"] > 0) & (d["monetary"] > 0)

    def lls(p: dict) -> tuple[float, float]:
        bg = bgnbd_log_likelihood([p["r"], p["alpha"], p["a"], p["b"]], d["x"], d["t_x"], d["T"])
        gg = gamma_gamma_log_likelihood([p["p"], p["q"], p["gamma"]], d["x"][rep],
                                        d["monetary"][rep])
        return float(bg.sum()), float(gg.sum())

    (bg_a, gg_a), (bg_b, gg_b) = lls(pa), lls(pb)
    da, db = np.load(a), np.load(b)
    out = {"params_max_rel": max(abs(pa[k] - pb[k]) / abs(pb[k]) for k in pa),
           "bgnbd_ll_segml_minus_other": bg_a - bg_b, "gg_ll_segml_minus_other": gg_a - gg_b}
    for k in ("p_alive", "e39", "spend"):
        x, y = da[k], db[k]
        ok = np.isfinite(x) & np.isfinite(y)
        out[f"{k}_max_rel"] = float(np.max(np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]),
                                                                              1e-300)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--master", default=str(ROOT.parent / "shared" / "data" / "CDNOW_master.txt"))
    ap.add_argument("--other-python", default="")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))  # the driver compares with this checkout's segml.value
    work = Path(args.workdir or tempfile.mkdtemp(prefix="segml_btyd_"))
    work.mkdir(parents=True, exist_ok=True)
    print(json.dumps({"python": platform.python_version(), "load_avg": os.getloadavg(),
                      "customers": args.customers}))
    jobs = []
    if Path(args.master).is_file():
        jobs.append(("cdnow_master", str(work / "cdnow.npz"), args.master))
    sim = str(work / f"sim_{args.customers}.npz")
    print("simulate:", json.dumps(_run(sys.executable, "simulate", sim, str(args.customers),
                                       str(args.seed))))
    jobs.append((f"synthetic_{args.customers}", sim, ""))
    for name, npz, master in jobs:
        seg_out = str(work / f"{name}_segml_pred.npz")
        seg = _run(sys.executable, "segml", npz, seg_out, master)
        print(f"{name} segml:", json.dumps(seg))
        if args.other_python and "error" not in seg:
            lt_out = str(work / f"{name}_lifetimes_pred.npz")
            lt = _run(args.other_python, "lifetimes", npz, lt_out)
            print(f"{name} lifetimes:", json.dumps(lt))
            if "error" not in lt:
                print(f"{name} diff:", json.dumps(_compare(npz, seg_out, lt_out, seg["params"],
                                                           lt["params"])))
    print(json.dumps({"load_avg_end": os.getloadavg()}))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "simulate":
            result = child_simulate(rest[0], int(rest[1]), int(rest[2]))
        elif kind == "segml":
            result = child_segml(*rest)
        else:
            result = child_lifetimes(*rest)
        print(json.dumps(result))
    else:
        main()

"""k selection at scale (tracker issue 19): segml's default select_k against the plain sweep.

Command (each measurement is a fresh child process on the same cached feature matrix)::

    python bench/scale_select_k.py DATA_DIR [--what segml plain] [--segml SRC] [--screen auto]
                                   [--phases] [--cache /tmp/segml-scale-cache]

``DATA_DIR`` holds the harness's ``transactions.parquet`` and ``customers.parquet``
(``bench/scale_data.py`` / ``bench/bench_scale.py`` write them); the model matrix ``segml run``
would cluster (default config, ``features.as_of = 2024-12-31``) is built once and pickled under
``--cache``. Then, per ``--what``:

- ``segml``: ``segml.pipeline.run_select_k`` with the default ``[segmentation]`` config (k 1..10,
  kmeans + gmm/diag, gap rule, bootstrap stability, ``fit_sample_size`` 200,000), ``n_jobs`` 1;
  ``--screen`` passes ``select_k(screen=...)`` (``auto``: the default; ``off``: every row, the
  behaviour before screening; the code before it has no such argument, ``--segml`` then runs as
  is). ``--segml SRC`` imports segml from another source tree (``git archive <commit> segml``).
- ``plain``: what an analyst would write — ``StandardScaler`` + scikit-learn ``KMeans`` (its
  defaults, ``random_state=0``) for k = 2..10, each scored by ``silhouette_score`` on a 50,000-row
  sample (the issue's reference sweep).

Reported per process: CPU seconds (``time.process_time``: user + system of all threads, the
measure that survives a loaded machine), wall seconds, peak RSS (``ru_maxrss``), the load average
before and after, and for segml the recommendation. ``--phases`` adds CPU seconds per phase
(exclusive: a phase nested in another is subtracted from it): sweep fits per algorithm, all-row
criteria, sampled silhouette, mixture BIC, bootstrap refits per algorithm, gap curve (data and
references), prediction strength. One JSON line per process on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SIL_SAMPLE = 50_000


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def build_matrix(data_dir: Path, cache: Path) -> Path:
    """Build (once) and pickle the model matrix ``segml run`` clusters on ``data_dir``."""
    out = cache / f"{data_dir.name}.pkl"
    if out.exists():
        return out
    import copy

    from segml.config import DEFAULTS
    from segml.pipeline import load_data
    from segml.pipeline.run import build_run_features, model_matrix

    cfg = copy.deepcopy(DEFAULTS)
    cfg["data"]["transactions"] = str(data_dir / "transactions.parquet")
    cfg["data"]["customers"] = str(data_dir / "customers.parquet")
    cfg["features"]["as_of"] = "2024-12-31"
    data = load_data(cfg)
    X, _ = model_matrix(cfg, build_run_features(cfg, data))
    cache.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        pickle.dump({"X": X, "cfg": cfg}, f)
    return out


class Phases:
    """Exclusive CPU seconds per named phase, by wrapping functions in place."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.stack: list[list[float]] = []

    def wrap(self, owner: Any, attr: str, name: Any) -> None:
        inner = getattr(owner, attr)
        phases = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            label = name(args, kwargs) if callable(name) else name
            if label is None:
                return inner(*args, **kwargs)
            phases.stack.append([time.process_time(), 0.0])
            try:
                return inner(*args, **kwargs)
            finally:
                start, children = phases.stack.pop()
                spent = time.process_time() - start
                phases.cpu[label] = phases.cpu.get(label, 0.0) + spent - children
                if phases.stack:
                    phases.stack[-1][1] += spent

        setattr(owner, attr, wrapper)


def _instrument() -> Phases:
    from sklearn.mixture import GaussianMixture

    import segml.cluster.gap  # noqa: F401
    import segml.cluster.select_k  # noqa: F401
    from segml.cluster.segmenter import Segmenter

    # the package exports functions under their modules' names: take the modules themselves
    sk = sys.modules["segml.cluster.select_k"]
    gap_mod = sys.modules["segml.cluster.gap"]

    ph = Phases()
    in_stab: list[bool] = [False]

    def fit_label(args: Any, kwargs: Any) -> str | None:
        return None if in_stab[0] else f"sweep fit: {args[0].algorithm}"

    ph.wrap(Segmenter, "fit", fit_label)
    inner_stab = sk.bootstrap_stability

    def stab(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        in_stab[0] = True
        try:
            return inner_stab(estimator, *args, **kwargs)
        finally:
            in_stab[0] = False

    sk.bootstrap_stability = stab
    ph.wrap(sk, "bootstrap_stability", lambda a, k: f"bootstrap stability: {a[0].algorithm}")
    ph.wrap(sk, "cluster_stats", "all-row criteria (CH, DB, inertia)")
    ph.wrap(sk, "_sq_silhouette", "all-row squared-Euclidean silhouette")
    ph.wrap(sk, "sampled_silhouette", "sampled Euclidean silhouette (+ bootstrap CI)")
    ph.wrap(GaussianMixture, "bic", "gmm BIC")
    ph.wrap(gap_mod, "gap_statistic", "gap curve (data + references)")
    ph.wrap(gap_mod, "prediction_strength", "prediction strength")
    return ph


def run_segml(matrix: Path, screen: str, phases: bool) -> dict[str, Any]:
    """Default select_k of ``segml run`` on the cached matrix."""
    import segml
    from segml.pipeline.run import run_select_k

    d = pickle.load(open(matrix, "rb"))
    X, cfg = d["X"], d["cfg"]
    ph = _instrument() if phases else None
    extra = {} if screen == "default" else {"screen": {"auto": "auto", "off": False,
                                                       "on": True}[screen]}
    if extra:
        import segml.cluster as cl
        orig = cl.select_k

        def patched(*a: Any, **k: Any) -> Any:
            return orig(*a, **k, **extra)

        cl.select_k = patched
    load0 = _load()
    c0, w0 = time.process_time(), time.perf_counter()
    res = run_select_k(cfg, X, progress=False)
    out = {
        "what": "segml select_k", "segml": str(Path(segml.__file__).parent), "screen": screen,
        "rows": int(X.shape[0]), "cols": int(X.shape[1]),
        "cpu_s": round(time.process_time() - c0, 1), "wall_s": round(time.perf_counter() - w0, 1),
        "load_before": load0, "load_after": _load(),
        "verdict": res.verdict, "k": int(res.recommended["k"]),
        "algorithm": res.recommended.get("algorithm"),
        "supported": res.recommended.get("supported"),
        "reproducible": res.recommended.get("reproducible"),
        "screen_note": res.settings.get("screen_note", ""),
    }
    if ph is not None:
        out["phases_cpu_s"] = {k: round(v, 1) for k, v in
                               sorted(ph.cpu.items(), key=lambda kv: -kv[1])}
    return out


def run_plain(matrix: Path) -> dict[str, Any]:
    """StandardScaler + KMeans k=2..10 with a 50k-sample silhouette (the issue's sweep)."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    X = pickle.load(open(matrix, "rb"))["X"]
    load0 = _load()
    c0, w0 = time.process_time(), time.perf_counter()
    Z = StandardScaler().fit_transform(np.asarray(X, dtype=np.float64))
    sil = {}
    for k in range(2, 11):
        lab = KMeans(k, random_state=0).fit_predict(Z)
        sil[k] = float(silhouette_score(Z, lab, sample_size=min(SIL_SAMPLE, len(Z)),
                                        random_state=0))
    return {"what": "plain sklearn sweep", "rows": int(Z.shape[0]), "cols": int(Z.shape[1]),
            "cpu_s": round(time.process_time() - c0, 1),
            "wall_s": round(time.perf_counter() - w0, 1), "load_before": load0,
            "load_after": _load(), "k_best_silhouette": max(sil, key=sil.get)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--what", nargs="+", default=["segml", "plain"], choices=["segml", "plain"])
    ap.add_argument("--segml", default=None, help="source tree to import segml from")
    ap.add_argument("--screen", default="default", choices=["default", "auto", "off", "on"])
    ap.add_argument("--phases", action="store_true")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/segml-scale-cache"))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import resource

        matrix = Path(args.child)
        res = (run_segml(matrix, args.screen, args.phases) if args.what == ["segml"]
               else run_plain(matrix))
        res["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
        print(json.dumps(res), flush=True)
        return
    matrix = build_matrix(args.data_dir, args.cache)
    for what in args.what:
        env = dict(os.environ)
        if args.segml and what == "segml":
            env["PYTHONPATH"] = args.segml
        cmd = [sys.executable, __file__, str(args.data_dir), "--what", what, "--child",
               str(matrix), "--screen", args.screen] + (["--phases"] if args.phases else [])
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()

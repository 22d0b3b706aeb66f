"""Scoring benchmark: segml's compiled scorer versus the plain scikit-learn pipeline.

Same run, same data, same fitted model. Each side runs in its own subprocess so its peak
RSS is its own. Labels of the segml side are checked identical to ``pipeline.predict``.

Sections
--------
1. batch: 1M prepared customers, StandardScaler + OneHotEncoder + KMeans(8) with 46 model
   features (30 numeric + 4 categoricals x 4 levels), ``pipeline.predict`` vs
   ``score_features(model, frame)`` (with and without the driver columns) and the bare
   compiled matrix + assignment;
2. single: one customer, ``pipeline.predict(pd.DataFrame([record]))`` vs ``score_one``;
3. size: joblib of the fitted pipeline (with ``labels_``) vs the saved model folder;
4. load: ``load_model`` warm, and a fresh interpreter (imports included);
5. segml preprocessor (when ``segml.features.build`` is importable): the features layer's
   ``make_preprocessor`` + ``Segmenter`` on a synthetic portfolio tiled to ``--rows``.

Usage: ``python bench/bench_scoring.py [--rows 1000000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
N_NUM, N_CAT, LEVELS, K = 30, 4, 4, 8


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _frame(n: int, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (K, N_NUM))
    g = rng.integers(0, K, n)
    x = centers[g] + rng.normal(0, 1, (n, N_NUM))
    data = {f"num_{j}": x[:, j] for j in range(N_NUM)}
    levels = np.array([f"lvl_{i}" for i in range(LEVELS)], dtype=object)
    for j in range(N_CAT):
        pick = np.where(rng.random(n) < 0.7, g % LEVELS, rng.integers(0, LEVELS, n))
        data[f"cat_{j}"] = pd.array(levels[pick], dtype="str")
    ids = pd.Index(np.char.add("C", np.arange(n).astype(str)), name="customer_id", dtype="str")
    return pd.DataFrame(data, index=ids)


def prepare(work: Path, rows: int) -> dict:
    import joblib
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from segml.persistence import SegmentModel, save_model

    frame = _frame(rows)
    frame.to_parquet(work / "frame.parquet")
    train = _frame(200_000, seed=1)
    pre = ColumnTransformer([
        ("num", StandardScaler(), [f"num_{j}" for j in range(N_NUM)]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), [f"cat_{j}" for j in range(N_CAT)]),
    ])
    pipe = Pipeline([("pre", pre), ("km", KMeans(K, n_init=1, random_state=0))]).fit(train)
    joblib.dump(pipe, work / "pipeline.joblib")
    model = SegmentModel.from_training(pipe, train, name="bench")
    path = save_model(model, work / "model")
    n_out = int(pipe[-1].n_features_in_)
    np.save(work / "record_rows.npy", np.arange(0, rows, max(rows // 2000, 1))[:2000])
    return {
        "n_model_features": n_out,
        "pipeline_joblib_bytes": (work / "pipeline.joblib").stat().st_size,
        "labels_bytes_in_pipeline": int(pipe[-1].labels_.nbytes),
        "model_folder_bytes": {p.name: p.stat().st_size for p in path.iterdir()},
        "n_train": len(train),
    }


def _time(fn, repeat: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), out


def side(work: Path, name: str, repeat: int) -> dict:
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(work / "frame.parquet")
    base = _rss_mb()
    res: dict = {"side": name, "rows": len(frame), "rss_after_load_mb": base}
    if name == "plain":
        import joblib

        pipe = joblib.load(work / "pipeline.joblib")
        best, med, labels = _time(lambda: pipe.predict(frame), repeat)
        np.save(work / "labels_plain.npy", np.asarray(labels))
        t_pre, _, _ = _time(lambda: pipe[0].transform(frame), 1)
        res["transform_share"] = t_pre / best
    elif name.startswith("segml"):
        from segml.persistence import load_model
        from segml.scoring import score_features

        model = load_model(work / "model")
        if name == "segml_matrix":
            sc = model.scorer
            best, med, a = _time(lambda: sc.assign(sc.matrix(frame)), repeat)
            labels = a.labels
        else:
            explain = 3 if name == "segml_explain3" else 0
            best, med, r = _time(lambda: score_features(model, frame, explain=explain), repeat)
            labels = r.frame["segment_id"].to_numpy()
        np.save(work / f"labels_{name}.npy", np.asarray(labels))
    elif name == "single":
        import joblib

        from segml.persistence import load_model
        from segml.scoring import score_one

        pipe = joblib.load(work / "pipeline.joblib")
        model = load_model(work / "model")
        idx = np.load(work / "record_rows.npy")
        recs = [frame.iloc[int(i)].to_dict() for i in idx]
        plain_t, seg_t, agree = [], [], 0
        for j, rec in enumerate(recs):
            if j < 300:
                t = time.perf_counter()
                p = int(pipe.predict(pd.DataFrame([rec]))[0])
                plain_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            o = score_one(model, rec)
            seg_t.append(time.perf_counter() - t)
            if j < 300:
                agree += int(o["segment_id"] == p)
        res.update(
            plain_median_ms=statistics.median(plain_t) * 1e3,
            segml_median_ms=statistics.median(seg_t) * 1e3,
            segml_p99_ms=float(np.percentile(seg_t, 99) * 1e3),
            agree=f"{agree}/300",
        )
        res["peak_rss_mb"] = _rss_mb()
        return res
    elif name == "load":
        from segml.persistence import load_model

        load_model(work / "model")
        best, med, _ = _time(lambda: load_model(work / "model"), max(repeat, 5))
        res.update(load_warm_ms=best * 1e3, load_warm_median_ms=med * 1e3)
        res["peak_rss_mb"] = _rss_mb()
        return res
    elif name == "real":
        return real_preprocessor(work, len(frame), repeat)
    res.update(best_s=best, median_s=med, rows_per_s=len(frame) / best, peak_rss_mb=_rss_mb())
    return res


def real_preprocessor(work: Path, rows: int, repeat: int) -> dict:
    import numpy as np
    import pandas as pd

    try:
        from segml.cluster import Segmenter
        from segml.datasets import make_portfolio
        from segml.features.build import build_features, make_preprocessor
    except ImportError as exc:  # pragma: no cover - depends on the features layer
        return {"side": "real", "skipped": f"features layer not importable: {exc}"}
    from segml.persistence import SegmentModel
    from segml.scoring import score_features, score_one

    pf = make_portfolio(20_000, random_state=0)
    fs = build_features(pf.transactions, pf.customers, pf.as_of)
    seg = Segmenter(n_clusters=6, preprocessor=make_preprocessor(fs.spec, fs.frame),
                    random_state=0, n_init=1).fit(fs.frame)
    model = SegmentModel.from_training(seg, fs.frame, feature_set=fs, name="real")
    rng = np.random.default_rng(0)
    big = fs.frame.iloc[rng.integers(0, len(fs.frame), rows)]
    big.index = pd.Index([f"X{i}" for i in range(rows)], name="customer_id", dtype="str")
    base = _rss_mb()
    p_best, p_med, p_lab = _time(lambda: seg.predict(big), 1)
    s_best, s_med, r = _time(lambda: score_features(model, big, explain=0), repeat)
    recs = [fs.frame.iloc[i].to_dict() for i in range(0, 20_000, 20)]
    one = []
    for rec in recs:
        t = time.perf_counter()
        score_one(model, rec)
        one.append(time.perf_counter() - t)
    plain_one = []
    for rec in recs[:200]:
        row = pd.DataFrame([rec]).astype(fs.frame.dtypes.to_dict())
        t = time.perf_counter()
        seg.predict(row)
        plain_one.append(time.perf_counter() - t)
    return {
        "side": "real", "rows": rows, "n_input_columns": len(model.columns),
        "n_model_features": len(model.scorer.feature_names_out()),
        "fallbacks": model.scorer.fallbacks,
        "rss_after_load_mb": base,
        "plain_best_s": p_best, "plain_rows_per_s": rows / p_best,
        "segml_best_s": s_best, "segml_median_s": s_med, "segml_rows_per_s": rows / s_best,
        "labels_identical": bool(np.array_equal(p_lab, r.frame["segment_id"].to_numpy())),
        "single_segml_median_ms": statistics.median(one) * 1e3,
        "single_plain_median_ms": statistics.median(plain_one) * 1e3,
        "peak_rss_mb": _rss_mb(),
    }


def cold_load(work: Path) -> dict:
    code = (
        "import time; t=time.perf_counter(); from segml.persistence import load_model; "
        f"m=load_model({str(work / 'model')!r}); m.scorer; "
        "print(time.perf_counter()-t)"
    )
    times = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"cold_load_with_imports_s_min": min(times),
            "cold_load_median_s": statistics.median(times)}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, str(HERE), *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", default=None)
    ap.add_argument("--work", default=None)
    ap.add_argument("--skip-real", action="store_true")
    a = ap.parse_args()
    if a.child:
        work = Path(a.work)
        if a.child == "prepare":
            print(json.dumps(prepare(work, a.rows)))
        else:
            print(json.dumps(side(work, a.child, a.repeat)))
        return
    import numpy as np
    import pandas as pd
    import sklearn

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"scikit-learn {sklearn.__version__}, cores {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        common = ["--work", tmp, "--rows", str(a.rows), "--repeat", str(a.repeat)]
        prep = _child(["--child", "prepare", *common])
        print("prepare:", json.dumps(prep))
        results = {}
        sides = ["plain", "segml_explain0", "segml_explain3", "segml_matrix", "single", "load"]
        if not a.skip_real:
            sides.append("real")
        for name in sides:
            results[name] = _child(["--child", name, *common])
            print(f"{name}:", json.dumps(results[name]))
        plain = np.load(Path(tmp) / "labels_plain.npy")
        for name in ("segml_explain0", "segml_explain3", "segml_matrix"):
            same = np.array_equal(plain, np.load(Path(tmp) / f"labels_{name}.npy"))
            print(f"labels identical to pipeline.predict ({name}): {same}")
        print("cold load:", json.dumps(cold_load(Path(tmp))))
        p, s = results["plain"], results["segml_explain0"]
        print(f"speed-up batch (explain=0): {p['best_s'] / s['best_s']:.2f}x; "
              f"segml {s['rows_per_s']:,.0f} rows/s vs plain {p['rows_per_s']:,.0f} rows/s")


if __name__ == "__main__":
    main()

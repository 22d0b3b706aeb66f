"""Issue 16: Spark local vs the default (pandas) path, in one run, stage by stage.

Run (the issue-16 measurement; ~20-40 min on the shared 2-core box)::

    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/bench_spark.py --rows 2000000 \\
        --base 30000 --tx /tmp/scaledata/quick-100000-s0/transactions.parquet \\
        --out bench/results/spark_2m.json

Smoke size (the test in ``tests/bench/test_bench_spark.py`` runs something like it)::

    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/bench_spark.py --rows 3000 --base 300 \\
        --sample 1000 --out /tmp/spark_smoke.json

**The customer matrix** is synthetic but has the real columns and dtypes: the transaction
features segml builds on Spark (``segml.spark.features.SPARK_COLUMNS`` plus the category and
channel shares) of a ``make_portfolio(--base)`` history as of ``--as-of``, from
``build_features``; its rows are resampled with replacement to ``--rows`` rows, every float
column multiplied by ``exp(0.05 * N(0, 1))`` (signs and zeros kept), ids renumbered. The model
columns are the default spec of those columns (``FeatureSpec.select``), i.e. the default
feature count of the Spark feature path (customer attributes and CLV are not built on Spark
yet). The matrix is written once to Parquet under ``--workdir`` and both paths read that file.

**Stages** (one process, the default path first, then one Spark ``local[2]`` session with a 2g
driver):

- ``pandas.read``: ``pd.read_parquet`` of the matrix.
- ``pandas.fit``: ``Segmenter(fit_sample_size=--sample, n_init=10)`` with the spec's
  preprocessor on every row (``segml run``'s default: fit on a 200k sample, assign all),
  plus ``SegmentModel.from_training``.
- ``pandas.score``: ``score_features`` of every row (``explain=0``).
- ``pandas.silhouette``: model matrix of every row + ``sqeuclidean_silhouette``.
- ``spark.session``: JVM start.
- ``spark.read``: ``spark.read.parquet`` + cache + count.
- ``spark.fit_sample``: ``fit_spark(strategy="sample", sample_size=--sample)``.
- ``spark.score``: ``score_spark`` of every row, written to Spark's ``noop`` sink.
- ``spark.silhouette``: ``sqeuclidean_silhouette_spark(labelled_matrix_sdf(...))``.
- ``pandas.features`` / ``spark.features`` (with ``--tx``): ``build_features`` vs
  ``spark_feature_frame`` of the transactions (customers: id and signup date only, so both
  build the same transaction features), the Spark frame counted and cached, then collected.
- ``spark.fit_distributed``: ``fit_spark(strategy="distributed", n_init=--dist-n-init)``
  on every row (last: the most expensive).

``--shuffle-only --tx FILE`` instead builds the features of FILE once with Spark's UI on and
reports each Spark stage's input / shuffle bytes (the per-row figures of the scaling plan)::

    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/bench_spark.py --shuffle-only \
        --tx /tmp/scaledata/t20k-20000-s0/transactions.parquet --out /tmp/shuffle.json

Per stage: wall seconds, CPU seconds of the whole process tree (this Python, the JVM and its
Python workers), summed per process from samples every 0.2 s (a worker that exits loses at
most its last 0.2 s, so Spark's CPU is a slight lower bound), and the peak resident set of
the tree and of this Python alone, sampled every 0.2 s. The JSON is rewritten after every
stage, with the load average at start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

STAGES = ("pandas.read", "pandas.fit", "pandas.score", "pandas.silhouette", "spark.session",
          "spark.read", "spark.fit_sample", "spark.score", "spark.silhouette",
          "pandas.features", "spark.features", "spark.fit_distributed")
#: stage pairs whose ratio (Spark / default) the table reports
PAIRS = {"fit (sample)": ("pandas.fit", "spark.fit_sample"),
         "fit (distributed vs sample)": ("pandas.fit", "spark.fit_distributed"),
         "score": ("pandas.score", "spark.score"),
         "silhouette": ("pandas.silhouette", "spark.silhouette"),
         "read": ("pandas.read", "spark.read"),
         "features": ("pandas.features", "spark.features")}


def _load() -> str:
    p = Path("/proc/loadavg")
    return " ".join(p.read_text().split()[:3]) if p.exists() else "n/a"


class Meter:
    """Wall, tree CPU and sampled peak RSS (tree and this process) of named stages."""

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self.me = psutil.Process()
        self.stages: dict[str, dict[str, Any]] = {}
        self.info: dict[str, Any] = {}
        self._peak = (0.0, 0.0)
        self._cpu0: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._run = False
        self._thread: threading.Thread | None = None

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.me, *self.me.children(recursive=True)]
        except psutil.Error:
            return [self.me]

    def _cpu_by_pid(self) -> dict[int, float]:
        out = {}
        for p in self._tree():
            try:
                t = p.cpu_times()
                out[p.pid] = t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        return out

    def _cpu(self) -> float:
        """CPU seconds of the tree since the stage began, per pid (a process that exits keeps
        its last sampled time, so only its final 0.2 s can be lost)."""
        self._last.update(self._cpu_by_pid())
        return sum(v - self._cpu0.get(pid, 0.0) for pid, v in self._last.items())

    def _rss(self) -> tuple[float, float]:
        tree = 0.0
        for p in self._tree():
            try:
                tree += p.memory_info().rss
            except psutil.Error:
                pass
        return tree, float(self.me.memory_info().rss)

    def _sample(self) -> None:
        while self._run:
            self._last.update(self._cpu_by_pid())
            t, m = self._rss()
            self._peak = (max(self._peak[0], t), max(self._peak[1], m))
            time.sleep(0.2)

    def stage(self, name: str) -> _Stage:
        return _Stage(self, name)

    def write(self) -> None:
        if self.out is not None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.out.write_text(json.dumps({"info": self.info, "stages": self.stages},
                                           indent=1, default=str))


class _Stage:
    def __init__(self, meter: Meter, name: str) -> None:
        self.m, self.name = meter, name
        self.extra: dict[str, Any] = {}

    def __enter__(self) -> _Stage:
        m = self.m
        m._peak = m._rss()
        m._cpu0 = m._cpu_by_pid()
        m._last = dict(m._cpu0)
        m._run = True
        m._thread = threading.Thread(target=m._sample, daemon=True)
        m._thread.start()
        self.load0, self.t0 = _load(), time.perf_counter()
        print(f"[{time.strftime('%H:%M:%S')}] {self.name} ...", flush=True)
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        m = self.m
        wall = time.perf_counter() - self.t0
        cpu = m._cpu()
        m._run = False
        if m._thread is not None:
            m._thread.join()
        tree, me = max(m._peak[0], m._rss()[0]), m._peak[1]
        row = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
               "peak_tree_mb": round(tree / 2**20), "peak_python_mb": round(me / 2**20),
               "load_start": self.load0, "load_end": _load(),
               "status": "ok" if exc is None else f"failed: {type(exc).__name__}: {exc}"[:300],
               **self.extra}
        m.stages[self.name] = row
        m.write()
        print(f"    {self.name}: {row}", flush=True)
        return False


# ----------------------------------------------------------------------------- data
def make_matrix(rows: int, base: int, as_of: str, seed: int, path: Path) -> dict[str, Any]:
    """Write the synthetic customer matrix (module docstring); return its description."""
    from segml.datasets import make_portfolio
    from segml.features import build_features
    from segml.spark.features import SPARK_COLUMNS

    pf = make_portfolio(base, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs = build_features(pf.transactions, pf.customers, as_of)
    cols = [c for c in fs.frame.columns if c in SPARK_COLUMNS
            or c.startswith(("category_share_", "channel_share_"))]
    src = fs.frame[cols]
    src = src[~src["is_prospect"].astype(bool)]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(src), size=rows)
    out = {}
    for c in cols:
        v = src[c].to_numpy()[pick]
        if v.dtype.kind == "f":
            v = v * np.exp(0.05 * rng.standard_normal(rows))
        out[c] = v
    frame = pd.DataFrame(out)
    frame.insert(0, "customer_id", pd.Series([f"C{i:08d}" for i in range(rows)], dtype="str"))
    frame.to_parquet(path, index=False, row_group_size=250_000)
    spec = fs.spec.select(cols)
    del frame, out
    return {"spec": spec, "columns": cols, "model_columns": list(spec.columns()),
            "dtypes": src.dtypes.astype(str).value_counts().to_dict(), "base_buyers": len(src)}


# ----------------------------------------------------------------------------- stages
def run(args: argparse.Namespace) -> Meter:
    """Run every stage; return the meter (its ``stages`` dict is also the JSON)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from segml.cluster import Segmenter
    from segml.cluster.silhouette import sqeuclidean_silhouette
    from segml.features import make_preprocessor
    from segml.model import SegmentModel
    from segml.scoring import score_features

    meter = Meter(Path(args.out) if args.out else None)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="segml-bench-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"matrix-{args.rows}-{args.base}.parquet"
    t = time.perf_counter()
    desc = make_matrix(args.rows, args.base, args.as_of, args.seed, path)
    spec = desc.pop("spec")
    import pyspark
    import sklearn

    meter.info = {
        "command": " ".join(sys.argv), "rows": args.rows, "base": args.base, "k": args.k,
        "sample": args.sample, "dist_n_init": args.dist_n_init, "matrix_seconds":
        round(time.perf_counter() - t, 1), "matrix_mb": round(path.stat().st_size / 2**20, 1),
        "n_columns": len(desc["columns"]), "n_model_columns": len(desc["model_columns"]),
        **desc, "cpus": os.cpu_count(), "python": platform.python_version(),
        "pandas": pd.__version__, "numpy": np.__version__, "sklearn": sklearn.__version__,
        "pyspark": pyspark.__version__, "master": args.master, "driver_memory":
        args.driver_memory, "partitions": args.partitions, "load_at_start": _load(),
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    meter.write()
    k, sample = args.k, args.sample

    if args.distributed_only:
        _distributed_only(meter, args, path, spec)
        return meter

    # ------------------------------------------------------------------ default path
    with meter.stage("pandas.read") as st:
        frame = pd.read_parquet(path).set_index("customer_id")
        st.extra["rows"] = len(frame)
    with meter.stage("pandas.fit") as st:
        pre = make_preprocessor(spec, frame)
        seg = Segmenter(algorithm="kmeans", n_clusters=k, n_init=10, preprocessor=pre,
                        fit_sample_size=sample, random_state=args.seed).fit(frame)
        model = SegmentModel.from_training(seg, frame, feature_spec=spec)
        st.extra.update(n_fit=int(seg.n_fit_samples_), inertia=float(seg.estimator_.inertia_))
    labels = np.asarray(seg.labels_)
    with meter.stage("pandas.score") as st:
        scored = score_features(model, frame, explain=0).frame
        st.extra["same_as_fit_labels"] = float(np.mean(
            scored["segment_id"].to_numpy() == labels))
        del scored
    with meter.stage("pandas.silhouette") as st:
        z = np.asarray(seg.preprocessor_.transform(frame), dtype=np.float64)
        sil = sqeuclidean_silhouette(z, labels)
        st.extra.update(overall=round(float(sil.overall), 6), width=int(z.shape[1]))
        pandas_sil = float(sil.overall)
        del z, sil
    del frame

    # ------------------------------------------------------------------ Spark local
    from segml.spark.fit import fit_spark
    from segml.spark.score import score_spark
    from segml.spark.session import get_session
    from segml.spark.validate import labelled_matrix_sdf, sqeuclidean_silhouette_spark

    with meter.stage("spark.session"):
        spark = get_session(master=args.master, partitions=args.partitions, config={
            "spark.driver.memory": args.driver_memory, "spark.ui.enabled": "false",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.ui.showConsoleProgress": "false"})
        spark.sparkContext.setLogLevel("ERROR")
    with meter.stage("spark.read") as st:
        sdf = spark.read.parquet(str(path)).repartition(args.partitions).cache()
        st.extra["rows"] = sdf.count()
    with meter.stage("spark.fit_sample") as st:
        fit_s = fit_spark(sdf, k=k, strategy="sample", spec=spec, sample_size=sample,
                          n_init=10, random_state=args.seed)
        st.extra.update(n_fit=fit_s.n_fit_rows, steps=fit_s.seconds,
                        inertia=float(fit_s.segmenter.estimator_.inertia_))
    with meter.stage("spark.score") as st:
        score_spark(fit_s.model, sdf, explain=0).write.format("noop").mode("overwrite").save()
    with meter.stage("spark.silhouette") as st:
        s = sqeuclidean_silhouette_spark(labelled_matrix_sdf(sdf, fit_s.segmenter))
        st.extra.update(overall=round(float(s.overall), 6), n=s.n_samples,
                        pandas_overall=round(pandas_sil, 6))

    if args.tx:
        _features(meter, spark, Path(args.tx), args.as_of_tx, args.tx_customers)

    if args.dist_n_init > 0:
        with meter.stage("spark.fit_distributed") as st:
            fit_d = fit_spark(sdf, k=k, strategy="distributed", spec=spec, sample_size=sample,
                              n_init=args.dist_n_init, random_state=args.seed)
            n_iter = int(fit_d.mllib_model.summary.numIter)
            st.extra.update(n_fit=fit_d.n_fit_rows, steps=fit_d.seconds, n_iter_best=n_iter,
                            init_scores=fit_d.init_scores)
    sdf.unpersist()
    spark.stop()
    meter.info["load_at_end"] = _load()
    meter.info["finished_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    meter.write()
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return meter


def _distributed_only(meter: Meter, args: argparse.Namespace, path: Path, spec: Any) -> None:
    """Session, read and ``fit_spark(strategy="distributed")`` of the matrix only."""
    from segml.spark.fit import fit_spark
    from segml.spark.session import get_session

    with meter.stage("spark.session"):
        spark = get_session(master=args.master, partitions=args.partitions, config={
            "spark.driver.memory": args.driver_memory, "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.execution.arrow.pyspark.enabled": "true"})
        spark.sparkContext.setLogLevel("ERROR")
    with meter.stage("spark.read") as st:
        sdf = spark.read.parquet(str(path)).repartition(args.partitions).cache()
        st.extra["rows"] = sdf.count()
    with meter.stage("spark.fit_distributed") as st:
        fit_d = fit_spark(sdf, k=args.k, strategy="distributed", spec=spec,
                          sample_size=args.sample, n_init=args.dist_n_init,
                          random_state=args.seed)
        st.extra.update(n_fit=fit_d.n_fit_rows, steps=fit_d.seconds,
                        n_iter_best=int(fit_d.mllib_model.summary.numIter),
                        init_scores=fit_d.init_scores)
    spark.stop()


def _read_tx(spark: Any, path: Path | str) -> Any:
    """Read a Parquet table; pandas' nanosecond timestamps come as longs and are converted."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql import types as T  # noqa: N812

    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    sdf = spark.read.parquet(str(path))
    for f in sdf.schema.fields:
        if f.name in ("timestamp", "due_date", "paid_date", "signup_date") and isinstance(
                f.dataType, T.LongType):
            sdf = sdf.withColumn(f.name, F.timestamp_micros(F.floor(F.col(f.name) / 1000)))
    return sdf


def _features(meter: Meter, spark: Any, tx_path: Path, as_of: str,
              customers_path: str | None) -> None:
    """``build_features`` vs ``spark_feature_frame`` of one transactions file."""
    from segml.features import build_features
    from segml.spark.features import spark_feature_frame

    cpath = customers_path or str(tx_path.with_name("customers.parquet"))
    with meter.stage("pandas.features") as st:
        tx = pd.read_parquet(tx_path)
        cu = pd.read_parquet(cpath, columns=["customer_id", "signup_date"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = build_features(tx, cu, as_of).frame
        st.extra.update(tx_rows=len(tx), customers=len(ref), columns=ref.shape[1])
        n_tx = len(tx)
        del tx, cu
    with meter.stage("spark.features") as st:
        tx_s = _read_tx(spark, tx_path)
        cu_s = _read_tx(spark, cpath).select("customer_id", "signup_date")
        fs = spark_feature_frame(tx_s, cu_s, None, as_of)
        got = fs.to_pandas()
        fs.unpersist()
        common = [c for c in got.columns if c in ref.columns]
        num = [c for c in common if got[c].dtype.kind == "f"]
        diff = float(np.nanmax(np.abs(got[num].to_numpy() - ref.loc[got.index, num].to_numpy())
                               / np.maximum(1.0, np.abs(ref.loc[got.index, num].to_numpy()))))
        st.extra.update(tx_rows=n_tx, customers=len(got), columns=got.shape[1],
                        same_ids=bool(got.index.equals(ref.index)),
                        max_rel_diff_floats=diff)
    del ref, got


def shuffle_report(args: argparse.Namespace) -> dict[str, Any]:
    """Bytes read, shuffled and collected by ``spark_feature_frame`` of ``--tx`` (Spark's UI).

    Starts its own session with the UI on, builds and collects the features once, then reads
    every stage's ``inputBytes`` / ``shuffleWriteBytes`` / ``shuffleReadBytes`` from the UI's
    REST API (``/api/v1/applications/<id>/stages``), for the per-row cost model in
    ``docs/SPARK.md``.
    """
    import urllib.request

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from segml.spark.features import spark_feature_frame
    from segml.spark.session import get_session

    spark = get_session(master=args.master, partitions=args.partitions, config={
        "spark.driver.memory": args.driver_memory, "spark.ui.enabled": "true",
        "spark.ui.port": "0", "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true"})
    spark.sparkContext.setLogLevel("ERROR")
    tx_path = Path(args.tx)
    tx = _read_tx(spark, tx_path)
    cpath = args.tx_customers or str(tx_path.with_name("customers.parquet"))
    cu = _read_tx(spark, cpath).select("customer_id", "signup_date")
    t0 = time.perf_counter()
    fs = spark_feature_frame(tx, cu, None, args.as_of_tx)
    got = fs.to_pandas()
    wall = time.perf_counter() - t0
    sc = spark.sparkContext
    url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/stages?status=complete"
    with urllib.request.urlopen(url, timeout=60) as r:  # noqa: S310 (local UI)
        stages = json.loads(r.read())
    keys = ("inputBytes", "inputRecords", "shuffleWriteBytes", "shuffleWriteRecords",
            "shuffleReadBytes", "numTasks", "executorRunTime")
    rows = [{"stage": s["stageId"], "name": s["name"][:60], **{k: s.get(k, 0) for k in keys}}
            for s in sorted(stages, key=lambda s: s["stageId"])]
    total = {k: int(sum(r[k] for r in rows)) for k in keys}
    with urllib.request.urlopen(url.split("/stages")[0] + "/storage/rdd",
                                timeout=60) as r:  # noqa: S310 (local UI)
        cached = [{"name": d["name"][:60], "partitions": d["numCachedPartitions"],
                   "memory_mb": round(d["memoryUsed"] / 2**20, 1),
                   "disk_mb": round(d["diskUsed"] / 2**20, 1)} for d in json.loads(r.read())]
    n_tx = int(tx.count())
    fs.unpersist()
    spark.stop()
    out = {"tx_rows": n_tx, "customers": len(got), "wall_s": round(wall, 1), "total": total,
           "shuffle_write_bytes_per_tx_row": round(total["shuffleWriteBytes"] / n_tx, 1),
           "collected_mb": round(got.memory_usage(deep=True).sum() / 2**20, 1),
           "cached": cached, "load": _load(), "stages": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))
    return out


def table(meter: Meter) -> str:
    """Markdown table of the stages and the Spark/default ratios."""
    rows = ["| stage | wall s | CPU s | peak tree MB | peak Python MB | load start→end | notes |",
            "|---|---:|---:|---:|---:|---|---|"]
    for name in STAGES:
        r = meter.stages.get(name)
        if r is None:
            continue
        notes = {k: v for k, v in r.items() if k not in (
            "wall_s", "cpu_s", "peak_tree_mb", "peak_python_mb", "load_start", "load_end")}
        rows.append(f"| {name} | {r['wall_s']} | {r['cpu_s']} | {r['peak_tree_mb']} | "
                    f"{r['peak_python_mb']} | {r['load_start']} → {r['load_end']} | "
                    f"{json.dumps(notes, default=str)[:160]} |")
    rows += ["", "| pair (default → Spark) | wall ratio | CPU ratio |", "|---|---:|---:|"]
    for label, (a, b) in PAIRS.items():
        ra, rb = meter.stages.get(a), meter.stages.get(b)
        if ra and rb and ra["wall_s"] > 0 and ra["cpu_s"] > 0:
            rows.append(f"| {label} | {rb['wall_s'] / ra['wall_s']:.1f}x | "
                        f"{rb['cpu_s'] / ra['cpu_s']:.1f}x |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command line (module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--base", type=int, default=30_000, help="make_portfolio customers")
    ap.add_argument("--sample", type=int, default=200_000, help="fit sample (segml run's)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--as-of", default="2024-06-30")
    ap.add_argument("--tx", default=None, help="transactions Parquet for the feature stages")
    ap.add_argument("--tx-customers", default=None, help="customers Parquet (default: beside)")
    ap.add_argument("--as-of-tx", default="2024-12-31")
    ap.add_argument("--dist-n-init", type=int, default=1, help="0 skips the distributed fit")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--workdir", default=None, help="where the matrix Parquet goes (kept)")
    ap.add_argument("--out", default=None, help="JSON written after every stage")
    ap.add_argument("--shuffle-only", action="store_true",
                    help="only the shuffle report of the --tx feature build (UI on)")
    ap.add_argument("--distributed-only", action="store_true",
                    help="only session, read and the distributed fit of the matrix")
    ap.add_argument("--features-only", action="store_true",
                    help="only the session and the two --tx feature stages")
    ap.add_argument("--table", default=None, metavar="JSON",
                    help="print the table of a saved --out JSON (a partial run too) and exit")
    args = ap.parse_args(argv)
    if args.table:
        meter = Meter(None)
        meter.stages = json.loads(Path(args.table).read_text())["stages"]
        print(table(meter))
        return 0
    if args.features_only:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        from segml.spark.session import get_session

        meter = Meter(Path(args.out) if args.out else None)
        meter.info = {"command": " ".join(sys.argv), "load_at_start": _load()}
        with meter.stage("spark.session"):
            spark = get_session(master=args.master, partitions=args.partitions, config={
                "spark.driver.memory": args.driver_memory, "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
                "spark.sql.execution.arrow.pyspark.enabled": "true"})
            spark.sparkContext.setLogLevel("ERROR")
        _features(meter, spark, Path(args.tx), args.as_of_tx, args.tx_customers)
        spark.stop()
        print(table(meter))
        return 0
    if args.shuffle_only:
        rep = shuffle_report(args)
        print(json.dumps({k: v for k, v in rep.items() if k != "stages"}, indent=1))
        return 0
    meter = run(args)
    print(table(meter))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

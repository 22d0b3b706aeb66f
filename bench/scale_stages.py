"""The stages the scale harness times, each run in a child process (see ``bench_scale.py``).

Three workers, each a fresh process on the same Parquet files:

- ``segml``: the real pipeline through its public API (``segml.pipeline.load_data``,
  ``analyse``, ``save_run_model``, ``segml.persistence.load_model``, ``score_data``,
  ``segml.scoring.score_one``, ``segml.backtest.backtest``, ``write_run``). The stages inside
  ``analyse`` are told apart by its progress messages, so the harness times the code
  ``segml run`` runs, whatever the stage internals become.
- ``pandas``: what a competent analyst would write by hand — pandas group-by for RFM + AOV +
  tenure, StandardScaler, scikit-learn KMeans with a sampled silhouette, joblib.
- ``polars``: the read + validate and features stages with polars (the rest is the same
  scikit-learn code as ``pandas``). duckdb is not installed here, so it is not compared.

Time is wall-clock; memory is the peak resident set of the process *during* the stage (Linux
``VmHWM``, reset at each stage start by writing ``5`` to ``/proc/self/clear_refs``), so it
includes what earlier stages still hold, as in a real run. ``rss_start_mb`` is the resident
set when the stage began.
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: Silhouette sample of the plain way (as in the issue's reference script).
SIL_SAMPLE = 50_000
#: Single-customer scoring: calls timed (the median is reported).
N_SINGLE = 200
#: Backtest cutoffs (4, quarter ends) and horizon.
CUTOFFS = ["2023-12-31", "2024-03-31", "2024-06-30", "2024-09-30"]
HORIZON = "3M"


def _status_kb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return float("nan")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Meter:
    """Time and peak RSS of named stages of one process."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path  # written after every stage, so a killed worker keeps its stages
        self.stages: dict[str, dict[str, Any]] = {}
        self.exact_peak = _reset_peak()
        self._open: tuple[str, float, float] | None = None

    def start(self, name: str) -> None:
        self.stop()
        _reset_peak()
        self._open = (name, time.perf_counter(), _status_kb("VmRSS"))

    def stop(self, status: str = "ok") -> None:
        if self._open is None:
            return
        name, t0, rss0 = self._open
        self._open = None
        self.stages[name] = {
            "status": status, "seconds": round(time.perf_counter() - t0, 6),
            "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
            "rss_start_mb": round(rss0 / 1024, 1),
        }
        self.flush()

    def flush(self) -> None:
        if self.path is not None:
            self.path.write_text(json.dumps({"stages": self.stages,
                                             "exact_peak": self.exact_peak}, indent=1))

    def run(self, name: str, fn: Callable[[], Any], *needs: Any) -> Any:
        """Run ``fn`` as stage ``name``; a failure is recorded, not raised."""
        missing = [n for n, v in zip(needs[::2], needs[1::2], strict=True) if v is None]
        if missing:
            self.stages[name] = {"status": f"not run: needs {', '.join(missing)}"}
            return None
        self.start(name)
        try:
            out = fn()
        except Exception as exc:  # noqa: BLE001 - a failing stage must not stop the others
            msg = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            self.stop(f"failed: {msg}")
            traceback.print_exc()
            return None
        self.stop()
        return out

    def note(self, name: str, **values: Any) -> None:
        self.stages.setdefault(name, {}).update(values)
        self.flush()


# --------------------------------------------------------------------------- segml


_ANALYSE_STEPS = (("building features", "features"), ("choosing k", "select_k"),
                  ("fitting", "fit"), ("validating", "validate"), ("profiling", "profile"),
                  ("rule segments", "rules"))


def _set(cfg: dict[str, Any], overrides: dict[str, Any]) -> None:
    for key, value in overrides.items():
        section, name = key.split(".", 1)
        cfg[section][name] = value


def segml_backtest_worker(data_dir: Path, meter: Meter) -> None:
    """Read + validate, then the 4-cutoff backtest (its own process: it can be timed out)."""
    from segml.backtest import backtest
    from segml.io import read_customers, read_transactions

    cust, _ = read_customers(data_dir / "customers.parquet")
    tx, _ = read_transactions(data_dir / "transactions.parquet", customers=cust)
    meter.run("backtest", lambda: backtest(
        tx, cust, cutoffs=CUTOFFS, horizon=HORIZON, segmenters=("clusters",), n_boot=50,
        random_state=0))


def segml_worker(data_dir: Path, out_dir: Path, stages: list[str], algorithms: list[str],
                 meter: Meter, overrides: dict[str, Any]) -> None:
    """Run the real pipeline stage by stage (public API)."""
    from segml.config import DEFAULTS
    from segml.pipeline import analyse, load_data, save_run_model, score_data, write_run

    cfg = copy.deepcopy(DEFAULTS)
    cfg["data"]["transactions"] = str(data_dir / "transactions.parquet")
    cfg["data"]["customers"] = str(data_dir / "customers.parquet")
    cfg["features"]["as_of"] = "2024-12-31"
    cfg["segmentation"]["algorithms"] = algorithms
    cfg["output"]["models_dir"] = str(out_dir / "models")
    cfg["output"]["reports_dir"] = str(out_dir / "reports")
    cfg["output"]["run_id"] = "scale"
    _set(cfg, overrides)

    data = meter.run("read_validate", lambda: load_data(cfg))
    if data is not None:
        meter.note("read_validate", n_lines=len(data.transactions),
                   n_customers=len(data.customers))

    run = None
    if data is not None and "analyse" in stages:
        def progress(msg: str) -> None:
            name = next((n for prefix, n in _ANALYSE_STEPS if msg.startswith(prefix)), None)
            if name is not None:
                meter.start(name)

        meter.start("features")
        try:
            run = analyse(cfg, data, progress=progress)
            meter.stop()
        except Exception as exc:  # noqa: BLE001
            meter.stop(f"failed: {type(exc).__name__}: {exc}"[:300])
            traceback.print_exc()
        if run is not None:
            meter.note("select_k", k=int(run.selection.recommended["k"]),
                       algorithm=run.selection.recommended["algorithm"])
            meter.note("features", n_clustered=len(run.model_matrix),
                       n_features=run.model_matrix.shape[1])
    if run is not None and run.selection.settings.get("partition") and "fit" not in meter.stages:
        # "no clear segments": the value partition is fitted before the verdict's message,
        # so its (small) time is inside select_k; no clustering is fitted
        meter.stages["fit"] = {"status": "not run: no clear segments, the "
                               f"{run.selection.settings['partition']} partition is used "
                               "(fitted within k selection)"}
    for name in ("features", "select_k", "fit", "validate", "profile", "rules"):
        if name not in meter.stages:
            meter.stages[name] = {"status": "not run: needs read_validate" if data is None
                                  else "not run: analyse stopped before it"}

    run = meter.run("save", lambda: save_run_model(run, publish=True), "fit", run)
    model = None
    if run is not None:
        from segml.persistence import load_model

        model = meter.run("load", lambda: load_model(run.model_path), "save", run)
    meter.run("batch_score", lambda: score_data(model, data, cfg), "load", model)
    if model is not None:
        meter.start("single_score")
        try:
            frame = run.features.frame
            rows = frame.loc[run.labels.index[:N_SINGLE]].reset_index()
            records = rows.to_dict("records")
            from segml.scoring import score_one

            lat = []
            for rec in records:
                t = time.perf_counter()
                score_one(model, rec)
                lat.append(time.perf_counter() - t)
            meter.stop()
            meter.note("single_score", seconds=round(float(np.median(lat)), 6),
                       calls=len(lat), note="median per call")
        except Exception as exc:  # noqa: BLE001
            meter.stop(f"failed: {type(exc).__name__}: {exc}"[:300])
    else:
        meter.stages["single_score"] = {"status": "not run: needs load"}
    meter.run("report", lambda: write_run(run, overwrite=True), "save", run)


# --------------------------------------------------------------------------- plain


def _plain_features(tx: Any, as_of: Any, lib: str) -> Any:
    """Recency, frequency (orders), monetary, AOV and tenure per customer, as of ``as_of``."""
    if lib == "polars":
        import polars as pl

        g = (tx.lazy().filter(pl.col("timestamp") < as_of)
             .group_by("customer_id")
             .agg(pl.col("timestamp").max().alias("last"), pl.col("timestamp").min().alias("first"),
                  pl.col("order_id").n_unique().alias("frequency"),
                  pl.col("amount").sum().alias("monetary"))
             .with_columns(((as_of - pl.col("last")).dt.total_days()).alias("recency"),
                           ((as_of - pl.col("first")).dt.total_days()).alias("tenure"),
                           (pl.col("monetary") / pl.col("frequency")).alias("aov"))
             .select("customer_id", "recency", "frequency", "monetary", "aov", "tenure")
             .sort("customer_id").collect())
        return g.to_pandas().set_index("customer_id")
    t = tx[tx["timestamp"] < as_of]
    g = t.groupby("customer_id").agg(last=("timestamp", "max"), first=("timestamp", "min"),
                                     frequency=("order_id", "nunique"),
                                     monetary=("amount", "sum"))
    g["recency"] = (as_of - g["last"]).dt.days
    g["tenure"] = (as_of - g["first"]).dt.days
    g["aov"] = g["monetary"] / g["frequency"]
    return g[["recency", "frequency", "monetary", "aov", "tenure"]]


def _matrix(feats: Any) -> np.ndarray:
    x = feats.to_numpy(dtype="float64")
    return np.sign(x) * np.log1p(np.abs(x))


def plain_worker(data_dir: Path, out_dir: Path, stages: list[str], k_range: range,
                 lib: str, meter: Meter) -> None:
    """The plain way: read + checks, group-by features, scikit-learn, joblib."""
    import joblib
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    as_of = pd.Timestamp("2025-01-01")  # end of the as_of day
    tx_cols = ["customer_id", "timestamp", "amount", "order_id"]

    def read() -> Any:
        if lib == "polars":
            import polars as pl

            tx = pl.read_parquet(data_dir / "transactions.parquet", columns=tx_cols)
            cust = pl.read_parquet(data_dir / "customers.parquet", columns=["customer_id"])
            checks = {"null_" + c: int(tx[c].null_count()) for c in tx_cols}
            checks["negative"] = int((tx["amount"] < 0).sum())
            checks["unknown_ids"] = int((~tx["customer_id"].is_in(cust["customer_id"])).sum())
            checks["dup_customers"] = int(cust["customer_id"].is_duplicated().sum())
            return tx, checks
        tx = pd.read_parquet(data_dir / "transactions.parquet", columns=tx_cols)
        cust = pd.read_parquet(data_dir / "customers.parquet", columns=["customer_id"])
        checks = {"null_" + c: int(tx[c].isna().sum()) for c in tx_cols}
        checks["negative"] = int((tx["amount"] < 0).sum())
        checks["unknown_ids"] = int((~tx["customer_id"].isin(cust["customer_id"])).sum())
        checks["dup_customers"] = int(cust["customer_id"].duplicated().sum())
        return tx, checks

    got = meter.run("read_validate", read)
    tx = got[0] if got else None
    feats = meter.run("features", lambda: _plain_features(tx, as_of, lib), "read_validate", tx)
    if lib == "polars":
        return  # the rest is the same scikit-learn code as the pandas worker
    X = None if feats is None else StandardScaler().fit_transform(_matrix(feats))

    def sweep(X: np.ndarray) -> int:
        best, best_s = k_range[0], -2.0
        for k in k_range:
            lab = KMeans(k, random_state=0).fit_predict(X)
            s = silhouette_score(X, lab, sample_size=min(SIL_SAMPLE, len(X)), random_state=0)
            if s > best_s:
                best, best_s = k, s
        return best

    k = meter.run("select_k", lambda: sweep(X), "features", X)
    pipe = meter.run("fit", lambda: make_pipeline(
        StandardScaler(), KMeans(k, random_state=0)).fit(_matrix(feats)), "select_k", k)
    labels = None if pipe is None else pipe[-1].labels_
    meter.run("validate", lambda: silhouette_score(
        X, labels, sample_size=min(SIL_SAMPLE, len(X)), random_state=0), "fit", labels)
    meter.run("profile", lambda: feats.assign(segment=labels).groupby("segment").agg(
        ["mean", "median", "size"]), "fit", labels)

    def rules() -> Any:
        r = pd.qcut(feats["recency"].rank(method="first"), 5, labels=False)
        f = pd.qcut(feats["frequency"].rank(method="first"), 5, labels=False)
        m = pd.qcut(feats["monetary"].rank(method="first"), 5, labels=False)
        rfm = (4 - r) * 100 + f * 10 + m
        return pd.crosstab(labels, rfm // 100)

    meter.run("rules", rules, "fit", labels)

    def backtest() -> list[float]:
        # like segml's backtest (ClusterModel: k chosen again at every cutoff), the plain
        # sweep at every cutoff, then the fit at its k
        out = []
        for cut in CUTOFFS:
            t = pd.Timestamp(cut) + pd.Timedelta(days=1)
            f = _plain_features(tx, t, lib)
            k_cut = sweep(StandardScaler().fit_transform(_matrix(f)))
            p = make_pipeline(StandardScaler(), KMeans(k_cut, random_state=0)).fit(_matrix(f))
            nxt = tx[(tx["timestamp"] >= t) & (tx["timestamp"] < t + pd.DateOffset(months=3))]
            value = nxt.groupby("customer_id")["amount"].sum().reindex(f.index, fill_value=0)
            out.append(float(value.groupby(p[-1].labels_).mean().std()))
        return out

    if "backtest" in stages:
        meter.run("backtest", backtest, "select_k", k)
    else:
        meter.stages["backtest"] = {"status": "not run: left out (--stages)"}
    path = out_dir / "plain_model.joblib"
    meter.run("save", lambda: joblib.dump(pipe, path, compress=3), "fit", pipe)
    model = meter.run("load", lambda: joblib.load(path), "save", pipe)

    def batch() -> Any:
        t, _ = read()
        f = _plain_features(t, as_of, lib)
        return pd.Series(model.predict(_matrix(f)), index=f.index)

    meter.run("batch_score", batch, "load", model)
    if model is not None:
        one = _matrix(feats.iloc[:N_SINGLE])
        meter.start("single_score")
        lat = []
        for i in range(len(one)):
            t0 = time.perf_counter()
            model.predict(one[i:i + 1])
            lat.append(time.perf_counter() - t0)
        meter.stop()
        meter.note("single_score", seconds=round(float(np.median(lat)), 6), calls=len(lat),
                   note="median per call")

    def report() -> None:
        prof = feats.assign(segment=labels).groupby("segment").mean()
        (out_dir / "plain_report.html").write_text(prof.to_html())
        pd.DataFrame({"segment": labels}, index=feats.index).to_csv(out_dir / "plain_seg.csv")

    meter.run("report", report, "fit", labels)


def plain_k_range(k_min: int, k_max: int) -> range:
    """Return the plain way's k sweep, ``max(2, k_min)..k_max``.

    A silhouette needs two clusters; segml's k = 1 is its "no clear segments" answer, which
    the plain way does not have.
    """
    return range(max(2, k_min), k_max + 1)


def main(argv: list[str]) -> None:
    """Child entry: ``worker data_dir out_json stages algorithms k_min k_max overrides``."""
    worker, data_dir, out_json, stages, algorithms, k_min, k_max, overrides = argv
    meter = Meter(Path(out_json))
    with tempfile.TemporaryDirectory(prefix="segml-scale-") as tmp:
        if worker == "segml":
            over = json.loads(overrides)
            over.setdefault("segmentation.k_min", int(k_min))
            over.setdefault("segmentation.k_max", int(k_max))
            segml_worker(Path(data_dir), Path(tmp), stages.split(","), algorithms.split(","),
                         meter, over)
        elif worker == "segml-backtest":
            segml_backtest_worker(Path(data_dir), meter)
        else:
            plain_worker(Path(data_dir), Path(tmp), stages.split(","),
                         plain_k_range(int(k_min), int(k_max)), worker, meter)
    meter.flush()

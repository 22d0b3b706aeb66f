"""``segml run --engine spark``: the run on Spark, writing the same run folder and model.

:func:`run_spark` is what :func:`segml.pipeline.run_pipeline` calls when ``[engine] engine =
"spark"`` (CLI ``--engine spark``). The steps and where they run:

======================  =====================================================================
step                    where
======================  =====================================================================
read + check input      Spark readers (:mod:`segml.spark.read`); demo and named loaders:
                        segml's pandas loader, then ``createDataFrame``
features                :func:`~segml.spark.features.spark_feature_frame` (Spark)
clustered customers     buyers only and no degenerate group: a Spark filter; the driver copy
                        (below) must agree on the count
choose k                the default engine's rule on the driver's model matrix:
                        :func:`segml.pipeline.run_select_k` (k = 1 searched, gap statistic,
                        stability filter, parsimony; it screens itself from 50k rows), then
                        :func:`segml.pipeline.resolve_verdict` ("no clear segments": the
                        configured ``[segmentation] no_segments`` partition, or the stop)
fit                     ``"sample"``: :func:`segml.pipeline.fit_recommended` on the driver
                        (the default engine's fit); ``"distributed"``:
                        :func:`~segml.spark.fit.fit_spark` refits the chosen k with MLlib on
                        every row. "No clear segments": the fallback partition, made on the
                        driver, is the run's segments (nothing to fit with MLlib; the
                        progress and ``selection.settings["distributed_note"]`` say so)
labels + silhouette     clusters: every clustered row labelled in Spark, squared-Euclidean
                        silhouette on all rows in Spark (``selection.settings`` and
                        ``validation.overall["silhouette_sqeuclidean_full_spark"]``); a
                        fallback partition: its driver labels, no Spark silhouette
run folder, model       the pandas pipeline's own functions on the per-customer table
                        collected to the driver once (O(customers x features)): validation
                        object, profiles, rule segments, report, ``segments.csv``,
                        :func:`segml.pipeline.save_run_model` (reload check) and
                        :func:`segml.pipeline.write_run`
======================  =====================================================================

The selection is the default engine's, on the same driver matrix, so both engines choose
the same k, algorithm and verdict for the same feature frame and configuration (the size
floor is handled by :func:`segml.pipeline.check_size_floor` on both). The all-row Spark
silhouette is computed for the clustering the run keeps only, not for every swept k: the
selection table's ``silhouette_sqeuclidean_full`` already is the same quantity on every
clustered customer (exact, on the driver, for each row the sweep computes; segml's and
Spark's agree to 1e-9, tests/spark/test_validate.py), and the sweep does not keep its fits,
so a Spark column would cost a refit plus two Spark passes per swept (algorithm, k) for no
new number. :func:`segml.spark.validate.select_k_spark` stays available for a sweep judged
in Spark. pyspark is imported only inside the functions.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml.errors import EngineError
from segml.pipeline.result import Progress, RunResult, StageClock, quiet

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["check_spark_run", "run_spark", "spark_run_spec"]

_SHARE_PREFIXES = ("category_share_", "channel_share_")


def check_spark_run(cfg: dict[str, Any]) -> None:
    """Refuse, before any work, what ``segml run`` cannot do on Spark.

    Raises
    ------
    EngineError
        ``[data]`` options of the pandas reader only, a source without transactions, or
        ``strategy = "distributed"`` with a non-full mixture.
    """
    from segml.spark.read import check_spark_data_options

    check_spark_data_options(cfg)
    seg, eng = cfg["segmentation"], cfg["engine"]
    covs = [c for c in seg["covariance_types"] if c != "full"]
    if eng["strategy"] == "distributed" and "gmm" in seg["algorithms"] and covs:
        raise EngineError(
            f"config: [engine] strategy = \"distributed\" fits mixtures with MLlib, which has "
            f"full covariances only; segmentation.covariance_types has {covs}. Fix: set "
            "[segmentation] covariance_types = [\"full\"], or algorithms = [\"kmeans\"] "
            "(segml fit --algorithm kmeans), or [engine] strategy = \"sample\"."
        )


def spark_run_spec(cfg: dict[str, Any]) -> Any:
    """Return the ``[features] spec`` (or None), refusing families the Spark engine lacks.

    Raises
    ------
    EngineError
        Naming each family and its columns that Spark does not build, and the fix.
    """
    from segml.features import FeatureSpec

    path = cfg["features"]["spec"]
    if not path:
        return None
    spec = FeatureSpec.from_toml(Path(path).read_text())
    from segml.spark.features import SPARK_COLUMNS

    missing: dict[str, list[str]] = {}
    for fam, fspec in spec.families.items():
        for col in fspec.columns:
            if col not in SPARK_COLUMNS and not str(col).startswith(_SHARE_PREFIXES):
                missing.setdefault(fam, []).append(str(col))
    if missing:
        shown = "; ".join(f"{fam}: {', '.join(cols[:4])}" for fam, cols in missing.items())
        raise EngineError(
            f"config: the feature spec {path!r} uses families the Spark engine does not build "
            f"({shown}). Fix: drop those families/columns from the spec ([features] spec; "
            "Python FeatureSpec), or use the default engine ([engine] engine = \"pandas\", "
            "no --engine spark)."
        )
    return spec


def run_spark(cfg: dict[str, Any], *, progress: Progress = quiet, save_overwrite: bool = True,
              data_overwrite: bool = False, publish_model: bool = True,
              key: bytes | None = None) -> RunResult:
    """Run the pipeline on Spark (module docstring).

    Same arguments and result as :func:`segml.pipeline.run_pipeline`.

    Returns
    -------
    RunResult
        As the pandas path's: the model is saved (or staged), reloaded and checked.

    Raises
    ------
    EngineError
        What Spark cannot do here (:func:`check_spark_run`, :func:`spark_run_spec`), pyspark
        or Java missing, an unreachable cluster.
    SchemaError, ConfigError, InputFileError
        As the pandas path, for the input and the configuration.
    """
    from segml.pipeline import check_run_config, save_run_model
    from segml.spark.read import read_run_input
    from segml.spark.session import import_pyspark, session_from_config

    t = time.perf_counter()
    check_run_config(cfg)
    check_spark_run(cfg)
    import_pyspark(remote=cfg["engine"]["remote"] is not None)
    spec = spark_run_spec(cfg)
    where = cfg["engine"]["remote"] or cfg["engine"]["master"] or "local[*]"
    progress(f"starting Spark ({where})")
    spark = session_from_config(cfg)
    inp = read_run_input(spark, cfg, progress=progress, overwrite=data_overwrite)
    timings = {"load": round(time.perf_counter() - t, 3)}
    run = _analyse(cfg, inp, spec, progress=progress, timings=timings)
    return save_run_model(run, progress=progress, overwrite=save_overwrite,
                          publish=publish_model, key=key)


# ------------------------------------------------------------------------------------ steps
def _feature_set(cfg: dict[str, Any], sfs: Any, spec: Any, as_of: pd.Timestamp,
                 customers: SparkDataFrame | None, progress: Progress) -> Any:
    """Build the driver's :class:`~segml.features.FeatureSet` of a Spark feature build."""
    from segml.features import FeatureSet, FeatureSpec, FeatureState
    from segml.pipeline.run import apply_feature_options
    from segml.schema.columns import CUSTOMER_COLUMNS

    frame = sfs.to_pandas()
    state = FeatureState(as_of=as_of, lookback_days=cfg["features"]["lookback_days"],
                         category_levels=sfs.category_levels, channel_levels=sfs.channel_levels,
                         rfm_scorer=sfs.rfm_scorer, abc=sfs.abc, growth=sfs.growth,
                         age_encoder=sfs.age_encoder, forward=sfs.forward,
                         columns=list(frame.columns))
    report = dict(sfs.report)
    report["n_customers"] = int(len(frame))
    if "is_prospect" in frame.columns:
        report["n_prospects"] = int(frame["is_prospect"].astype(bool).sum())
    unused = [c for c in (customers.columns if customers is not None else [])
              if c in CUSTOMER_COLUMNS and c not in ("customer_id", "signup_date")
              and c not in frame.columns]
    if unused:  # said, not dropped silently: no attribute family on this engine yet
        report["customer_columns_not_built_on_spark"] = unused
        progress(f"note: customers column(s) {', '.join(unused[:6])} give no feature on the "
                 "Spark engine (docs/SPARK.md)")
    fs = FeatureSet(frame=frame, spec=spec or FeatureSpec.default(frame.columns), as_of=as_of,
                    state=state, report=report)
    return apply_feature_options(cfg, fs)


def _clustered_sdf(cfg: dict[str, Any], sdf: SparkDataFrame) -> SparkDataFrame:
    """Keep the customers that are clustered, as :func:`segml.pipeline.model_matrix` does."""
    from pyspark.sql import functions as F  # noqa: N812

    cols = set(sdf.columns)
    prospect = (F.coalesce(F.col("is_prospect").cast("boolean"), F.lit(False))
                if "is_prospect" in cols else F.lit(False))
    keep = ~prospect if cfg["features"]["buyers_only"] else F.lit(True)
    if {"frequency", "monetary"} <= cols:  # segml.rules.degenerate_groups, in Spark
        buyer = (F.coalesce(F.col("frequency").cast("double"), F.lit(0.0)) > 0) & ~prospect
        degenerate = buyer & F.coalesce(F.col("monetary").cast("double") <= 0, F.lit(False))
        keep = keep & ~degenerate
    return sdf.where(keep)


def _labelled(sdf: SparkDataFrame, segmenter: Any, index: pd.Index) -> tuple[pd.Series, Any]:
    """Label every clustered row in Spark; return labels and the all-row sq-Euclidean silhouette."""
    from segml.spark.validate import LABEL_COL, labelled_matrix_sdf, sqeuclidean_silhouette_spark

    lab = labelled_matrix_sdf(sdf, segmenter, keep=["customer_id"]).persist()
    try:
        sil = sqeuclidean_silhouette_spark(lab)
        got = lab.select("customer_id", LABEL_COL).toPandas()
    finally:
        lab.unpersist()
    labels = pd.Series(got[LABEL_COL].to_numpy(dtype=np.int64),
                       index=pd.Index(got["customer_id"].astype(str), name="customer_id"),
                       name="segment")
    if len(labels) != len(index) or not labels.index.isin(index).all():
        raise RuntimeError(f"Spark labelled {len(labels):,} customers, the driver table has "
                           f"{len(index):,} clustered ones; nothing was written")
    return labels.reindex(index), sil


def _analyse(cfg: dict[str, Any], inp: Any, spec: Any, *, progress: Progress,
             timings: dict[str, float]) -> RunResult:
    """Analyse on Spark: the counterpart of :func:`segml.pipeline.analyse` (module docstring)."""
    from pyspark.sql import functions as F  # noqa: N812

    from segml.cluster.drivers import between_ss_shares
    from segml.pipeline import (
        LoadedData,
        assemble_run,
        check_size_floor,
        describe_segments,
        fit_recommended,
        model_matrix,
        resolve_verdict,
        run_select_k,
    )
    from segml.pipeline.load import run_as_of, run_id_for
    from segml.playbook import load_playbook
    from segml.rules import builtin_missing_columns
    from segml.spark.features import spark_feature_frame
    from segml.spark.fit import fit_spark

    tick = StageClock(timings)
    seg_cfg, eng = cfg["segmentation"], cfg["engine"]
    playbook = load_playbook(cfg.get("profiles", {}).get("playbook"))
    data = LoadedData(name=inp.name, transactions=None, customers=None, quality=inp.quality,
                      truth=inp.truth, default_as_of=inp.default_as_of)
    as_of = run_as_of(cfg, data)
    progress(f"building features as of {as_of.date()} on Spark")
    sfs = spark_feature_frame(inp.transactions, inp.customers, spec, as_of,
                              lookback_days=cfg["features"]["lookback_days"])
    sdf = None
    try:
        fs = _feature_set(cfg, sfs, spec, as_of, inp.customers, progress)
        # the driver's clustered customers (and fs.report), as the default engine's
        X, frame, preprocessor = model_matrix(cfg, fs, return_preprocessor=True)
        sdf = _clustered_sdf(cfg, sfs.frame).persist()
        n_sdf = sdf.count()
        if n_sdf != len(frame):
            raise RuntimeError(f"Spark keeps {n_sdf:,} customers to cluster, the driver "
                               f"{len(frame):,}; nothing was written")
        rules_skipped = {name: miss for name in cfg["rules"]["sets"]
                         if (miss := builtin_missing_columns(name, fs.frame.columns))}
        tick("features")
        progress(f"choosing k in {seg_cfg['k_min']}..{seg_cfg['k_max']} "
                 f"({', '.join(seg_cfg['algorithms'])}) on {len(frame):,} customers "
                 "(driver, the default engine's rule)")
        selection = run_select_k(cfg, X, fs, progress=bool(getattr(progress, "bars", False)))
        if selection.settings.get("screen_note"):  # large data: what k selection skipped
            progress("note: k selection " + selection.settings["screen_note"])
        selection.settings.update(engine="spark", k_selection="driver")
        tick("select_k")
        partition = resolve_verdict(cfg, selection, fs, frame, progress)
        rec, sil = selection.recommended, None
        if partition is not None:  # "no clear segments": a value partition, not clusters
            segmenter, n_fit = partition, len(frame)
            labels = pd.Series(segmenter.labels_, index=frame.index, name="segment")
            if eng["strategy"] == "distributed":
                note = (f"no clear segments: nothing to fit with MLlib ([engine] strategy = "
                        f"\"distributed\"); the run uses the "
                        f"{selection.settings['partition']} partition made on the driver")
                selection.settings["distributed_note"] = note
                progress(note)
        else:
            if eng["strategy"] == "distributed":  # "sample": the driver's fit is the fit
                progress(f"fitting {rec['algorithm']} with k={rec['k']} on every row (MLlib)")
                fit = fit_spark(sdf, k=rec["k"], method=rec["algorithm"],
                                strategy="distributed", spec=fs.spec,
                                covariance_type=rec["covariance_type"] or "full",
                                sample_size=eng["sample_size"] or 100_000,
                                random_state=seg_cfg["random_state"])
                segmenter, n_fit = fit.segmenter, fit.n_fit_rows
            else:
                segmenter = fit_recommended(cfg, selection, frame, preprocessor, progress)
                fss = selection.settings.get("fit_sample_size")
                n_fit = min(len(frame), int(fss)) if fss else len(frame)
            labels, sil = _labelled(sdf, segmenter, frame.index)
        selection.settings.update(strategy=eng["strategy"], n_fit_rows=int(n_fit))
        if sil is not None:
            selection.settings["silhouette_sqeuclidean_full_spark"] = float(sil.overall)
        text = "yyyy-MM-dd HH:mm:ss.SSSSSS"  # as text: collect() would apply the OS time zone
        span = inp.transactions.agg(F.date_format(F.min("timestamp"), text).alias("a"),
                                    F.date_format(F.max("timestamp"), text).alias("b")
                                    ).collect()[0]
    finally:
        sfs.unpersist()
        if sdf is not None:
            sdf.unpersist()
    if partition is None:  # the fitted segmenter's matrix (MLlib's fit has its own scaling)
        X = segmenter.preprocessor_.transform(frame)
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X), index=frame.index, columns=[
                str(c) for c in segmenter.preprocessor_.get_feature_names_out()])
    drivers = between_ss_shares(X, labels.to_numpy())
    check_size_floor(fs, labels, seg_cfg["min_segment_share"], progress,
                     partition=selection.settings.get("partition"))
    tick("fit")

    validation, profiles, rule_labels, comparisons = describe_segments(
        cfg, fs, frame, segmenter, labels, playbook=playbook, rules_skipped=rules_skipped,
        progress=progress, tick=tick,
        silhouette_note="sizes, separation" + ("; all-row silhouette on Spark" if sil is not None
                                               else ""))
    if sil is not None:
        validation.overall["silhouette_sqeuclidean_full_spark"] = float(sil.overall)

    return assemble_run(
        cfg, data_name=inp.name, quality=inp.quality, truth=inp.truth,
        run_id=run_id_for(cfg, data, as_of), fs=fs, X=X, frame=frame, selection=selection,
        segmenter=segmenter, labels=labels, partition=partition is not None, described=(
            validation, profiles, rule_labels, comparisons), timings=timings,
        rules_skipped=rules_skipped, as_of=as_of,
        span=(pd.Timestamp(span["a"]), pd.Timestamp(span["b"])), drivers=drivers)

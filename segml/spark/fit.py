"""Fit a segmentation on a Spark DataFrame of features, giving the same saved model as pandas.

:func:`fit_spark` has two strategies, and both return a :class:`SparkFit` whose ``model`` is an
ordinary :class:`~segml.model.SegmentModel` holding a segml
:class:`~segml.cluster.Segmenter` (preprocessor + scikit-learn ``KMeans`` /
``GaussianMixture``): ``save_model``, ``load_model``, ``score_features`` and ``segml score``
take it unchanged.

``strategy="sample"``
    A uniform sample of ``sample_size`` rows is pulled to the driver (``toPandas``; Arrow when
    the session enables it) and fitted with segml's normal path (``Segmenter.fit``). With an
    id column the sample is *bottom-k by hash*: the rows with the smallest
    ``xxhash64(id, seed)``, so the same seed picks the same customers however the data are
    partitioned; without one, ``DataFrame.sample`` (reproducible for one partitioning only).
    With ``sample_size`` at least the row count every row is pulled, sorted by id, and the fit
    is the normal fit of that frame.
``strategy="distributed"``
    The scaler comes from population moments computed in Spark (``avg`` and ``stddev_pop``;
    Spark's ``StandardScaler`` divides by n - 1 and is not used), the model matrix is built in
    Spark and MLlib ``KMeans`` / ``GaussianMixture`` is fitted ``n_init`` times with distinct
    seeds (MLlib has one initialisation per fit), keeping the lowest cost / highest
    log-likelihood, with ``max_iter`` 100 and ``tol`` 1e-4 (MLlib's defaults are 20 and 1e-4).
    The centres, or the mixture weights, means and covariances, are then exported into the
    scikit-learn estimator the ``Segmenter`` holds, so ``predict`` gives MLlib's labels. Labels
    are ordered as ``Segmenter.fit`` orders them (descending mean ``monetary``, else size),
    from segment sizes and means computed in Spark over every row.

    With a ``spec`` (a :class:`~segml.features.FeatureSpec`), the spec's preprocessor
    (imputation, log, one-hot, family weights...) is fitted on the driver sample instead and
    applied to every row in Spark (``mapInPandas``); its scaler moments are then the sample's.

The model's aggregates (input contract, drift reference, distance quantiles) are computed on the
driver sample: :attr:`SegmentModel.n_train` is the sample size, :attr:`SparkFit.n_rows` the
number of rows fitted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from segml.cluster.segmenter import AUTO_N_INIT, Segmenter
from segml.errors import ConfigError, SchemaError
from segml.spark.export import export_gmm, export_kmeans
from segml.spark.sample import driver_sample

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame as SparkDataFrame

    from segml.model import SegmentModel

__all__ = ["SparkFit", "driver_sample", "export_gmm", "export_kmeans", "fit_spark",
           "model_matrix_sdf"]

STRATEGIES = ("sample", "distributed")
METHODS = ("kmeans", "gmm")
#: column of the assembled model-space vector in the Spark frames built here
VECTOR_COL = "segml_features"
_QUANTILES = (50, 90, 95, 99)


@dataclass
class SparkFit:
    """Result of :func:`fit_spark`.

    Attributes
    ----------
    model : SegmentModel
        The bundle to save (:func:`segml.persistence.save_model`) and score with.
    segmenter : Segmenter
        The fitted segmenter (also inside ``model``, with per-row arrays stripped).
    strategy : str
        ``"sample"`` or ``"distributed"``.
    n_rows : int
        Rows of the Spark frame.
    n_fit_rows : int
        Rows the algorithm was fitted on (the sample, or every row).
    sample : pandas.DataFrame
        The driver sample (model aggregates and, with a spec, the preprocessor come from it).
    init_scores : list of float
        Distributed only: MLlib training cost (k-means) or total log-likelihood (gmm) of each
        initialisation, in seed order.
    seeds : list of int
        Distributed only: the MLlib seed of each initialisation.
    best_init : int or None
        Index of the kept initialisation.
    mllib_model : object or None
        Distributed only: the kept MLlib model (its ``transform`` gives raw labels).
    seconds : dict of str to float
        Wall time per step.
    """

    model: SegmentModel
    segmenter: Segmenter
    strategy: str
    n_rows: int
    n_fit_rows: int
    sample: pd.DataFrame = field(repr=False)
    init_scores: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    best_init: int | None = None
    mllib_model: Any = field(default=None, repr=False)
    seconds: dict[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------------------- checks
def _check_args(k: Any, method: str, strategy: str, sample_size: Any, n_init: Any,
                max_iter: Any, covariance_type: str) -> None:
    if method not in METHODS:
        raise ConfigError(
            f"method={method!r} is not one of {METHODS}. Fix: pass method='kmeans' or 'gmm' "
            "(fit_spark(method=...); [segmentation] algorithms on the CLI)."
        )
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"strategy={strategy!r} is not one of {STRATEGIES}. Fix: pass "
            "fit_spark(strategy='sample') or 'distributed'."
        )
    for name, value, low in (("k", k, 2), ("sample_size", sample_size, 2),
                             ("n_init", n_init, 1), ("max_iter", max_iter, 1)):
        if value is None and name in ("n_init", "max_iter"):
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ConfigError(
                f"{name}={value!r} should be an integer >= {low}. Fix: pass fit_spark({name}=...)"
                " with such a value."
            )
    if strategy == "distributed" and method == "gmm" and covariance_type != "full":
        raise ConfigError(
            f"covariance_type={covariance_type!r} with strategy='distributed': MLlib's "
            "GaussianMixture fits full covariances only. Fix: pass covariance_type='full', "
            "or strategy='sample' for a diagonal/tied/spherical mixture."
        )


def _feature_columns(sdf: SparkDataFrame, columns: Any, spec: Any, id_column: str) -> list[str]:
    have = list(sdf.columns)
    if spec is not None:
        cols = [c for c in have if c != id_column]
        absent = [c for c in spec.columns() if c not in have]
        if absent:
            raise SchemaError(
                f"feature spec column(s) {absent[:5]} are not in the Spark frame (it has "
                f"{have[:8]}...). Fix: build the features with those columns, or pass "
                "fit_spark(spec=spec.select(sdf.columns))."
            )
        return cols
    if columns is None:
        numeric = {"double", "float", "int", "bigint", "smallint", "tinyint", "boolean"}
        cols = [c for c, t in sdf.dtypes if c != id_column
                and (t in numeric or t.startswith("decimal"))]
        if not cols:
            raise SchemaError(
                f"the Spark frame has no numeric feature column (columns {have[:8]}). Fix: "
                "pass fit_spark(columns=[...]) or a feature spec (spec=...)."
            )
        return cols
    cols = [str(c) for c in columns]
    absent = [c for c in cols if c not in have]
    if absent:
        raise SchemaError(
            f"column(s) {absent[:5]} are not in the Spark frame (it has {have[:8]}). Fix: pass "
            "fit_spark(columns=[...]) with columns of the frame."
        )
    return cols


def _order_column(order_by: Any, columns: list[str]) -> str | None:
    if order_by == "size":
        return None
    if order_by is None:
        return "monetary" if "monetary" in columns else None
    if order_by not in columns:
        raise ConfigError(
            f"order_by={order_by!r} is not a column of the Spark frame's features "
            f"({columns[:8]}). Fix: pass fit_spark(order_by='monetary'), 'size' or None."
        )
    return str(order_by)


# ----------------------------------------------------------------------------- model matrix
def _population_scaler(sdf: SparkDataFrame, columns: list[str]) -> StandardScaler:
    """``StandardScaler`` with the population mean and standard deviation computed in Spark."""
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1)).alias("_n")]
    for i, c in enumerate(columns):
        x = F.col(c).cast("double")
        aggs += [F.avg(x).alias(f"m{i}"), F.stddev_pop(x).alias(f"s{i}"),
                 F.count(x).alias(f"c{i}")]
    row = sdf.agg(*aggs).collect()[0]
    n = int(row["_n"])
    missing = {c: n - int(row[f"c{i}"]) for i, c in enumerate(columns) if row[f"c{i}"] < n}
    if missing:
        shown = ", ".join(f"{c} ({m:,} rows)" for c, m in list(missing.items())[:5])
        raise SchemaError(
            f"feature column(s) with missing values: {shown}; the distributed scaler needs "
            "complete numeric columns. Fix: fill them in Spark (DataFrame.fillna) or pass a "
            "feature spec, whose preprocessor imputes (fit_spark(spec=...))."
        )
    mean = np.array([float(row[f"m{i}"]) for i in range(len(columns))])
    std = np.array([float(row[f"s{i}"]) for i in range(len(columns))])
    scaler = StandardScaler()
    # fitted by scikit-learn (names, counts), then given the population moments from Spark
    scaler.fit(pd.DataFrame(np.zeros((2, len(columns))), columns=columns))
    scaler.mean_ = mean
    scaler.var_ = std**2
    scaler.scale_ = np.where(std > 10 * np.finfo(np.float64).eps, std, 1.0)
    scaler.n_samples_seen_ = n
    return scaler


def model_matrix_sdf(sdf: SparkDataFrame, preprocessor: Any, columns: list[str],
                     keep: list[str] | None = None) -> SparkDataFrame:
    """Spark frame holding the model matrix of every row as the vector column ``VECTOR_COL``.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        Feature frame.
    preprocessor : object
        Fitted preprocessor: a ``StandardScaler`` (applied as Spark column expressions) or any
        fitted transformer (applied per Arrow batch with ``mapInPandas``).
    columns : list of str
        Input columns of the preprocessor.
    keep : list of str, optional
        Columns of ``sdf`` carried along (e.g. the order column).

    Returns
    -------
    pyspark.sql.DataFrame
        ``keep`` columns and ``VECTOR_COL``.
    """
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, StructField, StructType

    keep = [c for c in (keep or []) if c in sdf.columns]
    if isinstance(preprocessor, StandardScaler):
        zcols = [f"_z{j}" for j in range(len(columns))]
        exprs = [((F.col(c).cast("double") - F.lit(float(m))) / F.lit(float(s))).alias(z)
                 for c, m, s, z in zip(columns, preprocessor.mean_, preprocessor.scale_, zcols,
                                       strict=True)]
        mat = sdf.select(*[F.col(c) for c in keep], *exprs)
    else:
        width = len(preprocessor.get_feature_names_out())
        zcols = [f"_z{j}" for j in range(width)]
        fields = [f for f in sdf.select(*keep).schema.fields] if keep else []
        schema = StructType([*fields, *(StructField(z, DoubleType(), False) for z in zcols)])

        def _transform(batches: Any) -> Any:
            for pdf in batches:
                z = np.asarray(preprocessor.transform(pdf[columns]), dtype=np.float64)
                out = pd.DataFrame(z, columns=zcols, index=pdf.index)
                yield pd.concat([pdf[keep], out], axis=1) if keep else out

        mat = sdf.select(*dict.fromkeys([*keep, *columns])).mapInPandas(_transform, schema)
    assembler = VectorAssembler(inputCols=zcols, outputCol=VECTOR_COL, handleInvalid="error")
    return assembler.transform(mat).select(*keep, VECTOR_COL)


# ----------------------------------------------------------------------------- MLlib
def _mllib_fit(vec: SparkDataFrame, method: str, k: int, seeds: list[int], max_iter: int,
               tol: float) -> tuple[Any, list[float], int]:
    """Fit MLlib once per seed; return the best model, every score and the best index."""
    from pyspark.ml.clustering import GaussianMixture as SparkGMM
    from pyspark.ml.clustering import KMeans as SparkKMeans

    models, scores = [], []
    for s in seeds:
        if method == "kmeans":
            algo = SparkKMeans(k=k, seed=s, maxIter=max_iter, tol=tol, featuresCol=VECTOR_COL,
                               predictionCol="prediction", initMode="k-means||")
            m = algo.fit(vec)
            scores.append(float(m.summary.trainingCost))
        else:
            algo = SparkGMM(k=k, seed=s, maxIter=max_iter, tol=tol, featuresCol=VECTOR_COL,
                            predictionCol="prediction", probabilityCol="probability")
            m = algo.fit(vec)
            scores.append(float(m.summary.logLikelihood))
        models.append(m)
    arr = np.asarray(scores)
    best = int(np.argmin(arr) if method == "kmeans" else np.argmax(arr))
    return models[best], scores, best


def _export(model: Any, method: str, *, max_iter: int, n_rows: int, seed: int) -> Any:
    summary = model.summary
    n_iter = int(summary.numIter)
    if method == "kmeans":
        centers = np.vstack([np.asarray(c, dtype=np.float64) for c in model.clusterCenters()])
        return export_kmeans(centers, inertia=summary.trainingCost, n_iter=n_iter,
                             max_iter=max_iter, seed=seed)
    rows = model.gaussiansDF.collect()
    means = np.vstack([np.asarray(r["mean"].toArray()) for r in rows])
    covs = np.stack([np.asarray(r["cov"].toArray()) for r in rows])
    return export_gmm(np.asarray(model.weights), means, covs, n_iter=n_iter, max_iter=max_iter,
                      log_likelihood=summary.logLikelihood, n_rows=n_rows, seed=seed)


def _label_order(centers: np.ndarray, sizes: np.ndarray,
                 means: np.ndarray | None) -> np.ndarray:
    """``label_order_`` exactly as ``Segmenter.fit`` builds it (value, then size, then centres)."""
    keys = [*(centers[:, j] for j in range(centers.shape[1] - 1, -1, -1)), -sizes]
    if means is not None:
        keys.append(-means)
    order = np.lexsort(keys)
    label_order = np.empty(centers.shape[0], dtype=np.intp)
    label_order[order] = np.arange(centers.shape[0])
    return label_order


def _segment_aggregates(vec: SparkDataFrame, model: Any, k: int,
                        order_col: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows per raw label and (with ``order_col``) its mean over finite values, in Spark."""
    from pyspark.sql import functions as F

    pred = model.transform(vec)
    aggs = [F.count(F.lit(1)).alias("n")]
    if order_col is not None:
        v = F.col(order_col).cast("double")
        ok = v.isNotNull() & ~F.isnan(v) & (F.abs(v) != F.lit(float("inf")))
        aggs += [F.sum(F.when(ok, v)).alias("s"), F.count(F.when(ok, v)).alias("c")]
    rows = pred.groupBy("prediction").agg(*aggs).collect()
    sizes = np.zeros(k)
    sums, cnts = np.zeros(k), np.zeros(k)
    for r in rows:
        j = int(r["prediction"])
        sizes[j] = r["n"]
        if order_col is not None:
            sums[j] = r["s"] or 0.0
            cnts[j] = r["c"]
    if order_col is None:
        return sizes, None
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(cnts > 0, sums / np.maximum(cnts, 1), -np.inf)
    return sizes, means


# ----------------------------------------------------------------------------- main
def fit_spark(
    features_sdf: SparkDataFrame,
    *,
    k: int,
    method: str = "kmeans",
    strategy: str = "sample",
    spec: Any = None,
    columns: list[str] | None = None,
    id_column: str = "customer_id",
    order_by: str | None = None,
    covariance_type: str = "full",
    sample_size: int = 100_000,
    stratify_by: str | None = None,
    n_init: int | None = None,
    max_iter: int | None = None,
    tol: float = 1e-4,
    name: str = "segments",
    random_state: int = 0,
) -> SparkFit:
    """Fit a segmentation on a Spark feature frame (module docstring) and bundle the model.

    Parameters
    ----------
    features_sdf : pyspark.sql.DataFrame
        One row per customer: ``id_column`` and the feature columns (e.g. the features
        estimator's output, or ``spark.createDataFrame(feature_set.frame.reset_index())``).
    k : int
        Number of segments (>= 2).
    method : {"kmeans", "gmm"}, default "kmeans"
        Algorithm.
    strategy : {"sample", "distributed"}, default "sample"
        Fit a driver sample with segml's normal path, or fit every row with MLlib.
    spec : FeatureSpec, optional
        Feature spec; its preprocessor (:func:`segml.features.make_preprocessor`) is fitted on
        the driver sample. None: the numeric ``columns`` are standardised (population moments;
        in Spark for ``"distributed"``).
    columns : list of str, optional
        Feature columns without a spec (default: every numeric column but ``id_column``).
    id_column : str, default "customer_id"
        Customer id column (hash sampling, index of the driver sample).
    order_by : str, optional
        Column ordering the labels (descending mean); None uses ``monetary`` when present,
        ``"size"`` orders by size (as :class:`~segml.cluster.Segmenter`).
    covariance_type : str, default "full"
        Mixture covariance (``"full"`` only with ``strategy="distributed"``).
    sample_size : int, default 100000
        Driver sample rows (the fit for ``"sample"``; aggregates and spec preprocessor for both).
    stratify_by : str, optional
        Column of ``features_sdf`` whose groups the sample keeps in proportion (e.g. a
        region or a prior segment); it is used only for sampling unless it is a feature.
    n_init : int, optional
        Initialisations (default segml's: 10 for k-means, 3 for gmm).
    max_iter : int, optional
        Iterations per initialisation (default 300 for ``"sample"`` as ``Segmenter``, 100 for
        ``"distributed"``).
    tol : float, default 1e-4
        MLlib convergence tolerance (``"distributed"``).
    name : str, default "segments"
        Model name.
    random_state : int, default 0
        Seed of the sample and the fit.

    Returns
    -------
    SparkFit

    Raises
    ------
    ConfigError
        An argument out of range, a collapsed mixture component or duplicate centres.
    SchemaError
        Missing columns, no numeric column, or missing values without a spec (distributed).
    """
    from segml.features import make_preprocessor
    from segml.model import SegmentModel

    _check_args(k, method, strategy, sample_size, n_init, max_iter, covariance_type)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    cols = _feature_columns(features_sdf, columns, spec, id_column)
    order_col = _order_column(order_by, cols)
    has_id = [id_column] if id_column in features_sdf.columns else []
    sdf = features_sdf.select(*has_id, *cols)
    n_rows = sdf.count()
    if n_rows < k:
        raise ConfigError(f"the Spark frame has {n_rows} rows, fewer than k={k}. Fix: pass a "
                          "smaller k (fit_spark(k=...), --k).")
    rng = check_random_state(random_state)
    sample_seed = int(rng.randint(np.iinfo(np.int32).max))
    if stratify_by is None or stratify_by in cols:
        sample = driver_sample(sdf, sample_size, seed=sample_seed, n_rows=n_rows,
                               id_column=id_column, stratify_by=stratify_by)
    else:
        with_stratum = features_sdf.select(*has_id, *cols, *(
            [stratify_by] if stratify_by in features_sdf.columns else []))
        sample = driver_sample(with_stratum, sample_size, seed=sample_seed, n_rows=n_rows,
                               id_column=id_column, stratify_by=stratify_by)
        sample = sample.drop(columns=[stratify_by])
    seconds["sample"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    n_init_ = AUTO_N_INIT[method] if n_init is None else n_init
    order_param = "size" if order_col is None else order_col
    pre = make_preprocessor(spec, sample) if spec is not None else StandardScaler()
    seg_params = dict(algorithm=method, n_clusters=k, covariance_type=covariance_type,
                      n_init=n_init_, order_by=order_param, random_state=random_state)
    result: dict[str, Any] = {}
    if strategy == "sample":
        seg = Segmenter(preprocessor=pre, max_iter=300 if max_iter is None else max_iter,
                        **seg_params).fit(sample)
        n_fit = len(sample)
    else:
        max_iter_ = 100 if max_iter is None else max_iter
        seg, result = _fit_distributed(sdf, sample, cols, pre, spec is not None, order_col,
                                       seg_params, max_iter_, tol, n_rows, rng)
        n_fit = n_rows
    seconds["fit"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    model = SegmentModel.from_training(seg, sample, name=name, feature_spec=spec)
    seconds["bundle"] = round(time.perf_counter() - t, 3)
    return SparkFit(model=model, segmenter=seg, strategy=strategy, n_rows=n_rows,
                    n_fit_rows=n_fit, sample=sample, seconds=seconds, **result)


def _fit_distributed(sdf: SparkDataFrame, sample: pd.DataFrame, cols: list[str], pre: Any,
                     has_spec: bool, order_col: str | None, seg_params: dict[str, Any],
                     max_iter: int, tol: float, n_rows: int,
                     rng: np.random.RandomState) -> tuple[Segmenter, dict[str, Any]]:
    """MLlib fit of every row, exported into a fitted ``Segmenter`` (module docstring)."""
    from sklearn.base import clone
    from sklearn.utils.validation import validate_data

    method, k = seg_params["algorithm"], seg_params["n_clusters"]
    if has_spec:
        pre_fitted = clone(pre).fit(sample)  # the unfitted one stays the parameter
        pre_cols = [str(c) for c in pre_fitted.feature_names_in_]
    else:
        pre_fitted = _population_scaler(sdf, cols)
        pre_cols = cols
    vec = model_matrix_sdf(sdf, pre_fitted, pre_cols, keep=[order_col] if order_col else None)
    vec = vec.persist()
    try:
        seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=seg_params["n_init"])]
        best, scores, best_i = _mllib_fit(vec, method, k, seeds, max_iter, tol)
        est = _export(best, method, max_iter=max_iter, n_rows=n_rows, seed=seeds[best_i])
        sizes, means = _segment_aggregates(vec, best, k, order_col)
    finally:
        vec.unpersist()
    centers = np.asarray(est.means_ if method == "gmm" else est.cluster_centers_)
    label_order = _label_order(centers, sizes, means)
    seg = Segmenter(preprocessor=pre, max_iter=max_iter, **seg_params)
    validate_data(seg, sample[cols], reset=True, skip_check_array=True)  # feature_names_in_
    seg.preprocessor_ = pre_fitted
    names = pre_fitted.get_feature_names_out()
    seg.model_feature_names_ = np.asarray(names, dtype=object)
    seg.estimator_ = est
    seg.n_iter_ = int(est.n_iter_)
    seg.n_fit_samples_ = int(n_rows)
    seg.order_by_ = "size" if order_col is None else order_col
    seg.label_order_ = label_order
    order = np.argsort(label_order)
    seg.cluster_centers_ = centers[order].astype(np.float64)
    seg.n_clusters_ = int(k)
    z = np.asarray(pre_fitted.transform(sample[pre_cols]), dtype=np.float64)
    own = z - seg.cluster_centers_[label_order[np.asarray(est.predict(z))]]
    pct = np.percentile(np.sqrt(np.einsum("ij,ij->i", own, own)), _QUANTILES)
    seg.train_distance_quantiles_ = {f"p{q}": float(v) for q, v in zip(_QUANTILES, pct,
                                                                      strict=True)}
    return seg, {"init_scores": scores, "seeds": seeds, "best_init": best_i,
                 "mllib_model": best}

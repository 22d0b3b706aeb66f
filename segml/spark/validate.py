"""Validation on Spark: silhouettes on every row, and the choice of k with all-row criteria.

Which silhouette
    segml's all-row silhouette is the *squared*-Euclidean one
    (:func:`segml.cluster.silhouette.sqeuclidean_silhouette`, ``silhouette_sqeuclidean_full``);
    its Euclidean silhouette is computed on a stratified sample (``sampled_silhouette``).
    :func:`sqeuclidean_silhouette_spark` computes the former exactly on every row in
    O(n·k·d) with two Spark passes: per cluster ``n_C``, ``Σy`` and ``Σ‖y‖²`` (so
    ``μ_C`` and ``W_C = Σ‖y − μ_C‖²``), then for each row the mean squared distance to cluster
    ``C``, ``‖x − μ_C‖² + W_C / n_C`` (own cluster: ``(n_C ‖x − μ_C‖² + W_C) / (n_C − 1)``),
    singletons 0, as segml and scikit-learn define it. Spark's ``ClusteringEvaluator``
    (``distanceMeasure="squaredEuclidean"``) gives the same overall value but no per-cluster
    means. :func:`euclidean_silhouette_spark` computes the plain Euclidean silhouette exactly;
    it is O(n²) (every row against every row, the rows shipped to each task), so it is refused
    above ``max_rows``.

Choice of k
    :func:`select_k_spark` fits each k on one driver sample with segml's ``Segmenter`` and
    evaluates every fit on **all** rows in Spark: the squared-Euclidean silhouette and the
    smallest segment's share. The recommended k has the highest silhouette among the fits whose
    segments are all at least ``min_segment_share``. This is not segml's default rule (the gap
    statistic with stability filters, :func:`segml.cluster.select_k`), which refits reference
    data and bootstrap samples and stays on one machine: run it on ``fit.sample`` for that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml.cluster import SilhouetteResult
from segml.errors import ConfigError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = [
    "SparkSilhouette",
    "SparkSelectK",
    "euclidean_silhouette_spark",
    "labelled_matrix_sdf",
    "select_k_spark",
    "sqeuclidean_silhouette_spark",
]

FULL_KIND = "silhouette_sqeuclidean_full"
EUCLIDEAN_KIND = "silhouette_euclidean_full"
#: array<double> column of the model matrix in the frames built here
Z_COL = "segml_z"
LABEL_COL = "segment"


#: A silhouette computed on every row in Spark: segml's ``SilhouetteResult`` (same fields and
#: ``to_dict``) with ``values=None``, as the per-row values stay in Spark.
SparkSilhouette = SilhouetteResult


# ----------------------------------------------------------------------------- inputs
def labelled_matrix_sdf(features_sdf: SparkDataFrame, segmenter: Any, *,
                        keep: list[str] | None = None) -> SparkDataFrame:
    """Model matrix (``segml_z``, array of double) and ordered segment (``segment``) of each row.

    Runs the fitted segmenter's preprocessor and estimator on each Arrow batch
    (``mapInPandas``); the labels are those of ``segmenter.predict``.

    Parameters
    ----------
    features_sdf : pyspark.sql.DataFrame
        Feature frame holding the columns the segmenter was fitted on.
    segmenter : segml.cluster.Segmenter
        Fitted segmenter (e.g. ``fit_spark(...).segmenter`` or ``model.segmenter``).
    keep : list of str, optional
        Columns of ``features_sdf`` carried along (e.g. ``customer_id``).

    Returns
    -------
    pyspark.sql.DataFrame
        ``keep`` columns, ``segml_z`` and ``segment``.

    Raises
    ------
    SchemaError
        When the frame lacks a column the segmenter reads.
    """
    from pyspark.sql.types import ArrayType, DoubleType, IntegerType, StructField, StructType

    cols = [str(c) for c in getattr(segmenter, "feature_names_in_", [])]
    missing = [c for c in cols if c not in features_sdf.columns]
    if not cols or missing:
        raise SchemaError(
            f"the Spark frame lacks column(s) {missing[:5]} the segmenter was fitted on (or the "
            "segmenter records no feature_names_in_). Fix: pass the feature frame the model "
            "was built from, with those columns."
        )
    keep = list(dict.fromkeys(keep or []))
    pre = segmenter.preprocessor_
    est = segmenter.estimator_
    order = np.asarray(segmenter.label_order_)
    fields = [f for f in features_sdf.select(*keep).schema.fields] if keep else []
    schema = StructType([*fields, StructField(Z_COL, ArrayType(DoubleType(), False), False),
                         StructField(LABEL_COL, IntegerType(), False)])

    def _label(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            X = pdf[cols]
            z = np.asarray(X if pre is None else pre.transform(X), dtype=np.float64)
            lab = order[np.asarray(est.predict(z))].astype(np.int32)
            out = pdf[keep].reset_index(drop=True) if keep else pd.DataFrame(index=range(len(z)))
            out[Z_COL] = list(z)
            out[LABEL_COL] = lab
            yield out

    return features_sdf.select(*dict.fromkeys([*keep, *cols])).mapInPandas(_label, schema)


def _array_col(sdf: SparkDataFrame, features_col: str) -> SparkDataFrame:
    """``sdf`` with ``features_col`` as array<double> (ML vectors converted)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    if features_col not in sdf.columns:
        raise SchemaError(
            f"features_col={features_col!r} is not a column of the Spark frame ({sdf.columns[:8]})."
            " Fix: pass the model-matrix column (labelled_matrix_sdf gives 'segml_z')."
        )
    dtype = dict(sdf.dtypes)[features_col]
    if dtype == "vector":
        return sdf.withColumn(features_col, vector_to_array(F.col(features_col)))
    return sdf


def _check_label(sdf: SparkDataFrame, label_col: str) -> None:
    if label_col not in sdf.columns:
        raise SchemaError(
            f"label_col={label_col!r} is not a column of the Spark frame ({sdf.columns[:8]}). "
            "Fix: pass the column holding the segment of each row (labelled_matrix_sdf gives "
            "'segment')."
        )


def _cluster_moments(sdf: SparkDataFrame, features_col: str,
                     label_col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels, counts, sums of rows and sums of squared norms per cluster (one Spark pass)."""
    from pyspark.sql.types import ArrayType, DoubleType, LongType, StructField, StructType

    schema = StructType([StructField("label", LongType()), StructField("n", LongType()),
                         StructField("s", ArrayType(DoubleType())), StructField("q", DoubleType())])

    def _partial(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        acc: dict[int, list[Any]] = {}
        for pdf in batches:
            if not len(pdf):
                continue
            z = np.vstack(pdf[features_col].to_numpy()).astype(np.float64)
            lab = pdf[label_col].to_numpy().astype(np.int64)
            for j in np.unique(lab):
                zj = z[lab == j]
                a = acc.setdefault(int(j), [0, np.zeros(z.shape[1]), 0.0])
                a[0] += len(zj)
                a[1] = a[1] + zj.sum(axis=0)
                a[2] += float(np.einsum("ij,ij->", zj, zj))
        yield pd.DataFrame({"label": list(acc), "n": [v[0] for v in acc.values()],
                            "s": [v[1].tolist() for v in acc.values()],
                            "q": [v[2] for v in acc.values()]})

    rows = sdf.select(features_col, label_col).mapInPandas(_partial, schema).collect()
    if not rows:
        raise SchemaError("the Spark frame is empty: no silhouette. Fix: pass rows to score.")
    labels = np.unique([int(r["label"]) for r in rows])
    pos = {int(j): i for i, j in enumerate(labels)}
    d = len(rows[0]["s"])
    n = np.zeros(len(labels))
    s = np.zeros((len(labels), d))
    q = np.zeros(len(labels))
    for r in rows:
        i = pos[int(r["label"])]
        n[i] += r["n"]
        s[i] += np.asarray(r["s"])
        q[i] += r["q"]
    if len(labels) < 2:
        raise ConfigError(
            f"the silhouette needs at least 2 clusters; the labels hold {len(labels)} "
            f"({labels.tolist()}). Fix: fit k >= 2 (fit_spark(k=...), --k)."
        )
    return labels, n, s, q


def _unpacked(batches: Iterator[pd.DataFrame], features_col: str, label_col: str,
              pos: dict[int, int]) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield each non-empty ``mapInPandas`` batch as (matrix, labels, own-cluster positions)."""
    for batch in batches:
        if len(batch):
            lab = batch[label_col].to_numpy().astype(np.int64)
            yield (np.vstack(batch[features_col].to_numpy()).astype(np.float64), lab,
                   np.array([pos[int(j)] for j in lab], dtype=np.intp))


def _aggregate(per_row: SparkDataFrame, kind: str) -> SparkSilhouette:
    """Per-cluster means, overall mean and negative share of a (label, s) frame."""
    from pyspark.sql import functions as F

    rows = per_row.groupBy("label").agg(
        F.count(F.lit(1)).alias("n"), F.sum("s").alias("total"),
        F.sum(F.when(F.col("s") < 0, 1).otherwise(0)).alias("neg"),
    ).collect()
    rows = sorted(rows, key=lambda r: int(r["label"]))
    n = np.array([r["n"] for r in rows], dtype=np.float64)
    total = np.array([r["total"] for r in rows], dtype=np.float64)
    per = pd.Series(total / n, index=pd.Index([int(r["label"]) for r in rows]), name=kind)
    return SparkSilhouette(kind=kind, per_cluster=per, overall=float(total.sum() / n.sum()),
                           negative_share=float(sum(r["neg"] for r in rows) / n.sum()),
                           n_samples=int(n.sum()))


def _silhouette_values(a: np.ndarray, b: np.ndarray, own_n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    s = np.where(np.isfinite(s), s, 0.0)
    return np.where(own_n > 1, s, 0.0)


# ----------------------------------------------------------------------------- silhouettes
def sqeuclidean_silhouette_spark(sdf: SparkDataFrame, *, features_col: str = Z_COL,
                                 label_col: str = LABEL_COL) -> SparkSilhouette:
    """Exact squared-Euclidean silhouette of every row, in O(n·k·d) (module docstring).

    Equals :func:`segml.cluster.silhouette.sqeuclidean_silhouette` on the same rows and labels.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        Rows with the model matrix and a label.
    features_col : str, default "segml_z"
        Model-space column: array of double or an ML vector.
    label_col : str, default "segment"
        Integer label column.

    Returns
    -------
    SparkSilhouette

    Raises
    ------
    SchemaError
        A missing column or an empty frame.
    ConfigError
        Fewer than 2 clusters.
    """
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    _check_label(sdf, label_col)
    sdf = _array_col(sdf, features_col)
    labels, n, s, q = _cluster_moments(sdf, features_col, label_col)
    mu = s / n[:, None]
    w = q - n * np.einsum("ij,ij->i", mu, mu)  # within-cluster sum of squares
    mu_norm = np.einsum("ij,ij->i", mu, mu)
    pos = {int(j): i for i, j in enumerate(labels)}
    schema = StructType([StructField("label", LongType()), StructField("s", DoubleType())])

    def _rows(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for z, lab, own in _unpacked(batches, features_col, label_col, pos):
            d2 = np.maximum(np.einsum("ij,ij->i", z, z)[:, None] - 2.0 * z @ mu.T
                            + mu_norm[None, :], 0.0)
            mean_to = d2 + w[None, :] / n[None, :]
            rows = np.arange(len(z))
            nc = n[own]
            with np.errstate(invalid="ignore", divide="ignore"):
                a = (nc * d2[rows, own] + w[own]) / (nc - 1)
            other = mean_to.copy()
            other[rows, own] = np.inf
            yield pd.DataFrame({"label": lab, "s": _silhouette_values(a, other.min(axis=1),
                                                                      nc)})

    per_row = sdf.select(features_col, label_col).mapInPandas(_rows, schema)
    return _aggregate(per_row, FULL_KIND)


def euclidean_silhouette_spark(sdf: SparkDataFrame, *, features_col: str = Z_COL,
                               label_col: str = LABEL_COL,
                               max_rows: int = 50_000) -> SparkSilhouette:
    """Exact (plain) Euclidean silhouette of every row; O(n²), for at most ``max_rows`` rows.

    The rows are collected once and shipped with each task; every task computes, for each of
    its rows, the mean Euclidean distance to the members of each cluster (own cluster without
    the row itself; singletons 0), as ``sklearn.metrics.silhouette_samples``.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        Rows with the model matrix and a label.
    features_col : str, default "segml_z"
        Model-space column: array of double or an ML vector.
    label_col : str, default "segment"
        Integer label column.
    max_rows : int, default 50000
        Refuse larger frames (n² distances).

    Returns
    -------
    SparkSilhouette

    Raises
    ------
    ConfigError
        More than ``max_rows`` rows, or fewer than 2 clusters.
    SchemaError
        A missing column.
    """
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    _check_label(sdf, label_col)
    sdf = _array_col(sdf, features_col).select(features_col, label_col)
    n_rows = sdf.count()
    if n_rows > max_rows:
        raise ConfigError(
            f"euclidean_silhouette_spark: {n_rows:,} rows > max_rows={max_rows:,}; the exact "
            "Euclidean silhouette costs n² distances. Fix: use sqeuclidean_silhouette_spark "
            "(all rows, O(n·k·d)), run it on a sample (sdf.sample(...)), or raise max_rows."
        )
    pdf = sdf.toPandas()
    Y = np.vstack(pdf[features_col].to_numpy()).astype(np.float64)
    ylab = pdf[label_col].to_numpy().astype(np.int64)
    labels, yc = np.unique(ylab, return_inverse=True)
    if len(labels) < 2:
        raise ConfigError(
            f"the silhouette needs at least 2 clusters; the labels hold {len(labels)}. "
            "Fix: fit k >= 2 (fit_spark(k=...), --k)."
        )
    counts = np.bincount(yc).astype(np.float64)
    pos = {int(j): i for i, j in enumerate(labels)}
    y_norm = np.einsum("ij,ij->i", Y, Y)
    schema = StructType([StructField("label", LongType()), StructField("s", DoubleType())])

    def _rows(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for z, lab, own in _unpacked(batches, features_col, label_col, pos):
            sums = np.zeros((len(z), len(labels)))
            for start in range(0, len(z), 1024):
                zb = z[start:start + 1024]
                d2 = np.einsum("ij,ij->i", zb, zb)[:, None] - 2.0 * zb @ Y.T + y_norm[None, :]
                d = np.sqrt(np.maximum(d2, 0.0))
                for c in range(len(labels)):
                    sums[start:start + 1024, c] = d[:, yc == c].sum(axis=1)
            rows = np.arange(len(z))
            nc = counts[own]
            with np.errstate(invalid="ignore", divide="ignore"):
                a = sums[rows, own] / (nc - 1)
            mean_to = sums / counts[None, :]
            mean_to[rows, own] = np.inf
            yield pd.DataFrame({"label": lab, "s": _silhouette_values(a, mean_to.min(axis=1),
                                                                      nc)})

    return _aggregate(sdf.mapInPandas(_rows, schema), EUCLIDEAN_KIND)


# ----------------------------------------------------------------------------- select k
@dataclass
class SparkSelectK:
    """Outcome of :func:`select_k_spark`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per k: ``k``, ``algorithm``, ``silhouette_sqeuclidean_full`` and
        ``min_segment_share`` (all rows, Spark), ``too_small``, ``inertia_sample`` (k-means,
        on the sample), ``n_sample``.
    recommended : dict
        ``k``, ``algorithm``, ``criterion`` and ``params`` (for ``fit_spark``).
    fits : dict of int to Segmenter
        The fitted segmenter of each k (on the sample).
    sample : pandas.DataFrame
        The driver sample.
    """

    table: pd.DataFrame
    recommended: dict[str, Any]
    fits: dict[int, Any] = field(repr=False)
    sample: pd.DataFrame = field(repr=False)


def select_k_spark(
    features_sdf: SparkDataFrame,
    *,
    k_range: Iterable[int] = range(2, 9),
    method: str = "kmeans",
    spec: Any = None,
    columns: list[str] | None = None,
    id_column: str = "customer_id",
    sample_size: int = 100_000,
    n_init: int | None = None,
    min_segment_share: float = 0.05,
    covariance_type: str = "full",
    random_state: int = 0,
) -> SparkSelectK:
    """Sweep k on a driver sample and judge each fit on every row in Spark (module docstring).

    Parameters
    ----------
    features_sdf : pyspark.sql.DataFrame
        Feature frame (one row per customer).
    k_range : iterable of int, default range(2, 9)
        k values to try (each >= 2).
    method : {"kmeans", "gmm"}, default "kmeans"
        Algorithm.
    spec : FeatureSpec, optional
        Feature spec (its preprocessor); None standardises the numeric ``columns``.
    columns : list of str, optional
        Feature columns without a spec (default every numeric column but ``id_column``).
    id_column : str, default "customer_id"
        Customer id column.
    sample_size : int, default 100000
        Driver sample the fits use.
    n_init : int, optional
        Initialisations per fit (segml's default when None).
    min_segment_share : float, default 0.05
        A fit whose smallest segment (on all rows) is below this share is not recommended.
    covariance_type : str, default "full"
        Mixture covariance (``method="gmm"``; the fits are driver fits, so any of segml's).
    random_state : int, default 0
        Seed of the sample and the fits.

    Returns
    -------
    SparkSelectK

    Raises
    ------
    ConfigError
        A k below 2, or no k whose segments are all large enough.
    """
    from segml.cluster.segmenter import AUTO_N_INIT, Segmenter
    from segml.spark.fit import fit_spark

    ks = sorted({int(k) for k in k_range})
    if not ks or ks[0] < 2:
        raise ConfigError(
            f"k_range={ks} should hold integers >= 2 (the silhouette needs 2 clusters). "
            "Fix: pass select_k_spark(k_range=range(2, 9)) ([segmentation] k_min >= 2)."
        )
    first = fit_spark(features_sdf, k=ks[0], method=method, strategy="sample", spec=spec,
                      columns=columns, id_column=id_column, sample_size=sample_size,
                      n_init=n_init, covariance_type=covariance_type, random_state=random_state)
    sample = first.sample
    fits = {ks[0]: first.segmenter}
    params = first.segmenter.get_params(deep=False)
    for k in ks[1:]:  # same sample, preprocessor (unfitted, cloned by fit) and seed
        fits[k] = Segmenter(**{**params, "n_clusters": k}).fit(sample)
    keep = [id_column] if id_column in features_sdf.columns else []
    rows = []
    for k, seg in fits.items():
        lab = labelled_matrix_sdf(features_sdf, seg, keep=keep).persist()
        try:
            sil = sqeuclidean_silhouette_spark(lab)
            counts = lab.groupBy(LABEL_COL).count().collect()
        finally:
            lab.unpersist()
        sizes = np.array([r["count"] for r in counts], dtype=np.float64)
        share = float(sizes.min() / sizes.sum()) if len(sizes) == k else 0.0
        rows.append({
            "k": k, "algorithm": method,
            "covariance_type": covariance_type if method == "gmm" else None,
            "silhouette_sqeuclidean_full": sil.overall,
            "min_segment_share": share, "too_small": share < min_segment_share,
            "inertia_sample": float(getattr(seg.estimator_, "inertia_", np.nan)),
            "n_sample": len(sample),
        })
    table = pd.DataFrame(rows)
    ok = table[~table["too_small"]]
    if ok.empty:
        raise ConfigError(
            f"every k in {ks} has a segment under min_segment_share={min_segment_share} of the "
            f"rows (smallest shares {table['min_segment_share'].round(4).tolist()}). Fix: lower "
            "select_k_spark(min_segment_share=...) ([segmentation] min_segment_share) or try "
            "smaller k."
        )
    best = ok.sort_values(["silhouette_sqeuclidean_full", "k"], ascending=[False, True]).iloc[0]
    n_init_ = AUTO_N_INIT[method] if n_init is None else n_init
    recommended = {"k": int(best["k"]), "algorithm": method,
                   "criterion": FULL_KIND,
                   "params": {"k": int(best["k"]), "method": method, "n_init": n_init_,
                              "covariance_type": covariance_type}}
    return SparkSelectK(table=table, recommended=recommended, fits=fits, sample=sample)

"""Validation of a fitted segmentation: silhouettes, sizes, separation and stability."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from segml._validation import check_fitted
from segml.cluster.metrics import cluster_stats
from segml.cluster.silhouette import FULL_KIND, sqeuclidean_silhouette
from segml.cluster.stability import StabilityResult, bootstrap_stability
from segml.errors import ConfigError

__all__ = ["ValidationResult", "validate_segments"]


@dataclass
class ValidationResult:
    """Everything known about a fitted segmentation's quality, in one object.

    Attributes
    ----------
    per_segment : pandas.DataFrame
        Indexed by segment: ``n``, ``share``, ``silhouette`` (squared-Euclidean, all rows),
        ``negative_silhouette_share``, ``radius`` (root mean squared distance to the centre),
        ``nearest_segment``, ``nearest_distance`` (between centres), ``separation_ratio``
        (``nearest_distance / (radius + nearest's radius)``, > 1 means well apart) and
        ``jaccard`` (stability, when computed).
    overall : dict
        ``silhouette_sqeuclidean_full``, ``negative_silhouette_share``, ``calinski_harabasz``,
        ``davies_bouldin``, ``inertia``, ``min_segment_share``, ``min_separation_ratio``,
        ``n_samples``, ``n_segments``, and the stability means when computed.
    centroid_distances : pandas.DataFrame
        Euclidean distance between every pair of segment centres (model space).
    silhouette_values : numpy.ndarray
        Per-sample silhouette (per-row data: kept out of ``to_dict``).
    stability : StabilityResult or None
        Resampling stability.
    """

    per_segment: pd.DataFrame
    overall: dict[str, Any]
    centroid_distances: pd.DataFrame
    silhouette_values: np.ndarray = field(repr=False)
    stability: StabilityResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return aggregates only (no per-row values), as JSON-serialisable Python types."""
        per = self.per_segment.reset_index()
        records = per.astype(object).where(per.notna(), None).to_dict("records")
        return {
            "overall": {k: _py(v) for k, v in self.overall.items()},
            "per_segment": [{k: _py(v) for k, v in r.items()} for r in records],
            "centroid_distances": self.centroid_distances.to_numpy().tolist(),
            "stability": None if self.stability is None else self.stability.to_dict(),
        }


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _stability_inputs(segmenter: Any, X: Any, Z: np.ndarray) -> tuple[Any, Any]:
    """Unfitted clusterer and the rows its stability refits are fitted on.

    A segmenter with a ``preprocessor`` parameter (:class:`~segml.cluster.Segmenter`) is
    cloned without it (the rows ``Z`` come from the fitted one) and with size-ordered labels
    (an ``order_by`` column is a raw-frame column, absent from the model matrix; stability
    compares labelings up to relabelling anyway). Any other segmenter, such as the rule-group
    partition of :mod:`segml.cluster.fallback` (rules on the raw frame, not a clustering of its
    indicators), is cloned whole and refitted on ``X``.
    """
    est = clone(segmenter)
    params = est.get_params(deep=False)
    if "preprocessor" not in params:
        return est, X
    est.set_params(preprocessor=None)
    if "order_by" in params:
        est.set_params(order_by="size")
    return est, Z


def validate_segments(
    segmenter: Any,
    X: Any,
    *,
    stability: bool = True,
    n_resamples: int = 10,
    stability_sample_size: int = 20_000,
    n_jobs: int | None = None,
    random_state: Any = None,
) -> ValidationResult:
    """Validate a fitted :class:`~segml.cluster.Segmenter` on data.

    Parameters
    ----------
    segmenter : Segmenter
        A fitted segmenter (not modified; stability refits use clones).
    X : array-like or DataFrame
        Data in the segmenter's input format (usually the training frame).
    stability : bool, default=True
        Refit the clustering on sub-samples and report ARI and per-segment Jaccard (see
        Notes).
    n_resamples : int, default=10
        Stability refits.
    stability_sample_size : int, default=20000
        Stability refits draw from at most this many rows.
    n_jobs : int or None, default=None
        Parallel stability refits.
    random_state : int, RandomState instance or None
        Seed for the stability resampling.

    Returns
    -------
    ValidationResult
        Per-segment and overall quality; ``to_dict()`` for the report and the saved model.

    Notes
    -----
    Stability asks whether the clustering is reproducible on resamples of the same model
    matrix, as Hennig's ``fpc::clusterboot`` does (it resamples the data matrix it is given).
    So the rows are transformed once with the segmenter's fitted preprocessor and every refit
    fits only the clusterer: a clone with the same algorithm and parameters (``n_clusters``,
    ``n_init``, ``fit_sample_size``, ``dtype``, ...), no preprocessor, and its
    ``random_state`` set per refit as :func:`~segml.cluster.bootstrap_stability` does. A
    segmenter without a ``preprocessor`` parameter (the rule-group partition) is still
    refitted whole on ``X``. The refits' labels are compared with the reference up to
    relabelling (ARI, best-match Jaccard), so their order (by size here) does not matter.
    Refitting the preprocessor (imputers, scalers) inside every refit as well took about half
    of validation's CPU time at 100k customers (3.7-4.0 against 1.9-2.1 CPU s, see
    ``bench/RESULTS.md``, tracker issue 19), and mixed the preprocessor's own sampling
    variability into the clustering's.
    """
    check_fitted(segmenter)
    Z = segmenter._inner_matrix(X)
    # labels from the same model matrix: one preprocessor pass over X, not two (issue 19)
    predict_matrix = getattr(segmenter, "_predict_matrix", None)
    labels = predict_matrix(Z) if predict_matrix is not None else segmenter.predict(X)
    k = int(segmenter.n_clusters_)
    present = np.unique(labels)
    if present.shape[0] < 2:
        raise ConfigError(
            f"The data fall in {present.shape[0]} segment; validation needs at least 2 "
            "segments present."
        )
    sil = sqeuclidean_silhouette(Z, labels)
    stats = cluster_stats(Z, labels)
    n = Z.shape[0]
    seg_index = pd.Index(np.arange(k), name="segment")
    sizes = pd.Series(np.bincount(labels, minlength=k), index=seg_index)
    centers = np.asarray(segmenter.cluster_centers_, dtype=np.float64)
    cd = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    radius = pd.Series(np.nan, index=seg_index)
    radius[stats.labels] = np.sqrt(stats.wss / stats.sizes)
    neg = pd.Series(
        np.bincount(labels, weights=(sil.values < 0).astype(float), minlength=k), index=seg_index
    ) / sizes.replace(0, np.nan)
    masked = cd.copy()
    np.fill_diagonal(masked, np.inf)
    nearest = masked.argmin(axis=1)
    nearest_d = masked[np.arange(k), nearest]
    sep = nearest_d / (radius.to_numpy() + radius.to_numpy()[nearest])
    per = pd.DataFrame(
        {
            "n": sizes,
            "share": sizes / n,
            "silhouette": sil.per_cluster.reindex(seg_index),
            "negative_silhouette_share": neg,
            "radius": radius,
            "nearest_segment": nearest,
            "nearest_distance": nearest_d,
            "separation_ratio": sep,
        },
        index=seg_index,
    )
    stab = None
    if stability:
        est, rows = _stability_inputs(segmenter, X, Z)
        stab = bootstrap_stability(
            est, rows, reference_labels=labels, n_resamples=n_resamples,
            max_rows=stability_sample_size, n_jobs=n_jobs, random_state=random_state,
        )
        per["jaccard"] = stab.jaccard.reindex(seg_index)
    overall: dict[str, Any] = {
        FULL_KIND: sil.overall,
        "negative_silhouette_share": sil.negative_share,
        "calinski_harabasz": stats.calinski_harabasz,
        "davies_bouldin": stats.davies_bouldin,
        "inertia": stats.inertia,
        "min_segment_share": float(sizes.min() / n),
        "min_separation_ratio": float(np.nanmin(sep)),
        "n_samples": int(n),
        "n_segments": k,
        "n_segments_present": int(present.shape[0]),
    }
    if stab is not None:
        overall.update(
            stability_ari_mean=stab.ari_mean,
            stability_ari_std=stab.ari_std,
            stability_jaccard_min=float(stab.jaccard.min()),
        )
    return ValidationResult(
        per_segment=per,
        overall=overall,
        centroid_distances=pd.DataFrame(cd, index=seg_index, columns=seg_index),
        silhouette_values=sil.values,
        stability=stab,
    )

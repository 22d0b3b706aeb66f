"""Internal clustering criteria computed in one O(n·d) pass over all rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from segml.errors import ConfigError

__all__ = ["ClusterStats", "cluster_stats"]


def encode_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``np.unique(labels, return_inverse=True)`` without sorting for small int labels.

    Segment labels are small non-negative integers; counting them (O(n)) replaces the sort of
    ``np.unique`` (O(n log n), 60 ms per call on 1M rows). Other labels go through
    ``np.unique``.

    Parameters
    ----------
    labels : numpy.ndarray of shape (n_samples,)

    Returns
    -------
    (uniques, codes)
        Sorted distinct labels and each row's position among them (``intp``).
    """
    if (
        labels.ndim == 1
        and labels.size
        and labels.dtype.kind in "iu"
        and labels.min() >= 0
        and labels.max() <= 4 * labels.size + 1024
    ):
        counts = np.bincount(labels)
        uniques = np.flatnonzero(counts)
        if uniques.shape[0] == counts.shape[0]:
            return uniques.astype(labels.dtype), labels.astype(np.intp, copy=False)
        lookup = np.full(counts.shape[0], -1, dtype=np.intp)
        lookup[uniques] = np.arange(uniques.shape[0])
        return uniques.astype(labels.dtype), lookup[labels]
    uniques, codes = np.unique(labels, return_inverse=True)
    return uniques, codes.astype(np.intp, copy=False)


def cluster_sums(X: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster column sums, shape ``(k, n_features)``, in one sparse product.

    The indicator matrix is built directly in CSC form (one entry per row, already in order),
    so no sort is needed; the sums are accumulated in row order as a CSR product would.
    """
    n = codes.shape[0]
    onehot = sp.csc_matrix(
        (np.ones(n), codes, np.arange(n + 1)), shape=(k, n)
    )
    return np.asarray(onehot @ X)


@dataclass(frozen=True)
class ClusterStats:
    """Sizes, means and spreads of a labelling, with the criteria derived from them.

    Attributes
    ----------
    labels : numpy.ndarray
        The distinct labels, in sorted order (the row order of the arrays below).
    sizes : numpy.ndarray
        Rows per cluster.
    means : numpy.ndarray
        Cluster means, shape ``(k, n_features)``.
    wss : numpy.ndarray
        Within-cluster sum of squared Euclidean distances to the mean.
    mean_distance : numpy.ndarray
        Mean Euclidean distance of members to the mean (Davies-Bouldin's scatter).
    inertia : float
        Total within-cluster sum of squares (with respect to the cluster means).
    calinski_harabasz : float
        Between/within dispersion ratio (higher is better); equals scikit-learn's.
    davies_bouldin : float
        Mean worst-case similarity ratio (lower is better); equals scikit-learn's.
    """

    labels: np.ndarray
    sizes: np.ndarray
    means: np.ndarray
    wss: np.ndarray
    mean_distance: np.ndarray
    inertia: float
    calinski_harabasz: float
    davies_bouldin: float


def cluster_stats(X: Any, labels: Any, *, chunk_size: int = 65_536) -> ClusterStats:
    """Compute cluster sizes, means, spreads, inertia, Calinski-Harabasz and Davies-Bouldin.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Model-space data.
    labels : array-like of shape (n_samples,)
        Cluster labels, 2 to ``n_samples - 1`` distinct values.
    chunk_size : int, default=65536
        Rows processed at once (memory stays linear in n).

    Returns
    -------
    ClusterStats
        The statistics; the two indices match ``sklearn.metrics``.

    Examples
    --------
    >>> import numpy as np
    >>> s = cluster_stats(np.array([[0.0], [2.0], [10.0], [12.0]]), [0, 0, 1, 1])
    >>> s.inertia, s.calinski_harabasz, s.davies_bouldin
    (4.0, 50.0, 0.2)
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    if X.ndim != 2 or labels.shape != (X.shape[0],):
        raise ConfigError(
            f"X should be 2-dimensional with one label per row; got X {X.shape} and "
            f"labels {labels.shape}."
        )
    uniques, codes = encode_labels(labels)
    n = X.shape[0]
    k = uniques.shape[0]
    if not 2 <= k <= n - 1:
        raise ConfigError(
            f"Number of labels is {k}. Valid values are 2 to n_samples - 1 (inclusive), "
            f"with n_samples={n}."
        )
    sizes = np.bincount(codes, minlength=k)
    means = cluster_sums(X, codes, k) / sizes[:, None]
    wss = np.zeros(k)
    dist_sum = np.zeros(k)
    for start in range(0, n, int(chunk_size)):
        c = codes[start : start + chunk_size]
        diff = X[start : start + chunk_size] - means[c]
        d2 = np.einsum("ij,ij->i", diff, diff)
        wss += np.bincount(c, weights=d2, minlength=k)
        dist_sum += np.bincount(c, weights=np.sqrt(d2), minlength=k)
    inertia = float(wss.sum())
    grand = X.mean(axis=0)
    between = float((sizes * ((means - grand) ** 2).sum(axis=1)).sum())
    ch = 1.0 if inertia == 0.0 else between * (n - k) / (inertia * (k - 1))
    scatter = dist_sum / sizes
    cdist = np.sqrt(((means[:, None, :] - means[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(scatter, 0) or np.allclose(cdist, 0):
        db = 0.0
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (scatter[:, None] + scatter[None, :]) / cdist
        ratio[np.isinf(ratio)] = np.nan
        np.fill_diagonal(ratio, np.nan)
        db = float(np.nanmax(ratio, axis=1).mean())
    return ClusterStats(
        labels=uniques,
        sizes=sizes,
        means=means,
        wss=wss,
        mean_distance=scatter,
        inertia=inertia,
        calinski_harabasz=float(ch),
        davies_bouldin=db,
    )

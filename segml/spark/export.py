"""MLlib clustering parameters exported into the scikit-learn estimators a Segmenter holds."""

from __future__ import annotations

import numpy as np
from scipy import linalg
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from segml.errors import ConfigError

__all__ = ["export_gmm", "export_kmeans"]


def export_kmeans(centers: np.ndarray, *, inertia: float, n_iter: int, max_iter: int,
                  seed: int) -> KMeans:
    """Return a fitted scikit-learn ``KMeans`` whose centres are ``centers``.

    It is fitted by scikit-learn itself on the ``k`` centres with ``init=centers`` (each centre
    is then its own cluster, so the centres do not move), which sets every internal attribute
    ``predict`` needs without touching private names; ``inertia_`` and ``n_iter_`` are then
    those of the MLlib fit, and ``labels_`` (of the centres) is removed.

    Parameters
    ----------
    centers : ndarray of shape (k, n_features)
        Centres in model space (MLlib ``clusterCenters()``), raw label order.
    inertia : float
        Training cost (sum of squared distances to the nearest centre).
    n_iter : int
        Iterations of the fit.
    max_iter : int
        Iteration limit used.
    seed : int
        Seed of the fit (recorded as ``random_state``).

    Returns
    -------
    sklearn.cluster.KMeans

    Raises
    ------
    ConfigError
        When two centres are identical.
    """
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    k = centers.shape[0]
    if len(np.unique(centers, axis=0)) < k:
        raise ConfigError(
            f"the MLlib k-means fit has {k - len(np.unique(centers, axis=0))} duplicate "
            "centre(s) (fewer distinct rows than k?). Fix: use a smaller k (fit_spark(k=...), "
            "--k) or more data."
        )
    est = KMeans(n_clusters=k, init=centers, n_init=1, max_iter=max_iter, random_state=seed)
    est.fit(centers)
    est.cluster_centers_ = centers.copy()
    est.inertia_ = float(inertia)
    est.n_iter_ = int(n_iter)
    del est.labels_  # labels of the k centres, not of customers
    return est


def export_gmm(weights: np.ndarray, means: np.ndarray, covariances: np.ndarray, *,
               n_iter: int, max_iter: int, log_likelihood: float, n_rows: int,
               seed: int) -> GaussianMixture:
    """Return a fitted scikit-learn ``GaussianMixture`` (full covariances) with these parameters.

    ``precisions_cholesky_`` is computed as scikit-learn does (inverse of the lower Cholesky
    factor, transposed); ``lower_bound_`` is the mean log-likelihood per row.

    Parameters
    ----------
    weights : ndarray of shape (k,)
        Mixture weights (renormalised to sum to 1).
    means : ndarray of shape (k, n_features)
        Component means.
    covariances : ndarray of shape (k, n_features, n_features)
        Component covariances.
    n_iter : int
        Iterations of the fit.
    max_iter : int
        Iteration limit used (``converged_`` is ``n_iter < max_iter``).
    log_likelihood : float
        Total log-likelihood of the training rows.
    n_rows : int
        Training rows.
    seed : int
        Seed of the fit (recorded as ``random_state``).

    Returns
    -------
    sklearn.mixture.GaussianMixture

    Raises
    ------
    ConfigError
        When a covariance is not positive definite.
    """
    weights = np.asarray(weights, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    cov = np.asarray(covariances, dtype=np.float64)
    k, d = means.shape
    prec_chol = np.empty_like(cov)
    for j in range(k):
        try:
            chol = linalg.cholesky(cov[j], lower=True)
        except linalg.LinAlgError as exc:
            raise ConfigError(
                f"gmm component {j} of the MLlib fit has a singular covariance (a component "
                "on a few identical customers or a constant feature). Fix: use fewer segments "
                "(fit_spark(k=...), --k) or method='kmeans'."
            ) from exc
        prec_chol[j] = linalg.solve_triangular(chol, np.eye(d), lower=True).T
    est = GaussianMixture(n_components=k, covariance_type="full", n_init=1,
                          max_iter=max_iter, random_state=seed)
    est.weights_ = weights / weights.sum()
    est.means_ = means
    est.covariances_ = cov
    est.precisions_cholesky_ = prec_chol
    est.precisions_ = np.einsum("kij,klj->kil", prec_chol, prec_chol)
    est.converged_ = bool(n_iter < max_iter)
    est.n_iter_ = int(n_iter)
    est.lower_bound_ = float(log_likelihood) / max(n_rows, 1)
    est.n_features_in_ = d
    return est

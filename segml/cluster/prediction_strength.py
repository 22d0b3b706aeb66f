"""Prediction strength (Tibshirani & Walther, 2005) of k-means on disjoint halves.

The rows are split at random into two halves. Each half is clustered into k groups; the test
half's points are also assigned to the training half's nearest centroid. For every test
cluster, the prediction strength is the share of its pairs of points that the training
centroids put together; the statistic is the smallest of these over the test clusters, averaged
over splits. ``PS(1) = 1``. The authors suggest the largest k with ``PS >= 0.8`` to ``0.9``;
segml uses it as a filter (the chosen k must reach :data:`PS_THRESHOLD`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from segml._validation import check_at_least
from segml.errors import ConfigError

__all__ = ["PredictionStrength", "prediction_strength", "PS_THRESHOLD"]

#: Tibshirani & Walther's threshold (0.8-0.9): below it, the test clusters are not predicted
PS_THRESHOLD = 0.8
_SEED_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class PredictionStrength:
    """Prediction strength of one k over several random halvings.

    Attributes
    ----------
    k : int
    values : numpy.ndarray
        One value per split (the worst-predicted test cluster's share of co-assigned pairs).
    """

    k: int
    values: np.ndarray = field(repr=False)

    @property
    def mean(self) -> float:
        """Mean over splits."""
        return float(np.mean(self.values))

    @property
    def std(self) -> float:
        """Standard deviation over splits."""
        return float(np.std(self.values))


def _pair_share(test_labels: np.ndarray, predicted: np.ndarray) -> float:
    """Smallest share, over test clusters, of within-cluster pairs predicted together."""
    worst = 1.0
    for j in np.unique(test_labels):
        members = predicted[test_labels == j]
        n = members.shape[0]
        if n < 2:
            continue
        counts = np.bincount(members).astype(np.float64)
        worst = min(worst, float((counts * (counts - 1)).sum() / (n * (n - 1))))
    return worst


def prediction_strength(
    X: Any,
    k: int,
    *,
    n_splits: int = 5,
    n_init: int = 10,
    dtype: str = "float64",
    random_state: Any = None,
) -> PredictionStrength:
    """Prediction strength of k-means with ``k`` clusters on disjoint random halves.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric model matrix.
    k : int
        Number of clusters (``k = 1`` gives 1.0 without fitting).
    n_splits : int, default=5
        Random halvings averaged.
    n_init : int, default=10
        k-means initialisations per fit.
    dtype : {"float64", "float32"}, default="float64"
        Precision of the k-means fits (float32: about half the time; what
        :func:`segml.cluster.select_k` uses from 100,000 rows).
    random_state : int, RandomState instance or None
        Seed.

    Returns
    -------
    PredictionStrength

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((20, 2)), np.full((20, 2), 10.0)]
    >>> X = X + np.random.RandomState(0).normal(0, 0.1, X.shape)
    >>> prediction_strength(X, 2, n_splits=2, random_state=0).mean
    1.0
    """
    check_at_least("k", k, 1)
    check_at_least("n_splits", n_splits, 1)
    if dtype not in ("float64", "float32"):
        raise ConfigError(f"dtype={dtype!r} should be 'float64' or 'float32'.")
    Z = np.asarray(X, dtype=dtype)
    n = Z.shape[0]
    if 2 * k > n:
        raise ConfigError(f"prediction strength with k={k} needs at least {2 * k} rows; got {n}.")
    rng = check_random_state(random_state)
    if k == 1:
        return PredictionStrength(k=1, values=np.ones(int(n_splits)))
    values = np.empty(int(n_splits))
    with threadpool_limits(limits=1):
        for s in range(int(n_splits)):
            perm = rng.permutation(n)
            train, test = Z[perm[: n // 2]], Z[perm[n // 2:]]
            fit_train = KMeans(k, n_init=n_init, random_state=rng.randint(_SEED_MAX)).fit(train)
            test_labels = KMeans(k, n_init=n_init,
                                 random_state=rng.randint(_SEED_MAX)).fit_predict(test)
            values[s] = _pair_share(test_labels, fit_train.predict(test))
    return PredictionStrength(k=int(k), values=values)

"""Silhouette scores that scale: exact squared-Euclidean on all rows, Euclidean on a sample.

Two different quantities live here and are never mixed up:

``silhouette_sqeuclidean_full``
    The silhouette with the *squared* Euclidean distance, computed exactly on every row in
    O(n·k·d) time and memory linear in n. The mean squared distance from ``x`` to the members of
    a cluster ``C`` decomposes as ``‖x − μ_C‖² + W_C / n_C`` where ``W_C`` is the within-cluster
    sum of squares, so no pairwise matrix is needed. This is the definition Spark's
    ``ClusteringEvaluator`` uses, and it equals
    ``sklearn.metrics.silhouette_score(X, labels, metric="sqeuclidean")``.
``silhouette_euclidean_sample``
    The usual (Euclidean) silhouette, O(m²) on a stratified sample of m rows, with a
    percentile bootstrap confidence interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_samples
from sklearn.utils import check_random_state

from segml._validation import check_at_least
from segml.cluster.metrics import cluster_sums, encode_labels
from segml.errors import ConfigError

__all__ = [
    "SilhouetteResult",
    "SampledSilhouetteResult",
    "sqeuclidean_silhouette",
    "sampled_silhouette",
    "stratified_sample_indices",
]

FULL_KIND = "silhouette_sqeuclidean_full"
SAMPLE_KIND = "silhouette_euclidean_sample"


@dataclass(frozen=True)
class SilhouetteResult:
    """Exact silhouette on all rows: aggregates, and the per-row values when computed here.

    Attributes
    ----------
    kind : str
        ``"silhouette_sqeuclidean_full"`` (:func:`sqeuclidean_silhouette`; Spark's
        ``segml.spark.validate`` also gives ``"silhouette_euclidean_full"``).
    per_cluster : pandas.Series
        Mean silhouette of each cluster, indexed by label.
    overall : float
        Mean over all samples.
    negative_share : float
        Share of samples with a negative silhouette.
    n_samples : int
        Rows scored.
    values : numpy.ndarray or None
        Per-sample silhouette, shape ``(n_samples,)`` (per-row: not serialised by
        ``to_dict``); None when computed in Spark (``SparkSilhouette``: aggregates only).
    """

    kind: str
    per_cluster: pd.Series
    overall: float
    negative_share: float
    n_samples: int
    values: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the aggregates (never the per-row values) as plain Python types."""
        return {
            "kind": self.kind,
            "overall": float(self.overall),
            "negative_share": float(self.negative_share),
            "n_samples": int(self.n_samples),
            "per_cluster": {_py(k): float(v) for k, v in self.per_cluster.items()},
        }


@dataclass(frozen=True)
class SampledSilhouetteResult:
    """Euclidean silhouette estimated on a stratified sample, with a bootstrap interval.

    Attributes
    ----------
    kind : str
        Always ``"silhouette_euclidean_sample"``.
    mean : float
        Mean silhouette over the sampled rows.
    ci_low, ci_high : float
        Percentile bootstrap interval of the mean (points resampled within each stratum).
    confidence : float
        Coverage of the interval, e.g. 0.95.
    sample_size : int
        Rows actually sampled (all rows when the data are smaller than the requested size).
    n_bootstrap : int
        Bootstrap replicates.
    stratified : bool
        Whether the sample was stratified by label.
    """

    kind: str
    mean: float
    ci_low: float
    ci_high: float
    confidence: float
    sample_size: int
    n_bootstrap: int
    stratified: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain Python types."""
        return {
            "kind": self.kind,
            "mean": float(self.mean),
            "ci_low": float(self.ci_low),
            "ci_high": float(self.ci_high),
            "confidence": float(self.confidence),
            "sample_size": int(self.sample_size),
            "n_bootstrap": int(self.n_bootstrap),
            "stratified": bool(self.stratified),
        }


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _check_inputs(X: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ConfigError(f"X should be 2-dimensional; got an array with shape {X.shape}.")
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ConfigError(
            f"labels should have shape ({X.shape[0]},) to match X; got {labels.shape}."
        )
    if not np.isfinite(X).all():
        raise ConfigError("X contains NaN or infinite values; impute or drop them first.")
    uniques, codes = encode_labels(labels)
    n_labels = uniques.shape[0]
    if not 2 <= n_labels <= X.shape[0] - 1:
        raise ConfigError(
            f"Number of labels is {n_labels}. Valid values are 2 to n_samples - 1 "
            f"(inclusive), with n_samples={X.shape[0]}."
        )
    return X, uniques, codes.astype(np.intp)


def sqeuclidean_silhouette(
    X: Any, labels: Any, *, chunk_size: int = 65_536
) -> SilhouetteResult:
    """Exact squared-Euclidean silhouette of every row in O(n·k·d).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Model-space data (numeric, finite).
    labels : array-like of shape (n_samples,)
        Cluster label of each row; 2 to ``n_samples - 1`` distinct labels.
    chunk_size : int, default=65536
        Rows processed at once; peak extra memory is ``chunk_size × n_clusters`` floats.

    Returns
    -------
    SilhouetteResult
        Per-sample values, per-cluster means and the overall mean, labelled
        ``"silhouette_sqeuclidean_full"``.

    Notes
    -----
    With ``μ_C`` the mean and ``W_C = Σ_{y∈C} ‖y − μ_C‖²`` of cluster ``C``,
    ``Σ_{y∈C} ‖x − y‖² = n_C ‖x − μ_C‖² + W_C``. The own-cluster mean excludes ``x`` itself
    (divides by ``n_C − 1``) and singletons get 0, as in scikit-learn. Accumulation is float64.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> round(sqeuclidean_silhouette(X, [0, 0, 1, 1]).overall, 6)
    0.98995
    """
    check_at_least("chunk_size", chunk_size, 1)
    X, uniques, codes = _check_inputs(X, labels)
    n, _ = X.shape
    k = uniques.shape[0]
    center = X.mean(axis=0)
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    means = cluster_sums(X, codes, k) / counts[:, None] - center  # centred cluster means
    mu_sq = np.einsum("ij,ij->i", means, means)
    wss = np.zeros(k)
    values = np.empty(n)
    own_d = np.empty(n)
    step = int(chunk_size)
    # pass 1: within-cluster sums of squares (exact, no cancellation)
    for start in range(0, n, step):
        xc = X[start : start + step] - center
        c = codes[start : start + step]
        diff = xc - means[c]
        d_own = np.einsum("ij,ij->i", diff, diff)
        own_d[start : start + step] = d_own
        wss += np.bincount(c, weights=d_own, minlength=k)
    spread = wss / counts
    # pass 2: silhouette per row
    for start in range(0, n, step):
        xc = X[start : start + step] - center
        c = codes[start : start + step]
        m = xc.shape[0]
        d = np.einsum("ij,ij->i", xc, xc)[:, None] - 2.0 * (xc @ means.T) + mu_sq[None, :]
        np.maximum(d, 0.0, out=d)
        mean_to = d + spread[None, :]
        rows = np.arange(m)
        n_own = counts[c]
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (n_own * own_d[start : start + step] + wss[c]) / (n_own - 1.0)
        mean_to[rows, c] = np.inf
        b = mean_to.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (b - a) / np.maximum(a, b)
        s[n_own <= 1] = 0.0
        values[start : start + step] = np.nan_to_num(s)
    per_cluster = pd.Series(
        np.bincount(codes, weights=values, minlength=k) / counts,
        index=pd.Index(uniques, name="segment"),
        name=FULL_KIND,
    )
    return SilhouetteResult(
        kind=FULL_KIND,
        values=values,
        per_cluster=per_cluster,
        overall=float(values.mean()),
        negative_share=float((values < 0).mean()),
        n_samples=n,
    )


def stratified_sample_indices(
    labels: Any, sample_size: int, *, random_state: Any = None, min_per_stratum: int = 2
) -> np.ndarray:
    """Row positions of a stratified random sample, proportional to label frequency.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Strata.
    sample_size : int
        Requested rows; every row when ``sample_size >= n_samples``.
    random_state : int, RandomState instance or None
        Seed.
    min_per_stratum : int, default=2
        Each stratum gets at least this many rows (or all of its rows when smaller).

    Returns
    -------
    numpy.ndarray
        Sorted positions.
    """
    labels = np.asarray(labels)
    n = labels.shape[0]
    if sample_size >= n:
        return np.arange(n)
    rng = check_random_state(random_state)
    uniques, codes = encode_labels(labels)
    counts = np.bincount(codes)
    alloc = np.floor(sample_size * counts / n).astype(int)
    alloc = np.minimum(np.maximum(alloc, np.minimum(min_per_stratum, counts)), counts)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    picked = []
    for j in range(uniques.shape[0]):
        members = order[bounds[j] : bounds[j + 1]]
        picked.append(rng.choice(members, size=alloc[j], replace=False))
    return np.sort(np.concatenate(picked))


def sampled_silhouette(
    X: Any,
    labels: Any,
    *,
    sample_size: int = 5_000,
    n_bootstrap: int = 200,
    stratify: bool = True,
    confidence: float = 0.95,
    random_state: Any = None,
) -> SampledSilhouetteResult:
    """Euclidean silhouette on a (stratified) sample with a bootstrap confidence interval.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Model-space data.
    labels : array-like of shape (n_samples,)
        Cluster labels.
    sample_size : int, default=5000
        Rows sampled (cost is O(sample_size²)); all rows when the data are smaller.
    n_bootstrap : int, default=200
        Bootstrap replicates; the sampled rows' silhouette values are resampled within each
        stratum and the percentile interval of their mean is reported.
    stratify : bool, default=True
        Sample proportionally within each label (every label keeps at least 2 rows).
    confidence : float, default=0.95
        Interval coverage, in (0, 1).
    random_state : int, RandomState instance or None
        Seed for the sample and the bootstrap.

    Returns
    -------
    SampledSilhouetteResult
        Labelled ``"silhouette_euclidean_sample"``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> r = sampled_silhouette(X, [0, 0, 1, 1], n_bootstrap=10, random_state=0)
    >>> round(r.mean, 4), r.kind
    (0.8997, 'silhouette_euclidean_sample')
    """
    check_at_least("sample_size", sample_size, 3)
    check_at_least("n_bootstrap", n_bootstrap, 1)
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence={confidence} should be in the open interval (0, 1).")
    X, uniques, codes = _check_inputs(X, labels)
    rng = check_random_state(random_state)
    n = X.shape[0]
    if stratify:
        idx = stratified_sample_indices(codes, int(sample_size), random_state=rng)
    else:
        idx = np.arange(n) if sample_size >= n else np.sort(
            rng.choice(n, size=int(sample_size), replace=False)
        )
    sub_codes = codes[idx]
    if np.unique(sub_codes).shape[0] < 2:
        raise ConfigError(
            f"The sample of {idx.shape[0]} rows holds a single label; use stratify=True "
            "or a larger sample_size."
        )
    vals = silhouette_samples(X[idx], sub_codes, metric="euclidean")
    strata = np.unique(sub_codes) if stratify else np.array([0])
    groups = [vals[sub_codes == s] for s in strata] if stratify else [vals]
    total = np.zeros(int(n_bootstrap))
    for g in groups:
        draws = rng.randint(0, g.shape[0], size=(int(n_bootstrap), g.shape[0]))
        total += g[draws].sum(axis=1)
    boot = total / vals.shape[0]
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return SampledSilhouetteResult(
        kind=SAMPLE_KIND,
        mean=float(vals.mean()),
        ci_low=float(lo),
        ci_high=float(hi),
        confidence=float(confidence),
        sample_size=int(idx.shape[0]),
        n_bootstrap=int(n_bootstrap),
        stratified=bool(stratify),
    )

"""The gap statistic (Tibshirani, Walther & Hastie, 2001) against a PCA-aligned uniform reference.

``Gap(k) = E*[log W_k] - log W_k``, where ``W_k`` is the k-means within-cluster sum of squares
of the data and ``E*`` its mean over ``B`` reference data sets drawn uniformly in the box of the
data's principal components (the paper's reference (b): it follows the data's shape, so an
elongated single population is not mistaken for structure). ``s_k = sd_k * sqrt(1 + 1/B)``.
``k = 1`` is part of the search: a data set whose ``log W_k`` falls no faster than the
reference's has no cluster structure k-means can find, and the rule says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from segml._validation import check_at_least, check_choice
from segml.cluster.prediction_strength import prediction_strength
from segml.cluster.separation import cell_jitter, separation
from segml.errors import ConfigError

__all__ = ["GapResult", "gap_statistic", "gap_choice", "gap_table", "pca_uniform_reference",
           "GAP_METHODS"]

#: how k is read off the gap curve (the names of R's ``cluster::maxSE``)
GAP_METHODS = ("Tibs2001SEmax", "firstSEmax", "globalSEmax")
#: rows the gap statistic is computed on at most (a uniform sample above it)
GAP_SAMPLE_SIZE = 20_000
_SEED_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class GapResult:
    """Gap curve of one data set.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by ``k``: ``log_w`` (data), ``ref_log_w`` (mean over references), ``gap``,
        ``gap_sd`` (sd over references) and ``gap_s`` (``sd * sqrt(1 + 1/B)``).
    n_references : int
        Reference data sets ``B``.
    n_rows : int
        Rows the curve was computed on (a uniform sample when the data had more).
    n_init : int
        k-means initialisations per fit (data and references).
    """

    table: pd.DataFrame
    n_references: int
    n_rows: int
    n_init: int
    labels: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def choice(self, method: str = "Tibs2001SEmax") -> int:
        """Return the k this curve recommends (see :func:`gap_choice`)."""
        return gap_choice(self.table["gap"], self.table["gap_s"], method=method)


def gap_choice(gap: Any, s: Any, *, method: str = "Tibs2001SEmax") -> int:
    """Read k off a gap curve.

    Parameters
    ----------
    gap, s : pandas.Series
        ``Gap(k)`` and ``s_k`` indexed by consecutive k (starting at 1 for a "no structure"
        answer to be possible).
    method : {"Tibs2001SEmax", "firstSEmax", "globalSEmax"}, default="Tibs2001SEmax"
        ``"Tibs2001SEmax"``: the smallest k with ``Gap(k) >= Gap(k+1) - s_{k+1}`` (the paper's
        rule; the largest k when none qualifies). ``"firstSEmax"``: the smallest k within one
        ``s`` of the first local maximum. ``"globalSEmax"``: the smallest k within one ``s`` of
        the global maximum (Dudoit & Fridlyand).

    Returns
    -------
    int

    Examples
    --------
    >>> import pandas as pd
    >>> gap_choice(pd.Series([0.5, 0.45, 0.4], index=[1, 2, 3]), pd.Series([0.02] * 3,
    ...            index=[1, 2, 3]))
    1
    >>> gap_choice(pd.Series([0.1, 0.6, 0.62], index=[1, 2, 3]), pd.Series([0.05] * 3,
    ...            index=[1, 2, 3]))
    2
    """
    check_choice("method", method, GAP_METHODS)
    g = pd.Series(gap, dtype="float64")
    sv = pd.Series(s, dtype="float64").reindex(g.index)
    ks = list(g.index)
    if method == "Tibs2001SEmax":
        for a, b in zip(ks[:-1], ks[1:], strict=True):
            if g[a] >= g[b] - sv[b]:
                return int(a)
        return int(ks[-1])
    if method == "globalSEmax":
        top = g.idxmax()
    else:
        top = ks[-1]
        for a, b in zip(ks[:-1], ks[1:], strict=True):
            if g[b] < g[a]:
                top = a
                break
    within = [k for k in ks if k <= top and g[k] >= g[top] - sv[top]]
    return int(within[0])


def pca_uniform_reference(X: np.ndarray, rng: np.random.RandomState,
                          n_references: int = 1) -> Iterator[np.ndarray]:
    """Uniform reference data sets in the box of ``X``'s principal components.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
    rng : numpy.random.RandomState
    n_references : int, default=1

    Yields
    ------
    numpy.ndarray
        ``n_references`` arrays of ``X``'s shape, each drawn when asked for (one SVD for all
        of them).
    """
    mean = X.mean(axis=0)
    Xc = X - mean
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    proj = Xc @ vt.T
    lo, hi = proj.min(axis=0), proj.max(axis=0)
    for _ in range(int(n_references)):
        yield rng.uniform(lo, hi, size=proj.shape) @ vt + mean


def _log_w(X: np.ndarray, k: int, n_init: int, seed: int,
           fit_rows: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Return log W_k of ``X``; k-means runs on ``fit_rows`` (``X`` in another dtype) when given."""
    if k == 1:
        return float(np.log(((X - X.mean(axis=0)) ** 2).sum())), np.zeros(len(X), dtype=int)
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(
        X if fit_rows is None else fit_rows)
    return float(np.log(max(km.inertia_, np.finfo(float).tiny))), km.labels_


def gap_statistic(
    X: Any,
    k_range: Iterable[int] = range(1, 11),
    *,
    n_references: int = 10,
    sample_size: int | None = GAP_SAMPLE_SIZE,
    n_init: int = 10,
    dtype: str = "float64",
    random_state: Any = None,
) -> GapResult:
    """Gap statistic of k-means on ``X`` for every k in ``k_range``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric model matrix (already scaled as the clustering sees it).
    k_range : iterable of int, default=range(1, 11)
        Consecutive k to evaluate (1 included for a "no structure" answer).
    n_references : int, default=10
        Reference data sets ``B`` (the paper uses 10-20; ``s_k`` accounts for ``B``).
    sample_size : int or None, default=20000
        Compute on a uniform sample of this many rows when there are more (the curve's shape
        is a population quantity; 20,000 rows estimate it well and keep it fast).
    n_init : int, default=10
        k-means initialisations per fit, for the data and every reference.
    dtype : {"float64", "float32"}, default="float64"
        Precision of the k-means fits (the references are drawn, and ``W_1`` computed, in
        float64 either way). float32 is what :func:`segml.cluster.select_k` uses from 100,000
        rows (``dtype="auto"``): about half the k-means time.
    random_state : int, RandomState instance or None
        Seed; the same seed gives the same curve.

    Returns
    -------
    GapResult
    """
    ks = sorted({int(k) for k in k_range})
    if not ks or ks[0] < 1:
        raise ConfigError(f"k_range={ks!r} should hold integers >= 1.")
    check_at_least("n_references", n_references, 2)
    check_at_least("n_init", n_init, 1)
    check_choice("dtype", dtype, ("float64", "float32"))
    rng = check_random_state(random_state)
    Z = np.asarray(X, dtype=np.float64)
    if sample_size is not None and Z.shape[0] > sample_size:
        Z = Z[np.sort(rng.choice(Z.shape[0], size=int(sample_size), replace=False))]
    if ks[-1] >= Z.shape[0]:
        raise ConfigError(f"n_samples={Z.shape[0]} should be > the largest k={ks[-1]}.")
    ref_log = np.empty((n_references, len(ks)))
    log_w = np.empty(len(ks))
    labels: dict[int, np.ndarray] = {}
    def cast(A: np.ndarray) -> np.ndarray | None:
        return None if dtype == "float64" else A.astype(dtype)

    with threadpool_limits(limits=1):
        Zf = cast(Z)
        for j, k in enumerate(ks):
            log_w[j], labels[k] = _log_w(Z, k, n_init, int(rng.randint(_SEED_MAX)), Zf)
        # drawn lazily: each reference, then its k-means seeds, from the one stream
        for b, R in enumerate(pca_uniform_reference(Z, rng, n_references)):
            Rf = cast(R)
            for j, k in enumerate(ks):
                ref_log[b, j] = _log_w(R, k, n_init, int(rng.randint(_SEED_MAX)), Rf)[0]
    sd = ref_log.std(axis=0)
    table = pd.DataFrame(
        {
            "log_w": log_w,
            "ref_log_w": ref_log.mean(axis=0),
            "gap": ref_log.mean(axis=0) - log_w,
            "gap_sd": sd,
            "gap_s": sd * np.sqrt(1.0 + 1.0 / n_references),
        },
        index=pd.Index(ks, name="k"),
    )
    return GapResult(table=table, n_references=int(n_references), n_rows=int(Z.shape[0]),
                     n_init=int(n_init), labels=labels)


def gap_table(Z: np.ndarray, k_max: int, *, n_references: int, sample_size: int | None,
              n_init: int, n_splits: int, random_state: int,
              dtype: str = "float64") -> pd.DataFrame:
    """Gap statistic and prediction strength of k-means for k = 1..k_max, one row per k.

    Both on the same uniform sample of at most ``sample_size`` rows (all rows when ``None``),
    their k-means fits in ``dtype``.

    The separation columns test the gap's own k-means fit of the sample at each k >= 2
    (:func:`segml.cluster.separation.separation`: a dip test of every nearest-centre pair).

    Returns
    -------
    pandas.DataFrame
        Indexed by k: ``gap``, ``gap_s``, ``prediction_strength``, ``prediction_strength_sd``,
        ``separation`` (``"separated"``, ``"merged"``, ``"undecided"``; ``""`` at k = 1),
        and the least separated pair's ``dip_p`` and ``dip_rows`` (NaN at k = 1).
    """
    rng = np.random.RandomState(random_state)
    if sample_size is not None and Z.shape[0] > sample_size:
        Z = Z[np.sort(rng.choice(Z.shape[0], size=int(sample_size), replace=False))]
    res = gap_statistic(Z, range(1, k_max + 1), n_references=n_references, sample_size=None,
                        n_init=n_init, dtype=dtype, random_state=rng.randint(2**31 - 1))
    gap = res.table
    ps = [prediction_strength(Z, k, n_splits=n_splits, n_init=n_init, dtype=dtype,
                              random_state=rng.randint(2**31 - 1)) for k in gap.index]
    out = gap[["gap", "gap_s"]].copy()
    out["prediction_strength"] = [p.mean for p in ps]
    out["prediction_strength_sd"] = [p.std for p in ps]
    # drawn last: the gap and prediction strength are those of the same seed without it
    jittered = cell_jitter(Z, rng.randint(2**31 - 1))
    status, dip_p, dip_rows = [], [], []
    for k in gap.index:
        labels = res.labels.get(int(k))
        if int(k) < 2 or labels is None or np.unique(labels).size < 2:
            status.append("")
            dip_p.append(np.nan)
            dip_rows.append(np.nan)
            continue
        sep = separation(Z, labels, jittered=jittered)
        weakest = sep.weakest
        status.append(sep.status)
        dip_p.append(weakest.p if weakest is not None else np.nan)
        dip_rows.append(weakest.n if weakest is not None else np.nan)
    out["separation"] = status
    out["dip_p"] = dip_p
    out["dip_rows"] = dip_rows
    return out

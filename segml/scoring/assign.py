"""Segment assignment from the model matrix: distances, confidences, drivers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

from segml.scoring.parts import SegmenterParts

__all__ = ["Assignment", "assign_rows", "top_features"]

_BLAS: list[Any] = []
_ONE_THREAD = [False]  # inside _one_blas_thread(): BLAS already limited


def _blas() -> Any:
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0]


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread once for a loop of products (see :func:`_matmul`)."""
    if _ONE_THREAD[0]:
        yield
        return
    with _blas().limit(limits=1, user_api="blas"):
        _ONE_THREAD[0] = True
        try:
            yield
        finally:
            _ONE_THREAD[0] = False


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Multiply ``a @ b`` with BLAS on one thread for big ``a`` (as k-means in sklearn).

    Equal to the threaded product to rounding; avoids BLAS threads fighting the caller's
    own parallelism and oversubscribed machines.
    """
    if a.shape[0] < 4096 or _ONE_THREAD[0]:
        return a @ b
    with _one_blas_thread():
        return a @ b


def _row_norm(diff: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def _sq_dists(z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    cn = np.einsum("ij,ij->i", centers, centers)
    zn = np.einsum("ij,ij->i", z, z)
    return np.maximum(zn[:, None] - 2.0 * _matmul(z, centers.T) + cn, 0.0)


def _second(d2: np.ndarray, raw: np.ndarray) -> np.ndarray:
    if d2.shape[1] < 2:
        return raw.copy()
    masked = d2.copy()
    masked[np.arange(len(raw)), raw] = np.inf
    return masked.argmin(axis=1)



@dataclass
class Assignment:
    """Result of :meth:`CompiledScorer.assign` (internal to scoring)."""

    labels: np.ndarray
    raw: np.ndarray
    distance: np.ndarray
    confidence: np.ndarray
    second: np.ndarray
    centers: np.ndarray
    proba: np.ndarray | None = None


def top_features(z: np.ndarray, a: Assignment, k: int) -> np.ndarray:
    """Index the model features that most pull each row to its segment.

    A feature's pull is how much closer it puts the row to its own centre than to
    the runner-up centre: ``(z - c_second)^2 - (z - c_own)^2``.

    Parameters
    ----------
    z : numpy.ndarray
        Model matrix.
    a : Assignment
        Its assignment.
    k : int
        How many to name per row.

    Returns
    -------
    numpy.ndarray
        ``(n_rows, k)`` feature indices, strongest first; ``-1`` where the pull
        is not positive (fewer than ``k`` features pull the row in).
    """
    n, p = z.shape
    k = min(k, p)
    if k <= 0 or n == 0:
        return np.empty((n, max(k, 0)), dtype=np.intp)
    pull = (z - a.centers[a.second]) ** 2
    pull -= (z - a.centers[a.raw]) ** 2
    if k < p:
        idx = np.argpartition(-pull, k - 1, axis=1)[:, :k]
    else:
        idx = np.broadcast_to(np.arange(p), (n, p)).copy()
    vals = np.take_along_axis(pull, idx, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    idx[vals <= 0] = -1
    return idx


def assign_rows(parts: SegmenterParts, z: np.ndarray) -> Assignment:
    """Assign rows of the model matrix to ordered segments.

    Parameters
    ----------
    parts : SegmenterParts
        The fitted estimator and label order (:func:`split_segmenter`).
    z : numpy.ndarray
        Model matrix (:meth:`CompiledScorer.matrix`).

    Returns
    -------
    Assignment
        Ordered labels, distance to own centroid, confidence, second centroid.
    """
    est = parts.estimator
    lm = parts.label_map
    n = z.shape[0]
    rows = np.arange(n)
    if hasattr(est, "means_"):
        centers = np.asarray(est.means_, dtype=np.float64)
        try:
            wlp = est._estimate_weighted_log_prob(z.astype(est.means_.dtype))
            raw = wlp.argmax(axis=1)
            wlp = wlp - wlp.max(axis=1, keepdims=True)
            p = np.exp(wlp)
            p /= p.sum(axis=1, keepdims=True)
        except AttributeError:  # pragma: no cover - future scikit-learn
            p = est.predict_proba(z)
            raw = est.predict(z)
        conf = p[rows, raw]
        d2 = _sq_dists(z, centers)
        second = _second(d2, raw)
        proba = p
    else:
        fitted_centers = np.asarray(est.cluster_centers_)
        centers = fitted_centers.astype(np.float64)
        cn = np.einsum("ij,ij->i", centers, centers)
        dd = cn - 2.0 * _matmul(z, centers.T)
        if not isinstance(est, (KMeans, MiniBatchKMeans)):
            raw = np.asarray(est.predict(z.astype(fitted_centers.dtype)), dtype=np.intp)
        elif fitted_centers.dtype != np.float64:
            zc = z.astype(fitted_centers.dtype)
            cc = np.einsum("ij,ij->i", fitted_centers, fitted_centers)
            raw = (cc - 2 * (zc @ fitted_centers.T)).argmin(axis=1)
        else:
            raw = dd.argmin(axis=1)
        zn = np.einsum("ij,ij->i", z, z)
        d2 = np.maximum(dd + zn[:, None], 0.0)
        second = _second(d2, raw)
        diff = centers.take(raw, axis=0)
        np.subtract(z, diff, out=diff)
        d1 = _row_norm(diff)
        d2nd = np.sqrt(d2[rows, second]) if d2.shape[1] > 1 else np.full(n, np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            conf = np.where(d2nd > 0, 1.0 - d1 / d2nd, 0.0)
        conf = np.clip(conf, 0.0, 1.0)
        proba = None
    dist = d1 if proba is None else _row_norm(z - centers[raw])
    return Assignment(
        labels=lm[raw], raw=np.asarray(raw, dtype=np.intp), distance=dist, confidence=conf,
        second=second, centers=centers, proba=proba,
    )

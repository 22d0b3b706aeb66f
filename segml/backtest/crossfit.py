"""Cross-fitting over customers: each customer's segment value estimated without them.

The backtest judges a segmentation by ranking customers by their segment's purchase-again
rate or mean revenue. :func:`make_folds` splits a cutoff's customers into ``K`` folds (fixed
seed, the same folds for every segmenter of that cutoff) and :func:`cell_predictions` gives,
for each (fold, segment) cell, the segment's value estimated on the *other* folds only: the
segment's deviation from those folds' overall mean, plus the overall mean. See
:mod:`segml.backtest.metrics` for why and for the metrics built on it.
"""

from __future__ import annotations

import numpy as np

from segml.errors import ConfigError

__all__ = ["make_folds", "check_n_folds", "cell_predictions", "crossfit_means"]


def check_n_folds(n_folds: object) -> int:
    """Validate ``n_folds`` (an integer >= 1; 1 means in sample) and return it as int.

    Raises
    ------
    ConfigError
        For anything else.
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 1:
        raise ConfigError(
            f"n_folds={n_folds!r} should be an integer >= 1 (1: segment rates in sample, "
            "optimistic for many small segments). Fix: e.g. n_folds=5 (CLI: --n-folds 5)."
        )
    return int(n_folds)


def make_folds(n: int, n_folds: int = 5, random_state: int | None = 0) -> np.ndarray | None:
    """Balanced random fold per customer: a seeded permutation of ``0 .. n - 1`` modulo K.

    Parameters
    ----------
    n : int
        Number of customers.
    n_folds : int, default 5
        Folds ``K``; 1 gives None (no cross-fitting: segment values in sample). With fewer
        than ``K`` customers each customer is its own fold.
    random_state : int, optional
        Seed of the permutation.

    Returns
    -------
    ndarray of int or None
        Fold per customer, ``0 .. min(K, n) - 1``, fold sizes differing by at most one.

    Examples
    --------
    >>> np.bincount(make_folds(11, 5, random_state=0)).tolist()
    [3, 2, 2, 2, 2]
    """
    k = min(check_n_folds(n_folds), n)
    if k < 2:
        return None
    perm = np.random.default_rng(random_state).permutation(n)
    folds = np.empty(n, dtype="int64")
    folds[perm] = np.arange(n) % k
    return folds


def cell_predictions(W: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per (fold, segment) cell, the segment's mean estimated on the other folds.

    Parameters
    ----------
    W, S : ndarray of shape (K, G)
        Summed weights and summed outcome per fold (rows) and segment (columns). ``K = 1``
        means in sample: the "other folds" are all customers.

    Returns
    -------
    pred : ndarray of shape (K, G)
        ``overall mean + (mean of the segment on the other folds - overall mean of the other
        folds)``; the overall mean where the segment has no customer in the other folds.
        In sample (``K = 1``) this is the segment's mean.
    W_other : ndarray of shape (K, G)
        The weight the estimate rests on (0: no estimate).
    """
    W_tot, S_tot = W.sum(), S.sum()
    mean_all = S_tot / W_tot if W_tot > 0 else np.nan
    if W.shape[0] == 1:
        W_o, S_o = W, S
    else:
        W_o, S_o = W.sum(axis=0) - W, S.sum(axis=0) - S
    Wf, Sf = W_o.sum(axis=1, keepdims=True), S_o.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(Wf > 0, Sf / np.where(Wf > 0, Wf, 1.0), 0.0)
        dev = np.where(W_o > 0, S_o / np.where(W_o > 0, W_o, 1.0) - base, 0.0)
    return mean_all + dev, W_o


def crossfit_means(codes: np.ndarray, n_groups: int, y: np.ndarray,
                   folds: np.ndarray | None = None, w: np.ndarray | None = None) -> np.ndarray:
    """Each customer's segment mean of ``y``, estimated without the customer's fold.

    Parameters
    ----------
    codes : ndarray of int
        Segment per customer, ``0 .. n_groups - 1``.
    n_groups : int
    y : ndarray
        Outcome per customer (e.g. bought again as 0/1, revenue).
    folds : ndarray of int, optional
        Fold per customer (:func:`make_folds`); None: in sample.
    w : ndarray, optional
        Bootstrap weights; None: every customer once.

    Returns
    -------
    ndarray
        Prediction per customer (see :func:`cell_predictions`).

    Examples
    --------
    Two folds: customer 0 (fold 0, segment 0) is scored with segment 0's rate on fold 1
    (1/2) minus fold 1's overall rate (1/3), plus the overall rate (3/6):

    >>> codes, bought = np.array([0, 0, 1, 0, 1, 1]), np.array([1, 1, 0, 0, 1, 0])
    >>> folds = np.array([0, 1, 0, 1, 0, 1])
    >>> crossfit_means(codes, 2, bought, folds).round(4).tolist()
    [0.6667, 0.8333, 0.1667, 0.8333, 0.1667, 0.3333]
    """
    y = np.asarray(y, dtype="float64")
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype="float64")
    f = np.zeros(len(y), dtype="int64") if folds is None else np.asarray(folds, dtype="int64")
    k = int(f.max()) + 1 if len(f) else 1
    cell = f * n_groups + np.asarray(codes, dtype="int64")
    W = np.bincount(cell, w, minlength=k * n_groups).reshape(k, n_groups)
    S = np.bincount(cell, w * y, minlength=k * n_groups).reshape(k, n_groups)
    pred, _ = cell_predictions(W, S)
    return pred.ravel()[cell]

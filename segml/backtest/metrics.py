"""Predictive validity of a segmentation or a score, with customers resampled by weights.

Every metric is computed from per-group sums with bootstrap *weights* (how many times each
customer is drawn in one resample), so a resample costs a few ``bincount`` calls instead of
a copy of the frame, and all segmenters of one cutoff see the same resamples (paired).

A segmenter scores each customer by its segment's value *in the window being judged*
(mean next-window revenue, purchase-again rate): this is the best ranking the segmentation
allows, in sample. With a handful of segments and thousands of customers the optimism is
small; a segmentation with many tiny segments would profit from it.

Metrics (higher is better for all but the top segment's, which describe one segment):

``eta2_revenue``, ``eta2_log_revenue``
    Share of the variance of next-window revenue (of ``log1p`` of it, negatives at 0)
    between segments: ``SS_between / SS_total``.
``auc_bought_again``
    Probability that a random customer who bought again is ranked above one who did not
    (ties count one half).
``capture_top10``
    Share of next-window revenue made by the top 10% of customers by the ranking (a tie
    straddling the 10% line counts pro rata).
``spearman_revenue``
    Rank correlation of the ranking with next-window revenue (mid-ranks).
``top_segment_capture``, ``top_segment_lift``, ``top_segment_share``
    The segment with the highest mean next-window revenue: its share of that revenue, its
    mean over the overall mean, its share of customers (segmenters only).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RANKING_METRICS", "SEGMENT_METRICS", "Groups", "score_metrics", "segment_metrics"]

RANKING_METRICS = ("auc_bought_again", "capture_top10", "spearman_revenue")
SEGMENT_METRICS = ("eta2_revenue", "eta2_log_revenue", *RANKING_METRICS,
                   "top_segment_capture", "top_segment_lift", "top_segment_share")


class Groups:
    """Outcomes of the customers of one cutoff, with the revenue tie groups precomputed.

    Parameters
    ----------
    revenue : ndarray
        Next-window revenue per customer.
    bought : ndarray of bool
        Whether each customer bought again in the window.
    """

    def __init__(self, revenue: np.ndarray, bought: np.ndarray) -> None:
        self.revenue = np.asarray(revenue, dtype="float64")
        self.log_revenue = np.log1p(np.clip(self.revenue, 0.0, None))
        self.bought = np.asarray(bought, dtype="float64")
        _, self.rev_codes = np.unique(self.revenue, return_inverse=True)
        self.n = len(self.revenue)


def _eta2(g: np.ndarray, w: np.ndarray, y: np.ndarray, W_g: np.ndarray) -> float:
    S_g = np.bincount(g, w * y, minlength=len(W_g))
    W, S = W_g.sum(), S_g.sum()
    sst = float(np.dot(w, y * y) - S * S / W)
    if sst <= 1e-12 * max(1.0, float(np.dot(w, y * y))):
        return float("nan")
    nz = W_g > 0
    ssb = float(np.sum(S_g[nz] ** 2 / W_g[nz]) - S * S / W)
    return max(0.0, min(1.0, ssb / sst))


def _merge(score: np.ndarray, *sums: np.ndarray) -> tuple[np.ndarray, ...]:
    """Merge groups with equal scores; return scores ascending and the summed columns."""
    keep = np.isfinite(score)
    u, inv = np.unique(score[keep], return_inverse=True)
    return (u, *(np.bincount(inv, s[keep], minlength=len(u)) for s in sums))


def _auc(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    _, p, q = _merge(score, pos, neg)
    P, N = p.sum(), q.sum()
    if P <= 0 or N <= 0:
        return float("nan")
    below = np.cumsum(q) - q
    return float(np.sum(p * (below + 0.5 * q)) / (P * N))


def _capture(score: np.ndarray, W_g: np.ndarray, S_g: np.ndarray, top: float = 0.1) -> float:
    _, W, S = _merge(score, W_g, S_g)
    W, S = W[::-1], S[::-1]
    total = S.sum()
    if total <= 0:
        return float("nan")
    want = top * W.sum()
    before = np.cumsum(W) - W
    frac = np.clip((want - before) / np.where(W > 0, W, 1.0), 0.0, 1.0)
    return float(np.sum(frac * S) / total)


def _midranks(codes: np.ndarray, w: np.ndarray, n_groups: int) -> np.ndarray:
    W = np.bincount(codes, w, minlength=n_groups)
    return np.cumsum(W) - W + (W + 1.0) / 2.0


def _wcorr(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    W = w.sum()
    ma, mb = np.dot(w, a) / W, np.dot(w, b) / W
    da, db = a - ma, b - mb
    va, vb = np.dot(w, da * da), np.dot(w, db * db)
    if va <= 0 or vb <= 0:
        return float("nan")
    return float(np.dot(w, da * db) / np.sqrt(va * vb))


def _spearman(score_codes: np.ndarray, n_score: int, grp: Groups, w: np.ndarray) -> float:
    rs = _midranks(score_codes, w, n_score)[score_codes]
    n_rev = int(grp.rev_codes.max()) + 1 if grp.n else 0
    rr = _midranks(grp.rev_codes, w, n_rev)[grp.rev_codes]
    return _wcorr(rs, rr, w)


def _rank_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    u, inv = np.unique(values, return_inverse=True)
    return inv, len(u)


def segment_metrics(codes: np.ndarray, n_groups: int, grp: Groups,
                    w: np.ndarray | None = None) -> dict[str, float]:
    """Metrics of a segmentation (segment code per customer) under weights ``w``.

    Parameters
    ----------
    codes : ndarray of int
        Segment code per customer, ``0 .. n_groups - 1``.
    n_groups : int
    grp : Groups
        The customers' outcomes.
    w : ndarray, optional
        Bootstrap weights (counts); None: every customer once.

    Returns
    -------
    dict of str to float
        Every name of :data:`SEGMENT_METRICS`.

    Examples
    --------
    >>> grp = Groups(np.array([0.0, 0.0, 10.0, 30.0]), np.array([0, 0, 1, 1]))
    >>> m = segment_metrics(np.array([0, 0, 1, 1]), 2, grp)
    >>> round(m["eta2_revenue"], 4), m["auc_bought_again"], m["top_segment_lift"]
    (0.6667, 1.0, 2.0)
    """
    w = np.ones(grp.n) if w is None else np.asarray(w, dtype="float64")
    W_g = np.bincount(codes, w, minlength=n_groups)
    S_g = np.bincount(codes, w * grp.revenue, minlength=n_groups)
    B_g = np.bincount(codes, w * grp.bought, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_g = np.where(W_g > 0, S_g / np.where(W_g > 0, W_g, 1), np.nan)
        rate_g = np.where(W_g > 0, B_g / np.where(W_g > 0, W_g, 1), np.nan)
    W, S = W_g.sum(), S_g.sum()
    top = int(np.nanargmax(mean_g))
    out = {
        "eta2_revenue": _eta2(codes, w, grp.revenue, W_g),
        "eta2_log_revenue": _eta2(codes, w, grp.log_revenue, W_g),
        "auc_bought_again": _auc(rate_g, B_g, W_g - B_g),
        "capture_top10": _capture(mean_g, W_g, S_g),
    }
    mc, nm = _rank_codes(np.nan_to_num(mean_g, nan=-np.inf))
    out["spearman_revenue"] = _spearman(mc[codes], nm, grp, w)
    out["top_segment_capture"] = float(S_g[top] / S) if S > 0 else float("nan")
    out["top_segment_lift"] = float(mean_g[top] / (S / W)) if S > 0 else float("nan")
    out["top_segment_share"] = float(W_g[top] / W)
    return out


def score_metrics(score: np.ndarray, grp: Groups,
                  w: np.ndarray | None = None) -> dict[str, float]:
    """Ranking metrics of a continuous score (higher = more expected value).

    Customers without a score (NaN) are ranked lowest (a tie among them).

    Parameters
    ----------
    score : ndarray
        Score per customer.
    grp : Groups
    w : ndarray, optional
        Bootstrap weights; None: every customer once.

    Returns
    -------
    dict of str to float
        The names of :data:`RANKING_METRICS`.
    """
    w = np.ones(grp.n) if w is None else np.asarray(w, dtype="float64")
    s = np.nan_to_num(np.asarray(score, dtype="float64"), nan=-np.inf)
    codes, n = _rank_codes(s)
    W_g = np.bincount(codes, w, minlength=n)
    B_g = np.bincount(codes, w * grp.bought, minlength=n)
    S_g = np.bincount(codes, w * grp.revenue, minlength=n)
    ranks = np.arange(n, dtype="float64")  # u is sorted: the code is the rank of the score
    return {
        "auc_bought_again": _auc(ranks, B_g, W_g - B_g),
        "capture_top10": _capture(ranks, W_g, S_g),
        "spearman_revenue": _spearman(codes, n, grp, w),
    }

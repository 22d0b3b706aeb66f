"""Predictive validity of a segmentation or a score, with customers resampled by weights.

Every metric is computed from per-group sums with bootstrap *weights* (how many times each
customer is drawn in one resample), so a resample costs a few ``bincount`` calls instead of
a copy of the frame, and all segmenters of one cutoff see the same resamples (paired).

**Out of sample (cross-fitted).** A segmentation ranks customers by its segment's value, and
that value has to be estimated. Estimated on the customers being judged (in sample), it
favours many small segments: with enough segments every customer's own outcome moves its
segment's rate, and AUC, capture and R² grow by chance. So when :class:`Groups` carries
folds (the backtest's default, :func:`segml.backtest.crossfit.make_folds`), each customer
is scored with its segment's rate/mean *on the other folds' customers*; the fold's
customers never inform their own score. The value is the segment's deviation from the
other folds' overall mean, plus the overall mean: a fold's own share of buyers shifts
nobody (so one segment for everybody scores AUC 0.5, R² 0 and lift 1 exactly), and a
segment with no customer in the other folds gets the overall mean. The ranking metrics
rank customers by their segment's *position* in the order of the segments' values on the
other folds (mid-ranks for ties): a segmentation whose order holds in every fold ties its
customers exactly as in sample (small fold-to-fold differences of a segment's value would
otherwise break those ties at random, which lowers Spearman's correlation for coarse
segmentations without being out-of-sample evidence), while segments whose order is noise
get a ranking that is noise. Without folds (``Groups(..., folds=None)``) the segments'
values are taken in sample.

Metrics (higher is better for all but the top segment's, which describe one segment):

``r2_revenue``, ``r2_log_revenue``
    Out-of-sample R² of next-window revenue (of ``log1p`` of it, negatives at 0) predicted
    by the cross-fitted segment mean: ``1 - SSE / SS_total`` around the overall mean. Can
    be negative (a segmentation whose segment means do not hold out of sample); equals
    η² in sample.
``auc_bought_again``
    Probability that a random customer who bought again is ranked above one who did not
    (ties count one half), ranking by the (cross-fitted) purchase-again rate.
``capture_top10``
    Share of next-window revenue made by the top 10% of customers by the (cross-fitted)
    mean revenue (a tie straddling the 10% line counts pro rata).
``spearman_revenue``
    Rank correlation of that ranking with next-window revenue (mid-ranks).
``top_segment_capture``, ``top_segment_lift``, ``top_segment_share``
    The segment with the highest mean next-window revenue -- chosen on the other folds for
    each fold's customers -- its share of that revenue, its mean over the overall mean,
    its share of customers.
``eta2_revenue``, ``eta2_log_revenue``
    Descriptive, always in sample: share of the variance of next-window revenue (of its
    ``log1p``) between segments, ``SS_between / SS_total``. It grows with the number of
    segments; the verdict does not compare it.

A predictor (continuous score) gets the same set: the ranking metrics on its score itself,
the others on the deciles of its score treated as a segmentation (:func:`score_bins`).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["RANKING_METRICS", "SEGMENT_METRICS", "Groups", "score_bins", "score_metrics",
           "predictor_metrics", "segment_metrics"]

RANKING_METRICS = ("auc_bought_again", "capture_top10", "spearman_revenue")
SEGMENT_METRICS = ("r2_revenue", "r2_log_revenue", *RANKING_METRICS,
                   "top_segment_capture", "top_segment_lift", "top_segment_share",
                   "eta2_revenue", "eta2_log_revenue")


class Groups:
    """Outcomes of the customers of one cutoff, with the revenue tie groups precomputed.

    Parameters
    ----------
    revenue : ndarray
        Next-window revenue per customer.
    bought : ndarray of bool
        Whether each customer bought again in the window.
    folds : ndarray of int, optional
        Cross-fitting fold per customer, ``0 .. K - 1`` with ``K >= 2`` (see
        :func:`segml.backtest.crossfit.make_folds`); None: segment values in sample.
    """

    def __init__(self, revenue: np.ndarray, bought: np.ndarray,
                 folds: np.ndarray | None = None) -> None:
        self.revenue = np.asarray(revenue, dtype="float64")
        self.log_revenue = np.log1p(np.clip(self.revenue, 0.0, None))
        self.bought = np.asarray(bought, dtype="float64")
        _, self.rev_codes = np.unique(self.revenue, return_inverse=True)
        self.n = len(self.revenue)
        self.folds = None if folds is None else np.asarray(folds, dtype="int64")
        self.n_folds = 1 if self.folds is None else int(self.folds.max()) + 1 if self.n else 1


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of products without BLAS.

    A threaded BLAS ``dot`` on a busy machine spins its threads: it made the bootstrap ~50x
    slower on the shared 2-core box (490 ms against 9 ms per call at 23,570 customers).
    """
    return float(np.multiply(a, b).sum())


def _eta2(g: np.ndarray, w: np.ndarray, y: np.ndarray, W_g: np.ndarray) -> float:
    S_g = np.bincount(g, w * y, minlength=len(W_g))
    W, S = W_g.sum(), S_g.sum()
    wyy = _dot(w, y * y)
    sst = float(wyy - S * S / W)
    if sst <= 1e-12 * max(1.0, wyy):
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
    ma, mb = _dot(w, a) / W, _dot(w, b) / W
    da, db = a - ma, b - mb
    va, vb = _dot(w, da * da), _dot(w, db * db)
    if va <= 0 or vb <= 0:
        return float("nan")
    return float(_dot(w, da * db) / np.sqrt(va * vb))


def _spearman(score_codes: np.ndarray, n_score: int, grp: Groups, w: np.ndarray) -> float:
    rs = _midranks(score_codes, w, n_score)[score_codes]
    n_rev = int(grp.rev_codes.max()) + 1 if grp.n else 0
    rr = _midranks(grp.rev_codes, w, n_rev)[grp.rev_codes]
    return _wcorr(rs, rr, w)


def _rank_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    u, inv = np.unique(values, return_inverse=True)
    return inv, len(u)


def _r2(Q: np.ndarray, S: np.ndarray, W: np.ndarray, pred: np.ndarray) -> float:
    """``1 - SSE / SS_total`` from per-cell sums of ``w y²``, ``w y``, ``w`` and predictions."""
    W_tot, S_tot, Q_tot = W.sum(), S.sum(), Q.sum()
    sst = float(Q_tot - S_tot * S_tot / W_tot) if W_tot > 0 else 0.0
    if sst <= 1e-12 * max(1.0, float(Q_tot)):
        return float("nan")
    sse = float(np.sum(Q - 2.0 * pred * S + pred * pred * W))
    return 1.0 - sse / sst


def segment_metrics(codes: np.ndarray, n_groups: int, grp: Groups,
                    w: np.ndarray | None = None) -> dict[str, float]:
    """Metrics of a segmentation (segment code per customer) under weights ``w``.

    Out of sample when ``grp`` has folds (each customer scored by its segment's value on the
    other folds), in sample otherwise; η² is in sample either way.

    Parameters
    ----------
    codes : ndarray of int
        Segment code per customer, ``0 .. n_groups - 1``.
    n_groups : int
    grp : Groups
        The customers' outcomes (and folds).
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
    from segml.backtest.crossfit import cell_predictions

    w = np.ones(grp.n) if w is None else np.asarray(w, dtype="float64")
    codes = np.asarray(codes, dtype="int64")
    K, G = grp.n_folds, n_groups
    cell = codes if grp.folds is None else grp.folds * G + codes
    sums = {name: np.bincount(cell, w if v is None else w * v, minlength=K * G)
            for name, v in (("W", None), ("B", grp.bought), ("S", grp.revenue),
                            ("L", grp.log_revenue), ("QS", grp.revenue ** 2),
                            ("QL", grp.log_revenue ** 2))}
    W_c, B_c, S_c, L_c = sums["W"], sums["B"], sums["S"], sums["L"]
    shape = (K, G)
    rate, _ = cell_predictions(W_c.reshape(shape), B_c.reshape(shape))
    mean, W_o = cell_predictions(W_c.reshape(shape), S_c.reshape(shape))
    logm, _ = cell_predictions(W_c.reshape(shape), L_c.reshape(shape))
    W_g = np.bincount(codes, w, minlength=G)
    out = {
        "r2_revenue": _r2(sums["QS"], S_c, W_c, mean.ravel()),
        "r2_log_revenue": _r2(sums["QL"], L_c, W_c, logm.ravel()),
    }
    # rank by the segments' order learned on the other folds (see the module docstring)
    rate_pos = rankdata(rate, axis=1)
    mean_pos = rankdata(mean, axis=1)
    out["auc_bought_again"] = _auc(rate_pos.ravel(), B_c, W_c - B_c)
    out["capture_top10"] = _capture(mean_pos.ravel(), W_c, S_c)
    mc, nm = _rank_codes(mean_pos.ravel())
    out["spearman_revenue"] = _spearman(mc[cell], nm, grp, w)
    # the top segment per fold, chosen on the other folds (in sample: on everybody)
    top = np.argmax(np.where(W_o > 0, mean, -np.inf), axis=1)
    rows = np.arange(K)
    S_top = float(S_c.reshape(shape)[rows, top].sum())
    W_top = float(W_c.reshape(shape)[rows, top].sum())
    W, S = float(W_c.sum()), float(S_c.sum())
    out["top_segment_capture"] = S_top / S if S > 0 else float("nan")
    out["top_segment_lift"] = (S_top / W_top) / (S / W) if S > 0 and W_top > 0 else float("nan")
    out["top_segment_share"] = W_top / W if W > 0 else float("nan")
    out["eta2_revenue"] = _eta2(codes, w, grp.revenue, W_g)
    out["eta2_log_revenue"] = _eta2(codes, w, grp.log_revenue, W_g)
    return out


def score_bins(score: np.ndarray, n_bins: int = 10) -> tuple[np.ndarray, int]:
    """Quantile bins of a score (``0`` the lowest), tied edges merged, NaN in a bin of its own.

    The bins depend on the scores only (never on outcomes), so a predictor judged as the
    segmentation "deciles of its score" gets the same cross-fitted metrics as a segmenter.

    Parameters
    ----------
    score : ndarray
    n_bins : int, default 10

    Returns
    -------
    codes : ndarray of int
    n_groups : int

    Examples
    --------
    >>> score_bins(np.array([1.0, 2.0, 3.0, 4.0, np.nan]), 2)
    (array([0, 0, 1, 1, 2]), 3)
    """
    s = np.asarray(score, dtype="float64")
    ok = np.isfinite(s)
    if not ok.any():
        return np.zeros(len(s), dtype="int64"), 1
    edges = np.unique(np.quantile(s[ok], np.linspace(0, 1, n_bins + 1))[1:-1])
    raw = np.searchsorted(edges, s[ok], side="right")
    _, inv = np.unique(raw, return_inverse=True)  # bins left empty by ties dropped
    codes = np.zeros(len(s), dtype="int64")
    codes[ok] = inv
    n = int(inv.max()) + 1
    if not ok.all():
        codes[~ok] = n
        n += 1
    return codes, n


def predictor_metrics(score: np.ndarray, bins: tuple[np.ndarray, int], grp: Groups,
                      w: np.ndarray | None = None) -> dict[str, float]:
    """Compute the segmenters' metric set for a continuous score.

    The ranking metrics (:data:`RANKING_METRICS`) rank by the score itself; R², η² and the
    top segment's treat the score's quantile bins (``bins``, from :func:`score_bins`) as a
    segmentation, cross-fitted like any other.

    Parameters
    ----------
    score : ndarray
    bins : tuple of (ndarray, int)
        :func:`score_bins` of ``score`` (computed once per cutoff, not per resample).
    grp : Groups
    w : ndarray, optional
        Bootstrap weights; None: every customer once.

    Returns
    -------
    dict of str to float
        Every name of :data:`SEGMENT_METRICS`.
    """
    out = segment_metrics(bins[0], bins[1], grp, w)
    out.update(score_metrics(score, grp, w))
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

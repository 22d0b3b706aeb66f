"""Hartigan's dip test of unimodality for a 1-D sample.

The dip of a distribution function ``F`` is its sup-distance to the nearest unimodal
distribution function (Hartigan & Hartigan 1985). It is computed here the way Algorithm AS 217
(Hartigan 1985) describes: on a shrinking interval ``[x_L, x_U]`` take the greatest convex
minorant ``G`` and the least concave majorant ``L`` of the empirical distribution function; where
they are farthest apart lies the new modal interval; the sup-distances between ``F`` and ``G``
left of it and between ``L`` and ``F`` right of it raise the running dip ``D``; stop when the gap
between ``G`` and ``L`` on the modal interval can no longer raise ``D``. The dip is ``D / 2`` (in
probability units).

Written from the papers -- Hartigan, J. A. & Hartigan, P. M. (1985), "The Dip Test of
Unimodality", *Annals of Statistics* 13(1), 70-84, and Hartigan, P. M. (1985), "Algorithm AS 217:
Computation of the Dip Statistic to Test for Unimodality", *Applied Statistics* 34(3), 320-325
-- and checked against the GPL package ``diptest`` only as a test oracle (a dev dependency;
segml never imports it). The numbers equal ``diptest.dipstat`` (its convention: a sample whose
minorant and majorant coincide, such as equally spaced points, has dip 0, any other sample at
least ``1 / (2 n)``; samples of at most 3 points have dip 0).

The p-value is read in a table of quantiles of the dip of Uniform(0, 1) samples, the least
favourable unimodal null (the paper's Theorem 3), which ``bench/dip_table.py`` generates by Monte
Carlo with :func:`dip_statistic` itself; see :data:`DIP_TABLE_N`.

Examples
--------
>>> dip_statistic([0.0, 0.0, 1.0, 1.0])
0.25
>>> dip_statistic([0.0, 1.0, 2.0, 3.0])
0.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from segml.errors import ConfigError

__all__ = ["dip_statistic", "dip_pvalue", "dip_test", "DIP_TABLE_N", "DIP_TABLE_P",
           "DIP_TABLE_Q"]


def _check_sample(x: ArrayLike) -> np.ndarray:
    """Return ``x`` as a sorted 1-D float array, refusing NaN, infinities and 2-D input."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ConfigError(
            f"x should be a 1-dimensional sample, got shape {arr.shape}; project the data onto "
            "a line first."
        )
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ConfigError(
            f"x holds {bad} NaN or infinite value(s) out of {arr.size}; drop or impute them "
            "before the dip test."
        )
    if arr.size == 0:
        raise ConfigError("x is empty: the dip needs at least one value.")
    return np.sort(arr)


def _hull(x: Sequence[float], lo: int, hi: int, lower: bool) -> list[int]:
    """Knots of the convex minorant (``lower``) or concave majorant of points ``(x[i], i)``.

    Andrew's monotone chain on the points ``lo..hi`` (sorted by ``x``, then by index); collinear
    points are dropped. Ties in ``x`` give vertical steps, which only survive at the ends.
    """
    knots = [lo]
    for i in range(lo + 1, hi + 1):
        xi = x[i]
        while len(knots) >= 2:
            a = knots[-2]
            b = knots[-1]
            cross = (x[b] - x[a]) * (i - b) - (b - a) * (xi - x[b])
            if (cross <= 0.0) if lower else (cross >= 0.0):
                knots.pop()
            else:
                break
        knots.append(i)
    return knots


def _on_hull(x: np.ndarray, knots: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Height (in counts) of the hull with ``knots`` at the sample points ``idx``.

    The segment is found by index (the knots bracketing each point), so a point inside a run of
    ties lies on the hull's vertical step at its own height.
    """
    j = np.minimum(np.searchsorted(knots, idx, side="right") - 1, knots.size - 2)
    a = knots[j]
    b = knots[j + 1]
    dx = x[b] - x[a]
    vertical = dx <= 0.0
    step = np.where(vertical, 1.0, dx)
    height = a + (b - a) * (x[idx] - x[a]) / step
    return np.where(vertical, idx.astype(np.float64), height)


def _dip_counts(x: np.ndarray) -> float:
    """The dip of a sorted sample in counts (twice the dip times ``n``)."""
    n = x.size
    if n <= 3:
        return 0.0
    xs = x.tolist()
    low, high = 0, n - 1
    dip = 0.0
    while high > low:
        g = np.asarray(_hull(xs, low, high, lower=True))
        lc = np.asarray(_hull(xs, low, high, lower=False))
        # the majorant above each minorant knot, the minorant below each majorant knot
        gap_g = _on_hull(x, lc, g) - g
        gap_l = lc - _on_hull(x, g, lc)
        ig = int(np.argmax(gap_g))
        il = int(np.argmax(gap_l))
        gap = max(gap_g[ig], gap_l[il])
        if gap == 0.0 and dip == 0.0:
            break  # minorant = majorant (e.g. equally spaced points): dip 0
        if gap + 1.0 <= dip:
            break  # the step gap (+1: upper vs lower corners of F) cannot raise the dip
        if gap_g[ig] >= gap_l[il]:
            x_lo = int(g[ig])
            x_hi = int(lc[np.searchsorted(lc, x_lo, side="left")])
        else:
            x_hi = int(lc[il])
            x_lo = int(g[np.searchsorted(g, x_hi, side="right") - 1])
        left = np.arange(low, x_lo + 1)
        right = np.arange(x_hi, high + 1)
        # F's upper corners above G on [x_L, modal left end], L above F's lower corners after
        dip = max(dip,
                  float(np.max(left - _on_hull(x, g, left))) + 1.0,
                  float(np.max(_on_hull(x, lc, right) - right)) + 1.0)
        if x_lo == low and x_hi == high:
            break
        low, high = x_lo, x_hi
    return dip


def dip_statistic(x: ArrayLike) -> float:
    """Hartigan's dip of the empirical distribution of a 1-D sample.

    Parameters
    ----------
    x : array-like of shape (n,)
        The sample; any order, ties allowed. NaN and infinities are refused.

    Returns
    -------
    float
        The dip, in ``[0, 0.25]``: the sup-distance from the empirical distribution function to
        the nearest unimodal one, in the convention of ``diptest.dipstat`` (0 for ``n <= 3``,
        constant samples and equally spaced points; otherwise at least ``1 / (2 n)``).

    Raises
    ------
    ConfigError
        If ``x`` is not 1-dimensional, is empty or holds NaN or infinite values.

    Notes
    -----
    One sort, then a few passes of two linear-time hulls over a shrinking interval.

    Examples
    --------
    >>> dip_statistic([0.0, 1.0, 3.0, 4.0])  # doctest: +ELLIPSIS
    0.1666...
    """
    arr = _check_sample(x)
    return _dip_counts(arr) / (2.0 * arr.size)


# ---------------------------------------------------------------------------------------------
# Quantiles of the dip of Uniform(0, 1) samples: generated by
#     PYTHONPATH=. python bench/dip_table.py > /tmp/dip_table.txt
# and pasted here (see that script for the seed and the number of draws per n).
# BEGIN GENERATED TABLE
DIP_TABLE_N: tuple[int, ...] = ()
DIP_TABLE_P: tuple[float, ...] = ()
DIP_TABLE_Q: tuple[tuple[float, ...], ...] = ()
# END GENERATED TABLE
# ---------------------------------------------------------------------------------------------


def _row_pvalue(scaled: float, row: np.ndarray, probs: np.ndarray) -> float:
    """``P(dip >= d)`` at one tabulated n, from the row of ``sqrt(n) * quantiles``."""
    k = int(np.searchsorted(row, scaled, side="left"))
    if k == 0:
        return 1.0
    if k == row.size:
        return 0.0
    lo, hi = row[k - 1], row[k]
    cdf = probs[k - 1] + (probs[k] - probs[k - 1]) * (scaled - lo) / (hi - lo)
    return float(1.0 - cdf)


def dip_pvalue(dip: float, n: int) -> float:
    """P-value of a dip under the uniform null, by interpolation in the Monte Carlo table.

    Parameters
    ----------
    dip : float
        An observed dip (as :func:`dip_statistic` returns it).
    n : int
        The sample size it was computed on.

    Returns
    -------
    float
        ``P(dip_n >= dip)`` for ``n`` Uniform(0, 1) draws, in ``[0, 1]``: linear in the
        tabulated probabilities between quantiles of ``sqrt(n) * dip``, linear in ``log n``
        between tabulated sizes. Beyond the largest tabulated ``n`` the table's last row is read
        at ``sqrt(n) * dip`` (``sqrt(n) * dip`` converges in distribution). Below the smallest
        tabulated quantile the p-value is 1, above the largest 0. ``n <= 3`` gives 1.

    Raises
    ------
    ConfigError
        If ``dip`` is not a finite number in ``[0, 1]`` or ``n`` is not a positive integer.

    Examples
    --------
    >>> dip_pvalue(0.0, 100)
    1.0
    >>> dip_pvalue(0.2, 100)
    0.0
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n={n!r} should be a positive integer (the sample size).")
    if not np.isfinite(dip) or not 0.0 <= dip <= 1.0:
        raise ConfigError(f"dip={dip!r} should be a finite number in [0, 1].")
    n = int(n)
    sizes = np.asarray(DIP_TABLE_N, dtype=np.float64)
    if n <= 3 or n < sizes[0]:
        return 1.0
    probs = np.asarray(DIP_TABLE_P, dtype=np.float64)
    table = np.asarray(DIP_TABLE_Q, dtype=np.float64) * np.sqrt(sizes)[:, None]
    scaled = float(dip) * np.sqrt(n)
    if n >= sizes[-1]:
        return _row_pvalue(scaled, table[-1], probs)
    i = int(np.searchsorted(sizes, n, side="right")) - 1
    if sizes[i] == n:
        return _row_pvalue(scaled, table[i], probs)
    w = (np.log(n) - np.log(sizes[i])) / (np.log(sizes[i + 1]) - np.log(sizes[i]))
    p = (1.0 - w) * _row_pvalue(scaled, table[i], probs) + w * _row_pvalue(
        scaled, table[i + 1], probs)
    return float(min(1.0, max(0.0, p)))


def dip_test(x: ArrayLike) -> tuple[float, float]:
    """Hartigan's dip test of unimodality: the dip and its p-value under the uniform null.

    Parameters
    ----------
    x : array-like of shape (n,)
        The sample; NaN and infinities are refused.

    Returns
    -------
    tuple of (float, float)
        ``(dip, p)`` from :func:`dip_statistic` and :func:`dip_pvalue`. A small p rejects
        unimodality.

    Raises
    ------
    ConfigError
        If ``x`` is not 1-dimensional, is empty or holds NaN or infinite values.
    """
    arr = _check_sample(x)
    dip = _dip_counts(arr) / (2.0 * arr.size)
    return dip, dip_pvalue(dip, int(arr.size))

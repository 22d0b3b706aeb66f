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
minorant and majorant coincide exactly in floating point, such as a constant or equally
spaced integers, has dip 0; any other sample, ``np.linspace(0, 1, 37)`` included, at least
``1 / (2 n)``).

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
    """Return the dip of a sorted sample in counts (twice the dip times ``n``)."""
    n = x.size
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
            break  # minorant = majorant (e.g. equally spaced integers): dip 0
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
        the nearest unimodal one, in the convention of ``diptest.dipstat`` (0 for constant
        samples, one or two points and equally spaced integers; otherwise at least
        ``1 / (2 n)``).

    Raises
    ------
    ConfigError
        If ``x`` is not 1-dimensional, is empty or holds NaN or infinite values.

    Notes
    -----
    One sort, then passes of two linear-time hulls (Andrew's monotone chain) over a shrinking
    modal interval. The passes are few in practice (n = 20,000 takes about 0.02-0.03 CPU s),
    but their number is not bounded by a constant.

    Examples
    --------
    >>> dip_statistic([0.0, 1.0, 3.0, 4.0])  # doctest: +ELLIPSIS
    0.1666...
    """
    arr = _check_sample(x)
    return _dip_counts(arr) / (2.0 * arr.size)


# ---------------------------------------------------------------------------------------------
# Quantiles of the dip of Uniform(0, 1) samples, regenerated (about 140 CPU s) and pasted
# between the markers by
#     PYTHONPATH=. python bench/dip_table.py --paste
# (see that script for the seed, the draws per n and the Monte Carlo error).
# BEGIN GENERATED TABLE
# seed 20261201; draws per n: 4:20000, 5:20000, 6:20000, 7:20000, 8:20000, 9:20000, 10:20000,
# 11:20000, 12:20000, 13:20000, 14:20000, 15:20000, 16:20000, 17:20000, 18:20000, 19:20000,
# 20:20000, 30:20000, 50:20000, 100:20000, 200:20000, 500:20000, 1000:20000, 2000:10000,
# 5000:5000, 10000:4000
# n=4: q95=0.20772, 95% CI [0.20652, 0.20921] (0.65% half-width), 1.7 CPU s
# n=5: q95=0.1865, 95% CI [0.18571, 0.18734] (0.44% half-width), 1.8 CPU s
# n=6: q95=0.16454, 95% CI [0.16422, 0.16489] (0.20% half-width), 1.9 CPU s
# n=7: q95=0.1597, 95% CI [0.15838, 0.16101] (0.82% half-width), 2.7 CPU s
# n=8: q95=0.15374, 95% CI [0.15292, 0.15501] (0.68% half-width), 3.0 CPU s
# n=9: q95=0.14642, 95% CI [0.14547, 0.14732] (0.63% half-width), 2.7 CPU s
# n=10: q95=0.13951, 95% CI [0.13886, 0.14027] (0.51% half-width), 2.2 CPU s
# n=11: q95=0.1341, 95% CI [0.13321, 0.13481] (0.60% half-width), 2.3 CPU s
# n=12: q95=0.13038, 95% CI [0.12957, 0.13134] (0.68% half-width), 2.0 CPU s
# n=13: q95=0.1259, 95% CI [0.12515, 0.1267] (0.61% half-width), 2.0 CPU s
# n=14: q95=0.1221, 95% CI [0.12137, 0.12289] (0.62% half-width), 2.0 CPU s
# n=15: q95=0.11856, 95% CI [0.11782, 0.11918] (0.57% half-width), 1.9 CPU s
# n=16: q95=0.11551, 95% CI [0.11491, 0.11634] (0.62% half-width), 2.0 CPU s
# n=17: q95=0.11376, 95% CI [0.113, 0.11432] (0.58% half-width), 2.0 CPU s
# n=18: q95=0.10946, 95% CI [0.10878, 0.11014] (0.62% half-width), 2.0 CPU s
# n=19: q95=0.10753, 95% CI [0.10691, 0.1081] (0.56% half-width), 2.0 CPU s
# n=20: q95=0.10505, 95% CI [0.10434, 0.10563] (0.61% half-width), 2.0 CPU s
# n=30: q95=0.088306, 95% CI [0.087713, 0.088736] (0.58% half-width), 2.1 CPU s
# n=50: q95=0.069912, 95% CI [0.069549, 0.070332] (0.56% half-width), 2.5 CPU s
# n=100: q95=0.05106, 95% CI [0.050828, 0.051498] (0.66% half-width), 3.1 CPU s
# n=200: q95=0.036772, 95% CI [0.036555, 0.037007] (0.62% half-width), 4.5 CPU s
# n=500: q95=0.023741, 95% CI [0.023598, 0.023897] (0.63% half-width), 9.1 CPU s
# n=1000: q95=0.016867, 95% CI [0.016762, 0.016991] (0.68% half-width), 17.3 CPU s
# n=2000: q95=0.012069, 95% CI [0.011975, 0.012188] (0.88% half-width), 16.2 CPU s
# n=5000: q95=0.007598, 95% CI [0.0075243, 0.0077113] (1.23% half-width), 18.5 CPU s
# n=10000: q95=0.0055201, 95% CI [0.0054458, 0.0056119] (1.50% half-width), 30.2 CPU s
# total 140 CPU s
DIP_TABLE_N: tuple[int, ...] = (
    4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 30, 50, 100, 200, 500, 1000,
    2000, 5000, 10000,
)
DIP_TABLE_P: tuple[float, ...] = (
    0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
    0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 1.0,
)
DIP_TABLE_Q: tuple[tuple[float, ...], ...] = (
    (  # n=4
        0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125,
        0.125, 0.125, 0.125, 0.132661, 0.157553, 0.188246, 0.20772,
        0.224468, 0.230882, 0.236817, 0.24194, 0.244727, 0.248503,
    ),
    (  # n=5
        0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
        0.108162, 0.121042, 0.133669, 0.146626, 0.160338, 0.176581, 0.186496,
        0.194006, 0.196424, 0.197894, 0.199285, 0.199635, 0.199969,
    ),
    (  # n=6
        0.0833333, 0.0833333, 0.0833333, 0.0833333, 0.0833333, 0.09194, 0.103273,
        0.113611, 0.12325, 0.131988, 0.140415, 0.149446, 0.159278, 0.164537,
        0.177998, 0.190671, 0.201786, 0.21306, 0.217157, 0.243534,
    ),
    (  # n=7
        0.0714286, 0.0714286, 0.0714286, 0.0724473, 0.0813523, 0.0935918, 0.102895,
        0.110641, 0.117595, 0.123921, 0.130184, 0.136529, 0.144194, 0.159699,
        0.174974, 0.183238, 0.189237, 0.199097, 0.203514, 0.212216,
    ),
    (  # n=8
        0.0625, 0.0625, 0.065933, 0.0738926, 0.0819373, 0.0919336, 0.0994908,
        0.105608, 0.110752, 0.115634, 0.120258, 0.125058, 0.141597, 0.153737,
        0.166151, 0.173066, 0.178716, 0.183939, 0.190681, 0.214963,
    ),
    (  # n=9
        0.0555556, 0.061424, 0.0659304, 0.073704, 0.0803592, 0.0892321, 0.0952119,
        0.100107, 0.104316, 0.10808, 0.112364, 0.122706, 0.136465, 0.146419,
        0.157698, 0.164893, 0.173628, 0.182919, 0.187848, 0.201242,
    ),
    (  # n=10
        0.05, 0.0611716, 0.0650283, 0.0716027, 0.0776918, 0.0851158, 0.0902653,
        0.094232, 0.0977491, 0.102419, 0.110186, 0.119107, 0.130718, 0.139509,
        0.149526, 0.158145, 0.164508, 0.172465, 0.178022, 0.195815,
    ),
    (  # n=11
        0.0454545, 0.0601236, 0.0640254, 0.069867, 0.0752212, 0.0815165, 0.0857201,
        0.0889936, 0.0932009, 0.0997515, 0.10667, 0.114418, 0.125054, 0.134102,
        0.146432, 0.153806, 0.160111, 0.169464, 0.172644, 0.19322,
    ),
    (  # n=12
        0.0430913, 0.0588933, 0.0623459, 0.0679291, 0.0725535, 0.0778939, 0.0814162,
        0.0854091, 0.0909135, 0.0965826, 0.102877, 0.110227, 0.120737, 0.130379,
        0.141624, 0.14915, 0.156083, 0.162444, 0.168124, 0.186935,
    ),
    (  # n=13
        0.042147, 0.0575966, 0.0607086, 0.0653205, 0.0693957, 0.074121, 0.077934,
        0.08344, 0.0886398, 0.0938622, 0.0993937, 0.106011, 0.116307, 0.125896,
        0.136802, 0.144084, 0.152426, 0.160366, 0.168971, 0.213924,
    ),
    (  # n=14
        0.0404655, 0.0564167, 0.05908, 0.0634646, 0.066956, 0.0710596, 0.076359,
        0.0814244, 0.0861763, 0.0910055, 0.0961699, 0.102564, 0.11317, 0.122104,
        0.132169, 0.139934, 0.146651, 0.154399, 0.159441, 0.180424,
    ),
    (  # n=15
        0.0388921, 0.0541963, 0.0567152, 0.0608567, 0.0641451, 0.0692095, 0.0746889,
        0.0793918, 0.0836817, 0.0880358, 0.0932988, 0.0998924, 0.109873, 0.11856,
        0.129022, 0.136376, 0.142982, 0.149304, 0.153315, 0.17162,
    ),
    (  # n=16
        0.0369482, 0.0529551, 0.055457, 0.0588935, 0.0617042, 0.0677357, 0.0725885,
        0.0770156, 0.0811166, 0.0854215, 0.0901913, 0.0970229, 0.107204, 0.115514,
        0.126172, 0.132564, 0.138771, 0.145408, 0.150359, 0.166622,
    ),
    (  # n=17
        0.0392335, 0.0518692, 0.0536505, 0.0568015, 0.0600734, 0.0663165, 0.0710113,
        0.0751315, 0.0791167, 0.0833307, 0.0882941, 0.0951758, 0.104833, 0.113758,
        0.122842, 0.129085, 0.135991, 0.142893, 0.147742, 0.163854,
    ),
    (  # n=18
        0.0389582, 0.0502808, 0.0521199, 0.0550935, 0.0591377, 0.0646499, 0.069135,
        0.0729027, 0.0768458, 0.0808804, 0.0860634, 0.0922431, 0.101354, 0.109458,
        0.118925, 0.12636, 0.131992, 0.137895, 0.144153, 0.166229,
    ),
    (  # n=19
        0.0377917, 0.0486348, 0.0505429, 0.0537376, 0.0580645, 0.0633967, 0.0675738,
        0.0712897, 0.0750685, 0.079109, 0.084048, 0.0902707, 0.099378, 0.107527,
        0.116613, 0.123155, 0.128982, 0.136073, 0.139654, 0.155887,
    ),
    (  # n=20
        0.0398492, 0.0473124, 0.0489664, 0.0526567, 0.0569219, 0.0621449, 0.0660039,
        0.0695226, 0.073257, 0.0776157, 0.0826207, 0.0884483, 0.0971692, 0.10505,
        0.114076, 0.119917, 0.126093, 0.133047, 0.138782, 0.160258,
    ),
    (  # n=30
        0.0290607, 0.0397089, 0.0414598, 0.0444452, 0.0473669, 0.0517217, 0.0551676,
        0.0583957, 0.0616265, 0.064975, 0.0691234, 0.0740452, 0.0817312, 0.0883061,
        0.0960316, 0.102345, 0.106635, 0.113976, 0.118061, 0.139487,
    ),
    (  # n=50
        0.0260679, 0.0316117, 0.0330449, 0.0352317, 0.0377354, 0.0410003, 0.043833,
        0.0463575, 0.0489831, 0.0516211, 0.0548085, 0.0588185, 0.0648464, 0.0699122,
        0.076092, 0.0802155, 0.0851174, 0.0901204, 0.0941533, 0.11407,
    ),
    (  # n=100
        0.0172123, 0.0227228, 0.0238959, 0.0255991, 0.0274081, 0.0297954, 0.0317437,
        0.0336641, 0.0355076, 0.0374716, 0.0397443, 0.0426715, 0.0471754, 0.0510602,
        0.0557243, 0.0587126, 0.0615347, 0.0653612, 0.0681507, 0.0725465,
    ),
    (  # n=200
        0.0136454, 0.016571, 0.017236, 0.0185068, 0.0197621, 0.0214642, 0.0228755,
        0.0241853, 0.0255174, 0.0269344, 0.0286419, 0.0306587, 0.0338943, 0.0367721,
        0.0402793, 0.0425783, 0.0448442, 0.0475095, 0.0498559, 0.056167,
    ),
    (  # n=500
        0.00824796, 0.0106776, 0.011139, 0.0119248, 0.0127397, 0.0138733, 0.0147844,
        0.0156105, 0.0164608, 0.017384, 0.0184414, 0.0197958, 0.0219425, 0.0237406,
        0.0259472, 0.0273969, 0.028828, 0.0306712, 0.0318558, 0.0371296,
    ),
    (  # n=1000
        0.00611683, 0.00762568, 0.0079928, 0.00855666, 0.0090806, 0.00988588, 0.010525,
        0.0111289, 0.0117308, 0.0123905, 0.013157, 0.0141387, 0.01562, 0.0168665,
        0.0184964, 0.0194895, 0.0204213, 0.021579, 0.0227206, 0.026077,
    ),
    (  # n=2000
        0.00441219, 0.00549811, 0.00568852, 0.00609512, 0.00648918, 0.00704189, 0.00747067,
        0.00790492, 0.00835844, 0.00881883, 0.00938475, 0.0100408, 0.0111232, 0.0120693,
        0.013156, 0.0138357, 0.0146428, 0.0155287, 0.0158837, 0.0183443,
    ),
    (  # n=5000
        0.00284167, 0.00338798, 0.00355829, 0.00382958, 0.004139, 0.00449624, 0.00476984,
        0.00505069, 0.00531849, 0.00561773, 0.00597045, 0.00637879, 0.00704722, 0.00759798,
        0.00828476, 0.00871809, 0.00899395, 0.00963048, 0.0101332, 0.0116659,
    ),
    (  # n=10000
        0.00213795, 0.00247055, 0.00256849, 0.00276926, 0.00293685, 0.00316318, 0.0033697,
        0.00357394, 0.00379226, 0.00399234, 0.00424143, 0.00457042, 0.00507955, 0.00552012,
        0.00606622, 0.0064721, 0.00686802, 0.00719639, 0.00754738, 0.00934766,
    ),
)
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

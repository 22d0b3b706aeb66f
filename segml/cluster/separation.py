"""Are neighbouring segments separated? Hartigan's dip test on the line between their centres.

k-means always cuts: a single skewed population, or the point masses of a transactional
one (customers who bought once, customers who bought exactly twice), splits reproducibly into
k pieces whose borders run through dense data. Real segments are separated by a valley. For a
partition of the model matrix, every segment is paired with the segment of its **nearest
centre** (the pair most likely to be one mode cut in two); the customers of both are projected
onto the line joining the two centres, and Hartigan & Hartigan's (1985) dip test asks whether
that projection is unimodal (in the spirit of dip-means, Kalogeratos & Likas 2012).

Each pair's dip is computed on all its customers and read at ``min(pair size, 1000)`` points
(:data:`READ_ROWS`): at tens of thousands of points any slight bimodality would reject, so a
large pair needs the dip 1,000 points would need. Before projecting, every column with a
**point mass** (its most common value holds at least 5% of the rows) and at least three
distinct values is spread uniformly over its cells (each value over the half-gaps to its
neighbouring values), so a count column becomes its histogram: two adjacent counts are not
two modes. Flags (two values) are left alone.

A partition is

* ``"separated"`` when every pair rejects unimodality at ``alpha`` (0.05; every pair must
  reject, an intersection-union test, so no multiplicity correction is needed);
* ``"merged"`` when some pair of at least :data:`POWER_ROWS` customers does not reject: from
  800 points the test (read as above) rejects an equal mixture of two unit Gaussians 3 SD apart
  in 80% of samples (1,000 simulated samples per size: 0.72 at 700, 0.81 at 800, 0.86 at
  1,000), so a pair that size that looks unimodal is evidence of one mode cut in two;
* ``"undecided"`` otherwise (a small pair that does not reject: the test has little power
  there, e.g. Mall Customers' 100-120 customers per pair).

Studied before adoption on cached sweeps (``bench/dip_rule.py``, bench/RESULTS.md "Issue 15: a
dip-test separation rule"): every null (Gaussian, uniform, lognormal, BG/NBD x Gamma-Gamma at
CDNOW's parameters, seeds 0-9; the one-profile portfolio) had no separated k, and the largest
reproducible separated k was the planted one for 3 and 5 planted segments at 3,000 and 20,000
customers (6 of 6 seeds each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from segml.cluster.dip import dip_pvalue, dip_statistic

__all__ = ["PairDip", "Separation", "cell_jitter", "nearest_pairs", "separation",
           "DIP_ALPHA", "READ_ROWS", "POWER_ROWS", "MODE_SHARE", "STATUSES"]

#: level at which each pair's dip test rejects unimodality
DIP_ALPHA = 0.05
#: a pair's dip is read at min(pair size, READ_ROWS) points
READ_ROWS = 1000
#: from this many customers a pair that does not reject counts as one mode (see module doc)
POWER_ROWS = 800
#: a column whose most common value holds this share of rows has a point mass
MODE_SHARE = 0.05
STATUSES = ("separated", "merged", "undecided")


@dataclass(frozen=True)
class PairDip:
    """The dip test of one pair of neighbouring segments.

    Attributes
    ----------
    a, b : int
        The two segments (``a < b``).
    n : int
        Customers in the two segments.
    dip : float
        Dip of their projection onto the line joining the two centres.
    p : float
        Its p-value under the uniform null, read at ``min(n, READ_ROWS)`` points.
    """

    a: int
    b: int
    n: int
    dip: float
    p: float


@dataclass(frozen=True)
class Separation:
    """Outcome of :func:`separation` for one partition.

    Attributes
    ----------
    status : {"separated", "merged", "undecided"}
        See the module docstring.
    pairs : list of PairDip
        Every nearest-centre pair, deduplicated.
    """

    status: str
    pairs: list[PairDip] = field(default_factory=list)

    @property
    def weakest(self) -> PairDip | None:
        """The pair with the largest p-value (the least separated), None without pairs."""
        return max(self.pairs, key=lambda q: (q.p, q.n)) if self.pairs else None


def cell_jitter(Z: np.ndarray, random_state: Any = None, *,
                mode_share: float = MODE_SHARE) -> np.ndarray:
    """Spread each point-mass column's values uniformly over their cells.

    Parameters
    ----------
    Z : numpy.ndarray of shape (n_samples, n_features)
        Not modified.
    random_state : int, RandomState instance or None
    mode_share : float, default=0.05
        A column is spread when its most frequent value holds at least this share of the
        rows and it has at least three distinct values.

    Returns
    -------
    numpy.ndarray
        A float64 copy; a spread value ``v`` is uniform on ``[v - left / 2, v + right / 2]``,
        ``left`` and ``right`` the gaps to its neighbouring distinct values (an end value uses
        its one gap on both sides).

    Examples
    --------
    >>> z = cell_jitter(np.array([[0.0], [0.0], [1.0], [3.0]]), 0)
    >>> bool(-0.5 <= z[0, 0] <= 0.5 and 0.5 <= z[2, 0] <= 2.0 and 2.0 <= z[3, 0] <= 4.0)
    True
    """
    rng = check_random_state(random_state)
    out = np.array(Z, dtype=np.float64, copy=True)
    if out.shape[0] == 0:
        return out
    for j in range(out.shape[1]):
        vals, inv, counts = np.unique(out[:, j], return_inverse=True, return_counts=True)
        if vals.size < 3 or counts.max() < mode_share * out.shape[0]:
            continue
        gaps = np.diff(vals)
        left = np.r_[gaps[0], gaps][inv]
        right = np.r_[gaps, gaps[-1]][inv]
        out[:, j] = vals[inv] - left / 2 + rng.uniform(size=out.shape[0]) * (left + right) / 2
    return out


def nearest_pairs(centres: np.ndarray) -> list[tuple[int, int]]:
    """Each centre with its nearest other centre, as sorted, deduplicated index pairs.

    Parameters
    ----------
    centres : numpy.ndarray of shape (k, n_features), k >= 2

    Returns
    -------
    list of tuple of int

    Examples
    --------
    >>> nearest_pairs(np.array([[0.0], [1.0], [5.0]]))
    [(0, 1), (1, 2)]
    """
    c = np.asarray(centres, dtype=np.float64)
    d = ((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return sorted({(min(i, int(j)), max(i, int(j))) for i, j in enumerate(d.argmin(axis=1))})


def separation(Z: np.ndarray, labels: np.ndarray, *, jittered: np.ndarray | None = None,
               alpha: float = DIP_ALPHA, read_rows: int = READ_ROWS,
               power_rows: int = POWER_ROWS) -> Separation:
    """Dip-test every nearest-centre pair of a partition of ``Z``.

    Parameters
    ----------
    Z : numpy.ndarray of shape (n_samples, n_features)
        The matrix that was partitioned; the centres are its segment means.
    labels : numpy.ndarray of shape (n_samples,)
        Segment of each row (at least two segments).
    jittered : numpy.ndarray, optional
        :func:`cell_jitter` of ``Z`` (pass it when testing several partitions of one matrix);
        computed with seed 0 when None.
    alpha : float, default=0.05
    read_rows, power_rows : int
        See :data:`READ_ROWS` and :data:`POWER_ROWS`.

    Returns
    -------
    Separation
    """
    labels = np.asarray(labels)
    segs, codes = np.unique(labels, return_inverse=True)
    if segs.size < 2:
        raise ValueError(f"separation needs at least two segments, got {segs.size}.")
    Z = np.asarray(Z, dtype=np.float64)
    J = cell_jitter(Z, 0) if jittered is None else jittered
    counts = np.bincount(codes, minlength=segs.size)
    centres = np.zeros((segs.size, Z.shape[1]))
    np.add.at(centres, codes, Z)
    centres /= counts[:, None]
    pairs = []
    for a, b in nearest_pairs(centres):
        direction = centres[b] - centres[a]
        norm = float(np.linalg.norm(direction))
        rows = (codes == a) | (codes == b)
        x = J[rows] @ (direction / norm) if norm > 0 else np.zeros(int(rows.sum()))
        dip = dip_statistic(x)
        n = int(x.size)
        pairs.append(PairDip(a=a, b=b, n=n, dip=dip, p=dip_pvalue(dip, min(n, read_rows))))
    if all(q.p < alpha for q in pairs):
        status = "separated"
    elif any(q.p >= alpha and q.n >= power_rows for q in pairs):
        status = "merged"
    else:
        status = "undecided"
    return Separation(status=status, pairs=pairs)

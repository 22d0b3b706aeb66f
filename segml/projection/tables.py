"""Tables the plots draw: customers and revenue by RFM cell, and by segment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, SchemaError
from segml.projection.colors import is_intlike, segment_colors

__all__ = ["RFMGridResult", "SegmentSharesResult", "rfm_grid", "segment_shares"]


@dataclass(frozen=True)
class RFMGridResult:
    """Customers and revenue by recency score (rows) x frequency score (columns).

    Attributes
    ----------
    counts : pandas.DataFrame
        Index ``r_score`` 1..n_levels (ascending), columns ``f_score`` 1..n_levels; integers.
    revenue : pandas.DataFrame
        Same shape: sum of ``monetary``.
    revenue_share : pandas.DataFrame
        ``revenue`` divided by the total (all zeros when total revenue is 0).
    n_customers : int
        Buyers counted in the grid.
    n_prospects : int
        Rows left out because they have no score (``r_score`` or ``f_score`` 0 or missing).
    """

    counts: pd.DataFrame
    revenue: pd.DataFrame
    revenue_share: pd.DataFrame
    n_customers: int
    n_prospects: int

    def to_dict(self) -> dict[str, Any]:
        """Return the grid as nested lists (rows = r_score ascending)."""
        return {
            "r_score": [int(i) for i in self.counts.index],
            "f_score": [int(c) for c in self.counts.columns],
            "counts": self.counts.to_numpy().tolist(),
            "revenue": self.revenue.to_numpy().tolist(),
            "n_customers": self.n_customers,
            "n_prospects": self.n_prospects,
        }


def rfm_grid(frame: pd.DataFrame, *, n_levels: int = 5) -> RFMGridResult:
    """Count customers and sum revenue by ``r_score`` x ``f_score``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The feature frame: ``r_score``, ``f_score`` (1..n_levels, 0 for prospects) and
        ``monetary``.
    n_levels : int, default=5
        Number of score levels; the grid is always ``n_levels x n_levels``.

    Returns
    -------
    RFMGridResult

    Raises
    ------
    SchemaError
        Missing columns or scores outside ``0..n_levels``.

    Examples
    --------
    >>> f = pd.DataFrame({"r_score": [5, 5, 1, 0], "f_score": [4, 4, 1, 0],
    ...                   "monetary": [10.0, 30.0, 60.0, 0.0]})
    >>> g = rfm_grid(f)
    >>> int(g.counts.loc[5, 4]), float(g.revenue_share.loc[1, 1]), g.n_prospects
    (2, 0.6, 1)
    """
    missing = [c for c in ("r_score", "f_score", "monetary") if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"rfm_grid needs columns {missing} (the feature frame from build_features); "
            f"got {list(frame.columns)[:10]}."
        )
    if isinstance(n_levels, bool) or not isinstance(n_levels, int | np.integer) or n_levels < 1:
        raise ConfigError(f"n_levels={n_levels!r} should be a positive integer.")
    r = pd.to_numeric(frame["r_score"], errors="coerce").to_numpy(dtype=np.float64)
    f = pd.to_numeric(frame["f_score"], errors="coerce").to_numpy(dtype=np.float64)
    m = pd.to_numeric(frame["monetary"], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
    for name, s in (("r_score", r), ("f_score", f)):
        bad = np.isfinite(s) & ((s < 0) | (s > n_levels) | (s != np.round(s)))
        if bad.any():
            raise SchemaError(
                f"{name} should be an integer in 0..{n_levels}; got {s[bad][:5].tolist()}."
            )
    scored = np.isfinite(r) & np.isfinite(f) & (r > 0) & (f > 0)
    levels = np.arange(1, n_levels + 1)
    ri = r[scored].astype(np.int64) - 1
    fi = f[scored].astype(np.int64) - 1
    flat = ri * n_levels + fi
    cnt = np.bincount(flat, minlength=n_levels * n_levels).reshape(n_levels, n_levels)
    rev = np.bincount(flat, weights=m[scored], minlength=n_levels * n_levels).reshape(
        n_levels, n_levels
    )
    total = rev.sum()
    share = rev / total if total != 0 else np.zeros_like(rev)
    idx = pd.Index(levels, name="r_score")
    cols = pd.Index(levels, name="f_score")
    return RFMGridResult(
        counts=pd.DataFrame(cnt, index=idx, columns=cols),
        revenue=pd.DataFrame(rev, index=idx, columns=cols),
        revenue_share=pd.DataFrame(share, index=idx, columns=cols),
        n_customers=int(scored.sum()),
        n_prospects=int((~scored).sum()),
    )


# --------------------------------------------------------------------------------------------
# segment sizes and revenue
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentSharesResult:
    """Each segment's customers and revenue.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``segment`` (ascending); columns ``name``, ``customers``, ``customer_share``,
        ``revenue``, ``revenue_share``, ``color``.
    n_customers : int
    total_revenue : float
    """

    table: pd.DataFrame
    n_customers: int
    total_revenue: float

    def to_dict(self) -> dict[str, Any]:
        """Return the table as records plus totals."""
        records = [
            {"segment": _py(k), **{c: _py(v) for c, v in row.items()}}
            for k, row in self.table.iterrows()
        ]
        return {
            "table": records,
            "n_customers": self.n_customers,
            "total_revenue": self.total_revenue,
        }


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def segment_shares(
    labels: Any, revenue: Any = None, *, names: Mapping[Any, str] | Iterable[str] | None = None
) -> SegmentSharesResult:
    """Count customers and sum revenue per segment, with their shares.

    Parameters
    ----------
    labels : array-like or Series
        Segment of each customer (ids or names).
    revenue : array-like or Series or None, default=None
        Revenue of each customer (a Series is aligned on ``labels``' index; missing -> 0). When
        None, the revenue columns are NaN.
    names : mapping or sequence of str or None, default=None
        Display name per segment id (``{0: "loyal", ...}`` or a list in id order).

    Returns
    -------
    SegmentSharesResult

    Raises
    ------
    SchemaError
        When ``labels`` is empty or ``revenue`` has another length.

    Examples
    --------
    >>> s = segment_shares([0, 0, 1, 1], [10.0, 30.0, 60.0, 0.0], names=["low", "high"])
    >>> s.table[["name", "customers", "revenue_share"]].to_dict("list")
    {'name': ['low', 'high'], 'customers': [2, 2], 'revenue_share': [0.4, 0.6]}
    """
    lab = labels if isinstance(labels, pd.Series) else pd.Series(np.asarray(labels).ravel())
    if lab.empty:
        raise SchemaError("segment_shares got no labels.")
    if revenue is None:
        rev = pd.Series(np.nan, index=lab.index)
    elif isinstance(revenue, pd.Series) and isinstance(labels, pd.Series):
        rev = revenue.reindex(lab.index).astype("float64").fillna(0.0)
    else:
        arr = np.asarray(revenue, dtype=np.float64).ravel()
        if arr.shape[0] != lab.shape[0]:
            raise SchemaError(
                f"revenue has {arr.shape[0]} values but labels has {lab.shape[0]}."
            )
        rev = pd.Series(np.nan_to_num(arr), index=lab.index)
    key = lab.to_numpy(dtype=object)
    uniq = pd.unique(key[pd.notna(key)])
    intlike = is_intlike(list(uniq))
    order = sorted(uniq, key=int) if intlike else sorted(uniq, key=str)
    if intlike:
        key = np.array([int(k) if pd.notna(k) else k for k in key], dtype=object)
        order = [int(k) for k in order]
    counts = pd.Series(key).value_counts().reindex(order).fillna(0).astype("int64")
    sums = pd.Series(rev.to_numpy(), index=pd.Index(key)).groupby(level=0, sort=False).sum(
        min_count=1
    )
    sums = sums.reindex(order)
    if isinstance(names, Mapping):
        name_map = {k: str(names.get(k, k)) for k in order}
    elif names is not None:
        lst = list(names)
        name_map = {k: (lst[k] if intlike and 0 <= k < len(lst) else str(k)) for k in order}
    else:
        name_map = {k: str(k) for k in order}
    n = int(counts.sum())
    total = float(sums.sum()) if revenue is not None else float("nan")
    colors = segment_colors(order) if intlike else segment_colors(list(order))
    table = pd.DataFrame(
        {
            "name": [name_map[k] for k in order],
            "customers": counts.to_numpy(),
            "customer_share": counts.to_numpy() / n,
            "revenue": sums.to_numpy(dtype=np.float64),
            "revenue_share": (
                sums.to_numpy(dtype=np.float64) / total
                if revenue is not None and total != 0
                else np.full(len(order), np.nan)
            ),
            "color": [colors[k] for k in order],
        },
        index=pd.Index(order, name="segment"),
    )
    return SegmentSharesResult(table=table, n_customers=n, total_revenue=total)

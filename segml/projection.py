"""What the plots need that no other layer computes: segment colours, a 2-D map, grids, shares.

Everything here is plain computation (numpy, pandas, scikit-learn): no matplotlib. The plotting
functions in :mod:`segml.plotting` consume these result objects and compute nothing themselves.

- :func:`segment_colors` gives every segment (and every ABC level) one colour, the same in every
  figure and in the HTML report's tables.
- :func:`project_2d` maps customers onto the first two principal components of the model matrix,
  with the segment centroids, for the "map of customers" plot.
- :func:`rfm_grid` counts customers and revenue by recency score x frequency score.
- :func:`segment_shares` gives each segment's share of customers and of revenue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from segml.errors import ConfigError, SchemaError

__all__ = [
    "PALETTE",
    "ABC_COLORS",
    "UNASSIGNED_COLOR",
    "segment_colors",
    "ProjectionResult",
    "project_2d",
    "RFMGridResult",
    "rfm_grid",
    "SegmentSharesResult",
    "segment_shares",
]

#: Segment id ``i`` gets ``PALETTE[i % 20]``: matplotlib's tab10, then tab20's lighter shades.
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip

#: Fixed colours of the ABC levels (``"none"`` = prospects, no revenue).
ABC_COLORS: dict[str, str] = {"A": "#1a9850", "B": "#fee08b", "C": "#d73027", "none": "#bdbdbd"}

#: Colour of customers that belong to no segment (label ``-1``, missing).
UNASSIGNED_COLOR = "#4d4d4d"


def _is_intlike(values: list[Any]) -> bool:
    for v in values:
        if isinstance(v, bool | np.bool_):
            return False
        if isinstance(v, int | np.integer):
            continue
        if isinstance(v, float | np.floating) and float(v).is_integer():
            continue
        return False
    return True


def segment_colors(segments: Any) -> dict[Any, str]:
    """One deterministic colour per segment, shared by every figure and table.

    Parameters
    ----------
    segments : array-like, Series, or mapping of int to str
        - integer segment ids (labels, possibly repeated): id ``i`` -> ``PALETTE[i % 20]``,
          ``-1`` -> :data:`UNASSIGNED_COLOR`;
        - a mapping ``{segment id: segment name}`` (e.g. ``ProfileResult.names``): each *name* gets
          the colour of its id;
        - ABC levels (a subset of ``A``, ``B``, ``C``, ``none``): :data:`ABC_COLORS`;
        - other strings (rule-segment names): sorted, then the i-th name -> ``PALETTE[i % 20]``.

    Returns
    -------
    dict
        Segment (id, name or level) -> ``"#rrggbb"``, in ascending segment order.

    Raises
    ------
    ConfigError
        When ``segments`` is empty.

    Examples
    --------
    >>> segment_colors([1, 0, 1])
    {0: '#1f77b4', 1: '#ff7f0e'}
    >>> segment_colors({0: "loyal", 1: "lapsed"})
    {'loyal': '#1f77b4', 'lapsed': '#ff7f0e'}
    >>> segment_colors(["C", "A"])["A"]
    '#1a9850'
    """
    if isinstance(segments, Mapping):
        if not segments:
            raise ConfigError("segment_colors got an empty mapping; expected {segment id: name}.")
        ids = list(segments)
        if not _is_intlike(ids):
            raise ConfigError(
                f"segment_colors got a mapping with non-integer keys {ids[:5]!r}; "
                "expected {segment id: segment name}."
            )
        return {
            segments[i]: (UNASSIGNED_COLOR if int(i) < 0 else PALETTE[int(i) % len(PALETTE)])
            for i in sorted(ids, key=int)
        }
    values = pd.Series(np.asarray(segments, dtype=object).ravel()).dropna().unique().tolist()
    if not values:
        raise ConfigError("segment_colors got no segments; pass labels, names or a mapping.")
    if _is_intlike(values):
        return {
            int(v): (UNASSIGNED_COLOR if int(v) < 0 else PALETTE[int(v) % len(PALETTE)])
            for v in sorted(values, key=int)
        }
    names = sorted(str(v) for v in values)
    if set(names) <= set(ABC_COLORS):
        return {n: ABC_COLORS[n] for n in sorted(names, key=list(ABC_COLORS).index)}
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


# --------------------------------------------------------------------------------------------
# 2-D map of customers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectionResult:
    """Customers and segment centroids on the first two principal components.

    Attributes
    ----------
    coords : pandas.DataFrame
        A stratified sample of customers: index as in the model matrix, columns ``pc1``, ``pc2``
        and ``segment`` (ordered segment id).
    centers : pandas.DataFrame
        One row per segment (index = segment id, ascending): ``pc1``, ``pc2``.
    explained_variance_ratio : numpy.ndarray
        Share of variance on each of the two axes (0 when the matrix has a single column).
    components : numpy.ndarray
        Shape ``(2, n_features)``: the axes in model space.
    feature_names : list of str
        Model-matrix columns.
    n_customers : int
        Rows of the model matrix.
    n_fit : int
        Rows the PCA was fitted on.
    """

    coords: pd.DataFrame = field(repr=False)
    centers: pd.DataFrame
    explained_variance_ratio: np.ndarray
    components: np.ndarray = field(repr=False)
    feature_names: list[str]
    n_customers: int
    n_fit: int

    def to_dict(self) -> dict[str, Any]:
        """Return aggregates only (centroids, variance, axes), never customer coordinates."""
        return {
            "centers": {
                int(k): [float(r.pc1), float(r.pc2)] for k, r in self.centers.iterrows()
            },
            "explained_variance_ratio": [float(v) for v in self.explained_variance_ratio],
            "components": self.components.tolist(),
            "feature_names": list(self.feature_names),
            "n_customers": self.n_customers,
            "n_fit": self.n_fit,
            "n_shown": int(self.coords.shape[0]),
        }


def _labels_array(labels: Any, index: pd.Index, n: int) -> np.ndarray:
    if isinstance(labels, pd.Series) and isinstance(index, pd.Index) and not index.equals(
        pd.RangeIndex(n)
    ):
        missing = index.difference(labels.index)
        if len(missing):
            raise SchemaError(
                f"labels lack {len(missing)} row(s) of the model matrix, e.g. "
                f"{list(missing[:5])}; pass labels indexed like the model matrix."
            )
        labels = labels.reindex(index)
    arr = np.asarray(labels).ravel()
    if arr.shape[0] != n:
        raise SchemaError(f"labels has {arr.shape[0]} values but the model matrix has {n} rows.")
    try:
        out = arr.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"labels should be integer segment ids, got values like {arr[:5].tolist()!r}."
        ) from exc
    if not np.array_equal(out, arr.astype(np.float64)):
        raise SchemaError(
            f"labels should be integer segment ids, got values like {arr[:5].tolist()!r}."
        )
    return out


def project_2d(
    model_matrix: Any,
    labels: Any,
    centers: Any = None,
    *,
    sample_size: int = 5000,
    fit_sample_size: int = 100_000,
    random_state: int | None = 0,
) -> ProjectionResult:
    """Map customers and centroids onto the first two principal components.

    The PCA is fitted on the whole matrix, or on a uniform sample of ``fit_sample_size`` rows
    when it is larger. A stratified sample of ``sample_size`` customers (every segment
    represented in proportion, at least two rows each) is projected for the scatter plot; the
    centroids are projected too.

    Parameters
    ----------
    model_matrix : pandas.DataFrame or array-like of shape (n_samples, n_features)
        The preprocessed matrix the model was fitted on (finite values).
    labels : array-like or Series of int
        Ordered segment id of each row (a Series is aligned on the matrix's index).
    centers : array-like of shape (n_segments, n_features) or None, default=None
        Centroids in model space, row ``i`` = segment ``i`` (``Segmenter.cluster_centers_``).
        When None, the mean of each segment's rows is used.
    sample_size : int, default=5000
        Customers kept in :attr:`ProjectionResult.coords`.
    fit_sample_size : int, default=100000
        Largest number of rows the PCA is fitted on.
    random_state : int or None, default=0
        Seed of both samples.

    Returns
    -------
    ProjectionResult

    Raises
    ------
    SchemaError
        Non-finite or non-numeric values, labels that do not match the rows, centres of the
        wrong shape.
    ConfigError
        Non-positive sample sizes.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> p = project_2d(X, [0, 0, 1, 1])
    >>> np.round(p.explained_variance_ratio, 3).tolist()
    [0.99, 0.01]
    """
    for name, value in (("sample_size", sample_size), ("fit_sample_size", fit_sample_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(f"{name}={value!r} should be a positive integer.")
    if isinstance(model_matrix, pd.DataFrame):
        index = model_matrix.index
        names = [str(c) for c in model_matrix.columns]
        try:
            X = model_matrix.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            bad = [c for c in model_matrix.columns
                   if not pd.api.types.is_numeric_dtype(model_matrix[c])]
            raise SchemaError(
                "model_matrix should be numeric (the preprocessed matrix); non-numeric columns: "
                f"{bad}."
            ) from exc
    else:
        X = np.asarray(model_matrix, dtype=np.float64)
        index = pd.RangeIndex(X.shape[0]) if X.ndim == 2 else pd.RangeIndex(0)
        names = [f"x{j}" for j in range(X.shape[1])] if X.ndim == 2 else []
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise SchemaError(
            f"model_matrix should be 2-D with at least 2 rows and 1 column, got shape {X.shape}."
        )
    if not np.isfinite(X).all():
        raise SchemaError("model_matrix has NaN or infinite values; project the imputed matrix.")
    n, d = X.shape
    y = _labels_array(labels, index, n)
    segs = np.unique(y)
    if centers is None:
        C = np.vstack([X[y == s].mean(axis=0) for s in segs])
        center_ids = segs
    else:
        C = np.asarray(centers, dtype=np.float64)
        if C.ndim != 2 or C.shape[1] != d:
            raise SchemaError(
                f"centers should have shape (n_segments, {d}), got {C.shape}."
            )
        center_ids = np.arange(C.shape[0])
    rng = np.random.RandomState(random_state)
    fit_rows = (
        np.sort(rng.choice(n, size=fit_sample_size, replace=False)) if n > fit_sample_size else None
    )
    Xfit = X if fit_rows is None else X[fit_rows]
    n_comp = min(2, d, Xfit.shape[0])
    pca = PCA(n_components=n_comp, svd_solver="full").fit(Xfit)
    comps = np.zeros((2, d))
    comps[:n_comp] = pca.components_
    evr = np.zeros(2)
    evr[:n_comp] = pca.explained_variance_ratio_

    def _proj(A: np.ndarray) -> np.ndarray:
        return (A - pca.mean_) @ comps.T

    from segml.cluster.silhouette import stratified_sample_indices

    shown = stratified_sample_indices(y, sample_size, random_state=rng)
    P = _proj(X[shown])
    coords = pd.DataFrame(
        {"pc1": P[:, 0], "pc2": P[:, 1], "segment": y[shown]}, index=index[shown]
    )
    Pc = _proj(C)
    centers_df = pd.DataFrame(
        {"pc1": Pc[:, 0], "pc2": Pc[:, 1]}, index=pd.Index(center_ids, name="segment")
    )
    return ProjectionResult(
        coords=coords,
        centers=centers_df,
        explained_variance_ratio=evr,
        components=comps,
        feature_names=names,
        n_customers=n,
        n_fit=Xfit.shape[0],
    )


# --------------------------------------------------------------------------------------------
# RFM grid
# --------------------------------------------------------------------------------------------
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
    intlike = _is_intlike(list(uniq))
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

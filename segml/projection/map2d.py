"""The map of customers: the first two principal components of the model matrix, with centroids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from segml.errors import ConfigError, SchemaError

__all__ = ["ProjectionResult", "project_2d"]


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
    # the d x d covariance's eigenvectors, not an SVD of the n x d matrix: same components
    # (sign fixed the same way) in a fraction of the time when n >> d (issue 19)
    solver = "covariance_eigh" if Xfit.shape[0] > 10 * d else "full"
    pca = PCA(n_components=n_comp, svd_solver=solver).fit(Xfit)
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

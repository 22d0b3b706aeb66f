"""What drives a segmentation: each model column's share of the between-segment sum of squares.

For a model matrix ``Z`` (rows = customers, columns = model features) and segment labels, the
total sum of squares splits per column and per segment:

``TSS_j = sum_i (z_ij - mean_j)^2 = WSS_j + BSS_j``, with
``BSS_j = sum_k n_k (mean_kj - mean_j)^2``.

k-means maximises ``sum_j BSS_j``; ``share_j = BSS_j / sum_j BSS_j`` says how much of the
separation column ``j`` carries, and ``r2_j = BSS_j / TSS_j`` how much of the column's own
spread the segments explain. A segmentation whose shares sit on a few flags or one attribute
is driven by them, whatever the profiles suggest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError

__all__ = ["between_ss_shares"]


def between_ss_shares(Z: Any, labels: Any) -> pd.DataFrame:
    """Each column's between-segment sum of squares and its share of the total.

    Parameters
    ----------
    Z : DataFrame or array-like of shape (n_samples, n_features)
        The model matrix the segments were fitted on (column names kept from a DataFrame,
        else ``x0, x1, ...``).
    labels : array-like of shape (n_samples,)
        Segment of each row.

    Returns
    -------
    DataFrame
        Indexed by column, sorted by descending ``share``: ``between_ss`` (``BSS_j``),
        ``total_ss`` (``TSS_j``), ``share`` (``BSS_j / sum BSS``; 0 when the segments do not
        separate at all) and ``r2`` (``BSS_j / TSS_j``; 0 for a constant column).

    Raises
    ------
    ConfigError
        When the lengths differ, the matrix is empty or not finite.

    Examples
    --------
    >>> Z = pd.DataFrame({"a": [0.0, 0.0, 2.0, 2.0], "b": [1.0, -1.0, 1.0, -1.0]})
    >>> between_ss_shares(Z, [0, 0, 1, 1])["share"].to_dict()
    {'a': 1.0, 'b': 0.0}
    """
    if isinstance(Z, pd.DataFrame):
        names = [str(c) for c in Z.columns]
        arr = Z.to_numpy(dtype=np.float64)
    else:
        arr = np.asarray(Z, dtype=np.float64)
        if arr.ndim != 2:
            raise ConfigError(
                f"Z should be 2-dimensional (rows x features), got shape {arr.shape}."
            )
        names = [f"x{i}" for i in range(arr.shape[1])]
    lab = np.asarray(labels)
    if lab.shape != (arr.shape[0],):
        raise ConfigError(
            f"labels has shape {lab.shape} but Z has {arr.shape[0]} rows; give one label per "
            "row of the model matrix."
        )
    if arr.size == 0:
        raise ConfigError("Z is empty: no rows or no columns to measure.")
    if not np.isfinite(arr).all():
        raise ConfigError("Z holds NaN or infinite values; pass the imputed model matrix.")
    _, codes = np.unique(lab, return_inverse=True)
    counts = np.bincount(codes).astype(np.float64)
    sums = np.zeros((len(counts), arr.shape[1]))
    np.add.at(sums, codes, arr)
    means = sums / counts[:, None]
    grand = arr.mean(axis=0)
    bss = (counts[:, None] * (means - grand) ** 2).sum(axis=0)
    tss = ((arr - grand) ** 2).sum(axis=0)
    total = float(bss.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        share = bss / total if total > 0 else np.zeros_like(bss)
        r2 = np.where(tss > 0, bss / np.where(tss > 0, tss, 1.0), 0.0)
    out = pd.DataFrame({"between_ss": bss, "total_ss": tss, "share": share, "r2": r2},
                       index=pd.Index(names, name="feature"))
    return out.sort_values("share", ascending=False, kind="stable")

"""The pieces of a fitted segmenter that scoring needs (preprocessor, estimator, order)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from segml.errors import SchemaError

__all__ = ["SegmenterParts", "split_segmenter"]


@dataclass(frozen=True)
class SegmenterParts:
    """The pieces of a fitted segmenter that scoring needs.

    Attributes
    ----------
    preprocessor : object or None
        Fitted transformer from the feature frame to the model matrix.
    estimator : object
        Fitted clustering estimator (k-means family or a Gaussian mixture).
    label_map : numpy.ndarray
        ``label_map[raw_label]`` is the ordered segment id.
    columns : list of str
        Input feature columns, in the order seen at fit.
    """

    preprocessor: Any
    estimator: Any
    label_map: np.ndarray
    columns: list[str]
    model_feature_names: list[str] | None = None


def _label_map(order: Any, k: int) -> np.ndarray:
    if order is None:
        return np.arange(k, dtype=np.intp)
    if isinstance(order, Mapping):
        out = np.arange(k, dtype=np.intp)
        for raw, ordered in order.items():
            out[int(raw)] = int(ordered)
        return out
    arr = np.asarray(order, dtype=np.intp)
    if arr.shape != (k,):
        raise SchemaError(f"label_order_ has shape {arr.shape}; expected ({k},).")
    return arr


def _n_components(est: Any) -> int:
    if hasattr(est, "cluster_centers_"):
        return int(np.asarray(est.cluster_centers_).shape[0])
    if hasattr(est, "means_"):
        return int(np.asarray(est.means_).shape[0])
    return int(getattr(est, "n_clusters", getattr(est, "n_components", 0)))


def split_segmenter(segmenter: Any) -> SegmenterParts:
    """Split a fitted segmenter into preprocessor, estimator and label order.

    Accepts the segml ``Segmenter`` (``preprocessor_``, ``estimator_``,
    ``label_order_``), a scikit-learn ``Pipeline`` whose last step clusters, or a
    bare fitted clustering estimator.

    Parameters
    ----------
    segmenter : object
        Fitted segmenter.

    Returns
    -------
    SegmenterParts
        The parts; raw labels map to ordered labels through ``label_map``.

    Raises
    ------
    SchemaError
        When the object is not a fitted segmenter of a supported shape.
    """
    if hasattr(segmenter, "estimator_"):
        pre = getattr(segmenter, "preprocessor_", None)
        est = segmenter.estimator_
        order = getattr(segmenter, "label_order_", None)
    elif isinstance(segmenter, Pipeline):
        est = segmenter.steps[-1][1]
        pre = segmenter[:-1] if len(segmenter.steps) > 1 else None
        order = None
    elif hasattr(segmenter, "cluster_centers_") or hasattr(segmenter, "means_"):
        pre, est, order = None, segmenter, None
    else:
        raise SchemaError(
            f"cannot score with a {type(segmenter).__name__}: expected a fitted segml Segmenter, "
            "a fitted Pipeline ending in a clustering estimator, or a fitted "
            "KMeans/GaussianMixture."
        )
    cols = getattr(segmenter, "feature_names_in_", None)
    if cols is None and pre is not None:
        cols = getattr(pre, "feature_names_in_", None)
    if cols is None:
        cols = getattr(est, "feature_names_in_", None)
    if cols is None:
        raise SchemaError(
            "the segmenter records no feature_names_in_; fit it on a DataFrame so scoring "
            "can check input columns by name."
        )
    k = _n_components(est)
    mnames = getattr(segmenter, "model_feature_names_", None)
    mnames = None if mnames is None else [str(c) for c in mnames]
    return SegmenterParts(pre, est, _label_map(order, k), [str(c) for c in cols], mnames)


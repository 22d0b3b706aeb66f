"""Segmentation models, choosing k, validation, stability and segment profiles."""

from segml.cluster.segmenter import ALGORITHMS, COVARIANCE_TYPES, Segmenter
from segml.cluster.silhouette import (
    SampledSilhouetteResult,
    SilhouetteResult,
    sampled_silhouette,
    sqeuclidean_silhouette,
)

__all__ = [
    "ALGORITHMS",
    "COVARIANCE_TYPES",
    "Segmenter",
    "SilhouetteResult",
    "SampledSilhouetteResult",
    "sampled_silhouette",
    "sqeuclidean_silhouette",
]

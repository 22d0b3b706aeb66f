"""Segmentation models, choosing k, validation, stability and segment profiles.

Flow: :func:`select_k` (sweep and recommend) → :class:`Segmenter` (fit, ordered labels) →
:func:`validate_segments` (quality) → :func:`profile_segments` (profiles, names, roles,
actions).
"""

from segml.cluster.metrics import ClusterStats, cluster_stats
from segml.cluster.naming import NamingThresholds, name_segments
from segml.cluster.profiles import DEFAULT_ROLE_RULES, ProfileResult, profile_segments
from segml.cluster.segmenter import ALGORITHMS, COVARIANCE_TYPES, Segmenter
from segml.cluster.select_k import SelectKResult, knee_point, select_k
from segml.cluster.silhouette import (
    SampledSilhouetteResult,
    SilhouetteResult,
    sampled_silhouette,
    sqeuclidean_silhouette,
    stratified_sample_indices,
)
from segml.cluster.stability import StabilityResult, bootstrap_stability, jaccard_per_cluster
from segml.cluster.validation import ValidationResult, validate_segments

__all__ = [
    "ALGORITHMS",
    "COVARIANCE_TYPES",
    "DEFAULT_ROLE_RULES",
    "ClusterStats",
    "NamingThresholds",
    "ProfileResult",
    "SampledSilhouetteResult",
    "Segmenter",
    "SelectKResult",
    "SilhouetteResult",
    "StabilityResult",
    "ValidationResult",
    "bootstrap_stability",
    "cluster_stats",
    "jaccard_per_cluster",
    "knee_point",
    "name_segments",
    "profile_segments",
    "sampled_silhouette",
    "select_k",
    "sqeuclidean_silhouette",
    "stratified_sample_indices",
    "validate_segments",
]

"""The features layer: point-in-time customer features, encoders, spec and assembly.

``build_features`` gives the raw, interpretable feature frame (and the fitted
state to rebuild it for new customers); ``make_preprocessor`` turns a
``FeatureSpec`` into the scikit-learn preprocessor producing the model matrix.
"""

from segml.features.build import FeatureSet, FeatureState, build_features, make_preprocessor
from segml.features.clv import historical_clv
from segml.features.encoders import (
    CANONICAL_LEVELS,
    AgeEncoder,
    FamilyWeight,
    FrequencyEncoder,
    LogMoney,
    MultiLabelFlags,
    OrdinalScale,
    RareOneHot,
    ToFloat,
    Winsorizer,
)
from segml.features.relationship import GrowthPotential, growth_potential, relationship_features
from segml.features.scores import ABCClassifier, ParetoResult, RFMScorer, pareto, rfm_code
from segml.features.spec import FAMILIES, TRANSFORMS, FamilySpec, FeatureSpec
from segml.features.transactions import (
    behaviour_features,
    payment_features,
    rfm_features,
    top_levels,
    transaction_features,
)

__all__ = [
    "build_features",
    "make_preprocessor",
    "FeatureSet",
    "FeatureState",
    "FeatureSpec",
    "FamilySpec",
    "FAMILIES",
    "TRANSFORMS",
    "transaction_features",
    "rfm_features",
    "behaviour_features",
    "payment_features",
    "top_levels",
    "RFMScorer",
    "rfm_code",
    "ABCClassifier",
    "pareto",
    "ParetoResult",
    "historical_clv",
    "relationship_features",
    "growth_potential",
    "GrowthPotential",
    "CANONICAL_LEVELS",
    "AgeEncoder",
    "FamilyWeight",
    "FrequencyEncoder",
    "LogMoney",
    "MultiLabelFlags",
    "OrdinalScale",
    "RareOneHot",
    "ToFloat",
    "Winsorizer",
]

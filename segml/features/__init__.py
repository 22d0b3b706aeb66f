"""The features layer: point-in-time customer features, encoders, spec and assembly.

``FeatureBuilder`` learns the feature state at one ``as_of`` (``fit``) and builds the raw,
interpretable feature frame with it frozen at any date (``transform``); ``build_features`` does
both in one call (or reuses a saved state); ``make_preprocessor`` turns a
``FeatureSpec`` into the scikit-learn preprocessor producing the model matrix, and
``describe_space`` says how each spec column enters the distance (or why it does not).
"""

from segml.features._time import cutoff
from segml.features.build import FeatureSet, FeatureState, build_features, make_preprocessor
from segml.features.builder import FeatureBuilder
from segml.features.clv import historical_clv
from segml.features.encoders import (
    CANONICAL_LEVELS,
    AgeEncoder,
    FamilyWeight,
    FrequencyEncoder,
    LogMoney,
    MissingFlags,
    MultiLabelFlags,
    OrdinalScale,
    RareOneHot,
    ToFloat,
    Winsorizer,
)
from segml.features.relationship import GrowthPotential, growth_potential, relationship_features
from segml.features.scores import ABCClassifier, ParetoResult, RFMScorer, pareto, rfm_code
from segml.features.space import describe_space, redundant_columns
from segml.features.spec import FAMILIES, TRANSFORMS, FamilySpec, FeatureSpec
from segml.features.transactions import (
    FEATURE_TRANSACTION_COLUMNS,
    ShareLevels,
    SortedTransactions,
    behaviour_features,
    payment_features,
    rfm_features,
    top_levels,
    transaction_features,
)

__all__ = [
    "build_features",
    "cutoff",
    "FeatureBuilder",
    "make_preprocessor",
    "describe_space",
    "redundant_columns",
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
    "ShareLevels",
    "SortedTransactions",
    "FEATURE_TRANSACTION_COLUMNS",
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
    "MissingFlags",
    "MultiLabelFlags",
    "OrdinalScale",
    "RareOneHot",
    "ToFloat",
    "Winsorizer",
]

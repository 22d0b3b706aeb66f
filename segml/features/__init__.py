"""The features layer: point-in-time customer features, encoders, spec and assembly."""

from segml.features.encoders import (
    AgeEncoder,
    FamilyWeight,
    FrequencyEncoder,
    LogMoney,
    OrdinalScale,
    RareOneHot,
    ToFloat,
    Winsorizer,
)

__all__ = [
    "AgeEncoder",
    "FamilyWeight",
    "FrequencyEncoder",
    "LogMoney",
    "OrdinalScale",
    "RareOneHot",
    "ToFloat",
    "Winsorizer",
]

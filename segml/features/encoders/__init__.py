"""Attribute encoders: small scikit-learn transformers for customer attributes.

Every class follows the scikit-learn estimator contract: ``__init__`` only
stores keyword arguments, ``fit`` validates and learns, fitted attributes end
in ``_``, ``transform`` calls ``check_is_fitted`` and re-checks the columns seen
in ``fit``, ``get_feature_names_out`` names the output, and
``set_output(transform="pandas")`` gives DataFrames.

``transform`` never writes to the encoder. Fitted counters such as
``n_negative_`` describe the training data; ``quality(X)`` returns the same
counts for any batch as a dict (``{"n_unknown": 2}``), so a report can say how
many values an encoder had to map to "unknown" without a side channel.

The encoders are:

- :class:`AgeEncoder` -- birth year (or age) to ``age`` and an ``age_band`` code.
- :class:`LogMoney` -- signed ``log1p`` for skewed money.
- :class:`RareOneHot` -- one-hot with rare-level grouping and an unknown policy
  (a configured :class:`sklearn.preprocessing.OneHotEncoder`).
- :class:`OrdinalScale` -- ordered levels to 0, 1, 2, ... (unknown -> NaN).
- :class:`FrequencyEncoder` -- high-cardinality levels to their training share.
- :class:`Winsorizer` -- clip at training quantiles.
- :class:`ToFloat` -- booleans / nullable numbers to float64.
- :class:`FamilyWeight` -- scale a block of columns to a fixed distance budget.
- :class:`MissingFlags` -- missing-value indicators on a fixed 0..scale range.
- :class:`MultiLabelFlags` -- a multi-select answer (``"price; brand"``) to 0/1 flags.
"""


from segml.features.encoders.age import AgeEncoder
from segml.features.encoders.levels import (
    CANONICAL_LEVELS,
    OFF_SCALE_LEVELS,
    normalize_level,
    normalize_levels,
)
from segml.features.encoders.multilabel import MultiLabelFlags
from segml.features.encoders.numeric import (
    FamilyWeight,
    LogMoney,
    MissingFlags,
    ToFloat,
    Winsorizer,
)
from segml.features.encoders.onehot import RareOneHot, _infrequent_name
from segml.features.encoders.ordinal import FrequencyEncoder, OrdinalScale

__all__ = [
    "CANONICAL_LEVELS",
    "AgeEncoder",
    "LogMoney",
    "RareOneHot",
    "OrdinalScale",
    "FrequencyEncoder",
    "Winsorizer",
    "ToFloat",
    "FamilyWeight",
    "MissingFlags",
    "MultiLabelFlags",
    "normalize_level",
    "normalize_levels",
]

#: Old pickles name these by their former module path ``segml.features.encoders``.
_PICKLE_ALIASES = (OFF_SCALE_LEVELS, _infrequent_name)

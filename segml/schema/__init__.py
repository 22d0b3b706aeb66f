"""Table contracts: validate transactions and customers into canonical, typed frames.

Users keep their own column names and pass a ``mapping`` from canonical name to
their name (``{"amount": "dollar_value"}``). Validation returns the canonical
frame (names and dtypes in ``docs/CONTRACTS.md``) together with a
:class:`DataQualityReport` that counts every row excluded or repaired, by
reason. Malformed input raises :class:`~segml.errors.SchemaError` whose message
names the column, the problem, up to five offending values with their row
numbers (0-based positions in the input table) and the fix.

The caller's frame is never mutated.

Modules: :mod:`~segml.schema.columns` (canonical columns, kinds, levels, mapping),
:mod:`~segml.schema.quality` (:class:`DataQualityReport`, :class:`Validated`),
:mod:`~segml.schema.ids`, :mod:`~segml.schema.dates` and :mod:`~segml.schema.values`
(parsing one column of each kind), :mod:`~segml.schema.transactions` and
:mod:`~segml.schema.customers` (the two validators). Every name is importable from
``segml.schema``.
"""

from __future__ import annotations

from segml.schema._common import _clip as _clip
from segml.schema._common import _show as _show
from segml.schema.columns import (
    CUSTOMER_COLUMNS,
    ORDERED_LEVELS,
    PREFIX_KINDS,
    REQUIRED_CUSTOMER_COLUMNS,
    REQUIRED_TRANSACTION_COLUMNS,
    STATUS_LEVELS,
    STATUS_SYNONYMS,
    TRANSACTION_COLUMNS,
)
from segml.schema.customers import validate_customers
from segml.schema.dates import (
    CUSTOMER_DATE_FORMAT,
    SENTINEL_DAYS,
    SPECIAL_FORMATS,
    TIMESTAMP_FORMAT,
    DateOption,
    parse_dates,
)
from segml.schema.ids import MAX_FLOAT_ID, NA_TOKENS, parse_ids
from segml.schema.quality import DataQualityReport, Validated
from segml.schema.transactions import MIN_ID_OVERLAP, validate_transactions
from segml.schema.values import MAX_ABS_NUMBER, text_category

__all__ = [
    "TRANSACTION_COLUMNS",
    "CUSTOMER_COLUMNS",
    "ORDERED_LEVELS",
    "DataQualityReport",
    "Validated",
    "validate_transactions",
    "text_category",
    "validate_customers",
    # also public, defined in the submodules
    "CUSTOMER_DATE_FORMAT",
    "DateOption",
    "MAX_ABS_NUMBER",
    "MAX_FLOAT_ID",
    "MIN_ID_OVERLAP",
    "NA_TOKENS",
    "PREFIX_KINDS",
    "REQUIRED_CUSTOMER_COLUMNS",
    "REQUIRED_TRANSACTION_COLUMNS",
    "SENTINEL_DAYS",
    "SPECIAL_FORMATS",
    "STATUS_LEVELS",
    "STATUS_SYNONYMS",
    "TIMESTAMP_FORMAT",
    "parse_dates",
    "parse_ids",
]

# the old private names, for callers written before the split
_to_id = parse_ids
_to_datetime = parse_dates

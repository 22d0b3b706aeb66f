"""Rule-based segments as first-class objects, and comparison of segmentations.

- :class:`RuleSet` / :class:`Rule`: declarative rules (TOML in and out; built-in sets).
- :class:`RuleSegmenter`: fit freezes thresholds, predict assigns segment names.
- :class:`LookalikeScorer`: similarity of customers/prospects to the best customers.
- :func:`compare_segmentations` -> :class:`ComparisonResult`: clusters vs rules (or any pair).
"""

from segml.rules.builtin import builtin_missing_columns, builtin_segmenter
from segml.rules.compare import ComparisonResult, compare_segmentations
from segml.rules.expr import parse, unparse
from segml.rules.lookalike import LookalikeScorer
from segml.rules.ruleset import BUILTIN_RULESETS, Rule, RuleSet
from segml.rules.segmenter import RuleSegmenter

__all__ = [
    "BUILTIN_RULESETS",
    "ComparisonResult",
    "LookalikeScorer",
    "Rule",
    "RuleSegmenter",
    "RuleSet",
    "builtin_missing_columns",
    "builtin_segmenter",
    "compare_segmentations",
    "parse",
    "unparse",
]

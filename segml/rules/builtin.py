"""Ready-made rule segmenters for the built-in rule sets of the domain brief."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from segml.errors import ConfigError
from segml.rules.lookalike import LookalikeScorer
from segml.rules.ruleset import BUILTIN_RULESETS, RuleSet
from segml.rules.segmenter import RuleSegmenter

__all__ = ["builtin_missing_columns", "builtin_segmenter"]

#: Columns a built-in set can do without: filled with a constant or computed on the fly.
_OPTIONAL = {"lifecycle": ("showed_interest", "lookalike_score", "is_lookalike")}


def builtin_missing_columns(name: str, columns: Iterable[str]) -> list[str]:
    """Return the feature columns the built-in rule set ``name`` needs that ``columns`` lacks.

    The pipeline calls this before fitting, so a rule set whose features the data cannot
    give (e.g. RFM scores on a customers table without transactions) is skipped with a
    note instead of failing after the clustering.

    Parameters
    ----------
    name : str
        A built-in rule set (:data:`~segml.rules.BUILTIN_RULESETS`).
    columns : iterable of str
        The feature frame's columns.

    Returns
    -------
    list of str
        Missing columns in the rule set's order; empty when the set can run.

    Raises
    ------
    ConfigError
        For an unknown rule set name.

    Examples
    --------
    >>> builtin_missing_columns("abc", ["gender", "age"])
    ['abc_class']
    """
    if name not in BUILTIN_RULESETS:
        raise ConfigError(
            f"unknown built-in rule set {name!r}. Fix: use some of {', '.join(BUILTIN_RULESETS)} "
            "in [rules] sets (Python: builtin_segmenter(name))."
        )
    have = set(columns)
    optional = _OPTIONAL.get(name, ())
    return [c for c in RuleSet.builtin(name).columns if c not in have and c not in optional]


def builtin_segmenter(
    name: str,
    *,
    overlap: str = "first",
    lookalike_threshold: float = 0.5,
    lookalike_features: Sequence[str] | None = None,
) -> RuleSegmenter:
    """Return an unfitted :class:`RuleSegmenter` for a built-in rule set.

    Parameters
    ----------
    name : {"rfm_groups", "abc", "portfolio_roles", "lifecycle"}
        The rule set (``segml/rulesets/<name>.toml``).
    overlap : {"first", "error"}, default "first"
        See :class:`RuleSegmenter`.
    lookalike_threshold : float, default 0.5
        For ``lifecycle``: ``is_lookalike = lookalike_score >= threshold``.
    lookalike_features : sequence of str, optional
        For ``lifecycle``: attribute columns of the look-alike score
        (default: the canonical attribute columns present; when there are none,
        no prospect is ``probable``).

    Notes
    -----
    ``lifecycle`` copes with data that lack the optional columns: a missing
    ``showed_interest`` counts as false (no prospect is ``potential``), and
    without attribute columns no prospect is ``probable``. CDNOW, which has
    neither (and no prospects), gets ``active``/``lapsed`` only.

    Returns
    -------
    RuleSegmenter

    Examples
    --------
    >>> builtin_segmenter("abc").rules.name
    'abc'
    """
    if name not in BUILTIN_RULESETS:
        raise ConfigError(
            f"unknown built-in rule set {name!r}; available: {', '.join(BUILTIN_RULESETS)}. "
            "Fix: use one of them in [rules] sets (Python: builtin_segmenter(name))."
        )
    rules = RuleSet.builtin(name)
    if name == "lifecycle":
        lookalike = LookalikeScorer(
            features=lookalike_features,
            threshold=lookalike_threshold,
            allow_no_features=lookalike_features is None,
        )
        return RuleSegmenter(
            rules, overlap=overlap, lookalike=lookalike, fill_missing={"showed_interest": False}
        )
    return RuleSegmenter(rules, overlap=overlap)

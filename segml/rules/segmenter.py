"""RuleSegmenter: rule segments with the same fit/predict interface as the cluster model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from segml._validation import check_fitted, check_frame
from segml.errors import ConfigError, SchemaError
from segml.rules import expr as _expr
from segml.rules.ruleset import BUILTIN_RULESETS, RuleSet

__all__ = ["RuleSegmenter"]

_LOOKALIKE_OUTPUTS = ("lookalike_score", "is_lookalike")
_OVERLAP = ("first", "error")


class RuleSegmenter(BaseEstimator):
    """Assign named segments with an ordered list of conditions (first match wins).

    ``fit`` checks the conditions against the feature columns and freezes the
    fit-time thresholds (``quantile(col, q)``, ``median(col)``) over the
    training frame; ``predict`` applies the frozen rules to any frame with the
    same columns and returns segment *names*.

    Parameters
    ----------
    rules : RuleSet, list of (name, condition), mapping or str
        The rules in priority order; a string names a built-in rule set
        (``"rfm_groups"``, ``"abc"``, ``"portfolio_roles"``, ``"lifecycle"``).
    default : str, optional
        Segment for rows no rule matches. None: the rule set's default
        (``"other"`` for a plain list).
    overlap : {"first", "error"}, default "first"
        What to do with a row that matches several rules: give it the first
        matching rule's segment, or raise :class:`~segml.errors.ConfigError`
        naming the overlapping rules and how many rows they share.
    lookalike : LookalikeScorer, optional
        Computes ``lookalike_score`` / ``is_lookalike`` when the rules use them
        and the frame lacks them (the built-in ``lifecycle`` set does). It is
        cloned and fitted on the training frame.
    fill_missing : mapping of str to bool, number or str, optional
        Constant value for a column the rules read but the frame lacks (optional
        customer columns may be absent, e.g. ``{"showed_interest": False}``).
        A column present in the frame is always used as is.

    Attributes
    ----------
    ruleset_ : RuleSet
        The rules as fitted (default resolved).
    segments_ : list of str
        Segment names: rules in order, then the default.
    thresholds_ : dict of str to float
        Frozen fit-time thresholds, e.g. ``{"median(recency_days)": 41.0}``.
    feature_names_in_ : ndarray of str
        Columns ``predict`` needs from the caller's frame.
    n_features_in_ : int
        Their number.
    lookalike_ : LookalikeScorer or None
        The fitted look-alike scorer, when one was used.
    filled_ : dict
        Columns that were absent at fit and filled from ``fill_missing``.
    match_counts_ : Series
        Training rows each rule matches on its own (before first-match-wins).
    segment_counts_ : Series
        Training rows per assigned segment.
    overlap_counts_ : DataFrame
        Training rows matched by each pair of rules (diagonal: ``match_counts_``).

    Examples
    --------
    >>> frame = pd.DataFrame({"monetary": [10.0, 50.0, 200.0]}, index=["a", "b", "c"])
    >>> seg = RuleSegmenter([("top", "monetary >= quantile(monetary, 0.5)")], "rest")
    >>> seg.fit_predict(frame).tolist()
    ['rest', 'top', 'top']
    >>> seg.thresholds_
    {'quantile(monetary, 0.5)': 50.0}
    """

    def __init__(
        self,
        rules: RuleSet | Iterable[tuple[str, str]] | Mapping[str, str] | str | None = None,
        default: str | None = None,
        *,
        overlap: str = "first",
        lookalike: object = None,
        fill_missing: Mapping[str, object] | None = None,
    ) -> None:
        self.rules = rules
        self.default = default
        self.overlap = overlap
        self.lookalike = lookalike
        self.fill_missing = fill_missing

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a condition on a missing value is simply not met
        tags.input_tags.string = True  # conditions compare text columns too
        return tags

    # ------------------------------------------------------------------ fit
    def _ruleset(self) -> RuleSet:
        rules = self.rules
        if rules is None:
            raise ConfigError(
                "RuleSegmenter needs rules: a RuleSet, (name, condition) pairs or "
                f"a built-in name ({', '.join(BUILTIN_RULESETS)})"
            )
        if isinstance(rules, str):
            rs = RuleSet.builtin(rules)
        elif isinstance(rules, RuleSet):
            rs = rules
        else:
            rs = RuleSet.from_rules(rules, default=self.default or "other")
        if self.default is not None and self.default != rs.default:
            rs = RuleSet(
                rs.rules,
                default=self.default,
                name=rs.name,
                description=rs.description,
            )
        return rs

    def fit(self, X: pd.DataFrame, y: object = None) -> RuleSegmenter:
        """Check the rules against ``X`` and freeze their thresholds.

        Parameters
        ----------
        X : DataFrame
            Feature frame (one row per customer).
        y : ignored

        Returns
        -------
        self
        """
        X = _check_frame(X, "fit")
        if self.overlap not in _OVERLAP:
            raise ConfigError(f"overlap={self.overlap!r} should be one of {list(_OVERLAP)}")
        rs = self._ruleset()
        fill = dict(self.fill_missing or {})
        for c, v in fill.items():
            if not isinstance(v, bool | int | float | str):
                raise ConfigError(
                    f"fill_missing[{c!r}]={v!r} should be a bool, a number or a string"
                )
        filled = {c: fill[c] for c in rs.columns if c in fill and c not in X.columns}
        frame = _with_constants(X, filled)
        lookalike = None
        needs = [c for c in rs.columns if c in _LOOKALIKE_OUTPUTS and c not in X.columns]
        if needs and self.lookalike is not None:
            lookalike = clone(self.lookalike).fit(X)
            frame = _with_lookalike(frame, lookalike)
        kinds = _expr.column_kinds(frame)
        hint = {
            c: f"{c!r} is computed by a look-alike scorer: pass "
            "lookalike=LookalikeScorer(...) to RuleSegmenter (or add the column)"
            for c in _LOOKALIKE_OUTPUTS
        }
        for rule, node in zip(rs.rules, rs.parsed, strict=True):
            _expr.check(node, kinds, rule.expr, rule=rule.name, extra_hint=hint)
        thresholds = _expr.resolve_thresholds(
            list(rs.parsed),
            frame,
            texts=[r.expr for r in rs.rules],
            rules=[r.name for r in rs.rules],
        )
        matches = _match_matrix(rs, frame, thresholds)
        if self.overlap == "error":
            _raise_on_overlap(rs, matches, "training")
        names = [r.name for r in rs.rules]
        m = matches.astype(np.float64)  # BLAS; counts stay exact below 2**53 rows
        co = np.rint(m.T @ m).astype(np.int64)
        codes = _first_match(matches)

        needed = [
            c
            for c in rs.columns
            if c not in filled and not (lookalike is not None and c in _LOOKALIKE_OUTPUTS)
        ]
        if lookalike is not None:
            needed += [c for c in lookalike.feature_names_in_ if c not in needed]

        self.ruleset_ = rs
        self.segments_ = rs.segment_names
        self.thresholds_ = thresholds
        self.lookalike_ = lookalike
        self.filled_ = filled
        self.kinds_ = {c: kinds[c] for c in rs.columns}
        self.feature_names_in_ = np.asarray(needed, dtype=object)
        self.n_features_in_ = len(needed)
        self.match_counts_ = pd.Series(np.diag(co), index=names, name="matches")
        self.overlap_counts_ = pd.DataFrame(co, index=names, columns=names)
        self.segment_counts_ = pd.Series(
            np.bincount(codes, minlength=len(self.segments_)), index=self.segments_, name="rows"
        )
        return self

    # -------------------------------------------------------------- predict
    def _check_fitted(self, where: str) -> None:
        msg = f"This RuleSegmenter is not fitted yet; call fit(frame) before {where}."
        check_fitted(self, "ruleset_", msg=msg)

    def _prepare(self, X: pd.DataFrame, where: str) -> pd.DataFrame:
        self._check_fitted(where)
        given = X
        X = _check_frame(X, where)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise SchemaError(
                f"{where}: the frame lacks columns the rules need: {missing}; "
                f"needed: {list(self.feature_names_in_)}{_array_hint(given)}"
            )
        frame = _with_constants(X, {c: v for c, v in self.filled_.items() if c not in X.columns})
        if self.lookalike_ is not None:
            frame = _with_lookalike(frame, self.lookalike_)
        for c, k in self.kinds_.items():
            now = _expr.column_kind(frame[c])
            if now != k:
                raise SchemaError(
                    f"{where}: column {c!r} held {k} values at fit time but holds {now} now "
                    f"(dtype {frame[c].dtype})"
                )
        return frame

    def match_matrix(self, X: pd.DataFrame) -> pd.DataFrame:
        """Which rules each row matches, before first-match-wins.

        Parameters
        ----------
        X : DataFrame

        Returns
        -------
        DataFrame of bool
            One column per rule, indexed like ``X``.
        """
        frame = self._prepare(X, "match_matrix")
        m = _match_matrix(self.ruleset_, frame, self.thresholds_)
        return pd.DataFrame(m, index=frame.index, columns=[r.name for r in self.ruleset_.rules])

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Assign each row the segment of the first rule it matches.

        Parameters
        ----------
        X : DataFrame
            Frame with the columns in ``feature_names_in_``.

        Returns
        -------
        Series
            Categorical segment names (categories ``segments_``), indexed like
            ``X``, named ``"segment"``.
        """
        frame = self._prepare(X, "predict")
        matches = _match_matrix(self.ruleset_, frame, self.thresholds_)
        if self.overlap == "error":
            _raise_on_overlap(self.ruleset_, matches, "predicted")
        codes = _first_match(matches)
        cat = pd.Categorical.from_codes(codes, categories=pd.Index(self.segments_, dtype=object))
        return pd.Series(cat, index=frame.index, name="segment")

    def fit_predict(self, X: pd.DataFrame, y: object = None) -> pd.Series:
        """Fit on ``X`` and return its segments (see :meth:`predict`)."""
        return self.fit(X).predict(X)

    def describe(self) -> pd.DataFrame:
        """One row per segment: condition (thresholds filled in), description, action.

        Returns
        -------
        DataFrame
            Indexed by segment name, with ``condition``, ``frozen``,
            ``description``, ``action``, ``training_matches`` (rows the rule
            matches on its own; for the default, rows no rule matches) and
            ``training_rows`` (rows it was assigned; fewer when earlier rules
            took some of its matches).
        """
        self._check_fitted("describe")
        rs: RuleSet = self.ruleset_
        rows = []
        for rule, node in zip(rs.rules, rs.parsed, strict=True):
            frozen = rule.expr
            for f in _expr.thresholds_of(node):
                frozen = frozen.replace(rule.expr[f.pos : f.end], f"{self.thresholds_[f.key]:g}")
            rows.append((rule.name, rule.expr, frozen, rule.description, rule.action))
        rows.append(
            (rs.default, "(no rule matched)", "", rs.default_description, rs.default_action)
        )
        out = pd.DataFrame(
            rows, columns=["segment", "condition", "frozen", "description", "action"]
        ).set_index("segment")
        matches = self.match_counts_.reindex(out.index)
        matches[rs.default] = self.segment_counts_[rs.default]  # rows no rule matched
        out["training_matches"] = matches.astype(np.int64).to_numpy()
        out["training_rows"] = self.segment_counts_.reindex(out.index).to_numpy()
        return out


# ---------------------------------------------------------------- helpers


def _check_frame(X: object, where: str) -> pd.DataFrame:
    """Return the frame (an array's columns are named ``x0, x1, ...``)."""
    return check_frame(X, f"RuleSegmenter.{where}")


def _array_hint(X: object) -> str:
    if isinstance(X, pd.DataFrame):
        return ""
    return (f" (a {type(X).__name__} has no column names: its columns are x0, x1, ...; "
            "pass a DataFrame of features with named columns)")


def _with_constants(X: pd.DataFrame, values: Mapping[str, object]) -> pd.DataFrame:
    if not values:
        return X
    out = X.copy(deep=False)
    for c, v in values.items():
        out[c] = np.full(len(X), v)
    return out


def _with_lookalike(X: pd.DataFrame, scorer: object) -> pd.DataFrame:
    scores = scorer.transform(X)  # type: ignore[attr-defined]
    out = X.copy(deep=False)
    for c in _LOOKALIKE_OUTPUTS:
        if c not in X.columns:
            out[c] = scores[c].to_numpy()
    return out


def _match_matrix(rs: RuleSet, frame: pd.DataFrame, thresholds: Mapping[str, float]) -> np.ndarray:
    cols = [_expr.evaluate(node, frame, thresholds) for node in rs.parsed]
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0), dtype=bool)


def _first_match(matches: np.ndarray) -> np.ndarray:
    n_rules = matches.shape[1]
    any_ = matches.any(axis=1)
    first = matches.argmax(axis=1)
    return np.where(any_, first, n_rules).astype(np.int64)


def _raise_on_overlap(rs: RuleSet, matches: np.ndarray, where: str) -> None:
    multi = matches.sum(axis=1) > 1
    if not multi.any():
        return
    names = [r.name for r in rs.rules]
    co = matches[multi].T.astype(np.int64) @ matches[multi].astype(np.int64)
    pairs = [
        f"{names[i]!r} & {names[j]!r}: {co[i, j]} rows"
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if co[i, j] > 0
    ]
    raise ConfigError(
        f"{int(multi.sum())} {where} rows match more than one rule (overlap='error'): "
        + "; ".join(pairs)
        + ". Make the conditions exclusive, or use overlap='first' (first matching rule wins)."
    )

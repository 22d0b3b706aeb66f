"""Fit-time thresholds and vectorised three-valued evaluation of a parsed rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import pandas as pd

from segml.errors import ConfigError
from segml.rules.expr.nodes import (
    And,
    Arith,
    Between,
    Bool,
    Cmp,
    Col,
    Func,
    In,
    IsMissing,
    Neg,
    Node,
    Not,
    Num,
    Or,
    Str,
)
from segml.rules.expr.tree import thresholds_of
from segml.rules.expr.typecheck import column_kind


def resolve_thresholds(
    nodes: list[Node], frame: pd.DataFrame, *, texts: list[str], rules: list[str]
) -> dict[str, float]:
    """Compute every ``quantile``/``median`` threshold over ``frame`` (missing skipped).

    Parameters
    ----------
    nodes : list of Node
        Checked expressions.
    frame : DataFrame
        Training frame.
    texts, rules : list of str
        Source texts and rule names, for error messages.

    Returns
    -------
    dict
        Canonical text (``"quantile(recency_days, 0.8)"``) -> value.

    Raises
    ------
    ConfigError
        When a threshold column has no non-missing value.
    """
    out: dict[str, float] = {}
    for node, text, rule in zip(nodes, texts, rules, strict=True):
        for f in thresholds_of(node):
            if f.key in out:
                continue
            values = _numeric(frame[f.column.name])
            values = values[~np.isnan(values)]
            if values.size == 0:
                raise ConfigError(
                    f"rule {rule!r}: cannot compute {f.key} in {text!r}: column "
                    f"{f.column.name!r} has no non-missing value in the training frame"
                )
            out[f.key] = float(np.quantile(values, f.q))
    return out


def _numeric(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(series.dtype.categories.dtype)
    return series.to_numpy(dtype="float64", na_value=np.nan)


Truth: TypeAlias = tuple[np.ndarray, np.ndarray]  # (is_true, is_false); neither = unknown


def evaluate(node: Node, frame: pd.DataFrame, thresholds: Mapping[str, float]) -> np.ndarray:
    """Evaluate a checked condition over ``frame``.

    Parameters
    ----------
    node : Node
        A condition that passed :func:`check`.
    frame : DataFrame
        Rows to evaluate.
    thresholds : mapping
        Resolved fit-time thresholds (:func:`resolve_thresholds`).

    Returns
    -------
    numpy.ndarray of bool
        True where the condition is true (unknown counts as not matching).
    """
    t, _ = _Evaluator(frame, thresholds).truth(node)
    return t


class _Evaluator:
    def __init__(self, frame: pd.DataFrame, thresholds: Mapping[str, float]) -> None:
        self.frame = frame
        self.n = len(frame)
        self.thresholds = thresholds
        self.cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (values, missing) for a column; numbers as float64, strings as object."""
        if name not in self.cache:
            s = self.frame[name]
            k = column_kind(s)
            missing = s.isna().to_numpy(dtype=bool)
            if k == "num":
                values = _numeric(s)
            elif k == "bool":
                values = s.to_numpy(dtype=object, na_value=False).astype(bool)
            else:
                values = s.astype(object).to_numpy(dtype=object, na_value=None)
            self.cache[name] = (values, missing)
        return self.cache[name]

    def value(self, n: Node) -> tuple[np.ndarray | object, np.ndarray | bool]:
        if isinstance(n, Num | Str | Bool):
            return n.value, False
        if isinstance(n, Col):
            return self.column(n.name)
        if isinstance(n, Func):
            return self.thresholds[n.key], False
        if isinstance(n, Neg):
            v, m = self.value(n.operand)
            return -np.asarray(v, dtype=float), m
        if isinstance(n, Arith):
            lv, lm = self.value(n.left)
            rv, rm = self.value(n.right)
            lv, rv = np.asarray(lv, dtype=float), np.asarray(rv, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                if n.op == "+":
                    out = lv + rv
                elif n.op == "-":
                    out = lv - rv
                elif n.op == "*":
                    out = lv * rv
                else:
                    out = lv / rv
            return out, np.asarray(lm) | np.asarray(rm) | ~np.isfinite(out)
        raise TypeError(f"not a value node: {n!r}")  # pragma: no cover

    def known(self, *missing: np.ndarray | bool) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        for x in missing:
            m = m | x
        return ~m

    def truth(self, n: Node) -> Truth:
        if isinstance(n, Bool):
            full = np.full(self.n, n.value, dtype=bool)
            return full, ~full
        if isinstance(n, Col):  # boolean column used as a condition
            v, m = self.column(n.name)
            return v & ~m, ~v & ~m
        if isinstance(n, Not):
            t, f = self.truth(n.operand)
            return f, t
        if isinstance(n, And):
            lt, lf = self.truth(n.left)
            rt, rf = self.truth(n.right)
            return lt & rt, lf | rf
        if isinstance(n, Or):
            lt, lf = self.truth(n.left)
            rt, rf = self.truth(n.right)
            return lt | rt, lf & rf
        if isinstance(n, IsMissing):
            _, m = self.value(n.operand)
            miss = np.broadcast_to(np.asarray(m, dtype=bool), (self.n,)).copy()
            return (~miss, miss) if n.negated else (miss, ~miss)
        if isinstance(n, Cmp):
            lv, lm = self.value(n.left)
            rv, rm = self.value(n.right)
            known = self.known(lm, rm)
            res = _compare(n.op, lv, rv, self.n)
            return res & known, ~res & known
        if isinstance(n, Between):
            v, m = self.value(n.operand)
            lo, lom = self.value(n.low)
            hi, him = self.value(n.high)
            known = self.known(m, lom, him)
            with np.errstate(invalid="ignore"):
                res = np.asarray((v >= lo) & (v <= hi), dtype=bool)
            res = np.broadcast_to(res, (self.n,))
            if n.negated:
                res = ~res
            return res & known, ~res & known
        if isinstance(n, In):
            v, m = self.value(n.operand)
            vals = [x.value for x in n.values]  # type: ignore[attr-defined]
            known = self.known(m)
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                res = np.isin(v, np.asarray(vals, dtype=float))
            else:
                res = pd.Series(v, dtype=object).isin(vals).to_numpy(dtype=bool)
            if n.negated:
                res = ~res
            return res & known, ~res & known
        raise TypeError(f"not a condition node: {n!r}")  # pragma: no cover


def _compare(op: str, left: object, right: object, n: int) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == "<":
            res = left < right  # type: ignore[operator]
        elif op == "<=":
            res = left <= right  # type: ignore[operator]
        elif op == ">":
            res = left > right  # type: ignore[operator]
        elif op == ">=":
            res = left >= right  # type: ignore[operator]
        elif op == "==":
            res = left == right
        else:
            res = left != right
    return np.broadcast_to(np.asarray(res, dtype=bool), (n,)).copy()

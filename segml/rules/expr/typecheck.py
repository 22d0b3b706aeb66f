"""Type checks of a parsed rule against the columns of a frame."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from segml.errors import RuleSyntaxError
from segml.rules.expr.messages import syntax_error
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
from segml.rules.expr.tree import _children

Kind: TypeAlias = Literal["num", "str", "bool"]


def column_kind(series: pd.Series) -> Kind | None:
    """Classify a column as ``"num"``, ``"str"`` or ``"bool"`` (None: unsupported)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        return "num" if pd.api.types.is_numeric_dtype(cats.dtype) else "str"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "num"
    if isinstance(dtype, pd.StringDtype):
        return "str"
    if pd.api.types.is_string_dtype(dtype) or dtype is np.dtype(object):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return "bool"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "num"
        if inferred == "empty":
            return "str"
        return "str" if inferred in ("string", "mixed", "categorical") else None
    return None


class ColumnKinds(Mapping[str, "Kind | None"]):
    """Kinds of the columns of ``frame`` (see :func:`column_kind`), computed on first use.

    A mapping over every column name; only the columns a rule reads are inspected, so
    checking rules against a wide frame does not scan the columns they ignore.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._names = {str(c): c for c in frame.columns}
        self._cache: dict[str, Kind | None] = {}

    def __getitem__(self, name: str) -> Kind | None:
        if name not in self._cache:
            self._cache[name] = column_kind(self._frame[self._names[name]])
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


def column_kinds(frame: pd.DataFrame) -> ColumnKinds:
    """Return the kinds of the columns of ``frame`` as a lazy :class:`ColumnKinds` mapping."""
    return ColumnKinds(frame)


_KIND_WORD = {"num": "a number", "str": "a string", "bool": "a condition (true/false)"}


def check(
    node: Node,
    kinds: Mapping[str, Kind | None],
    text: str,
    *,
    rule: str | None = None,
    extra_hint: Mapping[str, str] | None = None,
) -> None:
    """Check an AST against the columns of a frame.

    Parameters
    ----------
    node : Node
        Parsed expression.
    kinds : mapping
        Column name -> kind, from :func:`column_kinds`.
    text : str
        Source text (for the caret in messages).
    rule : str, optional
        Rule name for messages.
    extra_hint : mapping, optional
        Extra advice for specific unknown columns (e.g. columns a helper computes).

    Raises
    ------
    RuleSyntaxError
        Unknown column (with close matches), a column of an unsupported dtype,
        or operands of the wrong kind.
    """
    known = sorted(kinds)

    def err(msg: str, n: Node, hint: str | None = None) -> RuleSyntaxError:
        return syntax_error(msg, text, n.pos, n.end, rule=rule, hint=hint)

    def kind(n: Node) -> Kind:
        if isinstance(n, Num):
            return "num"
        if isinstance(n, Str):
            return "str"
        if isinstance(n, Bool):
            return "bool"
        if isinstance(n, Col):
            if n.name not in kinds:
                close = difflib.get_close_matches(n.name, known, n=3, cutoff=0.6)
                hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
                shown = ", ".join(known[:40]) + (", ..." if len(known) > 40 else "")
                hint += f"known columns: {shown}"
                if extra_hint and n.name in extra_hint:
                    hint = extra_hint[n.name] + "\n" + hint
                raise err(f"unknown column {n.name!r}", n, hint)
            k = kinds[n.name]
            if k is None:
                raise err(
                    f"column {n.name!r} has an unsupported dtype for rules",
                    n,
                    "rules compare numbers, strings and booleans; convert the column first",
                )
            return k
        if isinstance(n, Func):
            if kind(n.column) != "num":
                raise err(f"{n.func}() needs a numeric column, {n.column.name!r} is not", n.column)
            return "num"
        if isinstance(n, Arith | Neg):
            for child in _children(n):
                if kind(child) != "num":
                    raise err(f"arithmetic needs numbers, got {_KIND_WORD[kind(child)]}", child)
            return "num"
        if isinstance(n, Cmp):
            lk, rk = kind(n.left), kind(n.right)
            if n.op in ("<", "<=", ">", ">="):
                for child, k in ((n.left, lk), (n.right, rk)):
                    if k != "num":
                        raise err(
                            f"'{n.op}' compares numbers, got {_KIND_WORD[k]}",
                            child,
                            "use == / != / in (...) for strings and booleans",
                        )
            elif lk != rk:
                raise err(
                    f"cannot compare {_KIND_WORD[lk]} with {_KIND_WORD[rk]}",
                    n,
                    "both sides of == / != must be of the same kind",
                )
            return "bool"
        if isinstance(n, Between):
            for child in (n.operand, n.low, n.high):
                if kind(child) != "num":
                    raise err(f"'between' needs numbers, got {_KIND_WORD[kind(child)]}", child)
            return "bool"
        if isinstance(n, In):
            ok = kind(n.operand)
            for v in n.values:
                if not isinstance(v, Num | Str | Bool):
                    raise err("the list after 'in' may only hold literal values", v)
                if kind(v) != ok:
                    raise err(
                        f"list value is {_KIND_WORD[kind(v)]} "
                        f"but the column holds {_KIND_WORD[ok]}",
                        v,
                    )
            return "bool"
        if isinstance(n, IsMissing):
            kind(n.operand)
            return "bool"
        if isinstance(n, And | Or | Not):
            word = {And: "'and'", Or: "'or'", Not: "'not'"}[type(n)]
            for child in _children(n):
                k = kind(child)
                if k != "bool":
                    raise err(
                        f"{word} needs conditions, got {_KIND_WORD[k]}",
                        child,
                        "compare it with something, e.g. `x > 0`",
                    )
            return "bool"
        raise TypeError(f"not an expression node: {n!r}")  # pragma: no cover

    top = kind(node)
    if top != "bool":
        raise err(
            f"a rule must be a condition, got {_KIND_WORD[top]}",
            node,
            "compare it with something, e.g. `r_score >= 4`",
        )

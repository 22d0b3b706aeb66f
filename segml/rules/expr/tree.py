"""Walking and printing the AST: columns and thresholds a rule uses, canonical text."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
from segml.rules.expr.tokens import KEYWORDS


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, Arith | Cmp | And | Or):
        yield node.left
        yield node.right
    elif isinstance(node, Neg | Not | IsMissing):
        yield node.operand
    elif isinstance(node, Between):
        yield from (node.operand, node.low, node.high)
    elif isinstance(node, In):
        yield node.operand
        yield from node.values
    elif isinstance(node, Func):
        yield node.column


def walk(node: Node) -> Iterator[Node]:
    """Yield every node of the tree, depth first, in source order."""
    yield node
    for child in _children(node):
        yield from walk(child)


def columns_of(node: Node) -> list[str]:
    """Column names an expression reads, in order of first appearance."""
    seen: dict[str, None] = {}
    for n in walk(node):
        if isinstance(n, Col):
            seen.setdefault(n.name, None)
    return list(seen)


def thresholds_of(node: Node) -> list[Func]:
    """Return the fit-time threshold calls in an expression."""
    return [n for n in walk(node) if isinstance(n, Func)]


def _fmt_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def _fmt_col(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() not in KEYWORDS:
        return name
    return f"`{name}`"


def unparse(node: Node) -> str:
    """Canonical, fully parenthesised text of an AST (parses back to the same tree)."""
    if isinstance(node, Num):
        return _fmt_num(node.value)
    if isinstance(node, Str):
        return "'" + node.value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(node, Bool):
        return "true" if node.value else "false"
    if isinstance(node, Col):
        return _fmt_col(node.name)
    if isinstance(node, Func):
        if node.func == "median":
            return f"median({_fmt_col(node.column.name)})"
        return f"quantile({_fmt_col(node.column.name)}, {node.q:g})"
    if isinstance(node, Arith | Cmp):
        return f"({unparse(node.left)} {node.op} {unparse(node.right)})"
    if isinstance(node, Neg):
        return f"(-{unparse(node.operand)})"
    if isinstance(node, Between):
        kw = "not between" if node.negated else "between"
        return f"({unparse(node.operand)} {kw} {unparse(node.low)} and {unparse(node.high)})"
    if isinstance(node, In):
        kw = "not in" if node.negated else "in"
        vals = ", ".join(unparse(v) for v in node.values)
        return f"({unparse(node.operand)} {kw} ({vals}))"
    if isinstance(node, IsMissing):
        return f"({unparse(node.operand)} is {'not ' if node.negated else ''}missing)"
    if isinstance(node, And):
        return f"({unparse(node.left)} and {unparse(node.right)})"
    if isinstance(node, Or):
        return f"({unparse(node.left)} or {unparse(node.right)})"
    if isinstance(node, Not):
        return f"(not {unparse(node.operand)})"
    raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover

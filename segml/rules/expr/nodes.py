"""The AST of the rule language: frozen dataclasses with their span in the source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    """Base of the AST; ``pos``/``end`` locate the node in the source text."""

    pos: int
    end: int


@dataclass(frozen=True)
class Num(Node):
    """A number literal."""

    value: float


@dataclass(frozen=True)
class Str(Node):
    """A string literal."""

    value: str


@dataclass(frozen=True)
class Bool(Node):
    """``true`` or ``false``."""

    value: bool


@dataclass(frozen=True)
class Col(Node):
    """A reference to a feature column."""

    name: str


@dataclass(frozen=True)
class Func(Node):
    """A fit-time threshold: ``quantile(col, q)`` or ``median(col)``."""

    func: str
    column: Col
    q: float

    @property
    def key(self) -> str:
        """Canonical text used as the key of ``thresholds_``."""
        if self.func == "median":
            return f"median({self.column.name})"
        return f"quantile({self.column.name}, {self.q:g})"


@dataclass(frozen=True)
class Arith(Node):
    """Arithmetic ``+ - * /`` between two numbers."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    """Unary minus."""

    operand: Node


@dataclass(frozen=True)
class Cmp(Node):
    """A comparison ``left op right``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Between(Node):
    """``operand [not] between low and high`` (inclusive)."""

    operand: Node
    low: Node
    high: Node
    negated: bool


@dataclass(frozen=True)
class In(Node):
    """``operand [not] in (v1, v2, ...)``."""

    operand: Node
    values: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class IsMissing(Node):
    """``operand is [not] missing``."""

    operand: Node
    negated: bool


@dataclass(frozen=True)
class And(Node):
    """Logical and."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Or(Node):
    """Logical or."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Not(Node):
    """Logical not."""

    operand: Node

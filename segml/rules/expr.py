"""A small, safe expression language for rule segments.

Rule conditions are *parsed*, never handed to Python ``eval``/``exec``,
``DataFrame.query`` or ``pd.eval``. The pipeline is

1. :func:`tokenize` — characters to tokens, each with its offset;
2. :func:`parse` — a Pratt (precedence-climbing) parser into a small AST of
   frozen dataclasses;
3. :func:`check` — type-check the AST against the columns of a frame
   (unknown column, string compared with a number, ...);
4. :func:`resolve_thresholds` — compute fit-time thresholds such as
   ``quantile(recency_days, 0.8)`` once, over the training frame;
5. :func:`evaluate` — vectorised evaluation over numpy arrays.

Grammar (lowest to highest precedence)::

    expr       := or
    or         := and ('or' and)*
    and        := not ('and' not)*
    not        := 'not' not | predicate
    predicate  := sum [ ('<'|'<='|'>'|'>='|'=='|'!=') sum
                      | ['not'] 'between' sum 'and' sum
                      | ['not'] 'in' '(' literal (',' literal)* ')'
                      | 'is' ['not'] 'missing' ]
    sum        := product (('+'|'-') product)*
    product    := unary (('*'|'/') unary)*
    unary      := '-' unary | primary
    primary    := NUMBER | STRING | 'true' | 'false' | COLUMN
                | 'quantile' '(' COLUMN ',' NUMBER ')' | 'median' '(' COLUMN ')'
                | '(' expr ')'

Columns are bare identifiers or back-quoted names (`` `Annual Income (k$)` ``);
strings use single or double quotes; keywords are case-insensitive. A boolean
column on its own is a condition (``is_prospect and not showed_interest``).

Missing values follow SQL's three-valued logic: a comparison with a missing
value is *unknown*, ``not unknown`` is unknown, ``false and unknown`` is false,
``true or unknown`` is true, and a row matches a rule only when its condition
is *true*. Test for missing values explicitly with ``is missing``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from segml.errors import ConfigError, RuleSyntaxError

__all__ = [
    "Token",
    "Node",
    "tokenize",
    "parse",
    "check",
    "column_kinds",
    "columns_of",
    "thresholds_of",
    "resolve_thresholds",
    "evaluate",
    "unparse",
]

Kind: TypeAlias = Literal["num", "str", "bool"]

KEYWORDS = frozenset({"and", "or", "not", "between", "in", "is", "missing", "true", "false"})
FUNCTIONS = frozenset({"quantile", "median"})
_COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")

# Operators people type from other languages: what to write instead.
_BAD_OPERATORS = {
    "===": "==",
    "<>": "!=",
    "=>": ">=",
    "=<": "<=",
    "&&": "and",
    "||": "or",
    "=": "==",
    "&": "and",
    "|": "or",
    "!": "not",
    "~": "not",
}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<quoted>`[^`]*`)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<bad>===|<>|=>|=<|&&|\|\||=(?!=)|&|\||!(?!=)|~)
  | (?P<op><=|>=|==|!=|<|>|\(|\)|,|\+|-|\*|/)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One token: its type, its text or value, and its span in the expression."""

    type: str  # "number", "string", "name", "keyword", "op", "eof"
    value: object
    pos: int
    end: int


# --------------------------------------------------------------------------- AST


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


# ---------------------------------------------------------------------- errors


def _one_line(text: str) -> str:
    return re.sub(r"\s", " ", text)


def syntax_error(
    message: str,
    text: str,
    pos: int,
    end: int | None = None,
    *,
    rule: str | None = None,
    hint: str | None = None,
) -> RuleSyntaxError:
    """Build a :class:`~segml.errors.RuleSyntaxError` with a caret under the culprit.

    Parameters
    ----------
    message : str
        What is wrong.
    text : str
        The whole expression.
    pos, end : int
        Span of the offending token (``end`` defaults to ``pos + 1``).
    rule : str, optional
        Name of the rule the expression belongs to.
    hint : str, optional
        What was expected / how to fix it, printed on the last line.

    Returns
    -------
    RuleSyntaxError
        The error (not raised), with ``rule``, ``expression`` and ``position``
        attributes.
    """
    end = pos + 1 if end is None or end <= pos else end
    head = f"rule {rule!r}: {message}" if rule else message
    lines = [head, "    " + _one_line(text), "    " + " " * pos + "^" * (end - pos)]
    if hint:
        lines.append(hint)
    err = RuleSyntaxError("\n".join(lines))
    err.rule = rule  # type: ignore[attr-defined]
    err.expression = text  # type: ignore[attr-defined]
    err.position = pos  # type: ignore[attr-defined]
    return err


# ------------------------------------------------------------------- tokenizer


def tokenize(text: str, *, rule: str | None = None) -> list[Token]:
    """Split an expression into tokens.

    Parameters
    ----------
    text : str
        The expression.
    rule : str, optional
        Rule name, used in error messages.

    Returns
    -------
    list of Token
        Ending with an ``eof`` token.

    Raises
    ------
    RuleSyntaxError
        On an unknown character, an unterminated string or an operator from
        another language (``=``, ``&&``, ``<>``, ...).

    Examples
    --------
    >>> [t.value for t in tokenize("r_score >= 4")]
    ['r_score', '>=', 4.0, None]
    """
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        m = _TOKEN_RE.match(text, i)
        if m is None:
            ch = text[i]
            if ch in "'\"":
                raise syntax_error(
                    "unterminated string", text, i, n, rule=rule, hint=f"close it with {ch}"
                )
            if ch == "`":
                raise syntax_error(
                    "unterminated quoted column name", text, i, n, rule=rule, hint="close it with `"
                )
            raise syntax_error(
                f"unexpected character {ch!r}",
                text,
                i,
                rule=rule,
                hint="expected a column, a number, a quoted string, an operator "
                "(< <= > >= == != + - * /), parentheses or a keyword (and or not between in is)",
            )
        kind = m.lastgroup
        s, e = m.span()
        word = m.group()
        if kind == "ws":
            pass
        elif kind == "number":
            tokens.append(Token("number", float(word), s, e))
        elif kind == "string":
            body = word[1:-1]
            value = re.sub(r"\\(.)", r"\1", body)
            tokens.append(Token("string", value, s, e))
        elif kind == "quoted":
            name = word[1:-1]
            if not name:
                raise syntax_error("empty quoted column name", text, s, e, rule=rule)
            tokens.append(Token("name", name, s, e))
        elif kind == "name":
            low = word.lower()
            if low in KEYWORDS:
                tokens.append(Token("keyword", low, s, e))
            else:
                tokens.append(Token("name", word, s, e))
        elif kind == "op":
            tokens.append(Token("op", word, s, e))
        else:  # bad operator
            raise syntax_error(
                f"unknown operator {word!r}",
                text,
                s,
                e,
                rule=rule,
                hint=f"use {_BAD_OPERATORS[word]!r} instead",
            )
        i = e
    tokens.append(Token("eof", None, n, n + 1))
    return tokens


# ---------------------------------------------------------------------- parser

_BINARY_POWER = {"or": 10, "and": 20, "cmp": 40, "+": 50, "-": 50, "*": 60, "/": 60}
_NOT_POWER = 30
_NEG_POWER = 70


class _Parser:
    def __init__(self, text: str, rule: str | None) -> None:
        self.text = text
        self.rule = rule
        self.tokens = tokenize(text, rule=rule)
        self.i = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def at(self, type_: str, value: object = None) -> bool:
        t = self.tok
        return t.type == type_ and (value is None or t.value == value)

    def error(self, message: str, tok: Token | None = None, hint: str | None = None):
        tok = tok or self.tok
        return syntax_error(message, self.text, tok.pos, tok.end, rule=self.rule, hint=hint)

    def describe(self, tok: Token) -> str:
        if tok.type == "eof":
            return "end of expression"
        if tok.type == "string":
            return f"string {self.text[tok.pos : tok.end]}"
        return f"{self.text[tok.pos : tok.end]!r}"

    def expect(self, type_: str, value: object, what: str) -> Token:
        if not self.at(type_, value):
            raise self.error(f"expected {what}, got {self.describe(self.tok)}")
        return self.advance()

    # entry point
    def parse(self) -> Node:
        if self.at("eof"):
            raise self.error("empty expression", hint="write a condition such as `r_score >= 4`")
        node = self.expression(0)
        if not self.at("eof"):
            t = self.tok
            hint = "join conditions with 'and' / 'or'"
            if t.type == "op" and t.value == ")":
                hint = "this ')' has no matching '('"
            elif t.type == "keyword" and t.value == "not":
                hint = (
                    "'not' goes before a condition, `not (x > 1)`; after a value "
                    "only `not between` / `not in` are allowed"
                )
            raise self.error(f"unexpected {self.describe(t)}", t, hint=hint)
        return node

    def expression(self, min_power: int) -> Node:
        left = self.prefix()
        while True:
            t = self.tok
            if t.type == "keyword" and t.value in ("or", "and"):
                power = _BINARY_POWER[t.value]  # type: ignore[index]
                if power <= min_power:
                    break
                self.advance()
                right = self.expression(power)
                cls = Or if t.value == "or" else And
                left = cls(left.pos, right.end, left, right)
            elif (t.type == "op" and t.value in _COMPARISONS) or (
                t.type == "keyword"
                and (
                    t.value in ("between", "in", "is")
                    or (t.value == "not" and self.tokens[self.i + 1].value in ("between", "in"))
                )
            ):
                power = _BINARY_POWER["cmp"]
                if power <= min_power:
                    break
                if isinstance(left, Cmp | Between | In | IsMissing):
                    raise self.error(
                        f"cannot chain comparisons at {self.describe(t)}",
                        t,
                        hint="write `a < b and b < c` (or `b between a and c`)",
                    )
                left = self.postfix_predicate(left)
            elif t.type == "op" and t.value in ("+", "-", "*", "/"):
                power = _BINARY_POWER[t.value]  # type: ignore[index]
                if power <= min_power:
                    break
                self.advance()
                right = self.expression(power)
                left = Arith(left.pos, right.end, str(t.value), left, right)
            else:
                break
        return left

    def postfix_predicate(self, left: Node) -> Node:
        t = self.advance()
        if t.type == "op":
            right = self.expression(_BINARY_POWER["cmp"])
            return Cmp(left.pos, right.end, str(t.value), left, right)
        negated = False
        if t.value == "not":  # the caller checked that 'between' or 'in' follows
            negated = True
            t = self.advance()
        if t.value == "between":
            low = self.expression(_BINARY_POWER["and"])
            self.expect("keyword", "and", "'and' in `x between low and high`")
            high = self.expression(_BINARY_POWER["cmp"])
            return Between(left.pos, high.end, left, low, high, negated)
        if t.value == "in":
            self.expect("op", "(", "'(' after 'in'")
            values: list[Node] = []
            while True:
                if self.at("op", ")") and not values:
                    raise self.error("empty list after 'in'", hint="list at least one value")
                v = self.expression(_BINARY_POWER["cmp"])
                values.append(v)
                if self.at("op", ","):
                    self.advance()
                    continue
                if self.at("op", ")"):
                    close = self.advance()
                    break
                raise self.error(f"expected ',' or ')' in the list, got {self.describe(self.tok)}")
            return In(left.pos, close.end, left, tuple(values), negated)
        # is [not] missing
        neg = False
        if self.at("keyword", "not"):
            self.advance()
            neg = True
        last = self.expect("keyword", "missing", "'missing' after 'is' (`x is missing`)")
        return IsMissing(left.pos, last.end, left, neg)

    def prefix(self) -> Node:
        t = self.advance()
        if t.type == "number":
            return Num(t.pos, t.end, float(t.value))  # type: ignore[arg-type]
        if t.type == "string":
            return Str(t.pos, t.end, str(t.value))
        if t.type == "keyword":
            if t.value in ("true", "false"):
                return Bool(t.pos, t.end, t.value == "true")
            if t.value == "not":
                operand = self.expression(_NOT_POWER)
                return Not(t.pos, operand.end, operand)
            raise self.error(
                f"unexpected keyword {self.describe(t)}",
                t,
                hint="expected a column, a number, a string, 'not' or '('",
            )
        if t.type == "name":
            if self.at("op", "(") and str(t.value).lower() in FUNCTIONS:
                return self.function(t)
            if self.at("op", "("):
                raise self.error(
                    f"unknown function {t.value!r}",
                    t,
                    hint="known functions: median(col), quantile(col, q)",
                )
            return Col(t.pos, t.end, str(t.value))
        if t.type == "op" and t.value == "(":
            inner = self.expression(0)
            if not self.at("op", ")"):
                raise self.error(
                    f"unbalanced parenthesis: expected ')', got {self.describe(self.tok)}",
                    t,
                    hint="this '(' is never closed",
                )
            close = self.advance()
            return _with_span(inner, t.pos, close.end)
        if t.type == "op" and t.value == "-":
            operand = self.expression(_NEG_POWER)
            if isinstance(operand, Num):
                return Num(t.pos, operand.end, -operand.value)
            return Neg(t.pos, operand.end, operand)
        if t.type == "eof":
            raise self.error(
                "unexpected end of expression",
                t,
                hint="expected a column, a number, a string, 'not' or '('",
            )
        raise self.error(
            f"unexpected {self.describe(t)}",
            t,
            hint="expected a column, a number, a string, 'not' or '('",
        )

    def function(self, name_tok: Token) -> Node:
        func = str(name_tok.value).lower()
        self.advance()  # (
        col_tok = self.tok
        if col_tok.type != "name":
            raise self.error(f"expected a column name in {func}(...)", col_tok)
        self.advance()
        col = Col(col_tok.pos, col_tok.end, str(col_tok.value))
        q = 0.5
        if func == "quantile":
            self.expect("op", ",", "',' and a level in [0, 1]: quantile(col, 0.8)")
            q_tok = self.tok
            if q_tok.type != "number" or not 0.0 <= float(q_tok.value) <= 1.0:  # type: ignore[arg-type]
                raise self.error(
                    "quantile level must be a number between 0 and 1",
                    q_tok,
                    hint="e.g. quantile(recency_days, 0.8)",
                )
            q = float(self.advance().value)  # type: ignore[arg-type]
        close = self.expect("op", ")", f"')' to close {func}(")
        return Func(name_tok.pos, close.end, func, col, q)


def _with_span(node: Node, pos: int, end: int) -> Node:
    """Return ``node`` with its span widened to include the parentheses."""
    fields = {k: getattr(node, k) for k in node.__dataclass_fields__}
    fields["pos"], fields["end"] = pos, end
    return type(node)(**fields)


def parse(text: str, *, rule: str | None = None) -> Node:
    """Parse an expression into an AST.

    Parameters
    ----------
    text : str
        The condition, e.g. ``"r_score >= 4 and abc_class in ('A', 'B')"``.
    rule : str, optional
        Rule name, used in error messages.

    Returns
    -------
    Node
        Root of the AST.

    Raises
    ------
    RuleSyntaxError
        With a caret under the offending token and what was expected.

    Examples
    --------
    >>> unparse(parse("not r_score between 1 and 2 or abc_class == 'A'"))
    "((not (r_score between 1 and 2)) or (abc_class == 'A'))"
    """
    if not isinstance(text, str):
        raise ConfigError(f"rule {rule!r}: a condition must be a string, got {type(text).__name__}")
    return _Parser(text, rule).parse()


# ---------------------------------------------------------------- AST helpers


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


# ---------------------------------------------------------------- type check


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


# ---------------------------------------------------------------- evaluation


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

"""The Pratt (precedence-climbing) parser of the rule language."""

from __future__ import annotations

from segml.errors import ConfigError
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
from segml.rules.expr.tokens import _COMPARISONS, FUNCTIONS, Token, tokenize

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
    >>> from segml.rules.expr.tree import unparse
    >>> unparse(parse("not r_score between 1 and 2 or abc_class == 'A'"))
    "((not (r_score between 1 and 2)) or (abc_class == 'A'))"
    """
    if not isinstance(text, str):
        raise ConfigError(f"rule {rule!r}: a condition must be a string, got {type(text).__name__}")
    return _Parser(text, rule).parse()

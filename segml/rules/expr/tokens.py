"""Tokens of the rule language: keywords, operators and the tokenizer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from segml.rules.expr.messages import syntax_error

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

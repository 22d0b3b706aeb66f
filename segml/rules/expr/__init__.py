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

The package has one module per concept: :mod:`~segml.rules.expr.tokens` (tokenizer),
:mod:`~segml.rules.expr.nodes` (AST), :mod:`~segml.rules.expr.parser`,
:mod:`~segml.rules.expr.messages` (error messages with a caret),
:mod:`~segml.rules.expr.tree` (walking and printing the AST),
:mod:`~segml.rules.expr.typecheck` and :mod:`~segml.rules.expr.evaluate`. Everything is
importable from ``segml.rules.expr`` as before.
"""

from __future__ import annotations

# Besides ``__all__``, the names the single-module ``segml.rules.expr`` had stay importable.
from segml.rules.expr.evaluate import Truth, evaluate, resolve_thresholds  # noqa: F401
from segml.rules.expr.messages import syntax_error  # noqa: F401
from segml.rules.expr.nodes import (  # noqa: F401
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
from segml.rules.expr.parser import parse
from segml.rules.expr.tokens import _COMPARISONS, FUNCTIONS, KEYWORDS, Token, tokenize  # noqa: F401
from segml.rules.expr.tree import columns_of, thresholds_of, unparse, walk  # noqa: F401
from segml.rules.expr.typecheck import ColumnKinds, Kind, check, column_kind, column_kinds  # noqa: F401

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


"""Error messages of the rule language: a caret under the culprit, and what to write."""

from __future__ import annotations

import re

from segml.errors import RuleSyntaxError


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

"""Helpers for the hostile-input corpus (issue #8 / tracker 11).

Every case is a tiny file or frame the test writes itself, run through the CLI and/or the
API.  A CLI user error must exit 2 with exactly one ``segml: error:`` message that names the
column, the problem and a fix, quotes only short values, and shows no traceback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from segml.cli import main

#: A message may quote a few short values, never a whole column.
MAX_MESSAGE_CHARS = 1200


def cli_error(argv: Sequence[str], capsys: pytest.CaptureFixture[str], *,
              match: str) -> str:
    """Run ``segml argv`` expecting a user error; return the message.

    Asserts exit status 2, one ``segml: error:`` line block matching ``match`` (a regex),
    no traceback, a message under :data:`MAX_MESSAGE_CHARS`, and a ``Fix:`` in it.
    """
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2, f"exit {code}; stderr: {err[-2000:]}"
    assert "Traceback" not in err + out
    assert err.count("segml: error:") == 1, err
    message = err.split("segml: error:", 1)[1].strip()
    assert re.search(match, message), f"{match!r} not in {message!r}"
    assert len(message) <= MAX_MESSAGE_CHARS, f"{len(message)} chars: {message[:300]}..."
    assert "Fix:" in message or "fix:" in message, message
    return message


def cli_ok(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """Run ``segml argv`` expecting success; return (stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, f"exit {code}; stderr: {err[-2000:]}"
    assert "Traceback" not in err
    return out, err

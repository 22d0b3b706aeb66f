"""``segml ... | head``: the reader of stdout going away is not an error with a traceback."""

from __future__ import annotations

import subprocess
import sys

# a command whose output is cut: the parser's function raises what print raises on a closed pipe
CUT = """
import sys
import segml.cli.parser as parser
def cut(args):
    raise BrokenPipeError(32, "Broken pipe")
parser._cmd_models = cut
sys.exit(parser.main(["models", "list"]))
"""


def test_a_closed_stdout_exits_1_without_a_traceback():
    r = subprocess.run([sys.executable, "-c", CUT], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr == ""


def test_other_errors_still_raise():
    code = CUT.replace('BrokenPipeError(32, "Broken pipe")', 'RuntimeError("boom")')
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "RuntimeError: boom" in r.stderr and "Traceback" in r.stderr

"""The ``segml`` command line: the same core API as the notebooks, one subcommand per step.

User errors (bad path, bad config key, schema errors, refusing to overwrite) print
one clear message and exit with status 2; ``--debug`` shows the traceback.
"""

from segml.cli.parser import EXIT_USER_ERROR, build_parser, main

__all__ = ["EXIT_USER_ERROR", "build_parser", "main"]

"""``python -m segml.cli``: the same as the ``segml`` command."""

import sys

from segml.cli.parser import main

sys.exit(main())

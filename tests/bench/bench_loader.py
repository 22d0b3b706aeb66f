"""Load a script of ``bench/`` as a module, for the bench tests.

A plain module (not ``conftest.py``) so test files import :func:`load_bench` by name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_bench(name: str) -> ModuleType:
    """Import ``bench/<name>.py`` as module ``name``.

    The module is registered in :data:`sys.modules` before it runs (a dataclass looks its own
    module up there), and ``bench/`` is put on :data:`sys.path` (scripts import their
    siblings, e.g. ``null_reference`` imports ``k_rules``).

    Parameters
    ----------
    name : str
        Script name without ``.py``.

    Returns
    -------
    types.ModuleType
    """
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module

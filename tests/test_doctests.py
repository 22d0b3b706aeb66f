"""Every example in segml's docstrings runs and prints what it says (the Spark engine's need a
Spark session and are left to tests/spark)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import segml

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(segml.__path__, "segml.")
    if not m.name.startswith("segml.spark") and not m.name.endswith("__main__")
)


def test_the_package_has_modules_to_check():
    assert "segml.cluster.dip" in MODULES and "segml.cluster.separation" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"

"""Fixtures of the report tests (the runs themselves are built in ``report_fixtures``)."""

from __future__ import annotations

import pytest
from report_fixtures import build_demo_run

from segml.pipeline import RunResult


@pytest.fixture(scope="session")
def demo_run() -> RunResult:
    """A small real run on the demo portfolio, built once per session."""
    return build_demo_run()

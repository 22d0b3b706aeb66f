"""Fixtures of the backtest tests."""

from __future__ import annotations

import pandas as pd
import pytest
from backtest_data import tiny_transactions


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return tiny_transactions()

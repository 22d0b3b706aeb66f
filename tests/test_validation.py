"""The shared private checks in segml._validation (messages and return values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segml._validation import (
    check_at_least,
    check_choice,
    check_choices,
    check_date,
    check_int,
    check_share,
)
from segml.errors import ConfigError


def test_check_int() -> None:
    assert check_int("n", np.int64(3), 1) == 3
    with pytest.raises(ConfigError, match=r"^n must be an integer, got True\.$"):
        check_int("n", True, 1)
    with pytest.raises(ConfigError, match=r"^n must be an integer, got 2\.0\.$"):
        check_int("n", 2.0, 1)
    with pytest.raises(ConfigError, match=r"^n=0 should be >= 1\.$"):
        check_int("n", 0, 1)


def test_check_at_least_reads_int_of_the_value() -> None:
    check_at_least("k", 2.0, 2)
    with pytest.raises(ConfigError, match=r"^k=2 should be >= 3\.$"):
        check_at_least("k", 2, 3)


def test_check_share() -> None:
    assert check_share("s", 0) == 0.0
    for bad in (1.0, -0.1, True, "0.5"):
        with pytest.raises(ConfigError, match=r"should be a number in \[0, 1\)\.$"):
            check_share("s", bad)


def test_check_date() -> None:
    assert check_date("d", "2021-01-01 13:00") == pd.Timestamp("2021-01-01")
    aware = pd.Timestamp("2021-01-01 23:30", tz="America/New_York")
    assert check_date("d", aware) == pd.Timestamp("2021-01-02")
    for bad in ("not a date", None, pd.NaT):
        with pytest.raises(ConfigError, match=r"is not a date \(use e\.g\. '2021-01-01'\)\.$"):
            check_date("d", bad)


def test_check_choice_and_choices() -> None:
    check_choice("m", "a", ("a", "b"))
    with pytest.raises(ConfigError, match=r"^m='c' is not one of \('a', 'b'\)\.$"):
        check_choice("m", "c", ("a", "b"))
    assert check_choices("m", "a", ("a", "b")) == ("a",)
    assert check_choices("m", ["b", "a"], ("a", "b")) == ("b", "a")
    for bad in ([], ["a", "c"]):
        with pytest.raises(ConfigError, match=r"should be a non-empty subset of \('a', 'b'\)"):
            check_choices("m", bad, ["a", "b"])

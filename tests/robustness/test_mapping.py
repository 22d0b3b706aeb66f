"""A customers file whose id column has another name: the fix is a CLI flag, and it works."""

from __future__ import annotations

import pytest

from segml.errors import SchemaError
from segml.io import read_customers

from .conftest import cli_error, cli_ok


@pytest.fixture
def files(tmp_path):
    (tmp_path / "tx.csv").write_text(
        "customer_id,timestamp,amount\n1,2024-01-05,10.5\n2,2024-01-06,20\n1,2024-02-01,5\n")
    (tmp_path / "cust.csv").write_text("household_id,gender\n1,f\n2,m\n")
    return tmp_path


def test_customer_id_under_another_name_names_customer_map(files, capsys):
    match = (r"customers\.customer_id: required column 'customer_id' is missing.*Fix: rename "
             r"your column to 'customer_id', or map it: --customer-map customer_id=COLUMN on the "
             r"CLI \(config \[data\.customer_mapping\] customer_id = \"COLUMN\"")
    with pytest.raises(SchemaError, match=match):
        read_customers(files / "cust.csv")
    argv = ["validate-data", "--transactions", str(files / "tx.csv"),
            "--customers", str(files / "cust.csv")]
    cli_error(argv, capsys, match=match)
    out, _ = cli_ok([*argv, "--customer-map", "customer_id=household_id"], capsys)
    assert "OK — 2 customers, 3 transactions" in out


def test_customer_map_without_equals_is_refused(files, capsys):
    cli_error(["validate-data", "--customers", str(files / "cust.csv"), "--customer-map",
               "household_id"], capsys,
              match=r"--customer-map 'household_id': expected CANON=COLUMN\. Fix: write it as "
                    r"--customer-map customer_id=cust_no")


@pytest.mark.parametrize(
    ("values", "problem"),
    [(["65+", "45-54", "35-44"], "holds bands or ranges, not numbers"),
     (["Under 15K", "35-49K", "250K+"], "holds bands or ranges, not numbers"),
     (["n/a?", "old", "young"], "has non-numeric values")],
    ids=["age-bands", "income-bands", "words"],
)
def test_text_in_a_numeric_column_can_be_left_out(tmp_path, capsys, values, problem):
    """A column named like a numeric contract column (Complete Journey's `age`) but holding
    bands: the message says so and names --ignore-columns, which then works."""
    (tmp_path / "tx.csv").write_text(
        "customer_id,timestamp,amount\n1,2024-01-05,10.5\n2,2024-01-06,20\n3,2024-02-01,5\n")
    rows = "\n".join(f"{i},{v}" for i, v in enumerate(values, start=1))
    (tmp_path / "cust.csv").write_text(f"customer_id,age\n{rows}\n")
    match = rf"customers\.age: {problem}: 3 offending value\(s\).*--ignore-columns age"
    with pytest.raises(SchemaError, match=match):
        read_customers(tmp_path / "cust.csv")
    argv = ["validate-data", "--transactions", str(tmp_path / "tx.csv"),
            "--customers", str(tmp_path / "cust.csv")]
    cli_error(argv, capsys, match=match)
    out, _ = cli_ok([*argv, "--ignore-columns", "age"], capsys)
    assert "OK — 3 customers, 3 transactions" in out
    frame, report = read_customers(tmp_path / "cust.csv", ignore_columns=["age", "nope"])
    assert "age" not in frame.columns and len(frame) == 3


def test_decimal_comma_in_a_frame_is_not_called_a_band():
    import pandas as pd

    from segml.schema import validate_customers

    with pytest.raises(SchemaError, match=r"customers\.income: has non-numeric values"):
        validate_customers(pd.DataFrame({"customer_id": [1, 2], "income": ["12,50", "3,10"]}))


def test_ignore_columns_must_be_a_list_of_names():
    from segml.config import validate_config
    from segml.errors import ConfigError

    with pytest.raises(ConfigError, match=r"data\.ignore_columns=\[1\] must be a list of column "
                       r"names\. Fix: e\.g\. ignore_columns = \[\"age\"\]"):
        validate_config({"data": {"ignore_columns": [1]}})

"""Hostile values (tracker 11): dates, numbers, ids, duplicates and non-product lines.

Each case is a tiny file written here and run through ``segml validate-data`` (exit 2, one
message with a Fix) and through the API (the same SchemaError), or a repair whose count is
asserted in the data-quality report, or a parsed value asserted exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError, SchemaError
from segml.io import read_customers, read_transactions
from segml.schema import validate_customers, validate_transactions
from tests.robustness.conftest import cli_error, cli_ok

HEADER = "customer_id,timestamp,amount"
CUSTOMERS = "customer_id\n1\n2\n3\n"


def files(tmp_path: Path, rows: list[str], *, header: str = HEADER,
          customers: str = CUSTOMERS) -> tuple[Path, Path]:
    """Write a transactions file (``rows`` under ``header``) and a customers file."""
    t, c = tmp_path / "t.csv", tmp_path / "c.csv"
    t.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    c.write_text(customers, encoding="utf-8")
    return t, c


def argv(t: Path, c: Path, *extra: str) -> list[str]:
    return ["validate-data", "--transactions", str(t), "--customers", str(c),
            "--as-of", "2024-12-31", *extra]


def api(t: Path, c: Path, **kwargs):
    """The pipeline's API path: customers read first, transactions checked against them."""
    customers, _ = read_customers(c)
    return read_transactions(t, customers=customers, **kwargs)


# --------------------------------------------------------------------------- refused inputs

#: id, transaction rows (``customer_id,timestamp,amount`` unless a header is given),
#: CLI flags, the same options as Python kwargs, the message (regex).
REFUSED = [
    ("date-ambiguous-day-month", ["1,05/01/2024,10", "2,01/02/2024,5"], [], {},
     r"timestamp: is ambiguous: every value could be day-first or month-first.*row 0: "
     r"'05/01/2024'.*Fix: pass dayfirst=True or False.*--dayfirst/--monthfirst"),
    ("date-evidence-both-ways", ["1,13/01/2024,10", "2,01/13/2024,5", "3,01/02/2024,1"], [], {},
     r"evidence for both day-first \(row 0: '13/01/2024'\) and month-first \(row 1: "
     r"'01/13/2024'\)"),
    ("date-contradicts-monthfirst", ["1,13/01/2024,10", "2,01/02/2024,5"], ["--monthfirst"],
     {"dayfirst": False},
     r"contradicts dayfirst=False.*row 0: '13/01/2024'.*dayfirst=True"),
    ("date-iso-mixed-with-slashes", ["1,2024-01-05,10", "2,31/01/2024,5"], [], {},
     r"mixes date layouts \(1 ISO dates \(YYYY-MM-DD\), e\.g\. row 0: '2024-01-05'; 1 "
     r"day/month dates"),
    ("date-with-and-without-time", ["1,2024-01-05,10", "2,2024-01-05 10:00,5"], [], {},
     r"mixes date layouts.*ISO date-times.*timestamp_format='ISO8601'.*--date-format "
     r"'ISO8601'"),
    ("date-excel-serial", ["1,45292,10", "2,45293,5"], [], {},
     r"plain numbers where dates are expected: they look like Excel serial day numbers.*"
     r"row 0: '?45292.*timestamp_format='excel'"),
    ("date-epoch-seconds", ["1,1704067200,10", "2,1704153600,5"], [], {},
     r"they look like Unix epoch seconds.*timestamp_format='epoch_s'"),
    ("date-sentinel-9999", ["1,2024-01-05,10", "2,9999-12-31,5"], [], {},
     r"placeholder or out-of-range dates.*row 1: '9999-12-31'.*--date-sentinels exclude"),
    ("date-sentinel-1900", ["1,1900-01-01,10", "2,2024-01-05,5"], [], {},
     r"placeholder or out-of-range dates.*row 0: '1900-01-01'.*date_sentinels='exclude'"),
    ("date-year-0001", ["1,0001-01-01,10", "2,2024-01-05,5"], [], {},
     r"placeholder or out-of-range dates.*row 0: '0001-01-01'"),
    ("date-excel-zero-placeholder", ["1,0,10", "2,45292,5"], ["--date-format", "excel"],
     {"timestamp_format": "excel"}, r"placeholder or out-of-range dates.*row 0: 0\."),
    ("date-two-digit-year", ["1,05/01/24,10", "2,17/01/24,5"], [], {},
     r"cannot be parsed as dates: 2 offending.*row 0: '05/01/24'.*--date-format"),
    ("date-february-31", ["1,31/02/2024,10", "2,15/01/2024,5"], [], {},
     r"cannot be parsed as dates: 1 offending value\(s\) — row 0: '31/02/2024'"),
    ("date-format-typo", ["1,2024-01-05,10"], ["--date-format", "exel"],
     {"timestamp_format": "exel"},
     r"timestamp_format='exel' is neither a strptime format.*excel"),
    ("amount-inf", ["1,2024-01-05,10", "2,2024-01-06,inf"], [], {},
     r"transactions\.amount: has infinite values or magnitudes above 1e\+15.*row 1: inf\."),
    ("amount-minus-inf", ["1,2024-01-05,-inf", "2,2024-01-06,3"], [], {},
     r"transactions\.amount: has infinite values.*row 0: -inf\."),
    ("amount-1e308", ["1,2024-01-05,1e308", "2,2024-01-06,1e308"], [], {},
     r"amount: has infinite values or magnitudes above 1e\+15.*2 offending.*row 0: 1e\+308"),
    ("amount-beyond-1e15", ["1,2024-01-05,2e15", "2,2024-01-06,3"], [], {},
     r"amount: .*magnitudes above 1e\+15.*row 0: 2000000000000000\.0"),
    ("quantity-inf", ["1,2024-01-05,10,inf", "2,2024-01-06,3,1"], [], {},
     r"transactions\.quantity: has infinite values.*row 0: inf\."),
    ("id-missing-tokens", ["NULL,2024-01-05,10", "-,2024-01-06,3", "1,2024-01-06,3"], [], {},
     r"customer_id: has missing customer ids: 2 offending.*row 0: <missing>, row 1: '-'.*"
     r"errors='exclude'.*--errors exclude"),
    ("id-zero-padded-vs-numbers", ["00001,2024-01-05,10", "00002,2024-01-06,3"], [], {},
     r"only 0 of 2 customer ids \(0\.0%\) are in the customers table.*'00001'.*'1'.*"
     r"would match if leading zeros are removed.*--map customer_id=COLUMN"),
    ("id-other-scheme", ["C1,2024-01-05,10", "C2,2024-01-06,3"], [], {},
     r"only 0 of 2 customer ids.*transactions have e\.g\. 'C1', 'C2'; customers have e\.g\. "
     r"'1', '2', '3'"),
    ("product-pattern-not-a-regex", ["1,2024-01-05,10,POST"],
     ["--exclude-product-pattern", "(POST"], {"exclude_product_pattern": "(POST"},
     r"exclude_product_pattern='\(POST' is not a valid regular expression"),
    ("exclude-products-without-product-column", ["1,2024-01-05,10"],
     ["--exclude-products", "POST,DOT"], {"exclude_products": ["POST", "DOT"]},
     r"exclude_products / exclude_product_pattern need a product column.*--map product="),
]
HEADERS = {"quantity-inf": HEADER + ",quantity",
           "product-pattern-not-a-regex": HEADER + ",product"}


@pytest.mark.parametrize(("rows", "flags", "kwargs", "match"),
                         [pytest.param(*case[1:], id=case[0]) for case in REFUSED])
def test_refused_through_cli_and_api(request, tmp_path, capsys, rows, flags, kwargs, match):
    case = request.node.callspec.id
    t, c = files(tmp_path, rows, header=HEADERS.get(case, HEADER))
    cli_error(argv(t, c, *flags), capsys, match=match)
    with pytest.raises(SchemaError, match=match):
        api(t, c, **kwargs)


def test_config_checks_value_options(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[data]\ntransactions = "t.csv"\nexclude_product_pattern = "(POST"\n')
    cli_error(["validate-data", "--config", str(cfg)], capsys,
              match=r"data\.exclude_product_pattern='\(POST' is not a valid regular expression")
    cfg.write_text('[data]\ndayfirst = "yes"\n')
    with pytest.raises(ConfigError, match=r"data\.dayfirst='yes' must be true or false"):
        from segml.config import load_config

        load_config(cfg)


@pytest.mark.parametrize(("column", "values", "match"), [
    pytest.param("signup_date", ["05/01/2020", "01/02/2020", ""],
                 r"customers\.signup_date: is ambiguous.*dayfirst", id="signup-ambiguous"),
    pytest.param("signup_date", ["1900-01-01", "2020-02-01", ""],
                 r"customers\.signup_date: has placeholder.*row 0: '1900-01-01'",
                 id="signup-sentinel-1900"),
    pytest.param("signup_date", ["2020-01-05", "2020-02-01 10:00", ""],
                 r"customers\.signup_date: mixes date layouts.*date_format='ISO8601'.*"
                 r"customer_date_format.*--customer-date-format 'ISO8601'",
                 id="signup-mixed-time"),
    pytest.param("income", ["inf", "10", "20"],
                 r"customers\.income: has infinite values.*row 0: inf\.", id="income-inf"),
])
def test_customers_refused_through_cli_and_api(tmp_path, capsys, column, values, match):
    body = "customer_id," + column + "\n" + "".join(
        f"{i},{v}\n" for i, v in enumerate(values, start=1))
    t, c = files(tmp_path, ["1,2024-01-05,10"], customers=body)
    cli_error(argv(t, c), capsys, match=match)
    with pytest.raises(SchemaError, match=match):
        read_customers(c)


def test_customers_exact_duplicate_rows_refused_with_dedupe_hint_or_dropped(tmp_path, capsys):
    t, c = files(tmp_path, ["1,2024-01-05,10"], customers="customer_id,city\n1,Rome\n1,Rome\n"
                                                            "2,Oslo\n")
    match = r"customers\.customer_id: has duplicate ids.*exact copies: pass dedupe=True.*--dedupe"
    cli_error(argv(t, c), capsys, match=match)
    with pytest.raises(SchemaError, match=match):
        read_customers(c)
    frame, rep = read_customers(c, dedupe=True)
    assert list(frame["customer_id"]) == ["1", "2"]
    assert rep.excluded == {"exact duplicate rows (dedupe)": 1}
    out, _ = cli_ok(argv(t, c, "--dedupe"), capsys)
    assert "exact duplicate rows (dedupe)" in out


@pytest.mark.parametrize(("ids", "match"), [
    pytest.param([2.0**53, 7.0], r"customer_id: has ids that are a float at or above 2\*\*53 "
                 r"\(precision already lost\).*row 0: 9007199254740992\.0", id="float-id-2^53"),
    pytest.param([12345.5, 7.0], r"has ids that are a fractional number.*row 0: 12345\.5",
                 id="float-id-fraction"),
])
def test_float_ids_refused_from_parquet_and_frames(tmp_path, capsys, ids, match):
    t, _ = files(tmp_path, ["1,2024-01-05,10"])
    c = tmp_path / "c.parquet"
    pd.DataFrame({"customer_id": ids}).to_parquet(c)
    cli_error(argv(t, c), capsys, match=match)
    with pytest.raises(SchemaError, match=match):
        validate_transactions(pd.DataFrame({"customer_id": ids, "timestamp": "2024-01-05",
                                            "amount": 1.0}))


@pytest.mark.parametrize(("values", "fmt", "match"), [
    pytest.param([45292, 45293], None,
                 r"holds plain numbers.*Excel serial day numbers.*row 0: 45292",
                 id="int-excel-serials"),
    pytest.param([1704067200000, 1704067200001], None,
                 r"holds plain numbers.*epoch milliseconds.*epoch_ms",
                 id="int-epoch-ms"),
    pytest.param([20240105.5, 20240106.0], "%Y%m%d", r"holds fractional numbers where dates",
                 id="float-yyyymmdd-fraction"),
    pytest.param([True, False], None, r"holds true/false values, not dates", id="bools"),
])
def test_numeric_date_columns_refused(values, fmt, match):
    df = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": values, "amount": [1.0, 2.0]})
    with pytest.raises(SchemaError, match=r"transactions\.timestamp: " + match):
        validate_transactions(df, timestamp_format=fmt)


def test_far_dates_in_datetime_dtype_refused_not_overflowing():
    stamps = pd.Series(np.array(["2024-01-05", "9999-12-31"], dtype="datetime64[s]"))
    df = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": stamps, "amount": [1.0, 2.0]})
    with pytest.raises(SchemaError, match=r"placeholder or out-of-range dates.*row 1"):
        validate_transactions(df)
    frame, rep = validate_transactions(df, date_sentinels="exclude")
    assert frame["timestamp"].tolist() == [pd.Timestamp("2024-01-05")]
    assert rep.excluded == {"timestamp: placeholder date (date_sentinels='exclude')": 1}


# --------------------------------------------------------------------------- parsed values


@pytest.mark.parametrize(("rows", "flags", "kwargs", "expected"), [
    pytest.param(["1,05/01/2024,1", "2,31/01/2024,1"], [], {}, ["2024-01-05", "2024-01-31"],
                 id="day-first-by-evidence"),
    pytest.param(['1,"12/1/2010 8:26",1', '2,"12/13/2010 10:00:05",1'], [], {},
                 ["2010-12-01 08:26", "2010-12-13 10:00:05"], id="month-first-by-evidence"),
    pytest.param(["1,05.01.2024,1", "2,01.02.2024,1"], ["--dayfirst"], {"dayfirst": True},
                 ["2024-01-05", "2024-02-01"], id="dayfirst-option"),
    pytest.param(["1,05/01/2024,1", "2,01/02/2024,1"], ["--monthfirst"], {"dayfirst": False},
                 ["2024-05-01", "2024-01-02"], id="monthfirst-option"),
    pytest.param(["1,45292,1", "2,45293.5,1"], ["--date-format", "excel"],
                 {"timestamp_format": "excel"}, ["2024-01-01", "2024-01-02 12:00"],
                 id="excel-serials-by-option"),
    pytest.param(["1,1704067200,1", "2,1704153601,1"], ["--date-format", "epoch_s"],
                 {"timestamp_format": "epoch_s"}, ["2024-01-01", "2024-01-02 00:00:01"],
                 id="epoch-seconds-by-option"),
    pytest.param(["1,2024-01-05,1", "2,2024-01-06 10:30,1"], ["--date-format", "ISO8601"],
                 {"timestamp_format": "ISO8601"}, ["2024-01-05", "2024-01-06 10:30"],
                 id="iso-with-and-without-time-by-option"),
    pytest.param(["1,20240105,1", "2,20240106,1"], [], {}, ["2024-01-05", "2024-01-06"],
                 id="yyyymmdd-text"),
    pytest.param(["1,2024-01-05 10:00 UTC,1", "2,2024-01-06T23:30:00+01:00,1"], [], {},
                 ["2024-01-05 10:00", "2024-01-06 22:30"], id="utc-suffix-and-offset"),
    pytest.param(['1,"Jan 5, 2024",1', "2,6 February 2024,1"], [], {},
                 ["2024-01-05", "2024-02-06"], id="month-names"),
])
def test_dates_parsed_to_exact_values(tmp_path, capsys, rows, flags, kwargs, expected):
    t, c = files(tmp_path, rows)
    cli_ok(argv(t, c, *flags), capsys)
    frame, _ = api(t, c, **kwargs)
    assert frame["timestamp"].tolist() == [pd.Timestamp(x) for x in expected]
    assert frame["timestamp"].dtype == "datetime64[ns]"


# --------------------------------------------------------------------------- counted repairs


def test_sentinel_timestamps_excluded_and_counted(tmp_path, capsys):
    t, c = files(tmp_path, ["1,2024-01-05,10", "2,9999-12-31,5", "3,1900-01-01,1"])
    out, _ = cli_ok(argv(t, c, "--date-sentinels", "exclude"), capsys)
    assert "timestamp: placeholder date (date_sentinels='exclude')" in out
    frame, rep = api(t, c, date_sentinels="exclude")
    assert frame["amount"].tolist() == [10.0]
    assert rep.excluded == {"timestamp: placeholder date (date_sentinels='exclude')": 2}


def test_sentinel_signup_dates_set_missing_and_counted(tmp_path):
    c = tmp_path / "c.csv"
    c.write_text("customer_id,signup_date\n1,2020-03-01\n2,1900-01-01\n3,2099-12-31\n")
    frame, rep = read_customers(c, date_sentinels="exclude")
    assert frame["signup_date"].tolist()[0] == pd.Timestamp("2020-03-01")
    assert frame["signup_date"].isna().tolist() == [False, True, True]
    assert rep.repaired == {"signup_date: placeholder date set to missing": 2}
    assert rep.n_output_rows == 3


DUPS = ["1,2024-01-05,10", "1,2024-01-05,10", "2,2024-01-06,5", "1,2024-01-05,10",
        "2,2024-01-06,5.0"]  # 5 and 5.0 are the same line once typed, not as text


def test_exact_duplicates_flagged_by_default_and_dropped_with_dedupe(tmp_path, capsys):
    t, c = files(tmp_path, DUPS)
    out, _ = cli_ok(argv(t, c), capsys)
    assert "exact duplicate rows (kept; dedupe drops them)" in out
    frame, rep = api(t, c)
    assert len(frame) == 5
    assert rep.flagged["exact duplicate rows (kept; dedupe drops them)"] == 3
    out, _ = cli_ok(argv(t, c, "--dedupe"), capsys)
    assert "exact duplicate rows (dedupe)" in out
    frame, rep = api(t, c, dedupe=True)
    assert frame["amount"].tolist() == [10.0, 5.0]
    assert rep.excluded == {"exact duplicate rows (dedupe)": 3}


@pytest.mark.parametrize(("flags", "kwargs"), [
    pytest.param(["--exclude-products", "POST,DOT,M,BANK CHARGES"],
                 {"exclude_products": ["POST", "DOT", "M", "BANK CHARGES"]}, id="codes"),
    pytest.param(["--exclude-product-pattern", "^(POST|DOT|M|BANK CHARGES)$"],
                 {"exclude_product_pattern": "^(POST|DOT|M|BANK CHARGES)$"}, id="pattern"),
])
def test_non_product_lines_excluded_and_counted(tmp_path, capsys, flags, kwargs):
    rows = ["1,2024-01-05,10,85123A", "1,2024-01-05,3,POST", "2,2024-01-06,1,DOT",
            "2,2024-01-06,-2,M", "3,2024-01-07,-1,BANK CHARGES", "3,2024-01-07,4,MUG"]
    t, c = files(tmp_path, rows, header=HEADER + ",product")
    out, _ = cli_ok(argv(t, c, *flags), capsys)
    assert "non-product lines" in out
    frame, rep = api(t, c, **kwargs)
    assert frame["product"].tolist() == ["85123A", "MUG"]
    assert rep.excluded == {"non-product lines (exclude_products / exclude_product_pattern)": 4}
    assert "negative amount (return, netted)" not in rep.flagged  # M and BANK CHARGES went first


@pytest.mark.parametrize(("policy", "kept", "counts"), [
    pytest.param("net", 3, {"flagged": {"negative amount (return, netted)": 1,
                                        "status cancelled/void (kept; features ignore them)": 1,
                                        "status returned (kept; netted as returns)": 1}},
                 id="net"),
    pytest.param("drop", 2, {"excluded": {"negative amount (dropped by policy)": 1},
                             "flagged": {"status cancelled/void (kept; features ignore them)": 1,
                                         # customer 3 only had the dropped refund
                                         "customers without transactions (prospects)": 1}},
                 id="drop"),
])
def test_cancelled_and_returned_rows_counted_under_each_policy(tmp_path, policy, kept, counts):
    t, c = files(tmp_path, ["1,2024-01-05,10,ok", "2,2024-01-06,4,void",
                            "3,2024-01-07,-4,refund"], header=HEADER + ",status")
    frame, rep = api(t, c, negative_amounts=policy)
    assert len(frame) == kept
    for kind, expected in counts.items():
        assert getattr(rep, kind) == expected


NA_IDS = ["NA", "NULL", "", "-", "None", "nan", " "]


def test_missing_id_tokens_excluded_and_counted_alike_from_csv_and_frame(tmp_path, capsys):
    rows = [f"{i},2024-01-05,1" for i in NA_IDS] + ["1,2024-01-05,1"]
    t, c = files(tmp_path, rows)
    out, _ = cli_ok(argv(t, c, "--errors", "exclude"), capsys)
    assert "missing customer_id" in out
    from_file, rep_file = api(t, c, errors="exclude")
    frame = pd.DataFrame({"customer_id": [*NA_IDS, "1"], "timestamp": "2024-01-05",
                          "amount": 1.0})
    from_frame, rep_frame = validate_transactions(frame, errors="exclude")
    assert rep_file.excluded == rep_frame.excluded == {"missing customer_id": len(NA_IDS)}
    pd.testing.assert_frame_equal(from_file, from_frame)


def test_ids_in_one_table_only_are_counted(tmp_path, capsys):
    t, c = files(tmp_path, ["1,2024-01-05,1", "1,2024-01-06,1", "2,2024-01-07,1",
                            "9,2024-01-07,1"], customers="customer_id\n1\n2\n3\n4\n")
    out, _ = cli_ok(argv(t, c), capsys)
    assert "customers without transactions (prospects)" in out
    _, rep = api(t, c)
    assert rep.flagged == {
        "rows of customers absent from the customers table (kept)": 1,
        "customers absent from the customers table (kept)": 1,
        "customers without transactions (prospects)": 2,
    }


@pytest.mark.parametrize("customers", [
    pytest.param("customer_id\n12345\n7\n", id="int-text"),
    pytest.param("customer_id\n12345.0\n7.0\n", id="float-text"),
    pytest.param('customer_id\n" 12345 "\n7\n', id="padded-with-spaces"),
])
def test_spreadsheet_ids_reconcile_across_tables(tmp_path, capsys, customers):
    t, c = files(tmp_path, ["12345.0,2024-01-05,1", "12345,2024-01-06,1", "7,2024-01-07,1"],
                 customers=customers)
    cli_ok(argv(t, c), capsys)
    frame, rep = api(t, c)
    assert frame["customer_id"].tolist() == ["12345", "12345", "7"]
    assert rep.flagged == {}


def test_zero_padded_text_ids_are_kept_verbatim():
    frame, _ = validate_customers(pd.DataFrame({"customer_id": ["00042", "42", "042.0"]}))
    assert frame["customer_id"].tolist() == ["00042", "042", "42"]


# --------------------------------------------------------------------------- properties

ID_DTYPES = ["int64", "float64", "str", "object-float-text", "string[pyarrow]", "object-mixed"]


def _ids_as(values: list[int], how: str) -> pd.Series:
    if how == "int64":
        return pd.Series(values, dtype="int64")
    if how == "float64":
        return pd.Series(values, dtype="float64")
    if how == "str":
        return pd.Series([str(v) for v in values], dtype="str")
    if how == "object-float-text":
        return pd.Series([f"{v}.0" for v in values], dtype=object)
    if how == "string[pyarrow]":
        return pd.Series([str(v) for v in values], dtype="string[pyarrow]")
    return pd.Series([v if i % 3 == 0 else float(v) if i % 3 == 1 else f" {v} "
                      for i, v in enumerate(values)], dtype=object)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-(2**53) + 1, 2**53 - 1), min_size=1, max_size=12, unique=True),
       st.sampled_from(ID_DTYPES))
def test_id_reconciliation_is_the_same_whatever_the_dtype(values, how):
    frame, _ = validate_customers(pd.DataFrame({"customer_id": _ids_as(values, how)}))
    assert sorted(frame["customer_id"]) == sorted(str(v) for v in values)
    tx = pd.DataFrame({"customer_id": _ids_as(values, how), "timestamp": "2024-01-05",
                       "amount": 1.0})
    _, rep = validate_transactions(tx, customers=pd.DataFrame({"customer_id": values}))
    assert rep.flagged == {}  # every id found in the customers table


ROW = st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["2024-01-05", "2024-01-06"]),
                st.sampled_from([1.0, 2.0, -1.0]), st.sampled_from(["x", "y"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=25), st.randoms(use_true_random=False))
def test_duplicate_count_matches_pandas_and_ignores_row_order(rows, rnd):
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "product"])
    n_dup = int(df.duplicated().sum())
    shuffled = df.sample(frac=1.0, random_state=rnd.randint(0, 10_000))
    kept, rep_kept = validate_transactions(df)
    assert rep_kept.flagged.get("exact duplicate rows (kept; dedupe drops them)", 0) == n_dup
    assert len(kept) == len(df)
    a, rep_a = validate_transactions(df, dedupe=True)
    b, rep_b = validate_transactions(shuffled, dedupe=True)
    assert rep_a.excluded.get("exact duplicate rows (dedupe)", 0) == n_dup
    assert rep_a.to_dict() == rep_b.to_dict()
    key = ["customer_id", "timestamp", "amount", "product"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True),
                                  b.sort_values(key).reset_index(drop=True))
    assert len(a) == len(df.drop_duplicates())


# --------------------------------------------------------------------------- real data

TA_FENG = {"customer_id": "CUSTOMER_ID", "timestamp": "TRANSACTION_DT", "amount": "SALES_PRICE",
           "quantity": "AMOUNT", "product": "PRODUCT_ID"}


def test_ta_feng_first_days_are_ambiguous_until_the_order_is_given(shared_data):
    # the first 30,000 lines are 11/1/2000 .. 11/5/2000: both parts <= 12, so M/D vs D/M
    # cannot be told from the values (the full file shows it: 11/13/2000 ...)
    path = shared_data / "ta_feng_all_months_merged.csv.gz"
    read = {"dtype": str, "keep_default_na": False, "nrows": 30_000}  # the BOM sets utf-8-sig
    with pytest.raises(SchemaError, match=r"timestamp: is ambiguous.*row 0: '11/1/2000'"):
        read_transactions(path, TA_FENG, sep=",", read_kwargs=read)
    frame, rep = read_transactions(path, TA_FENG, sep=",", read_kwargs=read, dayfirst=False)
    assert frame["timestamp"].min() == pd.Timestamp("2000-11-01")
    assert frame["timestamp"].max() == pd.Timestamp("2000-11-05")
    assert frame["customer_id"].str.len().eq(8).all()  # zero-padded ids kept as text
    assert rep.n_output_rows == 30_000


def test_online_retail_non_product_lines_excluded_through_loader_and_cli(tmp_path, capsys):
    from segml.io import ONLINE_RETAIL_NON_PRODUCTS, load_online_retail

    path = tmp_path / "retail.csv"
    path.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
        "536365,POST,POSTAGE,1,12/1/2010 8:26,18.0,17850.0,United Kingdom\n"
        "536366,BANK CHARGES,Bank Charges,1,12/13/2010 9:00,15.0,13047.0,France\n"
        "536367,22752,SET,3,12/13/2010 10:00,7.65,13047.0,France\n"
    )
    d = load_online_retail(path, exclude_products=ONLINE_RETAIL_NON_PRODUCTS)
    rep = d.reports["transactions"]
    assert rep.excluded == {"non-product lines (exclude_products / exclude_product_pattern)": 2}
    assert d.transactions["product"].tolist() == ["22752", "85123A"]
    assert d.transactions["timestamp"].tolist() == [pd.Timestamp("2010-12-13 10:00"),
                                                    pd.Timestamp("2010-12-01 08:26")]
    assert d.customers.set_index("customer_id")["country"].to_dict() == {
        "13047": "France", "17850": "United Kingdom"}
    out, _ = cli_ok(["validate-data", "--loader", "online_retail", "--path", str(path),
                     "--exclude-product-pattern", "^(POST|BANK CHARGES)$"], capsys)
    assert "non-product lines" in out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dates(min_value=pd.Timestamp("1990-01-01").date(),
                         max_value=pd.Timestamp("2098-12-31").date()), min_size=1, max_size=20),
       st.booleans(), st.randoms(use_true_random=False))
def test_day_month_order_comes_from_evidence_only(dates, day_first, rnd):
    layout = "%d/%m/%Y" if day_first else "%m/%d/%Y"
    df = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(dates))],
                       "timestamp": [d.strftime(layout) for d in dates], "amount": 1.0})
    df = df.sample(frac=1.0, random_state=rnd.randint(0, 10_000))  # order must not matter
    expected = {f"c{i}": pd.Timestamp(d) for i, d in enumerate(dates)}
    if any(d.day > 12 for d in dates):  # some value shows the order
        frame, _ = validate_transactions(df)
        assert frame.set_index("customer_id")["timestamp"].to_dict() == expected
    else:
        with pytest.raises(SchemaError, match=r"timestamp: is ambiguous"):
            validate_transactions(df)
    frame, _ = validate_transactions(df, dayfirst=day_first)
    assert frame.set_index("customer_id")["timestamp"].to_dict() == expected


def test_customer_date_format_flag_reaches_the_customers_table(tmp_path, capsys):
    t, c = files(tmp_path, ["1,2024-01-05,10"],
                 customers="customer_id,signup_date\n1,2020-01-05\n2,2020-02-01 10:00\n")
    cli_ok(argv(t, c, "--customer-date-format", "ISO8601"), capsys)
    frame, _ = read_customers(c, date_format="ISO8601")
    assert frame["signup_date"].tolist() == [pd.Timestamp("2020-01-05"),
                                             pd.Timestamp("2020-02-01 10:00")]


def test_id_mismatch_message_stays_short_with_long_ids(tmp_path, capsys):
    long_ids = [f"{'X' * 300}{i}" for i in range(3)]
    t, c = files(tmp_path, [f"{i},2024-01-05,1" for i in long_ids])
    message = cli_error(argv(t, c), capsys, match=r"only 0 of 3 customer ids.*'XXXXXXXXX")
    assert "X" * 30 not in message


def test_loaders_take_dedupe_or_refuse_options_they_ignore(shared_data, capsys):
    from segml.io import load_cdnow

    sample = shared_data / "CDNOW_sample.txt"
    d = load_cdnow(sample, sample=True, dedupe=True)
    assert d.reports["transactions"].excluded == {"exact duplicate rows (dedupe)": 21}
    assert len(d.transactions) == 6_919 - 21
    out, _ = cli_ok(["validate-data", "--loader", "cdnow_sample", "--path", str(sample),
                     "--dedupe"], capsys)
    assert "exact duplicate rows (dedupe)" in out
    cli_error(["validate-data", "--loader", "mall_customers", "--dedupe"], capsys,
              match=r"data\.dedupe \(--dedupe\) has no effect with loader 'mall_customers'")
    cli_error(["validate-data", "--loader", "cdnow", "--exclude-products", "POST"], capsys,
              match=r"data\.exclude_products .*no effect with loader 'cdnow'.*takes: dedupe")

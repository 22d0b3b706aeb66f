import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import SchemaError, SegmlError
from segml.schema import validate_customers, validate_transactions


def tx(**cols):
    base = {
        "customer_id": ["a", "b", "a"],
        "timestamp": ["2024-01-02", "2024-01-03", "2024-01-01"],
        "amount": [10.0, 5.5, 2.0],
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_happy_path_types_sorting_and_report():
    frame, rep = validate_transactions(tx())
    assert list(frame.columns) == ["customer_id", "timestamp", "amount"]
    assert frame["timestamp"].dtype == "datetime64[ns]"
    assert frame["amount"].dtype == "float64"
    assert pd.api.types.is_string_dtype(frame["customer_id"].dtype)
    assert list(frame["customer_id"]) == ["a", "a", "b"]
    assert list(frame["amount"]) == [2.0, 10.0, 5.5]
    assert rep.n_input_rows == 3 and rep.n_output_rows == 3
    assert rep.excluded == {}


def test_schema_error_is_segml_and_value_error():
    assert issubclass(SchemaError, SegmlError) and issubclass(SchemaError, ValueError)


def test_missing_required_column():
    with pytest.raises(SchemaError, match=r"transactions\.amount: required column 'amount' is "
                       r"missing.*Fix: rename your column to 'amount', or map it: --map "
                       r"amount=COLUMN on the CLI \(config \[data.mapping\] amount = \"COLUMN\"; "
                       r"Python mapping=\{'amount': 'COLUMN'\}\)"):
        validate_transactions(tx().drop(columns="amount"))


def test_mapping_to_absent_column_suggests_close_match():
    df = tx().rename(columns={"amount": "dollar_value"})
    with pytest.raises(SchemaError, match=r"mapping \{'amount': 'dollar_valu'\} names column "
                       r"'dollar_valu', which is not in the table\. Close matches: 'dollar_value'"):
        validate_transactions(df, mapping={"amount": "dollar_valu"})


def test_mapping_with_unknown_canonical_key():
    with pytest.raises(SchemaError, match=r"mapping key 'amout' is not a canonical column\. "
                       r"Did you mean 'amount'"):
        validate_transactions(tx(), mapping={"amout": "amount"})


def test_mapping_renames():
    df = tx().rename(columns={"amount": "dollar_value", "customer_id": "cust"})
    mapping = {"amount": "dollar_value", "customer_id": "cust"}
    frame, rep = validate_transactions(df, mapping=mapping)
    assert frame["amount"].sum() == 17.5
    assert rep.ignored_columns == []


def test_unparseable_timestamps_list_rows_and_values():
    df = tx(timestamp=["2024-01-02", "not a date", "2024-13-45"])
    with pytest.raises(SchemaError, match=r"transactions\.timestamp: has values that cannot be "
                       r"parsed as dates: 2 offending value\(s\) — row 1: 'not a date', "
                       r"row 2: '2024-13-45'\. Fix: .*timestamp_format"):
        validate_transactions(df)


def test_mixed_timezones():
    df = tx(timestamp=["2024-01-02T10:00:00+01:00", "2024-01-03T10:00:00", "2024-01-01T00:00:00Z"])
    with pytest.raises(SchemaError, match=r"timestamp: mixes timezone-aware and naive timestamps "
                       r"\(2 aware, 1 naive; naive e\.g\. row 1: '2024-01-03T10:00:00'\)"):
        validate_transactions(df)


def test_all_aware_converted_to_utc_and_counted():
    df = tx(timestamp=["2024-01-02T10:00:00+01:00", "2024-01-03T23:30:00-02:00",
                       "2024-01-01T00:00:00Z"])
    frame, rep = validate_transactions(df)
    assert frame["timestamp"].dt.tz is None
    assert frame.loc[frame.amount == 10.0, "timestamp"].iloc[0] == pd.Timestamp("2024-01-02 09:00")
    assert frame.loc[frame.amount == 5.5, "timestamp"].iloc[0] == pd.Timestamp("2024-01-04 01:30")
    assert rep.repaired == {"timestamp: tz-aware converted to UTC": 3}


def test_non_numeric_amounts():
    df = tx(amount=["10.0", "$5", "abc"])
    with pytest.raises(SchemaError, match=r"transactions\.amount: has non-numeric values: 2 "
                       r"offending value\(s\) — row 1: '\$5', row 2: 'abc'\. Fix: remove currency"):
        validate_transactions(df)


def test_missing_customer_ids_raise_or_exclude():
    df = tx(customer_id=["a", None, " "])
    with pytest.raises(SchemaError, match=r"customer_id: has missing customer ids: 2 offending "
                       r"value\(s\) — row 1: <missing>, row 2: ' '.*errors='exclude'"):
        validate_transactions(df)
    frame, rep = validate_transactions(df, errors="exclude")
    assert len(frame) == 1
    assert rep.excluded == {"missing customer_id": 2}
    assert rep.n_input_rows - rep.n_output_rows == sum(rep.excluded.values())


def test_empty_table():
    with pytest.raises(SchemaError, match=r"transactions: the table is empty \(0 rows\)"):
        validate_transactions(tx().iloc[:0])
    with pytest.raises(SchemaError, match=r"customers: the table is empty \(0 rows\)"):
        validate_customers(pd.DataFrame({"customer_id": []}))


def test_not_a_dataframe():
    with pytest.raises(SchemaError, match=r"expected a pandas DataFrame, got list"):
        validate_transactions([1, 2])


def test_unknown_customers_kept_and_counted():
    frame, rep = validate_transactions(tx(), customers=pd.DataFrame({"customer_id": ["a", "z"]}))
    assert len(frame) == 3
    assert rep.flagged["rows of customers absent from the customers table (kept)"] == 1
    assert rep.flagged["customers absent from the customers table (kept)"] == 1


def test_negative_amount_policies():
    df = tx(amount=[10.0, -5.5, 2.0])
    frame, rep = validate_transactions(df)
    assert frame["amount"].sum() == pytest.approx(6.5)
    assert rep.flagged == {"negative amount (return, netted)": 1}
    frame, rep = validate_transactions(df, negative_amounts="drop")
    assert frame["amount"].sum() == 12.0
    assert rep.excluded == {"negative amount (dropped by policy)": 1}
    with pytest.raises(SchemaError, match=r"amount: has negative amounts \(returns or refunds\): "
                       r"1 offending value\(s\) — row 1: -5\.5\. Fix: pass negative_amounts='net'"):
        validate_transactions(df, negative_amounts="error")
    with pytest.raises(SchemaError, match=r"negative_amounts='keep' is not valid"):
        validate_transactions(df, negative_amounts="keep")


def test_zero_amounts_kept_or_dropped_and_counted():
    df = tx(amount=[0.0, 5.5, 0.0])
    frame, rep = validate_transactions(df)
    assert len(frame) == 3 and rep.flagged == {"zero amount (kept)": 2}
    frame, rep = validate_transactions(df, zero_amounts="drop")
    assert len(frame) == 1 and rep.excluded == {"zero amount (dropped by policy)": 2}


def test_rows_after_as_of_counted_not_dropped():
    df = tx(timestamp=["2024-01-02 23:59", "2024-01-03 00:00", "2024-01-01 00:00"])
    frame, rep = validate_transactions(df, as_of="2024-01-02")
    assert len(frame) == 3
    assert rep.flagged == {"rows after as_of (kept here; features exclude them)": 1}


def test_caller_frame_not_mutated():
    df = tx(customer_id=[1, 2, 1], amount=["1", "2", "3"])
    before = df.copy()
    validate_transactions(df)
    pd.testing.assert_frame_equal(df, before)


def test_integer_and_float_ids_become_clean_strings():
    frame, _ = validate_transactions(tx(customer_id=[1.0, 2.0, 1.0]))
    assert sorted(frame["customer_id"].unique()) == ["1", "2"]
    frame, _ = validate_transactions(tx(customer_id=["00001", "00002", "00001"]))
    assert sorted(frame["customer_id"].unique()) == ["00001", "00002"]


def test_yyyymmdd_integer_dates_and_optional_columns():
    df = tx(timestamp=[19970101, 19970102, 19970103], status=["ok", "Refund", None],
            quantity=["1", "2", "3"], paid_date=["2024-02-01", None, "2024-02-03"])
    frame, _ = validate_transactions(df)
    assert frame["timestamp"].iloc[0] == pd.Timestamp("1997-01-01")
    assert set(frame["status"]) == {"completed", "returned"}
    assert frame["quantity"].dtype == "float64"
    assert frame["paid_date"].isna().sum() == 1


def test_unknown_status():
    with pytest.raises(SchemaError, match=r"status: has unknown status values: 1 offending "
                       r"value\(s\) — row 2: 'lost in post'"):
        validate_transactions(tx(status=["ok", "ok", "lost in post"]))


def test_customers_duplicates_and_missing():
    df = pd.DataFrame({"customer_id": ["1", "2", "2", "3", None]})
    with pytest.raises(SchemaError, match=r"customers\.customer_id: has missing customer ids"):
        validate_customers(df)
    with pytest.raises(SchemaError, match=r"customers\.customer_id: has duplicate ids \(1 ids "
                       r"repeated\): 2 offending value\(s\) — row 1: '2', row 2: '2'"):
        validate_customers(df, errors="exclude")
    frame, rep = validate_customers(pd.DataFrame({"customer_id": ["2", None, "1"]}),
                                    errors="exclude")
    assert list(frame["customer_id"]) == ["1", "2"]
    assert rep.excluded == {"missing customer_id": 1}


def test_customers_typed_columns_and_ordered_levels():
    df = pd.DataFrame({
        "id": [1, 2, 3],
        "education": ["PhD", "basic", None],
        "interest_tech": ["yes", "no", None],
        "survey_quality": [5, 3, None],
        "signup": ["01-02-2020", "15-03-2021", "31-12-2019"],
        "shoe_size": [40, 41, 42],
    })
    frame, rep = validate_customers(df, mapping={"customer_id": "id", "signup_date": "signup"},
                                    date_format="%d-%m-%Y")
    assert list(frame["education"].fillna("?")) == ["phd", "basic", "?"]
    assert frame["interest_tech"].tolist()[:2] == [True, False]
    assert frame["signup_date"].iloc[1] == pd.Timestamp("2021-03-15")
    assert rep.ignored_columns == ["shoe_size"]
    assert rep.flagged["education: missing values (kept as missing)"] == 1
    with pytest.raises(SchemaError, match=r"customers\.education: has values outside the levels "
                       r"\['basic', 'secondary', 'bachelor', 'master', 'phd'\]: 1 offending "
                       r"value\(s\) — row 0: '2n Cycle'"):
        validate_customers(pd.DataFrame({"customer_id": [1], "education": ["2n Cycle"]}))
    with pytest.raises(SchemaError, match=r"interest_tech: has values that are not yes/no flags"):
        validate_customers(pd.DataFrame({"customer_id": [1], "interest_tech": ["maybe"]}))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]),
                          st.integers(0, 1000), st.floats(-100, 100, allow_nan=False)),
                min_size=1, max_size=30), st.randoms())
def test_row_order_does_not_change_output(rows, rnd):
    df = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    df["timestamp"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(df.pop("day"), unit="D")
    shuffled = df.sample(frac=1.0, random_state=rnd.randint(0, 10_000))
    a, _ = validate_transactions(df)
    b, _ = validate_transactions(shuffled)
    a = a.sort_values(["customer_id", "timestamp", "amount"]).reset_index(drop=True)
    b = b.sort_values(["customer_id", "timestamp", "amount"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert np.isclose(a["amount"].sum(), df["amount"].sum())


def test_docstring_examples_run():
    import doctest

    import segml.schema.customers
    import segml.schema.transactions

    attempted = 0
    for module in (segml.schema.transactions, segml.schema.customers):
        res = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0
        attempted += res.attempted
    assert attempted >= 4

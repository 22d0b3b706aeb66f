"""The grocery loaders: documented counts on the real files, exact mapping on tiny files."""

import gzip

import numpy as np
import pandas as pd
import pytest

from segml.cli import main
from segml.errors import InputFileError
from segml.io import load_complete_journey, load_ta_feng

TA_FENG_HEADER = ('"TRANSACTION_DT","CUSTOMER_ID","AGE_GROUP","PIN_CODE","PRODUCT_SUBCLASS",'
                  '"PRODUCT_ID","AMOUNT","ASSET","SALES_PRICE"')


def _ta_feng(path, rows):
    body = "\r\n".join([TA_FENG_HEADER, *(",".join(f'"{v}"' for v in r) for r in rows)])
    with gzip.open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + body.encode() + b"\r\n")
    return path


TINY = [("11/1/2000", "01104905", "45-49", "115", "110411", "4710199010372", "2", "24", "30"),
        ("11/2/2000", "01104905", "45-49", "115", "100407", "4710043654103", "2", "142", "166"),
        ("12/3/2000", "00000007", "", "Unknown", "110411", "4710199010372", "1", "12", "15"),
        ("2/28/2001", "00418683", ">65", "Others", "120107", "4710857472535", "1", "48", "46")]


@pytest.fixture(scope="module")
def complete_journey(shared_data):
    return load_complete_journey(shared_data / "completejourney_transactions.parquet")


@pytest.fixture(scope="module")
def ta_feng(shared_data):
    return load_ta_feng(shared_data / "ta_feng_all_months_merged.csv.gz")


def test_complete_journey_matches_documented_counts(complete_journey):
    tx, cust = complete_journey.transactions, complete_journey.customers
    assert len(tx) == 1_469_307
    assert tx["customer_id"].nunique() == 2_469
    assert tx["order_id"].nunique() == 155_848
    # DATASETS.md: raw 2017-01-01 11:53:26 UTC -> 06:53 local; 2018-01-01 04:01:20 -> 23:01 local
    assert tx["timestamp"].min() == pd.Timestamp("2017-01-01 06:53:26")
    assert tx["timestamp"].max() == pd.Timestamp("2017-12-31 23:01:20")
    assert len(cust) == 2_469
    assert cust["age"].notna().sum() == 801
    assert cust["marital_status"].notna().sum() == 801 - 137
    # age 45-54 (288 households per DATASETS.md) -> midpoint 49.5
    assert (cust["age"] == 49.5).sum() == 288
    rep = complete_journey.reports["transactions"]
    assert rep.n_output_rows == 1_469_307 and rep.excluded == {}
    assert rep.flagged == {"zero amount (kept)": 11_226}


def test_ta_feng_matches_documented_counts(ta_feng):
    tx, cust = ta_feng.transactions, ta_feng.customers
    assert len(tx) == 817_741
    assert tx["customer_id"].nunique() == 32_266
    assert tx["amount"].sum() == pytest.approx(107_840_076, abs=0.5)
    assert tx["quantity"].sum() == pytest.approx(1_129_939, abs=0.5)
    days = tx["timestamp"].dt.normalize().groupby(tx["customer_id"]).nunique()
    assert days.sum() == 119_578  # baskets = customer-days
    assert (tx["customer_id"].str.startswith("0")).any()  # zero padding survives
    assert cust["age"].isna().sum() == 626
    assert cust["postcode"].isna().sum() == 1_453  # "Unknown" customers
    assert (cust["postcode"] == "115").sum() == 10_803


def test_ta_feng_tiny_file_maps_every_column(tmp_path):
    d = load_ta_feng(_ta_feng(tmp_path / "t.csv.gz", TINY))
    tx = d.transactions.set_index(["customer_id", "timestamp"])
    assert tx.loc[("01104905", pd.Timestamp("2000-11-02")), "amount"] == 166.0
    assert tx.loc[("00418683", pd.Timestamp("2001-02-28")), "category"] == "120107"
    cust = d.customers.set_index("customer_id")
    assert cust.loc["01104905", "age"] == 47.5
    assert cust.loc["00418683", "age"] == 67.5
    assert np.isnan(cust.loc["00000007", "age"])
    assert pd.isna(cust.loc["00000007", "postcode"])
    assert cust.loc["00418683", "postcode"] == "Others"


def test_ta_feng_unknown_band_is_refused(tmp_path, capsys):
    rows = [TINY[0], ("11/1/2000", "2", "99-99", "115", "1", "1", "1", "1", "1")]
    path = _ta_feng(tmp_path / "t.csv.gz", rows)
    with pytest.raises(InputFileError, match=r"'AGE_GROUP'.*\['99-99'\].*Fix:"):
        load_ta_feng(path)
    assert main(["validate-data", "--loader", "ta_feng", "--path", str(path)]) == 2
    err = capsys.readouterr().err
    assert "segml: error:" in err and "99-99" in err and "Traceback" not in err


def test_ta_feng_missing_column_is_refused(tmp_path):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wb") as f:
        f.write(b'"TRANSACTION_DT","CUSTOMER_ID"\r\n"11/1/2000","1"\r\n')
    with pytest.raises(InputFileError, match=r"missing column\(s\) \['AGE_GROUP'.*Fix:"):
        load_ta_feng(path)


def test_complete_journey_tiny_files_convert_utc_to_local_day(tmp_path):
    tx = pd.DataFrame({
        "household_id": [1, 1, 2], "basket_id": [10, 11, 12], "product_id": [5, 6, 5],
        "store_id": [300, 300, 301], "quantity": [1, 2, 1], "sales_value": [2.5, 4.0, 1.0],
        # 03:30 UTC on 2 Jan is still 1 Jan in New York (UTC-5)
        "transaction_timestamp": pd.to_datetime(["2017-01-02 03:30:00", "2017-06-01 12:00:00",
                                                 "2017-03-01 10:00:00"]),
    })
    demo = pd.DataFrame({"household_id": [1], "age": ["65+"], "income": ["250K+"],
                         "household_size": ["5+"], "kids_count": ["3+"],
                         "marital_status": ["Married"]})
    tx.to_parquet(tmp_path / "completejourney_transactions.parquet")
    demo.to_parquet(tmp_path / "completejourney_demographics.parquet")
    d = load_complete_journey(tmp_path / "completejourney_transactions.parquet")
    t = d.transactions
    assert t["timestamp"].tolist() == [pd.Timestamp("2017-01-01 22:30:00"),
                                       pd.Timestamp("2017-06-01 08:00:00"),
                                       pd.Timestamp("2017-03-01 05:00:00")]
    assert t["order_id"].tolist() == ["10", "11", "12"]
    c = d.customers.set_index("customer_id")
    assert c.loc["1", ["age", "income", "household_size", "children"]].tolist() == [
        69.5, 275_000.0, 5.0, 3.0]
    assert c.loc["1", "marital_status"] == "married"
    assert np.isnan(c.loc["2", "age"])


def test_complete_journey_unknown_income_band_is_refused(tmp_path):
    pd.DataFrame({"household_id": [1], "basket_id": [1], "product_id": [1], "store_id": [1],
                  "quantity": [1], "sales_value": [1.0],
                  "transaction_timestamp": pd.to_datetime(["2017-01-02"])}).to_parquet(
        tmp_path / "completejourney_transactions.parquet")
    pd.DataFrame({"household_id": [1], "age": ["25-34"], "income": ["lots"],
                  "household_size": ["1"], "kids_count": ["0"],
                  "marital_status": [None]}).to_parquet(
        tmp_path / "completejourney_demographics.parquet")
    with pytest.raises(InputFileError, match=r"'income'.*\['lots'\].*Fix:"):
        load_complete_journey(tmp_path / "completejourney_transactions.parquet")


def test_complete_journey_missing_column_is_refused(tmp_path):
    pd.DataFrame({"household_id": [1], "basket_id": [1], "product_id": [1], "store_id": [1],
                  "quantity": [1], "transaction_timestamp": pd.to_datetime(["2017-01-02"])}
                 ).to_parquet(tmp_path / "completejourney_transactions.parquet")
    with pytest.raises(InputFileError, match=r"missing column\(s\) \['sales_value'\].*Fix:"):
        load_complete_journey(tmp_path / "completejourney_transactions.parquet")

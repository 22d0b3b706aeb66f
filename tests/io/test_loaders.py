import hashlib

import numpy as np
import pandas as pd
import pytest

from segml.errors import InputFileError, SchemaError
from segml.io import (
    load_cdnow,
    load_mall_customers,
    load_marketing_campaign,
    load_online_retail,
    read_customers,
    read_table,
    read_transactions,
)


def test_cdnow_master_matches_documented_counts(shared_data):
    d = load_cdnow(shared_data / "CDNOW_master.txt")
    tx = d.transactions
    assert len(tx) == 69_659
    assert tx["customer_id"].nunique() == 23_570
    assert round(tx["amount"].sum(), 2) == 2_500_315.63
    assert tx["quantity"].sum() == 167_881
    assert (tx["amount"] == 0).sum() == 80
    # 255 lines repeat an earlier line exactly (same customer, day, CDs, dollars): kept, counted
    assert d.reports["transactions"].flagged == {
        "zero amount (kept)": 80, "exact duplicate rows (kept; dedupe drops them)": 255}
    assert tx["timestamp"].min() == pd.Timestamp("1997-01-01")
    assert tx["timestamp"].max() == pd.Timestamp("1998-06-30")
    assert tx["customer_id"].iloc[0] == "00001"  # zero padding survives
    assert len(d.customers) == 23_570


def test_cdnow_sample_uses_master_ids(shared_data):
    d = load_cdnow(shared_data / "CDNOW_sample.txt", sample=True)
    tx = d.transactions
    assert len(tx) == 6_919
    assert tx["customer_id"].nunique() == 2_357
    assert round(tx["amount"].sum(), 2) == 244_091.94
    master = load_cdnow(shared_data / "CDNOW_master.txt").transactions
    assert set(tx["customer_id"]) <= set(master["customer_id"])


def test_marketing_campaign_counts_junk_and_missing(shared_data):
    d = load_marketing_campaign(shared_data / "marketing_campaign.csv")
    c = d.customers
    assert len(c) == 2_240 and c["customer_id"].is_unique
    rep = d.reports["customers"]
    assert rep.repaired["marital_status: junk value (Alone/Absurd/YOLO) set to missing"] == 7
    assert rep.flagged["income: missing values (kept as missing)"] == 24
    assert rep.flagged["birth_year: implausible (before 1910)"] == 3
    assert c["birth_year"].min() == 1893  # reported, not hidden
    assert set(c["education"].dropna()) == {"basic", "bachelor", "master", "phd"}
    assert c["signup_date"].min() == pd.Timestamp("2012-07-30")
    assert c["signup_date"].max() == pd.Timestamp("2014-06-29")
    resp = pd.read_csv(shared_data / "marketing_campaign.csv", sep="\t")["Response"].mean()
    assert round(resp, 3) == 0.149
    f = d.features
    assert len(f) == 2_240 and f.index.is_monotonic_increasing
    shares = f.filter(like="category_share_").sum(axis=1).dropna()
    assert np.allclose(shares, 1.0)


def test_mall_customers(shared_data):
    d = load_mall_customers(shared_data / "Mall_Customers.csv")
    c = d.customers
    assert len(c) == 200
    assert c["gender"].value_counts().to_dict() == {"female": 112, "male": 88}
    assert c["age"].between(18, 70).all()
    assert c["income"].min() == 15_000 and c["income"].max() == 137_000
    assert d.features["spending_score"].between(1, 99).all()


def online_retail_frame(layout: str) -> pd.DataFrame:
    inv, price, cust = (("InvoiceNo", "UnitPrice", "CustomerID") if layout == "I"
                        else ("Invoice", "Price", "Customer ID"))
    return pd.DataFrame({
        inv: ["536365", "536365", "C536379", "536380", "536381", "536382"],
        "StockCode": ["85123A", "71053", "85123A", "22752", "21730", "ADJUST"],
        "Description": ["HEART", "LANTERN", "HEART", "SET", "GLASS", "adjust"],
        "Quantity": [6, 2, -1, 3, 1, -5],
        "InvoiceDate": ["2010-12-01 08:26", "2010-12-01 08:26", "2010-12-02 09:00",
                        "2010-12-03 10:00", "2010-12-04 11:00", "2010-12-05 12:00"],
        price: [2.55, 3.39, 2.55, 7.65, 4.25, 1.0],
        cust: [17850.0, 17850.0, 17850.0, np.nan, 13047.0, 13047.0],
        "Country": ["United Kingdom", "United Kingdom", "United Kingdom", "France", "France",
                    "Germany"],
    })


@pytest.mark.parametrize("layout", ["I", "II"])
def test_online_retail_loader(layout):
    d = load_online_retail(online_retail_frame(layout))
    tx = d.transactions
    rep = d.reports["transactions"]
    assert rep.excluded == {"missing customer_id": 1}
    assert rep.flagged["cancellation invoices (C...) kept as returns"] == 1
    assert sorted(tx["customer_id"].unique()) == ["13047", "17850"]
    by = tx.groupby("customer_id")["amount"].sum().round(2).to_dict()
    assert by == {"17850": round(6 * 2.55 + 2 * 3.39 - 2.55, 2), "13047": round(4.25 - 5.0, 2)}
    assert (tx["status"] == "returned").sum() == 2
    assert d.customers.set_index("customer_id")["country"].to_dict() == {
        "13047": "Germany", "17850": "United Kingdom"}


def test_online_retail_wrong_layout():
    with pytest.raises(InputFileError, match=r"not an Online Retail layout; none of "
                       r"\['InvoiceNo', 'Invoice'\] found"):
        load_online_retail(pd.DataFrame({"x": [1]}))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".xlsx"])
def test_read_transactions_formats_with_mapping(tmp_path, suffix):
    df = pd.DataFrame({"cust": ["007", "008"], "when": ["2024-01-02", "2024-01-03"],
                       "value": [10.0, 5.5]})
    path = tmp_path / f"tx{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".tsv":
        df.to_csv(path, index=False, sep="\t")
    elif suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_excel(path, index=False)
    frame, rep = read_transactions(path, {"customer_id": "cust", "timestamp": "when",
                                          "amount": "value"})
    assert list(frame["customer_id"]) == ["007", "008"]
    assert frame["amount"].sum() == 15.5 and rep.n_output_rows == 2


def test_read_customers_semicolon(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id;income\n1;100\n2;\n")
    frame, rep = read_customers(path, {"customer_id": "id"})
    assert list(frame["customer_id"]) == ["1", "2"]
    assert rep.flagged == {"income: missing values (kept as missing)": 1}


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(InputFileError, match=r"nope\.csv: file not found\. Fix: check the path"):
        read_table(tmp_path / "nope.csv")
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    with pytest.raises(InputFileError, match=r"unsupported file type '\.json'"):
        read_table(bad)


def test_read_transactions_propagates_schema_errors(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,timestamp,amount\n1,2024-01-01,abc\n")
    with pytest.raises(SchemaError, match=r"amount: has non-numeric values"):
        read_transactions(path)


def test_shared_files_untouched(shared_data):
    h = hashlib.sha256((shared_data / "CDNOW_master.txt").read_bytes()).hexdigest()
    assert h == "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef"

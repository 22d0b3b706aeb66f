"""Loaders for the two grocery datasets: The Complete Journey and Ta-Feng.

Both are real basket data with household attributes given as bands (age, income). The
contract's ``age``, ``income``, ``household_size`` and ``children`` are numbers, so a band is
mapped to its midpoint, and an open band (``65+``, ``250K+``) to its lower edge plus half the
width of the band below it. The mapping is fixed, written here and in each
:class:`~segml.io.dataset.Dataset`'s notes; segml describes segments with these attributes
and, by default, does not cluster on them.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from segml.errors import InputFileError
from segml.io.dataset import Dataset, _path
from segml.schema import validate_customers, validate_transactions

__all__ = ["load_complete_journey", "load_ta_feng"]

#: Band label -> midpoint (open bands: lower edge + half the width of the band below).
CJ_AGE = {"19-24": 21.5, "25-34": 29.5, "35-44": 39.5, "45-54": 49.5, "55-64": 59.5,
          "65+": 69.5}
CJ_INCOME = {"Under 15K": 7_500.0, "15-24K": 20_000.0, "25-34K": 30_000.0,
             "35-49K": 42_500.0, "50-74K": 62_500.0, "75-99K": 87_500.0,
             "100-124K": 112_500.0, "125-149K": 137_500.0, "150-174K": 162_500.0,
             "175-199K": 187_500.0, "200-249K": 225_000.0, "250K+": 275_000.0}
CJ_COUNT = {"1": 1.0, "2": 2.0, "3": 3.0, "4": 4.0, "5+": 5.0, "0": 0.0, "3+": 3.0}
TA_FENG_AGE = {"<25": 22.5, "25-29": 27.5, "30-34": 32.5, "35-39": 37.5, "40-44": 42.5,
               "45-49": 47.5, "50-54": 52.5, "55-59": 57.5, "60-64": 62.5, ">65": 67.5}


def _bands(values: pd.Series, table: dict[str, float], column: str, source: str) -> pd.Series:
    """Map band labels to numbers; missing stays NaN, an unknown label is refused."""
    text = values.astype("str").where(values.notna())
    unknown = sorted(set(text.dropna()) - set(table))
    if unknown:
        raise InputFileError(
            f"{source}: column {column!r} has band labels this loader does not know: "
            f"{unknown[:5]}. Fix: pass the original file from ../shared/data (see DATASETS.md), "
            "or read it with segml.io.read_customers and your own mapping.")
    return text.map(table).astype("float64")


def _require(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{source}: missing column(s) {missing} (columns: {list(frame.columns)[:12]}). "
            "Fix: pass the original file from ../shared/data (see DATASETS.md).")


def load_complete_journey(path: str | os.PathLike[str] | None = None,
                          demographics: str | os.PathLike[str] | None = None) -> Dataset:
    """Load The Complete Journey (84.51°, one-year slice) onto the contracts.

    Decisions (each in the returned notes):

    - ``amount`` is ``sales_value``, what the retailer receives for the line; ``order_id`` is
      the basket, ``product`` the product id, ``channel`` the store id.
    - ``transaction_timestamp`` is stored without a zone but in UTC (DATASETS.md); it is
      converted to the store's local time (America/New_York) and kept zone-free, so a
      basket belongs to the local calendar day it was bought on.
    - Demographics exist for 801 of the 2,469 households; the others are in the customers
      table with the attributes missing. Bands become midpoints (module docstring).

    Parameters
    ----------
    path : path-like, optional
        ``completejourney_transactions.parquet``; defaults to the shared copy.
    demographics : path-like, optional
        ``completejourney_demographics.parquet``; defaults to the file beside ``path`` or the
        shared copy.

    Returns
    -------
    Dataset
    """
    p = _path(path, "completejourney_transactions.parquet")
    d = (p.with_name("completejourney_demographics.parquet") if demographics is None
         and path is not None else _path(demographics, "completejourney_demographics.parquet"))
    cols = ["household_id", "basket_id", "product_id", "store_id", "quantity", "sales_value",
            "transaction_timestamp"]
    import pyarrow.parquet as pq

    _require(pd.DataFrame(columns=pq.read_schema(p).names), cols, str(p))
    raw = pd.read_parquet(p, columns=cols)  # only what is used: 2.6M rows
    local = (pd.to_datetime(raw["transaction_timestamp"]).dt.tz_localize("UTC")
             .dt.tz_convert("America/New_York").dt.tz_localize(None))
    tx_raw = pd.DataFrame({
        "customer_id": raw["household_id"].astype("str"),
        "timestamp": local,  # datetime64 already: no round trip through text
        "amount": raw["sales_value"].astype("float64"),
        "quantity": raw["quantity"].astype("float64"),
        "order_id": raw["basket_id"].astype("str"),
        "product": raw["product_id"].astype("str"),
        "channel": raw["store_id"].astype("str"),
    })
    tx, tx_report = validate_transactions(tx_raw)
    demo = pd.read_parquet(d)
    _require(demo, ["household_id", "age", "income", "household_size", "kids_count",
                    "marital_status"], str(d))
    src = str(d)
    attrs = pd.DataFrame({
        "customer_id": demo["household_id"].astype("str"),
        "age": _bands(demo["age"], CJ_AGE, "age", src),
        "income": _bands(demo["income"], CJ_INCOME, "income", src),
        "household_size": _bands(demo["household_size"], CJ_COUNT, "household_size", src),
        "children": _bands(demo["kids_count"], CJ_COUNT, "kids_count", src),
        "marital_status": demo["marital_status"].str.lower(),
    })
    ids = pd.DataFrame({"customer_id": np.sort(tx["customer_id"].unique())})
    customers, c_report = validate_customers(ids.merge(attrs, on="customer_id", how="left"))
    return Dataset(
        name="complete_journey", transactions=tx, customers=customers,
        reports={"transactions": tx_report, "customers": c_report},
        notes=["amount = sales_value (what the retailer receives)",
               "timestamps converted from UTC to America/New_York local time",
               "demographics for 801 of 2,469 households; bands mapped to midpoints "
               "(65+ -> 69.5, 250K+ -> 275,000, 5+ -> 5, 3+ -> 3)"])


def load_ta_feng(path: str | os.PathLike[str] | None = None) -> Dataset:
    """Load the Ta-Feng grocery lines (Nov 2000 - Feb 2001) onto the contracts.

    The file is read as DATASETS.md prescribes (UTF-8 with BOM, every field quoted, ids kept
    as text so their leading zeros survive). Decisions (each in the returned notes):

    - ``amount`` is ``SALES_PRICE``, the line's revenue (a line total, not a unit price);
      ``quantity`` is ``AMOUNT``; ``product`` the barcode; ``category`` the subclass.
    - There is no basket id: features count purchase days, so a basket is a customer-day.
    - ``age`` is the midpoint of ``AGE_GROUP`` (``<25`` -> 22.5, ``>65`` -> 67.5; empty on
      626 customers, kept missing); ``postcode`` is ``PIN_CODE`` with ``Unknown`` missing
      (``Others`` is kept: it is a real answer, "another area").

    Parameters
    ----------
    path : path-like, optional
        ``ta_feng_all_months_merged.csv.gz``; defaults to the shared copy.

    Returns
    -------
    Dataset
    """
    p = _path(path, "ta_feng_all_months_merged.csv.gz")
    raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    cols = ["TRANSACTION_DT", "CUSTOMER_ID", "AGE_GROUP", "PIN_CODE", "PRODUCT_SUBCLASS",
            "PRODUCT_ID", "AMOUNT", "SALES_PRICE"]
    _require(raw, cols, str(p))
    tx_raw = pd.DataFrame({
        "customer_id": raw["CUSTOMER_ID"],
        "timestamp": raw["TRANSACTION_DT"],
        "amount": raw["SALES_PRICE"],
        "quantity": raw["AMOUNT"],
        "product": raw["PRODUCT_ID"],
        "category": raw["PRODUCT_SUBCLASS"],
    })
    tx, tx_report = validate_transactions(tx_raw, timestamp_format="%m/%d/%Y")
    first = raw.drop_duplicates("CUSTOMER_ID")
    age = first["AGE_GROUP"].where(first["AGE_GROUP"] != "")
    attrs = pd.DataFrame({
        "customer_id": first["CUSTOMER_ID"],
        "age": _bands(age, TA_FENG_AGE, "AGE_GROUP", str(p)),
        "postcode": first["PIN_CODE"].where(first["PIN_CODE"] != "Unknown"),
    })
    customers, c_report = validate_customers(attrs)
    return Dataset(
        name="ta_feng", transactions=tx, customers=customers,
        reports={"transactions": tx_report, "customers": c_report},
        notes=["amount = SALES_PRICE (line revenue); no basket id: frequency counts "
               "purchase days", "age = AGE_GROUP midpoint (<25 -> 22.5, >65 -> 67.5)",
               "PIN_CODE 'Unknown' -> missing postcode"])

"""Loaders that map well-known public datasets onto the contracts.

CDNOW, the Kaggle marketing campaign, the mall customers and the UCI Online Retail data.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from segml._asof import parse_as_of
from segml.errors import InputFileError
from segml.io.dataset import Dataset, _path
from segml.readers import read_table
from segml.schema import (
    TIMESTAMP_FORMAT,
    DataQualityReport,
    parse_dates,
    parse_ids,
    validate_customers,
    validate_transactions,
)


def load_cdnow(path: str | os.PathLike[str] | None = None, *, sample: bool = False,
               dedupe: bool = False) -> Dataset:
    """Load the CDNOW transaction log (Fader & Hardie) onto the contracts.

    ``CDNOW_master.txt`` has a header (``customer_id date number_of_cds
    dollar_value``); ``CDNOW_sample.txt`` has none and two id columns (master
    id, sample id) — the master id is used so both files share ids. There is
    no order id: several rows can share a customer and day, and the features
    layer counts distinct purchase days as frequency. The 80 zero-dollar rows
    of the master file are kept and counted.

    Parameters
    ----------
    path : path-like, optional
        The file; defaults to ``CDNOW_master.txt`` (or ``CDNOW_sample.txt`` when
        ``sample``) in the shared data folder.
    sample : bool, default False
        Read the 1/10 sample's five-column layout.
    dedupe : bool, default False
        Drop lines that repeat an earlier line exactly (the master file has 255; they are
        counted either way).

    Returns
    -------
    Dataset
        Transactions (``customer_id``, ``timestamp``, ``amount``, ``quantity``)
        and a customers table of the ids seen.
    """
    p = _path(path, "CDNOW_sample.txt" if sample else "CDNOW_master.txt")
    if sample:
        names = ["customer_id", "sample_id", "date", "number_of_cds", "dollar_value"]
        raw = pd.read_csv(p, sep=r"\s+", header=None, names=names,
                          dtype={"customer_id": str, "sample_id": str, "date": str})
    else:
        raw = read_table(p, sep=r"\s+", dtype={"customer_id": str, "date": str})
    mapping = {"timestamp": "date", "amount": "dollar_value", "quantity": "number_of_cds"}
    tx, tx_report = validate_transactions(raw, mapping, timestamp_format="%Y%m%d",
                                          dedupe=dedupe)
    customers, c_report = validate_customers(
        pd.DataFrame({"customer_id": np.sort(tx["customer_id"].unique())})
    )
    return Dataset(
        name="cdnow_sample" if sample else "cdnow",
        transactions=tx,
        customers=customers,
        reports={"transactions": tx_report, "customers": c_report},
        notes=["no order id: frequency counts distinct purchase days",
               "customers table holds only the ids (CDNOW ships no attributes)"],
    )


# --------------------------------------------------------------------------- marketing


_EDUCATION = {"Basic": "basic", "2n Cycle": "master", "Graduation": "bachelor",
              "Master": "master", "PhD": "phd"}
_MARITAL = {"Single": "single", "Together": "couple", "Married": "married",
            "Divorced": "divorced", "Widow": "widowed"}
_MARITAL_JUNK = ("Alone", "Absurd", "YOLO")
_MNT = {"MntWines": "wines", "MntFruits": "fruits", "MntMeatProducts": "meat",
        "MntFishProducts": "fish", "MntSweetProducts": "sweets", "MntGoldProds": "gold"}
_NUM = {"NumWebPurchases": "web", "NumCatalogPurchases": "catalog", "NumStorePurchases": "store"}
_CAMPAIGNS = ["AcceptedCmp1", "AcceptedCmp2", "AcceptedCmp3", "AcceptedCmp4",
              "AcceptedCmp5", "Response"]


def load_marketing_campaign(path: str | os.PathLike[str] | None = None) -> Dataset:
    """Load "Customer Personality Analysis" (``marketing_campaign.csv``) onto the contracts.

    The file is tab-separated with ``dd-mm-yyyy`` dates and ships per-customer
    two-year aggregates rather than transactions, so they are returned in
    ``Dataset.features`` under canonical feature names (``recency_days``,
    ``monetary``, ``frequency``, ``avg_order_value``, ``category_share_<x>``,
    ``channel_share_<x>``, ``deals_share``, ``web_visits_month``).

    Mapping decisions, each counted in the customers report:

    - Education: Basic→basic, Graduation→bachelor, Master and "2n Cycle" (a
      second-cycle degree)→master, PhD→phd.
    - Marital status: Together→couple, Widow→widowed; the junk values Alone,
      Absurd and YOLO become missing (``repaired``: junk marital status).
    - Income: the 24 missing incomes stay missing (imputed later, with an
      indicator, by the preprocessor).
    - Birth years: kept as given; implausible years (before 1910) are counted
      under ``flagged`` and turned into missing ages by the age encoder.
    - Campaigns: AcceptedCmp1–5 and Response → ``campaigns_sent`` = 6,
      ``campaigns_responded`` = their sum. ``Complain`` → ``complaints``.
      ``Z_CostContact`` and ``Z_Revenue`` are constants and ignored.

    Parameters
    ----------
    path : path-like, optional
        The file; defaults to the shared copy.

    Returns
    -------
    Dataset
    """
    p = _path(path, "marketing_campaign.csv")
    raw = read_table(p, sep="\t", dtype={"ID": str})
    missing = [c for c in ["ID", "Year_Birth", "Education", "Marital_Status", "Income",
                           "Dt_Customer", "Recency", *_MNT, *_NUM, *_CAMPAIGNS]
               if c not in raw.columns]
    if missing:
        raise InputFileError(
            f"{p}: not the marketing-campaign layout; missing columns {missing}. "
            "Fix: pass the original tab-separated Kaggle file."
        )
    marital = raw["Marital_Status"]
    junk = marital.isin(_MARITAL_JUNK)
    unmapped_edu = raw["Education"].notna() & ~raw["Education"].isin(list(_EDUCATION))
    cust = pd.DataFrame({
        "customer_id": raw["ID"],
        "birth_year": raw["Year_Birth"],
        "education": raw["Education"].map(_EDUCATION),
        "marital_status": marital.map(_MARITAL),
        "income": raw["Income"],
        "children": raw["Kidhome"] + raw["Teenhome"],
        "signup_date": raw["Dt_Customer"],
        "campaigns_sent": float(len(_CAMPAIGNS)),
        "campaigns_responded": raw[_CAMPAIGNS].sum(axis=1),
        "complaints": raw["Complain"],
    })
    customers, c_report = validate_customers(cust, date_format="%d-%m-%Y")
    c_report.add("repaired", "marital_status: junk value (Alone/Absurd/YOLO) set to missing",
                 int(junk.sum()))
    c_report.add("repaired", "education: unknown level set to missing", int(unmapped_edu.sum()))
    c_report.add("flagged", "birth_year: implausible (before 1910)",
                 int((raw["Year_Birth"] < 1910).sum()))

    spend = raw[list(_MNT)].astype("float64")
    purchases = raw[list(_NUM)].astype("float64")
    monetary = spend.sum(axis=1)
    frequency = purchases.sum(axis=1)
    feats = pd.DataFrame({
        "customer_id": raw["ID"].astype("str"),
        "recency_days": raw["Recency"].astype("float64"),
        "frequency": frequency,
        "monetary": monetary,
        "avg_order_value": (monetary / frequency.where(frequency > 0)),
        "is_prospect": frequency.eq(0),
        "deals_share": raw["NumDealsPurchases"] / frequency.where(frequency > 0),
        "web_visits_month": raw["NumWebVisitsMonth"].astype("float64"),
    })
    for col, name in _MNT.items():
        feats[f"category_share_{name}"] = spend[col] / monetary.where(monetary > 0)
    for col, name in _NUM.items():
        feats[f"channel_share_{name}"] = purchases[col] / frequency.where(frequency > 0)
    feats = feats.set_index("customer_id").sort_index()
    return Dataset(
        name="marketing_campaign",
        transactions=None,
        customers=customers,
        reports={"customers": c_report},
        features=feats,
        notes=[
            f"{int(junk.sum())} junk marital statuses (Alone/Absurd/YOLO) set to missing",
            f"{int(raw['Income'].isna().sum())} missing incomes kept missing",
            f"{int((raw['Year_Birth'] < 1910).sum())} implausible birth years (before 1910)",
            "spend and purchase counts are the file's 2-year aggregates (no transactions)",
        ],
    )


# --------------------------------------------------------------------------- mall


#: Mall's default feature spec (``FeatureSpec.to_dict`` data): the 1-100 spending score
#: (value) and the annual income (demographic, given weight 1 on purpose) drive the segments,
#: both standardised and with equal budgets, which is the textbook income x score k-means;
#: age and gender are left to describe the segments in the profiles.
MALL_FEATURE_SPEC: dict[str, Any] = {
    "families": {
        "value": {"weight": 1.0, "columns": {"spending_score": "standard"}},
        "demographic": {"weight": 1.0, "columns": {"income": "standard"}},
    },
}


def load_mall_customers(path: str | os.PathLike[str] | None = None) -> Dataset:
    """Load "Mall Customer Segmentation Data" onto the customers contract.

    A small teaching set (probably fabricated, see DATASETS.md): ``Genre`` is
    the gender, income is given in thousands of dollars and converted to
    dollars, and the 1–100 spending score is returned in ``Dataset.features``
    as ``spending_score``. ``Dataset.feature_spec`` is :data:`MALL_FEATURE_SPEC` (income x
    spending score drive, age and gender describe).

    Parameters
    ----------
    path : path-like, optional
        The file; defaults to the shared copy.

    Returns
    -------
    Dataset
    """
    p = _path(path, "Mall_Customers.csv")
    raw = read_table(p, sep=",", dtype={"CustomerID": str})
    cust = pd.DataFrame({
        "customer_id": raw["CustomerID"],
        "gender": raw["Genre"].str.lower(),
        "age": raw["Age"],
        "income": raw["Annual Income (k$)"] * 1000.0,
    })
    customers, c_report = validate_customers(cust)
    feats = pd.DataFrame({
        "customer_id": raw["CustomerID"].astype("str"),
        "spending_score": raw["Spending Score (1-100)"].astype("float64"),
    }).set_index("customer_id").sort_index()
    return Dataset(name="mall_customers", transactions=None, customers=customers,
                   reports={"customers": c_report}, features=feats,
                   notes=["income converted from k$ to $", "Genre mapped to gender",
                          "segmented on income x spending score (both standardised, equal "
                          "weight: the textbook Mall segmentation); age and gender describe "
                          "the segments"],
                   feature_spec=MALL_FEATURE_SPEC)


# --------------------------------------------------------------------------- online retail


_ONLINE_RETAIL_COLUMNS = {
    "invoice": ("InvoiceNo", "Invoice"),
    "stock_code": ("StockCode",),
    "quantity": ("Quantity",),
    "date": ("InvoiceDate",),
    "price": ("UnitPrice", "Price"),
    "customer": ("CustomerID", "Customer ID"),
    "country": ("Country",),
}


#: Online Retail stock codes that are not products: postage (POST, DOT), carriage (C2),
#: manual entries (M, m), bank charges, Amazon fees, CRUK commission, discounts (D), samples
#: (S), bad-debt adjustments (B), PADS. Pass as ``exclude_products`` to leave them out.
ONLINE_RETAIL_NON_PRODUCTS = ("POST", "DOT", "C2", "M", "m", "BANK CHARGES", "AMAZONFEE",
                              "CRUK", "D", "S", "B", "PADS")


def load_online_retail(path_or_frame: str | os.PathLike[str] | pd.DataFrame,
                       *, date_format: str | None = None, dayfirst: bool | None = None,
                       dedupe: bool = False,
                       exclude_products: list[str] | tuple[str, ...] | None = None,
                       exclude_product_pattern: str | None = None,
                       sheet: str | int | None = None, as_of: Any = None) -> Dataset:
    """Load UCI Online Retail / Online Retail II onto the contracts.

    Both layouts are recognised (``InvoiceNo``/``Invoice``, ``UnitPrice``/
    ``Price``, ``CustomerID``/``Customer ID``). Decisions, each counted:

    - ``amount = Quantity × UnitPrice``; ``order_id`` = the invoice number;
      ``product`` = ``StockCode``.
    - Invoices starting with ``C`` are cancellations of earlier sales: kept as
      ``status="returned"`` with their negative amount, so revenue is net.
    - Rows without a customer id (about a quarter in the public file) are
      excluded and counted (they cannot be attributed to anyone).
    - Negative-quantity rows that are not ``C`` invoices (stock adjustments)
      are also treated as returns; zero-price rows are kept and counted.
    - Each customer's country is the country of their most recent invoice *on or before*
      ``as_of`` (a customer who moved later keeps the old country as of that date); without
      ``as_of``, of their most recent invoice in the whole file (pass ``as_of`` whenever
      features are built at an earlier date, or the country leaks from the future).
    - Non-product lines (postage, fees, manual adjustments) are kept unless
      ``exclude_products`` (e.g. :data:`ONLINE_RETAIL_NON_PRODUCTS`) or
      ``exclude_product_pattern`` name them; excluded lines are counted.

    Parameters
    ----------
    path_or_frame : path-like or DataFrame
        The Excel/CSV/Parquet export, or an already-read frame.
    date_format : str, optional
        Format of ``InvoiceDate`` when it is text (e.g. ``"%m/%d/%Y %H:%M"``).
    dayfirst : bool, optional
        Day/month order of text dates whose values do not show it.
    dedupe : bool, default False
        Drop exact duplicate lines (counted either way).
    exclude_products, exclude_product_pattern : optional
        Stock codes (or a regex) of lines that are not sales, excluded and counted.
    sheet : str or int, optional
        Sheet of an Excel export; required when it has several (Online Retail II
        ships one sheet per year).
    as_of : date-like, optional
        Derive the country from invoices on or before this day only (ISO ``YYYY-MM-DD``,
        see :func:`segml._asof.parse_as_of`). ``segml run`` passes ``features.as_of``.

    Returns
    -------
    Dataset
    """
    cut = None if as_of is None else parse_as_of(as_of).normalize() + pd.Timedelta(days=1)
    if isinstance(path_or_frame, pd.DataFrame):
        raw = path_or_frame
        source = "frame"
    else:
        raw = read_table(path_or_frame, dtype={"CustomerID": str, "Customer ID": str,
                                               "InvoiceNo": str, "Invoice": str,
                                               "StockCode": str}, sheet=sheet)
        source = str(path_or_frame)
    cols: dict[str, str] = {}
    for key, options in _ONLINE_RETAIL_COLUMNS.items():
        found = next((c for c in options if c in raw.columns), None)
        if found is None:
            raise InputFileError(
                f"{source}: not an Online Retail layout; none of {list(options)} found "
                f"(columns: {list(raw.columns)}). Fix: pass the UCI Online Retail (II) export."
            )
        cols[key] = found
    invoice = raw[cols["invoice"]].astype("str").str.strip()
    quantity = pd.to_numeric(raw[cols["quantity"]], errors="coerce")
    price = pd.to_numeric(raw[cols["price"]], errors="coerce")
    cancelled = invoice.str.upper().str.startswith("C")
    returned = cancelled | (quantity < 0)
    tx_raw = pd.DataFrame({
        "customer_id": raw[cols["customer"]],
        "timestamp": raw[cols["date"]],
        "amount": quantity * price,
        "order_id": invoice,
        "product": raw[cols["stock_code"]],
        "quantity": quantity,
        "status": np.where(returned, "returned", "completed"),
    })
    tx, tx_report = validate_transactions(
        tx_raw, errors="exclude", timestamp_format=date_format, dayfirst=dayfirst, dedupe=dedupe,
        exclude_products=list(exclude_products) if exclude_products else None,
        exclude_product_pattern=exclude_product_pattern)
    tx_report.add("flagged", "cancellation invoices (C...) kept as returns", int(cancelled.sum()))
    cust_country = (
        pd.DataFrame({"customer_id": tx["customer_id"]})
        .drop_duplicates()
        .merge(_last_country(tx_raw, raw[cols["country"]], date_format, dayfirst, cut),
               on="customer_id", how="left")
    )
    customers, c_report = validate_customers(cust_country)
    return Dataset(name="online_retail", transactions=tx, customers=customers,
                   reports={"transactions": tx_report, "customers": c_report},
                   notes=["C invoices kept as returns (negative amounts, netted)",
                          "rows without customer id excluded and counted"])


def _last_country(tx_raw: pd.DataFrame, country: pd.Series, date_format: str | None,
                  dayfirst: bool | None, cut: pd.Timestamp | None = None) -> pd.DataFrame:
    """Country of each customer's most recent invoice before ``cut`` (all when None).

    Ids and dates are read like the contract.
    """
    ids, missing = parse_ids(tx_raw["customer_id"], "transactions", "customer_id")
    ts = parse_dates(tx_raw["timestamp"], "transactions", "timestamp", date_format,
                      DataQualityReport("transactions", len(tx_raw)), dayfirst=dayfirst,
                      sentinels="exclude", opt=TIMESTAMP_FORMAT).values
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    frame = pd.DataFrame({"customer_id": ids, "timestamp": ts, "country": country.astype("str")})
    keep = ~missing & ts.notna().to_numpy()
    if cut is not None:
        keep &= (ts < cut).to_numpy()
    frame = frame[keep]
    frame = frame.sort_values(["customer_id", "timestamp"], kind="stable")
    return frame.groupby("customer_id", sort=True).tail(1)[["customer_id", "country"]]

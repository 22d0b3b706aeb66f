"""Readers for user files and loaders that map well-known public datasets onto the contracts.

``read_transactions`` / ``read_customers`` read CSV/TSV/TXT, Parquet and Excel
files, rename columns through a ``mapping`` and validate them (see
:mod:`segml.schema`). The named loaders (:func:`load_cdnow`,
:func:`load_marketing_campaign`, :func:`load_mall_customers`,
:func:`load_online_retail`) return a :class:`Dataset` with canonical frames,
their data-quality reports, and — for tables that only ship per-customer
aggregates — a ``features`` frame in canonical feature names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import InputFileError
from segml.schema import (
    TIMESTAMP_FORMAT,
    DataQualityReport,
    Validated,
    _to_datetime,
    _to_id,
    validate_customers,
    validate_transactions,
)

__all__ = [
    "Dataset",
    "read_table",
    "read_transactions",
    "read_customers",
    "shared_data_path",
    "load_cdnow",
    "load_marketing_campaign",
    "load_mall_customers",
    "load_online_retail",
    "ONLINE_RETAIL_NON_PRODUCTS",
]


@dataclass
class Dataset:
    """Canonical tables of one data source.

    Attributes
    ----------
    name : str
        Source name.
    transactions : DataFrame or None
        Canonical transactions (``None`` for customer-only tables).
    customers : DataFrame
        Canonical customers.
    reports : dict of str to DataQualityReport
        One report per validated table (``"transactions"``, ``"customers"``).
    features : DataFrame or None
        Per-customer aggregates the source ships instead of transactions, in
        canonical feature names, indexed by ``customer_id``.
    notes : list of str
        What the loader mapped or repaired, in words.
    """

    name: str
    transactions: pd.DataFrame | None
    customers: pd.DataFrame
    reports: dict[str, DataQualityReport] = field(default_factory=dict)
    features: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def shared_data_path(filename: str | None = None) -> Path:
    """Locate the shared public datasets folder (``../shared/data``).

    Looks at ``$SEGML_SHARED_DATA``, then ``../shared/data`` from the working
    directory, then beside the repository that holds this package.

    Parameters
    ----------
    filename : str, optional
        A file inside the folder.

    Returns
    -------
    pathlib.Path
        The folder, or the file inside it.

    Raises
    ------
    InputFileError
        When no candidate folder exists.
    """
    candidates = []
    if os.environ.get("SEGML_SHARED_DATA"):
        candidates.append(Path(os.environ["SEGML_SHARED_DATA"]))
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    for folder in candidates:
        if folder.is_dir():
            return folder / filename if filename else folder
    raise InputFileError(
        f"shared datasets folder not found (looked in {', '.join(map(str, candidates))}). "
        "Fix: set SEGML_SHARED_DATA or pass the file path explicitly."
    )


def _sniff_sep(path: Path) -> str | None:
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = fh.readline()
    counts = {sep: head.count(sep) for sep in ("\t", ",", ";", "|")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] > 0 else None


def read_table(path: str | os.PathLike[str], *, sep: str | None = None,
               **kwargs: Any) -> pd.DataFrame:
    r"""Read a CSV/TSV/TXT, Parquet or Excel file into a DataFrame.

    The separator of text files is sniffed from the header line (tab, comma,
    semicolon, pipe; whitespace when none of them appears). Id-like columns are
    not converted: everything is read as the file has it and typed by the
    validators.

    Parameters
    ----------
    path : path-like
        The file.
    sep : str, optional
        Separator for text files; ``r"\s+"`` for whitespace-aligned files.
    **kwargs
        Passed to the pandas reader.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputFileError
        Missing file, unsupported extension, or a reader failure (with its cause).
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: file not found. Fix: check the path (cwd is {Path.cwd()}).")
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            kwargs.pop("dtype", None)  # parquet files carry their own types
            return pd.read_parquet(p, **kwargs)
        if suffix in (".xlsx", ".xlsm", ".xls"):
            return pd.read_excel(p, **kwargs)
        if suffix in (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".dat"):
            if sep is None:
                sep = "\t" if suffix.startswith(".tsv") else _sniff_sep(p) or r"\s+"
            return pd.read_csv(p, sep=sep, **kwargs)
    except (ValueError, OSError, ImportError) as exc:
        raise InputFileError(f"{p}: could not be read ({exc}). Fix: check the file format.") \
            from exc
    raise InputFileError(
        f"{p}: unsupported file type {suffix!r}. "
        "Fix: use .csv/.tsv/.txt, .parquet or .xlsx, or read it with pandas and call "
        "segml.schema.validate_* directly."
    )


def read_transactions(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None,
                      *, sep: str | None = None, read_kwargs: Mapping[str, Any] | None = None,
                      **validate_kwargs: Any) -> Validated:
    """Read and validate a transactions file.

    Parameters
    ----------
    path : path-like
        CSV/TSV/TXT, Parquet or Excel file.
    mapping : dict, optional
        Canonical name -> the file's column.
    sep : str, optional
        Separator for text files (sniffed when omitted).
    read_kwargs : dict, optional
        Extra arguments for the pandas reader.
    **validate_kwargs
        Passed to :func:`segml.schema.validate_transactions`.

    Returns
    -------
    Validated
        ``(frame, report)``.
    """
    raw = read_table(path, sep=sep, **_id_as_text(mapping, "customer_id", read_kwargs))
    return validate_transactions(raw, mapping, **validate_kwargs)


def read_customers(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None,
                   *, sep: str | None = None, read_kwargs: Mapping[str, Any] | None = None,
                   **validate_kwargs: Any) -> Validated:
    """Read and validate a customers file (see :func:`read_transactions`)."""
    raw = read_table(path, sep=sep, **_id_as_text(mapping, "customer_id", read_kwargs))
    return validate_customers(raw, mapping, **validate_kwargs)


def _id_as_text(mapping: Mapping[str, str] | None, canon: str,
                read_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keep id columns as text so zero-padded ids survive (``00001`` stays ``00001``)."""
    kwargs = dict(read_kwargs or {})
    col = (mapping or {}).get(canon, canon)
    kwargs.setdefault("dtype", {col: str})
    return kwargs


def _path(path: str | os.PathLike[str] | None, filename: str) -> Path:
    return Path(path) if path is not None else shared_data_path(filename)


# --------------------------------------------------------------------------- CDNOW


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


def load_mall_customers(path: str | os.PathLike[str] | None = None) -> Dataset:
    """Load "Mall Customer Segmentation Data" onto the customers contract.

    A small teaching set (probably fabricated, see DATASETS.md): ``Genre`` is
    the gender, income is given in thousands of dollars and converted to
    dollars, and the 1–100 spending score is returned in ``Dataset.features``
    as ``spending_score``.

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
                   notes=["income converted from k$ to $", "Genre mapped to gender"])


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
                       exclude_product_pattern: str | None = None) -> Dataset:
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
    - Each customer's country is the country of their most recent invoice.
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

    Returns
    -------
    Dataset
    """
    if isinstance(path_or_frame, pd.DataFrame):
        raw = path_or_frame
        source = "frame"
    else:
        raw = read_table(path_or_frame, dtype={"CustomerID": str, "Customer ID": str,
                                               "InvoiceNo": str, "Invoice": str,
                                               "StockCode": str})
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
        .merge(_last_country(tx_raw, raw[cols["country"]], date_format, dayfirst),
               on="customer_id", how="left")
    )
    customers, c_report = validate_customers(cust_country)
    return Dataset(name="online_retail", transactions=tx, customers=customers,
                   reports={"transactions": tx_report, "customers": c_report},
                   notes=["C invoices kept as returns (negative amounts, netted)",
                          "rows without customer id excluded and counted"])


def _last_country(tx_raw: pd.DataFrame, country: pd.Series, date_format: str | None,
                  dayfirst: bool | None) -> pd.DataFrame:
    """Country of each customer's most recent invoice, ids and dates read like the contract."""
    ids, missing = _to_id(tx_raw["customer_id"], "transactions", "customer_id")
    ts = _to_datetime(tx_raw["timestamp"], "transactions", "timestamp", date_format,
                      DataQualityReport("transactions", len(tx_raw)), dayfirst=dayfirst,
                      sentinels="exclude", opt=TIMESTAMP_FORMAT).values
    frame = pd.DataFrame({"customer_id": ids, "timestamp": ts, "country": country.astype("str")})
    frame = frame[~missing & ts.notna().to_numpy()]
    frame = frame.sort_values(["customer_id", "timestamp"], kind="stable")
    return frame.groupby("customer_id", sort=True).tail(1)[["customer_id", "country"]]

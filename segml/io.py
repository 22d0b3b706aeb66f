"""Readers for user files and loaders that map well-known public datasets onto the contracts.

``read_transactions`` / ``read_customers`` read CSV/TSV/TXT (plain or
compressed), Parquet and Excel files as they are or refuse them with the fix
(see :mod:`segml.readers`), rename columns through a ``mapping`` and validate
them (see :mod:`segml.schema`). The named loaders (:func:`load_cdnow`,
:func:`load_marketing_campaign`, :func:`load_mall_customers`,
:func:`load_online_retail`) return a :class:`Dataset` with canonical frames,
their data-quality reports, and — for tables that only ship per-customer
aggregates — a ``features`` frame in canonical feature names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segml._asof import parse_as_of
from segml.errors import InputFileError, SchemaError
from segml.readers import clip, fix_option, number_text, read_table
from segml.schema import (
    CUSTOMER_COLUMNS,
    PREFIX_KINDS,
    TIMESTAMP_FORMAT,
    TRANSACTION_COLUMNS,
    DataQualityReport,
    Validated,
    parse_dates,
    parse_ids,
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


def read_transactions(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None,
                      *, sep: str | None = None, encoding: str | None = None,
                      decimal: str | None = None, thousands: str | None = None,
                      sheet: str | int | None = None, read_kwargs: Mapping[str, Any] | None = None,
                      ignore_columns: Sequence[str] = (), **validate_kwargs: Any) -> Validated:
    """Read and validate a transactions file.

    Parameters
    ----------
    path : path-like
        CSV/TSV/TXT (plain or compressed), Parquet or Excel file.
    mapping : dict, optional
        Canonical name -> the file's column.
    sep, encoding, decimal, thousands, sheet : str, optional
        How to read the file (see :func:`segml.readers.read_table`): separator
        (sniffed when omitted), text encoding (byte-order mark or strict UTF-8
        when omitted), decimal and thousands marks, Excel sheet.
    read_kwargs : dict, optional
        Extra arguments for the pandas reader.
    ignore_columns : sequence of str, optional
        File columns to leave out before validation (e.g. an ``age`` column holding bands
        such as ``"45-54"`` where the contract wants a number); those the file lacks are
        skipped, since one list serves both files of a run.
    **validate_kwargs
        Passed to :func:`segml.schema.validate_transactions`.

    Returns
    -------
    Validated
        ``(frame, report)``.

    Raises
    ------
    InputFileError
        The file cannot be read as it is (see :func:`segml.readers.read_table`).
    SchemaError
        A numeric column written with another decimal or thousands mark than the
        options say, or any contract violation.
    """
    raw = read_table(path, sep=sep, encoding=encoding, decimal=decimal, thousands=thousands,
                     sheet=sheet, **_text_as_text(mapping, TRANSACTION_COLUMNS, read_kwargs))
    raw = drop_ignored(raw, ignore_columns, "transactions")
    _check_number_marks(raw, mapping, TRANSACTION_COLUMNS, "transactions", decimal, thousands)
    return validate_transactions(raw, mapping, **validate_kwargs)


def read_customers(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None,
                   *, sep: str | None = None, encoding: str | None = None,
                   decimal: str | None = None, thousands: str | None = None,
                   sheet: str | int | None = None, read_kwargs: Mapping[str, Any] | None = None,
                   ignore_columns: Sequence[str] = (), **validate_kwargs: Any) -> Validated:
    """Read and validate a customers file (see :func:`read_transactions`)."""
    raw = read_table(path, sep=sep, encoding=encoding, decimal=decimal, thousands=thousands,
                     sheet=sheet, **_text_as_text(mapping, CUSTOMER_COLUMNS, read_kwargs))
    raw = drop_ignored(raw, ignore_columns, "customers")
    _check_number_marks(raw, mapping, CUSTOMER_COLUMNS, "customers", decimal, thousands)
    return validate_customers(raw, mapping, **validate_kwargs)


def drop_ignored(raw: pd.DataFrame, ignore: Sequence[str], table: str) -> pd.DataFrame:
    """Drop the ``ignore_columns`` this file has; the validator lists them as ignored."""
    present = [c for c in ignore if c in raw.columns]
    return raw.drop(columns=present) if present else raw


_DECIMAL_COMMA = re.compile(r"[-+]?\d{1,3}(?:\.\d{3})+,\d+|[-+]?\d+,(?:\d{1,2}|\d{4,})")
_THOUSANDS_COMMA = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+\.\d+|[-+]?\d{1,3}(?:,\d{3}){2,}")
_AMBIGUOUS_COMMA = re.compile(r"[-+]?\d{1,3},\d{3}")
_DECIMAL_POINT = re.compile(r"[-+]?\d*\.\d+")


def _check_number_marks(raw: pd.DataFrame, mapping: Mapping[str, str] | None,
                        kinds: Mapping[str, str], table: str, decimal: str | None,
                        thousands: str | None) -> None:
    """Refuse numeric columns left as text because of their decimal or thousands mark.

    ``12,50`` with the decimal mark ``"."`` (or ``12.50`` with ``","``) would
    otherwise fail later as "non-numeric" without naming the option that fixes it.
    """
    mapping = dict(mapping or {})
    prefixes = tuple(p for p, k in PREFIX_KINDS.items() if k == "float")
    floats = [c for c, k in kinds.items() if k == "float"]
    floats += [c for c in [*mapping, *map(str, raw.columns)]
               if c.startswith(prefixes) and c not in floats]
    dec = decimal or "."
    for canon in floats:
        col = mapping.get(canon, canon)
        if col not in raw.columns or pd.api.types.is_numeric_dtype(raw[col].dtype):
            continue
        s = raw[col].reset_index(drop=True)
        text = s.dropna().astype("str").str.strip()
        if dec == ".":
            text = text[text.ne("") & pd.to_numeric(text, errors="coerce").isna()]
        else:
            text = text[text.ne("") & ~text.str.fullmatch(number_text(dec, thousands))]
        if text.empty:
            continue
        if dec == ".":
            found = [(rx, problem, fix) for rx, problem, fix in (
                (_DECIMAL_COMMA, "a decimal comma", fix_option("decimal", "decimal", ",")),
                (_AMBIGUOUS_COMMA, "a comma that is a decimal or a thousands mark",
                 f"{fix_option('decimal', 'decimal', ',')} if ',' is the decimal mark, or "
                 f"--thousands ',' (config [data] thousands = \",\"; Python thousands=',') "
                 "if it separates thousands"),
                (_THOUSANDS_COMMA, "a thousands comma", fix_option("thousands", "thousands", ",")),
            ) if text.str.fullmatch(rx).any()]
            if not found:
                continue
            rx, problem, fix = found[0]
        else:
            rx, problem = _DECIMAL_POINT, f"a decimal point while the decimal mark is {dec!r}"
            fix = ("pass --decimal '.' or leave it out (config [data] decimal = \".\"; "
                   "Python decimal='.'), or fix those values")
            if not text.str.fullmatch(rx).any():
                continue
        bad = text[text.str.fullmatch(rx)]
        shown = ", ".join(f"row {i}: {clip(v)}" for i, v in bad.iloc[:3].items())
        where = f"{table}.{canon}" + (f" (column {clip(col)})" if col != canon else "")
        raise SchemaError(f"{where}: {len(bad):,} value(s) written with {problem} — {shown}. "
                          f"Fix: {fix}.")


_TEXT_KINDS = ("id", "string", "ordered", "status")


def _text_as_text(mapping: Mapping[str, str] | None, kinds: Mapping[str, str],
                  read_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Read id and label columns as text so codes survive (``00001``, postcode ``01234``).

    Otherwise pandas reads them as numbers (``1``, ``1234``) and, with a
    thousands mark, order numbers such as ``12.345`` as 12345. A ``dtype`` in
    ``read_kwargs`` wins.
    """
    kwargs = dict(read_kwargs or {})
    mapping = mapping or {}
    text = {mapping.get(c, c): str for c, k in kinds.items() if k in _TEXT_KINDS}
    user = kwargs.get("dtype")
    if user is None:
        kwargs["dtype"] = text
    elif isinstance(user, Mapping):
        kwargs["dtype"] = {**text, **user}
    return kwargs  # a single dtype for every column is the caller's choice


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

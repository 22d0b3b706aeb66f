"""Validate a transactions table into the canonical contract."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute

from segml.errors import SchemaError
from segml.schema._common import _check_choice, _check_not_empty, _duplicate_rows, _fail, _opt
from segml.schema.columns import REQUIRED_TRANSACTION_COLUMNS, TRANSACTION_COLUMNS, _resolve_columns
from segml.schema.dates import TIMESTAMP_FORMAT, _check_format, parse_dates
from segml.schema.ids import _parse_id_codes, parse_ids
from segml.schema.quality import DataQualityReport, Validated
from segml.schema.values import _to_float, _to_label, _to_status, _to_string

#: Below this share of transaction customer ids found in the customers table, the two
#: tables do not share an id (wrong column mapped, or ids written differently).
MIN_ID_OVERLAP = 0.05
def _product_filter(exclude_products: Any,
                    pattern: Any) -> tuple[list[str], re.Pattern[str] | None]:
    """Check the non-product-line options; return the codes and the compiled pattern."""
    if exclude_products is None:
        codes: list[str] = []
    elif isinstance(exclude_products, str) or not all(
            isinstance(c, str) for c in exclude_products):
        raise SchemaError(
            f"exclude_products={exclude_products!r} must be a list of product codes. "
            'Fix: pass a list such as ["POST", "DOT", "M"].'
        )
    else:
        codes = [c.strip() for c in exclude_products]
    compiled = None
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise SchemaError(
                f"exclude_product_pattern={pattern!r} is not a valid regular expression ({exc}). "
                'Fix: correct it, e.g. "^(POST|DOT|M)$".'
            ) from exc
    return codes, compiled

def _reconcile_ids(codes: np.ndarray, uniques: np.ndarray,
                   customers: pd.DataFrame | pd.Series, report: DataQualityReport) -> None:
    """Count ids present in one table only; refuse a near-total mismatch.

    ``codes`` are the kept rows' id codes into ``uniques`` (see ``_parse_id_codes``): the
    ids are compared once per distinct id, and rows are counted with the codes, not by
    matching every row's text.
    """
    known = customers if isinstance(customers, pd.Series) else (
        customers["customer_id"] if "customer_id" in customers.columns else customers.index
    )
    known_ids, known_missing = parse_ids(pd.Series(np.asarray(known)), "customers", "customer_id")
    known_set = pd.Index(known_ids[~known_missing].unique(), dtype=object)
    order = pd.unique(codes[codes >= 0])  # first appearance, as Series.unique()
    tx_set = pd.Index(np.asarray(uniques, dtype=object)[order], dtype=object)
    found = tx_set.isin(known_set)
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))[order]
    report.add("flagged", "rows of customers absent from the customers table (kept)",
               int(rows[~found].sum()))
    report.add("flagged", "customers absent from the customers table (kept)",
               int((~found).sum()))
    report.add("flagged", "customers without transactions (prospects)",
               int((~known_set.isin(tx_set)).sum()))
    if len(tx_set) == 0 or len(known_set) == 0 or found.mean() >= MIN_ID_OVERLAP:
        return
    hint = ""
    for how, norm in (("leading zeros are removed ('00042' vs '42'; segml keeps text ids "
                       "verbatim)", lambda ix: ix.str.lstrip("0")),
                      ("case and spaces are ignored", lambda ix: ix.str.lower()
                       .str.replace(r"\s+", "", regex=True))):
        if norm(tx_set).isin(norm(known_set)).mean() >= 0.5:
            hint = f" They would match if {how}."
            break
    def short(values: pd.Index) -> str:
        return ", ".join(repr(v if len(v) <= 24 else v[:21] + "...") for v in values[:3])

    show, show_c = short(tx_set[~found]), short(known_set)
    raise SchemaError(
        f"transactions.customer_id: only {int(found.sum()):,} of {len(tx_set):,} customer ids "
        f"({found.mean():.1%}) are in the customers table — transactions have e.g. {show}; "
        f"customers have e.g. {show_c}.{hint} Fix: map the same id column in both tables "
        "(CLI --map customer_id=COLUMN and --customer-map customer_id=COLUMN; config "
        "[data.mapping] / [data.customer_mapping] customer_id = \"COLUMN\"; Python "
        "mapping={'customer_id': ...} for each) "
        "and write the ids the same way in both files."
    )


def _repeated_keys(codes: np.ndarray, ts: pd.Series, amount: pd.Series) -> np.ndarray:
    """Rows whose key of id, timestamp and amount repeats: the duplicate-row candidates.

    Rows equal in every input column have equal ids, timestamps and amounts, hence equal
    keys (:func:`_row_keys`); rows whose key repeats (a collision included) are then
    compared column by column, so the key only narrows the search and never decides alone.
    Equal keys are found as neighbours in key order (polars' multi-threaded sort): on 36M
    keys 2.3-2.8 s, against 5.6 s for pandas' hash-based ``duplicated(keep=False)``.
    """
    import polars as pl  # not at import: segml.schema stays light to import

    keys = _row_keys(codes, ts, amount)
    order = pl.Series(keys, dtype=pl.UInt64).arg_sort().to_numpy()
    ranked = keys[order]
    del keys
    same = ranked[1:] == ranked[:-1]
    del ranked
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] |= same
    repeated[:-1] |= same
    out = np.empty(len(order), dtype=bool)
    out[order] = repeated
    return out


def _row_keys(codes: np.ndarray, ts: pd.Series, amount: pd.Series) -> np.ndarray:
    """One 64-bit key per row from its id code, timestamp and amount."""
    t = ts.to_numpy(dtype="datetime64[ns]").view(np.uint64)
    a = amount.to_numpy(dtype="float64", na_value=np.nan)
    # in place: the key and one scratch column at a time (36M lines: 0.6 GiB, not 1.3)
    with np.errstate(over="ignore"):
        h = codes.astype(np.uint64)
        h *= np.uint64(0x9E3779B97F4A7C15)
        tmp = t + np.uint64(0x632BE59BD9B4E019)
        tmp *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= tmp
        np.copyto(tmp, a.view(np.uint64))
        tmp[np.isnan(a)] = np.array(np.nan).view(np.uint64)  # one bit pattern for NaN
        tmp *= np.uint64(0x94D049BB133111EB)
        h ^= tmp
    del tmp
    return h


def _sort_by_id_and_time(frame: pd.DataFrame, codes: np.ndarray,
                         uniques: np.ndarray) -> pd.DataFrame:
    """Sort stably by ``customer_id`` then ``timestamp``, with a fresh RangeIndex.

    The ids are ranked once per distinct id (Arrow's string order, the order ``sort_values``
    uses) and the rows are sorted on integer keys with polars' stable multi-threaded sort
    (36M lines: a sixth of ``numpy.lexsort``'s time, same order); data already in order is
    not copied.
    """
    ts = frame["timestamp"]
    if (codes < 0).any() or ts.isna().any():  # not reached after validation; kept exact
        return frame.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(
            drop=True)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.asarray(pa.compute.sort_indices(pa.array(uniques, type=pa.string())))] = (
        np.arange(len(uniques)))
    key = rank[codes]
    t = ts.to_numpy(dtype="datetime64[ns]").view(np.int64)
    step = np.diff(key)
    if len(key) < 2 or ((step > 0) | ((step == 0) & (np.diff(t) >= 0))).all():
        return frame.reset_index(drop=True)
    import polars as pl

    order = (pl.DataFrame({"key": key, "t": t}).with_row_index("row")
             .sort(["key", "t"], maintain_order=True)["row"].to_numpy())
    return frame.take(order).reset_index(drop=True)


# --------------------------------------------------------------------------- public API


def validate_transactions(
    df: pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    *,
    customers: pd.DataFrame | pd.Series | None = None,
    as_of: Any = None,
    negative_amounts: Literal["net", "drop", "error"] = "net",
    zero_amounts: Literal["keep", "drop"] = "keep",
    errors: Literal["raise", "exclude"] = "raise",
    timestamp_format: str | None = None,
    dayfirst: bool | None = None,
    date_sentinels: Literal["error", "exclude"] = "error",
    dedupe: bool = False,
    exclude_products: list[str] | None = None,
    exclude_product_pattern: str | None = None,
) -> Validated:
    """Validate a transactions table into the canonical contract.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per order line or order, in the user's column names.
    mapping : dict, optional
        Canonical name -> the user's column (``{"amount": "dollar_value"}``).
        Columns already named canonically need no entry.
    customers : DataFrame or Series, optional
        The customers table (or its ids). Transactions of customers absent from it
        are kept and counted under ``flagged``, and so are customers without
        transactions (prospects). When fewer than 5% of the transactions' customer
        ids are in it, the two tables do not share an id and validation fails.
    as_of : date-like, optional
        When given, rows after the calendar day ``as_of`` are counted under
        ``flagged`` ("after as_of"); they are kept here and excluded by the
        features layer, which owns the point-in-time boundary.
    negative_amounts : {"net", "drop", "error"}, default "net"
        Policy for negative amounts (returns/refunds): ``"net"`` keeps them so
        revenue is net of returns (counted as flagged), ``"drop"`` removes them
        (counted as excluded), ``"error"`` raises.
    zero_amounts : {"keep", "drop"}, default "keep"
        Zero-amount rows (free items, CDNOW has 80) are kept and counted, or dropped
        and counted.
    errors : {"raise", "exclude"}, default "raise"
        What to do with rows whose customer id, timestamp or amount is missing
        (``NA``, ``NULL``, ``""``, ``-``... count as missing): raise, or exclude
        them and count them by reason. Config ``[data] errors``, CLI ``--errors``.
    timestamp_format : str, optional
        Layout of the timestamp column: a ``strptime`` format (``"%d/%m/%Y"``),
        ``"ISO8601"`` (ISO dates with and without a time in one column),
        ``"excel"`` (serial day numbers), ``"epoch_s"`` or ``"epoch_ms"``.
        Without it one layout per column is required and day/month order must be
        evident (see ``dayfirst``). Config ``[data] timestamp_format``, CLI
        ``--date-format``.
    dayfirst : bool, optional
        Whether ``01/02/2024`` is 1 February (True) or 2 January (False), for
        columns whose values do not show it (no part above 12). Also applies to
        ``due_date`` / ``paid_date``. Config ``[data] dayfirst``, CLI
        ``--dayfirst`` / ``--monthfirst``.
    date_sentinels : {"error", "exclude"}, default "error"
        Placeholder dates (1900-01-01, 2099-12-31, before 1900 or after 2199):
        raise, or exclude the row (timestamp) or blank the value (other dates),
        counted. Config ``[data] date_sentinels``, CLI ``--date-sentinels``.
    dedupe : bool, default False
        Rows that repeat an earlier row exactly (every input column) are kept and
        counted under ``flagged``, or with ``dedupe=True`` dropped and counted under
        ``excluded``. Config ``[data] dedupe``, CLI ``--dedupe``.
    exclude_products : list of str, optional
        ``product`` codes that are not sales (postage, fees, adjustments: e.g.
        ``["POST", "DOT", "M", "BANK CHARGES"]``); their rows are excluded and
        counted. Config ``[data] exclude_products``, CLI ``--exclude-products``.
    exclude_product_pattern : str, optional
        A regular expression; ``product`` codes it finds a match in
        (``re.search``) are excluded and counted, e.g. ``"^(POST|DOT|C2)$"``.
        Config ``[data] exclude_product_pattern``, CLI ``--exclude-product-pattern``.

    Returns
    -------
    Validated
        ``(frame, report)``: the canonical frame sorted by ``customer_id`` then
        ``timestamp`` with a fresh RangeIndex, and its :class:`DataQualityReport`.
        Cancelled and returned rows (``status``) are kept and counted.

    Raises
    ------
    SchemaError
        For every malformed input; the message names the column, the problem, up
        to five offending values with their row numbers, and the fix.

    Examples
    --------
    >>> raw = pd.DataFrame({"cust": ["a", "b"], "date": ["2024-01-02", "2024-01-03"],
    ...                     "value": [10.0, 5.5]})
    >>> tx, rep = validate_transactions(
    ...     raw, mapping={"customer_id": "cust", "timestamp": "date", "amount": "value"})
    >>> tx["amount"].sum(), rep.n_output_rows
    (np.float64(15.5), 2)
    """
    table = "transactions"
    _check_not_empty(df, table)
    for name, val, allowed in (
        ("negative_amounts", negative_amounts, ("net", "drop", "error")),
        ("zero_amounts", zero_amounts, ("keep", "drop")),
        ("errors", errors, ("raise", "exclude")),
        ("dayfirst", dayfirst, (None, True, False)),
        ("date_sentinels", date_sentinels, ("error", "exclude")),
        ("dedupe", dedupe, (False, True)),
    ):
        _check_choice(name, val, allowed)
    _check_format("timestamp_format", timestamp_format)
    codes, pattern = _product_filter(exclude_products, exclude_product_pattern)
    resolved, ignored = _resolve_columns(df, mapping, TRANSACTION_COLUMNS,
                                         REQUIRED_TRANSACTION_COLUMNS, table)
    if (codes or pattern) and "product" not in resolved:
        raise SchemaError(
            "transactions.product: exclude_products / exclude_product_pattern need a product "
            "column, and there is none. Fix: map your product code column "
            "(mapping={'product': 'StockCode'}; config [data.mapping] product; CLI --map "
            "product=StockCode) or drop those options."
        )
    report = DataQualityReport(table=table, n_input_rows=len(df), ignored_columns=ignored)
    src = df.reset_index(drop=True)  # positions == row numbers; the caller's frame is untouched
    out: dict[str, pd.Series] = {}
    exclude_hint = _opt("errors='exclude'", 'errors = "exclude"', "--errors exclude")

    ids, missing_id, id_codes, id_uniques = _parse_id_codes(src[resolved["customer_id"]], table,
                                                            "customer_id")
    if missing_id.any() and errors == "raise":
        raise _fail(table, "customer_id", "has missing customer ids", src[resolved["customer_id"]],
                    missing_id, f"fill them, or pass {exclude_hint} to drop and count those rows")
    out["customer_id"] = ids

    ts_raw = src[resolved["timestamp"]]
    ts = parse_dates(ts_raw, table, "timestamp", timestamp_format, report, dayfirst=dayfirst,
                      sentinels=date_sentinels, opt=TIMESTAMP_FORMAT)
    if ts.missing.any() and errors == "raise":
        raise _fail(table, "timestamp", "has missing timestamps", ts_raw, ts.missing,
                    f"fill them, or pass {exclude_hint} to drop and count those rows")
    out["timestamp"] = ts.values

    for canon, kind in TRANSACTION_COLUMNS.items():
        if canon in out or canon not in resolved:
            continue
        s = src[resolved[canon]]
        if kind == "float":
            out[canon] = _to_float(s, table, canon)
        elif kind == "datetime":
            d = parse_dates(s, table, canon, None, report, dayfirst=dayfirst,
                             sentinels=date_sentinels)
            report.add("repaired", f"{canon}: placeholder date set to missing",
                       int(d.sentinel.sum()))
            out[canon] = d.values
        elif kind == "status":
            out[canon] = _to_status(s, table)
        elif kind == "label":
            out[canon] = _to_label(s)
        else:
            out[canon] = _to_string(s)
    frame = pd.DataFrame(index=src.index)
    for name, col in out.items():  # column by column: no 2-D block copy (pd.DataFrame(dict)
        frame[name] = col          # stacks the float and date columns)
    duplicate = _duplicate_rows(src, _repeated_keys(id_codes, frame["timestamp"],
                                                    frame["amount"]))

    amount_missing = frame["amount"].isna().to_numpy(dtype=bool)
    if amount_missing.any() and errors == "raise":
        raise _fail(table, "amount", "has missing amounts", src[resolved["amount"]],
                    amount_missing, f"fill them, or pass {exclude_hint} to drop and count")

    non_product = np.zeros(len(frame), dtype=bool)
    if codes or pattern is not None:
        product = frame["product"]
        non_product = product.isin(codes).to_numpy(dtype=bool, copy=True)
        if pattern is not None:
            hits = [v for v in product.dropna().unique() if pattern.search(v)]
            non_product |= product.isin(hits).to_numpy(dtype=bool)

    drop = np.zeros(len(frame), dtype=bool)
    if not dedupe:
        report.add("flagged", "exact duplicate rows (kept; dedupe drops them)",
                   int(duplicate.sum()))
    for reason, mask in (
        ("exact duplicate rows (dedupe)", duplicate if dedupe else drop),
        ("missing customer_id", missing_id),
        ("missing timestamp", ts.missing),
        ("missing amount", amount_missing),
        ("timestamp: placeholder date (date_sentinels='exclude')", ts.sentinel),
        ("non-product lines (exclude_products / exclude_product_pattern)", non_product),
    ):
        mask = mask & ~drop
        report.add("excluded", reason, int(mask.sum()))
        drop |= mask

    amount = frame["amount"].to_numpy(dtype="float64", na_value=np.nan)
    neg = (amount < 0) & ~drop
    if neg.any():
        if negative_amounts == "error":
            raise _fail(table, "amount", "has negative amounts (returns or refunds)",
                        src[resolved["amount"]], neg,
                        "pass negative_amounts='net' to keep them as returns netted against "
                        "revenue, or 'drop' to exclude and count them (config [data] "
                        "negative_amounts)")
        if negative_amounts == "drop":
            report.add("excluded", "negative amount (dropped by policy)", int(neg.sum()))
            drop |= neg
        else:
            report.add("flagged", "negative amount (return, netted)", int(neg.sum()))
    zero = (amount == 0) & ~drop
    if zero.any():
        if zero_amounts == "drop":
            report.add("excluded", "zero amount (dropped by policy)", int(zero.sum()))
            drop |= zero
        else:
            report.add("flagged", "zero amount (kept)", int(zero.sum()))

    frame = frame.loc[~drop] if drop.any() else frame
    kept_codes = id_codes[~drop] if drop.any() else id_codes
    if "status" in frame.columns:
        report.add("flagged", "status cancelled/void (kept; features ignore them)",
                   int(frame["status"].eq("cancelled").sum()))
        report.add("flagged", "status returned (kept; netted as returns)",
                   int(frame["status"].eq("returned").sum()))

    if customers is not None:
        _reconcile_ids(kept_codes, id_uniques, customers, report)

    if as_of is not None:
        cutoff = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        report.add("flagged", "rows after as_of (kept here; features exclude them)",
                   int((frame["timestamp"] >= cutoff).sum()))

    frame = _sort_by_id_and_time(frame, kept_codes, id_uniques)
    report.n_output_rows = len(frame)
    return Validated(frame, report)

"""Validate a customers table into the canonical contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from segml.schema._common import (
    _check_choice,
    _check_not_empty,
    _duplicate_rows,
    _exclude,
    _fail,
    _opt,
)
from segml.schema.columns import (
    CUSTOMER_COLUMNS,
    PREFIX_KINDS,
    REQUIRED_CUSTOMER_COLUMNS,
    _resolve_columns,
)
from segml.schema.dates import CUSTOMER_DATE_FORMAT, _check_format, parse_dates
from segml.schema.ids import parse_ids
from segml.schema.quality import DataQualityReport, Validated
from segml.schema.values import _to_bool, _to_float, _to_ordered, _to_string


def validate_customers(
    df: pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    *,
    errors: Literal["raise", "exclude"] = "raise",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    date_sentinels: Literal["error", "exclude"] = "error",
    dedupe: bool = False,
) -> Validated:
    """Validate a customers table into the canonical contract.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per customer, in the user's column names.
    mapping : dict, optional
        Canonical name -> the user's column.
    errors : {"raise", "exclude"}, default "raise"
        Rows with a missing ``customer_id``: raise, or exclude and count.
        Duplicate ids always raise (which row is right cannot be guessed).
    date_format : str, optional
        Layout of ``signup_date`` (as ``timestamp_format`` of
        :func:`validate_transactions`). Config ``[data] customer_date_format``.
    dayfirst : bool, optional
        Day/month order of ``signup_date`` when its values do not show it.
    date_sentinels : {"error", "exclude"}, default "error"
        Placeholder dates: raise, or set them missing and count them.
    dedupe : bool, default False
        Drop rows that repeat an earlier row exactly (counted) before the
        duplicate-id check; without it they are duplicate ids and raise.

    Returns
    -------
    Validated
        ``(frame, report)``: one row per customer sorted by ``customer_id``.

    Raises
    ------
    SchemaError
        Missing or mis-mapped columns, duplicate or missing ids, empty table,
        unparseable dates, non-numeric numbers, unknown ordered levels.

    Examples
    --------
    >>> raw = pd.DataFrame({"customer_id": [2, 1], "income": ["10", None]})
    >>> cust, rep = validate_customers(raw)
    >>> list(cust["customer_id"]), cust["income"].isna().sum()
    (['1', '2'], np.int64(1))
    """
    table = "customers"
    _check_not_empty(df, table)
    for name, val, allowed in (
        ("errors", errors, ("raise", "exclude")),
        ("dayfirst", dayfirst, (None, True, False)),
        ("date_sentinels", date_sentinels, ("error", "exclude")),
        ("dedupe", dedupe, (False, True)),
    ):
        _check_choice(name, val, allowed)
    _check_format("date_format", date_format)
    resolved, ignored = _resolve_columns(df, mapping, CUSTOMER_COLUMNS,
                                         REQUIRED_CUSTOMER_COLUMNS, table)
    report = DataQualityReport(table=table, n_input_rows=len(df), ignored_columns=ignored)
    src = df.reset_index(drop=True)
    duplicate = _duplicate_rows(src) if dedupe else np.zeros(len(src), dtype=bool)
    out: dict[str, pd.Series] = {}
    raw_ids = src[resolved["customer_id"]]
    ids, missing = parse_ids(raw_ids, table, "customer_id")
    if missing.any() and errors == "raise":
        raise _fail(table, "customer_id", "has missing customer ids", raw_ids, missing,
                    "fill them, or pass " + _opt("errors='exclude'", 'errors = "exclude"',
                                                 "--errors exclude")
                    + " to drop and count those rows")
    dup = np.zeros(len(ids), dtype=bool)
    rest = ~missing & ~duplicate
    dup[rest] = ids[rest].duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():
        exact = _duplicate_rows(src)
        copies = ("; they are exact copies: pass " + _opt("dedupe=True", "dedupe = true",
                                                          "--dedupe") + " to drop and count them"
                  if (exact | ~ids.duplicated(keep="first").to_numpy(bool))[dup].all() else "")
        raise _fail(
            table, "customer_id", f"has duplicate ids ({ids[dup].nunique():,} ids repeated)",
            raw_ids, dup, "keep one row per customer (aggregate or deduplicate before "
            f"loading){copies}",
        )
    out["customer_id"] = ids
    for canon, src_col in resolved.items():
        if canon == "customer_id":
            continue
        kind = CUSTOMER_COLUMNS.get(canon) or next(
            k for p, k in PREFIX_KINDS.items() if canon.startswith(p)
        )
        s = src[src_col]
        if kind == "float":
            out[canon] = _to_float(s, table, canon)
        elif kind == "datetime":
            d = parse_dates(s, table, canon, date_format, report, dayfirst=dayfirst,
                             sentinels=date_sentinels, opt=CUSTOMER_DATE_FORMAT)
            report.add("repaired", f"{canon}: placeholder date set to missing",
                       int(d.sentinel.sum()))
            out[canon] = d.values
        elif kind == "bool":
            out[canon] = _to_bool(s, table, canon)
        elif kind == "ordered":
            out[canon] = _to_ordered(s, table, canon)
        else:
            out[canon] = _to_string(s)
    frame = pd.DataFrame(out)
    frame = _exclude(frame, duplicate, report, "exact duplicate rows (dedupe)")
    frame = _exclude(frame, missing[~duplicate], report, "missing customer_id")
    for col in frame.columns:
        if col != "customer_id":
            report.add("flagged", f"{col}: missing values (kept as missing)",
                       int(frame[col].isna().sum()))
    frame = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    report.n_output_rows = len(frame)
    return Validated(frame, report)

"""Readers for user files and loaders that map well-known public datasets onto the contracts.

``read_transactions`` / ``read_customers`` read CSV/TSV/TXT (plain or
compressed), Parquet and Excel files as they are or refuse them with the fix
(see :mod:`segml.readers`), rename columns through a ``mapping`` and validate
them (see :mod:`segml.schema`). The named loaders (:func:`load_cdnow`,
:func:`load_marketing_campaign`, :func:`load_mall_customers`,
:func:`load_online_retail`, :func:`load_complete_journey`, :func:`load_ta_feng`) return a
:class:`Dataset` with canonical frames,
their data-quality reports, and — for tables that only ship per-customer
aggregates — a ``features`` frame in canonical feature names.

Modules: :mod:`~segml.io.read` (the user's files), :mod:`~segml.io.loaders` (the named public
datasets) and :mod:`~segml.io.dataset` (:class:`Dataset`, :func:`shared_data_path`). Every
public name is importable from ``segml.io``.
"""

from __future__ import annotations

from segml.io.dataset import Dataset, shared_data_path
from segml.io.grocery import load_complete_journey, load_ta_feng
from segml.io.loaders import (
    ONLINE_RETAIL_NON_PRODUCTS,
    load_cdnow,
    load_mall_customers,
    load_marketing_campaign,
    load_online_retail,
)
from segml.io.read import drop_ignored, read_customers, read_transactions
from segml.readers import read_table

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
    "load_complete_journey",
    "load_ta_feng",
    "ONLINE_RETAIL_NON_PRODUCTS",
    # also public, defined in the submodules
    "drop_ignored",
]

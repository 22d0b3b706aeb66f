"""The :class:`Dataset` the loaders return, and where the shared public datasets live."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segml.errors import InputFileError
from segml.schema import (
    DataQualityReport,
)


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
    feature_spec : dict or None
        The feature spec the source is segmented with by default, as
        ``FeatureSpec.to_dict`` data (None: ``FeatureSpec.default``). A user's spec
        (``[features] spec``) replaces it.
    """

    name: str
    transactions: pd.DataFrame | None
    customers: pd.DataFrame
    reports: dict[str, DataQualityReport] = field(default_factory=dict)
    features: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    feature_spec: dict[str, Any] | None = None


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
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for folder in candidates:
        if folder.is_dir():
            return folder / filename if filename else folder
    raise InputFileError(
        f"shared datasets folder not found (looked in {', '.join(map(str, candidates))}). "
        "Fix: set SEGML_SHARED_DATA or pass the file path explicitly."
    )


def _path(path: str | os.PathLike[str] | None, filename: str) -> Path:
    return Path(path) if path is not None else shared_data_path(filename)


# --------------------------------------------------------------------------- CDNOW

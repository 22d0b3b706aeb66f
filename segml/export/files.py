"""Writing the export folder (CSV, Parquet or Excel) from a run or refresh folder.

:func:`export_folder` is what ``segml export`` calls: it reads a folder written by
``segml run`` (``segments.parquet``, ``metrics.json``) or by ``segml refresh``
(``scores.csv``, ``new_alerts.csv``, ``summary.json``; the model gives the roles and
actions), builds the tables of :mod:`segml.export.tables` and writes them with
:func:`write_export`: one folder, written atomically (it appears whole or not at all),
marked ``.segml-export`` so that ``--force`` replaces only segml's own export folders.

Files (``<ext>`` is ``csv``, ``parquet`` or ``xlsx``): ``customers.<ext>``,
``segment_changes.<ext>`` (with a previous run), ``alerts_billing.<ext>`` and
``alerts_sales.<ext>`` (refresh folders) and ``export.json`` (what was written, the
dates and the row counts). ``docs/EXPORTS.md`` documents every column.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from segml._atomic import atomic_dir, check_parent, check_replaceable_dir
from segml.errors import ConfigError
from segml.export.sources import EXPORT_MARKER, read_source
from segml.export.tables import MONEY_COLUMNS, segment_changes, split_alerts

if TYPE_CHECKING:
    from segml.model import SegmentModel

__all__ = ["EXPORT_FORMATS", "ExportResult", "check_export_target", "export_folder",
           "write_export", "write_table"]

#: Formats of the export files.
EXPORT_FORMATS: tuple[str, ...] = ("csv", "parquet", "xlsx")
#: Rows Excel holds in one sheet, header included.
EXCEL_MAX_ROWS = 1_048_576
_FORMAT_FIX = "pass --format csv, parquet or xlsx (format= in Python)"


@dataclass
class ExportResult:
    """What :func:`write_export` wrote.

    Attributes
    ----------
    folder : pathlib.Path
        The export folder.
    files : dict of str to pathlib.Path
        Table name (``customers``, ...) -> file.
    rows : dict of str to int
        Table name -> rows written.
    manifest : dict
        The content of ``export.json``.
    """

    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """Return one line per file: name and rows."""
        return "\n".join(f"{p.name:<28} {self.rows[k]:>9,} rows" for k, p in self.files.items())


def _check_format(fmt: str, excel_bom: bool) -> str:
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"export format {str(fmt)[:20]!r} is not one of "
                          f"{list(EXPORT_FORMATS)}. Fix: {_FORMAT_FIX}.")
    if excel_bom and fmt != "csv":
        raise ConfigError(
            f"--excel-bom applies to CSV only (a byte-order mark for Excel), not --format "
            f"{fmt}. Fix: leave --excel-bom out (excel_bom=False in Python), or pass --format "
            "csv.")
    return fmt


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Text the CSV way: money with exactly 2 decimals, flags true/false, missing empty."""
    out = df.copy()
    for c in out.columns:
        if c in MONEY_COLUMNS:
            out[c] = [("" if v is None or (isinstance(v, float) and math.isnan(v))
                       else f"{v:.2f}") for v in out[c].tolist()]
        elif out[c].dtype == bool:
            out[c] = out[c].map({True: "true", False: "false"})
    return out


def _type_name(dtype: Any) -> str:
    """Name a column's documented type: string, int64, int64 (nullable), float64, bool."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if str(dtype) == "Int64":
        return "int64 (nullable)"
    if pd.api.types.is_integer_dtype(dtype):
        return "int64"
    if pd.api.types.is_float_dtype(dtype):
        return "float64"
    return "string"


def _cell(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):  # numpy scalars -> Python
        return v.item()
    return v


def _write_xlsx(df: pd.DataFrame, path: Path, sheet: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    if len(df) + 1 > EXCEL_MAX_ROWS:
        raise ConfigError(
            f"{sheet}: {len(df):,} rows do not fit one Excel sheet ({EXCEL_MAX_ROWS - 1:,} "
            "at most). Fix: pass --format csv or parquet (format= in Python).")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31])
    ws.append(list(map(str, df.columns)))
    money = [c in MONEY_COLUMNS for c in df.columns]
    for row in df.itertuples(index=False, name=None):
        cells: list[Any] = []
        for v, is_money in zip(row, money, strict=True):
            v = _cell(v)
            if is_money and v is not None:
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = "0.00"
                cells.append(cell)
            elif isinstance(v, str) and v.startswith("="):
                cell = WriteOnlyCell(ws, value=v)  # text, never a formula (an id "=1+2")
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(v)
        ws.append(cells)
    wb.save(path)


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], *, format: str = "csv",
                excel_bom: bool = False, sheet: str = "data") -> Path:
    """Write one export table (no atomicity: :func:`write_export` writes into a temp folder).

    Parameters
    ----------
    df : pandas.DataFrame
        A table of :mod:`segml.export.tables`.
    path : path-like
        Destination file.
    format : {"csv", "parquet", "xlsx"}, default "csv"
        CSV is UTF-8, comma-separated, LF line ends, a header row, money with 2
        decimals, flags ``true``/``false``, missing values empty. Parquet keeps the types
        (text, int64, float64, bool). Excel writes one sheet named ``sheet``.
    excel_bom : bool, default False
        CSV only: start the file with the UTF-8 byte-order mark so Excel reads accents.
    sheet : str, default "data"
        Sheet name of an Excel file.

    Returns
    -------
    pathlib.Path
    """
    _check_format(format, excel_bom)
    p = Path(path)
    if format == "csv":
        _csv_frame(df).to_csv(p, index=False, encoding="utf-8-sig" if excel_bom else "utf-8",
                              lineterminator="\n")
    elif format == "parquet":
        df.to_parquet(p, index=False)
    else:
        _write_xlsx(df, p, sheet)
    return p


def write_export(tables: Mapping[str, pd.DataFrame], to: str | os.PathLike[str], *,
                 format: str = "csv", excel_bom: bool = False, overwrite: bool = False,
                 meta: Mapping[str, Any] | None = None) -> ExportResult:
    """Write the export folder atomically: one file per table and ``export.json``.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        File stem -> table (``customers``, ``segment_changes``, ``alerts_billing``, ...).
    to : path-like
        The export folder; it must not exist unless ``overwrite``.
    format : {"csv", "parquet", "xlsx"}, default "csv"
        See :func:`write_table`.
    excel_bom : bool, default False
        CSV only: UTF-8 with a byte-order mark (CLI ``--excel-bom``).
    overwrite : bool, default False
        Replace an existing export folder (CLI ``--force``); a folder segml did not write
        as an export is never replaced.
    meta : mapping, optional
        Extra entries of ``export.json`` (source, dates, notes).

    Returns
    -------
    ExportResult

    Raises
    ------
    OutputExistsError
        ``to`` exists and ``overwrite`` is false.
    ConfigError
        A bad format, ``excel_bom`` with a format other than CSV, too many rows for Excel,
        or ``to`` is a folder segml did not write as an export.
    """
    folder = check_export_target(to, overwrite=overwrite, fmt=format, excel_bom=excel_bom)
    res = ExportResult(folder=folder)
    files: dict[str, Any] = {}
    with atomic_dir(folder, overwrite=overwrite, marker=EXPORT_MARKER) as tmp:
        for stem, df in tables.items():
            name = f"{stem}.{format}"
            write_table(df, tmp / name, format=format, excel_bom=excel_bom, sheet=stem)
            res.files[stem] = folder / name
            res.rows[stem] = int(len(df))
            files[name] = {"rows": int(len(df)),
                           "columns": {str(c): _type_name(t) for c, t in df.dtypes.items()}}
        res.manifest = {
            "format": format,
            "encoding": ("utf-8-sig (UTF-8 with byte-order mark)" if excel_bom else "utf-8")
            if format == "csv" else None,
            **dict(meta or {}),
            "files": files,
        }
        (tmp / "export.json").write_text(json.dumps(res.manifest, indent=2, default=str)
                                         + "\n", encoding="utf-8")
    return res


def check_export_target(to: str | os.PathLike[str], *, overwrite: bool, fmt: str = "csv",
                        excel_bom: bool = False) -> Path:
    """Check, before any work, the format and that the export folder may be written.

    Raises
    ------
    ConfigError
        A bad format, ``excel_bom`` without CSV, or ``to`` is not segml's export folder.
    OutputExistsError
        ``to`` exists and ``overwrite`` is false.
    """
    _check_format(fmt, excel_bom)
    p = check_parent(to, option="--to (to= in Python)")
    if overwrite and os.path.lexists(p) and not (p / EXPORT_MARKER).is_file():
        raise ConfigError(
            f"--to {str(p)[-60:]} exists and is not a folder segml export wrote (no "
            f"{EXPORT_MARKER} marker); --force (overwrite=True) replaces only those and never "
            "deletes this one. Fix: pass a new --to folder (to= in Python), or move or delete "
            "that folder yourself.")
    return check_replaceable_dir(to, overwrite=overwrite, marker=EXPORT_MARKER,
                                 what="folder of exports")


def export_folder(source: str | os.PathLike[str], to: str | os.PathLike[str], *,
                  format: str = "csv", excel_bom: bool = False,
                  previous: str | os.PathLike[str] | None = None, previous_as_of: Any = None,
                  model: SegmentModel | None = None, overwrite: bool = False) -> ExportResult:
    """Export a ``segml run`` or ``segml refresh`` folder for a CRM, mailing or billing tool.

    Parameters
    ----------
    source : path-like
        ``reports/<run-id>/`` of ``segml run``, or the ``--out`` folder of ``segml refresh``.
    to : path-like
        The export folder (new unless ``overwrite``).
    format : {"csv", "parquet", "xlsx"}, default "csv"
        File format (CLI ``--format``).
    excel_bom : bool, default False
        CSV with a UTF-8 byte-order mark for Excel (CLI ``--excel-bom``).
    previous : path-like, optional
        The previous run, refresh or export folder, or a score table file with an ``as_of``
        column (``scores.csv`` of a refresh): adds ``segment_changes`` (CLI ``--previous``).
    previous_as_of : date-like, optional
        Date of a ``previous`` score file (``segml score`` output, a run's ``segments.csv``)
        that has no ``as_of`` column (CLI ``--previous-as-of``); it wins over that column.
    model : SegmentModel, optional
        The model of a refresh folder (roles and actions; CLI ``--model``).
    overwrite : bool, default False
        Replace an existing export folder (CLI ``--force``).

    Returns
    -------
    ExportResult

    Raises
    ------
    InputFileError, ConfigError, OutputExistsError
        See :func:`read_source` and :func:`write_export`.
    """
    check_export_target(to, overwrite=overwrite, fmt=format, excel_bom=excel_bom)
    customers, info = read_source(source, model=model)
    tables: dict[str, pd.DataFrame] = {"customers": customers}
    meta: dict[str, Any] = {"source": info["source"], "source_kind": info["kind"],
                            "as_of": info["as_of"], "previous": None, "previous_as_of": None}
    if previous is not None:
        before, prev_info = read_source(previous, minimal=True, as_of=previous_as_of)
        if pd.Timestamp(prev_info["as_of"]) >= pd.Timestamp(info["as_of"]):
            raise ConfigError(
                f"--previous {str(previous)[-50:]} is as of {prev_info['as_of']}, not before "
                f"{info['as_of']} of {str(source)[-50:]}. Fix: pass the earlier run as "
                "--previous (previous= in Python).")
        tables["segment_changes"] = segment_changes(before, customers)
        meta.update(previous=prev_info["source"], previous_as_of=prev_info["as_of"])
    if "alerts" in info:
        tables.update(split_alerts(info["alerts"], customers))
        meta["alerts"] = "new since the previous refresh (new_alerts.csv of the source)"
    else:
        meta["alerts"] = ("none: segml run computes no alerts; export a segml refresh folder "
                          "for the billing and sales alert files")
    return write_export(tables, to, format=format, excel_bom=excel_bom, overwrite=overwrite,
                        meta=meta)

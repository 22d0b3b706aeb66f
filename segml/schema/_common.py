"""Message helpers and argument checks shared by the schema's validators."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segml.errors import SchemaError
from segml.schema.quality import DataQualityReport

_MAX_EXAMPLES = 5
_MAX_CHARS = 60  # longest quoted value in a message
_MAX_NAMES = 10  # column names listed in a message


def _show(value: Any) -> str:
    """Render one offending value readably (numpy scalars as Python, missing as <missing>)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<missing>"
    if isinstance(value, np.generic):
        value = value.item()
    return _clip(value)


def _clip(value: Any, limit: int = _MAX_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis (messages stay short)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    end = text[-1] if text[-1] in "'\"" else ""  # keep the closing quote of a string
    return text[: limit - 1 - len(end)] + "…" + end


def _names(names: list[str], limit: int = _MAX_NAMES) -> str:
    """Quote the first ``limit`` names, each clipped, then ``and N more``."""
    shown = ", ".join(_clip(n) for n in names[:limit])
    return f"[{shown}" + (f" and {len(names) - limit:,} more]" if len(names) > limit else "]")


def _examples(values: pd.Series, mask: np.ndarray | pd.Series) -> str:
    """Format up to five offending values with their 0-based row numbers."""
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    shown = ", ".join(f"row {i}: {_show(values.iloc[i])}" for i in idx[:_MAX_EXAMPLES])
    more = f" (and {len(idx) - _MAX_EXAMPLES:,} more)" if len(idx) > _MAX_EXAMPLES else ""
    return f"{len(idx):,} offending value(s) — {shown}{more}"


def _fail(table: str, column: str, problem: str, values: pd.Series | None,
          mask: Any, fix: str) -> SchemaError:
    where = f"{table}.{column}" if column else table
    detail = f": {_examples(values, mask)}" if values is not None else ""
    return SchemaError(f"{where}: {problem}{detail}. Fix: {fix}")


def _map_fix(table: str, canon: str, column: str = "COLUMN") -> str:
    """How to map ``column`` onto ``canon`` from the CLI, the config and Python."""
    flag, key = (("--customer-map", "customer_mapping") if table == "customers"
                 else ("--map", "mapping"))
    return (f"{flag} {canon}={column} on the CLI (config [data.{key}] {canon} = \"{column}\"; "
            f"Python mapping={{{canon!r}: {column!r}}})")


def _opt(py: str, config: str | None = None, cli: str | None = None) -> str:
    """Name an option everywhere it can be set: ``py`` (config [data] ...; CLI ...)."""
    where = [w for w in (f"config [data] {config}" if config else "",
                         f"CLI {cli}" if cli else "") if w]
    return f"{py} ({'; '.join(where)})" if where else py


def _check_not_empty(df: pd.DataFrame, table: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(
            f"{table}: expected a pandas DataFrame, got {type(df).__name__}. "
            "Fix: load the file with segml.io.read_* or pandas first."
        )
    if len(df) == 0:
        raise SchemaError(
            f"{table}: the table is empty (0 rows). "
            "Fix: check the file path, the separator and any filter applied before validation."
        )


def _exclude(df: pd.DataFrame, mask: np.ndarray, report: DataQualityReport,
             reason: str) -> pd.DataFrame:
    report.add("excluded", reason, int(mask.sum()))
    return df.loc[~mask] if mask.any() else df


def _check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        raise SchemaError(f"{name}={value!r} is not valid. Fix: use one of {allowed}.")


def _duplicate_rows(src: pd.DataFrame, candidates: np.ndarray | None = None) -> np.ndarray:
    """Rows that repeat an earlier row exactly (every input column equal).

    ``candidates`` narrows the search to the rows that may repeat another (e.g. rows whose
    key of id, timestamp and amount repeats: rows equal everywhere have equal keys); the
    full comparison runs on those rows only.
    """
    out = np.zeros(len(src), dtype=bool)
    cand = np.ones(len(src), dtype=bool) if candidates is None else candidates
    if not cand.any():
        return out
    sub = src.loc[cand]
    try:
        out[cand] = sub.duplicated(keep="first").to_numpy(dtype=bool)
    except TypeError:  # unhashable cells (lists...): compare their text
        out[cand] = sub.astype("str").duplicated(keep="first").to_numpy(dtype=bool)
    return out

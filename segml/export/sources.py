"""Reading what segml wrote: a run, refresh or export folder, or a previous score file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from segml.errors import ConfigError, InputFileError, SchemaError
from segml.export.tables import customers_from_run, customers_from_scores

if TYPE_CHECKING:
    from segml.model import SegmentModel

__all__ = ["EXPORT_MARKER", "read_source", "source_kind"]

#: Marker file of an export folder (``--force`` replaces only folders that have it).
EXPORT_MARKER = ".segml-export"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path}: cannot read it as JSON ({exc}). Fix: pass a folder "
                             "written whole by segml run / segml refresh.") from exc


def _read_ids(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        return df.assign(customer_id=df["customer_id"].astype("str"))
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype={"customer_id": str}, engine="openpyxl")
    return pd.read_csv(path, dtype={"customer_id": str}, keep_default_na=True)


def _run_rule_sets(p: Path) -> list[str] | None:
    """Return the rule sets a run computed (``[rules] sets`` of config.toml), None if unknown."""
    import tomllib

    try:
        cfg = tomllib.loads((p / "config.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sets = cfg.get("rules", {}).get("sets")
    return [str(x) for x in sets] if isinstance(sets, list) else None


def source_kind(path: str | os.PathLike[str]) -> str:
    """Tell what folder ``path`` is: ``"run"``, ``"refresh"`` or ``"export"``.

    Raises
    ------
    InputFileError
        When it is none of them.
    """
    p = Path(path)
    if (p / "segments.parquet").is_file() and (p / "metrics.json").is_file():
        return "run"
    if (p / "scores.csv").is_file() and (p / "summary.json").is_file():
        return "refresh"
    if (p / EXPORT_MARKER).is_file() and (p / "export.json").is_file():
        return "export"
    raise InputFileError(
        f"{str(p)[-80:]}: not a folder written by segml run (segments.parquet, metrics.json), "
        "segml refresh (scores.csv, summary.json) or segml export (export.json). Fix: pass "
        "reports/<run-id>/ of segml run or the --out folder of segml refresh.")


def _read_scores_file(p: Path, as_of: Any = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a previous score table file (``segml score`` / ``segml refresh``, CSV/Parquet)."""
    if p.suffix.lower() not in (".csv", ".parquet"):
        raise InputFileError(
            f"--previous {p.name}: a file must be a score table, .csv or .parquet. Fix: pass "
            "the previous run, refresh or export folder, or its scores.csv (previous= in "
            "Python).")
    table = _read_ids(p)
    cols = ["customer_id", "segment_id", "segment_name"]
    miss = [c for c in cols if c not in table.columns]
    if as_of is None and "as_of" not in table.columns:
        miss.append("as_of")
    if miss:
        raise SchemaError(
            f"--previous {p.name}: missing column(s) {miss} (columns: "
            f"{[str(c) for c in table.columns][:8]}). Fix: pass scores.csv of a segml refresh "
            "(it has as_of) or the previous run / export folder (previous= in Python); for a "
            "file without as_of, give its date with --previous-as-of (previous_as_of=).")
    if as_of is None:
        dates = pd.to_datetime(table["as_of"]).dropna().unique()
        if len(dates) != 1:
            raise SchemaError(
                f"--previous {p.name}: the as_of column holds {len(dates)} dates; one run has "
                "one date. Fix: pass one run's scores (previous= in Python).")
        as_of = dates[0]
    when = str(pd.Timestamp(as_of).date())
    table = table[cols].assign(as_of=when)
    return table, {"kind": "scores", "source": str(p), "as_of": when}


def read_source(path: str | os.PathLike[str], *, model: SegmentModel | None = None,
                minimal: bool = False, as_of: Any = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the customer table of a run, refresh or export folder.

    Parameters
    ----------
    path : path-like
        The folder (see :func:`source_kind`); with ``minimal`` also a score table file
        (CSV/Parquet with ``customer_id, segment_id, segment_name, as_of``).
    model : SegmentModel, optional
        Needed for a refresh folder (roles and actions per segment) unless ``minimal``.
    minimal : bool, default False
        Only ``customer_id, as_of, segment_id, segment_name`` are needed (a previous run).
    as_of : date-like, optional
        With ``minimal``, the date of a score table file (instead of its ``as_of`` column).

    Returns
    -------
    (pandas.DataFrame, dict)
        The customer table and ``{"kind", "as_of", "source", "alerts" (refresh only)}``.

    Raises
    ------
    InputFileError
        Not such a folder.
    ConfigError
        A refresh folder without ``model`` (and not ``minimal``).
    """
    p = Path(path)
    if minimal and p.is_file():
        return _read_scores_file(p, as_of)
    kind = source_kind(p)
    info: dict[str, Any] = {"kind": kind, "source": str(p)}
    if kind == "run":
        as_of = _read_json(p / "metrics.json")["as_of"]
        table = customers_from_run(_read_ids(p / "segments.parquet"), as_of=as_of,
                                   rule_sets=_run_rule_sets(p))
    elif kind == "refresh":
        summary = _read_json(p / "summary.json")
        as_of = summary["as_of"]
        info["previous_as_of"] = summary.get("previous_as_of")
        scores = _read_ids(p / "scores.csv")
        if model is None and not minimal:
            raise ConfigError(
                f"{str(p)[-60:]} is a segml refresh folder: its scores carry no roles or "
                "actions, the model does. Fix: pass the model folder the refresh used "
                "(--model models/NAME; model= in Python).")
        roles = {} if model is None else model.segment_roles
        actions = {} if model is None else (model.profiles or {}).get("actions", {})
        table = customers_from_scores(scores, as_of=as_of, roles=roles, actions=actions)
        if (p / "new_alerts.csv").is_file():
            info["alerts"] = pd.read_csv(p / "new_alerts.csv", dtype={"customer_id": str})
    else:
        manifest = _read_json(p / "export.json")
        fmt = manifest.get("format", "csv")
        table = _read_ids(p / f"customers.{fmt}")
        as_of = str(table["as_of"].iloc[0]) if len(table) else manifest.get("as_of")
    info["as_of"] = str(pd.Timestamp(as_of).date())
    return table, info

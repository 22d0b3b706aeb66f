"""The export tables: one row per customer, the segment changes, the alerts per consumer.

Pure table building (no files): :mod:`segml.export.files` reads a run or refresh folder
and writes these tables as CSV, Parquet or Excel. Column names and types are stable and
documented in ``docs/EXPORTS.md``; every table holds plain types only: ids and labels as
text, dates as ISO ``YYYY-MM-DD`` text, money rounded to 2 decimals, shares and
probabilities to 4, flags as booleans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import SchemaError

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_CONSUMERS",
    "CHANGE_COLUMNS",
    "CUSTOMER_COLUMNS",
    "FORWARD_MONEY",
    "FORWARD_RATES",
    "MONEY_COLUMNS",
    "customers_from_run",
    "customers_from_scores",
    "segment_changes",
    "split_alerts",
]

#: Fixed leading columns of the customer file, in order (then ``rule_*``, then forward).
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id", "as_of", "segment_id", "segment_name", "role", "action", "confidence",
    "fits_no_segment",
)
#: Forward-value columns written with 2 decimals (money).
FORWARD_MONEY: tuple[str, ...] = ("expected_spend", "forward_clv", "forward_growth_potential")
#: Forward-value columns written with 4 decimals (probability, expected count).
FORWARD_RATES: tuple[str, ...] = ("p_alive", "expected_purchases")
#: Every money column of the export files (2 decimals).
MONEY_COLUMNS: frozenset[str] = frozenset(FORWARD_MONEY)
#: Columns of the segment-changes file.
CHANGE_COLUMNS: tuple[str, ...] = (
    "customer_id", "change", "old_segment_id", "old_segment_name", "new_segment_id",
    "new_segment_name", "old_as_of", "new_as_of",
)
#: Columns of the two alert files.
ALERT_COLUMNS: tuple[str, ...] = (
    "customer_id", "as_of", "alert", "value", "threshold", "message", "segment_id",
    "segment_name", "role",
)
#: Alert kind -> export file stem (who reads it).
ALERT_CONSUMERS: dict[str, str] = {"payment_slip": "alerts_billing",
                                   "activity_drop": "alerts_sales"}

# the roles segml gives customers outside the clustering (as segml run's segments table)
_PROSPECT_ROLE = "to reach"
_SET_ASIDE_ROLE = "to review"
_RULE_PREFIX = "rule_"
_RUN_FIXED = ("customer_id", "segment_id", "segment_name", "role", "action", "confidence",
              "distance", "fits_no_segment")


def _need(frame: pd.DataFrame, cols: tuple[str, ...] | list[str], what: str, fix: str) -> None:
    miss = [c for c in cols if c not in frame.columns]
    if miss:
        shown = [str(c) for c in frame.columns][:8]
        raise SchemaError(f"{what}: missing column(s) {miss} (columns: {shown}). Fix: {fix}")


def _ids(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip()


def _finish(out: pd.DataFrame, forward: list[str]) -> pd.DataFrame:
    """Apply the documented types and roundings to a customer table."""
    out["customer_id"] = _ids(out["customer_id"])
    dup = out["customer_id"][out["customer_id"].duplicated()].unique()
    if len(dup):
        raise SchemaError(
            f"customer_id: {len(dup):,} duplicated id(s), e.g. {', '.join(map(repr, dup[:3]))};"
            " an export has one row per customer. Fix: export one run's segments.parquet or "
            "one refresh's scores.csv (segml export RUN_DIR)."
        )
    out["segment_id"] = pd.to_numeric(out["segment_id"], errors="raise").astype("int64")
    for c in ("segment_name", "role", "action"):
        out[c] = out[c].fillna("").astype("str")
    out["confidence"] = pd.to_numeric(out["confidence"]).astype("float64").round(4)
    fits = out["fits_no_segment"]
    if fits.dtype != bool:
        fits = fits.astype("str").str.lower().map({"true": True, "1": True, "false": False,
                                                   "0": False, "nan": False, "none": False,
                                                   "": False})
    out["fits_no_segment"] = fits.fillna(False).astype(bool)
    for c in forward:
        out[c] = pd.to_numeric(out[c]).astype("float64").round(2 if c in MONEY_COLUMNS else 4)
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _forward_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in (*FORWARD_RATES, *FORWARD_MONEY) if c in frame.columns]


def customers_from_run(segments: pd.DataFrame, *, as_of: Any,
                       rule_sets: Sequence[str] | None = None) -> pd.DataFrame:
    """Build the customer export from a run's segments table.

    Parameters
    ----------
    segments : pandas.DataFrame
        ``segments.parquet`` of a ``segml run`` folder (:func:`segml.pipeline.segments_table`).
    as_of : date-like
        The run's date (``as_of`` of its ``metrics.json``).
    rule_sets : sequence of str, optional
        The run's rule-set columns (``[rules] sets`` of its ``config.toml``); those present
        become ``rule_<set>``. None: every column that is not a segment, score, driver or
        forward-value column.

    Returns
    -------
    pandas.DataFrame
        :data:`CUSTOMER_COLUMNS`, one ``rule_<set>`` column per rule set of the run (text),
        then the forward-value columns present; sorted by ``customer_id``.

    Raises
    ------
    SchemaError
        A needed column is missing, or a customer id is duplicated.

    Examples
    --------
    >>> seg = pd.DataFrame({"customer_id": ["b", "a"], "segment_id": [0, -1],
    ...                     "segment_name": ["loyal", "prospect (not clustered)"],
    ...                     "role": ["to retain", "to reach"], "action": ["thank", ""],
    ...                     "confidence": [0.91234, None], "distance": [1.0, None],
    ...                     "fits_no_segment": [False, False], "abc": ["A", "none"]})
    >>> customers_from_run(seg, as_of="2024-12-31")[["customer_id", "confidence", "rule_abc"]]
      customer_id  confidence rule_abc
    0           a         NaN     none
    1           b      0.9123        A
    """
    _need(segments, list(_RUN_FIXED[:4]) + ["confidence", "fits_no_segment"],
          "segments table", "export a folder written by segml run (its segments.parquet).")
    out = segments[[c for c in _RUN_FIXED if c in segments.columns and c != "distance"]].copy()
    if "action" not in out.columns:
        out["action"] = ""
    out["as_of"] = pd.Timestamp(as_of).date().isoformat()
    forward = _forward_columns(segments)
    if rule_sets is None:
        rules = [c for c in segments.columns if c not in _RUN_FIXED and c not in forward
                 and not str(c).startswith("driver_")]
    else:
        rules = [c for c in rule_sets if c in segments.columns]
    for c in rules:
        out[f"{_RULE_PREFIX}{c}"] = segments[c].fillna("").astype("str")
    for c in forward:
        out[c] = segments[c]
    out = out[[*CUSTOMER_COLUMNS, *(f"{_RULE_PREFIX}{c}" for c in rules), *forward]]
    return _finish(out, forward)


def customers_from_scores(scores: pd.DataFrame, *, as_of: Any, roles: Mapping[int, str],
                          actions: Mapping[int, str]) -> pd.DataFrame:
    """Build the customer export from a score table (``segml refresh`` / ``segml score``).

    Parameters
    ----------
    scores : pandas.DataFrame
        ``customer_id, segment_id, segment_name, confidence, fits_no_segment`` and the
        forward columns the model computes.
    as_of : date-like
        Date of the scores.
    roles, actions : mapping of int to str
        The model's role and suggested action per segment id (``SegmentModel.segment_roles``,
        ``SegmentModel.profiles["actions"]``). A prospect (id -1) gets the role
        ``"to reach"``, a customer set aside before clustering (id <= -2) ``"to review"``,
        both with no action, as in ``segml run``'s segments table.

    Returns
    -------
    pandas.DataFrame
        :data:`CUSTOMER_COLUMNS` then the forward-value columns (a refresh computes no
        rule segments); sorted by ``customer_id``.

    Raises
    ------
    SchemaError
        A needed column is missing, or a customer id is duplicated.
    """
    _need(scores, ["customer_id", "segment_id", "segment_name", "confidence",
                   "fits_no_segment"], "score table",
          "export a folder written by segml refresh (its scores.csv).")
    out = scores[["customer_id", "segment_id", "segment_name", "confidence",
                  "fits_no_segment"]].copy()
    sid = pd.to_numeric(out["segment_id"], errors="raise").astype("int64")
    role_map = {int(k): str(v) for k, v in roles.items()}
    action_map = {int(k): str(v) for k, v in actions.items()}
    out["role"] = np.where(sid == -1, _PROSPECT_ROLE,
                           np.where(sid < -1, _SET_ASIDE_ROLE, sid.map(role_map).fillna("")))
    out["action"] = sid.map(action_map).fillna("").where(sid >= 0, "")
    out["as_of"] = pd.Timestamp(as_of).date().isoformat()
    forward = _forward_columns(scores)
    for c in forward:
        out[c] = scores[c]
    return _finish(out[[*CUSTOMER_COLUMNS, *forward]], forward)


def segment_changes(previous: pd.DataFrame, current: pd.DataFrame, *,
                    include_new: bool = True, include_gone: bool = True) -> pd.DataFrame:
    """List the customers whose segment changed between two exports.

    A customer *moved* when it is in both tables and its ``segment_name`` differs (names,
    not ids: two runs fitted separately may number the same segment differently; a
    refresh keeps the model, so names and ids change together). A customer only in
    ``current`` is *new*, one only in ``previous`` is *gone*.

    Parameters
    ----------
    previous, current : pandas.DataFrame
        Customer tables with ``customer_id, as_of, segment_id, segment_name``
        (:func:`customers_from_run` / :func:`customers_from_scores`).
    include_new, include_gone : bool, default True
        Also list the customers new in the base / gone from it.

    Returns
    -------
    pandas.DataFrame
        :data:`CHANGE_COLUMNS`; ``change`` is ``moved``, ``new`` or ``gone``; the side a
        customer is missing from is empty (``old_segment_id`` / ``new_segment_id`` are
        nullable integers). Sorted by ``change`` then ``customer_id``.

    Raises
    ------
    SchemaError
        A needed column is missing.

    Examples
    --------
    >>> old = pd.DataFrame({"customer_id": ["a", "b"], "as_of": "2024-09-30",
    ...                     "segment_id": [0, 1], "segment_name": ["loyal", "lapsed"]})
    >>> new = pd.DataFrame({"customer_id": ["a", "b"], "as_of": "2024-12-31",
    ...                     "segment_id": [1, 1], "segment_name": ["lapsed", "lapsed"]})
    >>> segment_changes(old, new).iloc[0].astype(str).tolist()
    ['a', 'moved', '0', 'loyal', '1', 'lapsed', '2024-09-30', '2024-12-31']
    """
    cols = ["customer_id", "as_of", "segment_id", "segment_name"]
    fix = "pass two customer tables of segml.export (customers_from_run / _from_scores)."
    _need(previous, cols, "previous customers", fix)
    _need(current, cols, "current customers", fix)
    old = previous[cols].assign(customer_id=_ids(previous["customer_id"]))
    new = current[cols].assign(customer_id=_ids(current["customer_id"]))
    both = old.merge(new, on="customer_id", how="outer", suffixes=("_old", "_new"),
                     indicator=True)
    moved = (both["_merge"] == "both") & (both["segment_name_old"] != both["segment_name_new"])
    change = pd.Series(np.where(both["_merge"] == "right_only", "new",
                                np.where(both["_merge"] == "left_only", "gone", "moved")),
                       index=both.index)
    keep = moved.to_numpy(dtype=bool, copy=True)
    if include_new:
        keep |= (change == "new").to_numpy()
    if include_gone:
        keep |= (change == "gone").to_numpy()
    both = both.loc[keep]
    old_as_of = str(old["as_of"].iloc[0]) if len(old) else ""
    new_as_of = str(new["as_of"].iloc[0]) if len(new) else ""
    out = pd.DataFrame({
        "customer_id": both["customer_id"].astype("str"),
        "change": change.loc[keep].astype("str"),
        "old_segment_id": both["segment_id_old"].astype("Int64"),
        "old_segment_name": both["segment_name_old"].fillna("").astype("str"),
        "new_segment_id": both["segment_id_new"].astype("Int64"),
        "new_segment_name": both["segment_name_new"].fillna("").astype("str"),
        "old_as_of": old_as_of,
        "new_as_of": new_as_of,
    })
    order = {"moved": 0, "new": 1, "gone": 2}
    out = out.sort_values(["change", "customer_id"], key=lambda s: s.map(order)
                          if s.name == "change" else s, kind="stable")
    return out.reset_index(drop=True)[list(CHANGE_COLUMNS)]


def split_alerts(alerts: pd.DataFrame, customers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Split the new alerts by the system that acts on them.

    ``payment_slip`` goes to billing (``alerts_billing``), ``activity_drop`` to sales
    (``alerts_sales``); each row gets the customer's segment and role from ``customers``.

    Parameters
    ----------
    alerts : pandas.DataFrame
        ``customer_id, alert, value, threshold, message`` (``new_alerts.csv`` of a refresh,
        :attr:`segml.refresh.RefreshResult.new_alerts`).
    customers : pandas.DataFrame
        The customer table of the same date (``customer_id, as_of, segment_id,
        segment_name, role``).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{"alerts_billing": ..., "alerts_sales": ...}``, each with :data:`ALERT_COLUMNS`
        (``value`` and ``threshold`` in days, 2 decimals), sorted by ``customer_id``;
        empty tables keep their columns.

    Raises
    ------
    SchemaError
        A needed column is missing, or an alert kind has no consumer.
    """
    _need(alerts, ["customer_id", "alert", "value", "threshold", "message"], "alerts",
          "pass new_alerts.csv of a segml refresh folder.")
    kinds = sorted(set(alerts["alert"].astype("str")) - set(ALERT_CONSUMERS))
    if kinds:
        raise SchemaError(
            f"alerts: kind(s) {kinds[:3]} have no export file; known: "
            f"{sorted(ALERT_CONSUMERS)}. Fix: export the new_alerts.csv of segml refresh "
            "unchanged.")
    info = customers.set_index(_ids(customers["customer_id"]))
    a = alerts.assign(customer_id=_ids(alerts["customer_id"]), alert=alerts["alert"].astype("str"))
    as_of = str(customers["as_of"].iloc[0]) if len(customers) else ""
    out: dict[str, pd.DataFrame] = {}
    for kind, stem in ALERT_CONSUMERS.items():
        part = a.loc[a["alert"] == kind]
        ids = part["customer_id"]
        sid = info["segment_id"].reindex(ids).astype("Int64").to_numpy()
        out[stem] = pd.DataFrame({
            "customer_id": ids.astype("str").to_numpy(),
            "as_of": as_of,
            "alert": part["alert"].astype("str").to_numpy(),
            "value": pd.to_numeric(part["value"]).astype("float64").round(2).to_numpy(),
            "threshold": pd.to_numeric(part["threshold"]).astype("float64").round(2).to_numpy(),
            "message": part["message"].fillna("").astype("str").to_numpy(),
            "segment_id": pd.array(sid, dtype="Int64"),
            "segment_name": info["segment_name"].reindex(ids).fillna("").astype("str").to_numpy(),
            "role": info["role"].reindex(ids).fillna("").astype("str").to_numpy(),
        }, columns=list(ALERT_COLUMNS))
        out[stem] = out[stem].sort_values("customer_id", kind="stable").reset_index(drop=True)
    return out

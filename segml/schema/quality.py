"""What validation returns: the canonical frame and its :class:`DataQualityReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import pandas as pd


@dataclass
class DataQualityReport:
    """What validation excluded, repaired or flagged, counted by reason.

    Attributes
    ----------
    table : str
        ``"transactions"`` or ``"customers"``.
    n_input_rows, n_output_rows : int
        Row counts before and after validation.
    excluded : dict of str to int
        Rows removed from the output, by reason (they add up to
        ``n_input_rows - n_output_rows``).
    repaired : dict of str to int
        Values changed but rows kept (e.g. timezone converted), by reason.
    flagged : dict of str to int
        Rows kept unchanged but worth knowing about (zero amounts, returns,
        unknown customers, rows after ``as_of``), by reason.
    ignored_columns : list of str
        Input columns that are not part of the contract.
    """

    table: str
    n_input_rows: int
    n_output_rows: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    def add(self, kind: Literal["excluded", "repaired", "flagged"], reason: str, n: int) -> None:
        """Add ``n`` rows under ``reason`` (zero counts are not recorded)."""
        if n:
            bucket: dict[str, int] = getattr(self, kind)
            bucket[reason] = bucket.get(reason, 0) + int(n)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "table": self.table,
            "n_input_rows": self.n_input_rows,
            "n_output_rows": self.n_output_rows,
            "excluded": dict(self.excluded),
            "repaired": dict(self.repaired),
            "flagged": dict(self.flagged),
            "ignored_columns": list(self.ignored_columns),
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (kind, reason) with its count, for tables in reports."""
        rows = [
            (kind, reason, n)
            for kind in ("excluded", "repaired", "flagged")
            for reason, n in getattr(self, kind).items()
        ]
        return pd.DataFrame(rows, columns=["kind", "reason", "rows"])

    def __str__(self) -> str:
        lines = [f"{self.table}: {self.n_input_rows:,} rows in, {self.n_output_rows:,} rows out"]
        for kind in ("excluded", "repaired", "flagged"):
            for reason, n in getattr(self, kind).items():
                lines.append(f"  {kind:<9} {n:>10,}  {reason}")
        if self.ignored_columns:
            lines.append(f"  ignored columns: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


class Validated(NamedTuple):
    """A validated canonical frame and its data-quality report."""

    frame: pd.DataFrame
    report: DataQualityReport


# --------------------------------------------------------------------------- helpers

"""Exports for the systems that act on the segments: CRM, mailing tool, billing.

Sits on top of the pipeline and the refresh (the core never imports it). One concept
per module:

==========  ==================================================================
module      what
==========  ==================================================================
``tables``  the export tables: one row per customer (:func:`customers_from_run`,
            :func:`customers_from_scores`), :func:`segment_changes`,
            :func:`split_alerts` (billing / sales)
``sources`` reading a run, refresh or export folder (:func:`read_source`)
``files``   writing CSV, Parquet or Excel atomically (:func:`export_folder`,
            :func:`write_export`)
==========  ==================================================================

``docs/EXPORTS.md`` documents every file and column.
"""

from __future__ import annotations

from segml.export.files import (
    EXPORT_FORMATS,
    ExportResult,
    check_export_target,
    export_folder,
    write_export,
    write_table,
)
from segml.export.sources import EXPORT_MARKER, read_source, source_kind
from segml.export.tables import (
    ALERT_COLUMNS,
    ALERT_CONSUMERS,
    CHANGE_COLUMNS,
    CUSTOMER_COLUMNS,
    customers_from_run,
    customers_from_scores,
    segment_changes,
    split_alerts,
)

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_CONSUMERS",
    "CHANGE_COLUMNS",
    "CUSTOMER_COLUMNS",
    "EXPORT_FORMATS",
    "EXPORT_MARKER",
    "ExportResult",
    "check_export_target",
    "customers_from_run",
    "customers_from_scores",
    "export_folder",
    "read_source",
    "segment_changes",
    "source_kind",
    "split_alerts",
    "write_export",
    "write_table",
]

"""The periodic review: re-score with a saved model, compare with the previous run.

The HTML page of a refresh lives in :mod:`segml.refresh.page` (presentation; imported
by the CLI, not by this package).
"""

from __future__ import annotations

from segml.refresh.core import RefreshResult, new_alerts, previous_assignments, refresh

__all__ = ["RefreshResult", "new_alerts", "previous_assignments", "refresh"]

"""Segmentations tested on history: migration between two assignments (more to come)."""

from __future__ import annotations

from segml.backtest.migration import migration_matrix, movers

__all__ = ["migration_matrix", "movers"]

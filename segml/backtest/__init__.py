"""Segmentations tested on history: refit or freeze at each cutoff, judge the window after.

:func:`backtest` gives one :class:`BacktestResult` (stability, migration, predictive
validity with bootstrap intervals, a verdict); :mod:`segml.backtest.plot` draws it and
:mod:`segml.backtest.report` writes its HTML page. :func:`migration_matrix` and
:func:`movers` also serve the periodic refresh.
"""

from __future__ import annotations

from segml.backtest.baselines import ForecastDeciles
from segml.backtest.core import VERDICT_METRICS, BacktestResult, backtest
from segml.backtest.metrics import Groups, score_metrics, segment_metrics
from segml.backtest.migration import migration_matrix, movers
from segml.backtest.segmenters import (
    BASELINES,
    ClusterModel,
    CutoffFit,
    NoSegmentation,
    Predictor,
    RecencyDeciles,
    fit_at,
    resolve_segmenters,
)
from segml.backtest.windows import History, make_cutoffs, parse_horizon

__all__ = [
    "backtest",
    "BacktestResult",
    "VERDICT_METRICS",
    "ClusterModel",
    "NoSegmentation",
    "RecencyDeciles",
    "ForecastDeciles",
    "Predictor",
    "BASELINES",
    "resolve_segmenters",
    "CutoffFit",
    "fit_at",
    "History",
    "make_cutoffs",
    "parse_horizon",
    "Groups",
    "segment_metrics",
    "score_metrics",
    "migration_matrix",
    "movers",
]

"""What one pipeline run produced: :class:`RunResult`, and the progress callback type."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["N_STEPS", "Progress", "RunResult", "StageClock", "quiet"]


#: Number of progress steps :func:`run_pipeline` reports.
N_STEPS = 9


@dataclass
class RunResult:
    """Everything one pipeline run produced.

    Attributes
    ----------
    run_id : str
        Name of the run folder under ``output.reports_dir``.
    config : dict
        The validated configuration used.
    data_name : str
        Source of the data (``"demo"``, ``"cdnow"``, a file name...).
    quality : dict of str to DataQualityReport
        Data-quality reports of the validated tables.
    features : segml.features.FeatureSet
        Raw features (``.frame``), spec, frozen state and the features report.
    model_matrix : pandas.DataFrame
        The preprocessed matrix the models were fitted on (customers clustered).
    selection : segml.cluster.SelectKResult
        The k sweep (table, recommendation, rationale).
    segmenter : segml.cluster.Segmenter
        The fitted model.
    validation : segml.cluster.ValidationResult
        Silhouettes, sizes, stability, separation.
    profiles : segml.cluster.ProfileResult
        Per-segment profiles, names and roles.
    labels : pandas.Series
        ``customer_id`` -> ordered segment id, for the customers clustered.
    rule_labels : dict of str to pandas.Series
        Rule-set name -> segment names per customer.
    comparisons : dict of str to segml.rules.ComparisonResult
        Rule-set name -> clusters-vs-rules comparison.
    pareto : segml.features.ParetoResult
        Revenue concentration (ABC Pareto curve, top-20% share, Gini).
    projection : Any
        2-D map of customers with centroids (computed, for the map plot).
    scores : pandas.DataFrame
        Output of scoring every customer with the saved model.
    model_path : pathlib.Path or None
        Folder of the saved model.
    manifest : dict
        The saved model's manifest.
    truth : pandas.Series or None
        Planted segments when the data is the demo portfolio (never a feature).
    timings : dict of str to float
        Seconds per step.
    outputs : dict of str to pathlib.Path
        Files written by :func:`write_run`.
    rules_skipped : dict of str to list of str
        Rule sets of ``rules.sets`` that were not run, with the feature columns the data
        lacks (e.g. a customers table without transactions has no RFM scores).
    staged_model : segml.persistence.StagedModel or None
        The saved model while it waits for :func:`write_run` to publish it
        (``run_pipeline(..., publish_model=False)``); None once published or dropped.
    as_of : pandas.Timestamp or None
        The feature date of the run.
    training_window : (Timestamp, Timestamp) or None
        First and last transaction used (None without transactions).
    drivers : pandas.DataFrame or None
        Each model column's share of the between-segment sum of squares of the fitted
        solution (:func:`segml.cluster.drivers.between_ss_shares`), largest first.
    """

    run_id: str
    config: dict[str, Any]
    data_name: str
    quality: dict[str, Any]
    features: Any
    model_matrix: pd.DataFrame
    selection: Any
    segmenter: Any
    validation: Any
    profiles: Any
    labels: pd.Series
    rule_labels: dict[str, pd.Series] = field(default_factory=dict)
    comparisons: dict[str, Any] = field(default_factory=dict)
    pareto: Any = None
    projection: Any = None
    scores: pd.DataFrame | None = None
    model_path: Path | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    truth: pd.Series | None = None
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    rules_skipped: dict[str, list[str]] = field(default_factory=dict)
    staged_model: Any = None
    as_of: pd.Timestamp | None = None
    training_window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    drivers: pd.DataFrame | None = None


Progress = Callable[[str], None]


def quiet(message: str) -> None:
    """Progress callback that says nothing."""


class StageClock:
    """Record the wall seconds of consecutive run stages into a ``timings`` dict.

    Each call stores the time since the previous call (or since construction) under the
    stage's name, rounded to milliseconds: ``tick = StageClock(timings); ...; tick("features")``.
    Both engines (:func:`segml.pipeline.analyse` and the Spark run) time their stages with it,
    so ``timings_s`` in ``run.json`` means the same thing whichever engine ran.

    Parameters
    ----------
    timings : dict of str to float
        Filled in place.
    """

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self._t = time.perf_counter()

    def __call__(self, name: str) -> None:
        """Store the seconds since the last stage under ``name`` and restart the clock."""
        now = time.perf_counter()
        self.timings[name] = round(now - self._t, 3)
        self._t = now

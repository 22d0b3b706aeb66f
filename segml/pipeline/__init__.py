"""The main job: data, features, choose k, fit, validate, profile, rules, save, score.

``run_pipeline(config)`` is what ``segml run`` (and ``make run``) calls. It returns a
:class:`RunResult` holding every result object; writing the run folder and the
HTML report are separate steps (:func:`write_run`), so notebooks can run the
pipeline and look at the results without touching the disk.

One concept per module:

==================  ==============================================================
module              what
==================  ==============================================================
``result``          :class:`RunResult` (what a run produced), ``N_STEPS``
``load``            :class:`LoadedData`, :func:`load_data`, the run's ``as_of``,
                    :func:`score_data`
``checks``          :func:`check_run_config`, :func:`check_outputs` (before any work)
``run``             :func:`analyse`, :func:`save_run_model`, :func:`stage_checked`,
                    :func:`run_pipeline`; the steps the Spark engine shares:
                    :func:`run_select_k`, :func:`resolve_verdict`,
                    :func:`fit_recommended`, :func:`check_size_floor`,
                    :func:`describe_segments`, :func:`assemble_run`
``write``           :func:`write_run`, :func:`segments_table`, :func:`config_to_toml`
``summary``         :func:`print_run_summary`, :func:`summary_table`
==================  ==============================================================
"""

from __future__ import annotations

from segml.pipeline.checks import RUN_MARKER, check_outputs, check_run_config
from segml.pipeline.load import LoadedData, load_data, score_data
from segml.pipeline.result import N_STEPS, RunResult
from segml.pipeline.run import (
    analyse,
    assemble_run,
    build_run_features,
    check_size_floor,
    describe_segments,
    fallback_possible,
    fit_recommended,
    model_matrix,
    resolve_verdict,
    run_model,
    run_pipeline,
    run_select_k,
    save_run_model,
    stage_checked,
)
from segml.pipeline.summary import print_run_summary, summary_table
from segml.pipeline.write import config_to_toml, segments_table, write_run

__all__ = [
    "N_STEPS",
    "LoadedData",
    "RunResult",
    "load_data",
    "build_run_features",
    "model_matrix",
    "run_select_k",
    "resolve_verdict",
    "fit_recommended",
    "fallback_possible",
    "check_size_floor",
    "describe_segments",
    "run_pipeline",
    "analyse",
    "assemble_run",
    "run_model",
    "stage_checked",
    "save_run_model",
    "write_run",
    "config_to_toml",
    "check_outputs",
    "RUN_MARKER",
    "print_run_summary",
    "summary_table",
    "segments_table",
    "score_data",
    "check_run_config",
]

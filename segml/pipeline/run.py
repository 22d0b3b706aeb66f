"""The run itself: features, choose k, fit, validate, profile, rules, save, re-score.

:func:`analyse` does the analysis on loaded data (nothing written); :func:`save_run_model`
saves the model and checks that the reloaded model gives back the training labels;
:func:`run_pipeline` (what ``segml run`` calls) is the two after checking the config and
loading the data. ``segml.segment`` (the short Python API) calls :func:`analyse` too: one
implementation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError
from segml.pipeline.checks import check_run_config
from segml.pipeline.load import LoadedData, load_data, run_as_of, run_id_for
from segml.pipeline.result import Progress, RunResult, StageClock, quiet

__all__ = ["analyse", "assemble_run", "build_run_features", "model_matrix", "run_model",
           "run_pipeline", "run_select_k", "save_run_model", "stage_checked",
           "apply_feature_options", "check_size_floor", "describe_segments",
           "fallback_possible", "fit_recommended", "resolve_verdict"]


def build_run_features(cfg: dict[str, Any], data: LoadedData) -> Any:
    """Build the feature set of the run (as of ``features.as_of``, or the demo's end date).

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    data : LoadedData
        Output of :func:`load_data`.

    Returns
    -------
    segml.features.FeatureSet
    """
    from segml.features import FeatureBuilder, FeatureSpec

    fcfg = cfg["features"]
    spec = FeatureSpec.from_toml(Path(fcfg["spec"]).read_text()) if fcfg["spec"] else None
    if spec is None and getattr(data, "feature_spec", None):
        spec = FeatureSpec.from_dict(data.feature_spec)  # the source's own (e.g. Mall)
    fs = FeatureBuilder(spec, lookback_days=fcfg["lookback_days"]).fit_transform(
        data.transactions, data.customers, as_of=run_as_of(cfg, data), aggregates=data.aggregates)
    return apply_feature_options(cfg, fs)


def apply_feature_options(cfg: dict[str, Any], fs: Any) -> Any:
    """Apply ``[features]`` weights, ``min_level_customers`` and ``allow_identifiers`` to ``fs``.

    Shared by the pandas and the Spark engine (:mod:`segml.spark.run`); returns ``fs``.
    """
    fcfg = cfg["features"]
    if fcfg["weights"]:
        fs.spec = fs.spec.with_weights(**fcfg["weights"])
    if fcfg.get("min_level_customers") is not None:
        fs.spec = replace(fs.spec, min_level_customers=fcfg["min_level_customers"])
    if fcfg.get("allow_identifiers"):
        allow = list(dict.fromkeys([*fs.spec.allow_identifiers, *fcfg["allow_identifiers"]]))
        fs.spec = replace(fs.spec, allow_identifiers=allow)
    if fcfg.get("min_level_customers") is not None:
        from segml.features.privacy import rare_level_rows

        fs.report["rare_levels_folded"] = rare_level_rows(fs.frame, fs.spec)
    return fs


def model_matrix(cfg: dict[str, Any], fs: Any, *, return_preprocessor: bool = False) -> Any:
    """Return the model matrix and the raw frame of the customers that are clustered.

    Prospects (no purchase) are left out when ``features.buyers_only`` (default):
    they have no behaviour to cluster on, and the lifecycle rules place them. Degenerate
    customers (:mod:`segml.rules.degenerate`: $0-only or net-refund buyers) are always set
    aside as named groups, counted in ``fs.report["degenerate"]``. How every spec column
    enters the distance is recorded in ``fs.report["feature_space"]``
    (:func:`segml.features.describe_space`).

    ``return_preprocessor=True`` adds the (fitted) preprocessor that made the matrix, so a
    later fit can reuse it: building one checks every string column for identifiers, 40% of
    the final fit's time at 20k customers (tracker issue 19).

    Returns
    -------
    (DataFrame, DataFrame) or (DataFrame, DataFrame, transformer)
        Model matrix and the raw feature rows it was built from (same index); then the
        preprocessor with ``return_preprocessor=True``.
    """
    from segml.features import describe_space, make_preprocessor
    from segml.rules.degenerate import degenerate_groups

    frame = fs.frame
    keep = np.ones(len(frame), dtype=bool)
    if cfg["features"]["buyers_only"] and "is_prospect" in frame.columns:
        keep = ~frame["is_prospect"].astype(bool).to_numpy(dtype=bool)
    # degenerate customers ($0-only buyers, ...) are a named rule group, not a segment;
    # the rule is per row, so it runs on the whole frame and one row selection follows
    groups = degenerate_groups(frame)
    kept = groups[keep]
    fs.report["degenerate"] = {str(k): int(v) for k, v in kept.value_counts().items()}
    frame = frame[keep & groups.isna().to_numpy()]
    if len(frame) < 3:
        raise ConfigError(
            f"only {len(frame)} customers to cluster; need at least 3. Fix: check --as-of "
            "(customers first seen later are left out) and the input files, or set "
            "[features] buyers_only = false to cluster prospects too."
        )
    pre = make_preprocessor(fs.spec, frame)
    X = pre.fit_transform(frame)
    fs.report["feature_space"] = describe_space(fs.spec, frame).to_dict("records")
    return (X, frame, pre) if return_preprocessor else (X, frame)


def run_select_k(cfg: dict[str, Any], X: pd.DataFrame, fs: Any = None, *,
                 progress: bool = True) -> Any:
    """Sweep k over the configured algorithms (see :func:`segml.cluster.choose.sweep`)."""
    from segml.cluster.choose import sweep

    seg = cfg["segmentation"]
    if seg["k_max"] >= len(X):
        which = "k_min" if seg["k_min"] >= len(X) else "k_max"
        raise ConfigError(
            f"segmentation.{which}={seg[which]} needs more customers: only {len(X):,} to "
            f"cluster, and k must be below that. Fix: pass a smaller --k (config: "
            f"[segmentation] k_min/k_max, at most {len(X) - 1:,}), or use more data "
            "(check --as-of)."
        )
    return sweep(X, seg, progress=progress)


def no_clear_segments(selection: Any, n_customers: int, seg: dict[str, Any],
                      progress: Progress = quiet) -> None:
    """Stop, or say plainly that the k about to be fitted is forced, on "no clear segments".

    With k = 1 in the search (``[segmentation] k_min = 1``, the default) nothing is fitted:
    the run stops with the selection's reason and what to do instead. With ``k_min >= 2`` the
    user asked for segments: the k the rule returns is fitted, and the progress line and
    ``selection.settings["verdict_note"]`` (and the rationale, in the report) say that no
    criterion supports it.

    Raises
    ------
    NoClearSegmentsError
        k = 1 was searched and the verdict is "no clear segments".
    """
    from segml.errors import NoClearSegmentsError

    rec = selection.recommended
    reason = selection.rationale.split(". Use a value partition")[0]
    if rec["k"] < 2:
        raise NoClearSegmentsError(
            f"segmentation: {reason[0].lower() + reason[1:]} (k = 1..{seg['k_max']} searched on "
            f"{n_customers:,} customers; `segml select-k` shows the table). Nothing was "
            "fitted: any k would be a choice no criterion supports. Fix: act on a value "
            "partition (the rfm_groups / abc rule sets, or [segmentation] no_segments = "
            "\"value_tiers\" when the data has monetary), or force a number of segments with "
            "[segmentation] k_min = k_max = K (segml run --k K, segml fit --k K; Python: "
            "segment(k=K)), or set [segmentation] k_min = 2 to get the best-reproducing k "
            "flagged as unsupported."
        )
    note = (f"no clear segments: k={rec['k']} is fitted only because [segmentation] "
            f"k_min={seg['k_min']} leaves k=1 out; no criterion supports it")
    selection.settings["verdict_note"] = note
    progress(note)


def fallback_possible(how: str, fs: Any, frame: pd.DataFrame) -> bool:
    """Whether the data allow the configured no-clear-segments fallback.

    Parameters
    ----------
    how : str
        ``[segmentation] no_segments``: ``"rfm_groups"``, ``"value_tiers"`` or ``"stop"``.
    fs : segml.features.FeatureSet
        The run's features (its state holds the fitted RFM scorer).
    frame : pandas.DataFrame
        The clustered customers' raw feature rows.

    Returns
    -------
    bool
        False for ``"stop"`` and when the columns the fallback needs are missing.
    """
    from segml.cluster.choose import fallback_possible as possible

    return possible(how, frame.columns, rfm_scorer=_rfm_scorer(fs), need_scorer=True)


def _rfm_scorer(fs: Any) -> Any:
    """Return the fitted RFM scorer of a feature set's state (None when it has none)."""
    return getattr(getattr(fs, "state", None), "rfm_scorer", None)


def resolve_verdict(cfg: dict[str, Any], selection: Any, fs: Any, frame: pd.DataFrame,
                    progress: Progress = quiet) -> Any | None:
    """Act on the selection's verdict before any clustering is fitted.

    Shared by the pandas and the Spark engine (:mod:`segml.spark.run`). On "no clear
    segments" with k = 1 searched and a fallback the data allow (:func:`fallback_possible`),
    fit the configured value partition (:func:`segml.cluster.choose.fit_fallback`, with the
    feature state's fitted RFM scorer; labelled as such in ``selection.settings``);
    otherwise :func:`no_clear_segments` stops the run or notes that the k about to be
    fitted is forced.

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    selection : segml.cluster.select_k.SelectKResult
        Output of :func:`run_select_k`.
    fs : segml.features.FeatureSet
        The run's features.
    frame : pandas.DataFrame
        The clustered customers' raw feature rows (:func:`model_matrix`).
    progress : callable, optional
        Receives one message per step.

    Returns
    -------
    object or None
        The fitted fallback partition (its ``labels_`` are the run's segments), or None
        when the recommended k is to be fitted as clusters.

    Raises
    ------
    NoClearSegmentsError
        k = 1 was searched, the verdict is "no clear segments" and no fallback applies.
    """
    from segml.cluster.select_k import NO_SEGMENTS

    seg_cfg = cfg["segmentation"]
    if (selection.verdict == NO_SEGMENTS and selection.recommended["k"] < 2
            and fallback_possible(seg_cfg["no_segments"], fs, frame)):
        from segml.cluster.choose import fit_fallback

        return fit_fallback(frame, seg_cfg, selection, rfm_scorer=_rfm_scorer(fs),
                            progress=progress)
    if selection.verdict == NO_SEGMENTS:
        no_clear_segments(selection, len(frame), seg_cfg, progress)
    return None


def fit_recommended(cfg: dict[str, Any], selection: Any, frame: pd.DataFrame,
                    preprocessor: Any, progress: Progress = quiet) -> Any:
    """Fit the selection's recommended clustering on ``frame`` as the sweep that chose it.

    :func:`segml.cluster.choose.fit_recommended` with the ``[segmentation]`` table: same fit
    sample and k-means precision as the sweep (issue 19: at 1M rows a full-data refit cost
    more than the sweep's fit at that k), an unfitted copy of the model matrix's
    ``preprocessor``.

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    selection : segml.cluster.select_k.SelectKResult
        Output of :func:`run_select_k` whose recommendation has k >= 2.
    frame : pandas.DataFrame
        The clustered customers' raw feature rows.
    preprocessor : transformer
        The fitted preprocessor of :func:`model_matrix` (``return_preprocessor=True``).
    progress : callable, optional
        Receives one message per step.

    Returns
    -------
    segml.cluster.Segmenter
        Fitted on ``frame``.
    """
    from segml.cluster.choose import fit_recommended as fit

    return fit(cfg["segmentation"], selection, frame, preprocessor, progress=progress)


def analyse(cfg: dict[str, Any], data: LoadedData, *, progress: Progress = quiet,
            timings: dict[str, float] | None = None) -> RunResult:
    """Analyse loaded data: features, choose k, fit, validate, profile, rule segments.

    Nothing is written; the result has no model yet (:func:`save_run_model` adds it).

    Parameters
    ----------
    cfg : dict
        Validated configuration (:func:`segml.config.load_config` or
        ``segml.config.DEFAULTS`` with overrides).
    data : LoadedData
        Validated input (:func:`load_data`).
    progress : callable, optional
        Receives one message per step.
    timings : dict, optional
        Seconds per step are added to it (and to ``result.timings``).

    Returns
    -------
    RunResult
        Everything but ``scores``, ``model_path`` and ``manifest``.

    Raises
    ------
    ConfigError
        Too few customers for the configured k range, or a missing ``features.as_of``.
    """
    from segml.cluster.drivers import between_ss_shares
    from segml.playbook import load_playbook
    from segml.rules import builtin_missing_columns

    timings = {} if timings is None else timings
    tick = StageClock(timings)

    playbook = load_playbook(cfg.get("profiles", {}).get("playbook"))  # bad file: before work
    as_of = run_as_of(cfg, data)
    progress(f"building features as of {as_of.date()}")
    fs = build_run_features(cfg, data)
    X, frame, preprocessor = model_matrix(cfg, fs, return_preprocessor=True)
    # before any fitting: rule sets whose features this data lacks are skipped, not failed
    rules_skipped = {name: miss for name in cfg["rules"]["sets"]
                     if (miss := builtin_missing_columns(name, fs.frame.columns))}
    tick("features")

    seg_cfg = cfg["segmentation"]
    progress(f"choosing k in {seg_cfg['k_min']}..{seg_cfg['k_max']} "
             f"({', '.join(seg_cfg['algorithms'])}) on {len(X):,} customers")
    # the sweep's own bar only when the caller's progress says bars are wanted (CLI on a TTY)
    selection = run_select_k(cfg, X, fs, progress=bool(getattr(progress, "bars", False)))
    if selection.settings.get("screen_note"):  # large data: what k selection skipped
        progress("note: k selection " + selection.settings["screen_note"])
    tick("select_k")

    # "tiers": a value partition (value tiers or the RFM groups), not clusters
    partition = resolve_verdict(cfg, selection, fs, frame, progress)
    tiers = partition is not None
    segmenter = (partition if tiers
                 else fit_recommended(cfg, selection, frame, preprocessor, progress))
    labels = pd.Series(segmenter.labels_, index=frame.index, name="segment")
    drivers = between_ss_shares(X, segmenter.labels_)
    check_size_floor(fs, labels, seg_cfg["min_segment_share"], progress,
                     partition=selection.settings.get("partition"))
    tick("fit")

    validation, profiles, rule_labels, comparisons = describe_segments(
        cfg, fs, frame, segmenter, labels, playbook=playbook, rules_skipped=rules_skipped,
        progress=progress, tick=tick)

    span = None
    if data.transactions is not None and len(data.transactions):
        ts = data.transactions["timestamp"]
        span = (ts.min(), ts.max())
    return assemble_run(
        cfg, data_name=data.name, quality=data.quality, truth=data.truth,
        run_id=run_id_for(cfg, data, as_of), fs=fs, X=X, frame=frame, selection=selection,
        segmenter=segmenter, labels=labels, partition=tiers, described=(
            validation, profiles, rule_labels, comparisons), timings=timings,
        rules_skipped=rules_skipped, as_of=as_of, span=span, drivers=drivers)


def assemble_run(cfg: dict[str, Any], *, data_name: str, quality: dict[str, Any],
                 truth: pd.Series | None, run_id: str, fs: Any, X: Any, frame: pd.DataFrame,
                 selection: Any, segmenter: Any, labels: pd.Series, partition: bool,
                 described: tuple[Any, Any, dict, dict], timings: dict[str, float],
                 rules_skipped: dict[str, Any], as_of: pd.Timestamp, span: Any,
                 drivers: Any) -> RunResult:
    """Build the :class:`RunResult` of an analysis (both engines: :mod:`segml.spark.run`).

    Adds what every run reports besides its segments: the ARI against a planted truth
    (``selection.settings["ari_vs_planted_truth"]``), the Pareto curve of ``monetary`` and
    the 2-D map (centres drawn for clusters, not for a value partition).

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    described : tuple
        ``(validation, profiles, rule_labels, comparisons)`` of :func:`describe_segments`.
    partition : bool
        True when the segments are a value partition ("no clear segments"), not clusters.
    data_name, quality, truth, run_id, fs, X, selection, segmenter, labels
        The :class:`RunResult` fields of the same name.
    timings, rules_skipped, as_of, drivers
        The :class:`RunResult` fields of the same name.
    frame : pandas.DataFrame
        The clustered customers' raw feature rows.
    span : tuple of pandas.Timestamp or None
        First and last transaction timestamp (None without transactions); the training
        window is that span cut at the end of the ``as_of`` day.

    Returns
    -------
    RunResult
    """
    from sklearn.metrics import adjusted_rand_score

    from segml.features import pareto
    from segml.projection import project_2d

    if truth is not None:
        selection.settings["ari_vs_planted_truth"] = float(
            adjusted_rand_score(truth.loc[frame.index], labels))
    validation, profiles, rule_labels, comparisons = described
    window = None if span is None else (
        span[0], min(span[1], as_of.normalize() + pd.Timedelta(days=1, seconds=-1)))
    return RunResult(
        run_id=run_id, config=cfg, data_name=data_name,
        quality={**quality, "features": fs.report}, features=fs, model_matrix=X,
        selection=selection, segmenter=segmenter, validation=validation, profiles=profiles,
        labels=labels, rule_labels=rule_labels, comparisons=comparisons,
        pareto=pareto(frame["monetary"]) if "monetary" in frame.columns else None,
        projection=project_2d(X, labels.to_numpy(),
                              None if partition else segmenter.cluster_centers_,
                              random_state=cfg["segmentation"]["random_state"]),
        truth=truth, timings=timings, rules_skipped=rules_skipped, as_of=as_of,
        training_window=window, drivers=drivers,
    )


def describe_segments(cfg: dict[str, Any], fs: Any, frame: pd.DataFrame, segmenter: Any,
                      labels: pd.Series, *, playbook: Any, rules_skipped: dict[str, Any],
                      progress: Progress = quiet, tick: Any = None,
                      silhouette_note: str = "silhouettes") -> tuple[Any, Any, dict, dict]:
    """Validate, profile and name the fitted segments, and compare them with the rule sets.

    The steps after the fit that both engines run on the driver's per-customer table
    (:func:`analyse` and :mod:`segml.spark.run`).

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    fs : segml.features.FeatureSet
        The run's features (the rule sets are fitted on ``fs.frame``).
    frame : pandas.DataFrame
        The clustered customers' raw feature rows.
    segmenter : estimator
        The fitted clustering or value partition.
    labels : pandas.Series
        Its segment of every row of ``frame``.
    playbook : segml.playbook.Playbook or None
        Names and actions for the profiles.
    rules_skipped : dict
        Rule sets skipped for missing features (named in the progress line).
    progress : callable, optional
        Receives one message per step.
    tick : callable, optional
        :class:`~segml.pipeline.result.StageClock` marking ``validate``, ``profile``, ``rules``.
    silhouette_note : str
        What the validation line says it computes.

    Returns
    -------
    (ValidationResult, SegmentProfiles, dict, dict)
        Validation, profiles (rule groups keep their rule set's names), rule labels per set
        and their comparisons with the segments.
    """
    from segml.cluster import profile_segments, validate_segments
    from segml.rules import builtin_segmenter, compare_segmentations

    seg_cfg = cfg["segmentation"]
    mark = tick or (lambda name: None)
    progress(f"validating segments ({silhouette_note}, stability)")
    # rule groups sit on their 0/1 indicators (radius 0): separation ratios are inf, say
    # nothing of the divide by zero (the summary labels this space for what it is)
    with np.errstate(divide="ignore", invalid="ignore"):
        validation = validate_segments(segmenter, frame, stability=seg_cfg["stability"],
                                       n_resamples=seg_cfg["n_stability"],
                                       random_state=seg_cfg["random_state"])
    mark("validate")

    progress("profiling and naming segments")
    profiles = profile_segments(frame, labels, playbook=playbook)
    if hasattr(segmenter, "rules_name_"):  # rule groups keep the rule set's names
        profiles.names = pd.Series(segmenter.segment_names_, index=profiles.names.index,
                                   name=profiles.names.name)
    names = {int(k): str(v) for k, v in profiles.names.items()}
    named = labels.map(names).rename("segment_name")
    mark("profile")

    run_sets = [n for n in cfg["rules"]["sets"] if n not in rules_skipped]
    progress(f"rule segments ({', '.join(run_sets) or 'none'}) and comparison"
             + (f"; skipped {', '.join(rules_skipped)}: features missing (see the notes)"
                if rules_skipped else ""))
    rule_labels: dict[str, pd.Series] = {}
    comparisons: dict[str, Any] = {}
    for set_name in run_sets:
        rs = builtin_segmenter(set_name).fit(fs.frame)
        rule_labels[set_name] = pd.Series(rs.predict(fs.frame), index=fs.frame.index,
                                          name=set_name)
        comparisons[set_name] = compare_segmentations(
            named, rule_labels[set_name].loc[frame.index], frame,
            names=("clusters", set_name),
        )
    mark("rules")
    return validation, profiles, rule_labels, comparisons


def check_size_floor(fs: Any, labels: pd.Series, floor: float, progress: Progress = quiet,
                     partition: str | None = None) -> None:
    """Record whether every clustered segment reaches ``min_segment_share``; say so if not.

    The floor applies to the clustered customers (degenerate groups and prospects are not
    in it) and is never switched off silently: ``fs.report["size_floor"]`` holds the
    smallest share and whether the floor was met, and a miss is reported as progress.
    """
    shares = labels.value_counts(normalize=True)
    smallest = float(shares.min()) if len(shares) else 0.0
    met = smallest >= floor
    fs.report["size_floor"] = {"min_segment_share": floor, "smallest_share": round(smallest, 4),
                               "met": bool(met)}
    if not met:
        seg = int(shares.idxmin())
        why = ("the RFM groups are rules: a small group is kept as it is, not merged"
               if partition == "rfm_groups" else
               "no k met the floor or the selection kept this k (see the k-selection "
               "rationale)")
        fs.report["size_floor"]["note"] = (
            f"segment {seg} holds {smallest:.1%} of the clustered customers, under the size "
            f"floor segmentation.min_segment_share={floor:.0%}; {why}")
        progress("note: " + fs.report["size_floor"]["note"])


def run_model(run: RunResult, *, name: str | None = None) -> Any:
    """Bundle a run's fitted segmenter, feature state, names, profiles and metrics.

    Parameters
    ----------
    run : RunResult
        Output of :func:`analyse`.
    name : str, optional
        Model name (default ``output.model_name``, else the run id).

    Returns
    -------
    segml.model.SegmentModel
        Not saved (see :func:`segml.persistence.save_model`).
    """
    from segml.model import SegmentModel

    frame = run.features.frame.loc[run.labels.index]
    return SegmentModel.from_training(
        run.segmenter, frame, name=name or run.config["output"]["model_name"] or run.run_id,
        feature_set=run.features, as_of=run.as_of, training_window=run.training_window,
        segment_names={int(k): str(v) for k, v in run.profiles.names.items()},
        segment_roles={int(k): str(v) for k, v in run.profiles.roles.items()},
        profiles=run.profiles, metrics=run.validation,
        kind={"value_tiers": "value_tiers", "rfm_groups": "rules"}.get(
            run.selection.settings.get("partition"), "clusters"),
    )


def save_run_model(run: RunResult, *, progress: Progress = quiet, overwrite: bool = True,
                   publish: bool = True, key: bytes | None = None) -> RunResult:
    """Save the run's model, reload it and check it reproduces the training labels.

    Fills ``run.scores`` (every clustered customer scored by the *reloaded* model),
    ``run.model_path`` and ``run.manifest``.

    Parameters
    ----------
    run : RunResult
        Output of :func:`analyse` (changed in place and returned).
    progress : callable, optional
        Receives one message per step.
    overwrite : bool, default True
        Replace an existing model of the same name (the old one is kept as a version).
    publish : bool, default True
        Publish at once; with False the model is only staged (``run.staged_model``) and
        :func:`write_run` publishes it.
    key : bytes, optional
        Sign the manifest with HMAC-SHA256.

    Returns
    -------
    RunResult
        ``run`` itself.

    Raises
    ------
    RuntimeError
        The reloaded model does not give back the training labels.
    """
    t = [time.perf_counter()]
    progress("saving the model")
    cfg = run.config

    def saved() -> None:
        run.timings["save"] = round(time.perf_counter() - t[0], 3)
        t[0] = time.perf_counter()
        progress("scoring customers with the reloaded model")

    staged, loaded, scored = stage_checked(
        run_model(run), run, root=cfg["output"]["models_dir"], key=key,
        format=cfg["output"].get("model_format") or "joblib", on_saved=saved)
    try:
        run.timings["score"] = round(time.perf_counter() - t[0], 3)
        run.model_path = staged.target
        run.scores = scored
        run.manifest = dict(loaded.manifest or {})
        if publish:
            staged.publish(overwrite=overwrite)
            staged.discard()
        else:
            run.staged_model = staged
    except BaseException:
        staged.discard()
        raise
    return run


def stage_checked(model: Any, run: RunResult, path: str | Path | None = None, *,
                  root: str | Path = "models", key: bytes | None = None,
                  format: str = "joblib", on_saved: Callable[[], None] | None = None
                  ) -> tuple[Any, Any, pd.DataFrame]:
    """Stage ``model``, reload it and check it gives back the run's training labels.

    The one save path of ``segml run`` and :meth:`segml.Segmentation.save`: nothing is
    published here, so a model that does not reproduce its training segments never
    replaces a good one (the staged copy is discarded on any failure).

    Parameters
    ----------
    model : segml.model.SegmentModel
        Usually :func:`run_model` of ``run``.
    run : RunResult
        The analysis whose clustered customers and labels the reload must reproduce.
    path, root, key, format
        As in :func:`segml.persistence.stage_model`.
    on_saved : callable, optional
        Called once the files are staged, before the reload (progress messages).

    Returns
    -------
    tuple
        ``(staged, loaded, scores)``: the :class:`~segml.persistence.StagedModel` (publish
        or discard it), the reloaded model and its score table of the clustered customers.

    Raises
    ------
    RuntimeError
        The reloaded model does not give back the training labels.
    """
    from segml.persistence import load_staged, stage_model
    from segml.scoring import score_features

    staged = stage_model(model, path, root=root, key=key, format=format)
    try:
        if on_saved is not None:
            on_saved()
        loaded = load_staged(staged, key=key)
        scored = score_features(loaded, run.features.frame.loc[run.labels.index]).frame
        if not np.array_equal(scored["segment_id"].to_numpy(), run.labels.to_numpy()):
            raise RuntimeError("the reloaded model does not reproduce the training labels; "
                               "nothing was published")
    except BaseException:
        staged.discard()
        raise
    return staged, loaded, scored


def run_pipeline(cfg: dict[str, Any], *, progress: Progress = quiet,
                 save_overwrite: bool = True, data_overwrite: bool = False,
                 publish_model: bool = True, key: bytes | None = None) -> RunResult:
    """Run the whole pipeline; return every result (nothing but data/ and models/ written).

    Steps: load and validate → features as of a date → choose k → fit → validate →
    profile and name → rule segments and comparison (:func:`analyse`) → save the model →
    score every clustered customer with the *reloaded* model, so each run checks the
    round trip (:func:`save_run_model`).

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    progress : callable, optional
        Receives one message per step.
    save_overwrite : bool, default True
        Replace an existing model of the same name (the old one is kept as a version).
    data_overwrite : bool, default False
        Regenerate a demo folder holding another portfolio.
    publish_model : bool, default True
        Publish the saved model under its name at once. With False the model is only
        staged (written completely under a hidden temporary folder, ``result.staged_model``)
        and :func:`write_run` publishes it once the run folder is written, so a failed
        run leaves no model behind.
    key : bytes, optional
        Sign the model's manifest with HMAC-SHA256 (loading then needs the key).

    Returns
    -------
    RunResult
    """
    if cfg.get("engine", {}).get("engine") == "spark":  # issue 16: same outputs, on Spark
        from segml.spark.run import run_spark

        return run_spark(cfg, progress=progress, save_overwrite=save_overwrite,
                         data_overwrite=data_overwrite, publish_model=publish_model, key=key)
    t = time.perf_counter()
    check_run_config(cfg)
    data = load_data(cfg, progress=progress, overwrite=data_overwrite)
    timings = {"load": round(time.perf_counter() - t, 3)}
    run = analyse(cfg, data, progress=progress, timings=timings)
    return save_run_model(run, progress=progress, overwrite=save_overwrite,
                          publish=publish_model, key=key)

"""The main job: data, features, choose k, fit, validate, profile, rules, save, score.

``run_pipeline(config)`` is what ``segml run`` (and ``make run``) calls. It returns a
:class:`RunResult` holding every result object; writing the run folder and the
HTML report are separate steps (:func:`write_run`), so notebooks can run the
pipeline and look at the results without touching the disk.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, OutputExistsError

__all__ = [
    "N_STEPS",
    "LoadedData",
    "RunResult",
    "load_data",
    "build_run_features",
    "model_matrix",
    "run_select_k",
    "run_pipeline",
    "write_run",
    "check_outputs",
    "RUN_MARKER",
    "print_run_summary",
    "score_data",
    "check_run_config",
]

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


Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Progress callback that says nothing."""


@dataclass
class LoadedData:
    """Validated input of one run.

    Attributes
    ----------
    name : str
        Source name (``demo``, a loader name, or the transactions file stem).
    transactions : DataFrame or None
        Canonical transactions (None for customer-only sources).
    customers : DataFrame or None
        Canonical customers.
    quality : dict of str to DataQualityReport
        One report per validated table.
    aggregates : DataFrame or None
        Per-customer aggregates shipped by the source instead of transactions.
    truth : Series or None
        Planted segments (demo only; never a feature).
    default_as_of : Timestamp or None
        The demo portfolio's end date (real data has none: as_of must be given).
    """

    name: str
    transactions: pd.DataFrame | None
    customers: pd.DataFrame | None
    quality: dict[str, Any] = field(default_factory=dict)
    aggregates: pd.DataFrame | None = None
    truth: pd.Series | None = None
    default_as_of: pd.Timestamp | None = None


def _load_demo(cfg: dict[str, Any], *, overwrite: bool) -> LoadedData:
    """Generate the demo portfolio; write it to ``[demo].folder`` unless the same one is there."""
    from segml.datasets import make_portfolio
    from segml.schema import validate_customers, validate_transactions

    demo = cfg["demo"]
    pf = make_portfolio(demo["n_customers"], n_segments=demo["n_segments"],
                        random_state=demo["random_state"])
    folder = Path(demo["folder"])
    if folder.exists() and not overwrite:
        try:
            same = (pd.read_parquet(folder / "customers.parquet").equals(pf.customers)
                    and pd.read_parquet(folder / "transactions.parquet").equals(pf.transactions))
        except (OSError, ValueError):
            same = False
        if not same:
            raise OutputExistsError(
                f"{folder} holds a different demo portfolio than [demo] asks for; refusing to "
                "overwrite it. Fix: pass --force, or set [demo].folder to another folder."
            )
    else:
        pf.write(folder, overwrite=overwrite)
    tx, tx_rep = validate_transactions(pf.transactions, customers=pf.customers)
    cust, c_rep = validate_customers(pf.customers)
    return LoadedData(name="demo", transactions=tx, customers=cust,
                      quality={"transactions": tx_rep, "customers": c_rep},
                      truth=pf.truth, default_as_of=pf.as_of)


_LOADERS = {
    "cdnow": ("load_cdnow", {}),
    "cdnow_sample": ("load_cdnow", {"sample": True}),
    "marketing_campaign": ("load_marketing_campaign", {}),
    "mall_customers": ("load_mall_customers", {}),
    "online_retail": ("load_online_retail", {}),
}


#: The [data] value options each named loader honours; setting another one is an error
#: rather than silently ignored.
_LOADER_VALUE_OPTIONS = {
    "cdnow": ("dedupe",),
    "cdnow_sample": ("dedupe",),
    "online_retail": ("dedupe", "dayfirst", "exclude_products", "exclude_product_pattern"),
}
_VALUE_OPTIONS = ("errors", "dayfirst", "date_sentinels", "customer_date_format", "dedupe",
                  "exclude_products", "exclude_product_pattern")


def _loader_value_options(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return the [data] value options loader ``name`` takes; refuse the ones it ignores."""
    from segml.config import DEFAULTS

    supported = _LOADER_VALUE_OPTIONS.get(name, ())
    given = {k: data[k] for k in _VALUE_OPTIONS if data[k] != DEFAULTS["data"][k]}
    ignored = [k for k in given if k not in supported]
    if ignored:
        flag = "--" + ignored[0].replace("_", "-")
        raise ConfigError(
            f"config: data.{ignored[0]} ({flag}) has no effect with loader {name!r}, which "
            f"applies its own documented rules. Fix: remove it"
            + (f" (this loader takes: {', '.join(supported)})" if supported else "")
            + ", or read the file with data.transactions / --transactions instead."
        )
    return {k: (list(v) if isinstance(v, list) else v) for k, v in given.items()}


def load_data(cfg: dict[str, Any], *, progress: Progress = _quiet,
              overwrite: bool = False) -> LoadedData:
    """Load and validate the run's data: a named loader, the user's files, or the demo.

    Parameters
    ----------
    cfg : dict
        Validated configuration (:func:`segml.config.load_config`).
    progress : callable, optional
        Receives a message per step.
    overwrite : bool, default False
        Allow regenerating a demo folder that holds a different portfolio.

    Returns
    -------
    LoadedData
    """
    from segml import io

    data = cfg["data"]
    if data["loader"]:
        name = data["loader"]
        if name not in _LOADERS:
            raise ConfigError(f"config: data.loader={name!r} is unknown. Fix: pass --loader "
                              f"(config: [data] loader) with one of {', '.join(_LOADERS)}.")
        progress(f"loading {name}")
        fn, kwargs = _LOADERS[name]
        kwargs = {**kwargs, **_loader_value_options(name, data)}
        ds = getattr(io, fn)(data["path"], **kwargs) if name != "online_retail" else \
            io.load_online_retail(data["path"] or "", date_format=data["timestamp_format"],
                                  sheet=data.get("sheet"), as_of=cfg["features"]["as_of"],
                                  **kwargs)
        customers, aggregates = ds.customers, ds.features
        if (ds.transactions is None and aggregates is not None and customers is not None
                and not {"frequency", "monetary"} <= set(aggregates.columns)):
            # per-customer attributes (e.g. Mall's spending score), not transaction totals:
            # a customer-only source, so they join the customers table
            customers = _join_attributes(customers, aggregates)
            aggregates = None
        return LoadedData(name=name, transactions=ds.transactions, customers=customers,
                          quality=dict(ds.reports), aggregates=aggregates)
    if data["transactions"] or data["customers"]:
        progress("reading and validating your files")
        quality: dict[str, Any] = {}
        reading = {k: data.get(k) for k in ("sep", "encoding", "decimal", "thousands")}
        reading["ignore_columns"] = data.get("ignore_columns") or ()
        cust = None
        values = {k: data[k] for k in ("errors", "dayfirst", "date_sentinels", "dedupe")}
        if data["customers"]:
            cust, quality["customers"] = io.read_customers(
                data["customers"], data["customer_mapping"], **reading,
                sheet=data.get("customer_sheet"),
                date_format=data["customer_date_format"], **values)
        tx = None
        if data["transactions"]:
            tx, quality["transactions"] = io.read_transactions(
                data["transactions"], data["mapping"], customers=cust, **reading,
                sheet=data.get("sheet"),
                negative_amounts=data["negative_amounts"],
                timestamp_format=data["timestamp_format"],
                exclude_products=data["exclude_products"] or None,
                exclude_product_pattern=data["exclude_product_pattern"], **values,
            )
        stem = Path(data["transactions"] or data["customers"]).stem
        return LoadedData(name=stem, transactions=tx, customers=cust, quality=quality)
    progress(f"generating the demo portfolio into {cfg['demo']['folder']}/")
    return _load_demo(cfg, overwrite=overwrite)


def _join_attributes(customers: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """Join per-customer attribute columns (indexed by customer_id) onto the customers table."""
    extra = extra.drop(columns=[c for c in extra.columns if c in customers.columns])
    if "customer_id" in customers.columns:
        return customers.join(extra, on="customer_id")
    return customers.join(extra)


def _as_of(cfg: dict[str, Any], data: LoadedData) -> pd.Timestamp:
    as_of = cfg["features"]["as_of"]
    if as_of is None:
        if data.default_as_of is None:
            raise ConfigError(
                "features.as_of is required for real data: segml never defaults it to the last "
                "date in the data. Fix: set [features] as_of = \"YYYY-MM-DD\" or pass --as-of."
            )
        return pd.Timestamp(data.default_as_of)
    return _parse_as_of(as_of)


def _parse_as_of(as_of: Any) -> pd.Timestamp:
    """Strict ISO date (see :func:`segml._asof.parse_as_of`)."""
    from segml._asof import parse_as_of

    return parse_as_of(as_of, where="config: features.as_of")


def check_run_config(cfg: dict[str, Any]) -> None:
    """Check what can be checked before any data is loaded or model fitted.

    ``features.as_of`` parses as a date and is set for real data (a loader or your files),
    and every ``rules.sets`` name is a built-in rule set. ``segml run``/``fit``/``report``
    (through :func:`run_pipeline`) and ``segml score``/``features``/``select-k`` call it first.

    Parameters
    ----------
    cfg : dict
        Validated configuration.

    Raises
    ------
    ConfigError
        Naming the option, the CLI flag and the fix.
    """
    from segml.rules import builtin_missing_columns

    as_of = cfg["features"]["as_of"]
    data = cfg["data"]
    if as_of is not None:
        _parse_as_of(as_of)
    elif data["loader"] or data["transactions"] or data["customers"]:
        raise ConfigError(
            "features.as_of is required for real data: segml never defaults it to the last "
            "date in the data. Fix: set [features] as_of = \"YYYY-MM-DD\" or pass --as-of."
        )
    for name in cfg["rules"]["sets"]:
        builtin_missing_columns(name, [])
    _check_segmentation(cfg["segmentation"])


def _check_segmentation(seg: dict[str, Any]) -> None:
    """Check the [segmentation] values select_k and the fit would only reject after loading."""
    from segml.cluster import ALGORITHMS, COVARIANCE_TYPES

    def bad(key: str, value: Any, need: str, flag: str = "") -> ConfigError:
        also = f" (or {flag})" if flag else ""
        return ConfigError(f"config: segmentation.{key}={value!r} {need}. Fix: set [segmentation] "
                           f"{key}{also} in the config file (segml init shows every key).")

    algos = list(seg["algorithms"])
    if not algos or any(a not in ALGORITHMS for a in algos):
        raise bad("algorithms", algos, f"should be a non-empty list of {', '.join(ALGORITHMS)}",
                  "segml fit --algorithm")
    covs = list(seg["covariance_types"])
    if not covs or any(c not in COVARIANCE_TYPES for c in covs):
        raise bad("covariance_types", covs,
                  f"should be a non-empty list of {', '.join(COVARIANCE_TYPES)}")
    if seg["n_stability"] < 1:
        raise bad("n_stability", seg["n_stability"], "should be at least 1 (refits per k)")
    if not 0.0 <= seg["min_segment_share"] < 1.0:
        raise bad("min_segment_share", seg["min_segment_share"], "should be in [0, 1)")
    fss = seg["fit_sample_size"]
    if fss is not None and fss != "auto" and (
        isinstance(fss, bool) or not isinstance(fss, int) or fss < seg["k_max"]
    ):
        raise bad("fit_sample_size", fss,
                  f"should be 'auto' or an integer >= k_max={seg['k_max']}")
    if isinstance(seg["n_jobs"], bool) or not isinstance(seg["n_jobs"], int) \
            or seg["n_jobs"] == 0:
        raise bad("n_jobs", seg["n_jobs"], "should be a non-zero integer (-1: all cores)")


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
    fs = FeatureBuilder(spec, lookback_days=fcfg["lookback_days"]).fit_transform(
        data.transactions, data.customers, as_of=_as_of(cfg, data), aggregates=data.aggregates)
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


def model_matrix(cfg: dict[str, Any], fs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the model matrix and the raw frame of the customers that are clustered.

    Prospects (no purchase) are left out when ``features.buyers_only`` (default):
    they have no behaviour to cluster on, and the lifecycle rules place them.

    Returns
    -------
    (DataFrame, DataFrame)
        Model matrix and the raw feature rows it was built from (same index).
    """
    from segml.features import make_preprocessor

    frame = fs.frame
    if cfg["features"]["buyers_only"] and "is_prospect" in frame.columns:
        frame = frame[~frame["is_prospect"].astype(bool)]
    if len(frame) < 3:
        raise ConfigError(
            f"only {len(frame)} customers to cluster; need at least 3. Fix: check --as-of "
            "(customers first seen later are left out) and the input files, or set "
            "[features] buyers_only = false to cluster prospects too."
        )
    X = make_preprocessor(fs.spec, frame).fit_transform(frame)
    return X, frame


def run_select_k(cfg: dict[str, Any], X: pd.DataFrame, fs: Any = None, *,
                 progress: bool = True) -> Any:
    """Sweep k over the configured algorithms (see :func:`segml.cluster.select_k`)."""
    from segml.cluster import select_k

    seg = cfg["segmentation"]
    if seg["k_max"] >= len(X):
        which = "k_min" if seg["k_min"] >= len(X) else "k_max"
        raise ConfigError(
            f"segmentation.{which}={seg[which]} needs more customers: only {len(X):,} to "
            f"cluster, and k must be below that. Fix: pass a smaller --k (config: "
            f"[segmentation] k_min/k_max, at most {len(X) - 1:,}), or use more data "
            "(check --as-of)."
        )
    return select_k(
        X, k_range=range(seg["k_min"], seg["k_max"] + 1), algorithms=seg["algorithms"],
        covariance_types=seg["covariance_types"], stability=seg["stability"],
        n_stability=seg["n_stability"], min_segment_share=seg["min_segment_share"],
        rule=seg["rule"], min_jaccard=seg["min_jaccard"],
        fit_sample_size=seg["fit_sample_size"], n_jobs=seg["n_jobs"], progress=progress,
        random_state=seg["random_state"],
    )


def _run_id(cfg: dict[str, Any], data: LoadedData, as_of: pd.Timestamp) -> str:
    if cfg["output"]["run_id"]:
        return cfg["output"]["run_id"]
    # a default from a file name ("Online Retail II.xlsx") becomes a plain folder name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(data.name)).lstrip("._-")[:100] or "data"
    return f"{stem}-{as_of:%Y%m%d}"


def run_pipeline(cfg: dict[str, Any], *, progress: Progress = _quiet,
                 save_overwrite: bool = True, data_overwrite: bool = False,
                 publish_model: bool = True, key: bytes | None = None) -> RunResult:
    """Run the whole pipeline; return every result (nothing but data/ and models/ written).

    Steps: load and validate → features as of a date → choose k → fit → validate →
    profile and name → rule segments and comparison → save the model → score every
    clustered customer with the *reloaded* model (so each run checks the round trip).

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
    from sklearn.metrics import adjusted_rand_score

    from segml.cluster import Segmenter, profile_segments, validate_segments
    from segml.features import make_preprocessor, pareto
    from segml.persistence import SegmentModel, load_staged, stage_model
    from segml.projection import project_2d
    from segml.rules import builtin_missing_columns, builtin_segmenter, compare_segmentations
    from segml.scoring import score_features

    timings: dict[str, float] = {}
    t = time.perf_counter()

    def tick(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = round(now - t, 3)
        t = now

    check_run_config(cfg)
    data = load_data(cfg, progress=progress, overwrite=data_overwrite)
    tick("load")
    as_of = _as_of(cfg, data)
    progress(f"building features as of {as_of.date()}")
    fs = build_run_features(cfg, data)
    X, frame = model_matrix(cfg, fs)
    # before any fitting: rule sets whose features this data lacks are skipped, not failed
    rules_skipped = {name: miss for name in cfg["rules"]["sets"]
                     if (miss := builtin_missing_columns(name, fs.frame.columns))}
    tick("features")

    seg_cfg = cfg["segmentation"]
    progress(f"choosing k in {seg_cfg['k_min']}..{seg_cfg['k_max']} "
             f"({', '.join(seg_cfg['algorithms'])}) on {len(X):,} customers")
    selection = run_select_k(cfg, X, fs, progress=False)
    tick("select_k")

    rec = selection.recommended
    progress(f"fitting {rec['algorithm']} with k={rec['k']}")
    params = dict(rec.get("params", {}))
    params.update(algorithm=rec["algorithm"], n_clusters=rec["k"],
                  random_state=seg_cfg["random_state"])
    if rec["algorithm"] == "gmm":
        params["covariance_type"] = rec["covariance_type"]
    params.pop("preprocessor", None)
    if "monetary" in frame.columns:
        params.setdefault("order_by", "monetary")
    segmenter = Segmenter(preprocessor=make_preprocessor(fs.spec, frame), **params).fit(frame)
    labels = pd.Series(segmenter.labels_, index=frame.index, name="segment")
    tick("fit")

    progress("validating segments (silhouettes, stability)")
    validation = validate_segments(segmenter, frame, stability=seg_cfg["stability"],
                                   n_resamples=seg_cfg["n_stability"],
                                   random_state=seg_cfg["random_state"])
    tick("validate")

    progress("profiling and naming segments")
    profiles = profile_segments(frame, labels)
    names = {int(k): str(v) for k, v in profiles.names.items()}
    roles = {int(k): str(v) for k, v in profiles.roles.items()}
    named = labels.map(names).rename("segment_name")
    tick("profile")

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
    tick("rules")

    progress("saving the model")
    model_name = cfg["output"]["model_name"] or _run_id(cfg, data, as_of)
    window = None
    if data.transactions is not None and len(data.transactions):
        ts = data.transactions["timestamp"]
        window = (ts.min(), min(ts.max(), as_of.normalize() + pd.Timedelta(days=1, seconds=-1)))
    model = SegmentModel.from_training(
        segmenter, frame, name=model_name, feature_set=fs, as_of=as_of,
        training_window=window, segment_names=names, segment_roles=roles,
        profiles=profiles, metrics=validation,
    )
    staged = stage_model(model, root=cfg["output"]["models_dir"], key=key,
                         format=cfg["output"].get("model_format") or "joblib")
    try:
        tick("save")

        progress("scoring customers with the reloaded model")
        loaded = load_staged(staged, key=key)
        scored = score_features(loaded, frame).frame
        if not np.array_equal(scored["segment_id"].to_numpy(), labels.to_numpy()):
            raise RuntimeError("the reloaded model does not reproduce the training labels")
        tick("score")
        model_path = staged.target
        if publish_model:
            staged.publish(overwrite=save_overwrite)
            staged.discard()
            staged = None
    except BaseException:
        staged.discard()
        raise

    try:
        truth = None
        if data.truth is not None:
            truth = data.truth
            timings_ari = adjusted_rand_score(truth.loc[frame.index], labels)
            selection.settings["ari_vs_planted_truth"] = float(timings_ari)

        result = RunResult(
            run_id=_run_id(cfg, data, as_of), config=cfg, data_name=data.name,
            quality={**data.quality, "features": fs.report}, features=fs, model_matrix=X,
            selection=selection, segmenter=segmenter, validation=validation, profiles=profiles,
            labels=labels, rule_labels=rule_labels, comparisons=comparisons,
            pareto=pareto(frame["monetary"]) if "monetary" in frame.columns else None,
            projection=project_2d(X, labels.to_numpy(), segmenter.cluster_centers_,
                                  random_state=seg_cfg["random_state"]),
            scores=scored, model_path=model_path, manifest=dict(loaded.manifest or {}),
            truth=truth, timings=timings, rules_skipped=rules_skipped,
                staged_model=staged,
        )
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    return result


def _skip_note(missing: list[str]) -> str:
    """Say why a rule set was skipped: the features it needs that the data lacks."""
    shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
    return f"needs {shown}, which this data has no transactions (or columns) for"


def _segments_table(run: RunResult) -> pd.DataFrame:
    """Build the customer -> segment, name, role, confidence table (prospects included)."""
    names = {int(k): str(v) for k, v in run.profiles.names.items()}
    roles = {int(k): str(v) for k, v in run.profiles.roles.items()}
    sc = run.scores.set_index("customer_id")
    out = pd.DataFrame(index=run.features.frame.index)
    out["segment_id"] = sc["segment_id"].reindex(out.index).fillna(-1).astype(int)
    out["segment_name"] = out["segment_id"].map(names).fillna("prospect (not clustered)")
    out["role"] = out["segment_id"].map(roles).fillna("to reach")
    out["confidence"] = sc["confidence"].reindex(out.index)
    out["distance"] = sc["distance"].reindex(out.index)
    out["fits_no_segment"] = sc["fits_no_segment"].reindex(out.index).fillna(False).astype(bool)
    for set_name, lab in run.rule_labels.items():
        out[set_name] = lab.reindex(out.index).astype("str")
    return out.reset_index()


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def config_to_toml(cfg: dict[str, Any]) -> str:
    """Write the configuration back as TOML (unset keys are left out)."""
    lines: list[str] = ["# the configuration this run used (segml run --config this-file)"]

    def table(path: str, d: dict[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict) and v is not None}
        subs = {k: v for k, v in d.items() if isinstance(v, dict)}
        lines.append(f"\n[{path}]")
        lines.extend(f"{json.dumps(k) if not k.isidentifier() else k} = {_toml_value(v)}"
                     for k, v in scalars.items())
        for k, v in subs.items():
            table(f"{path}.{k}", v)

    for section, values in cfg.items():
        table(section, values)
    return "\n".join(lines) + "\n"


#: Marker file inside every run folder segml writes; ``--force`` replaces only such folders.
RUN_MARKER = ".segml-run"
#: What a run folder of an older segml (without the marker) may hold.
_RUN_FILES = frozenset({"report.html", "figures", "segments.csv", "segments.parquet",
                        "profiles.csv", "metrics.json", "config.toml"})
_DEMO_FILES = frozenset(f"{t}.{ext}" for t in ("transactions", "customers", "truth")
                        for ext in ("parquet", "csv"))
_MODEL_FORMATS = ("joblib", "skops")


def _planned_run_id(cfg: dict[str, Any]) -> str:
    """Work out the run id :func:`run_pipeline` will use, without loading any data."""
    if cfg["output"]["run_id"]:
        return cfg["output"]["run_id"]
    data = cfg["data"]
    default_as_of = None
    if data["loader"]:
        name = data["loader"]
    elif data["transactions"] or data["customers"]:
        name = Path(data["transactions"] or data["customers"]).stem
    else:
        import inspect

        from segml.datasets import make_portfolio

        name = "demo"
        default_as_of = pd.Timestamp(inspect.signature(make_portfolio).parameters["end"].default)
    as_of = _as_of(cfg, LoadedData(name=name, transactions=None, customers=None,
                                   default_as_of=default_as_of))
    return _run_id(cfg, LoadedData(name=name, transactions=None, customers=None), as_of)


def check_outputs(cfg: dict[str, Any], *, overwrite: bool, report: bool = True,
                  model: bool = True) -> dict[str, Any]:
    """Check every output location of a run before any work starts; fix the run id.

    Checks that the run id and model name are plain names confined to their folders,
    that ``[output] model_format`` is known, and that the run folder, the model name and
    the demo data folder either do not exist or (with ``overwrite``) are segml's own.
    Sets ``cfg["output"]["run_id"]`` (and ``model_name`` when unset) to the names used,
    so the run writes exactly what was checked.

    Parameters
    ----------
    cfg : dict
        Validated configuration (updated in place).
    overwrite : bool
        ``--force``: replace segml's existing outputs.
    report : bool, default True
        The run writes a run folder (``segml run``, ``segml report``).
    model : bool, default True
        The run saves a model (``segml run``, ``segml fit``).

    Returns
    -------
    dict
        ``run_id``, ``run_folder`` (or None), ``model_name``, ``model_path`` (or None).

    Raises
    ------
    ConfigError
        A name that is not plain, an unknown model format, or a folder that is not
        segml's where an output goes.
    OutputExistsError
        An output exists and ``overwrite`` is false.
    OutputWriteError
        An output folder is not writable.
    """
    from segml._atomic import check_name, check_parent, check_replaceable_dir
    from segml.model import check_model_name
    from segml.persistence import check_model_target

    out = cfg["output"]
    fmt = out.get("model_format") or "joblib"
    if fmt not in _MODEL_FORMATS:
        raise ConfigError(
            f"config: output.model_format={fmt!r} is not one of {_MODEL_FORMATS}. Fix: set "
            "[output] model_format = \"joblib\" or \"skops\" (or --model-format)."
        )
    if out["run_id"] is not None:
        check_name(out["run_id"], what="run id",
                   fix="pass a plain --run-id such as 'q4-2024' ([output] run_id in the "
                   "config); the run folder is <reports_dir>/<run id>.")
    if out["model_name"] is not None:
        check_model_name(out["model_name"])
    run_id = check_name(_planned_run_id(cfg), what="run id",
                        fix="pass a plain --run-id such as 'q4-2024' ([output] run_id in the "
                        "config).")
    out["run_id"] = run_id
    model_name = out["model_name"] or run_id
    plan: dict[str, Any] = {"run_id": run_id, "run_folder": None, "model_name": model_name,
                            "model_path": None}
    if report:
        check_parent(Path(out["reports_dir"]) / run_id, option="[output] reports_dir")
        plan["run_folder"] = check_replaceable_dir(
            Path(out["reports_dir"]) / run_id, overwrite=overwrite, marker=RUN_MARKER,
            known=_RUN_FILES, what="run folder")
    if model:
        check_model_name(model_name)
        out["model_name"] = model_name
        check_parent(Path(out["models_dir"]) / model_name, option="[output] models_dir")
        plan["model_path"] = check_model_target(Path(out["models_dir"]) / model_name,
                                                overwrite=overwrite)
    data = cfg["data"]
    demo = Path(cfg["demo"]["folder"])
    if (overwrite and not (data["loader"] or data["transactions"] or data["customers"])
            and demo.exists()):
        check_replaceable_dir(demo, overwrite=True, marker=RUN_MARKER, known=_DEMO_FILES,
                              what="demo data folder")
    return plan


def write_run(run: RunResult, *, overwrite: bool = False,
              publish_model: bool = True) -> dict[str, Path]:
    """Write the run folder ``<reports_dir>/<run_id>/`` atomically (and publish the model).

    Contents: ``report.html`` (self-contained), ``figures/*.png``, ``segments.csv`` and
    ``segments.parquet`` (customer -> segment, name, role, confidence, rule segments),
    ``profiles.csv``, ``metrics.json``, ``config.toml`` (the configuration used) and the
    marker ``.segml-run`` (``overwrite`` replaces only folders that have it).

    When the run's model is staged (``run_pipeline(..., publish_model=False)``), it is
    published right before the run folder is moved into place, and taken back if that
    fails: a failed run leaves neither a run folder nor a model.

    Parameters
    ----------
    run : RunResult
        Output of :func:`run_pipeline`.
    overwrite : bool, default False
        Replace an existing run folder and model (``--force``); the previous model
        stays as a version.
    publish_model : bool, default True
        Publish a staged model. False (``segml report``) drops it: only the report is
        written.

    Returns
    -------
    dict of str to Path
        What was written (also stored in ``run.outputs``).
    """
    from segml._atomic import atomic_dir, check_name, check_replaceable_dir
    from segml.persistence import check_model_target
    from segml.report import make_figures, render_report

    staged = run.staged_model
    try:
        check_name(run.run_id, what="run id",
                   fix="pass a plain --run-id such as 'q4-2024' ([output] run_id in the "
                   "config).")
        if staged is not None and not publish_model:
            run.model_path = None
        folder = Path(run.config["output"]["reports_dir"]) / run.run_id
        check_replaceable_dir(folder, overwrite=overwrite, marker=RUN_MARKER, known=_RUN_FILES,
                              what="run folder")
        if staged is not None and publish_model:
            check_model_target(staged.target, overwrite=overwrite)
        figures = make_figures(run)
        segments = _segments_table(run)
        metrics = {
            "run_id": run.run_id,
            "data": run.data_name,
            "as_of": str(run.features.as_of.date()),
            "n_customers": int(len(run.features.frame)),
            "n_clustered": int(len(run.labels)),
            "selection": run.selection.to_dict(),
            "validation": run.validation.to_dict(),
            "comparisons": {k: v.to_dict().get("scores", {}) for k, v in run.comparisons.items()},
            "pareto": run.pareto.to_dict() if run.pareto is not None else None,
            "quality": {k: (v.to_dict() if hasattr(v, "to_dict") else v)
                        for k, v in run.quality.items()},
            "model_path": None if run.model_path is None else str(run.model_path),
            "rules_skipped": {k: _skip_note(v) for k, v in run.rules_skipped.items()},
            "timings_s": run.timings,
        }
        published = False
        try:
            with atomic_dir(folder, overwrite=overwrite, marker=RUN_MARKER,
                            known=_RUN_FILES) as tmp:
                (tmp / "figures").mkdir()
                for key, png in figures.items():
                    (tmp / "figures" / f"{key}.png").write_bytes(png)
                segments.to_csv(tmp / "segments.csv", index=False, lineterminator="\n")
                segments.to_parquet(tmp / "segments.parquet", index=False)
                run.profiles.table.to_csv(tmp / "profiles.csv", lineterminator="\n")
                (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str)
                                                  + "\n")
                (tmp / "config.toml").write_text(config_to_toml(run.config))
                run.outputs = {"folder": folder, "report": folder / "report.html"}
                (tmp / "report.html").write_text(render_report(run, figures), encoding="utf-8")
                if staged is not None and publish_model:
                    staged.publish(overwrite=overwrite)
                    published = True
        except BaseException:
            if published:
                with contextlib.suppress(OSError):  # keep the original error
                    staged.unpublish()
            raise
    finally:
        if staged is not None:
            staged.discard()
            run.staged_model = None
    run.outputs.update({
        "segments": folder / "segments.csv", "profiles": folder / "profiles.csv",
        "metrics": folder / "metrics.json", "figures": folder / "figures",
    })
    return run.outputs


def print_run_summary(run: RunResult, *, outputs: bool = True) -> None:
    """Print a compact segments table and where the outputs are."""
    prof = run.profiles
    table = pd.DataFrame({
        "segment": prof.names,
        "role": prof.roles,
        "customers": prof.table["n"],
        "share": (prof.table["share"] * 100).round(1).astype(str) + "%",
    })
    if "revenue_share" in prof.table.columns:
        table["revenue"] = (prof.table["revenue_share"] * 100).round(1).astype(str) + "%"
    rec = run.selection.recommended
    print(f"\n{run.data_name}: {len(run.features.frame):,} customers as of "
          f"{run.features.as_of.date()}; {len(run.labels):,} clustered with "
          f"{rec['algorithm']} k={rec['k']}")
    print(table.to_string())
    sil = run.validation.to_dict().get("overall", {})
    if sil:
        shown = {k: round(v, 3) for k, v in sil.items() if isinstance(v, float)}
        print("validation:", ", ".join(f"{k}={v}" for k, v in list(shown.items())[:4]))
    for name, missing in run.rules_skipped.items():
        print(f"note: rule set {name!r} skipped: {_skip_note(missing)}")
    print(f"model: {run.model_path}")
    if outputs and run.outputs:
        print(f"report: {run.outputs['report']}")
        print(f"segments: {run.outputs['segments']}")


def score_data(model: Any, data: LoadedData, cfg: dict[str, Any], *,
               impute_missing: bool = False, unknown: str = "ignore") -> Any:
    """Score the customers of ``data`` with a loaded model (features as of ``features.as_of``).

    Runs :func:`segml.scoring.score`, so ``segml score``, ``score()`` and the run's
    ``segments.csv`` share one policy: prospects get ``segment_id`` -1 and
    "prospect (not clustered)", not-yet customers are left out and counted, and a model
    column the data lacks is an error unless ``impute_missing``.

    Returns
    -------
    segml.scoring.ScoreResult
        The score table (``.frame``) and the scoring report (``.report``).
    """
    from segml.scoring import score

    return score(model, data.transactions, data.customers, _as_of(cfg, data),
                 aggregates=data.aggregates, impute_missing=impute_missing, unknown=unknown)

"""Checks made before a run loads data or fits anything: the config and every output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from segml.errors import ConfigError
from segml.pipeline.load import (
    UNDATED_AS_OF,
    UNDATED_LOADERS,
    LoadedData,
    parse_config_as_of,
    run_as_of,
    run_id_for,
)

__all__ = ["DEMO_FILES", "MODEL_FORMATS", "RUN_FILES", "RUN_MARKER", "check_outputs",
           "check_run_config"]


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
        parse_config_as_of(as_of)
    elif data["loader"] in UNDATED_LOADERS:
        pass  # a source without any date: as_of only names the run (UNDATED_AS_OF)
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


#: Marker file inside every run folder segml writes; ``--force`` replaces only such folders.
RUN_MARKER = ".segml-run"
#: What a run folder of an older segml (without the marker) may hold.
RUN_FILES = frozenset({"report.html", "figures", "segments.csv", "segments.parquet",
                        "profiles.csv", "metrics.json", "config.toml"})
DEMO_FILES = frozenset(f"{t}.{ext}" for t in ("transactions", "customers", "truth")
                        for ext in ("parquet", "csv"))
MODEL_FORMATS = ("joblib", "skops")


def _planned_run_id(cfg: dict[str, Any]) -> str:
    """Work out the run id :func:`run_pipeline` will use, without loading any data."""
    if cfg["output"]["run_id"]:
        return cfg["output"]["run_id"]
    data = cfg["data"]
    default_as_of = None
    if data["loader"]:
        name = data["loader"]
        default_as_of = UNDATED_AS_OF if name in UNDATED_LOADERS else None
    elif data["transactions"] or data["customers"]:
        name = Path(data["transactions"] or data["customers"]).stem
    else:
        import inspect

        from segml.datasets import make_portfolio

        name = "demo"
        default_as_of = pd.Timestamp(inspect.signature(make_portfolio).parameters["end"].default)
    as_of = run_as_of(cfg, LoadedData(name=name, transactions=None, customers=None,
                                   default_as_of=default_as_of))
    return run_id_for(cfg, LoadedData(name=name, transactions=None, customers=None), as_of)


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
    if fmt not in MODEL_FORMATS:
        raise ConfigError(
            f"config: output.model_format={fmt!r} is not one of {MODEL_FORMATS}. Fix: set "
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
            known=RUN_FILES, what="run folder")
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
        check_replaceable_dir(demo, overwrite=True, marker=RUN_MARKER, known=DEMO_FILES,
                              what="demo data folder")
    return plan

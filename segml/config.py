"""The ``segml run`` configuration: TOML, validated key by key against the defaults.

Unknown keys are errors (with the closest valid key suggested) so that a typo
never silently falls back to a default.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from segml._asof import parse_as_of
from segml.errors import ConfigError

__all__ = ["DEFAULTS", "EXAMPLE_CONFIG", "load_config", "validate_config"]

#: Every key ``segml run`` understands, with its default. ``None`` means "not set".
DEFAULTS: dict[str, Any] = {
    "data": {
        "loader": None,
        "path": None,
        "transactions": None,
        "customers": None,
        "mapping": {},
        "customer_mapping": {},
        "negative_amounts": "net",
        "timestamp_format": None,
        "sep": None,
        "encoding": None,
        "decimal": None,
        "thousands": None,
        "sheet": None,
        "customer_sheet": None,
        "ignore_columns": [],
        # value-parsing policies (segml.schema.validate_transactions / validate_customers)
        "errors": "raise",
        "dayfirst": None,
        "date_sentinels": "error",
        "customer_date_format": None,
        "dedupe": False,
        "exclude_products": [],
        "exclude_product_pattern": None,
    },
    "demo": {
        "n_customers": 4000,
        "n_segments": 5,
        "random_state": 0,
        "folder": "data/demo",
    },
    "features": {
        "as_of": None,
        "lookback_days": None,
        "spec": None,
        "weights": {},
        "buyers_only": True,
        "min_level_customers": None,
        "allow_identifiers": None,
    },
    "segmentation": {
        "algorithms": ["kmeans", "gmm"],
        "k_min": 1,
        "k_max": 10,
        "covariance_types": ["diag"],
        "min_segment_share": 0.03,
        "stability": True,
        "n_stability": 10,
        "rule": "gap",
        "min_jaccard": 0.75,
        "n_references": 10,
        "ps_threshold": 0.8,
        "no_segments": "rfm_groups",
        "value_tiers": 3,
        "fit_sample_size": 200_000,
        "random_state": 0,
        "n_jobs": 1,
    },
    "rules": {
        "sets": ["rfm_groups", "abc", "portfolio_roles", "lifecycle"],
    },
    "profiles": {
        "playbook": None,  # TOML of roles + actions (segml.playbook); None: the shipped one
    },
    "output": {
        "reports_dir": "reports",
        "models_dir": "models",
        "model_name": None,
        "run_id": None,
        "formats": ["csv", "parquet"],
        "model_format": "joblib",
    },
    # compute engine (issue 16): pandas/polars here, or Apache Spark (segml.spark)
    "engine": {
        "engine": "pandas",
        "master": None,  # classic Spark master, e.g. "local[*]", "spark://host:7077"
        "remote": None,  # Spark Connect URL "sc://host:15002" (instead of master)
        "partitions": None,  # spark.sql.shuffle.partitions; None: Spark's default
        # segml run on Spark: the driver sample of strategy="distributed" (its preprocessor
        # and model aggregates); "sample" fits as the default engine ([segmentation]
        # fit_sample_size) on the collected features
        "sample_size": None,
        "strategy": "sample",  # segml run on Spark: "sample" (driver fit) | "distributed" (MLlib)
    },
}

_FREE_TABLES = {("data", "mapping"), ("data", "customer_mapping"), ("features", "weights")}

EXAMPLE_CONFIG = """\
# segml run configuration — every key is optional; delete what you do not need.
# `segml run --config this-file.toml`

[data]
# Leave `loader`, `transactions` and `customers` unset to use the demo portfolio
# (generated into [demo].folder). Named loaders: "cdnow", "cdnow_sample",
# "marketing_campaign", "mall_customers", "online_retail", "complete_journey", "ta_feng".
# loader = "cdnow"
# path = "../shared/data/CDNOW_master.txt"
# Or your own files (CSV/TSV/Parquet/Excel) with a column mapping:
# transactions = "data/orders.csv"
# customers = "data/customers.csv"
# negative_amounts = "net"          # net | drop | error
# How to read both files (omitted: sniffed/strict, and refused when ambiguous):
# sep = ";"                         # one character, "tab", or '\\s+' for aligned columns
# encoding = "cp1252"               # default: byte-order mark, else strict UTF-8
# decimal = ","                     # "." (default) or ","; "," implies thousands = "."
# thousands = "."                   # "" for none
# sheet = "Orders"                  # Excel sheet of the transactions file
# customer_sheet = "Customers"      # Excel sheet of the customers file
# ignore_columns = ["age"]          # file columns to leave out (e.g. age bands, not numbers)
# errors = "raise"                  # rows with a missing id/date/amount: raise | exclude (counted)
# timestamp_format = "%d/%m/%Y"     # or "ISO8601" | "excel" | "epoch_s" | "epoch_ms"
# dayfirst = true                   # 01/02/2024 is 1 February (only when the values don't show it)
# date_sentinels = "error"          # 1900-01-01, 2099-12-31, 9999-...: error | exclude (counted)
# customer_date_format = "%d-%m-%Y" # layout of the customers' signup_date
# dedupe = false                    # true: drop exact duplicate rows (always counted)
# exclude_products = ["POST", "DOT", "M", "BANK CHARGES"]  # non-product lines (counted)
# exclude_product_pattern = "^(C2|AMAZONFEE)$"             # regex on product codes
# [data.mapping]                    # canonical name = "your column"
# customer_id = "CustomerCode"
# timestamp = "OrderDate"
# amount = "NetValue"

[demo]
n_customers = 4000                  # size of the generated portfolio
n_segments = 5                      # planted segments (ground truth kept aside)
random_state = 0
folder = "data/demo"

[features]
# as_of = "2024-12-31"              # REQUIRED for real data: features use rows up to this day
#                                   # (ISO YYYY-MM-DD; a TOML date 2024-12-31 works too)
# lookback_days = 730               # optional window before as_of
# min_level_customers = 5           # category levels of fewer customers: never in a model
# allow_identifiers = ["member_code"]  # identifier-like columns included deliberately
# [features.weights]                # family weights in the k-means distance
# value = 2.0                       # "value counts double"
# demographic = 1.0                 # attributes: 0 (describe only) unless given a weight
# firmographic = 1.0                # (seasonality, demographic, firmographic, geographic,
#                                   #  psychographic)

[segmentation]
algorithms = ["kmeans", "gmm"]      # kmeans | minibatch | bisecting | gmm
covariance_types = ["diag"]         # gmm: full | diag | tied | spherical (full is slow)
k_min = 1                           # 1 lets the answer be "no clear segments"
k_max = 10
min_segment_share = 0.03            # segments smaller than this are flagged
stability = true                    # refit on sub-samples: per-segment Jaccard stability
n_stability = 10                    # refits per k
rule = "gap"                        # reproducible k, separated by a dip test (else the gap
                                    # statistic); can say "no clear segments"
                                    # | "largest_stable" | "votes" (old rules)
min_jaccard = 0.75                  # every segment's mean bootstrap Jaccard at least this
n_references = 10                   # gap statistic: uniform reference data sets
ps_threshold = 0.8                  # prediction strength a k needs
no_segments = "rfm_groups"          # on "no clear segments": the RFM groups (rules), labelled
                                    # as such | "value_tiers" | "stop" (exit 2, nothing fitted)
value_tiers = 3                     # tiers of monetary (natural breaks) for "value_tiers"
random_state = 0

[rules]
sets = ["rfm_groups", "abc", "portfolio_roles", "lifecycle"]

[profiles]
# playbook = "my_playbook.toml"     # role + suggested action per segment (copy and edit
#                                   # segml/playbooks/default.toml); default: the shipped one

[output]
reports_dir = "reports"             # the run folder is reports/<run_id>/
models_dir = "models"
# model_name = "my-model"
# run_id = "2024-q4"
# model_format = "skops"            # joblib (default) | skops (loads without pickle code)
"""


def _check(section: dict[str, Any], defaults: dict[str, Any], path: tuple[str, ...]) -> None:
    for key, value in section.items():
        where = ".".join((*path, key))
        if key not in defaults:
            close = difflib.get_close_matches(key, list(defaults), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            valid = ", ".join(defaults) if defaults else "(none)"
            raise ConfigError(
                f"config: unknown key {where!r}.{hint} Valid keys here: {valid}. "
                "Fix: correct or remove the key (`segml init` writes a commented example)."
            )
        default = defaults[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config: {where!r} must be a table ([{where}]), "
                                  f"got {type(value).__name__}. Fix: write it as a [{where}] "
                                  "section (`segml init` writes a commented example).")
            if (*path, key) not in _FREE_TABLES:
                _check(value, default, (*path, key))
        elif default is not None and value is not None:
            ok = isinstance(value, type(default)) or (
                isinstance(default, float) and isinstance(value, int)
            ) or (isinstance(default, int) and not isinstance(default, bool)
                  and isinstance(value, int) and not isinstance(value, bool))
            if isinstance(default, bool) != isinstance(value, bool):
                ok = False
            if not ok:
                raise ConfigError(
                    f"config: {where!r} must be {type(default).__name__} "
                    f"(like {default!r}), got {value!r}. Fix: write it like "
                    f"{key} = {_toml_literal(default)}."
                )


def _check_privacy(features: dict[str, Any]) -> None:
    mlc, allow = features["min_level_customers"], features["allow_identifiers"]
    if mlc is not None and (isinstance(mlc, bool) or not isinstance(mlc, int) or mlc < 1):
        raise ConfigError(
            f"config: features.min_level_customers={mlc!r} should be a whole number >= 1 "
            "(customers a category level needs to be stored in a model). Fix: [features] "
            "min_level_customers = 5 (Python: FeatureSpec(min_level_customers=5))."
        )
    if allow is not None and (not isinstance(allow, list)
                              or not all(isinstance(c, str) for c in allow)):
        raise ConfigError(
            f"config: features.allow_identifiers={allow!r} should be a list of column names. "
            'Fix: [features] allow_identifiers = ["column"] (Python: '
            'FeatureSpec(allow_identifiers=["column"])).'
        )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and out[k]:
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _toml_literal(value: Any) -> str:
    """Write a default as TOML, for a message's Fix (``true``, ``"text"``, ``["a", "b"]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | list):
        return json.dumps(value)
    return repr(value)


def validate_config(raw: dict[str, Any]) -> dict[str, Any]:
    """Check ``raw`` against :data:`DEFAULTS` and return the merged configuration.

    Parameters
    ----------
    raw : dict
        Parsed TOML.

    Returns
    -------
    dict
        Defaults overlaid with ``raw``.

    Raises
    ------
    ConfigError
        Unknown keys (with a suggestion), wrong types, inconsistent data settings.
    """
    _check(raw, DEFAULTS, ())
    cfg = _merge(DEFAULTS, raw)
    data = cfg["data"]
    if data["loader"] and (data["transactions"] or data["customers"]):
        raise ConfigError("config: set either data.loader or data.transactions/customers, "
                          "not both. Fix: pass --loader or --transactions/--customers, not "
                          "both (remove one from [data]).")
    for key in ("sep", "encoding", "decimal", "thousands", "sheet", "customer_sheet"):
        if data[key] is not None and not isinstance(data[key], str):
            raise ConfigError(f"config: data.{key} must be a string, got {data[key]!r}. "
                              f"Fix: quote it, e.g. {key} = \"{data[key]}\".")
    if data["customers"] and not data["transactions"] and not data["loader"]:
        pass  # customer-only runs are allowed (attribute segmentation)
    _check_data_values(data)
    if cfg["features"]["as_of"] is not None:  # strict ISO date, checked before any work
        parse_as_of(cfg["features"]["as_of"], where="config: features.as_of")
    _check_privacy(cfg["features"])
    if cfg["profiles"]["playbook"] is not None and not isinstance(cfg["profiles"]["playbook"],
                                                                   str):
        raise ConfigError(f"config: profiles.playbook must be a path (text), got "
                          f"{cfg['profiles']['playbook']!r}. Fix: [profiles] playbook = "
                          "\"my_playbook.toml\" (or segml run --playbook my_playbook.toml).")
    seg = cfg["segmentation"]
    if not 1 <= seg["k_min"] <= seg["k_max"]:
        raise ConfigError(f"config: need 1 <= segmentation.k_min <= segmentation.k_max, got "
                          f"k_min={seg['k_min']}, k_max={seg['k_max']}. Fix: set [segmentation] "
                          "k_min and k_max so that 1 <= k_min <= k_max (or pass --k K to "
                          "segml fit).")
    if seg["k_max"] < 2:
        raise ConfigError(f"config: segmentation.k_max={seg['k_max']} leaves nothing to compare "
                          "with one population. Fix: [segmentation] k_max = 10 (2 at least; "
                          "Python: segment(k_range=(1, 10))).")
    if seg["rule"] not in ("gap", "largest_stable", "votes"):
        raise ConfigError(f"config: segmentation.rule={seg['rule']!r} should be 'gap', "
                          "'largest_stable' or 'votes'. Fix: [segmentation] rule = \"gap\" "
                          "(the old rules \"largest_stable\", \"votes\" are kept for comparison;"
                          " Python: select_k(rule=...)).")
    if not 0.0 < seg["ps_threshold"] <= 1.0:
        raise ConfigError(f"config: segmentation.ps_threshold={seg['ps_threshold']} should be "
                          "in (0, 1]. Fix: [segmentation] ps_threshold = 0.8 (Tibshirani & "
                          "Walther suggest 0.8-0.9; Python: select_k(ps_threshold=...)).")
    if seg["no_segments"] not in ("value_tiers", "rfm_groups", "stop"):
        raise ConfigError(f"config: segmentation.no_segments={seg['no_segments']!r} should be "
                          "'value_tiers', 'rfm_groups' or 'stop'. Fix: [segmentation] "
                          "no_segments = \"rfm_groups\" (what a run does when there are no "
                          "clear segments; Python: segment(no_segments=...)).")
    if not isinstance(seg["value_tiers"], int) or not 2 <= seg["value_tiers"] <= 10:
        raise ConfigError(f"config: segmentation.value_tiers={seg['value_tiers']!r} should be a "
                          "whole number from 2 to 10. Fix: [segmentation] value_tiers = 3.")
    if seg["n_references"] < 2:
        raise ConfigError(f"config: segmentation.n_references={seg['n_references']} should be "
                          "at least 2. Fix: [segmentation] n_references = 10 (Python: "
                          "select_k(n_references=...)).")
    if not 0.0 < seg["min_jaccard"] <= 1.0:
        raise ConfigError(f"config: segmentation.min_jaccard={seg['min_jaccard']} should be in "
                          "(0, 1]. Fix: [segmentation] min_jaccard = 0.75 (Hennig's "
                          "'stable' on bootstrap refits), or another value in (0, 1].")
    _check_engine(cfg["engine"])
    return cfg


def _check_data_values(data: dict[str, Any]) -> None:
    """Check the [data] value-parsing options (choices, formats, the product regex)."""
    for key, allowed in (("errors", ("raise", "exclude")), ("date_sentinels", ("error", "exclude")),
                         ("negative_amounts", ("net", "drop", "error"))):
        if data[key] not in allowed:
            raise ConfigError(f"config: data.{key}={data[key]!r} is not valid. "
                              f"Fix: use one of {', '.join(map(repr, allowed))}.")
    if data["dayfirst"] is not None and not isinstance(data["dayfirst"], bool):
        raise ConfigError(f"config: data.dayfirst={data['dayfirst']!r} must be true or false. "
                          "Fix: write dayfirst = true (01/02/2024 is 1 February) or false.")
    for key in ("timestamp_format", "customer_date_format"):
        fmt = data[key]
        if fmt is not None and (not isinstance(fmt, str) or (
                "%" not in fmt and fmt not in ("ISO8601", "excel", "epoch_s", "epoch_ms"))):
            raise ConfigError(
                f"config: data.{key}={fmt!r} is neither a strptime format (with %, e.g. "
                "\"%d/%m/%Y\") nor one of ISO8601, excel, epoch_s, epoch_ms. Fix: use one of those."
            )
    if not all(isinstance(c, str) for c in data["ignore_columns"]):
        raise ConfigError(f"config: data.ignore_columns={data['ignore_columns']!r} must be a "
                          'list of column names. Fix: e.g. ignore_columns = ["age"].')
    if not all(isinstance(c, str) for c in data["exclude_products"]):
        raise ConfigError(f"config: data.exclude_products={data['exclude_products']!r} must be "
                          'a list of product codes. Fix: e.g. exclude_products = ["POST", "DOT"].')
    pattern = data["exclude_product_pattern"]
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ConfigError(
                f"config: data.exclude_product_pattern={pattern!r} is not a valid regular "
                f'expression ({exc}). Fix: correct it, e.g. "^(POST|DOT|M)$".'
            ) from exc


def load_config(path: str | Path | None) -> dict[str, Any]:
    """Read and validate a TOML configuration (defaults only when ``path`` is None).

    Parameters
    ----------
    path : path-like or None
        The TOML file.

    Returns
    -------
    dict
        The validated configuration.

    Raises
    ------
    ConfigError
        Missing file, TOML syntax error (with line), or invalid keys.
    """
    if path is None:
        return validate_config({})
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} not found. Fix: check the path or run "
                          f"`segml init {p}` to write an example.")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}. Fix: correct that line "
                          "(strings need quotes; `segml init` writes a valid example).") from exc
    return validate_config(raw)


def _check_engine(engine: dict[str, Any]) -> None:
    """Check the [engine] section (choice, Spark URLs, positive counts)."""
    if engine["engine"] not in ("pandas", "spark"):
        raise ConfigError(f"config: engine.engine={engine['engine']!r} should be 'pandas' or "
                          "'spark'. Fix: [engine] engine = \"pandas\" (or \"spark\" with "
                          "segml[spark] and Java 17+, for the segml.spark API).")
    for key in ("master", "remote"):
        if engine[key] is not None and not isinstance(engine[key], str):
            raise ConfigError(f"config: engine.{key} must be a string, got {engine[key]!r}. "
                              f"Fix: quote it, e.g. {key} = \"{engine[key]}\".")
    if engine["strategy"] not in ("sample", "distributed"):
        raise ConfigError(f"config: engine.strategy={engine['strategy']!r} should be 'sample' or "
                          "'distributed'. Fix: [engine] strategy = \"sample\" (Python: "
                          "fit_spark(strategy=\"sample\")).")
    if engine["master"] is not None and engine["remote"] is not None:
        raise ConfigError("config: engine.master and engine.remote are both set; a session is "
                          "either classic (master) or Spark Connect (remote). Fix: remove one "
                          "of them from [engine] (Python: get_session(master=...) or "
                          "get_session(remote=...)).")
    if engine["remote"] is not None and not engine["remote"].startswith("sc://"):
        raise ConfigError(f"config: engine.remote={engine['remote']!r} should be a Spark "
                          "Connect URL. Fix: [engine] remote = \"sc://host:15002\".")
    for key in ("partitions", "sample_size"):
        value = engine[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ConfigError(f"config: engine.{key}={value!r} should be a positive whole "
                              f"number. Fix: [engine] {key} = "
                              f"{200 if key == 'partitions' else 200000} or remove the key.")

"""The run's input: a named loader, the user's files or the demo portfolio, validated.

Also the run's feature date (``features.as_of``, never guessed for real data), its run id,
and :func:`score_data`, which scores loaded data with a saved model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segml.errors import ConfigError, OutputExistsError
from segml.pipeline.result import Progress, quiet

__all__ = ["UNDATED_AS_OF", "UNDATED_LOADERS", "LoadedData", "load_data", "parse_config_as_of",
           "run_as_of", "run_id_for", "score_data"]


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
        The demo portfolio's end date, or :data:`UNDATED_AS_OF` for a customer-only
        source with no date at all (real dated data has none: as_of must be given).
    feature_spec : dict or None
        The source's own default feature spec (``Dataset.feature_spec``; e.g. Mall's
        income x spending score); ``[features] spec`` replaces it.
    """

    name: str
    transactions: pd.DataFrame | None
    customers: pd.DataFrame | None
    quality: dict[str, Any] = field(default_factory=dict)
    aggregates: pd.DataFrame | None = None
    truth: pd.Series | None = None
    default_as_of: pd.Timestamp | None = None
    feature_spec: dict[str, Any] | None = None


#: The as_of of a customer-only source without any date (no transactions, no signup date, no
#: birth year; e.g. Mall): no feature depends on it, it only names the run. Fixed rather than
#: today's date so that runs are reproducible; ``--as-of`` / ``[features] as_of`` overrides it.
UNDATED_AS_OF = pd.Timestamp("2000-01-01")
#: Named loaders of customer-only sources without any date (they get :data:`UNDATED_AS_OF`).
UNDATED_LOADERS = ("mall_customers",)


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
    "complete_journey": ("load_complete_journey", {}),
    "ta_feng": ("load_ta_feng", {}),
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


def load_data(cfg: dict[str, Any], *, progress: Progress = quiet,
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

    if cfg.get("engine", {}).get("engine") == "spark":
        # not silently ignored: only run_pipeline (segml run / fit / report) has a Spark path
        raise ConfigError(
            "config: engine.engine='spark' is supported by segml run, fit and report "
            "(run_pipeline) only; this step reads the data with pandas. Fix: set [engine] "
            "engine = \"pandas\" for this command, or use segml run --engine spark or the "
            "segml.spark functions (docs/SPARK.md)."
        )
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
        undated = name in UNDATED_LOADERS
        if undated and cfg["features"]["as_of"] is None:
            progress(f"{name} has no dates: as_of only names the run "
                     f"({UNDATED_AS_OF.date()}; --as-of / [features] as_of to change it)")
        return LoadedData(name=name, transactions=ds.transactions, customers=customers,
                          quality=dict(ds.reports), aggregates=aggregates,
                          default_as_of=UNDATED_AS_OF if undated else None,
                          feature_spec=ds.feature_spec)
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


def run_as_of(cfg: dict[str, Any], data: LoadedData) -> pd.Timestamp:
    """Return the run's feature date: ``features.as_of``, or the demo portfolio's end date.

    Raises
    ------
    ConfigError
        ``features.as_of`` is unset for real data (never defaulted to the last date).
    """
    as_of = cfg["features"]["as_of"]
    if as_of is None:
        if data.default_as_of is None:
            raise ConfigError(
                "features.as_of is required for real data: segml never defaults it to the last "
                "date in the data. Fix: set [features] as_of = \"YYYY-MM-DD\" or pass --as-of."
            )
        return pd.Timestamp(data.default_as_of)
    return parse_config_as_of(as_of)


def parse_config_as_of(as_of: Any) -> pd.Timestamp:
    """Strict ISO date (see :func:`segml._asof.parse_as_of`)."""
    from segml._asof import parse_as_of

    return parse_as_of(as_of, where="config: features.as_of")


def run_id_for(cfg: dict[str, Any], data: LoadedData, as_of: pd.Timestamp) -> str:
    """Return ``output.run_id``, or ``<data name>-<as_of as YYYYMMDD>`` as a plain name."""
    if cfg["output"]["run_id"]:
        return cfg["output"]["run_id"]
    # a default from a file name ("Online Retail II.xlsx") becomes a plain folder name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(data.name)).lstrip("._-")[:100] or "data"
    return f"{stem}-{as_of:%Y%m%d}"


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

    return score(model, data.transactions, data.customers, run_as_of(cfg, data),
                 aggregates=data.aggregates, impute_missing=impute_missing, unknown=unknown)

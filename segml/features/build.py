"""Assembly of the features layer: the raw feature frame and the model-matrix preprocessor.

:func:`build_features` joins, for one ``as_of`` date, the transaction features
(RFM, behaviour, payment), the frozen RFM scores and ABC classes, the
historical CLV, the customer attributes (age and age band derived as of
``as_of``), the relationship features and the growth-potential score into one
frame of raw, interpretable columns indexed by ``customer_id`` -- what profiles
and rules read. Everything learned on the way (RFM cut points, ABC thresholds,
category/channel levels, growth-potential peer medians, age bands) is kept in a
:class:`FeatureState` with no customer rows, so that the same columns can be
rebuilt for new customers with frozen thresholds. The work is done by
:class:`~segml.features.builder.FeatureBuilder` (``fit`` learns the state, ``transform`` uses
it frozen); :func:`build_features` is a one-call convenience over it.

:func:`make_preprocessor` (defined in :mod:`segml.features.space`, re-exported here) turns a
:class:`~segml.features.spec.FeatureSpec` into the model-matrix preprocessor.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.features._time import (
    cutoff,
    days_between,
    timestamp_values,
    window_start,
)
from segml.features.encoders import (
    CANONICAL_LEVELS,
    AgeEncoder,
    normalize_level,
    normalize_levels,
)
from segml.features.relationship import GrowthPotential, _relationship
from segml.features.scores import ABCClassifier, RFMScorer
from segml.features.space import make_preprocessor
from segml.features.spec import FeatureSpec

__all__ = ["FeatureSet", "FeatureState", "build_features", "make_preprocessor"]

#: Columns computed here; a customers-table column with one of these names is dropped
#: (listed in ``report["dropped_customer_columns"]``).
_COMPUTED = (
    "r_score",
    "f_score",
    "m_score",
    "rfm_code",
    "abc_class",
    "clv",
    "net_margin",
    "age",
    "age_band",
    "journey_stage_ord",
    "response_rate",
    "satisfaction_ord",
    "growth_potential",
)
#: Candidate peer-profile columns for growth potential (the first two present are used).
_GROWTH_BY = ("age_band", "education", "region", "company_size", "industry", "life_stage")


@dataclass
class FeatureState:
    """Everything fitted while building features, frozen for rebuilding them on new customers.

    Holds parameters and aggregates only, never customer rows.

    Attributes
    ----------
    as_of : pandas.Timestamp
        The ``as_of`` the state was learned at.
    lookback_days : int or None
        Lookback window used.
    category_levels, channel_levels : list of str or None
        Levels of the ``category_share_<x>``/``channel_share_<x>`` columns.
    rfm_scorer : RFMScorer or None
        Fitted RFM quintile scorer (None without buyers).
    abc : ABCClassifier or None
        Fitted ABC classifier (None without buyers).
    growth : GrowthPotential or None
        Fitted growth-potential peer medians.
    age_encoder : AgeEncoder or None
        Age bands and plausible range (its ``as_of_year`` is reset to each build's year).
    columns : list of str
        Column order of the frame; a rebuild is reindexed to it.
    forward : segml.value.ForwardState or None
        BG/NBD and Gamma-Gamma parameters of the ``forward`` family (None when it is off).
    """

    as_of: pd.Timestamp
    lookback_days: int | None = None
    category_levels: list[str] | None = None
    channel_levels: list[str] | None = None
    rfm_scorer: RFMScorer | None = None
    abc: ABCClassifier | None = None
    growth: GrowthPotential | None = None
    age_encoder: AgeEncoder | None = None
    columns: list[str] = field(default_factory=list)
    forward: Any = None


@dataclass
class FeatureSet:
    """Result of :func:`build_features` and of ``FeatureBuilder.transform`` / ``fit_transform``.

    Attributes
    ----------
    frame : DataFrame
        Raw interpretable features, indexed by sorted string ``customer_id``.
    spec : FeatureSpec
        The spec (given, or :meth:`FeatureSpec.default` for the frame's columns).
    as_of : pandas.Timestamp
        The as-of date.
    state : FeatureState
        Fitted pieces for rebuilding the same columns on new customers.
    report : dict
        Counts: ``n_customers``, ``n_prospects``, ``not_yet_customers`` (first seen after
        ``as_of``: left out), ``rows_after_as_of``, ``rows_before_window`` (before the
        lookback window), ``rows_cancelled`` (status ``cancelled`` in the window, ignored),
        ``days_after_last_transaction`` (with transactions),
        ``rare_levels_folded`` (per onehot/frequency column, rows whose level is held by
        fewer than ``spec.min_level_customers`` customers: folded, never stored),
        ``customers_only_in_transactions``, ``implausible_birth_years``,
        ``missing`` (per attribute column), ``unknown_levels`` (per column),
        ``missing_income``, ``dropped_customer_columns``, ``state_reused``.
    """

    frame: pd.DataFrame
    spec: FeatureSpec
    as_of: pd.Timestamp
    state: FeatureState
    report: dict[str, Any]

    def model_matrix(self) -> pd.DataFrame:
        """Fit :func:`make_preprocessor` on the frame and return the model matrix.

        Returns
        -------
        DataFrame
            All-finite, same index as ``frame``.
        """
        return make_preprocessor(self.spec, self.frame).fit_transform(self.frame)


# ---------------------------------------------------------------------------------- helpers


def _customer_table(customers: Any) -> pd.DataFrame | None:
    if customers is None:
        return None
    if not isinstance(customers, pd.DataFrame):
        raise SchemaError(
            f"customers should be a pandas DataFrame (canonical customers table), "
            f"got {type(customers).__name__}."
        )
    if "customer_id" in customers.columns:
        ids = customers["customer_id"]
        table = customers.drop(columns="customer_id")
    elif customers.index.name == "customer_id":
        ids = customers.index.to_series()
        table = customers
    else:
        raise SchemaError(
            "customers has no 'customer_id' column or index; got columns "
            f"{list(customers.columns)[:10]}. "
            "Fix: validate it with segml.schema.validate_customers."
        )
    if ids.isna().any():
        raise SchemaError(f"customers has {int(ids.isna().sum())} missing customer_id value(s).")
    ids = ids.astype("str")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise SchemaError(
            f"customers has {len(dup)} duplicated customer_id value(s), e.g. "
            f"{dup.unique()[:5].tolist()}; one row per customer is expected."
        )
    out = table.copy()
    out.index = pd.Index(ids.to_numpy(), dtype="str", name="customer_id")
    return out.sort_index()


@dataclass
class _TxDates:
    """Dates of the transactions that decide the as-of universe and the row counts."""

    first: pd.Series  # customer_id (str) -> first timestamp, any row, any status
    start: pd.Timestamp | None  # first and last timestamp of the data (None when empty)
    end: pd.Timestamp | None
    n_after_as_of: int
    n_before_window: int
    n_cancelled: int  # rows in the window ignored because their status is "cancelled"


def _tx_dates(transactions: Any, as_of: pd.Timestamp, lookback: int | None) -> _TxDates:
    """First row per customer, the data's date range and the rows the features leave out."""
    if isinstance(transactions, pl.LazyFrame | pl.DataFrame):
        return _tx_dates_polars(transactions, as_of, lookback)
    if not isinstance(transactions, pd.DataFrame) or "customer_id" not in transactions.columns:
        raise SchemaError(
            "transactions should be a DataFrame with 'customer_id' and 'timestamp' columns. "
            "Fix: validate it with segml.schema.validate_transactions."
        )
    ts = timestamp_values(transactions)
    end = cutoff(as_of).to_datetime64()
    before_end = ts < end
    n_before = 0
    in_window = before_end
    start = window_start(as_of, lookback)
    if start is not None:
        n_before = int((before_end & (ts < start.to_datetime64())).sum())
        in_window = before_end & (ts >= start.to_datetime64())
    n_cancelled = 0
    if "status" in transactions.columns:
        cancelled = (transactions["status"] == "cancelled").fillna(False).to_numpy(dtype=bool)
        n_cancelled = int((cancelled & in_window).sum())
    ids = transactions["customer_id"].astype("str")
    grouped = (
        pl.DataFrame({"customer_id": pl.Series(ids.to_numpy(dtype=object), dtype=pl.String),
                      "timestamp": ts})
        .group_by("customer_id")
        .agg(pl.col("timestamp").min())
        .sort("customer_id")
    )
    first = pd.Series(
        grouped["timestamp"].to_numpy(),
        index=pd.Index(grouped["customer_id"].to_list(), dtype="str", name="customer_id"),
    )
    valid = ts[~np.isnat(ts)]
    return _TxDates(
        first=first,
        start=pd.Timestamp(valid.min()) if len(valid) else None,
        end=pd.Timestamp(valid.max()) if len(valid) else None,
        n_after_as_of=int((~before_end).sum()),
        n_before_window=n_before,
        n_cancelled=n_cancelled,
    )


def _tx_dates_polars(transactions: pl.LazyFrame | pl.DataFrame, as_of: pd.Timestamp,
                     lookback: int | None) -> _TxDates:
    """:func:`_tx_dates` of a polars frame, in polars (no pandas copy of the id column)."""
    lf = transactions.lazy()
    schema = lf.collect_schema()
    if "customer_id" not in schema or "timestamp" not in schema:
        raise SchemaError(
            "transactions should be a DataFrame with 'customer_id' and 'timestamp' columns. "
            "Fix: validate it with segml.schema.validate_transactions."
        )
    dtype = schema["timestamp"]
    ts = pl.col("timestamp")
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        ts = ts.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    elif dtype == pl.Date:
        ts = ts.cast(pl.Datetime("us"))
    elif not isinstance(dtype, pl.Datetime):
        raise SchemaError(
            f"transactions 'timestamp' has dtype {dtype}, expected datetime64; parse it once "
            "at load (pd.to_datetime or segml.schema.validate_transactions)."
        )
    end = cutoff(as_of).to_pydatetime()
    before_end = (ts < end).fill_null(False)
    in_window = before_end
    start = window_start(as_of, lookback)
    n_before = pl.lit(0, dtype=pl.UInt32)
    if start is not None:
        n_before = (before_end & (ts < start.to_pydatetime())).sum()
        in_window = before_end & (ts >= start.to_pydatetime())
    n_cancelled = pl.lit(0, dtype=pl.UInt32)
    if "status" in schema:
        status = pl.col("status")
        if not (schema["status"] == pl.String or isinstance(schema["status"], pl.Categorical)):
            status = status.cast(pl.String)
        cancelled = (status == "cancelled").fill_null(False)
        n_cancelled = (cancelled & in_window).sum()
    stats = lf.select(
        pl.len().alias("n"), before_end.sum().alias("n_in"), n_before.alias("n_before"),
        n_cancelled.alias("n_cancelled"), ts.min().alias("start"), ts.max().alias("end"),
    ).collect()
    grouped = (
        lf.group_by("customer_id")
        .agg(ts.min().alias("timestamp"))
        .with_columns(pl.col("customer_id").cast(pl.String))  # per customer, not per line
        .sort("customer_id")
        .collect()
    )
    first = pd.Series(
        grouped["timestamp"].to_numpy(),
        index=pd.Index(grouped["customer_id"].to_list(), dtype="str", name="customer_id"),
    )
    lo, hi = stats["start"][0], stats["end"][0]
    return _TxDates(
        first=first,
        start=pd.Timestamp(lo) if lo is not None else None,
        end=pd.Timestamp(hi) if hi is not None else None,
        n_after_as_of=int(stats["n"][0] - stats["n_in"][0]),
        n_before_window=int(stats["n_before"][0]),
        n_cancelled=int(stats["n_cancelled"][0]),
    )


#: An as_of at most this many days after the last transaction is not warned about (weekends,
#: holidays, an export a few days old); the gap is always in the report
#: (``days_after_last_transaction``).
_QUIET_DAYS_AFTER_END = 7


def _check_range(dates: _TxDates, as_of: pd.Timestamp, report: dict[str, Any]) -> None:
    """Refuse an ``as_of`` before the data; warn when it is over a week past the data's end."""
    if dates.start is None or dates.end is None:
        return
    span = f"{dates.start.date()}..{dates.end.date()}"
    fix = (
        f"Fix: pick an as_of inside the data's range {span}: config [features] as_of / CLI "
        "--as-of, Python build_features(as_of=...)."
    )
    if cutoff(as_of) <= dates.start:
        raise ConfigError(
            f"as_of={as_of.date()} is before the first transaction ({dates.start.date()}); "
            f"no customer has a row on or before it, so there is nothing to build features on. "
            + fix
        )
    days = days_between(as_of, dates.end)
    report["days_after_last_transaction"] = max(int(days), 0)
    if days > _QUIET_DAYS_AFTER_END:
        warnings.warn(
            f"as_of={as_of.date()} is {days} day(s) after the last transaction "
            f"({dates.end.date()}; the data covers {span}): recency and tenure keep growing "
            "past the end of the data, so every customer looks that much less active. "
            f"Check that the file is complete. {fix}",
            DataQualityWarning,
            stacklevel=3,
        )


def _not_yet(
    table: pd.DataFrame | None, first_tx: pd.Series | None, as_of: pd.Timestamp
) -> pd.Index:
    """Return the table's customers first seen (transaction or signup) after ``as_of``."""
    if table is None:
        return pd.Index([], dtype="str", name="customer_id")
    first = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
    if first_tx is not None:
        first = first_tx.reindex(table.index).astype("datetime64[ns]")
    if "signup_date" in table.columns:
        try:
            signup = pd.to_datetime(table["signup_date"])
        except (ValueError, TypeError) as exc:
            raise SchemaError(
                "customers 'signup_date' holds values that are not dates. Fix: validate the "
                "table with segml.schema.validate_customers (it parses and counts them)."
            ) from exc
        if isinstance(signup.dtype, pd.DatetimeTZDtype):
            signup = signup.dt.tz_convert("UTC").dt.tz_localize(None)
        first = pd.concat([first, signup.astype("datetime64[ns]")], axis=1).min(axis=1)
    late = first.notna() & (first >= cutoff(as_of))
    return table.index[late.to_numpy(dtype=bool)]


def _aggregates(aggregates: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(aggregates, pd.DataFrame):
        raise SchemaError(
            f"aggregates should be a DataFrame indexed by customer_id, "
            f"got {type(aggregates).__name__}."
        )
    need = [c for c in ("frequency", "monetary") if c not in aggregates.columns]
    if need:
        raise SchemaError(
            f"aggregates lack column(s) {need}; they should carry canonical feature names "
            "(e.g. segml.io.load_marketing_campaign(...).features)."
        )
    out = aggregates.copy()
    if "customer_id" in out.columns:
        out = out.set_index("customer_id")
    out.index = pd.Index(out.index.astype("str"), dtype="str", name="customer_id")
    if "is_prospect" not in out.columns:
        out["is_prospect"] = out["frequency"].fillna(0).to_numpy(dtype="float64") <= 0
    return out.sort_index()


def _attributes(
    table: pd.DataFrame,
    as_of: pd.Timestamp,
    spec: FeatureSpec | None,
    age_encoder: AgeEncoder | None,
    report: dict[str, Any],
) -> tuple[pd.DataFrame, AgeEncoder | None]:
    """Attribute columns (pass-through, age/age band, relationship), with counts."""
    out = table.copy()
    dropped = [c for c in out.columns if c in _COMPUTED and c != "age"]
    out = out.drop(columns=dropped)
    report["dropped_customer_columns"] = dropped
    report["missing"] = {
        c: int(out[c].isna().sum()) for c in out.columns if out[c].isna().any()
    }
    report["missing_income"] = int(out["income"].isna().sum()) if "income" in out else 0

    # age and age band, as of the as_of year
    enc = None
    source = "birth_year" if "birth_year" in out.columns else ("age" if "age" in out else None)
    report["implausible_birth_years"] = 0
    report["implausible_ages"] = 0
    if source is not None:
        params = age_encoder.get_params() if age_encoder is not None else {}
        params.update(as_of_year=int(as_of.year), source=source)
        enc = AgeEncoder(**params)
        col = out[[source]].astype("float64")
        enc.fit(col)
        res = enc.transform(col)
        report["implausible_birth_years" if source == "birth_year" else "implausible_ages"] = (
            enc.quality(col)["n_implausible"]
        )
        out["age"] = res[:, 0]
        if res.shape[1] > 1:
            out["age_band"] = enc.band_label(res[:, 1]).to_numpy()

    # ordered attributes: normalised labels; labels outside the levels become missing
    unknown: dict[str, int] = {}
    levels = dict(spec.levels) if spec is not None else {}
    transforms = spec.columns() if spec is not None else {}
    for col in out.columns:
        if out[col].dtype.kind not in "OTU" and not isinstance(out[col].dtype, pd.StringDtype):
            continue
        if col in CANONICAL_LEVELS or (col in levels and transforms.get(col) == "ordinal"):
            allowed = [normalize_level(v) for v in levels.get(col, CANONICAL_LEVELS.get(col, ()))]
            if col == "journey_stage":
                allowed.append("lost")
            norm = normalize_levels(out[col])
            bad = norm.notna() & ~norm.isin(allowed)
            out[col] = norm.where(~bad).astype("str")
            if bad.any():
                unknown[col] = int(bad.sum())
        elif col in levels:  # nominal vocabulary: outside -> "unknown"
            vocab = set(levels[col]) | {"unknown"}
            bad = out[col].notna() & ~out[col].isin(vocab)
            out[col] = out[col].where(~bad, "unknown").astype("str")
            n = int(out[col].eq("unknown").sum())
            if n:
                unknown[col] = n
        else:
            n = int(out[col].astype("str").str.lower().eq("unknown").sum())
            if n:
                unknown[col] = n
    report["unknown_levels"] = unknown

    rel, _ = _relationship(table.reset_index())
    rel.index = out.index
    for col in rel.columns:
        out[col] = rel[col]
    return out, enc


def _growth_by(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(c for c in _GROWTH_BY if c in frame.columns)[:2]


# ---------------------------------------------------------------------------------- public


def build_features(
    transactions: Any,
    customers: pd.DataFrame | None,
    as_of: Any,
    spec: FeatureSpec | None = None,
    *,
    lookback_days: int | None = None,
    state: FeatureState | None = None,
    aggregates: pd.DataFrame | None = None,
    min_peers: int = 5,
) -> FeatureSet:
    """Build the raw feature frame of every customer as of ``as_of``.

    A convenience over :class:`~segml.features.builder.FeatureBuilder`: without ``state`` it is
    ``FeatureBuilder(spec, lookback_days=..., min_peers=...).fit_transform(...)``; with a
    ``state`` it is ``FeatureBuilder.from_state(state, spec).transform(...)``.

    **The as-of universe.** A customer is in the frame when they have a transaction on or
    before ``as_of``, a ``signup_date`` on or before it, or no dated attribute at all
    (prospects: no purchase yet). A customer whose first appearance (first transaction or
    signup, whichever exist) is after ``as_of`` is *not yet a customer*: left out and
    counted in ``report["not_yet_customers"]``.

    Parameters
    ----------
    transactions : DataFrame or None
        Canonical transactions (``validate_transactions`` output). Rows after
        ``as_of`` are ignored and counted. None for customer-only data.
    customers : DataFrame or None
        Canonical customers table (``customer_id`` column or index).
    as_of : str, date, datetime or pandas.Timestamp
        The as-of date (required; see ``docs/CONTRACTS.md`` for the boundary). Text must be
        ISO ``YYYY-MM-DD`` (optionally ``YYYY-MM-DDTHH:MM:SS``). It may not precede the
        first transaction.
    spec : FeatureSpec, optional
        Model spec; None uses :meth:`FeatureSpec.default` of the frame's columns.
        Its ``levels`` normalise ordinal labels and restrict nominal vocabularies.
    lookback_days : int, optional
        Lookback window for the transaction features.
    state : FeatureState, optional
        A state from an earlier build: RFM cut points, ABC thresholds, levels,
        growth medians and age bands are reused frozen, and the frame is
        reindexed to the state's columns (absent ones filled with NaN).
    aggregates : DataFrame, optional
        Per-customer transaction aggregates in canonical feature names (e.g. a
        dataset that ships totals instead of transactions), used instead of
        computing them from ``transactions``. Needs ``frequency`` and
        ``monetary``; ``tenure_days`` is derived from ``signup_date`` when absent.
    min_peers : int, default 5
        Minimum buyers of a profile cell for its own growth-potential median.

    Returns
    -------
    FeatureSet

    Raises
    ------
    SchemaError
        When the customers table has no, missing or duplicated ids.
    ConfigError
        When ``as_of`` is missing, not an ISO date, before the first transaction, or an
        argument is out of range.

    Warns
    -----
    DataQualityWarning
        When ``as_of`` is more than a week after the last transaction (the message gives
        the data's date range and the gap in days).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"]),
    ...     "amount": [10.0, 30.0, 5.0]})
    >>> fs = build_features(tx, pd.DataFrame({"customer_id": ["a", "c"]}), "2024-03-05")
    >>> fs.frame[["frequency", "monetary", "rfm_code", "abc_class"]].to_dict("index")["c"]
    {'frequency': 0, 'monetary': 0.0, 'rfm_code': '000', 'abc_class': 'none'}
    >>> fs.report["customers_only_in_transactions"]
    1
    """
    from segml.features.builder import FeatureBuilder  # builder.py imports this module

    if state is None:
        builder = FeatureBuilder(spec, lookback_days=lookback_days, min_peers=min_peers)
        return builder.fit_transform(transactions, customers, as_of=as_of,
                                     aggregates=aggregates)
    return FeatureBuilder.from_state(state, spec, min_peers=min_peers).transform(
        transactions, customers, as_of=as_of, aggregates=aggregates
    )

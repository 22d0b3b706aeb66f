"""The ``forward`` feature family: BG/NBD + Gamma-Gamma fitted at one date, applied frozen later.

:func:`fit_forward` summarises the transactions on or before ``as_of`` (:func:`rfm_summary`, the
whole history: the features' ``lookback_days`` does not apply, the models need the first
purchase), fits :class:`BGNBD` and :class:`GammaGamma` and returns a :class:`ForwardState`
holding only parameters and peer references, never customer rows. :func:`forward_features`
rebuilds the columns at any later ``as_of`` with those parameters frozen (no refit).

Columns (:data:`FORWARD_COLUMNS`), per customer with a purchase on or before ``as_of``:

``p_alive``
    BG/NBD probability of still being active (1 for a customer without a repeat purchase:
    BG/NBD lets customers drop out only after a repeat purchase).
``expected_purchases``
    Expected purchases in the next ``horizon`` time units.
``expected_spend``
    Gamma-Gamma expected value per purchase. **No repeat purchase** (``x == 0``): the
    population mean ``p γ / (q - 1)`` of the fitted model. **$0 repeat spend** (``x >= 1`` and
    every repeat purchase worth $0): left out of the Gamma-Gamma fit (a Gamma has no zeros;
    counted in ``report["zero_spend_repeaters"]``) and predicted with the model's posterior
    mean at ``m_x = 0``, ``γ p / (p x + q - 1)``: the more $0 purchases, the closer to 0. The
    evidence of spending nothing is used, not replaced by the population mean.
``forward_clv``
    ``margin × expected_spend × Σ_k (E[Y(k)] - E[Y(k-1)]) / (1 + d)^k`` over ``k = 1..horizon``
    time units, ``d`` the per-unit rate of the annual ``discount_rate`` (see
    :func:`forward_value`).
``forward_growth_potential``
    Room to grow, in money over the horizon (undiscounted revenue):
    ``expected_purchases × max(0, peer_spend - expected_spend)``, with ``peer_spend`` the median
    ``expected_spend`` of the repeat buyers of the customer's profile cell at fit (frozen; cells
    with fewer than ``min_peers`` repeat buyers use the median of all). It is what the
    customer's expected future purchases would add if their basket matched their peers'. A
    lapsed customer (few expected purchases) gets little whatever they spent, unlike the
    gap-to-peer-median score of :class:`segml.features.GrowthPotential`, which gives a $0 or
    lapsed low spender the maximum. Frequency headroom is not measured.

Customers without a purchase on or before ``as_of`` (prospects, customers whose only rows are
returns or cancellations) get NaN and are counted in ``report["not_modelled"]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, SchemaError
from segml.value.bgnbd import BGNBD, BGNBDParams
from segml.value.forward import forward_value
from segml.value.gamma_gamma import GammaGamma, GammaGammaParams
from segml.value.summary import TIME_UNITS, rfm_summary

__all__ = [
    "FORWARD_COLUMNS",
    "SPEND_COLUMNS",
    "FORWARD_OPTIONS",
    "ForwardState",
    "check_forward_options",
    "check_forward_columns",
    "fit_forward",
    "forward_features",
    "forward_growth_potential",
]

#: Columns of the family, in frame order.
FORWARD_COLUMNS: tuple[str, ...] = (
    "p_alive", "expected_purchases", "expected_spend", "forward_clv", "forward_growth_potential",
)
#: Columns that need ``amount`` (the Gamma-Gamma spend model).
SPEND_COLUMNS: tuple[str, ...] = ("expected_spend", "forward_clv", "forward_growth_potential")
#: Options of the family and their defaults: model time unit, horizon in time units, annual
#: discount rate, gross margin rate.
FORWARD_OPTIONS: dict[str, Any] = {
    "time_unit": "W", "horizon": 52, "discount_rate": 0.1, "margin": 1.0,
}


def check_forward_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate the ``forward`` family options and fill in the defaults.

    Parameters
    ----------
    options : mapping or None
        Any of ``time_unit`` ({"W", "D", "M"}), ``horizon`` (int >= 1, in time units),
        ``discount_rate`` (annual, >= 0), ``margin`` (in (0, 1]).

    Returns
    -------
    dict
        All four options.

    Raises
    ------
    ConfigError
        On an unknown key or a bad value, naming the option and the fix.
    """
    opts = dict(FORWARD_OPTIONS)
    if options is None:
        return opts
    if not isinstance(options, Mapping):
        raise ConfigError(
            f"forward options should be a table of {sorted(FORWARD_OPTIONS)}, got "
            f"{type(options).__name__}. Fix: [families.forward.options] horizon = 52."
        )
    unknown = [k for k in options if k not in FORWARD_OPTIONS]
    if unknown:
        raise ConfigError(
            f"forward options: unknown key(s) {unknown}; allowed: {sorted(FORWARD_OPTIONS)}. "
            "Fix: remove or rename them in [families.forward.options]."
        )
    opts.update(options)
    fix = " Fix: set it in [families.forward.options] (or the predictor's argument)."
    if opts["time_unit"] not in TIME_UNITS:
        raise ConfigError(
            f"forward option time_unit={opts['time_unit']!r} is not one of "
            f"{sorted(TIME_UNITS)} (weeks, days, average months).{fix}"
        )
    h = opts["horizon"]
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1 or h > 10_000:
        raise ConfigError(
            f"forward option horizon={h!r} must be a whole number of time units in "
            f"[1, 10000] (e.g. 52 weeks).{fix}"
        )
    for name, lo, hi, lo_open in (("discount_rate", 0.0, 10.0, False), ("margin", 0.0, 1.0, True)):
        v = opts[name]
        ok = isinstance(v, int | float | np.number) and not isinstance(v, bool)
        fv = float(v) if ok else float("nan")
        if not (math.isfinite(fv) and (fv > lo if lo_open else fv >= lo) and fv <= hi):
            rng = f"({lo:g}, {hi:g}]" if lo_open else f"[{lo:g}, {hi:g}]"
            raise ConfigError(f"forward option {name}={v!r} must be a number in {rng}.{fix}")
        opts[name] = fv
    opts["horizon"] = int(h)
    return opts


def check_forward_columns(columns: Sequence[str]) -> list[str]:
    """Return ``columns`` as a list after checking each is one of :data:`FORWARD_COLUMNS`.

    Parameters
    ----------
    columns : sequence of str
        Column names asked for.

    Returns
    -------
    list of str

    Raises
    ------
    ConfigError
        Naming the unknown columns and the family's columns.
    """
    bad = [c for c in columns if c not in FORWARD_COLUMNS]
    if bad:
        raise ConfigError(
            f"forward columns {bad} are unknown; the family has {list(FORWARD_COLUMNS)}. "
            "Fix: rename them in [families.forward.columns]."
        )
    return list(columns)


@dataclass
class ForwardState:
    """Everything :func:`fit_forward` learned: parameters and peer references, no customer rows.

    Attributes
    ----------
    options : dict
        ``time_unit``, ``horizon``, ``discount_rate``, ``margin`` (see
        :func:`check_forward_options`).
    as_of : str
        Date of the fit (ISO).
    purchases : BGNBDParams
        Fitted BG/NBD parameters.
    spend : GammaGammaParams or None
        Fitted Gamma-Gamma parameters (None when no spend column was asked for).
    peer_spend : dict of str to float
        Median ``expected_spend`` of the repeat buyers per profile cell (cells with at least
        ``min_peers`` of them).
    global_peer_spend : float
        Median ``expected_spend`` of all repeat buyers (NaN without spend).
    min_peers : int
        Fewest repeat buyers for a cell's own reference.
    fit_report : dict
        Counts and diagnostics of the fit: ``n_customers``, ``n_repeat_buyers``,
        ``zero_spend_repeaters`` (left out of the Gamma-Gamma fit), log-likelihoods and the
        frequency/spend ``independence`` check (Pearson with its 95 % interval, Spearman, flag),
        and the rows :func:`rfm_summary` left out or valued 0 (``n_return_rows``,
        ``n_cancelled_rows``, ``n_missing_amount_rows``).
    """

    options: dict[str, Any]
    as_of: str
    purchases: BGNBDParams
    spend: GammaGammaParams | None = None
    peer_spend: dict[str, float] = field(default_factory=dict)
    global_peer_spend: float = float("nan")
    min_peers: int = 5
    fit_report: dict[str, Any] = field(default_factory=dict)


def _pandas(transactions: Any) -> pd.DataFrame:
    if hasattr(transactions, "collect"):  # polars LazyFrame
        transactions = transactions.collect()
    if hasattr(transactions, "to_pandas") and not isinstance(transactions, pd.DataFrame):
        transactions = transactions.to_pandas()
    if not isinstance(transactions, pd.DataFrame):
        raise SchemaError(
            f"the forward family needs transactions (a DataFrame), got "
            f"{type(transactions).__name__}. Fix: pass transactions, or remove "
            "[families.forward] from the feature spec (aggregates cannot give the purchase "
            "timing BG/NBD needs)."
        )
    return transactions


def _summary(transactions: Any, as_of: Any, time_unit: str, need_spend: bool) -> pd.DataFrame:
    tx = _pandas(transactions)
    if need_spend and "amount" not in tx.columns:
        raise SchemaError(
            f"the forward columns {list(SPEND_COLUMNS)} need the Gamma-Gamma spend model, and "
            "transactions have no 'amount' column. Fix: map your amount column to 'amount', or "
            "keep only 'p_alive' and 'expected_purchases' in [families.forward.columns] "
            "(ForwardValuePredictor(target='purchases'))."
        )
    import warnings

    from segml.errors import DataQualityWarning

    with warnings.catch_warnings():
        # customers first seen after as_of are the features layer's not-yet customers (counted)
        warnings.filterwarnings("ignore", r"rfm_summary: \d+ customer\(s\) first bought after",
                                DataQualityWarning)
        return rfm_summary(tx, as_of, time_unit=time_unit)


def _per_unit_rate(annual: float, time_unit: str) -> float:
    return (1.0 + annual) ** (TIME_UNITS[time_unit] / 365.25) - 1.0


def _models(state: ForwardState) -> tuple[BGNBD, GammaGamma | None]:
    bg = BGNBD()
    bg.params_ = state.purchases
    gg = None
    if state.spend is not None:
        gg = GammaGamma()
        gg.params_ = state.spend
    return bg, gg


def forward_growth_potential(
    expected_purchases: Any, expected_spend: Any, peer_spend: Any
) -> np.ndarray:
    """Room to grow: expected purchases times the basket gap to the peers' expected spend.

    ``expected_purchases × max(0, peer_spend - expected_spend)`` (money over the horizon). NaN
    inputs give NaN.

    Parameters
    ----------
    expected_purchases, expected_spend, peer_spend : array-like
        Per customer (``peer_spend`` may be a scalar).

    Returns
    -------
    numpy.ndarray
        Non-negative money (or NaN).

    Examples
    --------
    >>> forward_growth_potential([2.0, 0.1, 3.0], [10.0, 5.0, 40.0], 30.0).tolist()
    [40.0, 2.5, 0.0]
    """
    e, s, p = np.broadcast_arrays(*(np.asarray(v, dtype="float64")
                                    for v in (expected_purchases, expected_spend, peer_spend)))
    return e * np.maximum(p - s, 0.0)


def _keys(profile: pd.Series | None, index: pd.Index) -> pd.Series:
    if profile is None:
        return pd.Series("<all>", index=index, dtype=object)
    return profile.reindex(index).astype(object).fillna("<missing>").map(str)


def fit_forward(
    transactions: Any,
    as_of: Any,
    *,
    options: Mapping[str, Any] | None = None,
    profile: pd.Series | None = None,
    min_peers: int = 5,
    need_spend: bool = True,
) -> ForwardState:
    """Fit BG/NBD (and Gamma-Gamma) on the history up to ``as_of`` and learn peer references.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``); rows after
        ``as_of`` are not read.
    as_of : date-like
        Calibration end (inclusive day).
    options : mapping, optional
        See :func:`check_forward_options`.
    profile : Series, optional
        Profile cell label per ``customer_id`` (peers for ``forward_growth_potential``); None:
        all customers are peers.
    min_peers : int, default 5
        Fewest repeat buyers for a cell's own peer reference.
    need_spend : bool, default True
        Fit Gamma-Gamma (needs ``amount``).

    Returns
    -------
    ForwardState

    Raises
    ------
    SchemaError
        No transactions, no ``amount`` while spend is needed, invalid rows.
    ConfigError
        Bad options; too few customers or repeat buyers for BG/NBD (all-zero frequency
        included) or Gamma-Gamma; ``q <= 1`` (infinite mean spend).

    Warns
    -----
    ConvergenceWarning
        When an optimiser did not converge (with what to try).
    DataQualityWarning
        When frequency and spend are correlated (the Gamma-Gamma assumption).
    """
    opts = check_forward_options(options)
    if isinstance(min_peers, bool) or not isinstance(min_peers, int | np.integer) or min_peers < 1:
        raise ConfigError(f"min_peers={min_peers!r} should be an integer >= 1. Fix: e.g. 5.")
    summary = _summary(transactions, as_of, opts["time_unit"], need_spend)
    what = "feature family 'forward'"
    try:
        bg = BGNBD().fit(summary)
    except ConfigError as exc:
        raise ConfigError(
            f"{what}: {exc} Or remove [families.forward] from the feature spec."
        ) from exc
    report: dict[str, Any] = {
        "n_customers": int(bg.n_customers_), "n_repeat_buyers": int(bg.n_repeat_buyers_),
        "bgnbd_log_likelihood": bg.log_likelihood_,
        **{k: int(summary.attrs[k]) for k in ("n_return_rows", "n_cancelled_rows",
                                              "n_missing_amount_rows")},
    }
    state = ForwardState(options=opts, as_of=str(pd.Timestamp(as_of).date()),
                         purchases=bg.params_, min_peers=int(min_peers), fit_report=report)
    if not need_spend:
        return state
    x, m = summary["x"].to_numpy(), summary["monetary"].to_numpy()
    zero = (x >= 1) & (m == 0)
    report["zero_spend_repeaters"] = int(zero.sum())
    try:
        gg = GammaGamma().fit(summary[~zero])
        e_spend = gg.conditional_expected_spend(x, m)
    except ConfigError as exc:
        raise ConfigError(
            f"{what}: {exc} Or keep only 'p_alive' and 'expected_purchases' in "
            "[families.forward.columns]."
        ) from exc
    state.spend = gg.params_
    report["gamma_gamma_log_likelihood"] = gg.log_likelihood_
    report["independence"] = asdict(gg.independence_)
    rep = pd.Series(e_spend, index=summary.index)[x >= 1]
    keys = _keys(profile, rep.index)
    grouped = rep.groupby(keys)
    counts, medians = grouped.size(), grouped.median()
    state.peer_spend = {str(k): float(medians[k]) for k in medians.index
                        if counts[k] >= min_peers}
    state.global_peer_spend = float(rep.median()) if len(rep) else float("nan")
    return state


def forward_features(
    state: ForwardState,
    transactions: Any,
    as_of: Any,
    *,
    index: pd.Index | None = None,
    profile: pd.Series | None = None,
    columns: Sequence[str] = FORWARD_COLUMNS,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Compute the forward columns as of ``as_of`` with the state frozen (no refit).

    Parameters
    ----------
    state : ForwardState
        From :func:`fit_forward`.
    transactions : DataFrame
        Canonical transactions; rows after ``as_of`` are not read.
    as_of : date-like
        Date of the columns (inclusive day).
    index : Index, optional
        Customers to return (others are dropped, missing ones are NaN and counted); default the
        customers with a purchase on or before ``as_of``.
    profile : Series, optional
        Profile cell per ``customer_id`` for the peer references.
    columns : sequence of str, default all
        Which of :data:`FORWARD_COLUMNS` to compute.

    Returns
    -------
    (DataFrame, dict)
        The columns indexed by ``customer_id``, and a report: ``not_modelled`` (rows of
        ``index`` without a purchase on or before ``as_of``: NaN), ``peer_fallback`` (scored
        with the global peer reference).

    Raises
    ------
    ConfigError
        When a column is unknown or needs the spend model the state lacks.
    SchemaError
        As :func:`fit_forward`.
    """
    check_forward_columns(columns)
    spend_cols = [c for c in columns if c in SPEND_COLUMNS]
    if spend_cols and state.spend is None:
        raise ConfigError(
            f"forward columns {spend_cols} need the spend model, and this state was fitted "
            "without it. Fix: refit with those columns in the spec (and 'amount' in the data)."
        )
    opts = state.options
    summary = _summary(transactions, as_of, opts["time_unit"], bool(spend_cols))
    bg, gg = _models(state)
    if gg is not None and bool(spend_cols):
        fv = forward_value(
            bg, gg, summary, horizon=opts["horizon"],
            discount_rate=_per_unit_rate(opts["discount_rate"], opts["time_unit"]),
            margin=opts["margin"],
        )
        out = pd.DataFrame({"p_alive": fv["p_alive"],
                            "expected_purchases": fv["expected_purchases"],
                            "expected_spend": fv["expected_spend"], "forward_clv": fv["clv"]})
        keys = _keys(profile, summary.index)
        peer = keys.map(state.peer_spend).astype("float64")
        fallback = peer.isna().to_numpy()
        peer = np.where(fallback, state.global_peer_spend, peer.to_numpy())
        out["forward_growth_potential"] = forward_growth_potential(
            out["expected_purchases"], out["expected_spend"], peer)
        n_fallback = int(fallback.sum())
    else:
        out = bg.predict(summary, float(opts["horizon"]))
        n_fallback = 0
    out = out[list(columns)]
    report: dict[str, Any] = {"n_modelled": len(out), "peer_fallback": n_fallback}
    if index is not None:
        index = pd.Index(index)
        if pd.api.types.is_string_dtype(index.dtype) or index.dtype == object:
            out.index = out.index.astype("str")
        report["not_modelled"] = int((~index.isin(out.index)).sum())
        out = out.reindex(index)
    else:
        report["not_modelled"] = 0
    out.index.name = "customer_id"
    return out, report

"""Baselines by name that need more than the feature frame: the forward-value forecast deciles.

``forecast_deciles`` (:class:`ForecastDeciles`) groups customers by the deciles of their
BG/NBD x Gamma-Gamma forecast of next-period spend (:class:`segml.value.ForwardValuePredictor`),
fitted on the rows up to the cutoff only. It is the "what a good score gives when cut into
tiers" baseline a segmentation should be compared with. Unlike the segmenters of
:mod:`segml.backtest.segmenters` it needs the transactions, not only the feature frame: the
backtest hands it the rows up to the cutoff with :meth:`ForecastDeciles.set_history` before
``fit`` and ``predict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from segml.errors import ConfigError, NotFittedError

__all__ = ["ForecastDeciles", "HISTORY_BASELINES"]

#: Baselines usable by name in ``backtest(segmenters=[...])`` / ``--segmenters`` that read the
#: transactions (not added unless named: they need enough repeat buyers and ``amount``).
HISTORY_BASELINES = ("forecast_deciles",)


class ForecastDeciles(BaseEstimator):
    """Baseline: quantile tiers of the forward-value forecast, ``"f01"`` the highest.

    At ``fit`` the BG/NBD (and Gamma-Gamma) models are fitted on the history handed over by
    :meth:`set_history` (rows up to the cutoff) and the tier edges are learned from the
    customers' forecasts; ``predict`` applies both frozen to the history handed over for
    the date it predicts at (frozen mode: a later cutoff). ``predict`` releases the history
    (the backtest keeps every cutoff's fitted segmenters; holding each cutoff's rows would
    keep copies of the log), so hand it over again before the next ``predict``. Tied edges
    are merged (fewer tiers); a customer without a forecast (no purchase in the history) is
    ``"unscored"``.

    Parameters
    ----------
    n_tiers : int, default 10
        Quantile tiers (10: deciles).
    target : {"spend", "purchases", "clv"}, default "spend"
        What the forecast ranks by (see :class:`segml.value.ForwardValuePredictor`).
    time_unit : {"W", "D", "M"}, default "W"
    horizon : int, default 13
        Forecast horizon in time units (13 weeks: a quarter).

    Attributes
    ----------
    predictor_ : segml.value.ForwardValuePredictor
        The fitted forecast.
    edges_ : ndarray
        Tier edges of the forecast, ascending.

    Examples
    --------
    >>> from segml.io import load_cdnow
    >>> tx = load_cdnow(sample=True).transactions
    >>> as_of = pd.Timestamp("1997-09-30")
    >>> past = tx[tx["timestamp"] < as_of + pd.Timedelta(days=1)]
    >>> frame = pd.DataFrame(index=pd.Index(past["customer_id"].unique(), name="customer_id"))
    >>> fd = ForecastDeciles().set_history(past, None, as_of).fit(frame)
    >>> fd.predict(frame).value_counts().sort_index().index[0]
    'f01'
    """

    def __init__(self, n_tiers: int = 10, *, target: str = "spend", time_unit: str = "W",
                 horizon: int = 13) -> None:
        self.n_tiers = n_tiers
        self.target = target
        self.time_unit = time_unit
        self.horizon = horizon

    def set_history(self, transactions: pd.DataFrame, customers: pd.DataFrame | None,
                    as_of: Any) -> ForecastDeciles:
        """Hand over the transactions up to ``as_of`` for the next ``fit``/``predict``.

        Parameters
        ----------
        transactions : pandas.DataFrame
            Canonical transactions, already cut at ``as_of`` by the caller.
        customers : pandas.DataFrame or None
            Ignored (the models use purchase history only).
        as_of : date-like
            The date the forecast is made at.

        Returns
        -------
        ForecastDeciles
            ``self``.
        """
        self._history = (transactions, pd.Timestamp(as_of))
        return self

    def _past(self) -> tuple[pd.DataFrame, pd.Timestamp]:
        past = getattr(self, "_history", None)
        if past is None:
            raise ConfigError(
                "ForecastDeciles needs the transactions up to the cutoff, and has none. Fix: "
                "call set_history(transactions, customers, as_of) before fit/predict (the "
                "backtest does it for segmenters=['forecast_deciles'])."
            )
        return past

    def _forecast(self, X: pd.DataFrame) -> np.ndarray:
        tx, as_of = self._past()
        s = self.predictor_.predict(tx, None, as_of)
        s.index = s.index.astype(str)
        return s.reindex(X.index.astype(str)).to_numpy(dtype="float64")

    def fit(self, X: pd.DataFrame, y: Any = None) -> ForecastDeciles:
        """Fit the forecast on the handed-over history and learn the tier edges on ``X``'s rows.

        Raises
        ------
        ConfigError
            Without a history, for bad options, or too few repeat buyers to fit BG/NBD.
        """
        from segml.value import ForwardValuePredictor

        if isinstance(self.n_tiers, bool) or not isinstance(self.n_tiers, (int, np.integer)) \
                or self.n_tiers < 2:
            raise ConfigError(f"ForecastDeciles n_tiers={self.n_tiers!r} should be an integer "
                              ">= 2. Fix: e.g. ForecastDeciles(n_tiers=10).")
        tx, as_of = self._past()
        self.predictor_ = ForwardValuePredictor(time_unit=self.time_unit, horizon=self.horizon,
                                                target=self.target).fit(tx, None, as_of)
        f = self._forecast(X)
        ok = np.isfinite(f)
        q = (np.quantile(f[ok], np.linspace(0, 1, self.n_tiers + 1))[1:-1] if ok.any()
             else np.array([]))
        self.edges_ = np.unique(q)
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Tier of each row's forecast (``"f01"`` highest), ``"unscored"`` without one."""
        if not hasattr(self, "edges_"):
            raise NotFittedError("ForecastDeciles is not fitted yet. Fix: call "
                                 "set_history(...) then fit(frame) first.")
        f = self._forecast(X)
        self._history = None  # released: see the class docstring
        ok = np.isfinite(f)
        tier = len(self.edges_) + 1 - np.searchsorted(self.edges_, np.where(ok, f, 0.0),
                                                      side="right")
        labels = np.where(ok, [f"f{t:02d}" for t in tier], "unscored")
        return pd.Series(labels, index=X.index, name="segment", dtype=object)

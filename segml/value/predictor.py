"""``ForwardValuePredictor``: the forward models as a continuous predictor for the backtest.

Protocol (the one :mod:`segml.backtest` accepts): ``fit(transactions, customers, as_of)``
returns the predictor, ``predict(transactions, customers, as_of)`` returns a Series indexed by
``customer_id``, higher = more expected future value. ``fit`` estimates the BG/NBD (and
Gamma-Gamma) parameters on the history up to ``as_of``; ``predict`` at any later date applies
them frozen to the history up to that date (no refit, no row after that date read).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from segml.errors import ConfigError, NotFittedError
from segml.value.family import ForwardState, fit_forward, forward_features

__all__ = ["ForwardValuePredictor", "TARGETS"]

#: What the predictor ranks customers by.
TARGETS: tuple[str, ...] = ("purchases", "spend", "clv")


class ForwardValuePredictor:
    """Expected purchases, spend or CLV over the next ``horizon`` time units, per customer.

    Parameters
    ----------
    time_unit : {"W", "D", "M"}, default "W"
        Model time unit.
    horizon : int, default 52
        Horizon in time units.
    target : {"purchases", "spend", "clv"}, default "clv"
        ``purchases``: expected purchases (needs no ``amount``); ``spend``: expected purchases
        × Gamma-Gamma expected spend (undiscounted revenue); ``clv``: discounted,
        margin-adjusted forward CLV.
    discount_rate : float, default 0.1
        Annual discount rate (``clv`` only).
    margin : float, default 1.0
        Gross margin rate in (0, 1] (``clv`` only).

    Attributes
    ----------
    state_ : ForwardState
        Fitted parameters (see :func:`segml.value.fit_forward`); ``state_.fit_report`` holds
        the fit's counts and the Gamma-Gamma independence check.

    Examples
    --------
    >>> from segml.io import load_cdnow
    >>> tx = load_cdnow(sample=True).transactions
    >>> pred = ForwardValuePredictor(target="purchases", horizon=39).fit(tx, None, "1997-09-30")
    >>> round(pred.state_.purchases.r, 3), round(pred.state_.purchases.alpha, 3)
    (0.243, 4.414)
    """

    def __init__(
        self, *, time_unit: str = "W", horizon: int = 52, target: str = "clv",
        discount_rate: float = 0.1, margin: float = 1.0,
    ) -> None:
        self.time_unit = time_unit
        self.horizon = horizon
        self.target = target
        self.discount_rate = discount_rate
        self.margin = margin

    def _column(self) -> str:
        if self.target not in TARGETS:
            raise ConfigError(
                f"ForwardValuePredictor target={self.target!r} is not one of {list(TARGETS)}. "
                "Fix: pass target='purchases', 'spend' or 'clv'."
            )
        return {"purchases": "expected_purchases", "spend": "expected_spend",
                "clv": "forward_clv"}[self.target]

    def fit(self, transactions: Any, customers: Any, as_of: Any) -> ForwardValuePredictor:
        """Fit the models on the transactions on or before ``as_of``.

        Parameters
        ----------
        transactions : DataFrame
            Canonical transactions (``customer_id``, ``timestamp``, ``amount``).
        customers : DataFrame or None
            Ignored (the models use purchase history only); accepted for the protocol.
        as_of : date-like
            Calibration end (inclusive day).

        Returns
        -------
        ForwardValuePredictor
            ``self``.

        Raises
        ------
        ConfigError, SchemaError
            As :func:`segml.value.fit_forward` (too few repeat buyers, no ``amount`` for a
            spend target, bad options).
        """
        self._column()
        options = {"time_unit": self.time_unit, "horizon": self.horizon,
                   "discount_rate": self.discount_rate, "margin": self.margin}
        self.state_ = fit_forward(transactions, as_of, options=options,
                                  need_spend=self.target != "purchases")
        return self

    def predict(self, transactions: Any, customers: Any, as_of: Any) -> pd.Series:
        """Score every customer with a purchase on or before ``as_of``, parameters frozen.

        Parameters
        ----------
        transactions : DataFrame
            Canonical transactions; rows after ``as_of`` are not read.
        customers : DataFrame or None
            With a ``customer_id`` column (or index): the Series is indexed by these customers,
            NaN for those without a purchase on or before ``as_of`` (no model for them;
            counted in ``Series.attrs["not_modelled"]``). None: the customers with a purchase.
        as_of : date-like
            Scoring date.

        Returns
        -------
        pandas.Series
            Named after the target, indexed by ``customer_id``.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        col = self._column()
        state: ForwardState | None = getattr(self, "state_", None)
        if state is None:
            raise NotFittedError(
                "This ForwardValuePredictor is not fitted yet. Fix: call "
                ".fit(transactions, customers, as_of) first."
            )
        index = None
        if customers is not None:
            ids = customers["customer_id"] if "customer_id" in customers.columns \
                else customers.index
            index = pd.Index(pd.Index(ids).astype("str"), name="customer_id")
        cols = ["expected_purchases", "expected_spend"] if self.target == "spend" else [col]
        out, rep = forward_features(state, transactions, as_of, index=index, columns=cols)
        if self.target == "spend":
            values = out["expected_purchases"] * out["expected_spend"]
        else:
            values = out[col]
        values = values.rename(self.target)
        values.attrs["not_modelled"] = rep["not_modelled"]
        return values

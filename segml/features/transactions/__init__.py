"""Point-in-time transaction features per customer: RFM, behaviour, payment.

The aggregation core runs on polars (one lazy group-by pass over the rows for RFM and behaviour,
one small extra pass for inter-purchase gaps, one for invoices). The canonical pandas frame is
converted once; the result comes back as pandas, indexed by ``customer_id`` (string), **sorted**,
with float64 / int64 / bool columns, so the same input always gives the same frame byte for byte
(whatever the row order).

Definitions shared by every function here (the as-of rules are in :mod:`segml.features._time`):

* **Rows used**: ``timestamp < cutoff(as_of)`` (and inside the lookback window when given);
  rows with ``status == "cancelled"`` are ignored entirely.
* **Return line**: ``amount < 0`` or ``status == "returned"``. **Purchase line**: any other row
  (``amount >= 0``; CDNOW's $0 rows are purchases).
* **Order**: distinct ``order_id`` among purchase lines when the column exists (a missing
  ``order_id`` counts as its own purchase day); without ``order_id``, an order is a distinct
  purchase *day* (several rows of one customer on one day are one order).
* **Universe**: every customer with at least one row on or before ``as_of`` (any status, even
  before the lookback window), plus every id in ``customers``. A customer whose first row is after
  ``as_of`` does not exist yet and is not listed (point in time).
* **Money sums are exact**: when every counted amount is whole in cents (or in 1/10000), sums
  are done on integers at that scale, so ``monetary`` is the correctly rounded decimal total and
  does not depend on row order (float addition in another order can change the last bit).
  Finer amounts fall back to float sums.
* **Prospect**: a customer with no purchase line in the window (``frequency == 0``). Prospects are
  never dropped; the value each feature takes for them is given in each function's docstring:
  counts and sums are 0, ratios that have no denominator are NaN, flags are False.

Modules: :mod:`~segml.features.transactions.families` (the public functions),
:mod:`~segml.features.transactions.levels` (:class:`ShareLevels`, :func:`top_levels`),
:mod:`~segml.features.transactions.sorted` (:class:`SortedTransactions`: the log converted and
sorted by time once, for builds at many dates), and the private ``_rows`` (input, window,
money) and ``_aggregates`` (the polars expressions and the one
pass). Every name is importable from ``segml.features.transactions``.
"""

from __future__ import annotations

from segml.features.transactions._aggregates import RFM_COLUMNS
from segml.features.transactions.families import (
    behaviour_features,
    payment_features,
    rfm_features,
    transaction_features,
)
from segml.features.transactions.levels import ShareLevels, top_levels
from segml.features.transactions.sorted import (
    FEATURE_TRANSACTION_COLUMNS,
    SortedTransactions,
)

__all__ = [
    "rfm_features",
    "behaviour_features",
    "payment_features",
    "transaction_features",
    "ShareLevels",
    "top_levels",
    "RFM_COLUMNS",
    "SortedTransactions",
    "FEATURE_TRANSACTION_COLUMNS",
]

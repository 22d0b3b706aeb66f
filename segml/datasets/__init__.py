"""A synthetic Italian customer portfolio with planted segments: segml's embedded default data.

:func:`make_portfolio` draws customers (demographic, firmographic, geographic,
psychographic and relationship attributes), prospects who never bought, and
several years of order lines (categories, channels, seasonality, heavy-tailed
order values, returns, payment terms and late payers) from ``n_segments``
planted segment profiles. The planted label of every customer is returned
separately (``Portfolio.truth``) so clusterings can be scored against it; it
never appears in the customers frame.

Everything is vectorised numpy (loops run over segments, categories and
months only), so a million customers and tens of millions of lines are
feasible, and everything is drawn from one ``np.random.default_rng(random_state)``:
the same arguments and seed give identical frames and identical file bytes.

Modules: :mod:`~segml.datasets.portfolio` (:class:`Portfolio`, :func:`make_portfolio`),
:mod:`~segml.datasets.customers` and :mod:`~segml.datasets.transactions` (the two drawing
steps), :mod:`~segml.datasets.reference` (the reference tables) and the private ``_draw``
helpers. Every public name is importable from ``segml.datasets``.
"""

from __future__ import annotations

from segml.datasets.portfolio import Portfolio, make_portfolio
from segml.datasets.reference import CATEGORIES, CHANNELS, CITIES, MACRO_AREAS

__all__ = [
    "Portfolio",
    "make_portfolio",
    "CITIES",
    "CATEGORIES",
    "CHANNELS",
    "MACRO_AREAS",
]

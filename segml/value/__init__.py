"""Forward customer value: buy-till-you-die models on a per-customer summary.

``rfm_summary`` turns canonical transactions into ``(x, t_x, T, monetary)``; ``BGNBD`` (purchase
and dropout) and ``GammaGamma`` (spend) are fitted on it; ``forward_value`` combines them into
P(alive), expected purchases, expected spend and a discounted forward CLV;
``calibration_holdout_table`` checks predictions against a holdout period.

Library decision: scipy only (see ``docs`` in :mod:`segml.value.bgnbd` and the commit log):
``lifetimes`` is archived, ``btyd`` 0.1a1 installs but does not import on Python 3.11
(its pinned ``autograd`` 1.4 imports ``inspect.getargspec``), and PyMC-Marketing brings
pymc + pytensor for what is a four-parameter closed-form likelihood.
"""

from segml.value._common import ConvergenceWarning
from segml.value.bgnbd import (
    BGNBD,
    BGNBDParams,
    bgnbd_conditional_expected_purchases,
    bgnbd_expected_purchases_new,
    bgnbd_log_likelihood,
    bgnbd_probability_alive,
)
from segml.value.forward import calibration_holdout_table, forward_value
from segml.value.gamma_gamma import (
    GammaGamma,
    GammaGammaParams,
    IndependenceCheck,
    frequency_monetary_independence,
    gamma_gamma_conditional_expected_spend,
    gamma_gamma_log_likelihood,
)
from segml.value.plot import plot_calibration_holdout
from segml.value.simulate import simulate_bgnbd
from segml.value.summary import TIME_UNITS, rfm_summary

__all__ = [
    "rfm_summary",
    "TIME_UNITS",
    "BGNBD",
    "BGNBDParams",
    "bgnbd_log_likelihood",
    "bgnbd_conditional_expected_purchases",
    "bgnbd_probability_alive",
    "bgnbd_expected_purchases_new",
    "GammaGamma",
    "GammaGammaParams",
    "IndependenceCheck",
    "frequency_monetary_independence",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_conditional_expected_spend",
    "forward_value",
    "calibration_holdout_table",
    "plot_calibration_holdout",
    "simulate_bgnbd",
    "ConvergenceWarning",
]

"""The planted segments of the synthetic portfolio, as named data.

Each :class:`SegmentProfile` holds the parameters of one planted segment of
:func:`segml.datasets.make_portfolio` under a field name (means; the ``noise``
argument of ``make_portfolio`` scales the spread around them).
:data:`SEGMENT_PROFILES` lists the hand-written profiles in the order segments are
numbered; :func:`select_profiles` adds shifted variants when more segments are asked
for than are written here.

The tuples follow the orders of the generator's vocabularies: ``cats`` follows
``CATEGORIES``, ``chans`` ``CHANNELS``, ``macro`` ``MACRO_AREAS``, ``interests``
(sustainability, technology, price, brand), ``survey`` (quality, service, price) and
``leads`` the lead sources (web_form, social, advertising, referral, store_visit,
trade_fair, cold_call, agent).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["SegmentProfile", "SEGMENT_PROFILES", "derived_profile", "select_profiles"]


@dataclass(frozen=True)
class SegmentProfile:
    """Parameters of one planted segment of the synthetic portfolio.

    Attributes
    ----------
    name : str
        The segment's planted label (``Portfolio.truth``).
    weight : float
        Share of the B2C buyers (B2B buyers are all in the b2b segment).
    b2b : bool
        Whether the segment is the business-customer segment.
    rate : float
        Orders per year while active.
    spend : float
        Price tier (z-score of the products chosen).
    lines : float
        Mean extra lines per order.
    qty : float
        Mean extra units per line.
    discount : float
        Mean discount.
    cats : tuple of float
        Category mix, ``CATEGORIES`` order.
    chans : tuple of float
        Channel mix, ``CHANNELS`` order.
    signup : tuple of float
        Signup window, fractions of the period from ``start``.
    churn : float
        Probability of stopping to buy partway (1: every member has lapsed).
    churn_at : tuple of float
        Where in the customer's window a churner makes the last purchase (fractions of the
        days from the first purchase to the end, drawn uniformly between the two).
    growth : float
        Above 0: order frequency rises over the customer's window.
    season : float
        Exponent on the seasonal curve of the segment's category mix: 1 follows the
        categories' seasonality, above 1 concentrates the orders in the peak months.
    late_p : float
        Probability of being a chronic late payer.
    return_p : float
        Probability that a line is returned (scaled per category).
    age : tuple of float
        Mean and spread of age.
    income : float
        Multiplier on the profession's median income.
    upscale : float
        Tilt of the profession mix towards managers and professionals.
    female : float
        Share of women.
    macro : tuple of float
        Multipliers on population weights, ``MACRO_AREAS`` order.
    interests : tuple of float
        Probabilities of each interest flag.
    survey : tuple of float
        Likert means of the survey answers.
    satisfaction : float
        Latent mean of satisfaction.
    complaints : float
        Complaints per year of tenure.
    response : float
        Campaign response probability.
    leads : tuple of float
        Lead-source multipliers on the B2C mix (B2B uses its own mix).

    Notes
    -----
    Purchase rates are gamma-Poisson (the NBD of the BG/NBD family): each buyer's rate is
    ``rate`` times a gamma draw with mean 1 and coefficient of variation ``0.35 * noise``,
    orders are Poisson given the rate. Order values are lognormal through the price tier
    (``spend`` plus normal noise on the log-price rank) and the catalogue's lognormal prices.
    """

    name: str
    weight: float
    b2b: bool
    rate: float
    spend: float
    lines: float
    qty: float
    discount: float
    cats: tuple[float, ...]
    chans: tuple[float, ...]
    signup: tuple[float, float]
    churn: float
    growth: float
    late_p: float
    return_p: float
    age: tuple[float, float]
    income: float
    upscale: float
    female: float
    macro: tuple[float, ...]
    interests: tuple[float, ...]
    survey: tuple[float, ...]
    satisfaction: float
    complaints: float
    response: float
    leads: tuple[float, ...] = (1.0,) * 8
    churn_at: tuple[float, float] = (0.1, 0.9)
    season: float = 1.0


SEGMENT_PROFILES: tuple[SegmentProfile, ...] = (
    SegmentProfile(
        name="loyal_high_value",
        weight=0.22,
        b2b=False,
        rate=9.0,
        spend=1.0,
        lines=1.0,
        qty=0.2,
        discount=0.03,
        cats=(0.15, 0.45, 0.12, 0.1, 0.13, 0.05),
        chans=(0.6, 0.25, 0.13, 0.02),
        signup=(-1.5, 0.1),
        churn=0.0,
        growth=0.0,
        late_p=0.01,
        return_p=0.02,
        age=(54, 8),
        income=1.5,
        upscale=0.6,
        female=0.55,
        macro=(0.9, 1.8, 1.4, 0.6, 0.5),
        interests=(0.6, 0.25, 0.1, 0.85),
        survey=(4.5, 4.5, 3.2),
        satisfaction=1.4,
        complaints=0.1,
        response=0.25,
        leads=(0.6, 0.3, 0.6, 2.5, 2.0, 1.5, 1.0, 1.0),
    ),
    SegmentProfile(
        name="b2b_accounts",
        weight=0.0,
        b2b=True,
        rate=5.0,
        spend=0.4,
        lines=2.0,
        qty=3.0,
        discount=0.08,
        cats=(0.2, 0.15, 0.05, 0.03, 0.07, 0.5),
        chans=(0.05, 0.15, 0.2, 0.6),
        signup=(-2.0, 0.4),
        churn=0.02,
        growth=0.0,
        late_p=1.0,
        return_p=0.015,
        age=(45, 10),
        income=1.0,
        upscale=0.0,
        female=0.5,
        macro=(1.2, 1.3, 1.0, 0.8, 0.7),
        interests=(0.4, 0.5, 0.3, 0.3),
        survey=(3.6, 3.5, 3.0),
        satisfaction=0.3,
        complaints=0.4,
        response=0.15,
    ),
    SegmentProfile(
        name="bargain_hunters",
        weight=0.26,
        b2b=False,
        rate=5.0,
        spend=-1.3,
        lines=1.3,
        qty=0.6,
        discount=0.18,
        cats=(0.08, 0.12, 0.05, 0.45, 0.27, 0.03),
        chans=(0.2, 0.72, 0.08, 0.0),
        signup=(-0.5, 0.6),
        churn=0.01,
        growth=0.0,
        late_p=0.01,
        return_p=0.1,
        age=(40, 8),
        income=0.75,
        upscale=-0.5,
        female=0.6,
        macro=(0.7, 0.7, 1.0, 1.7, 1.7),
        interests=(0.2, 0.3, 0.9, 0.1),
        survey=(3.2, 3.3, 4.4),
        satisfaction=-0.2,
        complaints=0.3,
        response=0.55,
        leads=(1.2, 0.6, 2.8, 0.5, 0.6, 0.3, 1.0, 1.0),
    ),
    SegmentProfile(
        name="lapsed",
        weight=0.22,
        b2b=False,
        rate=5.0,
        spend=0.0,
        lines=0.8,
        qty=0.2,
        discount=0.05,
        cats=(0.2, 0.3, 0.15, 0.15, 0.15, 0.05),
        chans=(0.7, 0.15, 0.15, 0.0),
        signup=(-0.75, 0.0),
        churn=1.0,
        growth=0.0,
        late_p=0.03,
        return_p=0.05,
        age=(48, 12),
        income=1.0,
        upscale=0.0,
        female=0.5,
        macro=(1.0, 1.0, 1.4, 1.0, 1.0),
        interests=(0.3, 0.2, 0.4, 0.3),
        survey=(2.6, 2.3, 2.8),
        satisfaction=-0.9,
        complaints=0.8,
        response=0.05,
        churn_at=(0.15, 0.35),
    ),
    SegmentProfile(
        name="new_growing",
        weight=0.16,
        b2b=False,
        rate=6.0,
        spend=0.3,
        lines=1.0,
        qty=0.1,
        discount=0.05,
        cats=(0.5, 0.15, 0.03, 0.22, 0.05, 0.05),
        chans=(0.1, 0.82, 0.08, 0.0),
        signup=(0.6, 0.93),
        churn=0.0,
        growth=2.0,
        late_p=0.01,
        return_p=0.05,
        age=(27, 4),
        income=1.0,
        upscale=0.2,
        female=0.45,
        macro=(2.0, 1.0, 1.0, 0.6, 0.5),
        interests=(0.3, 0.9, 0.45, 0.3),
        survey=(3.8, 3.5, 3.8),
        satisfaction=0.9,
        complaints=0.1,
        response=0.3,
        leads=(1.0, 3.5, 0.6, 0.5, 0.3, 0.2, 1.0, 1.0),
    ),
    SegmentProfile(
        name="seasonal_gardeners",
        weight=0.1,
        b2b=False,
        rate=3.0,
        spend=0.2,
        lines=1.4,
        qty=0.8,
        discount=0.04,
        cats=(0.03, 0.2, 0.65, 0.04, 0.05, 0.03),
        chans=(0.75, 0.1, 0.15, 0.0),
        signup=(-1.0, 0.5),
        churn=0.01,
        growth=0.0,
        late_p=0.01,
        return_p=0.03,
        age=(62, 8),
        income=1.05,
        upscale=0.0,
        female=0.5,
        macro=(0.9, 1.4, 1.3, 0.9, 0.9),
        interests=(0.85, 0.15, 0.35, 0.3),
        survey=(4.1, 4.2, 3.5),
        satisfaction=0.8,
        complaints=0.15,
        response=0.3,
        season=3.0,
    ),
    SegmentProfile(
        name="late_payers",
        weight=0.1,
        b2b=False,
        rate=5.0,
        spend=-0.2,
        lines=1.0,
        qty=0.3,
        discount=0.06,
        cats=(0.25, 0.3, 0.05, 0.2, 0.15, 0.05),
        chans=(0.2, 0.25, 0.55, 0.0),
        signup=(-0.75, 0.5),
        churn=0.01,
        growth=0.0,
        late_p=0.9,
        return_p=0.06,
        age=(42, 10),
        income=0.7,
        upscale=-0.4,
        female=0.45,
        macro=(0.8, 0.8, 1.0, 1.4, 1.3),
        interests=(0.2, 0.3, 0.6, 0.35),
        survey=(3.0, 2.9, 2.6),
        satisfaction=-0.3,
        complaints=0.6,
        response=0.15,
    ),
    SegmentProfile(
        name="tech_enthusiasts",
        weight=0.08,
        b2b=False,
        rate=2.0,
        spend=2.0,
        lines=0.5,
        qty=0.05,
        discount=0.02,
        cats=(0.8, 0.08, 0.02, 0.05, 0.0, 0.05),
        chans=(0.1, 0.85, 0.05, 0.0),
        signup=(-1.25, 0.3),
        churn=0.01,
        growth=0.0,
        late_p=0.01,
        return_p=0.06,
        age=(36, 7),
        income=1.6,
        upscale=0.7,
        female=0.25,
        macro=(1.5, 1.2, 1.1, 0.7, 0.6),
        interests=(0.3, 0.95, 0.2, 0.6),
        survey=(4.1, 3.7, 3.2),
        satisfaction=0.6,
        complaints=0.2,
        response=0.25,
    ),
)


def derived_profile(i: int) -> SegmentProfile:
    """Return profile number ``i >= len(SEGMENT_PROFILES)``: a shifted variant of a B2C profile.

    Parameters
    ----------
    i : int
        The segment number, at least ``len(SEGMENT_PROFILES)``.

    Returns
    -------
    SegmentProfile
        A base B2C profile with another name, a smaller weight, a shifted rate, spend and
        age, the macro-area multipliers reversed and the first three channels rotated.
    """
    bases = [p for p in SEGMENT_PROFILES if not p.b2b]
    k = i - len(SEGMENT_PROFILES)
    base = bases[k % len(bases)]
    variant = k // len(bases) + 2
    sign = 1.0 if variant % 2 == 0 else -1.0
    step = sign * (1 + (variant - 2) // 2)
    return dataclasses.replace(
        base,
        name=f"{base.name}_{variant}",
        weight=base.weight * 0.6,
        rate=base.rate * 1.8**step,
        spend=base.spend + 0.9 * step,
        age=(float(np.clip(base.age[0] - 11 * step, 22, 75)), base.age[1]),
        macro=tuple(reversed(base.macro)),
        chans=tuple(np.roll(base.chans[:3], 1)) + (base.chans[3],),
    )


def select_profiles(n_segments: int, with_b2b: bool) -> list[SegmentProfile]:
    """Return the profiles of ``n_segments`` planted segments.

    Parameters
    ----------
    n_segments : int
        How many segments to plant.
    with_b2b : bool
        Whether the b2b segment is among them.

    Returns
    -------
    list of SegmentProfile
        The written profiles in order (b2b left out unless ``with_b2b``), then derived
        variants (:func:`derived_profile`) until there are ``n_segments``.
    """
    pool = [p for p in SEGMENT_PROFILES if with_b2b or not p.b2b]
    i = len(SEGMENT_PROFILES)
    while len(pool) < n_segments:
        pool.append(derived_profile(i))
        i += 1
    return pool[:n_segments]

"""Draw the customers table (attributes of buyers and prospects) from the planted profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segml._planted_segments import SegmentProfile
from segml.datasets._draw import _DAY_NS, _STR, _choice_rows, _per_seg, _strings
from segml.datasets.reference import (
    _COMPANY_SIZE_P,
    _COMPANY_SIZES,
    _EDU_CUTS,
    _EDUCATION,
    _INDUSTRIES,
    _INDUSTRY_P,
    _INTERESTS,
    _JOURNEY,
    _LEAD_COST,
    _LEAD_P_B2B,
    _LEAD_P_B2C,
    _LEAD_SOURCES,
    _MARITAL,
    _PROF_BASE,
    _PROF_EDU,
    _PROF_INCOME,
    _PROF_UP,
    _PROFESSIONS,
    _PROSPECT_STAGE_P,
    _PROSPECT_STAGES,
    _SAT_CUTS,
    _SATISFACTION,
    _SURVEYS,
    CITIES,
    MACRO_AREAS,
)


def draw_customers(
    rng: np.random.Generator, profiles: list[SegmentProfile], seg: np.ndarray,
    is_prospect: np.ndarray, is_b2b: np.ndarray, ids: pa.Array,
    t0: pd.Timestamp, t1: pd.Timestamp, n_days: int, noise: float, missing_share: float,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Build the customers frame and each buyer's active window (day offsets from start)."""
    n = len(seg)
    b2c = ~is_b2b
    # ---- relationship window: signup, first purchase, churn
    lo = np.array([p.signup[0] for p in profiles])[seg]
    hi = np.array([p.signup[1] for p in profiles])[seg]
    lo = np.where(is_prospect, -0.25, lo)
    hi = np.where(is_prospect, 1.0, hi)
    signup_day = np.floor((lo + (hi - lo) * rng.random(n)) * n_days).astype(np.int64)
    signup_day = np.minimum(signup_day, n_days - 1)
    lag = np.floor(rng.exponential(20.0, n)).astype(np.int64)
    first_day = np.minimum(np.maximum(signup_day, 0) + lag, n_days - 1)
    churn_p = _per_seg(profiles, seg, "churn")
    churn_p = np.where(churn_p >= 1.0, 1.0, churn_p * noise)
    churns = rng.random(n) < churn_p
    at_lo = np.array([p.churn_at[0] for p in profiles])[seg]
    at_hi = np.array([p.churn_at[1] for p in profiles])[seg]
    frac = at_lo + (at_hi - at_lo) * rng.random(n)
    churn_day = first_day + np.floor((n_days - 1 - first_day) * frac).astype(np.int64)
    last_day = np.where(churns, churn_day, n_days - 1)
    tenure_years = np.maximum(n_days - signup_day, 30) / 365.25

    # ---- demographics (B2C); B2B accounts get missing person fields
    age_mu = np.array([p.age[0] for p in profiles])[seg]
    age_sd = np.array([p.age[1] for p in profiles])[seg]
    age = np.clip(age_mu + age_sd * noise * rng.standard_normal(n), 18, 92)
    birth_year = np.floor(t1.year - age - rng.random(n)).astype(float)
    age = t1.year - birth_year
    female = rng.random(n) < _per_seg(profiles, seg, "female")
    gender = np.where(female, 0, 1)
    up = _per_seg(profiles, seg, "upscale")
    prof_p = _PROF_BASE[None, :] * np.exp(up[:, None] * _PROF_UP[None, :])
    prof = _choice_rows(rng, prof_p).astype(np.int64)
    u = rng.random(n)
    prof = np.where((age >= 67) & (u < 0.85), 7, prof)
    prof = np.where((age < 25) & (u < 0.55), 6, prof)
    prof = np.where((age < 60) & (prof == 7), 0, prof)  # no retirees under 60
    prof = np.where((age >= 30) & (prof == 6), 0, prof)  # nor students over 30
    income = (
        _PROF_INCOME[prof] * _per_seg(profiles, seg, "income")
        * np.exp((0.1 + 0.25 * noise) * rng.standard_normal(n))
    )
    income = np.round(income, -2)
    edu_latent = _PROF_EDU[prof] + 0.15 * up + 0.7 * rng.standard_normal(n)
    education = np.searchsorted(_EDU_CUTS, edu_latent).astype(np.int64)
    # marital status by age
    m_p = np.stack(
        [
            np.clip(1.6 - age / 30, 0.05, 0.9),  # single
            np.clip((age - 25) / 30, 0.05, 0.6),  # married
            np.where(age < 45, 0.2, 0.07),  # cohabiting
            np.where(age > 35, 0.1, 0.01),  # divorced
            np.clip((age - 60) / 60, 0.0, 0.3),  # widowed
        ],
        axis=1,
    )
    marital = _choice_rows(rng, m_p).astype(np.int64)
    couple = (marital == 1) | (marital == 2)
    kid_mean = np.where(couple, 1.3, 0.25) * np.where((age > 25) & (age < 60), 1.0, 0.25)
    children = np.minimum(rng.poisson(kid_mean), 5).astype(float)
    household = 1.0 + couple + children + (rng.random(n) < 0.05)
    stage = np.select(
        [age >= 67, (children > 0) & (age < 45), children > 0, couple & (age < 40),
         couple, age < 35],
        [6, 2, 3, 1, 4, 0],
        default=5,
    )
    life_stages = ("young_single", "young_couple", "young_family", "mature_family",
                   "empty_nest", "mature_single", "retired")
    # optional item non-response (the draws happen whatever the share, so the rest of the
    # portfolio does not change with it)
    birth_year[rng.random(n) < missing_share] = np.nan
    age = np.where(np.isnan(birth_year), np.nan, age)
    income[rng.random(n) < missing_share] = np.nan
    for arr in (birth_year, age, income, children, household):
        arr[is_b2b] = np.nan
    # ---- firmographics
    industry = np.where(is_b2b, rng.choice(len(_INDUSTRIES), n, p=_INDUSTRY_P), -1)
    size = np.where(is_b2b, rng.choice(4, n, p=_COMPANY_SIZE_P), -1)

    # ---- geography
    pop = np.array([c[8] for c in CITIES], dtype=float)
    area_of_city = np.array([MACRO_AREAS.index(c[3]) for c in CITIES])
    macro = np.array([p.macro for p in profiles])  # (k, 5)
    city = np.empty(n, dtype=np.int64)
    for s in range(len(profiles)):
        rows = np.flatnonzero(seg == s)
        # regional tilt of the segment, softened as noise grows
        w = pop * macro[s, area_of_city] ** (1.0 / max(noise, 0.5))
        city[rows] = rng.choice(len(CITIES), len(rows), p=w / w.sum())
    cap0 = np.array([c[6] for c in CITIES])[city]
    ncap = np.array([c[7] for c in CITIES])[city]
    postcode_num = cap0 + np.floor(rng.random(n) * ncap).astype(np.int64)
    postcode = pc.utf8_lpad(pa.array(postcode_num).cast(pa.string()), 5, "0")
    lat = np.array([c[4] for c in CITIES])[city] + 0.025 * rng.standard_normal(n)
    lon = np.array([c[5] for c in CITIES])[city] + 0.035 * rng.standard_normal(n)

    # ---- psychographics and relationship
    interests = {
        name: rng.random(n) < np.array([p.interests[j] for p in profiles])[seg]
        for j, name in enumerate(_INTERESTS)
    }
    # buyers answer the post-purchase survey; a few prospects answered a lead survey
    answered = rng.random(n) < np.where(is_prospect, 0.2, 1.0 - missing_share)
    surveys = {}
    for j, name in enumerate(_SURVEYS):
        mu = np.array([p.survey[j] for p in profiles])[seg]
        val = np.clip(np.round(mu + (0.3 + 0.5 * noise) * rng.standard_normal(n)), 1, 5)
        surveys[name] = np.where(answered, val, np.nan)
    sat_latent = _per_seg(profiles, seg, "satisfaction") + (0.4 + 0.6 * noise) * (
        rng.standard_normal(n)
    )
    satisfaction = np.searchsorted(_SAT_CUTS, sat_latent).astype(np.int64)
    satisfaction = np.where(is_prospect | (rng.random(n) < missing_share), -1, satisfaction)
    window_years = np.maximum(n_days - np.maximum(signup_day, 0), 30) / 365.25
    complaints = rng.poisson(0.4 * _per_seg(profiles, seg, "complaints") * window_years)
    complaints = np.where(is_prospect, 0, complaints).astype(float)
    # buyers get a welcome campaign, then about one every other month
    sent = rng.poisson(np.where(is_prospect, 0.3, 0.6) * tenure_years * 12).astype(np.int64)
    sent += ~is_prospect
    resp_p = np.where(is_prospect, 0.05, _per_seg(profiles, seg, "response"))
    responded = rng.binomial(sent, resp_p).astype(float)
    interested = rng.random(n) < np.where(is_prospect, 0.5, 0.7)
    p_stage = rng.choice(len(_PROSPECT_STAGES), n, p=_PROSPECT_STAGE_P)
    no_contact = rng.random(n) < 0.7
    won = 4
    stage_codes = np.where(
        ~is_prospect, won,
        np.where(interested, np.array([0, 1, 2, 3, 5])[p_stage], np.where(no_contact, -1, 0)),
    )
    tilt = np.array([p.leads for p in profiles])[seg]
    lead_p = np.where(is_b2b[:, None], _LEAD_P_B2B[None, :], _LEAD_P_B2C[None, :] * tilt)
    lead = _choice_rows(rng, lead_p).astype(np.int64)
    acq_cost = np.round(_LEAD_COST[lead] * np.exp(0.35 * rng.standard_normal(n)), 2)
    acq_cost = np.where(is_b2b, acq_cost * 2.5, acq_cost)

    signup_ns = t0.value + signup_day * _DAY_NS
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype=_STR),
            "signup_date": pd.Series(signup_ns.astype("datetime64[ns]")),
            "acquisition_cost": acq_cost.astype(float),
            "birth_year": birth_year,
            "age": age,
            "gender": _strings(("female", "male"), np.where(b2c, gender, -1)),
            "income": income,
            "profession": _strings(_PROFESSIONS, np.where(b2c, prof, -1)),
            "education": _strings(_EDUCATION, np.where(b2c, education, -1)),
            "marital_status": _strings(_MARITAL, np.where(b2c, marital, -1)),
            "household_size": household,
            "children": children,
            "life_stage": _strings(life_stages, np.where(b2c, stage, -1)),
            "is_b2b": pd.array(is_b2b, dtype="boolean"),
            "industry": _strings(_INDUSTRIES, industry),
            "company_size": _strings(_COMPANY_SIZES, size),
            "country": _strings(("IT",), np.zeros(n, dtype=np.int64)),
            "region": _strings([c[2] for c in CITIES], city),
            "macro_area": _strings(MACRO_AREAS, area_of_city[city]),
            "province": _strings([c[1] for c in CITIES], city),
            "city": _strings([c[0] for c in CITIES], city),
            "postcode": pd.Series(postcode, dtype=_STR),
            "latitude": np.round(lat, 5),
            "longitude": np.round(lon, 5),
            **{f"interest_{k}": pd.array(v, dtype="boolean") for k, v in interests.items()},
            **{f"survey_{k}": v for k, v in surveys.items()},
            "journey_stage": _strings(_JOURNEY, stage_codes),
            "lead_source": _strings(_LEAD_SOURCES, lead),
            "satisfaction": _strings(_SATISFACTION, satisfaction),
            "complaints": complaints,
            "campaigns_sent": sent.astype(float),
            "campaigns_responded": responded,
            "showed_interest": pd.array(interested, dtype="boolean"),
        }
    )
    return frame, first_day, last_day

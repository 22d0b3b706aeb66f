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
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtr

from segml._atomic import atomic_dir
from segml._planted_segments import SegmentProfile, select_profiles
from segml._validation import check_date, check_int, check_share
from segml.errors import ConfigError

__all__ = ["Portfolio", "make_portfolio", "CITIES", "CATEGORIES", "CHANNELS", "MACRO_AREAS"]

_DAY_NS = 86_400 * 10**9
_STR = pd.StringDtype(na_value=np.nan)  # pandas' default ``str`` dtype

CATEGORIES: tuple[str, ...] = ("electronics", "home", "garden", "clothing", "food", "office")
CHANNELS: tuple[str, ...] = ("store", "web", "phone", "agent")
MACRO_AREAS: tuple[str, ...] = ("North-West", "North-East", "Centre", "South", "Islands")

#: Italian cities: (city, province code, region, macro area, latitude, longitude,
#: first postcode, number of postcodes, population in thousands - used as weight).
CITIES: tuple[tuple[str, str, str, str, float, float, int, int, int], ...] = (
    ("Torino", "TO", "Piemonte", "North-West", 45.0703, 7.6869, 10121, 36, 850),
    ("Novara", "NO", "Piemonte", "North-West", 45.4469, 8.6222, 28100, 1, 103),
    ("Cuneo", "CN", "Piemonte", "North-West", 44.3845, 7.5427, 12100, 1, 56),
    ("Aosta", "AO", "Valle d'Aosta", "North-West", 45.7375, 7.3154, 11100, 1, 34),
    ("Genova", "GE", "Liguria", "North-West", 44.4056, 8.9463, 16121, 39, 560),
    ("La Spezia", "SP", "Liguria", "North-West", 44.1025, 9.8241, 19121, 16, 92),
    ("Milano", "MI", "Lombardia", "North-West", 45.4642, 9.1900, 20121, 42, 1370),
    ("Bergamo", "BG", "Lombardia", "North-West", 45.6983, 9.6773, 24121, 9, 120),
    ("Brescia", "BS", "Lombardia", "North-West", 45.5416, 10.2118, 25121, 16, 195),
    ("Como", "CO", "Lombardia", "North-West", 45.8081, 9.0852, 22100, 1, 83),
    ("Varese", "VA", "Lombardia", "North-West", 45.8206, 8.8251, 21100, 1, 80),
    ("Trento", "TN", "Trentino-Alto Adige", "North-East", 46.0748, 11.1217, 38121, 3, 118),
    ("Bolzano", "BZ", "Trentino-Alto Adige", "North-East", 46.4983, 11.3548, 39100, 1, 107),
    ("Venezia", "VE", "Veneto", "North-East", 45.4408, 12.3155, 30121, 54, 250),
    ("Verona", "VR", "Veneto", "North-East", 45.4384, 10.9916, 37121, 22, 255),
    ("Padova", "PD", "Veneto", "North-East", 45.4064, 11.8768, 35121, 22, 210),
    ("Vicenza", "VI", "Veneto", "North-East", 45.5455, 11.5354, 36100, 1, 110),
    ("Treviso", "TV", "Veneto", "North-East", 45.6669, 12.2430, 31100, 1, 85),
    ("Trieste", "TS", "Friuli-Venezia Giulia", "North-East", 45.6495, 13.7768, 34121, 28, 200),
    ("Udine", "UD", "Friuli-Venezia Giulia", "North-East", 46.0711, 13.2346, 33100, 1, 98),
    ("Bologna", "BO", "Emilia-Romagna", "North-East", 44.4949, 11.3426, 40121, 21, 390),
    ("Modena", "MO", "Emilia-Romagna", "North-East", 44.6471, 10.9252, 41121, 6, 185),
    ("Parma", "PR", "Emilia-Romagna", "North-East", 44.8015, 10.3279, 43121, 6, 195),
    ("Firenze", "FI", "Toscana", "Centre", 43.7696, 11.2558, 50121, 21, 360),
    ("Pisa", "PI", "Toscana", "Centre", 43.7228, 10.4017, 56121, 8, 90),
    ("Siena", "SI", "Toscana", "Centre", 43.3188, 11.3308, 53100, 1, 53),
    ("Perugia", "PG", "Umbria", "Centre", 43.1107, 12.3908, 6121, 14, 165),
    ("Ancona", "AN", "Marche", "Centre", 43.6158, 13.5189, 60121, 11, 100),
    ("Roma", "RM", "Lazio", "Centre", 41.9028, 12.4964, 118, 82, 2750),
    ("Latina", "LT", "Lazio", "Centre", 41.4676, 12.9037, 4100, 1, 127),
    ("L'Aquila", "AQ", "Abruzzo", "South", 42.3498, 13.3995, 67100, 1, 70),
    ("Pescara", "PE", "Abruzzo", "South", 42.4618, 14.2161, 65121, 9, 118),
    ("Campobasso", "CB", "Molise", "South", 41.5603, 14.6627, 86100, 1, 48),
    ("Napoli", "NA", "Campania", "South", 40.8518, 14.2681, 80121, 27, 910),
    ("Salerno", "SA", "Campania", "South", 40.6824, 14.7681, 84121, 15, 127),
    ("Bari", "BA", "Puglia", "South", 41.1171, 16.8719, 70121, 11, 315),
    ("Lecce", "LE", "Puglia", "South", 40.3515, 18.1750, 73100, 1, 95),
    ("Taranto", "TA", "Puglia", "South", 40.4644, 17.2470, 74121, 3, 190),
    ("Potenza", "PZ", "Basilicata", "South", 40.6404, 15.8056, 85100, 1, 65),
    ("Reggio Calabria", "RC", "Calabria", "South", 38.1113, 15.6473, 89121, 15, 170),
    ("Cosenza", "CS", "Calabria", "South", 39.2983, 16.2537, 87100, 1, 65),
    ("Palermo", "PA", "Sicilia", "Islands", 38.1157, 13.3615, 90121, 31, 630),
    ("Catania", "CT", "Sicilia", "Islands", 37.5079, 15.0830, 95121, 11, 300),
    ("Messina", "ME", "Sicilia", "Islands", 38.1938, 15.5540, 98121, 48, 220),
    ("Cagliari", "CA", "Sardegna", "Islands", 39.2238, 9.1217, 9121, 14, 150),
    ("Sassari", "SS", "Sardegna", "Islands", 40.7259, 8.5557, 7100, 1, 125),
)

# Month weights (Jan..Dec) per category: Q4 gift peak, garden in spring, winter and
# summer sales for clothing, an August dip and a back-to-school peak for office.
_SEASON = np.array(
    [
        [0.8, 0.7, 0.8, 0.8, 0.8, 0.8, 0.9, 0.7, 0.9, 1.0, 1.7, 2.3],  # electronics
        [0.9, 0.8, 1.0, 1.1, 1.1, 1.0, 0.9, 0.7, 1.0, 1.1, 1.2, 1.5],  # home
        [0.3, 0.5, 1.5, 2.4, 2.5, 1.8, 1.0, 0.6, 0.8, 0.6, 0.3, 0.3],  # garden
        [1.3, 0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 0.8, 1.0, 1.0, 1.3, 1.8],  # clothing
        [0.9, 0.9, 1.0, 1.0, 1.0, 0.9, 0.9, 0.8, 1.0, 1.0, 1.1, 1.7],  # food
        [1.1, 1.1, 1.1, 1.0, 1.0, 0.9, 0.7, 0.4, 1.4, 1.2, 1.1, 0.9],  # office
    ]
)
# Catalogue per category: (code, number of products, median list price, log-sd,
# gross margin rate, return-rate factor).
_CATALOGUE = (
    ("ELE", 120, 150.0, 0.9, 0.16, 1.0),
    ("HOM", 150, 40.0, 0.8, 0.38, 0.8),
    ("GAR", 80, 30.0, 0.8, 0.32, 0.6),
    ("CLO", 200, 35.0, 0.6, 0.52, 2.0),
    ("FOO", 250, 9.0, 0.5, 0.24, 0.2),
    ("OFF", 100, 18.0, 0.8, 0.30, 0.5),
)

_PROFESSIONS = (
    "employee", "manager", "entrepreneur", "professional", "teacher",
    "worker", "student", "retired", "unemployed", "homemaker",
)
# median yearly income (EUR) and education latent per profession
_PROF_INCOME = np.array([28e3, 58e3, 50e3, 46e3, 29e3, 24e3, 8e3, 22e3, 7e3, 6e3])
_PROF_EDU = np.array([0.0, 0.9, 0.3, 1.3, 1.0, -0.9, 0.2, -0.6, -0.7, -0.6])
_PROF_BASE = np.array([0.34, 0.06, 0.07, 0.08, 0.07, 0.20, 0.04, 0.04, 0.05, 0.05])
_PROF_UP = np.array([0.0, 1.0, 0.6, 1.0, 0.3, -0.8, 0.0, 0.0, -0.8, -0.6])
_EDUCATION = ("basic", "secondary", "bachelor", "master", "phd")
_EDU_CUTS = np.array([-1.0, 0.45, 1.2, 2.3])
_MARITAL = ("single", "married", "cohabiting", "divorced", "widowed")
_SATISFACTION = ("very_dissatisfied", "dissatisfied", "neutral", "satisfied", "very_satisfied")
_SAT_CUTS = np.array([-1.5, -0.5, 0.4, 1.3])
_INDUSTRIES = (
    "retail", "manufacturing", "construction", "hospitality", "professional_services",
    "healthcare", "education", "logistics", "agriculture", "public_sector",
)
_INDUSTRY_P = np.array([0.18, 0.16, 0.12, 0.12, 0.14, 0.07, 0.05, 0.07, 0.05, 0.04])
_COMPANY_SIZES = ("micro", "small", "medium", "large")
_COMPANY_SIZE_P = np.array([0.35, 0.45, 0.16, 0.04])
_LEAD_SOURCES = ("web_form", "social", "advertising", "referral", "store_visit", "trade_fair",
                 "cold_call", "agent")
_LEAD_COST = np.array([35.0, 30.0, 60.0, 20.0, 15.0, 120.0, 80.0, 250.0])
_LEAD_P_B2C = np.array([0.30, 0.20, 0.15, 0.15, 0.15, 0.05, 0.0, 0.0])
_LEAD_P_B2B = np.array([0.15, 0.02, 0.05, 0.15, 0.0, 0.20, 0.18, 0.25])
_PROSPECT_STAGES = ("first_contact", "meeting", "offer", "negotiation", "lost")
_PROSPECT_STAGE_P = np.array([0.30, 0.25, 0.22, 0.08, 0.15])
_JOURNEY = ("first_contact", "meeting", "offer", "negotiation", "won", "lost")
_INTERESTS = ("sustainability", "technology", "price", "brand")
_SURVEYS = ("quality", "service", "price")


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class Portfolio:
    """A generated customer portfolio and the segments planted in it.

    Attributes
    ----------
    transactions : pandas.DataFrame
        Canonical transactions frame (``docs/CONTRACTS.md``), one row per order line,
        sorted by ``customer_id`` then ``timestamp``.
    customers : pandas.DataFrame
        Canonical customers frame, one row per customer (buyers and prospects),
        sorted by ``customer_id``. Holds no trace of the planted segment.
    truth : pandas.Series
        Planted segment name per customer (index ``customer_id``, name ``"segment"``);
        prospects are ``"prospect"``.
    segment_names : tuple of str
        The planted segment names (``"prospect"`` is not one of them).
    as_of : pandas.Timestamp
        End of the observation period (the ``end`` argument, at midnight).
    params : dict
        The arguments the portfolio was generated with.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    truth: pd.Series
    segment_names: tuple[str, ...]
    as_of: pd.Timestamp
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Headline numbers of the portfolio.

        Returns
        -------
        dict
            ``n_customers``, ``n_buyers``, ``n_prospects``, ``b2b_share``,
            ``n_transactions`` (lines), ``n_orders``, ``revenue`` (net of returns),
            ``return_share`` (returned lines), ``first_date``/``last_date`` (ISO dates),
            ``as_of``, ``top20_revenue_share`` (share of net revenue made by the top
            20% of buyers) and ``segments`` (customers per planted segment, prospects
            included).
        """
        tx = self.transactions
        cust = self.customers
        per_customer = tx.groupby("customer_id", sort=False)["amount"].sum().to_numpy()
        counts = self.truth.value_counts()
        return {
            "n_customers": len(cust),
            "n_buyers": int(len(per_customer)),
            "n_prospects": int(counts.get("prospect", 0)),
            "b2b_share": float(cust["is_b2b"].mean()) if len(cust) else 0.0,
            "n_transactions": len(tx),
            "n_orders": int(tx["order_id"].nunique()),
            "revenue": round(float(tx["amount"].sum()), 2),
            "return_share": float((tx["status"] == "returned").mean()) if len(tx) else 0.0,
            "first_date": tx["timestamp"].min().date().isoformat() if len(tx) else None,
            "last_date": tx["timestamp"].max().date().isoformat() if len(tx) else None,
            "as_of": self.as_of.date().isoformat(),
            "top20_revenue_share": _top_share(per_customer, 0.2),
            "segments": {
                name: int(counts.get(name, 0)) for name in (*self.segment_names, "prospect")
            },
        }

    def write(
        self,
        folder: str | Path,
        *,
        overwrite: bool = False,
        format: Literal["parquet", "csv", "both"] = "parquet",
    ) -> Path:
        """Write the three tables into ``folder`` atomically (the folder appears whole or not).

        Parameters
        ----------
        folder : path-like
            Output folder; it must not exist unless ``overwrite`` is true.
        overwrite : bool, default False
            Replace an existing folder (the old one is removed only once the new
            one is complete).
        format : {"parquet", "csv", "both"}, default "parquet"
            ``transactions``, ``customers`` and ``truth`` (``customer_id``,
            ``segment``) as ``.parquet`` files, ``.csv`` files (ISO dates, ``.``
            decimal mark), or both. The same portfolio gives the same bytes.

        Returns
        -------
        pathlib.Path
            ``folder``.

        Raises
        ------
        OutputExistsError
            When ``folder`` exists and ``overwrite`` is false.
        ConfigError
            For an unknown ``format``.
        """
        if format not in ("parquet", "csv", "both"):
            raise ConfigError(
                f"format={format!r} is not supported; use 'parquet', 'csv' or 'both'."
            )
        tables = {
            "transactions": self.transactions,
            "customers": self.customers,
            "truth": self.truth.reset_index(),
        }
        with atomic_dir(folder, overwrite=overwrite) as tmp:
            for name, frame in tables.items():
                if format in ("parquet", "both"):
                    frame.to_parquet(tmp / f"{name}.parquet", index=False,
                                     compression="zstd")
                if format in ("csv", "both"):
                    frame.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n",
                                 date_format="%Y-%m-%dT%H:%M:%S")
        return Path(folder)


def _top_share(values: np.ndarray, top: float) -> float:
    """Share of the total carried by the largest ``top`` fraction of ``values``."""
    if len(values) == 0:
        return 0.0
    total = float(values.sum())
    if total <= 0:
        return 0.0
    k = max(1, int(round(top * len(values))))
    return float(np.sort(values)[::-1][:k].sum() / total)


# --------------------------------------------------------------------------- helpers


def _alloc(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer counts proportional to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() == 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1).astype(np.int8)


def _mix(rng: np.random.Generator, base: Sequence[float], n: int, noise: float) -> np.ndarray:
    """Per-customer mixes around ``base``: Dirichlet whose spread grows with ``noise``."""
    p = np.asarray(base, dtype=float)
    p = p / p.sum()
    if noise < 1e-3 or n == 0:  # Dirichlet concentration would overflow; the spread is nil
        return np.tile(p, (n, 1))
    alpha = np.maximum(p * 25.0 / noise**2, 1e-3)
    out = rng.dirichlet(alpha, size=n)
    out[:, p == 0] = 0.0  # a profile that never uses a channel/category keeps it at zero
    return out / out.sum(axis=1, keepdims=True)


def _take_str(dictionary: pa.Array, codes: np.ndarray) -> pd.Series:
    """``dictionary[codes]`` as a pandas ``str`` Series (codes < 0 are missing)."""
    mask = codes < 0
    if mask.any():
        idx = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
    else:
        idx = pa.array(codes.astype(np.int32, copy=False))
    return pd.Series(dictionary.cast(pa.large_string()).take(idx), dtype=_STR, copy=False)


def _strings(values: Sequence[str], codes: np.ndarray) -> pd.Series:
    """``values[codes]`` as a pandas ``str`` Series (codes < 0 are missing)."""
    return _take_str(pa.array(list(values), type=pa.large_string()), np.asarray(codes))


def _format_ids(prefix: str, numbers_: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers_`` as an arrow large_string array."""
    digits = pa.array(np.asarray(numbers_, dtype=np.int64)).cast(pa.large_string())
    return pc.binary_join_element_wise(
        pa.scalar(prefix, pa.large_string()), pc.utf8_lpad(digits, width, "0"),
        pa.scalar("", pa.large_string()),
    )


# --------------------------------------------------------------------------- the generator


def make_portfolio(
    n_customers: int = 5000,
    *,
    n_segments: int = 5,
    start: Any = "2021-01-01",
    end: Any = "2024-12-31",
    prospect_share: float = 0.12,
    b2b_share: float = 0.15,
    noise: float = 1.0,
    missing_share: float = 0.0,
    random_state: int | np.random.Generator | None = None,
) -> Portfolio:
    """Generate a synthetic Italian customer portfolio with planted segments.

    Parameters
    ----------
    n_customers : int, default 5000
        Customers in the customers table, prospects included.
    n_segments : int, default 5
        Planted segments among the buyers. The first eight have descriptive names
        (``loyal_high_value``, ``b2b_accounts``, ``bargain_hunters``, ``lapsed``,
        ``new_growing``, ``seasonal_gardeners``, ``late_payers``,
        ``tech_enthusiasts``); more are derived variants (``lapsed_2``, ...).
        ``b2b_accounts`` holds every B2B buyer and is left out when
        ``b2b_share == 0``.
    start, end : date-like
        First and last calendar day of the transaction history; ``end`` is the
        portfolio's ``as_of``.
    prospect_share : float in [0, 1), default 0.12
        Share of customers who never bought (truth ``"prospect"``); some of them
        showed interest (asked for a quote or information).
    b2b_share : float in [0, 1), default 0.15
        Share of customers that are companies (``is_b2b``), prospects included.
    noise : float >= 0, default 1.0
        Scales the within-segment spread (frequency, order value, age, income,
        channel and category mixes, survey answers). 0 gives tight segments.
    missing_share : float in [0, 1), default 0.0
        Item non-response among customers: the share of missing ``birth_year``/``age``,
        ``income``, survey answers and ``satisfaction``, each drawn independently.
        By default the only missing values are structural (person fields of B2B
        accounts, firmographics of consumers, prospects' satisfaction and most of
        their survey answers), so imputation choices downstream do not swamp the
        planted structure; raise it to exercise imputation.
    random_state : int, Generator or None
        Seed for ``np.random.default_rng``; the same arguments and seed give
        identical frames.

    Returns
    -------
    Portfolio
        ``transactions``, ``customers``, ``truth``, ``segment_names``, ``as_of``.

    Raises
    ------
    ConfigError
        For an invalid argument (the message names it and the accepted range).

    Examples
    --------
    >>> p = make_portfolio(300, random_state=0)
    >>> p.customers["customer_id"].is_unique, p.truth.name
    (True, 'segment')
    >>> set(p.transactions["customer_id"]) <= set(p.customers["customer_id"])
    True
    """
    n = check_int("n_customers", n_customers, 1)
    k = check_int("n_segments", n_segments, 2)
    if k > 32:
        raise ConfigError(f"n_segments={k} should be <= 32.")
    prospect_share = check_share("prospect_share", prospect_share)
    b2b_share = check_share("b2b_share", b2b_share)
    missing_share = check_share("missing_share", missing_share)
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not (
        np.isfinite(noise) and noise >= 0
    ):
        raise ConfigError(f"noise={noise!r} should be a finite number >= 0.")
    noise = float(noise)
    t0 = check_date("start", start)
    t1 = check_date("end", end)
    if t1 < t0 + pd.Timedelta(days=27):
        raise ConfigError(
            f"end={t1.date()} should be at least 4 weeks after start={t0.date()}."
        )
    if isinstance(random_state, bool) or not (
        random_state is None or isinstance(random_state, numbers.Integral | np.random.Generator)
    ):
        raise ConfigError(
            f"random_state={random_state!r} should be an int, a numpy Generator or None."
        )
    rng = np.random.default_rng(random_state)
    profiles = select_profiles(k, with_b2b=b2b_share > 0)
    n_days = int((t1 - t0).days) + 1

    seg, is_prospect, is_b2b = _assign_roles(rng, n, profiles, prospect_share, b2b_share)
    width = max(6, len(str(n)))
    ids = _format_ids("C", np.arange(1, n + 1), width)
    customers, first_day, last_day = _customers(
        rng, profiles, seg, is_prospect, is_b2b, ids, t0, t1, n_days, noise, missing_share
    )
    transactions = _transactions(
        rng, profiles, seg, is_prospect, is_b2b, ids, first_day, last_day, t0, n_days, noise
    )
    names = np.array([p.name for p in profiles] + ["prospect"])
    truth_codes = np.where(is_prospect, len(profiles), seg)
    truth = pd.Series(
        _strings(names.tolist(), truth_codes).to_numpy(),
        index=pd.Index(pd.Series(ids, dtype=_STR), name="customer_id"),
        name="segment",
        dtype=_STR,
    )
    params = {
        "n_customers": n, "n_segments": k, "start": t0.date().isoformat(),
        "end": t1.date().isoformat(), "prospect_share": prospect_share,
        "b2b_share": b2b_share, "noise": noise, "missing_share": missing_share,
        "random_state": (
            int(random_state) if isinstance(random_state, numbers.Integral)
            else None if random_state is None else "Generator"
        ),
    }
    return Portfolio(
        transactions=transactions,
        customers=customers,
        truth=truth,
        segment_names=tuple(p.name for p in profiles),
        as_of=t1,
        params=params,
    )


def _assign_roles(
    rng: np.random.Generator, n: int, profiles: list[SegmentProfile],
    prospect_share: float, b2b_share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact counts of prospects, B2B accounts and segments, shuffled over the ids.

    Prospects carry a latent segment too (used only to draw look-alike attributes).
    """
    n_prospect = int(round(prospect_share * n))
    n_b2b = int(round(b2b_share * n))
    n_b2b_prospect = min(int(round(n_b2b * prospect_share)), n_prospect)
    n_b2b_buyer = n_b2b - n_b2b_prospect
    n_b2c_prospect = n_prospect - n_b2b_prospect
    n_b2c_buyer = n - n_prospect - n_b2b_buyer
    b2c_w = np.array([0.0 if p.b2b else p.weight for p in profiles])
    b2b_idx = [i for i, p in enumerate(profiles) if p.b2b]
    seg = np.empty(n, dtype=np.int16)
    parts = []
    for count, prospect, b2b in (
        (n_b2c_buyer, False, False), (n_b2b_buyer, False, True),
        (n_b2c_prospect, True, False), (n_b2b_prospect, True, True),
    ):
        if b2b:
            codes = np.full(count, b2b_idx[0] if b2b_idx else 0, dtype=np.int16)
        else:
            codes = np.repeat(np.arange(len(profiles), dtype=np.int16), _alloc(count, b2c_w))
        parts.append((codes, np.full(count, prospect), np.full(count, b2b)))
    seg = np.concatenate([p[0] for p in parts])
    is_prospect = np.concatenate([p[1] for p in parts])
    is_b2b = np.concatenate([p[2] for p in parts])
    perm = rng.permutation(n)
    return seg[perm], is_prospect[perm], is_b2b[perm]


def _per_seg(profiles: list[SegmentProfile], seg: np.ndarray, attr: str) -> np.ndarray:
    return np.array([getattr(p, attr) for p in profiles], dtype=float)[seg]


def _customers(
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
    frac = np.where(churn_p >= 1.0, rng.uniform(0.05, 0.55, n), rng.uniform(0.1, 0.9, n))
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


def _transactions(
    rng: np.random.Generator, profiles: list[SegmentProfile], seg: np.ndarray,
    is_prospect: np.ndarray, is_b2b: np.ndarray, ids: pa.Array,
    first_day: np.ndarray, last_day: np.ndarray, t0: pd.Timestamp, n_days: int,
    noise: float,
) -> pd.DataFrame:
    """Draw orders, lines, returns and payments for the buyers, vectorised.

    Memory matters at tens of millions of lines: orders are sorted once (per buyer, by
    time) so their lines come out already in contract order, return lines are merged
    in with a searchsorted, indices are int32 and temporaries are dropped early.
    """
    k = len(profiles)
    buyers = np.flatnonzero(~is_prospect).astype(np.int32)
    nb = len(buyers)
    bseg = seg[buyers].astype(np.int64)
    b_b2b = is_b2b[buyers]
    a = first_day[buyers]
    b = np.maximum(last_day[buyers], a)
    # ---- per-buyer behaviour around the segment profile
    rate = np.array([p.rate for p in profiles])[bseg] * np.exp(
        0.35 * noise * rng.standard_normal(nb)
    )
    spend = np.array([p.spend for p in profiles])[bseg] + 0.35 * noise * rng.standard_normal(nb)
    discount = np.clip(
        np.array([p.discount for p in profiles])[bseg] + 0.03 * noise * rng.standard_normal(nb),
        0.0, 0.5,
    )
    growth = np.array([p.growth for p in profiles])[bseg] * np.exp(
        0.3 * noise * rng.standard_normal(nb)
    )
    cat_mix = np.empty((nb, len(CATEGORIES)))
    chan_mix = np.empty((nb, len(CHANNELS)))
    for s, p in enumerate(profiles):
        rows = np.flatnonzero(bseg == s)
        cat_mix[rows] = _mix(rng, p.cats, len(rows), noise)
        chan_mix[rows] = _mix(rng, p.chans, len(rows), noise)
    late = rng.random(nb) < np.array([p.late_p for p in profiles])[bseg]
    # companies routinely pay a couple of weeks late; chronic late consumers a month
    late_mean = np.where(b_b2b, 15.0, 32.0) * np.exp(0.3 * noise * rng.standard_normal(nb))

    # ---- orders: the first on the first purchase day, the rest spread over the window
    n_orders = 1 + rng.poisson(rate * (b - a + 1) / 365.25)
    n_ord = int(n_orders.sum())
    o_b = np.repeat(np.arange(nb, dtype=np.int32), n_orders)  # buyer position of each order
    first_of = np.zeros(n_ord, dtype=bool)
    first_of[np.cumsum(n_orders) - n_orders] = True
    o_seg = bseg[o_b].astype(np.int8)
    day_month = (pd.date_range(t0, periods=n_days, freq="D").month.to_numpy() - 1).astype(np.int8)
    o_day = np.empty(n_ord, dtype=np.int32)
    v = rng.random(n_ord)
    for s in range(k):
        rows = np.flatnonzero(o_seg == s)
        if len(rows) == 0:
            continue
        # daily intensity of this segment: its category mix times the category seasonality
        mix = np.array(profiles[s].cats) / np.sum(profiles[s].cats)
        cum = np.concatenate([[0.0], np.cumsum((mix @ _SEASON)[day_month])])
        ob = o_b[rows]
        vv = v[rows] ** (1.0 / (1.0 + growth[ob]))  # growth > 0 pushes orders later
        lo_c, hi_c = cum[a[ob]], cum[b[ob] + 1]
        d = np.searchsorted(cum, lo_c + vv * (hi_c - lo_c), side="right") - 1
        o_day[rows] = np.clip(d, a[ob], b[ob])
    del v, first_day
    o_day[first_of] = a[o_b[first_of]]
    del first_of
    # category of the order given its month, channel from the buyer's mix
    o_month = day_month[o_day]
    o_cat = np.empty(n_ord, dtype=np.int8)
    for m in range(12):
        rows = np.flatnonzero(o_month == m)
        o_cat[rows] = _choice_rows(rng, cat_mix[o_b[rows]] * _SEASON[:, m][None, :])
    del o_month
    o_chan = np.empty(n_ord, dtype=np.int8)
    step = 1 << 22  # bounded temporaries for the (orders x channels) cumulative table
    for i in range(0, n_ord, step):
        o_chan[i:i + step] = _choice_rows(rng, chan_mix[o_b[i:i + step]])
    # web orders at any hour, the other channels between 08:00 and 20:00
    o_sec = rng.integers(0, 86_400, n_ord, dtype=np.int32)
    o_sec = np.where(o_chan == 1, o_sec, 8 * 3600 + o_sec // 2)
    # sort orders by buyer, then time: their lines then come out in contract order
    o_key = o_b.astype(np.int64) * (n_days * 86_400) + o_day.astype(np.int64) * 86_400 + o_sec
    perm = np.argsort(o_key, kind="stable")
    o_key = o_key[perm]
    o_b, o_day, o_seg, o_sec, o_cat, o_chan = (
        x[perm] for x in (o_b, o_day, o_seg, o_sec, o_cat, o_chan)
    )
    del perm
    o_ts = t0.value + o_day.astype(np.int64) * _DAY_NS + o_sec.astype(np.int64) * 10**9
    del o_sec
    # order numbers follow time, like an ERP's
    o_rank = np.empty(n_ord, dtype=np.int32)
    o_rank[np.argsort(o_ts, kind="stable")] = np.arange(n_ord, dtype=np.int32)
    # payments: 30 days (60 for most companies), late payers and some unpaid invoices
    terms = np.where(b_b2b[o_b] & (rng.random(n_ord) < 0.7), 60, 30).astype(np.int32)
    o_due = o_day + terms
    late_o = late[o_b]
    delay = np.where(
        late_o,
        np.ceil(rng.gamma(2.0, late_mean[o_b] / 2.0)),
        np.where(rng.random(n_ord) < 0.08, np.ceil(rng.exponential(6.0, n_ord)),
                 -np.floor(rng.uniform(0, 0.7, n_ord) * terms)),
    ).astype(np.int32)
    o_paid = np.maximum(o_due + delay, o_day)
    unpaid = rng.random(n_ord) < np.where(late_o, 0.06, 0.003)
    o_paid = np.where(unpaid | (o_paid >= n_days), -1, o_paid).astype(np.int32)
    del terms, late_o, delay, unpaid

    # ---- lines
    n_lines = 1 + rng.poisson(np.array([p.lines for p in profiles])[o_seg])
    n_ln = int(n_lines.sum())
    l_o = np.repeat(np.arange(n_ord, dtype=np.int32), n_lines)
    l_first = np.zeros(n_ln, dtype=bool)
    l_first[np.cumsum(n_lines) - n_lines] = True
    del n_lines
    same = l_first | (rng.random(n_ln, dtype=np.float32) < 0.7)
    del l_first
    l_cat = o_cat[l_o]
    other = np.flatnonzero(~same)
    del same
    l_cat[other] = _choice_rows(rng, cat_mix[o_b[l_o[other]]])
    del other
    qty_extra = np.array([p.qty for p in profiles])[o_seg[l_o]] + (l_cat == 4) * 0.8
    qty = 1.0 + rng.poisson(qty_extra)
    del qty_extra
    z = rng.standard_normal(n_ln, dtype=np.float32)
    z *= 0.6
    z += (0.8 * spend[o_b[l_o]]).astype(np.float32)
    rank_u = ndtr(z)
    del z
    prod = np.empty(n_ln, dtype=np.int32)
    amount = np.empty(n_ln)
    margin = np.empty(n_ln)
    ret_p = np.empty(n_ln, dtype=np.float32)
    seg_ret = np.array([p.return_p for p in profiles])
    offset = 0
    product_names: list[pa.Array] = []
    for c, (code, n_prod, median, sd, mrate, rf) in enumerate(_CATALOGUE):
        prices = np.maximum(np.round(np.sort(median * np.exp(sd * rng.standard_normal(n_prod))),
                                     2), 0.5)
        rows = np.flatnonzero(l_cat == c)
        r = np.minimum((rank_u[rows] * n_prod).astype(np.int64), n_prod - 1)
        prod[rows] = offset + r
        lo = l_o[rows]
        gross = prices[r] * qty[rows]
        amount[rows] = np.round(gross * (1.0 - discount[o_b[lo]]), 2)
        cost = gross * (1.0 - mrate) * np.exp(0.05 * rng.standard_normal(len(rows)))
        margin[rows] = np.round(amount[rows] - cost, 2)
        ret_p[rows] = seg_ret[o_seg[lo]] * rf
        product_names.append(_format_ids(f"{code}-", np.arange(1, n_prod + 1), 4))
        offset += n_prod
    del rank_u, rows, r, lo, gross, cost

    # ---- returns: an extra negative line a few days later (dropped if after the end)
    ret_days = rng.integers(2, 31, n_ln, dtype=np.int32)
    ret = np.flatnonzero((rng.random(n_ln, dtype=np.float32) < ret_p)
                         & (o_day[l_o] + ret_days < n_days)).astype(np.int32)
    ret_day = o_day[l_o[ret]] + ret_days[ret]
    del ret_days, ret_p
    r_ts = t0.value + ret_day.astype(np.int64) * _DAY_NS + rng.integers(
        9 * 3600, 19 * 3600, len(ret)
    ) * 10**9
    del ret_day
    # merge the return lines (sorted by customer, time) after the sale lines at or before them
    r_key = o_b[l_o[ret]].astype(np.int64) * (n_days * 86_400) + (r_ts - t0.value) // 10**9
    r_order = np.argsort(r_key, kind="stable")
    ret, r_ts, r_key = ret[r_order], r_ts[r_order], r_key[r_order]
    pos = np.searchsorted(o_key[l_o], r_key, side="right")
    del o_key, r_key, r_order
    total = n_ln + len(ret)
    is_ret = np.zeros(total, dtype=bool)
    is_ret[pos + np.arange(len(ret))] = True
    del pos
    src = np.empty(total, dtype=np.int32)  # the sale line each output row comes from
    src[~is_ret] = np.arange(n_ln, dtype=np.int32)
    src[is_ret] = ret
    del ret

    # ---- assemble column by column, numbers first, freeing the line arrays as we go;
    # strings are built as arrow large_string (pandas' storage) so wrapping them is free
    lo_ = l_o[src]
    del l_o
    ts = o_ts[lo_]
    ts[is_ret] = r_ts
    del o_ts, r_ts
    # a return line is a credit on the same invoice: it carries the order's due/paid dates
    due_ns = t0.value + o_due[lo_].astype(np.int64) * _DAY_NS
    paid_day = o_paid[lo_]
    paid_ns = np.where(paid_day < 0, np.iinfo(np.int64).min,
                       t0.value + paid_day.astype(np.int64) * _DAY_NS)
    del paid_day, o_due, o_paid
    columns: dict[str, Any] = {}
    for name, values in (("amount", amount), ("quantity", qty), ("margin", margin)):
        columns[name] = values[src]
        np.negative(columns[name], out=columns[name], where=is_ret)  # return lines
    del amount, qty, margin, values
    prod_src, cat_src = prod[src], l_cat[src]
    del prod, l_cat, src
    columns["customer_id"] = _take_str(ids, buyers[o_b[lo_]])
    o_width = max(7, len(str(n_ord)))
    order_ids = _format_ids("ORD", o_rank.astype(np.int64) + 1, o_width)
    columns["order_id"] = _take_str(order_ids, lo_)
    del order_ids
    columns["product"] = _take_str(pa.concat_arrays(product_names), prod_src)
    columns["category"] = _strings(CATEGORIES, cat_src)
    columns["channel"] = _strings(CHANNELS, o_chan[lo_])
    columns["status"] = _strings(("completed", "returned"), is_ret.view(np.int8))
    del prod_src, cat_src, lo_
    columns["timestamp"] = ts.view("datetime64[ns]")
    columns["due_date"] = due_ns.view("datetime64[ns]")
    columns["paid_date"] = paid_ns.view("datetime64[ns]")
    order = ("customer_id", "timestamp", "amount", "order_id", "quantity", "product",
             "category", "channel", "margin", "status", "due_date", "paid_date")
    return pd.DataFrame({c: columns[c] for c in order}, copy=False)

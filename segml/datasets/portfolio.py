"""The generator's result (:class:`Portfolio`) and :func:`make_portfolio`, which draws it."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from segml._atomic import atomic_dir
from segml._planted_segments import SegmentProfile, select_profiles
from segml._validation import check_date, check_int, check_share
from segml.datasets._draw import _STR, _alloc, _format_ids, _strings, _top_share
from segml.datasets.customers import draw_customers
from segml.datasets.transactions import draw_transactions
from segml.errors import ConfigError

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


# --------------------------------------------------------------------------- the generator


def make_portfolio(
    n_customers: int = 5000,
    *,
    n_segments: int = 5,
    start: Any = "2021-01-01",
    end: Any = "2024-12-31",
    prospect_share: float = 0.12,
    b2b_share: float | None = None,
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
        ``tech_enthusiasts``); more are derived variants (``loyal_high_value_2``, ...).
        ``b2b_accounts`` holds every B2B buyer and is left out when
        ``b2b_share == 0``. The segments differ in behaviour (purchase rate, order
        value, recency, tenure, trend, seasonality, payment, returns, channel and
        category mix), not only in attributes. ``1`` plants a single profile
        (``loyal_high_value``, no B2B accounts by default): a null case with no
        segments to find.
    start, end : date-like
        First and last calendar day of the transaction history; ``end`` is the
        portfolio's ``as_of``.
    prospect_share : float in [0, 1), default 0.12
        Share of customers who never bought (truth ``"prospect"``); some of them
        showed interest (asked for a quote or information).
    b2b_share : float in [0, 1), optional
        Share of customers that are companies (``is_b2b``), prospects included.
        None (default) means 0.15, or 0 when ``n_segments == 1`` (B2B accounts would
        be a second segment).
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
    k = check_int("n_segments", n_segments, 1)
    if k > 32:
        raise ConfigError(f"n_segments={k} should be <= 32.")
    prospect_share = check_share("prospect_share", prospect_share)
    if b2b_share is None:
        b2b_share = 0.15 if k > 1 else 0.0
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
    customers, first_day, last_day = draw_customers(
        rng, profiles, seg, is_prospect, is_b2b, ids, t0, t1, n_days, noise, missing_share
    )
    transactions = draw_transactions(
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

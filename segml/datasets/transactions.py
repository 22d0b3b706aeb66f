"""Draw the order lines of the buyers from the planted profiles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.special import ndtr

from segml._planted_segments import SegmentProfile
from segml.datasets._draw import (
    _DAY_NS,
    _choice_rows,
    _format_ids,
    _mix,
    _take_category,
    _take_str,
)
from segml.datasets.reference import _CATALOGUE, _SEASON, CATEGORIES, CHANNELS
from segml.schema.columns import STATUS_LEVELS


def draw_transactions(
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
    # gamma-Poisson purchase rates (NBD): gamma heterogeneity with mean 1, cv 0.35 * noise
    cv = 0.35 * noise
    rate = np.array([p.rate for p in profiles])[bseg]
    if cv > 1e-3:
        rate = rate * rng.gamma(1.0 / cv**2, cv**2, nb)
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
        season = (mix @ _SEASON) ** profiles[s].season
        cum = np.concatenate([[0.0], np.cumsum(season[day_month])])
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
    columns["product"] = _take_category(pa.concat_arrays(product_names), prod_src)
    columns["category"] = _take_category(CATEGORIES, cat_src)
    columns["channel"] = _take_category(CHANNELS, o_chan[lo_])
    columns["status"] = _take_category(("completed", "returned"), is_ret.view(np.int8),
                                       STATUS_LEVELS)
    del prod_src, cat_src, lo_
    columns["timestamp"] = ts.view("datetime64[ns]")
    columns["due_date"] = due_ns.view("datetime64[ns]")
    columns["paid_date"] = paid_ns.view("datetime64[ns]")
    order = ("customer_id", "timestamp", "amount", "order_id", "quantity", "product",
             "category", "channel", "margin", "status", "due_date", "paid_date")
    return pd.DataFrame({c: columns[c] for c in order}, copy=False)

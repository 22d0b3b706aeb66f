"""How :func:`segml.cluster.select_k` turns its table into a recommendation.

Three rules, selectable by name:

``"gap"`` (the default)
    Can answer "no clear segments". The gap statistic (Tibshirani, Walther & Hastie 2001;
    :mod:`segml.cluster.gap`) with a PCA-aligned uniform reference is computed for k = 1..k_max.
    A k >= 2 is *reproducible* when prediction strength on disjoint halves (Tibshirani &
    Walther 2005; :mod:`segml.cluster.prediction_strength`) is at least ``ps_threshold``
    (0.8), every segment's mean bootstrap Jaccard (Hennig's resampling with replacement, on
    which his 0.75 "stable" threshold was calibrated) is at least ``min_jaccard`` (0.75), and
    no segment is under ``min_segment_share``. k = 1 is always reproducible. A k is
    *separated* when, in the gap's own k-means fit, every segment and the segment of its
    nearest centre project bimodally onto the line between the two centres (Hartigan's dip
    test, :mod:`segml.cluster.separation`; every pair at p < 0.05 / m, Bonferroni over the m
    reproducible k >= 2 tested), and *merged* when such a pair of at least 800 customers
    projects unimodally (p >= 0.05: one mode cut in two). The recommendation is, in order:

    1. the **largest** reproducible separated k (segments that are reproducible and separated
       from their neighbours; a larger k would cut a segment through dense data or fail
       reproducibility);
    2. else the **smallest** reproducible k within ``GAP_BAND`` (2) standard errors ``s`` of the
       gap curve's global maximum that is not merged (parsimony; this route decides where the
       dip test has little power, segments of a few hundred customers such as Mall's);
    3. else ``"no clear segments"``: k-means finds nothing beyond one population, or the k where
       the gap peaks is not reproducible (a continuous, skewed population: its gap keeps rising
       with k while the partitions change from sample to sample), or the supported k cut one
       mode in two (the point masses of one transactional population: customers who bought
       once, customers who bought twice).

    The supported set (separated k and route-2 k) is the recommendation's interval.
    Stability is only a necessary filter: for k-means it says the optimum is unique, not that
    k is right (Ben-David, von Luxburg & Pál 2006).

    Why both routes (tracker issue 15, stop 28; bench/RESULTS.md "a dip-test separation rule"):
    the gap alone said "no clear segments" on 18 of 18 planted portfolios at 20,000 customers
    (the gap keeps rising to k = 8-10 in 40-50 flag-rich columns); the dip test alone says "no
    clear segments" on Mall Customers (pairs of 100-120 customers). On the cached studies
    the combination was right on the four nulls (seeds 0-9), the one-profile portfolio, Mall
    and 3 / 5 planted segments at 3,000 and 20,000 customers.

``"largest_stable"`` (the rule before tracker issue 15, kept for comparison)
    The largest k whose every segment's mean Jaccard over 80% sub-sample refits is at least
    ``min_jaccard``. It cannot answer "no clear segments" (recommends 3-10 on null data).

``"votes"`` (kept for comparison)
    Each criterion (silhouettes, Calinski-Harabasz, Davies-Bouldin, inertia knee, BIC,
    stability ARI) votes for a k; the most-voted wins.

What the ``"gap"`` rule gave while it was designed (k = 1..10, B = 10 references, 5 halvings,
10 bootstrap refits, ``random_state`` 0; "Tibs" is the paper's own rule
``Gap(k) >= Gap(k+1) - s``, "global" the smallest k within one ``s`` of the global maximum):

=====================  ======  =========  ======  ============================================
data                   Tibs    global     "gap"   why
=====================  ======  =========  ======  ============================================
2-D Gaussian (2000)    1       1          none    gap highest at k = 1
uniform 5-D box        1       1          none    gap highest at k = 1
lognormal RFM (3-D)    1       9          none    gap peaks at 9-10; PS(9) = 0.43
BG/NBD x Gamma-Gamma   3       10         none    gap peaks at 10; PS(10) = 0.25; k = 2, 3
(CDNOW parameters)                                reproducible but 8 s below the peak
3 blobs                3       3          3
5 blobs                5       5          5
Mall income x score    1       5 (7, 8)   5       "global" gave 7 or 8 for 2 of 12 seeds
demo portfolio         1       1          none    3,520 buyers x 138 columns (83 flags/one-hot):
(5 planted, default                               gap highest at k = 1; Euclidean silhouette
features)                                         0.16 at k = 5 ("no substantial structure")
CDNOW (23,570 x 26,    10      10         none    gap rises to k = 10; k = 2-7 reproducible
default spec)                                     but 4+ s below the peak
=====================  ======  =========  ======  ============================================

The demo's planted segments are recoverable at k = 5 (ARI 0.98, ``test_planted.py``) but do
not form separated groups in the default feature space, so the rule says "no clear segments"
there; the old ``"largest_stable"`` rule still finds 5 on it.

The paper's rule says 3 on the BG/NBD null and 1 on Mall; the global rule alone says 9-10 on
the skewed nulls; reproducibility alone (prediction strength, Jaccard) passes k = 2-3 on every
null. The 2-``s`` band (rather than one ``s``) keeps Mall's 5 when the curve's maximum at 8-9
is estimated high. The table above predates the separation route (stop 28), which gives the
demo portfolio k = 5 (ARI 0.956 against the planted truth; 0.958 while the quarter shares were
in the distance).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from segml.cluster.separation import DIP_ALPHA, STATUSES
from segml.cluster.silhouette import FULL_KIND, SAMPLE_KIND

__all__ = ["CRITERIA", "RULES", "GAP_BAND", "NO_SEGMENTS", "SEGMENTS", "silhouette_reading",
           "knee_point", "recommend_by_criteria", "recommend_by_gap"]

#: criterion name -> (table column, "max" or "min")
CRITERIA: dict[str, tuple[str, str]] = {
    FULL_KIND: (FULL_KIND, "max"),
    SAMPLE_KIND: (SAMPLE_KIND, "max"),
    "calinski_harabasz": ("calinski_harabasz", "max"),
    "davies_bouldin": ("davies_bouldin", "min"),
    "inertia_knee": ("inertia_knee", "knee"),
    "bic": ("bic", "min"),
    "stability_ari": ("stability_ari_mean", "max"),
}
#: how the recommendation is made (see the module docstring); the first is the default
RULES = ("gap", "largest_stable", "votes")
#: a supported k's gap is within this many standard errors of the curve's maximum
GAP_BAND = 2.0
SEGMENTS = "segments"
NO_SEGMENTS = "no clear segments"


def silhouette_reading(value: float) -> str:
    """Kaufman & Rousseeuw's reading of an average (Euclidean) silhouette.

    Parameters
    ----------
    value : float

    Returns
    -------
    str
        ``"strong"`` (> 0.70), ``"reasonable"`` (0.51-0.70), ``"weak"`` (0.26-0.50) or
        ``"no substantial structure"`` (<= 0.25); ``""`` for NaN.

    Examples
    --------
    >>> silhouette_reading(0.55), silhouette_reading(0.2)
    ('reasonable', 'no substantial structure')
    """
    if value is None or not np.isfinite(value):
        return ""
    if value > 0.70:
        return "strong"
    if value > 0.50:
        return "reasonable"
    if value > 0.25:
        return "weak"
    return "no substantial structure"


def _describe(row: pd.Series) -> str:
    if row["algorithm"] == "gmm":
        return f"k={row['k']} (gmm/{row['covariance_type']})"
    return f"k={row['k']} ({row['algorithm']})"


def knee_point(x: Sequence[float], y: Sequence[float]) -> int | None:
    """Index of the knee of a decreasing curve: the point farthest below the chord.

    Both axes are scaled to [0, 1]; the knee maximises the distance between the chord joining
    the first and last points and the curve (the Kneedle idea for a convex decreasing curve).

    Parameters
    ----------
    x, y : sequence of float
        Increasing ``x`` (e.g. k) and the curve (e.g. inertia).

    Returns
    -------
    int or None
        Position of the knee, ``None`` with fewer than 3 points or a flat curve.

    Examples
    --------
    >>> knee_point([1, 2, 3, 4, 5], [100, 30, 20, 15, 12])
    1
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape[0] < 3 or np.ptp(y) == 0 or np.ptp(x) == 0:
        return None
    xn = (x - x.min()) / np.ptp(x)
    yn = (y - y.min()) / np.ptp(y)
    chord = yn[0] + (yn[-1] - yn[0]) * (xn - xn[0]) / (xn[-1] - xn[0])
    gap = chord - yn
    best = int(np.argmax(gap))
    return best if gap[best] > 0 else None


def recommend_by_criteria(
    table: pd.DataFrame,
    min_share: float,
    *,
    rule: str = "largest_stable",
    min_jaccard: float = 0.85,
    n_refits: int = 0,
    exclude: tuple[str, ...] = (),
) -> tuple[dict[str, Any], str, dict[str, dict[str, Any]]]:
    """Recommend by the ``"largest_stable"`` or ``"votes"`` rule (see the module docstring).

    Returns
    -------
    (dict, str, dict)
        Recommendation, rationale, and each criterion's preferred row.
    """
    table = table[table["k"] >= 2] if "k" in table else table
    eligible = table[~table["too_small"]]
    notes = []
    all_too_small = eligible.empty
    if all_too_small:
        eligible = table
        notes.append(
            f"every configuration has a segment below {min_share:.0%} of customers; "
            "recommending among all of them"
        )
    picks: dict[str, int] = {}
    for name, (col, how) in CRITERIA.items():
        if name in exclude or col not in eligible or eligible[col].isna().all():
            continue
        values = eligible[col]
        if how == "knee":
            knees = eligible[values.astype(bool)]
            if knees.empty:
                continue
            picks[name] = int(knees[FULL_KIND].idxmax()) if FULL_KIND in knees else knees.index[0]
            continue
        picks[name] = int(values.idxmax() if how == "max" else values.idxmin())
    votes = pd.Series(0, index=eligible.index)
    for idx in picks.values():
        votes[idx] += 1
    top = votes[votes == votes.max()].index
    tie = eligible.loc[top]
    if len(top) > 1 and FULL_KIND in tie:
        tie = tie.sort_values([FULL_KIND, "k"], ascending=[False, True])
    by_votes = int(tie.index[0])

    used = "votes"
    stable = pd.DataFrame()
    if rule == "largest_stable":
        jac = "stability_jaccard_min"
        if jac in eligible and eligible[jac].notna().any():
            stable = eligible[eligible[jac] >= min_jaccard]
            if stable.empty:
                notes.append(
                    f"no configuration has every segment stable (Jaccard >= {min_jaccard:.2f}); "
                    "fell back to the criteria's votes"
                )
        else:
            notes.append("stability was not computed; the recommendation is the criteria's votes")
    if not stable.empty:
        order = ["k", FULL_KIND] if FULL_KIND in stable else ["k"]
        best = int(stable.sort_values(order, ascending=[False] * len(order)).index[0])
        used = "largest_stable"
    else:
        best = by_votes
    row = table.loc[best]
    agree = [c for c, i in picks.items() if i == best]
    disagree = {c: _describe(table.loc[i]) for c, i in picks.items() if i != best}
    if used == "largest_stable":
        refits = f" over {n_refits} refits" if n_refits else ""
        size = (
            f"at least {min_share:.0%} of customers. Stable and large enough: "
            if not all_too_small
            else "as large as the data allow (no configuration keeps every segment at "
            f"{min_share:.0%}). Stable: "
        )
        text = [
            f"Recommended {_describe(row)}: the largest number of segments whose every segment "
            f"is reproducible (per-segment Jaccard >= {min_jaccard:.2f}{refits}) and {size}"
            + ", ".join(_describe(r) for _, r in stable.sort_values("k").iterrows())
            + ".",
            f"Criteria that pick it: {', '.join(agree) if agree else 'none'} "
            f"({len(agree)} of {len(picks)}).",
        ]
        if by_votes != best:
            text.append(
                f"By votes the criteria would pick {_describe(table.loc[by_votes])} "
                f"({int(votes[by_votes])} of {len(picks)})."
            )
    else:
        text = [
            f"Recommended {_describe(row)}: chosen by {len(agree)} of {len(picks)} criteria "
            f"({', '.join(agree) if agree else 'none'})."
        ]
        if len(top) > 1:
            text.append(f"Tie on votes broken by {FULL_KIND}, then the smaller k.")
    if disagree:
        text.append(
            "Disagreement: " + "; ".join(f"{c} prefers {d}" for c, d in disagree.items()) + "."
        )
    else:
        text.append("All criteria agree.")
    small = table[table["too_small"]]
    if not small.empty:
        text.append(
            f"Flagged too small (a segment under {min_share:.0%} of customers): "
            + ", ".join(_describe(r) for _, r in small.iterrows())
            + "."
        )
    if "stability_ari_mean" in row and pd.notna(row.get("stability_ari_mean")):
        ari = float(row["stability_ari_mean"])
        if ari < 0.75:
            text.append(f"Warning: the recommended segmentation is unstable (mean ARI {ari:.2f}).")
    text.extend(n[0].upper() + n[1:] + "." for n in notes)
    recommended = {
        "algorithm": row["algorithm"],
        "covariance_type": row["covariance_type"],
        "k": int(row["k"]),
        "rule": used,
        "votes": int(votes[best]),
        "n_criteria": len(picks),
        "criteria": agree,
    }
    pick_rows = {
        c: {
            "algorithm": table.loc[i, "algorithm"],
            "covariance_type": table.loc[i, "covariance_type"],
            "k": int(table.loc[i, "k"]),
        }
        for c, i in picks.items()
    }
    return recommended, " ".join(text), pick_rows


def _below(value: float, threshold: float) -> str:
    """Format a value under its threshold: 2 decimals, more while it would print as the threshold.

    >>> _below(0.30, 0.8), _below(0.7996, 0.8), _below(0.7949, 0.8)
    ('0.30', '0.7996', '0.79')
    """
    for digits in range(2, 7):
        text = f"{value:.{digits}f}"
        if float(text) < threshold:
            return text
    return f"{value:.6g}"


def _fmt_ks(ks: list[int]) -> str:
    return ", ".join(str(k) for k in ks) if ks else "none"


def _separation_text(gap: pd.DataFrame, separated: list[int], merged: list[int]) -> str:
    """One sentence on the dip test's verdicts at the reproducible k (``""`` without them)."""
    if "separation" not in gap or not (separated or merged):
        return ""
    parts = []
    if separated:
        parts.append(f"k={_fmt_ks(separated)} separated")
    for k in merged:
        p, n = gap.at[k, "dip_p"], gap.at[k, "dip_rows"]
        parts.append(f"k={k} cuts one mode in two (two neighbouring segments of {int(n):,} "
                     f"customers project unimodally, dip test p {float(p):.2f})")
    return "Separation of the reproducible k: " + "; ".join(parts) + "."


def recommend_by_gap(
    table: pd.DataFrame,
    gap: pd.DataFrame,
    min_share: float,
    *,
    min_jaccard: float = 0.75,
    ps_threshold: float = 0.8,
    band: float = GAP_BAND,
    n_refits: int = 0,
    search: list[int] | None = None,
) -> tuple[dict[str, Any], str]:
    """Recommend by the ``"gap"`` rule (see the module docstring).

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep's rows (``algorithm``, ``covariance_type``, ``k``, ``too_small``,
        ``stability_jaccard_min``, ``silhouette_euclidean_sample``...).
    gap : pandas.DataFrame
        Indexed by k from 1: ``gap``, ``gap_s`` and ``prediction_strength``.
    min_share : float
        Smallest segment share a recommended k may have.
    min_jaccard, ps_threshold, band : float
        The filters and the gap band.
    n_refits : int
        Bootstrap refits behind ``stability_jaccard_min`` (0: stability not computed, the
        Jaccard filter is skipped and the rationale says so).
    search : list of int, optional
        The k the user searched (default: ``gap``'s index). k = 1 outside it means the user
        asked for segments: the verdict can still be "no clear segments", and the
        recommendation is then the best-supported k in the search, flagged as unsupported.

    Returns
    -------
    (dict, str)
        Recommendation (``verdict``, ``k``, ``k_interval``, ``supported``, ``reproducible``,
        ``gap_peak_k``, ``algorithm``, ``covariance_type``, ``rule``) and the rationale.
    """
    search = sorted(search if search is not None else gap.index.tolist())
    peak = int(gap["gap"].idxmax())
    floor = float(gap.at[peak, "gap"] - band * gap.at[peak, "gap_s"])
    use_jac = n_refits > 0 and "stability_jaccard_min" in table
    why: dict[int, str] = {}
    best_row: dict[int, Any] = {}
    reproducible = []
    for k in gap.index:
        k = int(k)
        if k == 1:
            reproducible.append(1)
            continue
        ps = float(gap.at[k, "prediction_strength"])
        rows = table[table["k"] == k]
        fails = []
        if not ps >= ps_threshold:
            fails.append(f"prediction strength {_below(ps, ps_threshold)} < {ps_threshold:.2f}")
        ok = rows[~rows["too_small"].astype(bool)] if "too_small" in rows else rows
        if ok.empty and not rows.empty:
            fails.append(f"a segment under {min_share:.0%} of customers")
        # not computed where prediction strength already failed (select_k's screening)
        skip_jac = bool(fails) and ok["stability_jaccard_min"].isna().all() if use_jac else True
        if use_jac and not ok.empty and not skip_jac:
            jac = ok["stability_jaccard_min"].fillna(0.0)
            if not (jac >= min_jaccard).any():
                fails.append(f"worst segment's bootstrap Jaccard "
                             f"{_below(float(jac.max()), min_jaccard)} < {min_jaccard:.2f}")
            ok = ok[jac >= min_jaccard]
        if fails or ok.empty:
            why[k] = "; ".join(fails) or "not evaluated"
            continue
        reproducible.append(k)
        sort = SAMPLE_KIND if SAMPLE_KIND in ok and ok[SAMPLE_KIND].notna().any() else "k"
        best_row[k] = ok.sort_values(sort, ascending=False).iloc[0]
    sep = (gap["separation"] if "separation" in gap
           else pd.Series("", index=gap.index, dtype=object))
    # the rule looks for a separated k among every reproducible one: Bonferroni over them, so a
    # one-population sample is called separated at some k with probability at most DIP_ALPHA
    tested = [k for k in reproducible if k >= 2 and sep.get(k) in STATUSES]
    alpha_k = DIP_ALPHA / max(len(tested), 1)
    separated = [k for k in tested if float(gap.at[k, "dip_p"]) < alpha_k]
    merged = [k for k in tested if sep.get(k) == "merged"]
    by_gap = [k for k in reproducible if gap.at[k, "gap"] >= floor and k not in merged]
    sep_in_search = [k for k in separated if k in search]
    if sep_in_search:
        # the separation route: the largest reproducible k whose neighbours are all separated
        supported = sorted(set(separated) | {k for k in by_gap if k >= 2})
        in_search = [k for k in supported if k in search]
        pick = max(sep_in_search)
    else:
        supported = by_gap
        in_search = [k for k in supported if k in search]
        pick = in_search[0] if in_search else None
    verdict = SEGMENTS if supported and (separated or supported[0] >= 2) else NO_SEGMENTS
    text = []
    gap_txt = (f"The gap statistic peaks at k={peak} (Gap {gap.at[peak, 'gap']:.3f}, "
               f"s {gap.at[peak, 'gap_s']:.3f}); within {band:g} s of it: "
               f"k={_fmt_ks([int(k) for k in gap.index if gap.at[k, 'gap'] >= floor])}.")
    filt = (f"prediction strength >= {ps_threshold:.2f}"
            + (f", every segment's bootstrap Jaccard >= {min_jaccard:.2f} over {n_refits} "
               "refits" if use_jac else "")
            + f", no segment under {min_share:.0%}")
    rep_txt = f"Reproducible ({filt}): k={_fmt_ks(reproducible)}."
    sep_txt = _separation_text(gap, separated, merged)
    if verdict == SEGMENTS and sep_in_search:
        k = int(pick)
        text.append(f"Recommended k={k}: the largest reproducible k whose segments are all "
                    "separated from their nearest neighbour (dip test of unimodality on the "
                    f"line between the two centres, p < {alpha_k:.3g} for every pair: "
                    f"{DIP_ALPHA:g} over the {len(tested)} reproducible k tested; separated: "
                    f"k={_fmt_ks(separated)}; supported: k={_fmt_ks(supported)}).")
        unsupported = False
    elif verdict == SEGMENTS and in_search:
        k = in_search[0]
        text.append(f"Recommended k={k}: the smallest k that is both reproducible and within "
                    f"{band:g} standard errors of the gap statistic's maximum (supported: "
                    f"k={_fmt_ks(supported)}); no reproducible k has all its segments "
                    "separated by the dip test, which has little power on small segments.")
        unsupported = False
    else:
        if supported and supported[0] == 1:
            reason = ("one population fits as well as any partition: the gap statistic at "
                      f"k=1 is within {band:g} s of its maximum")
        elif not any(k >= 2 for k in reproducible):
            reason = "no k >= 2 is reproducible"
        elif merged and not [k for k in by_gap if k >= 2] and any(
                gap.at[k, "gap"] >= floor for k in merged):
            reason = ("the reproducible k near the gap statistic's maximum cut one mode in two "
                      "(dip test), the signature of point masses or a skewed population rather "
                      "than separate groups")
        else:
            reason = (f"the k where the gap statistic peaks is not reproducible, and the "
                      f"reproducible k (k={_fmt_ks([k for k in reproducible if k >= 2])}) "
                      "fall well short of the peak: the signature of one continuous, skewed "
                      "population rather than separate groups")
        if 1 in search:
            k = 1
            unsupported = False
            text.append(f"No clear segments: {reason}. Use a value partition (e.g. the "
                        "rfm_groups rule set) or force a k, knowing no criterion supports it.")
        else:
            cands = [c for c in search if c in best_row]
            k = cands[0] if cands else search[0]
            unsupported = True
            text.append(f"No clear segments ({reason}); k=1 was excluded by the search "
                        f"range, so k={k} is returned as the "
                        + ("smallest reproducible k in the range" if cands
                           else "smallest k in the range")
                        + ". No criterion supports it: treat it as a forced choice.")
    text.append(gap_txt)
    text.append(rep_txt)
    if sep_txt:
        text.append(sep_txt)
    if why:
        text.append("Not reproducible: " + "; ".join(f"k={k}: {w}" for k, w in why.items()) + ".")
    if not use_jac:
        text.append("Bootstrap stability was not computed; only prediction strength filtered.")
    row = best_row.get(k)
    if row is None:
        rows = table[table["k"] == k]
        row = rows.iloc[0] if not rows.empty else None
    algorithm = row["algorithm"] if row is not None else "kmeans"
    cov = row["covariance_type"] if row is not None else None
    interval_from = in_search if verdict == SEGMENTS and in_search else [k]
    rec = {
        "verdict": verdict,
        "algorithm": algorithm,
        "covariance_type": cov,
        "k": int(k),
        "k_interval": [int(min(interval_from)), int(max(interval_from))],
        "rule": "gap",
        "supported": [int(x) for x in supported],
        "reproducible": [int(x) for x in reproducible],
        "separated": [int(x) for x in separated],
        "merged": [int(x) for x in merged],
        "gap_peak_k": peak,
        "unsupported": unsupported,
    }
    return rec, " ".join(text)

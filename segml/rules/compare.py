"""Side-by-side comparison of two segmentations (clusters vs rules, rules vs rules, ...).

Answers the analysts' question "what does clustering tell me that my RFM/ABC
rules do not?" with numbers: a contingency table (counts, row/column shares,
revenue shares, lift), agreement scores (ARI, AMI, NMI, V-measure), the best
one-to-one matching of groups (Hungarian algorithm) and a profile of every
group of both segmentations. Plotting is left to the plotting layer, which
reads :meth:`ComparisonResult.get_plot_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn import metrics

from segml.errors import ConfigError, SchemaError
from segml.rules.expr import column_kind

__all__ = ["ComparisonResult", "compare_segmentations", "PROFILE_COLUMNS"]

#: Feature columns averaged in the profile tables when present.
PROFILE_COLUMNS = ("recency_days", "frequency", "monetary", "clv")


@dataclass(frozen=True)
class ComparisonResult:
    """Result of :func:`compare_segmentations`.

    Attributes
    ----------
    names : tuple of str
        Names of the two segmentations (rows, columns).
    counts : DataFrame
        Contingency table: rows = groups of the first segmentation, columns =
        groups of the second, values = customers.
    row_shares : DataFrame
        ``counts`` divided by row totals (each row sums to 1).
    col_shares : DataFrame
        ``counts`` divided by column totals (each column sums to 1).
    revenue_shares : DataFrame or None
        Share of total revenue in each cell (None without features).
    lift : DataFrame
        ``cell share / (row share * column share)``: > 1 means the two groups
        co-occur more than by chance (NaN for empty rows/columns).
    scores : dict of str to float
        ``ari``, ``ami``, ``nmi``, ``v_measure``, ``homogeneity`` (each first-
        segmentation group holds one second-segmentation group) and
        ``completeness``.
    matching : DataFrame
        Best one-to-one pairs (maximum total count): first group, second group,
        ``count``, ``share_of_<first>``, ``share_of_<second>``.
    agreement : float
        Customers in matched pairs / customers compared.
    profiles : DataFrame or None
        One row per group of each segmentation (index: segmentation name, group):
        ``size``, ``share``, ``revenue_share``, mean ``recency_days``,
        ``frequency``, ``monetary``, ``clv`` (those present) and
        ``top_attributes`` (most over-represented attribute values).
    cell_profiles : DataFrame or None
        Size and mean profile columns of every non-empty cell.
    n_compared, n_only_first, n_only_second, n_missing : int
        Customers compared, present in only one input, or with a missing label.
    """

    names: tuple[str, str]
    counts: pd.DataFrame
    row_shares: pd.DataFrame
    col_shares: pd.DataFrame
    lift: pd.DataFrame
    scores: dict[str, float]
    matching: pd.DataFrame
    agreement: float
    n_compared: int
    n_only_first: int
    n_only_second: int
    n_missing: int
    revenue_shares: pd.DataFrame | None = None
    profiles: pd.DataFrame | None = None
    cell_profiles: pd.DataFrame | None = None
    min_share: float = field(default=0.2)

    # ------------------------------------------------------------- exports
    def get_plot_data(self) -> dict[str, pd.DataFrame | None]:
        """Tables the plotting layer draws (contingency heatmap, profile comparison)."""
        return {
            "counts": self.counts,
            "row_shares": self.row_shares,
            "col_shares": self.col_shares,
            "revenue_shares": self.revenue_shares,
            "lift": self.lift,
            "matching": self.matching,
            "profiles": self.profiles,
        }

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly summary (tables as nested ``{row: {column: value}}``)."""

        def table(df: pd.DataFrame | None) -> dict[str, dict[str, object]] | None:
            if df is None:
                return None
            out: dict[str, dict[str, object]] = {}
            for r in df.index:
                out[str(r)] = {str(c): _py(df.at[r, c]) for c in df.columns}
            return out

        profiles = None
        if self.profiles is not None:
            profiles = {
                f"{k[0]}:{k[1]}": {c: _py(v) for c, v in row.items()}
                for k, row in self.profiles.iterrows()
            }
        return {
            "names": list(self.names),
            "n_compared": self.n_compared,
            "n_only_first": self.n_only_first,
            "n_only_second": self.n_only_second,
            "n_missing": self.n_missing,
            "scores": {k: float(v) for k, v in self.scores.items()},
            "agreement": float(self.agreement),
            "counts": table(self.counts),
            "lift": table(self.lift),
            "revenue_shares": table(self.revenue_shares),
            "matching": [
                {str(k): _py(v) for k, v in row.items()} for _, row in self.matching.iterrows()
            ],
            "profiles": profiles,
        }

    # ------------------------------------------------------------- summary
    def splits(self, *, min_share: float | None = None) -> pd.DataFrame:
        """List the groups of one segmentation spread over several groups of the other.

        Parameters
        ----------
        min_share : float, optional
            A group counts as split when at least two groups of the other
            segmentation each hold ``>= min_share`` of it (default: the value
            given to :func:`compare_segmentations`).

        Returns
        -------
        DataFrame
            Columns ``segmentation`` (whose group is split), ``group``, ``size``,
            ``split_by`` (the other segmentation) and ``parts`` (list of
            ``(other group, share)``, largest first).
        """
        ms = self.min_share if min_share is None else min_share
        rows = []
        a, b = self.names
        for seg, other, shares, sizes in (
            (b, a, self.col_shares, self.counts.sum(axis=0)),
            (a, b, self.row_shares.T, self.counts.sum(axis=1)),
        ):
            for g in shares.columns:
                col = shares[g].dropna().sort_values(ascending=False, kind="stable")
                big = col[col >= ms]
                if len(big) >= 2:
                    parts = [(k, float(v)) for k, v in big.items()]
                    rows.append((seg, g, int(sizes[g]), other, parts))
        return pd.DataFrame(rows, columns=["segmentation", "group", "size", "split_by", "parts"])

    def summary(self, *, min_share: float | None = None, max_lines: int = 12) -> str:
        """Plain-text answer to "what does one segmentation tell me that the other does not?".

        Parameters
        ----------
        min_share : float, optional
            Threshold for "split" (see :meth:`splits`).
        max_lines : int, default 12
            Most split lines listed per direction.

        Returns
        -------
        str
        """
        a, b = self.names
        ka, kb = self.counts.shape
        s = self.scores
        lines = [
            f"{a} ({ka} groups) vs {b} ({kb} groups) on {self.n_compared:,} customers"
            + (
                f" ({self.n_only_first:,} only in {a}, {self.n_only_second:,} only in {b},"
                f" {self.n_missing:,} with a missing label)"
                if (self.n_only_first or self.n_only_second or self.n_missing)
                else ""
            )
            + ".",
            f"Agreement: ARI {s['ari']:.3f}, AMI {s['ami']:.3f}, NMI {s['nmi']:.3f}, "
            f"V-measure {s['v_measure']:.3f} (homogeneity {s['homogeneity']:.3f}, "
            f"completeness {s['completeness']:.3f}).",
            f"Best one-to-one matching: {self.agreement:.1%} of customers fall in matched pairs.",
        ]
        for _, row in self.matching.iterrows():
            if row["count"] == 0:
                continue
            lines.append(
                f"  {a} {row[a]} <-> {b} {row[b]}: {int(row['count']):,} customers "
                f"({row[f'share_of_{a}']:.0%} of {a} {row[a]}, "
                f"{row[f'share_of_{b}']:.0%} of {b} {row[b]})"
            )
        sp = self.splits(min_share=min_share)
        for seg, other in ((b, a), (a, b)):
            part = sp[sp["segmentation"] == seg]
            lines.append(
                f"What {other} shows that {seg} does not: "
                + (
                    f"{len(part)} {seg} group(s) split across {other} groups."
                    if len(part)
                    else f"no {seg} group is split across {other} groups."
                )
            )
            for _, row in part.head(max_lines).iterrows():
                desc = ", ".join(
                    f"{other} {g} {share:.0%}{self._cell_note(seg, row['group'], g)}"
                    for g, share in row["parts"]
                )
                lines.append(f"  {seg} {row['group']} (n={row['size']:,}) splits into: {desc}")
        if self.profiles is not None and "revenue_share" in self.profiles:
            for seg in (a, b):
                p = self.profiles.loc[seg]["revenue_share"].astype(float)
                top = p.idxmax()
                size = self.profiles.loc[(seg, top), "share"]
                lines.append(
                    f"Top revenue group in {seg}: {top} with {p.max():.1%} of revenue "
                    f"from {size:.1%} of customers."
                )
        return "\n".join(lines)

    def _cell_note(self, seg: str, group: object, other_group: object) -> str:
        if self.cell_profiles is None:
            return ""
        a, b = self.names
        key = (other_group, group) if seg == b else (group, other_group)
        if key not in self.cell_profiles.index:
            return ""
        row = self.cell_profiles.loc[key]
        bits = [
            f"{c.replace('_days', '')} {row[c]:,.0f}"
            for c in ("recency_days", "frequency", "monetary")
            if c in row.index and pd.notna(row[c])
        ]
        return f" ({', '.join(bits)})" if bits else ""


def _py(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, list | tuple):
        return [_py(x) for x in v]
    return v


def _as_series(x: object, what: str, fallback_index: pd.Index | None) -> pd.Series:
    if isinstance(x, pd.Series):
        return x
    if isinstance(x, pd.DataFrame):
        raise SchemaError(f"{what}: expected a Series of labels, got a DataFrame")
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise SchemaError(f"{what}: expected one label per customer, got shape {arr.shape}")
    if fallback_index is not None and len(fallback_index) == len(arr):
        return pd.Series(arr, index=fallback_index)
    return pd.Series(arr)


def _levels(s: pd.Series) -> list[object]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return list(s.cat.categories)
    uniq = pd.unique(s.dropna())
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def _codes(s: pd.Series, levels: list[object]) -> np.ndarray:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(dtype=np.int64)
    return pd.Index(levels, dtype=object).get_indexer(s.to_numpy(dtype=object)).astype(np.int64)


def _entropy(counts: np.ndarray) -> float:
    n = counts.sum()
    p = counts[counts > 0] / n
    return float(-(p * np.log(p)).sum())


def _scores(counts: np.ndarray, ca: np.ndarray, cb: np.ndarray) -> dict[str, float]:
    """Agreement scores from the contingency table (same values as sklearn's functions).

    sklearn recomputes the contingency table (a sort of every label) in each metric; working
    from the table makes the comparison of a million customers seconds faster. Only the
    adjusted mutual information, which needs the expected MI, calls sklearn on the codes.
    """
    c = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0].astype(np.int64)
    n = int(c.sum())
    ra, cbm = c.sum(axis=1), c.sum(axis=0)
    h_a, h_b = _entropy(ra), _entropy(cbm)
    mi = float(metrics.mutual_info_score(None, None, contingency=c))
    # ARI via the pair confusion matrix, in Python ints (no overflow)
    sum_sq = int((c.astype(object) ** 2).sum())
    tp = sum_sq - n
    fp = int((c.astype(object) @ cbm.astype(object)).sum()) - sum_sq
    fn = int((c.T.astype(object) @ ra.astype(object)).sum()) - sum_sq
    tn = n * n - fp - fn - sum_sq
    if fn == 0 and fp == 0:
        ari = 1.0
    else:
        ari = 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    ka, kb = c.shape
    if ka == kb == 1 or ka == kb == 0:
        nmi = 1.0
    elif mi == 0:
        nmi = 0.0
    else:
        nmi = mi / ((h_a + h_b) / 2)
    homogeneity = 1.0 if h_b == 0 else mi / h_b
    completeness = 1.0 if h_a == 0 else mi / h_a
    hc = homogeneity + completeness
    v = 0.0 if hc == 0 else 2.0 * homogeneity * completeness / hc
    return {
        "ari": float(ari),
        "ami": float(metrics.adjusted_mutual_info_score(ca, cb)),
        "nmi": float(nmi),
        "v_measure": float(v),
        "homogeneity": float(homogeneity),
        "completeness": float(completeness),
    }


def compare_segmentations(
    a: pd.Series | Sequence[object],
    b: pd.Series | Sequence[object],
    features: pd.DataFrame | None = None,
    *,
    revenue_col: str = "monetary",
    names: tuple[str, str] = ("a", "b"),
    top_attributes: int = 3,
    min_share: float = 0.2,
) -> ComparisonResult:
    """Compare two segmentations of the same customers.

    Parameters
    ----------
    a, b : Series
        Labels indexed by ``customer_id`` (cluster numbers or rule segment
        names). They are aligned on the index; customers present in only one
        are counted and left out. Arrays are accepted when they have the
        length of ``features`` (or of each other) and are taken in row order.
    features : DataFrame, optional
        Feature frame indexed by ``customer_id``, for revenue shares and
        profiles (must cover every compared customer).
    revenue_col : str, default "monetary"
        Revenue column of ``features``.
    names : tuple of str, default ("a", "b")
        Names of the two segmentations in tables and text.
    top_attributes : int, default 3
        Over-represented attribute values listed per group in ``profiles``.
    min_share : float, default 0.2
        A group is "split" when two or more groups of the other segmentation
        each hold at least this share of it (used by the summary).

    Returns
    -------
    ComparisonResult

    Examples
    --------
    >>> a = pd.Series([0, 0, 1, 1], index=list("wxyz"))
    >>> b = pd.Series(["A", "A", "A", "B"], index=list("wxyz"))
    >>> res = compare_segmentations(a, b, names=("cluster", "abc"))
    >>> res.counts.to_numpy().tolist()
    [[2, 0], [1, 1]]
    >>> float(res.agreement)
    0.75
    """
    if not isinstance(names, tuple | list) or len(names) != 2 or len({str(n) for n in names}) != 2:
        raise ConfigError(f"names={names!r} should be two different strings. Fix: pass "
                          "names=('clusters', 'rules') or other distinct labels.")
    na, nb = str(names[0]), str(names[1])
    if not 0 < min_share <= 1:
        raise ConfigError(f"min_share={min_share!r} should be in (0, 1]")
    fb_index = features.index if isinstance(features, pd.DataFrame) else None
    if fb_index is None and isinstance(b, pd.Series):
        fb_index = b.index
    sa = _as_series(a, f"{na} labels", fb_index)
    sb = _as_series(b, f"{nb} labels", fb_index if fb_index is not None else sa.index)
    for s, n in ((sa, na), (sb, nb)):
        if not s.index.is_unique:
            dup = s.index[s.index.duplicated()].unique()[:5].tolist()
            raise SchemaError(f"{n} labels: the index (customer_id) has duplicates, e.g. "
                              f"{dup}. Fix: keep one label per customer_id.")
    common = sa.index.intersection(sb.index, sort=False)
    n_only_a = len(sa) - len(common)
    n_only_b = len(sb) - len(common)
    la, lb = sa.loc[common], sb.loc[common]
    ok = la.notna().to_numpy() & lb.notna().to_numpy()
    n_missing = int((~ok).sum())
    la, lb = la[ok], lb[ok]
    if len(la) == 0:
        raise SchemaError(
            f"no customer has a label in both {na} and {nb}. Fix: index both by the same "
            "customer_id (same id format) and compare segmentations of the same customers."
        )
    lev_a, lev_b = _levels(sa), _levels(sb)
    ca, cb = _codes(la, lev_a), _codes(lb, lev_b)
    ka, kb = len(lev_a), len(lev_b)
    n = len(ca)
    counts_arr = np.bincount(ca * kb + cb, minlength=ka * kb).reshape(ka, kb)
    idx_a = pd.Index(lev_a, name=na, dtype=object)
    idx_b = pd.Index(lev_b, name=nb, dtype=object)
    counts = pd.DataFrame(counts_arr, index=idx_a, columns=idx_b)
    rt = counts_arr.sum(axis=1, keepdims=True).astype(float)
    ct = counts_arr.sum(axis=0, keepdims=True).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        row_shares = pd.DataFrame(counts_arr / rt, index=idx_a, columns=idx_b)
        col_shares = pd.DataFrame(counts_arr / ct, index=idx_a, columns=idx_b)
        lift = pd.DataFrame(counts_arr * n / (rt * ct), index=idx_a, columns=idx_b)

    scores = _scores(counts_arr, ca, cb)

    rows_i, cols_j = linear_sum_assignment(counts_arr, maximize=True)
    matched = counts_arr[rows_i, cols_j]
    with np.errstate(invalid="ignore", divide="ignore"):
        matching = pd.DataFrame(
            {
                na: pd.Series([lev_a[i] for i in rows_i], dtype=object),
                nb: pd.Series([lev_b[j] for j in cols_j], dtype=object),
                "count": matched.astype(np.int64),
                f"share_of_{na}": matched / rt[rows_i, 0],
                f"share_of_{nb}": matched / ct[0, cols_j],
            }
        )
    matching = matching.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)
    agreement = float(matched.sum() / n)

    revenue_shares = profiles = cell_profiles = None
    if features is not None:
        if not isinstance(features, pd.DataFrame):
            raise SchemaError(f"features should be a DataFrame, got {type(features).__name__}")
        lacking = la.index.difference(features.index)
        if len(lacking):
            raise SchemaError(
                f"features lacks {len(lacking)} of the compared customers, e.g. "
                f"{lacking[:5].tolist()}; index features by customer_id"
            )
        feat = features.loc[la.index]
        revenue = None
        if revenue_col in feat.columns:
            revenue = feat[revenue_col].to_numpy(dtype=float, na_value=np.nan)
            rev = np.nan_to_num(revenue, nan=0.0)
            total = rev.sum()
            cell_rev = np.bincount(ca * kb + cb, weights=rev, minlength=ka * kb).reshape(ka, kb)
            with np.errstate(invalid="ignore", divide="ignore"):
                revenue_shares = pd.DataFrame(cell_rev / total, index=idx_a, columns=idx_b)
        excluded = {revenue_col, sa.name, sb.name}
        profiles = _profiles(
            feat, {na: (ca, lev_a), nb: (cb, lev_b)}, revenue_col, top_attributes, excluded
        )
        prof_cols = [c for c in PROFILE_COLUMNS if c in feat.columns]
        cp = feat[prof_cols].astype(float).copy() if prof_cols else pd.DataFrame(index=feat.index)
        cp[na] = la.to_numpy(dtype=object)
        cp[nb] = lb.to_numpy(dtype=object)
        grouped = cp.groupby([na, nb], sort=False, observed=True)
        cell_profiles = grouped[prof_cols].mean() if prof_cols else pd.DataFrame()
        cell_profiles.insert(0, "size", grouped.size())

    return ComparisonResult(
        names=(na, nb),
        counts=counts,
        row_shares=row_shares,
        col_shares=col_shares,
        lift=lift,
        scores=scores,
        matching=matching,
        agreement=agreement,
        n_compared=n,
        n_only_first=n_only_a,
        n_only_second=n_only_b,
        n_missing=n_missing,
        revenue_shares=revenue_shares,
        profiles=profiles,
        cell_profiles=cell_profiles,
        min_share=min_share,
    )


def _attribute_columns(feat: pd.DataFrame, excluded: set[object]) -> list[str]:
    out = []
    for c in feat.columns:
        if c in excluded or c in PROFILE_COLUMNS:
            continue
        k = column_kind(feat[c])
        if k == "bool" or (k == "str" and feat[c].nunique(dropna=True) <= 20):
            out.append(c)
    return out


def _profiles(
    feat: pd.DataFrame,
    labelings: dict[str, tuple[np.ndarray, list[object]]],
    revenue_col: str,
    top_n: int,
    excluded: set[object],
) -> pd.DataFrame:
    n = len(feat)
    prof_cols = [c for c in PROFILE_COLUMNS if c in feat.columns]
    revenue = (
        np.nan_to_num(feat[revenue_col].to_numpy(dtype=float, na_value=np.nan), nan=0.0)
        if revenue_col in feat.columns
        else None
    )
    # indicator columns of attribute values, as (name, int codes, which code)
    attr_names: list[str] = []
    attr_codes: list[tuple[np.ndarray, int]] = []
    for c in _attribute_columns(feat, excluded):
        s = feat[c]
        if column_kind(s) == "bool":
            attr_names.append(str(c))
            attr_codes.append((s.to_numpy(dtype=object, na_value=False).astype(np.int8), 1))
        else:
            codes, uniques = pd.factorize(s.astype(object), sort=False)
            for i in sorted(range(len(uniques)), key=lambda i: str(uniques[i])):
                attr_names.append(f"{c}={uniques[i]}")
                attr_codes.append((codes, i))
    overall = np.array([(codes == i).mean() for codes, i in attr_codes]) if n else np.zeros(0)

    rows, index = [], []
    for seg, (gcodes, levels) in labelings.items():
        k = len(levels)
        sizes = np.bincount(gcodes, minlength=k)
        means = {}
        for c in prof_cols:
            v = feat[c].to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(v)
            num = np.bincount(gcodes[ok], weights=v[ok], minlength=k)
            den = np.bincount(gcodes[ok], minlength=k)
            with np.errstate(invalid="ignore", divide="ignore"):
                means[c] = num / den
        rev = np.bincount(gcodes, weights=revenue, minlength=k) if revenue is not None else None
        # share of each group holding each attribute value: (k, n_attrs)
        if attr_codes:
            q = np.column_stack(
                [np.bincount(gcodes[codes == i], minlength=k) for codes, i in attr_codes]
            )
            with np.errstate(invalid="ignore", divide="ignore"):
                q = q / sizes[:, None]
                lift = q / overall
        for g_i, g in enumerate(levels):
            size = int(sizes[g_i])
            row: dict[str, object] = {"size": size, "share": size / n}
            if rev is not None:
                tot = revenue.sum()
                row["revenue_share"] = float(rev[g_i] / tot) if tot else np.nan
            for c in prof_cols:
                row[c] = float(means[c][g_i])
            top = ""
            if size and attr_codes:
                cand = [
                    (lift[g_i, j], q[g_i, j], attr_names[j])
                    for j in range(len(attr_names))
                    if q[g_i, j] >= 0.1 and lift[g_i, j] >= 1.2
                ]
                cand.sort(key=lambda t: (-t[0], -t[1], t[2]))
                top = "; ".join(f"{nm} ({qq:.0%}, x{lf:.1f})" for lf, qq, nm in cand[:top_n])
            row["top_attributes"] = top
            rows.append(row)
            index.append((seg, g))
    return pd.DataFrame(
        rows, index=pd.MultiIndex.from_tuples(index, names=["segmentation", "group"])
    )

"""Segment profiles, then names (:mod:`segml.cluster.naming`) and roles (:mod:`segml.playbook`).

Profiles read the RAW feature frame (interpretable units, canonical names of
``docs/CONTRACTS.md``) and cope with any column being absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from segml.cluster.naming import NamingThresholds, name_segments
from segml.errors import ConfigError
from segml.playbook import (
    Playbook,
    apply_playbook,
    load_playbook,
    playbook_from_role_rules,
)

__all__ = ["ProfileResult", "profile_segments", "DEFAULT_ROLE_RULES", "format_rule"]

#: The roles of segml before the playbook (kept for callers passing ``role_rules``). Signals:
#: ``<feature>_z`` (segment mean vs base, in base standard deviations), ``prospect_share``,
#: ``value_index`` (revenue share / customer share), ``share``.
DEFAULT_ROLE_RULES: tuple[tuple[str, tuple[tuple[str, str, float], ...]], ...] = (
    ("to reach", (("prospect_share", ">=", 0.5),)),
    ("to win back", (("recency_days_z", ">=", 0.5),)),
    ("precious", (("value_index", ">=", 1.5), ("recency_days_z", "<=", 0.0))),
    ("to retain", ()),
)

_NOT_CATEGORICAL = {"rfm_code", "abc_class", "customer_id", "is_prospect"}
_MAX_LEVELS = 50


@dataclass
class ProfileResult:
    """Per-segment profiles, names and roles.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by segment: ``n``, ``share``, ``revenue``, ``revenue_share``, ``value_index``,
        ``prospect_share`` (when known), ABC composition ``abc_<class>_share``, and
        ``<feature>_mean`` / ``<feature>_median`` of every numeric raw feature.
    lift : pandas.DataFrame
        Tidy: ``segment, feature, segment_mean, base_mean, ratio, z`` (``ratio`` = segment mean
        / base mean, ``z`` = difference in base standard deviations).
    top_categories : pandas.DataFrame
        Tidy: ``segment, column, category, segment_share, base_share, lift`` for categories
        over-represented by at least ``min_lift`` (demographic, geographic, psychographic flags).
    composition : pandas.DataFrame
        Indexed by segment: ABC class shares, mean R/F/M scores and the three most common RFM
        codes (when those columns exist).
    names : pandas.Series
        Unique, deterministic name per segment from its true traits
        (:func:`segml.cluster.naming.name_segments`).
    roles : pandas.Series
        Role per segment from the playbook (to reach / precious / to retain / to win back /
        to develop / ... with the default playbook).
    role_reasons : pandas.Series
        The rule that produced each role, with the segment's values.
    role_rules : list of str
        The rules, in the order they are tried.
    actions : pandas.Series
        Suggested action per segment (the playbook rule's, or its default).
    evidence : pandas.Series
        The numbers that made the rule's conditions hold ("no playbook rule matched ..." when
        none did).
    states : pandas.DataFrame
        Indexed by segment: ``value_tier``, ``recency_state``, ``frequency_state``,
        ``trend_state``, ``tenure_state``, ``payment_state``, ``is_top_revenue``.
    naming_notes : list of str
        Segments named with their number as a last resort (no true trait told them apart).
    """

    table: pd.DataFrame
    lift: pd.DataFrame
    top_categories: pd.DataFrame
    composition: pd.DataFrame
    names: pd.Series
    roles: pd.Series
    role_reasons: pd.Series
    role_rules: list[str]
    actions: pd.Series = field(default_factory=lambda: pd.Series(dtype=object, name="action"))
    evidence: pd.Series = field(default_factory=lambda: pd.Series(dtype=object,
                                                                  name="evidence"))
    states: pd.DataFrame = field(default_factory=pd.DataFrame)
    naming_notes: list[str] = field(default_factory=list)

    @property
    def z(self) -> pd.DataFrame:
        """Wide z-scores: segments × numeric features."""
        return self.lift.pivot(index="segment", columns="feature", values="z")

    def to_dict(self) -> dict[str, Any]:
        """Return aggregates only, as JSON-serialisable Python types."""
        return {
            "table": _records(self.table.reset_index()),
            "lift": _records(self.lift),
            "top_categories": _records(self.top_categories),
            "composition": _records(self.composition.reset_index()),
            "names": {int(k): str(v) for k, v in self.names.items()},
            "roles": {int(k): str(v) for k, v in self.roles.items()},
            "role_reasons": {int(k): str(v) for k, v in self.role_reasons.items()},
            "role_rules": list(self.role_rules),
            "actions": {int(k): str(v) for k, v in self.actions.items()},
            "evidence": {int(k): str(v) for k, v in self.evidence.items()},
            "states": _records(self.states.rename_axis("segment").reset_index())
            if not self.states.empty else [],
            "naming_notes": list(self.naming_notes),
        }


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.astype(object).where(df.notna(), None).to_dict("records")
    return [{str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in out]


def format_rule(role: str, conditions: Sequence[tuple[str, str, float]]) -> str:
    """Render a role rule as text, e.g. ``"precious: value_index >= 1.5 and ..."``.

    Parameters
    ----------
    role : str
        The role the rule gives.
    conditions : sequence of (signal, operator, threshold)
        All must hold; empty means "otherwise".

    Returns
    -------
    str
        Human-readable rule.

    Examples
    --------
    >>> format_rule("to reach", [("prospect_share", ">=", 0.5)])
    'to reach: prospect_share >= 0.5'
    """
    if not conditions:
        return f"{role}: otherwise"
    return f"{role}: " + " and ".join(f"{s} {op} {t:g}" for s, op, t in conditions)


def _is_categorical(s: pd.Series) -> bool:
    return (
        pd.api.types.is_bool_dtype(s)
        or isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(s)
        or s.dtype == object
    )


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


def profile_segments(
    frame: pd.DataFrame,
    labels: Any,
    *,
    revenue_col: str = "monetary",
    categorical: Sequence[str] | None = None,
    min_lift: float = 1.2,
    min_category_share: float = 0.1,
    role_rules: Any = None,
    playbook: Playbook | str | Path | None = None,
    naming: NamingThresholds | None = None,
) -> ProfileResult:
    """Profile segments on the raw feature frame, name them, give each a role and an action.

    Parameters
    ----------
    frame : pandas.DataFrame
        Raw features (``build_features(...).frame``), one row per customer. Not modified.
    labels : array-like or pandas.Series
        Segment of each row (a Series is aligned on ``frame.index``).
    revenue_col : str, default="monetary"
        Revenue column for sizes of revenue; absent means no revenue metrics.
    categorical : sequence of str or None, default=None
        Columns profiled as categories; ``None`` takes every string / categorical / boolean
        column with at most 50 levels (except ``rfm_code``, ``abc_class`` and ``is_prospect``,
        which have their own composition / share).
    min_lift : float, default=1.2
        A category is over-represented when its share in the segment is at least this multiple
        of its share in the base.
    min_category_share : float, default=0.1
        ... and it covers at least this share of the segment.
    role_rules : sequence of (role, [(signal, op, threshold), ...]) or None
        The older form of rules (signals ``share``, ``value_index``, ``prospect_share``,
        ``<feature>_z``), tried in order, first match wins, no actions; when given it replaces
        the playbook.
    playbook : Playbook, str, pathlib.Path or None, default=None
        Roles and actions (:func:`segml.playbook.load_playbook`); ``None`` uses the one
        shipped with segml, a path reads that TOML.
    naming : NamingThresholds or None, default=None
        Thresholds a trait must pass to be in a name; ``None`` uses the defaults.

    Returns
    -------
    ProfileResult
        Tables, names, roles, actions and their evidence.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = pd.DataFrame({"recency_days": np.r_[rng.uniform(0, 30, 50), rng.uniform(300, 400, 50)],
    ...                   "monetary": np.r_[rng.uniform(800, 900, 50), rng.uniform(50, 70, 50)]})
    >>> p = profile_segments(f, [0] * 50 + [1] * 50)
    >>> p.names.tolist(), p.roles.tolist()
    (['high-value active buyers', 'low-value lapsed buyers'], ['precious', 'to win back'])
    """
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"frame should be a pandas DataFrame; got {type(frame).__name__}.")
    if isinstance(labels, pd.Series):
        if not labels.index.equals(frame.index):
            labels = labels.reindex(frame.index)
        lab = labels.to_numpy()
    else:
        lab = np.asarray(labels)
    if lab.shape != (frame.shape[0],):
        raise ConfigError(
            f"labels should have one entry per row of frame ({frame.shape[0]}); "
            f"got shape {lab.shape}."
        )
    if pd.isna(lab).any():
        raise ConfigError("labels contain missing values; every customer needs a segment.")
    if min_lift <= 0:
        raise ConfigError(f"min_lift={min_lift} should be > 0.")
    if role_rules is not None:
        book = playbook_from_role_rules(role_rules)
    elif isinstance(playbook, Playbook):
        book = playbook
    elif playbook is None or isinstance(playbook, (str, Path)):
        book = load_playbook(playbook)
    else:
        raise ConfigError(f"playbook should be a Playbook, a path or None; got "
                          f"{type(playbook).__name__}. Fix: pass playbook=load_playbook(path) "
                          "or playbook=\"my_playbook.toml\" ([profiles] playbook).")
    if categorical is None:
        cat_cols = [
            c for c in frame.columns
            if c not in _NOT_CATEGORICAL and _is_categorical(frame[c])
            and frame[c].nunique(dropna=True) <= _MAX_LEVELS
        ]
    else:
        missing = [c for c in categorical if c not in frame.columns]
        if missing:
            raise ConfigError(
                f"categorical columns {missing} are not in the frame; available: "
                f"{list(frame.columns)}."
            )
        cat_cols = list(categorical)
    num_cols = [c for c in _numeric_columns(frame) if c not in cat_cols]
    segments = np.unique(lab)
    idx = pd.Index(segments, name="segment")
    seg = pd.Series(lab, index=frame.index)
    n = frame.shape[0]

    table = pd.DataFrame(index=idx)
    table["n"] = seg.value_counts().reindex(idx).astype(int)
    table["share"] = table["n"] / n
    if revenue_col in frame.columns:
        rev = pd.to_numeric(frame[revenue_col], errors="coerce").fillna(0.0)
        by = rev.groupby(lab).sum().reindex(idx)
        total = float(rev.sum())
        table["revenue"] = by
        table["revenue_share"] = by / total if total != 0 else np.nan
        table["value_index"] = table["revenue_share"] / table["share"]
    if "is_prospect" in frame.columns:
        prospect = frame["is_prospect"].astype("boolean").fillna(False).astype(float)
        table["prospect_share"] = prospect.groupby(lab).mean().reindex(idx)
    if "frequency" in frame.columns:  # one-off buyers (the naming's "one-off")
        once = pd.to_numeric(frame["frequency"], errors="coerce") == 1
        table["one_off_share"] = once.astype(float).groupby(lab).mean().reindex(idx)
    composition = pd.DataFrame(index=idx)
    if "abc_class" in frame.columns:
        abc = frame["abc_class"].astype("string").fillna("none")
        ct = pd.crosstab(seg, abc, normalize="index").reindex(idx).fillna(0.0)
        for cls in sorted(ct.columns, key=str):
            table[f"abc_{cls}_share"] = ct[cls]
            composition[f"abc_{cls}_share"] = ct[cls]
    for sc in ("r_score", "f_score", "m_score"):
        if sc in frame.columns:
            composition[f"{sc}_mean"] = (
                pd.to_numeric(frame[sc], errors="coerce").groupby(lab).mean().reindex(idx)
            )
    if "rfm_code" in frame.columns:
        codes = frame["rfm_code"].astype("string")
        composition["top_rfm_codes"] = [
            ", ".join(
                f"{code} ({cnt / max(len(g), 1):.0%})"
                for code, cnt in g.value_counts().sort_index().sort_values(
                    ascending=False, kind="stable"
                ).head(3).items()
            )
            for _, g in codes.groupby(lab)
        ]

    lift_cols = ["segment", "feature", "segment_mean", "base_mean", "ratio", "z",
                 "segment_median", "segment_std", "n", "p_value", "base_median", "base_q75"]
    lift = pd.DataFrame(columns=lift_cols)
    if num_cols:
        num = frame[num_cols].apply(pd.to_numeric, errors="coerce").astype(float)
        means = num.groupby(lab).mean().reindex(idx)
        medians = num.groupby(lab).median().reindex(idx)
        cols = {}
        for c in num_cols:
            cols[f"{c}_mean"] = means[c]
            cols[f"{c}_median"] = medians[c]
        table = pd.concat([table, pd.DataFrame(cols, index=idx)], axis=1)
        lift = _numeric_lift(num, lab, idx, means, medians)[lift_cols]
    cat_rows = []
    # segment x level counts from one factorize + bincount per column (issue 19: a Series
    # comparison per segment and level was O(n * segments * levels)); shares are the same
    # integer ratios as the boolean means they replace
    seg_codes = np.searchsorted(segments, lab)
    seg_sizes = np.bincount(seg_codes, minlength=len(segments))
    for c in cat_cols:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            values = col.astype("boolean")
            levels = [True]
        else:
            values = col.astype("string")
            levels = sorted(values.dropna().unique().tolist(), key=str)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        pos = {u: i for i, u in enumerate(uniques.tolist())}
        m = max(len(pos), 1)
        ok = codes >= 0
        counts = np.bincount(seg_codes[ok] * m + codes[ok],
                             minlength=len(segments) * m).reshape(len(segments), m)
        level_n = {lv: (counts[:, pos[lv]] if lv in pos else np.zeros(len(segments), int))
                   for lv in levels}
        base_share = {lv: float(level_n[lv].sum() / n) for lv in levels}
        for si, s in enumerate(segments):
            for lv in levels:
                ss = float(level_n[lv][si] / seg_sizes[si])
                bs = base_share[lv]
                lf = ss / bs if bs > 0 else np.nan
                if bs > 0 and lf >= min_lift and ss >= min_category_share:
                    cat_rows.append(
                        {"segment": s, "column": c, "category": str(lv), "segment_share": ss,
                         "base_share": bs, "lift": lf}
                    )
    top = pd.DataFrame(
        cat_rows,
        columns=["segment", "column", "category", "segment_share", "base_share", "lift"],
    )
    if not top.empty:
        top = top.sort_values(
            ["segment", "lift", "column", "category"], ascending=[True, False, True, True],
            kind="stable",
        ).reset_index(drop=True)

    named = name_segments(table, lift, top, revenue_col=revenue_col, thresholds=naming)
    statistics = _statistics(table, lift, named.states)
    played = apply_playbook(book, statistics, named.evidence)
    return ProfileResult(
        table=table,
        lift=lift,
        top_categories=top,
        composition=composition,
        names=named.names,
        roles=played.roles,
        role_reasons=played.reasons,
        role_rules=[r.text() for r in book.rules],
        actions=played.actions,
        evidence=played.evidence,
        states=named.states,
        naming_notes=named.notes,
    )


def _numeric_lift(num: pd.DataFrame, lab: np.ndarray, idx: pd.Index, means: pd.DataFrame,
                  medians: pd.DataFrame) -> pd.DataFrame:
    """Tidy segment-vs-base numbers with Welch's t-test of each segment against the rest.

    The rest's mean and variance come from the totals minus the segment's (on values centred
    at the base mean, so the sums of squares do not lose precision).
    """
    base_mean = num.mean()
    base_std = num.std(ddof=0)
    centred = num - base_mean
    grouped = centred.groupby(lab)
    n_in = grouped.count().reindex(idx)
    s_in = grouped.sum().reindex(idx)
    q_in = (centred**2).groupby(lab).sum().reindex(idx)
    sd_in = grouped.std(ddof=1).reindex(idx)
    n_out = centred.count() - n_in
    s_out = centred.sum() - s_in
    q_out = (centred**2).sum() - q_in
    with np.errstate(invalid="ignore", divide="ignore"):
        m_out = s_out / n_out + base_mean
        var_out = ((q_out - s_out**2 / n_out) / (n_out - 1)).clip(lower=0)
    p = pd.DataFrame(_welch_p(means.to_numpy(), sd_in.to_numpy(), n_in.to_numpy(),
                              m_out.to_numpy(), np.sqrt(var_out.to_numpy()),
                              n_out.to_numpy()), index=idx, columns=num.columns)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (means / base_mean.where(base_mean != 0)).astype(float)
        z = (means - base_mean) / base_std.where(base_std > 0)
    flat = [c for c in num.columns if not base_std[c] > 0]
    z[flat] = 0.0  # a constant (or all-missing) feature: no difference

    def tidy(wide: pd.DataFrame, name: str) -> pd.Series:
        return wide.T.stack(future_stack=True).rename(name)  # feature-major, as before

    out = pd.concat([tidy(means, "segment_mean"), tidy(ratio, "ratio"), tidy(z, "z"),
                     tidy(medians, "segment_median"), tidy(sd_in, "segment_std"),
                     tidy(n_in, "n"), tidy(p, "p_value")], axis=1)
    out.index = out.index.set_names(["feature", "segment"])
    out = out.reset_index()
    for col, base in (("base_mean", base_mean), ("base_median", num.median()),
                      ("base_q75", num.quantile(0.75))):
        out[col] = out["feature"].map(base)
    out["n"] = out["n"].astype(int)
    return out


def _welch_p(m1: np.ndarray, s1: np.ndarray, n1: np.ndarray, m2: np.ndarray, s2: np.ndarray,
             n2: np.ndarray) -> np.ndarray:
    """Two-sided Welch p-values from summary numbers; NaN where they cannot be computed."""
    m1, s1, n1, m2, s2, n2 = (np.asarray(a, dtype=float) for a in (m1, s1, n1, m2, s2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=False).pvalue
    p = np.asarray(p, dtype=float)
    both_exact = (s1 == 0) & (s2 == 0)
    p = np.where(both_exact, np.where(m1 != m2, 0.0, 1.0), p)
    bad = (n1 < 2) | (n2 < 2) | ~np.isfinite(m1) | ~np.isfinite(m2) | ~np.isfinite(s1) \
        | ~np.isfinite(s2)
    return np.where(bad, np.nan, p)


def _statistics(table: pd.DataFrame, lift: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """Every statistic a playbook rule can read, one row per segment."""
    out = states.copy()
    for c in ("share", "revenue_share", "value_index", "prospect_share", "n"):
        if c in table.columns:
            out[c] = table[c].astype(float)
    if not lift.empty:
        for kind, col in (("z", "z"), ("mean", "segment_mean"), ("median", "segment_median")):
            wide = lift.pivot(index="segment", columns="feature", values=col).reindex(out.index)
            wide.columns = [f"{f}_{kind}" for f in wide.columns]
            out = pd.concat([out, wide.astype(float)], axis=1)
    return out

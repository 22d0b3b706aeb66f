"""Segment profiles, deterministic descriptive names and portfolio roles.

Profiles read the RAW feature frame (interpretable units, canonical names of
``docs/CONTRACTS.md``) and cope with any column being absent.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError

__all__ = ["ProfileResult", "profile_segments", "DEFAULT_ROLE_RULES", "format_rule"]

#: Ordered role rules: the first whose conditions all hold gives the role; an empty condition
#: list is the catch-all. Signals: ``<feature>_z`` (segment mean vs base, in base standard
#: deviations), ``prospect_share``, ``value_index`` (revenue share / customer share), ``share``.
DEFAULT_ROLE_RULES: tuple[tuple[str, tuple[tuple[str, str, float], ...]], ...] = (
    ("to reach", (("prospect_share", ">=", 0.5),)),
    ("to win back", (("recency_days_z", ">=", 0.5),)),
    ("precious", (("value_index", ">=", 1.5), ("recency_days_z", "<=", 0.0))),
    ("to retain", ()),
)

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_NOT_CATEGORICAL = {"rfm_code", "abc_class", "customer_id", "is_prospect"}
_GEO = ("region", "macro_area", "province", "country", "city")
_AGE = ("age_band",)
_DESCRIPTORS = (  # (column, low word, high word)
    ("recency_days", "recent", "lapsed"),  # low recency = recent
    ("monetary", "low-value", "high-value"),
    ("frequency", "occasional", "frequent"),
    ("n_channels", "single-channel", "multi-channel"),
)
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
        Unique, deterministic short descriptive name per segment.
    roles : pandas.Series
        Portfolio role per segment (precious / to retain / to win back / to reach by default).
    role_reasons : pandas.Series
        The rule that produced each role, with the segment's values.
    role_rules : list of str
        The rules, in the order they are tried.
    """

    table: pd.DataFrame
    lift: pd.DataFrame
    top_categories: pd.DataFrame
    composition: pd.DataFrame
    names: pd.Series
    roles: pd.Series
    role_reasons: pd.Series
    role_rules: list[str]

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


def _check_rules(rules: Any) -> list[tuple[str, tuple[tuple[str, str, float], ...]]]:
    checked = []
    for item in rules:
        try:
            role, conds = item
            conds = tuple((str(s), str(op), float(t)) for s, op, t in conds)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"role rule {item!r} should be (role, [(signal, operator, threshold), ...])."
            ) from exc
        for _, op, _ in conds:
            if op not in _OPS:
                raise ConfigError(f"role rule operator {op!r} is not one of {tuple(_OPS)}.")
        checked.append((str(role), conds))
    if not checked:
        raise ConfigError("role_rules is empty; give at least a catch-all (role, []).")
    return checked


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
) -> ProfileResult:
    """Profile segments on the raw feature frame, then name them and give each a role.

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
        Tried in order, first match wins; ``None`` uses :data:`DEFAULT_ROLE_RULES`.

    Returns
    -------
    ProfileResult
        Tables, names, roles and the rules' text.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"recency_days": [5.0, 10, 300, 280], "monetary": [900.0, 800, 50, 70]})
    >>> p = profile_segments(f, [0, 0, 1, 1])
    >>> p.names.tolist(), p.roles.tolist()
    (['recent high-value buyers', 'lapsed low-value buyers'], ['precious', 'to win back'])
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
    rules = _check_rules(DEFAULT_ROLE_RULES if role_rules is None else role_rules)
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

    lift_rows = []
    if num_cols:
        num = frame[num_cols].apply(pd.to_numeric, errors="coerce").astype(float)
        means = num.groupby(lab).mean().reindex(idx)
        medians = num.groupby(lab).median().reindex(idx)
        base_mean = num.mean()
        base_std = num.std(ddof=0)
        stats = {}
        for c in num_cols:
            stats[f"{c}_mean"] = means[c]
            stats[f"{c}_median"] = medians[c]
        table = pd.concat([table, pd.DataFrame(stats, index=idx)], axis=1)
        for c in num_cols:
            for s in segments:
                m = means.at[s, c]
                bm = base_mean[c]
                sd = base_std[c]
                lift_rows.append(
                    {
                        "segment": s,
                        "feature": c,
                        "segment_mean": m,
                        "base_mean": bm,
                        "ratio": m / bm if bm not in (0.0,) and pd.notna(bm) else np.nan,
                        "z": (m - bm) / sd if sd > 0 else 0.0,
                    }
                )
    lift = pd.DataFrame(
        lift_rows, columns=["segment", "feature", "segment_mean", "base_mean", "ratio", "z"]
    )

    cat_rows = []
    for c in cat_cols:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            values = col.astype("boolean")
            levels = [True]
        else:
            values = col.astype("string")
            levels = sorted(values.dropna().unique().tolist(), key=str)
        base_share = {lv: float((values == lv).fillna(False).mean()) for lv in levels}
        for s in segments:
            in_s = values[lab == s]
            for lv in levels:
                ss = float((in_s == lv).fillna(False).mean())
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

    zwide = (
        lift.pivot(index="segment", columns="feature", values="z").reindex(idx)
        if not lift.empty
        else pd.DataFrame(index=idx)
    )
    names = _names(table, zwide, top, segments)
    roles, reasons = _roles(table, zwide, rules, segments)
    return ProfileResult(
        table=table,
        lift=lift,
        top_categories=top,
        composition=composition,
        names=pd.Series(names, index=idx, name="name"),
        roles=pd.Series(roles, index=idx, name="role"),
        role_reasons=pd.Series(reasons, index=idx, name="role_rule"),
        role_rules=[format_rule(r, c) for r, c in rules],
    )


def _top_category(top: pd.DataFrame, s: Any, columns: Sequence[str]) -> str | None:
    if top.empty:
        return None
    for c in columns:
        rows = top[(top["segment"] == s) & (top["column"] == c) & (top["segment_share"] >= 0.25)]
        if not rows.empty:
            return str(rows.iloc[0]["category"])
    return None


def _names(
    table: pd.DataFrame, z: pd.DataFrame, top: pd.DataFrame, segments: np.ndarray
) -> list[str]:
    names = []
    used_features: dict[Any, set[str]] = {}
    for s in segments:
        words = []
        used = set()
        for col, low, high in _DESCRIPTORS:
            if col in z.columns and pd.notna(z.at[s, col]):
                v = z.at[s, col]
                if v <= -0.5:
                    words.append(low)
                    used.add(col)
                elif v >= 0.5:
                    words.append(high)
                    used.add(col)
        is_prospects = "prospect_share" in table and table.at[s, "prospect_share"] >= 0.5
        has_rfm = any(c in z.columns for c, _, _ in _DESCRIPTORS[:3])
        noun = "prospects" if is_prospects else ("buyers" if has_rfm else "customers")
        if is_prospects:
            words = [w for w in words if w not in ("recent", "lapsed", "occasional", "low-value")]
        if not words and not has_rfm:
            generic = _strongest(z, s, used)
            if generic is not None:
                words.append(generic[1])
                used.add(generic[0])
        if words or noun == "prospects":
            name = " ".join([*words, noun])
        else:
            name = f"average {noun}"
        extras = [
            x
            for x in (_top_category(top, s, _GEO), _top_category(top, s, _AGE))
            if x is not None
        ]
        if extras:
            name = ", ".join([name, *extras])
        names.append(name)
        used_features[s] = used
    # make unique, deterministically: add the strongest unused feature, then the segment number
    counts = pd.Series(names).value_counts()
    dup = set(counts[counts > 1].index)
    for i, s in enumerate(segments):
        if names[i] in dup:
            extra = _strongest(z, s, used_features[s], min_abs=0.0)
            if extra is not None:
                names[i] = f"{names[i]} ({extra[1]})"
    counts = pd.Series(names).value_counts()
    return [
        f"{nm} #{s}" if counts[nm] > 1 else nm for nm, s in zip(names, segments, strict=True)
    ]


def _strongest(
    z: pd.DataFrame, s: Any, used: set[str], *, min_abs: float = 0.25
) -> tuple[str, str] | None:
    if z.empty:
        return None
    row = z.loc[s].drop(labels=[c for c in used if c in z.columns]).dropna()
    row = row[(row.abs() >= min_abs) & (row != 0)]
    if row.empty:
        return None
    order = row.abs().sort_index().sort_values(ascending=False, kind="stable")
    feat = str(order.index[0])
    strong = abs(row[feat]) >= 0.5
    word = ("high" if strong else "higher") if row[feat] > 0 else ("low" if strong else "lower")
    return feat, f"{word} {feat}"


def _roles(
    table: pd.DataFrame,
    z: pd.DataFrame,
    rules: list[tuple[str, tuple[tuple[str, str, float], ...]]],
    segments: np.ndarray,
) -> tuple[list[str], list[str]]:
    roles, reasons = [], []
    for s in segments:
        signals: dict[str, float] = {"share": float(table.at[s, "share"])}
        for c in ("value_index", "prospect_share"):
            if c in table.columns and pd.notna(table.at[s, c]):
                signals[c] = float(table.at[s, c])
        for c in z.columns:
            if pd.notna(z.at[s, c]):
                signals[f"{c}_z"] = float(z.at[s, c])
        for role, conds in rules:
            if all(sig in signals and _OPS[op](signals[sig], t) for sig, op, t in conds):
                vals = ", ".join(f"{sig}={signals[sig]:.2f}" for sig, _, _ in conds)
                reasons.append(format_rule(role, conds) + (f" ({vals})" if vals else ""))
                roles.append(role)
                break
        else:
            roles.append("unassigned")
            reasons.append("no rule matched")
    return roles, reasons

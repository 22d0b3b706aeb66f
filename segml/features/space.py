"""The feature space: which columns enter the distance, how each is scaled, and why.

:func:`make_preprocessor` turns a :class:`~segml.features.spec.FeatureSpec` into an unfitted
scikit-learn ``ColumnTransformer`` (pandas output) whose ``fit_transform`` on the frame is the
model matrix. :func:`describe_space` returns the same decisions as a table (one row per spec
column: family, transform, weight, role) for the run summary and the report.

Per column transform:

============== ===========================================================================
``log``         to float, median imputation, signed log1p
                (:class:`~segml.features.encoders.LogMoney`), standard scaling
``yeo-johnson`` to float, median imputation, ``PowerTransformer`` (standardised)
``robust``      to float, median imputation, ``RobustScaler``
``standard``    to float, median imputation, ``StandardScaler``
``winsor``      to float, median imputation, 1 %/99 % clipping, ``StandardScaler``
``onehot``      :class:`~segml.features.encoders.RareOneHot` (missing is a level, levels
                seen in fewer than 1 % of rows grouped into ``<column>_other``; levels of
                fewer than ``spec.min_level_customers`` customers are not even stored)
``ordinal``     ordered labels to codes (:class:`~segml.features.encoders.OrdinalScale`;
                numeric columns used as they are), median imputation, standard
``frequency``   :class:`~segml.features.encoders.FrequencyEncoder` (levels of fewer than
                ``spec.min_level_customers`` customers count as unseen), standard scaling
``passthrough`` to float (booleans 0/1), median imputation
============== ===========================================================================

**Flags are not standardised.** Standardising a 0/1 column held by a share ``p`` of the rows
puts the flagged rows ``~1/sqrt(p)`` SD from the mean (a 1 % flag sits 9.9 SD away), so a
handful of flagged customers becomes a segment of its own. Two kinds of columns are
therefore kept on a fixed 0-to-:data:`FLAG_SWING` scale instead:

- *binary columns*: numeric (or boolean) spec columns whose non-missing values in the frame
  are all 0 or 1, whatever their transform (``MinMaxScaler(feature_range=(0, FLAG_SWING))``
  after most-frequent imputation);
- *missing-value indicators* ``missingindicator_<column>``, one for each numeric spec column
  with missing values in the frame (:class:`~segml.features.encoders.MissingFlags`).

Each family's block is then scaled by :class:`~segml.features.encoders.FamilyWeight` with the
flags left out of its variance budget, so a flag's full swing is ``FLAG_SWING`` times the
scale that gives a unit-variance column of the same family one unit of standard deviation:
with ``FLAG_SWING = 1`` a flag moves a customer by at most one SD of a standardised column
of its family, never 1/sqrt(p) SD. The flag columns come after the family's other columns.

**Weight 0 = describe only.** A family with weight 0 is left out of the model matrix (its
columns stay in the feature frame, so profiles still describe segments with them).

**Redundant value columns.** Among the ``value`` and ``forward`` columns that enter the
distance, a column whose Spearman correlation with a column kept before it (in the order of
:data:`VALUE_PREFERENCE`, then spec order) is at least :data:`REDUNDANT_SPEARMAN` in absolute
value is left out of the distance (:func:`redundant_columns`): CDNOW's ``monetary``, ``clv``
(Spearman 0.999) and ``growth_potential`` (-0.94) are one quantity, which would otherwise be
counted three times. The decision is made on the frame given to :func:`make_preprocessor`
(the frame that is fitted), and :func:`describe_space` lists what was dropped and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, PowerTransformer, RobustScaler, StandardScaler

from segml.errors import ConfigError, SchemaError
from segml.features.encoders import (
    CANONICAL_LEVELS,
    FamilyWeight,
    FrequencyEncoder,
    LogMoney,
    MissingFlags,
    OrdinalScale,
    RareOneHot,
    ToFloat,
    Winsorizer,
)
from segml.features.privacy import check_identifiers
from segml.features.spec import FeatureSpec

__all__ = [
    "FLAG_SWING", "REDUNDANT_SPEARMAN", "VALUE_PREFERENCE", "Redundant", "binary_columns",
    "describe_space", "make_preprocessor", "redundant_columns",
]

#: Full swing of a flag (0/1 column or missing indicator) in units of one standard deviation
#: of a standardised column of the same family. Two random customers differ on a standardised
#: column by 2 SD^2 in expectation; a flag adds at most ``FLAG_SWING**2 = 1`` SD^2, and only
#: for the pairs it separates, so a rare flag can no longer pull its rows into a segment of
#: their own (standardised, a 1 % flag was 9.9 SD away from the rest).
FLAG_SWING = 1.0

#: ``|Spearman|`` at or above which two value columns count as one quantity. 0.9 rather than
#: 0.95 so that CDNOW's growth_potential (-0.94 with monetary, issue 15) is caught as well as
#: clv (0.999); frequency vs monetary (0.794 on CDNOW buyers as of 1998-06-30) stays below it.
REDUNDANT_SPEARMAN = 0.9

#: Families whose columns are checked for redundancy (value columns entering the distance).
_REDUNDANCY_FAMILIES = ("value", "forward")

#: Which column of a redundant group is kept: the first one here (the most interpretable),
#: then spec order for columns not listed.
VALUE_PREFERENCE: tuple[str, ...] = (
    "monetary", "frequency", "recency_days", "avg_order_value", "net_margin",
    "spending_score", "clv", "growth_potential", "p_alive", "expected_purchases",
    "expected_spend", "forward_clv", "forward_growth_potential",
)

#: Fewer complete pairs than this cannot tell one quantity from two: no column is dropped.
_MIN_PAIRS = 20


@dataclass(frozen=True)
class Redundant:
    """A value column left out of the distance because another one carries it.

    Attributes
    ----------
    column : str
        The column left out.
    kept : str
        The column kept in its place.
    spearman : float
        Their Spearman correlation on the fitted frame.
    """

    column: str
    kept: str
    spearman: float

    def reason(self) -> str:
        """Return the reason in words."""
        return (f"redundant with {self.kept} (Spearman {self.spearman:+.3f}, "
                f"|rho| >= {REDUNDANT_SPEARMAN})")


def _is_text(s: pd.Series) -> bool:
    return s.dtype.kind in "OTU" or isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype)


def binary_columns(frame: pd.DataFrame, columns: dict[str, str]) -> list[str]:
    """Spec columns kept on the 0-to-:data:`FLAG_SWING` flag scale instead of standardised.

    A column is a flag when it is numeric or boolean, its transform is not ``onehot`` or
    ``frequency``, and its non-missing values in ``frame`` are all 0 or 1.

    Parameters
    ----------
    frame : DataFrame
        The feature frame.
    columns : dict of str to str
        Column -> transform.

    Returns
    -------
    list of str
        In ``columns`` order.

    Examples
    --------
    >>> f = pd.DataFrame({"complain": [0, 1, 0], "spend": [0.0, 1.0, 2.0]})
    >>> binary_columns(f, {"complain": "log", "spend": "log"})
    ['complain']
    """
    out = []
    for col, tr in columns.items():
        if tr in ("onehot", "frequency") or col not in frame.columns or _is_text(frame[col]):
            continue
        try:
            vals = pd.to_numeric(frame[col].dropna(), errors="raise").astype("float64")
        except (TypeError, ValueError):
            continue
        v = vals.to_numpy(dtype="float64")
        if ((v == 0.0) | (v == 1.0)).all():  # numpy compare: no hash table per column
            out.append(col)
    return out


def redundant_columns(spec: FeatureSpec, frame: pd.DataFrame,
                      threshold: float = REDUNDANT_SPEARMAN) -> list[Redundant]:
    """Value columns that carry the same quantity as a column kept before them.

    Columns of the ``value`` and ``forward`` families with a non-zero weight are ranked by
    :data:`VALUE_PREFERENCE` (then spec order); each is kept unless its Spearman
    correlation (pairwise complete rows of ``frame``) with a column already kept is at
    least ``threshold`` in absolute value. Pairs with fewer than 20 complete rows are never
    judged redundant (too few to estimate a correlation). Deterministic.

    Parameters
    ----------
    spec : FeatureSpec
        The spec.
    frame : DataFrame
        The frame the model is fitted on.
    threshold : float, default REDUNDANT_SPEARMAN
        Absolute Spearman correlation at or above which a column is redundant.

    Returns
    -------
    list of Redundant
        In preference order; empty when nothing is redundant.

    Examples
    --------
    >>> m = np.arange(30.0)
    >>> f = pd.DataFrame({"monetary": m, "clv": m ** 2, "frequency": m % 7})
    >>> spec = FeatureSpec.default(f.columns)
    >>> [(r.column, r.kept, r.spearman) for r in redundant_columns(spec, f)]
    [('clv', 'monetary', 1.0)]
    """
    cand = [c for f in _REDUNDANCY_FAMILIES if f in spec.families
            and spec.families[f].weight > 0 for c in spec.families[f].columns
            if c in frame.columns and not _is_text(frame[c])]
    rank = {c: i for i, c in enumerate(VALUE_PREFERENCE)}
    spec_pos = {c: i for i, c in enumerate(cand)}
    cand.sort(key=lambda c: (rank.get(c, len(rank)), spec_pos[c]))
    if len(cand) < 2:
        return []
    num = frame[cand].apply(pd.to_numeric, errors="coerce").astype("float64")
    rho = num.corr(method="spearman", min_periods=_MIN_PAIRS)
    kept: list[str] = []
    out: list[Redundant] = []
    for col in cand:
        hit = next((k for k in kept if np.isfinite(rho.loc[col, k])
                    and abs(rho.loc[col, k]) >= threshold), None)
        if hit is None:
            kept.append(col)
        else:
            out.append(Redundant(col, hit, round(float(rho.loc[col, hit]), 4)))
    return out


def _imputer(strategy: str = "median") -> SimpleImputer:
    # keep_empty_features: an all-missing column (e.g. interpurchase_cv when nobody has three
    # orders) stays in the matrix as a constant, so column names do not depend on the data.
    return SimpleImputer(strategy=strategy, keep_empty_features=True)


def _numeric_steps(transform: str) -> list[tuple[str, Any]]:
    impute = ("impute", _imputer())
    if transform == "log":
        return [("float", ToFloat()), impute, ("log", LogMoney()), ("scale", StandardScaler())]
    if transform == "yeo-johnson":
        return [("float", ToFloat()), impute, ("power", PowerTransformer(method="yeo-johnson"))]
    if transform == "robust":
        return [("float", ToFloat()), impute, ("scale", RobustScaler())]
    if transform == "standard":
        return [("float", ToFloat()), impute, ("scale", StandardScaler())]
    if transform == "winsor":
        return [("float", ToFloat()), impute, ("clip", Winsorizer()), ("scale", StandardScaler())]
    if transform == "passthrough":
        return [("float", ToFloat()), impute]
    raise ConfigError(f"transform {transform!r} is not numeric.")  # pragma: no cover


def _group_pipeline(kind: str, columns: list[str], spec: FeatureSpec) -> Any:
    """One pipeline for all columns of a family sharing a transform kind."""
    if kind == "onehot":
        return RareOneHot(min_frequency=0.01, min_count=spec.min_level_customers)
    if kind == "frequency":
        return Pipeline([("freq", FrequencyEncoder(min_count=spec.min_level_customers)),
                         ("scale", StandardScaler())])
    if kind == "flag":
        return Pipeline([("float", ToFloat()), ("impute", _imputer("most_frequent")),
                         ("scale", MinMaxScaler(feature_range=(0.0, FLAG_SWING)))])
    if kind == "missing":
        return MissingFlags(scale=FLAG_SWING)
    if kind == "ordinal-text":
        levels: dict[str, Any] = {}
        for col in columns:
            lv = spec.levels.get(col, CANONICAL_LEVELS.get(col))
            if lv is None:
                raise ConfigError(
                    f"column {col!r} has transform 'ordinal' but its labels have no order; "
                    f"give them in the spec: [levels] {col} = [lowest, ..., highest]."
                )
            levels[col] = list(lv)
        return Pipeline([
            ("ordinal", OrdinalScale(levels=levels)),
            ("impute", _imputer()),
            ("scale", StandardScaler()),
        ])
    if kind == "ordinal":
        return Pipeline([("float", ToFloat()), ("impute", _imputer()), ("scale", StandardScaler())])
    return Pipeline(_numeric_steps(kind))


def _family_groups(columns: dict[str, str], frame: pd.DataFrame) -> dict[str, list[str]]:
    """Columns of one family by transform kind (first-appearance order), flags last."""
    groups: dict[str, list[str]] = {}
    flags = set(binary_columns(frame, columns))
    missing: list[str] = []
    for col, tr in columns.items():
        text = _is_text(frame[col])
        kind = tr
        if col in flags:
            kind = "flag"
        elif tr == "ordinal" and text:
            kind = "ordinal-text"
        elif text and tr not in ("onehot", "frequency", "ordinal"):
            raise ConfigError(
                f"column {col!r} holds text labels but has numeric transform {tr!r}; "
                "use 'onehot', 'ordinal' or 'frequency' for it."
            )
        if kind not in ("onehot", "frequency", "flag") and bool(frame[col].isna().any()):
            missing.append(col)
        if kind != "flag":
            groups.setdefault(kind, []).append(col)
    if flags:
        groups["flag"] = [c for c in columns if c in flags]
    if missing:
        groups["missing"] = missing
    return groups


def _check(spec: FeatureSpec, frame: pd.DataFrame) -> None:
    if not isinstance(spec, FeatureSpec):
        raise ConfigError(f"spec should be a FeatureSpec, got {type(spec).__name__}.")
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"frame should be a DataFrame, got {type(frame).__name__}.")
    absent = [c for c in spec.columns() if c not in frame.columns]
    if absent:
        raise ConfigError(
            f"feature spec column(s) {absent} are not in the frame; remove them from the spec "
            "or call spec.select(frame.columns)."
        )
    if not spec.families:
        raise ConfigError("feature spec has no family; the model matrix would be empty.")
    if not any(f.weight > 0 for f in spec.families.values()):
        raise ConfigError(
            f"every family of the feature spec has weight 0 (describe only: "
            f"{', '.join(spec.families)}), so nothing enters the distance. Fix: give at least "
            "one family a weight > 0 (config [features.weights] <family> = 1, or "
            "spec.with_weights(<family>=1))."
        )


def make_preprocessor(spec: FeatureSpec, frame: pd.DataFrame) -> ColumnTransformer:
    """Unfitted ``ColumnTransformer`` turning the feature frame into the model matrix.

    One block per family with a weight > 0 (``Pipeline`` of a per-column
    ``ColumnTransformer`` and a :class:`~segml.features.encoders.FamilyWeight`), in the spec's
    family order; per-column transforms, flags, describe-only families and redundant value
    columns are described in the module docstring. Output is pandas with plain column names
    (``monetary``, ``region_north``, ``missingindicator_income``, ...). Built only from
    scikit-learn and segml transformers (no lambdas), so it pickles with joblib.

    Parameters
    ----------
    spec : FeatureSpec
        Families, transforms and weights.
    frame : DataFrame
        The feature frame the preprocessor will be fitted on: it decides the flag columns,
        the missing indicators and the redundant value columns (nothing is fitted here).

    Returns
    -------
    sklearn.compose.ColumnTransformer

    Raises
    ------
    ConfigError
        When a spec column is not in the frame, every family has weight 0, a text column has
        a numeric transform, an ordinal text column has no known order, or a column looks
        like a personal identifier and is not in ``spec.allow_identifiers``
        (:mod:`segml.features.privacy`).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"monetary": [10.0, 100.0, None], "frequency": [1, 3, 2],
    ...                   "region": ["n", "s", "n"]})
    >>> spec = FeatureSpec.default(f.columns).with_weights(geographic=1)
    >>> make_preprocessor(spec, f).fit_transform(f).columns.tolist()  # levels of < 5 customers
    ['monetary', 'frequency', 'missingindicator_monetary', 'region_other']
    >>> few = FeatureSpec.from_dict({**spec.to_dict(), "min_level_customers": 1})
    >>> make_preprocessor(few, f).fit_transform(f).columns.tolist()
    ['monetary', 'frequency', 'missingindicator_monetary', 'region_n', 'region_s']
    """
    _check(spec, frame)
    check_identifiers(frame, spec.columns(), spec.allow_identifiers)
    dropped = {r.column for r in redundant_columns(spec, frame)}
    blocks = []
    for name, fam in spec.families.items():
        if fam.weight == 0:
            continue
        cols = {c: t for c, t in fam.columns.items() if c not in dropped}
        if not cols:
            continue
        groups = _family_groups(cols, frame)
        n_flags = len(groups.get("flag", [])) + len(groups.get("missing", []))
        inner = ColumnTransformer(
            [(kind, _group_pipeline(kind, gcols, spec), gcols) for kind, gcols in groups.items()],
            remainder="drop",
            verbose_feature_names_out=False,
        )
        block = Pipeline([("encode", inner),
                          ("weight", FamilyWeight(weight=fam.weight, n_flags=n_flags))])
        blocks.append((name, block, list(cols)))
    ct = ColumnTransformer(blocks, remainder="drop", verbose_feature_names_out=False)
    return ct.set_output(transform="pandas")


def describe_space(spec: FeatureSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per spec column: how it enters the distance (or why it does not).

    Parameters
    ----------
    spec : FeatureSpec
        The spec.
    frame : DataFrame
        The frame the model is fitted on.

    Returns
    -------
    DataFrame
        Columns ``column``, ``family``, ``transform``, ``weight``, ``role`` (``"distance"``,
        ``"flag"`` (0/1, not standardised), ``"describe only"`` (family weight 0) or
        ``"dropped"``) and ``note``.

    Examples
    --------
    >>> m = np.arange(30.0)
    >>> f = pd.DataFrame({"monetary": m, "clv": m ** 2, "age": 20 + m % 40})
    >>> describe_space(FeatureSpec.default(f.columns), f)[["column", "role"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'column': 'monetary', 'role': 'distance'}, {'column': 'clv', 'role': 'dropped'},
     {'column': 'age', 'role': 'describe only'}]
    """
    _check(spec, frame)
    red = {r.column: r for r in redundant_columns(spec, frame)}
    rows = []
    for name, fam in spec.families.items():
        flags = set(binary_columns(frame, fam.columns))
        for col, tr in fam.columns.items():
            note = ""
            if fam.weight == 0:
                role, note = "describe only", "family weight 0: in the profiles, not the distance"
            elif col in red:
                role, note = "dropped", red[col].reason()
            elif col in flags:
                role, note = "flag", f"0/1 kept on a 0..{FLAG_SWING:g} SD scale, not standardised"
            else:
                role = "distance"
                n_miss = int(frame[col].isna().sum())
                if n_miss and tr not in ("onehot", "frequency"):
                    note = f"{n_miss:,} missing: median-imputed, missingindicator_{col} is a flag"
            rows.append({"column": col, "family": name, "transform": tr,
                         "weight": float(fam.weight), "role": role, "note": note})
    return pd.DataFrame(rows, columns=["column", "family", "transform", "weight", "role", "note"])

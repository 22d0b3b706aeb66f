"""Customer attributes on Spark, as :func:`segml.features.build_features` derives them.

Per customer, so a join of the customers table and column expressions (no shuffle of
transactions): pass-through columns, ``age`` / ``age_band`` as of ``as_of`` (segml's
:class:`~segml.features.encoders.AgeEncoder` bands and plausible range), ordered labels
normalised and checked against their levels (unknown -> missing, counted), nominal vocabularies
of the spec (outside -> ``"unknown"``), and the relationship columns (``journey_stage_ord``,
``response_rate``, ``satisfaction_ord``, ``complaints``).

Label normalisation is segml's own :func:`~segml.features.encoders.normalize_level`, applied on
the driver to the *distinct* labels of the ordered columns (one Spark job collects them: memory
is the number of distinct labels, not of customers) and turned into ``CASE WHEN ... IN``
expressions, so Unicode case / whitespace rules are Python's, not the JVM's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (pyspark convention)
from pyspark.sql import types as T  # noqa: N812

from segml.errors import SchemaError
from segml.features import FeatureSpec
from segml.features.encoders import (
    CANONICAL_LEVELS,
    AgeEncoder,
    OrdinalScale,
    normalize_level,
)

__all__: list[str] = []

#: Columns build_features computes; a customers column with one of these names is dropped
#: (mirror of ``segml.features.build._COMPUTED``; a test keeps the two equal).
COMPUTED = (
    "r_score", "f_score", "m_score", "rfm_code", "abc_class", "clv", "net_margin", "age",
    "age_band", "journey_stage_ord", "response_rate", "satisfaction_ord", "growth_potential",
)
_RELATIONSHIP = ("journey_stage_ord", "response_rate", "satisfaction_ord", "complaints")
_ORD_SOURCES = (("journey_stage", "journey_stage_ord"), ("satisfaction", "satisfaction_ord"))


@dataclass
class SparkAttributes:
    """The attribute columns of a Spark feature frame and what was learned / counted."""

    frame: DataFrame
    """``customer_id`` plus the attribute columns, one row per customers-table row."""
    columns: list[str]
    age_encoder: AgeEncoder | None
    report: dict[str, Any] = field(default_factory=dict)


def number(col: Column, kind: T.DataType) -> Column:
    """``pd.to_numeric(errors="coerce")`` as float64: text that is not a number and NaN -> null."""
    if isinstance(kind, T.StringType):
        out = col.try_cast("double")
    else:
        out = col.cast("double")
    return F.when(~F.isnan(out), out)


def is_missing(col: Column, kind: T.DataType) -> Column:
    """Missing as pandas ``isna`` sees it: null, and NaN in floating columns."""
    if isinstance(kind, T.FloatType | T.DoubleType):
        return col.isNull() | F.isnan(col)
    return col.isNull()


def _case(col: Column, groups: dict[Any, list[str]]) -> Column:
    """``CASE WHEN col IN (raw labels of value v) THEN v ...`` (null when no group matches)."""
    out = F.lit(None)
    for value, raws in groups.items():
        if raws:
            out = F.when(col.isin(raws), F.lit(value)).otherwise(out)
    return out


def _check_ids(customers: DataFrame, stats: Any) -> None:
    n_null, n, n_ids = int(stats["_null_ids"]), int(stats["_n"]), int(stats["_n_ids"])
    if n_null:
        raise SchemaError(
            f"customers has {n_null} missing customer_id value(s). Fix: drop or fill them "
            "before spark_feature_frame (segml.schema.validate_customers does on one machine)."
        )
    if n_ids != n:
        dup = (customers.groupBy(F.col("customer_id").cast("string").alias("id")).count()
               .where(F.col("count") > 1).limit(5).collect())
        raise SchemaError(
            f"customers has {n - n_ids} duplicated customer_id value(s), e.g. "
            f"{[r['id'] for r in dup]}; one row per customer is expected. Fix: deduplicate "
            "the customers table (one row per customer_id) before spark_feature_frame."
        )


def attributes(
    customers: DataFrame,
    as_of: pd.Timestamp,
    spec: FeatureSpec | None,
    age_encoder: AgeEncoder | None,
) -> SparkAttributes:
    """Column expressions of segml's customer attributes over the customers table.

    Parameters
    ----------
    customers : pyspark.sql.DataFrame
        Canonical customers table with ``customer_id``.
    as_of : pandas.Timestamp
        The build's date (ages are ``as_of.year - birth_year``).
    spec : FeatureSpec or None
        Its ``levels`` normalise ordered labels and restrict nominal vocabularies.
    age_encoder : AgeEncoder or None
        Frozen bands / plausible range (a fitted state's), else segml's defaults.

    Returns
    -------
    SparkAttributes
        The (lazy) frame and the encoder; the counts are filled by :func:`attribute_report`.

    Raises
    ------
    SchemaError
        Missing or duplicated ids; ordered columns that are not text.
    """
    ctypes = {f.name: f.dataType for f in customers.schema.fields}
    names = [c for c in customers.columns if c != "customer_id"]
    dropped = [c for c in names if c in COMPUTED and c != "age"]
    exprs: dict[str, Column] = {c: F.col(c) for c in names if c not in dropped}
    kinds: dict[str, T.DataType] = {c: ctypes[c] for c in exprs}

    levels = dict(spec.levels) if spec is not None else {}
    transforms = spec.columns() if spec is not None else {}

    # age and age band as of the as_of year (segml's AgeEncoder decides bands and range)
    enc = age_ok = None
    source = "birth_year" if "birth_year" in exprs else ("age" if "age" in exprs else None)
    if source is not None:
        params = age_encoder.get_params() if age_encoder is not None else {}
        params.update(as_of_year=int(as_of.year), source=source)
        enc = AgeEncoder(**params).fit(pd.DataFrame({source: [np.nan]}))
        raw = number(F.col(source), ctypes[source])
        age = F.lit(float(as_of.year)) - raw if source == "birth_year" else raw
        ok = F.when((age >= F.lit(float(enc.min_age))) & (age <= F.lit(float(enc.max_age))),
                    age)
        exprs["age"] = ok
        age_ok = ok
        kinds["age"] = T.DoubleType()
        if enc.band_edges_.size:
            label: Column = F.lit(enc.band_labels_[0])
            for i, edge in enumerate(enc.band_edges_):
                label = F.when(ok >= F.lit(float(edge)), F.lit(enc.band_labels_[i + 1])) \
                    .otherwise(label)
            exprs["age_band"] = F.when(ok.isNotNull(), label)
            kinds["age_band"] = T.StringType()

    # which text columns are ordered (normalised, checked) / nominal (vocabulary) / plain
    ordered = [c for c, k in kinds.items() if isinstance(k, T.StringType) and (
        c in CANONICAL_LEVELS or (c in levels and transforms.get(c) == "ordinal"))]
    rel = [(src, dst) for src, dst in _ORD_SOURCES if src in ctypes]
    for src, _ in rel:
        if not isinstance(ctypes[src], T.StringType):
            raise SchemaError(
                f"customers '{src}' has Spark type {ctypes[src].simpleString()}; its labels "
                f"are ordered text. Fix: cast it to string (F.col('{src}').cast('string'))."
            )
    sets = [F.collect_set(exprs[c]).alias(f"_o{i}") for i, c in enumerate(ordered)]
    sets += [F.collect_set(F.col(src)).alias(f"_r{i}") for i, (src, _) in enumerate(rel)]
    stats = customers.select(
        *sets, F.count(F.lit(1)).alias("_n"),
        F.count_distinct(F.col("customer_id").cast("string")).alias("_n_ids"),
        F.count(F.when(F.col("customer_id").isNull(), 1)).alias("_null_ids"),
    ).collect()[0]
    _check_ids(customers, stats)

    unknown: dict[str, Column] = {}
    for i, c in enumerate(ordered):
        allowed = [normalize_level(v) for v in levels.get(c, CANONICAL_LEVELS.get(c, ()))]
        if c == "journey_stage":
            allowed.append("lost")
        groups: dict[Any, list[str]] = {}
        for raw in stats[f"_o{i}"]:
            norm = normalize_level(raw)
            if norm in allowed:
                groups.setdefault(norm, []).append(raw)
        before = exprs[c]
        exprs[c] = _case(before, groups).cast("string")
        unknown[c] = before.isNotNull() & exprs[c].isNull()
    for c, k in list(kinds.items()):
        if not isinstance(k, T.StringType) or c in ordered:
            continue
        if c in levels:  # nominal vocabulary: outside -> "unknown"
            vocab = sorted(set(levels[c]) | {"unknown"})
            exprs[c] = F.when(exprs[c].isNotNull() & ~exprs[c].isin(vocab), F.lit("unknown")) \
                .otherwise(exprs[c])
            unknown[c] = F.coalesce(exprs[c] == F.lit("unknown"), F.lit(False))
        else:
            unknown[c] = F.coalesce(F.lower(exprs[c]) == F.lit("unknown"), F.lit(False))

    # relationship columns (from the raw table, as segml's relationship_features)
    rel_cols: dict[str, Column] = {}
    for i, (src, dst) in enumerate(rel):
        raws = list(stats[f"_r{i}"])
        groups = {}
        if raws:
            codes = OrdinalScale().fit(pd.DataFrame({src: pd.Series(raws, dtype=object)}))
            values = codes.transform(pd.DataFrame({src: pd.Series(raws, dtype=object)}))[:, 0]
            for raw, code in zip(raws, values, strict=True):
                if not np.isnan(code):
                    groups.setdefault(float(code), []).append(raw)
        rel_cols[dst] = _case(F.col(src), groups).cast("double")
    if "campaigns_sent" in ctypes and "campaigns_responded" in ctypes:
        sent = number(F.col("campaigns_sent"), ctypes["campaigns_sent"])
        resp = number(F.col("campaigns_responded"), ctypes["campaigns_responded"])
        rel_cols["response_rate"] = resp / F.when(sent > 0, sent)
    if "complaints" in ctypes:
        rel_cols["complaints"] = number(F.col("complaints"), ctypes["complaints"])
    for c in _RELATIONSHIP:
        if c in rel_cols:
            exprs[c] = rel_cols[c]
            kinds[c] = T.DoubleType()

    frame = customers.select(F.col("customer_id").cast("string").alias("customer_id"),
                             *(e.alias(c) for c, e in exprs.items()))
    report = {"dropped_customer_columns": dropped, "_unknown": unknown, "_kinds": ctypes,
              "_source": source, "_age_ok": age_ok}
    return SparkAttributes(frame=frame, columns=list(exprs), age_encoder=enc, report=report)


def attribute_report(attrs: SparkAttributes, customers: DataFrame, universe: DataFrame) -> None:
    """Count, in one Spark job over the universe's table rows, what build_features reports.

    Fills ``attrs.report`` with ``missing`` (per column), ``missing_income``,
    ``implausible_birth_years`` / ``implausible_ages``, ``unknown_levels`` (per column), and
    sets the age encoder's training counts (``n_implausible_``, ``n_missing_``).
    """
    rep = attrs.report
    kinds = rep.pop("_kinds")
    unknown = rep.pop("_unknown")
    source = rep.pop("_source")
    age_ok = rep.pop("_age_ok")
    raw_cols = [c for c in customers.columns if c != "customer_id"
                and c not in rep["dropped_customer_columns"]]
    sel = [F.col("customer_id").cast("string").alias("customer_id")]
    sel += [is_missing(F.col(c), kinds[c]).alias(f"_m{i}") for i, c in enumerate(raw_cols)]
    sel += [u.alias(f"_u{i}") for i, u in enumerate(unknown.values())]
    aggs = [F.count(F.lit(1)).alias("_rows")]  # never an empty aggregate (ids-only tables)
    aggs += [F.sum(F.col(f"_m{i}").cast("long")).alias(f"_m{i}") for i in range(len(raw_cols))]
    aggs += [F.sum(F.col(f"_u{i}").cast("long")).alias(f"_u{i}") for i in range(len(unknown))]
    if source is not None:
        raw = number(F.col(source), kinds[source])
        sel += [raw.isNull().alias("_age_missing"),
                (raw.isNotNull() & age_ok.isNull()).alias("_age_bad")]
        aggs += [F.sum(F.col("_age_missing").cast("long")).alias("_age_missing"),
                 F.sum(F.col("_age_bad").cast("long")).alias("_age_bad")]
    base = customers.select(*sel)
    ids = universe.select(F.col("customer_id").alias("_uid"))
    row = base.join(ids, F.col("customer_id") == F.col("_uid")).agg(*aggs).collect()[0]
    missing = {c: int(row[f"_m{i}"] or 0) for i, c in enumerate(raw_cols)}
    rep["missing"] = {c: n for c, n in missing.items() if n}
    rep["missing_income"] = missing.get("income", 0)
    rep["unknown_levels"] = {c: int(row[f"_u{i}"] or 0) for i, c in enumerate(unknown)
                             if row[f"_u{i}"]}
    rep["implausible_birth_years"] = rep["implausible_ages"] = 0
    if source is not None and attrs.age_encoder is not None:
        bad = int(row["_age_bad"] or 0)
        rep["implausible_birth_years" if source == "birth_year" else "implausible_ages"] = bad
        attrs.age_encoder.n_implausible_ = bad
        attrs.age_encoder.n_missing_ = int(row["_age_missing"] or 0)

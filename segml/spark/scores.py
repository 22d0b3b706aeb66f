"""RFM scores and ABC classes on Spark, with edges learned by segml's own estimators."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (pyspark convention)

from segml.features import ABCClassifier, RFMScorer

__all__: list[str] = []

_RFM = ("recency_days", "frequency", "monetary")


def _fit_value(frame: DataFrame) -> tuple[RFMScorer | None, ABCClassifier | None]:
    """Fit segml's RFM scorer and ABC classifier on the buyers' values (pulled over Arrow)."""
    buyers = frame.where(~F.col("is_prospect")).select(*_RFM, "is_prospect").toPandas()
    if buyers.empty:
        return None, None
    buyers = buyers.astype({"recency_days": "float64", "frequency": "int64",
                            "monetary": "float64", "is_prospect": bool})
    rfm = RFMScorer().fit(buyers[list(_RFM)])
    abc = ABCClassifier().fit(buyers)
    return rfm, abc


def _score(frame: DataFrame, rfm: RFMScorer | None, abc: ABCClassifier | None) -> DataFrame:
    """Scores 1..n (0 for prospects / missing) and ABC classes with frozen edges, in Spark."""
    prospect = F.col("is_prospect")
    if rfm is None:
        scores = [F.lit(0).cast("long").alias(c) for c in ("r_score", "f_score", "m_score")]
        frame = frame.select("*", *scores)
    else:
        names = [str(n) for n in rfm.feature_names_in_]
        outs = [str(n) for n in rfm.get_feature_names_out()]
        cols = []
        for j, (name, out) in enumerate(zip(names, outs, strict=True)):
            value = F.col(name).cast("double")
            above = [F.when((F.lit(float(c)) > value) if rfm.reverse_[j]
                            else (F.lit(float(c)) < value), 1).otherwise(0)
                     for c in rfm.cut_points_[j]]
            score = F.lit(1)
            for a in above:
                score = score + a
            cols.append(F.when(prospect | value.isNull() | F.isnan(value), 0)
                        .otherwise(score).cast("long").alias(out))
        frame = frame.select("*", *cols)
    frame = frame.withColumn("rfm_code", F.concat(*(F.col(c).cast("string") for c in
                                                     ("r_score", "f_score", "m_score"))))
    if abc is None:
        return frame.withColumn("abc_class", F.lit("none"))
    mon = F.col("monetary").cast("double")
    ta, tb = float(abc.threshold_a_), float(abc.threshold_b_)
    cls = (F.when(prospect | mon.isNull() | F.isnan(mon), "none")
           .when(mon >= F.lit(ta), "A").when(mon >= F.lit(tb), "B").otherwise("C"))
    return frame.withColumn("abc_class", cls)

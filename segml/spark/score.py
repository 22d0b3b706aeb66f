"""Score a Spark DataFrame of features with a saved model, on the executors.

:func:`score_spark` runs segml's own batch scorer (:func:`segml.scoring.score_features`: the
input checks of the model's contract, then the compiled numpy scorer) on each Arrow batch with
``mapInPandas``, so every row gets exactly the segment, confidence, distance and drivers it
gets when the same rows are scored on one machine. The model travels with the task (pickled
with the function); the executors must run a Python with segml, numpy, pandas and
scikit-learn (set ``PYSPARK_PYTHON`` to it, or ship the environment with ``--archives``).

Each batch is checked on its own: the per-batch check reports (imputed values, unseen levels,
out-of-range counts) are not gathered; count ``fits_no_segment`` or ``segment_id`` in the
result instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame as SparkDataFrame

    from segml.model import SegmentModel

__all__ = ["score_spark"]


def _check(model: Any, sdf: SparkDataFrame, id_column: str, explain: Any) -> None:
    from segml.model import SegmentModel

    if not isinstance(model, SegmentModel):
        raise ConfigError(
            f"model should be a SegmentModel, got {type(model).__name__}. Fix: pass "
            "segml.load_model(path) or fit_spark(...).model."
        )
    if not isinstance(explain, (int, np.integer)) or isinstance(explain, bool) or explain < 0:
        raise ConfigError(f"explain={explain!r} should be a non-negative integer. Fix: pass "
                          "score_spark(explain=0) (no drivers) or a small count such as 3.")
    if id_column not in sdf.columns:
        raise SchemaError(
            f"the Spark frame has no id column {id_column!r} (columns {sdf.columns[:8]}). "
            "Fix: add it, or pass score_spark(id_column=...) naming the customer id column."
        )
    missing = [c for c in model.columns if c not in sdf.columns]
    if missing:
        raise SchemaError(
            f"the Spark frame lacks model column(s) {missing[:5]}"
            f"{' ...' if len(missing) > 5 else ''}. Fix: build the features with the model's "
            "feature spec (the same columns as at fit)."
        )


def score_spark(model: SegmentModel, features_sdf: SparkDataFrame, *,
                id_column: str = "customer_id", explain: int = 0,
                unknown: str = "ignore", impute_missing: bool = False) -> SparkDataFrame:
    """Score every row of a Spark feature frame with segml's scorer (module docstring).

    Parameters
    ----------
    model : SegmentModel
        A loaded (:func:`segml.persistence.load_model`) or fitted model.
    features_sdf : pyspark.sql.DataFrame
        One row per customer: ``id_column`` and the model's feature columns (with
        ``is_prospect``, prospects get segment -1 as in ``score_features``).
    id_column : str, default "customer_id"
        Customer id column, copied to ``customer_id`` of the result.
    explain : int, default 0
        ``driver_<i>`` columns to add (as ``score_features``).
    unknown : {"ignore", "error"}, default "ignore"
        Unseen category levels (as ``score_features``; ``"error"`` fails the Spark job).
    impute_missing : bool, default False
        As ``score_features``.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazy; columns ``customer_id``, ``segment_id``, ``segment_name``, ``confidence``,
        ``distance``, ``fits_no_segment`` and ``driver_1..driver_<explain>``.

    Raises
    ------
    ConfigError
        Not a ``SegmentModel``, or a bad ``explain`` / ``unknown``.
    SchemaError
        No id column, or a model column missing from the frame.
    """
    from pyspark.sql.types import (
        BooleanType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    from segml.scoring import score_features

    _check(model, features_sdf, id_column, explain)
    if unknown not in ("ignore", "error"):
        raise ConfigError(f"unknown={unknown!r} is not 'ignore' or 'error'. Fix: pass "
                          "score_spark(unknown='ignore') or 'error' (segml score --unknown).")
    schema = StructType([  # score_features gives ids as text
        StructField("customer_id", StringType()), StructField("segment_id", LongType()),
        StructField("segment_name", StringType()), StructField("confidence", DoubleType()),
        StructField("distance", DoubleType()), StructField("fits_no_segment", BooleanType()),
        *(StructField(f"driver_{i + 1}", StringType()) for i in range(int(explain))),
    ])
    names = [f.name for f in schema.fields]
    n_explain = int(explain)

    def _score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            if not len(pdf):
                continue
            frame = score_features(model, pdf, unknown=unknown, explain=n_explain,
                                   id_column=id_column, impute_missing=impute_missing).frame
            out = frame[names].copy()
            for c in ("segment_name", *(f"driver_{i + 1}" for i in range(n_explain))):
                out[c] = out[c].astype(object).where(out[c].notna(), None)
            yield out

    # every column travels: the set-aside rules (prospects, $0 buyers) read columns of their own
    return features_sdf.mapInPandas(_score, schema)

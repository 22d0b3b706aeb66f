"""The Spark Connect round trip of ``test_connect.py``: one pipeline, run on any session.

PySpark refuses a Connect session in a process that runs a classic one
(``SESSION_ALREADY_EXIST``), so the test runs the Connect side as a script in its own
process: ``python connect_roundtrip.py sc://host:port OUT_DIR`` writes the features, the fit's
driver sample with its labels and the scores as Parquet files under ``OUT_DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd

AS_OF = "2024-06-30"
COLUMNS = ["customer_id", "recency_days", "frequency", "monetary", "tenure_days"]


def pipeline(session: Any) -> tuple[pd.DataFrame, Any, pd.DataFrame]:
    """Features, a sample fit (every row) and scores of one small portfolio on ``session``."""
    from segml.datasets import make_portfolio
    from segml.spark.features import spark_feature_frame
    from segml.spark.fit import fit_spark
    from segml.spark.score import score_spark

    pf = make_portfolio(300, n_segments=3, random_state=2)
    tx = session.createDataFrame(pf.transactions)
    cu = session.createDataFrame(pf.customers[["customer_id", "signup_date"]])
    fs = spark_feature_frame(tx, cu, None, AS_OF)
    feats = fs.to_pandas()
    buyers = fs.frame.where("NOT is_prospect").select(*COLUMNS)
    fit = fit_spark(buyers, k=3, strategy="sample", sample_size=10_000, random_state=0)
    scores = score_spark(fit.model, buyers).toPandas().set_index("customer_id").sort_index()
    fs.unpersist()
    return feats, fit, scores


def main(url: str, out: str) -> None:
    """Run :func:`pipeline` over Spark Connect at ``url``; write its results under ``out``."""
    from segml.spark.session import get_session

    session = get_session(remote=url)
    try:
        feats, fit, scores = pipeline(session)
    finally:
        session.stop()
    folder = Path(out)
    sample = fit.sample.assign(label=fit.segmenter.predict(fit.sample))
    for name, frame in (("features", feats[COLUMNS[1:]]), ("sample", sample),
                        ("scores", scores[["segment_id"]])):
        frame = frame.copy()
        frame.attrs = {}  # Connect's toPandas attaches PlanMetrics, which Parquet cannot store
        frame.to_parquet(folder / f"{name}.parquet")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

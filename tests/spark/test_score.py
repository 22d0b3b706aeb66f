"""score_spark: scoring a Spark frame with segml's scorer gives the one-machine scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segml.errors import ConfigError, SchemaError
from segml.spark.score import score_spark

COLS = ["monetary", "frequency", "recency_days", "avg_order_value", "region", "income",
        "is_prospect"]


@pytest.fixture(scope="module")
def scored_setup(spark, tmp_path_factory):
    """A model fitted the normal way (numeric, one-hot and imputed columns), saved and loaded."""
    from segml.cluster import Segmenter
    from segml.datasets import make_portfolio
    from segml.features import build_features, make_preprocessor
    from segml.model import SegmentModel
    from segml.persistence import load_model, save_model

    p = make_portfolio(500, n_segments=4, random_state=1)
    fs = build_features(p.transactions, p.customers, p.as_of)
    frame = fs.frame[COLS].sort_index()
    buyers = frame[~frame["is_prospect"].astype(bool)]
    spec = fs.spec.select(COLS[:-1]).with_weights(geographic=1, demographic=1)
    seg = Segmenter(n_clusters=3, preprocessor=make_preprocessor(spec, buyers),
                    random_state=0).fit(buyers)
    model = SegmentModel.from_training(seg, buyers, feature_spec=spec)
    loaded = load_model(save_model(model, tmp_path_factory.mktemp("m") / "spark-score"))
    sdf = spark.createDataFrame(frame.reset_index()).repartition(3)
    return frame, loaded, sdf


def test_scores_equal_one_machine_scores(scored_setup):
    from segml.scoring import score_features

    frame, model, sdf = scored_setup
    assert frame["income"].isna().any() and frame["is_prospect"].any()  # imputed, set aside
    got = score_spark(model, sdf, explain=2).toPandas()
    got = got.set_index("customer_id").loc[frame.index.astype(str)]
    ref = score_features(model, frame, explain=2).frame.set_index("customer_id")
    assert len(got) == len(frame)
    np.testing.assert_array_equal(got["segment_id"].to_numpy(), ref["segment_id"].to_numpy())
    assert (got["segment_id"] == -1).sum() == int(frame["is_prospect"].sum())
    assert got["segment_name"].tolist() == ref["segment_name"].astype(str).tolist()
    np.testing.assert_array_equal(got["fits_no_segment"].to_numpy(),
                                  ref["fits_no_segment"].to_numpy())
    for col in ("confidence", "distance"):
        np.testing.assert_allclose(got[col].to_numpy(dtype=float),
                                   ref[col].to_numpy(dtype=float), rtol=1e-12, atol=1e-12)
    for col in ("driver_1", "driver_2"):  # prospects have no drivers
        assert [None if pd.isna(x) else str(x) for x in got[col]] == [
            None if pd.isna(x) else str(x) for x in ref[col]]


def test_score_spark_errors(scored_setup):
    frame, model, sdf = scored_setup
    with pytest.raises(SchemaError, match="no id column 'cid'.*Fix"):
        score_spark(model, sdf, id_column="cid")
    with pytest.raises(SchemaError, match=r"lacks model column\(s\) \['income'\].*Fix"):
        score_spark(model, sdf.drop("income"))
    with pytest.raises(ConfigError, match="model should be a SegmentModel.*Fix"):
        score_spark(model.segmenter, sdf)
    with pytest.raises(ConfigError, match="explain=-1 should be a non-negative.*Fix"):
        score_spark(model, sdf, explain=-1)
    with pytest.raises(ConfigError, match="unknown='skip' is not.*Fix"):
        score_spark(model, sdf, unknown="skip")

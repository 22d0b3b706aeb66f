"""Scoring: exact values on a hand-made model, every input check, single-customer path."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans

from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.persistence import SegmentModel
from segml.scoring import ScoreResult, score_features, score_one

from .conftest import FLOAT_TOL


@pytest.fixture(scope="module")
def tiny():
    """1-D k-means on 0, 1, 10, 11: centres 0.5 and 10.5, every training distance 0.5."""
    ids = pd.Index(list("abcd"), name="customer_id")
    x = pd.DataFrame({"x": [0.0, 1.0, 10.0, 11.0]}, index=ids)
    km = KMeans(n_clusters=2, n_init=1, random_state=0).fit(x)
    model = SegmentModel.from_training(km, x, segment_names={0: "s0", 1: "s1"})
    low = int(km.predict(x.iloc[:1])[0])
    return model, low


def test_exact_values_on_tiny_model(tiny):
    model, low = tiny
    new = pd.DataFrame({"x": [2.0, 0.7, 10.5]}, index=pd.Index(["n1", "n2", "n3"], name="cid"))
    res = score_features(model, new)
    assert isinstance(res, ScoreResult)
    f = res.frame
    assert f["customer_id"].tolist() == ["n1", "n2", "n3"]
    assert f["segment_id"].tolist() == [low, low, 1 - low]
    assert f["segment_name"].astype(str).tolist() == [f"s{low}", f"s{low}", f"s{1 - low}"]
    np.testing.assert_allclose(f["distance"], [1.5, 0.2, 0.0], atol=1e-12)
    np.testing.assert_allclose(f["confidence"], [1 - 1.5 / 8.5, 1 - 0.2 / 9.8, 1.0], atol=1e-12)
    assert f["fits_no_segment"].tolist() == [True, False, False]
    assert f["driver_1"].astype(object).tolist()[:2] == ["x", "x"]
    assert pd.isna(f["driver_1"].iloc[2]) or f["driver_1"].iloc[2] == "x"
    assert res.report["no_fit_share"] == pytest.approx(1 / 3)
    assert list(f.columns) == [
        "customer_id", "segment_id", "segment_name", "confidence", "distance",
        "fits_no_segment", "driver_1",
    ]


def test_single_customer_exact(tiny):
    model, low = tiny
    out = score_one(model, {"x": 2.0, "customer_id": "n1", "junk": 1})
    assert out["customer_id"] == "n1"
    assert out["segment_id"] == low and out["segment_name"] == f"s{low}"
    assert out["distance"] == pytest.approx(1.5)
    assert out["confidence"] == pytest.approx(1 - 1.5 / 8.5)
    assert out["fits_no_segment"] is True
    assert out["drivers"] == ["x"]
    assert out["imputed"] == [] and out["unseen"] == []


def test_batch_equals_pipeline_and_single(kmeans_model, kmeans_pipe, features):
    res = score_features(kmeans_model, features)
    np.testing.assert_array_equal(res.frame["segment_id"].to_numpy(), kmeans_pipe.predict(features))
    np.testing.assert_allclose(
        res.frame["distance"].to_numpy(), kmeans_pipe.transform(features).min(axis=1), rtol=1e-12
    )
    for i in (0, 37, 41, 599):
        rec = features.iloc[i].to_dict()
        one = score_one(kmeans_model, rec)
        row = res.frame.iloc[i]
        assert one["segment_id"] == row["segment_id"]
        assert one["distance"] == row["distance"]
        assert one["confidence"] == pytest.approx(row["confidence"], rel=1e-12)
        assert one["drivers"] == [d for d in row[["driver_1", "driver_2", "driver_3"]] if d == d]
    rec = features.iloc[0].to_dict()
    assert score_one(kmeans_model, rec)["imputed"] == ["monetary", "region"]


def test_missing_values_imputed_and_counted(kmeans_model, features):
    rep = score_features(kmeans_model, features).report
    assert rep["missing_imputed"] == {"monetary": 17, "region": 15}
    assert rep["unseen_categories"] == {} and rep["ignored_columns"] == []


def test_extra_columns_ignored_and_order_irrelevant(kmeans_model, features):
    base = score_features(kmeans_model, features).frame
    shuffled = features[features.columns[::-1]].assign(extra=1.0, note="x")
    res = score_features(kmeans_model, shuffled)
    pd.testing.assert_frame_equal(res.frame, base)
    assert res.report["ignored_columns"] == ["extra", "note"]


def test_ids_from_column(kmeans_model, features):
    f = features.reset_index()
    res = score_features(kmeans_model, f)
    assert res.frame["customer_id"].tolist() == features.index.tolist()
    assert res.report["ignored_columns"] == ["customer_id"]


def test_missing_column_named(kmeans_model, features):
    with pytest.raises(SchemaError, match=r"feature frame lacks 1 column\(s\) the model reads: "
                       r"'gender'\..*Fix: .*impute_missing=True \(CLI: segml score "
                       r"--impute-missing\)"):
        score_features(kmeans_model, features.drop(columns="gender"))
    with pytest.raises(SchemaError, match=r"record lacks 1 column\(s\) the model reads: 'gender'"):
        score_one(kmeans_model, features.drop(columns="gender").iloc[0].to_dict())


def test_missing_column_imputed_on_request_is_counted(kmeans_model, features):
    res = score_features(kmeans_model, features.drop(columns="gender"), impute_missing=True)
    assert res.report["columns_imputed"] == ["gender"]
    assert res.report["missing_imputed"]["gender"] == len(features)
    assert res.report["rows_scored"] == len(features)
    row = features.drop(columns="gender").iloc[1]
    assert not row.isna().any()
    one = score_one(kmeans_model, row.to_dict(), impute_missing=True)
    assert one["imputed"] == ["gender"]
    assert one["segment_id"] == int(res.frame["segment_id"].iloc[1])


def test_empty_and_wrong_type(kmeans_model, features):
    with pytest.raises(SchemaError, match="no customers to score: the feature frame has 0 rows"):
        score_features(kmeans_model, features.iloc[:0])
    with pytest.raises(SchemaError, match="should be a pandas DataFrame, got dict"):
        score_features(kmeans_model, {"a": 1})
    with pytest.raises(SchemaError, match="record should be a mapping"):
        score_one(kmeans_model, [1, 2])


def test_non_numeric_numeric_column(kmeans_model, features):
    bad = features.assign(frequency=features["frequency"].astype(str))
    bad.loc[bad.index[3], "frequency"] = "lots"
    with pytest.raises(SchemaError, match=r"column 'frequency' should be numeric .*\['lots'\]"):
        score_features(kmeans_model, bad)
    ok = features.assign(frequency=features["frequency"].astype(str))
    np.testing.assert_array_equal(
        score_features(kmeans_model, ok).frame["segment_id"],
        score_features(kmeans_model, features).frame["segment_id"],
    )
    rec = features.iloc[1].to_dict() | {"frequency": "lots"}
    with pytest.raises(SchemaError, match="feature 'frequency' should be numeric but got 'lots'"):
        score_one(kmeans_model, rec)


def test_unseen_category_policy(kmeans_model, kmeans_pipe, features):
    new = features.copy()
    new.loc[new.index[:2], "region"] = "mars"
    with pytest.warns(DataQualityWarning, match=r"'region' \(2 rows, e.g. \['mars'\]\)"):
        res = score_features(kmeans_model, new)
    assert res.report["unseen_categories"] == {"region": 2}
    np.testing.assert_array_equal(res.frame["segment_id"], kmeans_pipe.predict(new))
    with pytest.raises(SchemaError, match=r"not seen in training in 'region': \['mars'\]"):
        score_features(kmeans_model, new, unknown="error")
    rec = new.iloc[0].to_dict()
    assert score_one(kmeans_model, rec)["unseen"] == ["region"]
    with pytest.raises(SchemaError, match=r"not seen in training: 'region'='mars'"):
        score_one(kmeans_model, rec, unknown="error")


def test_bad_arguments(kmeans_model, features):
    with pytest.raises(ConfigError, match=r"unknown='skip' should be one of \('ignore', 'error'\)"):
        score_features(kmeans_model, features, unknown="skip")
    with pytest.raises(ConfigError, match="explain=-1 should be a non-negative integer"):
        score_features(kmeans_model, features, explain=-1)


def test_explain_zero_and_out_of_range(kmeans_model, features):
    far = features.assign(recency_days=features["recency_days"] + 1e4)
    res = score_features(kmeans_model, far, explain=0)
    assert not any(c.startswith("driver_") for c in res.frame.columns)
    assert res.report["out_of_range"] == {"recency_days": 600}
    assert res.frame["fits_no_segment"].mean() > 0.5


def test_gmm_confidence_is_posterior(gmm_pipe, features):
    model = SegmentModel.from_training(gmm_pipe, features)
    res = score_features(model, features).frame
    proba = gmm_pipe.predict_proba(features)
    np.testing.assert_allclose(res["confidence"], proba.max(axis=1), rtol=1e-12)
    one = score_one(model, features.iloc[5].to_dict())
    assert math.isclose(one["confidence"], proba[5].max(), rel_tol=1e-12)


def test_blocks_give_the_whole_frame_result(kmeans_model, gmm_pipe, features, monkeypatch):
    """Scoring in row blocks (as for big batches) changes no value, dtype or count."""
    import segml.scoring.compiled as fs

    gmm = SegmentModel.from_training(gmm_pipe, features)
    new = features.copy()
    new.loc[new.index[:2], "region"] = "mars"
    new = new.assign(recency_days=new["recency_days"].where(new.index != new.index[5], 1e6))
    with pytest.warns(DataQualityWarning):
        whole = [score_features(m, new, explain=e) for m in (kmeans_model, gmm) for e in (0, 3)]
    monkeypatch.setattr(fs, "_CHUNK_ROWS", 37)
    with pytest.warns(DataQualityWarning):
        blocks = [score_features(m, new, explain=e) for m in (kmeans_model, gmm) for e in (0, 3)]
    for w, b in zip(whole, blocks, strict=True):
        # ids, names, labels and drivers exactly; BLAS-product floats to FLOAT_TOL (see conftest)
        floats = [c for c in w.frame.columns if pd.api.types.is_float_dtype(w.frame[c])]
        assert floats and {"confidence", "distance"} <= set(floats)
        pd.testing.assert_frame_equal(b.frame.drop(columns=floats), w.frame.drop(columns=floats),
                                      check_exact=True)
        for c in floats:
            assert b.frame[c].dtype == w.frame[c].dtype, c
            np.testing.assert_allclose(b.frame[c], w.frame[c], err_msg=c, **FLOAT_TOL)
        assert b.report == w.report
    assert whole[0].report["out_of_range"] == {"recency_days": 1}

"""score_one equals score_features on a model built with the default feature spec."""

from __future__ import annotations

import numpy as np
import pytest

from segml.cluster import Segmenter
from segml.datasets import make_portfolio
from segml.errors import SchemaError
from segml.features import build_features
from segml.features.build import make_preprocessor
from segml.persistence import SegmentModel
from segml.scoring import score_features, score_one

from .conftest import FLOAT_TOL


@pytest.fixture(scope="module")
def default_spec_model():
    p = make_portfolio(400, random_state=0)
    fs = build_features(p.transactions, p.customers, p.as_of)
    seg = Segmenter(n_clusters=4, preprocessor=make_preprocessor(fs.spec, fs.frame),
                    random_state=0, n_init=1).fit(fs.frame)
    return SegmentModel.from_training(seg, fs.frame, feature_set=fs, name="d"), fs.frame


def test_score_one_matches_score_features_default_spec(default_spec_model) -> None:
    model, frame = default_spec_model
    res = score_features(model, frame).frame
    rows = list(range(0, len(frame), 7))
    ones = [score_one(model, frame.iloc[i].to_dict()) for i in rows]
    assert [o["segment_id"] for o in ones] == res["segment_id"].iloc[rows].tolist()
    np.testing.assert_allclose([o["distance"] for o in ones],
                               res["distance"].iloc[rows].to_numpy(dtype=float), **FLOAT_TOL)
    np.testing.assert_allclose([o["confidence"] for o in ones],
                               res["confidence"].iloc[rows].to_numpy(dtype=float), **FLOAT_TOL)
    for o, i in zip(ones, rows, strict=True):
        row = res.iloc[i]
        assert o["drivers"] == [d for d in row[["driver_1", "driver_2", "driver_3"]] if d == d]


def test_score_one_bool_column_takes_numbers_and_refuses_text(default_spec_model) -> None:
    """A bool column (payment_risk) reads 0/1 like the batch path; text is a SchemaError, not a
    bare ValueError (the service turned that into a 500)."""
    model, frame = default_spec_model
    bools = [c for c, spec in model.contract.items() if spec.get("kind") == "bool"]
    # is_b2b (firmographic) is describe-only by default since issue 15, so not in the model
    assert bools == ["payment_risk", "showed_interest"]
    rec = frame.iloc[3].to_dict()
    as_num = rec | {"payment_risk": float(bool(rec["payment_risk"]))}
    assert score_one(model, as_num)["segment_id"] == score_one(model, rec)["segment_id"]
    with pytest.raises(SchemaError, match=r"feature 'payment_risk' should be true/false "
                                          r"\(or 0/1\) but got 'yes'\. Fix: convert it"):
        score_one(model, rec | {"payment_risk": "yes"})

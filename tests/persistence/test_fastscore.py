"""The compiled numpy scorer gives the plain pipeline's model matrix and labels, bit for bit.

Floats that go through a BLAS product (distances, confidences) are compared with FLOAT_TOL.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.cluster import BisectingKMeans, KMeans, MiniBatchKMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PowerTransformer,
    RobustScaler,
    StandardScaler,
)

from segml.cluster import Segmenter
from segml.errors import SchemaError
from segml.features import (
    FamilyWeight,
    FrequencyEncoder,
    LogMoney,
    OrdinalScale,
    RareOneHot,
    ToFloat,
    Winsorizer,
)
from segml.scoring.assign import top_features
from segml.scoring.compiled import CompiledScorer
from segml.scoring.parts import split_segmenter

from .conftest import CAT, FLOAT_TOL, NUM, make_features, make_preprocessor

FEATS = make_features(800, seed=7)


def _preprocessors():
    yield "robust_minmax", ColumnTransformer([
        ("a", make_pipeline(SimpleImputer(), RobustScaler()), ["recency_days", "monetary"]),
        ("b", make_pipeline(SimpleImputer(), MinMaxScaler()), ["frequency"]),
    ])
    yield "onehot_drop_ordinal_unknown", ColumnTransformer([
        ("n", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), NUM),
        ("c", make_pipeline(SimpleImputer(strategy="constant", fill_value="none"),
                            OneHotEncoder(drop="first", handle_unknown="ignore")), CAT),
        ("o", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
         ["satisfaction"]),
    ])
    yield "infrequent_onehot", ColumnTransformer([
        ("n", make_pipeline(SimpleImputer(), StandardScaler()), NUM),
        ("c", OneHotEncoder(min_frequency=0.3, handle_unknown="infrequent_if_exist",
                            sparse_output=False), ["satisfaction", "gender"]),
    ])
    yield "passthrough_remainder_weights", ColumnTransformer(
        [("n", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), NUM),
         ("p", "passthrough", ["frequency"]),
         ("d", "drop", ["gender"])],
        remainder=OneHotEncoder(handle_unknown="ignore"),
        transformer_weights={"n": 2.0, "p": 0.5},
    )
    yield "segml_encoders_nested", ColumnTransformer([
        ("value", Pipeline([
            ("cols", ColumnTransformer([
                ("m", make_pipeline(ToFloat(), SimpleImputer(strategy="median", add_indicator=True,
                                                             keep_empty_features=True),
                                    LogMoney(), StandardScaler()), ["monetary"]),
                ("r", make_pipeline(ToFloat(), Winsorizer(), SimpleImputer(), StandardScaler()),
                 ["recency_days"]),
                ("f", make_pipeline(ToFloat(), SimpleImputer(), FunctionTransformer(np.log1p),
                                    StandardScaler()), ["frequency"]),
            ])),
            ("w", FamilyWeight(weight=2.0)),
        ]), NUM),
        ("attrs", Pipeline([
            ("cols", ColumnTransformer([
                ("region", RareOneHot(min_frequency=0.2), ["region"]),
                ("gender", make_pipeline(FrequencyEncoder(), StandardScaler()), ["gender"]),
                ("sat", make_pipeline(OrdinalScale(levels=["low", "mid", "high"]), SimpleImputer(),
                                      StandardScaler()), ["satisfaction"]),
            ])),
            ("w", FamilyWeight(weight=1.0)),
        ]), ["region", "gender", "satisfaction"]),
    ])


PRE = list(_preprocessors())

_EXACT = ("labels", "raw", "second", "centers")
_ROUNDED = ("distance", "confidence", "proba")


def _assert_blocks_identical(sc: CompiledScorer, frame: pd.DataFrame, rows: int = 64) -> None:
    """assign_frame in blocks of ``rows`` gives the whole-frame labels, ids and drivers exactly.

    Distances, confidences and probabilities come from a BLAS product whose summation order
    depends on the block shape and the CPU kernel: they must agree to FLOAT_TOL (1 ulp
    differences were seen on an AMD EPYC with OpenBLAS's Haswell kernel).
    """
    z = sc.matrix(frame)
    whole = sc.assign(z)
    blocks, drivers = sc.assign_frame(frame, explain=3, chunk_rows=rows)
    for name in _EXACT + _ROUNDED:
        ref, got = getattr(whole, name), getattr(blocks, name)
        if ref is None:
            assert got is None, name
            continue
        assert got.dtype == ref.dtype, name
        if name in _EXACT:
            np.testing.assert_array_equal(got, ref, err_msg=name)
        else:
            np.testing.assert_allclose(got, ref, err_msg=name, **FLOAT_TOL)
    np.testing.assert_array_equal(drivers, top_features(z, whole, 3))
    one, none = sc.assign_frame(frame, chunk_rows=rows)
    assert none is None
    np.testing.assert_array_equal(one.labels, whole.labels)


@pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning")
@pytest.mark.parametrize(("name", "pre"), PRE, ids=[p[0] for p in PRE])
def test_matrix_and_labels_identical(name, pre):
    pipe = Pipeline([("pre", pre), ("km", KMeans(4, n_init=2, random_state=0))]).fit(FEATS)
    sc = CompiledScorer.compile(pipe)
    assert sc.fallbacks == []
    new = make_features(500, seed=11)
    new.loc[new.index[:3], "region"] = "mars"  # unseen level: each encoder's own policy
    z = sc.matrix(new)
    ref = pipe[0].transform(new)
    np.testing.assert_array_equal(z, np.asarray(ref, dtype=np.float64))
    a = sc.assign(z)
    np.testing.assert_array_equal(a.labels, pipe.predict(new))
    for i in (0, 1, 5, 100):
        np.testing.assert_array_equal(sc.matrix_one(new.iloc[i].to_dict()), z[i : i + 1])
    _assert_blocks_identical(sc, new)


@pytest.mark.parametrize(
    "est",
    [
        MiniBatchKMeans(3, random_state=0, n_init=1),
        BisectingKMeans(3, random_state=0),
        GaussianMixture(3, covariance_type="diag", random_state=0),
        GaussianMixture(3, covariance_type="tied", random_state=0),
    ],
    ids=["minibatch", "bisecting", "gmm_diag", "gmm_tied"],
)
def test_other_estimators(est):
    pipe = Pipeline([("pre", make_preprocessor()), ("est", est)]).fit(FEATS)
    sc = CompiledScorer.compile(pipe)
    np.testing.assert_array_equal(sc.assign(sc.matrix(FEATS)).labels, pipe.predict(FEATS))
    _assert_blocks_identical(sc, FEATS, rows=100)


@pytest.mark.parametrize(
    ("dtype", "algorithm"),
    # gmm fits in float64 only (Segmenter refuses float32 for it: test_segmenter.py)
    [(d, a) for d in ("float64", "float32") for a in ("kmeans", "minibatch", "bisecting", "gmm")
     if (d, a) != ("float32", "gmm")],
)
def test_segml_segmenter_identical(algorithm, dtype):
    seg = Segmenter(
        n_clusters=3, algorithm=algorithm, preprocessor=make_preprocessor(), random_state=0,
        dtype=dtype, n_init=1,
    ).fit(FEATS)
    sc = CompiledScorer.compile(seg)
    a = sc.assign(sc.matrix(FEATS))
    np.testing.assert_array_equal(a.labels, seg.predict(FEATS))
    if algorithm != "gmm" and dtype == "float64":
        d = seg.transform(FEATS)
        np.testing.assert_allclose(a.distance, d[np.arange(len(FEATS)), a.labels], rtol=1e-9)
    assert sc.feature_names_out() == list(seg.model_feature_names_)


def test_unknown_step_falls_back_and_is_reported(caplog):
    pre = ColumnTransformer([
        ("p", make_pipeline(SimpleImputer(), PowerTransformer()), NUM),
        ("c", OneHotEncoder(handle_unknown="ignore"), CAT),
    ])
    pipe = Pipeline([("pre", pre), ("km", KMeans(3, n_init=1, random_state=0))]).fit(FEATS)
    with caplog.at_level(logging.WARNING, logger="segml.scoring"):
        sc = CompiledScorer.compile(pipe)
    assert sc.fallbacks == ["p (PowerTransformer)"]
    assert "1 step(s) replayed through scikit-learn" in caplog.text
    z = sc.matrix(FEATS)
    np.testing.assert_array_equal(z, pipe[0].transform(FEATS))
    np.testing.assert_array_equal(sc.assign(z).labels, pipe.predict(FEATS))
    np.testing.assert_array_equal(sc.matrix_one(FEATS.iloc[3].to_dict()), z[3:4])


def test_encoder_refusing_unknowns_raises_schema_error():
    pre = ColumnTransformer([("c", OneHotEncoder(), ["gender"])])
    pipe = Pipeline([("pre", pre), ("km", KMeans(2, n_init=1, random_state=0))]).fit(FEATS)
    sc = CompiledScorer.compile(pipe)
    new = FEATS.assign(gender=["x"] + ["f"] * (len(FEATS) - 1))
    with pytest.raises(SchemaError, match=r"column 'gender' has categories not seen .*\['x'\]"):
        sc.matrix(new)


def test_split_segmenter_errors():
    km = KMeans(2, n_init=1, random_state=0).fit(np.array([[0.0], [1.0], [5.0]]))
    with pytest.raises(SchemaError, match="records no feature_names_in_"):
        split_segmenter(km)
    with pytest.raises(SchemaError, match="cannot score with a dict"):
        split_segmenter({})


def test_required_columns_exclude_dropped():
    pre = ColumnTransformer([("n", StandardScaler(), ["frequency"])], remainder="drop")
    X = FEATS[["frequency", "gender"]]
    pipe = Pipeline([("pre", pre), ("km", KMeans(2, n_init=1, random_state=0))]).fit(X)
    sc = CompiledScorer.compile(pipe)
    assert sc.required_columns == ["frequency"]
    np.testing.assert_array_equal(
        sc.assign(sc.matrix(X[["frequency"]])).labels, pipe.predict(X)
    )


def test_nullable_dtypes():
    X = pd.DataFrame({
        "b": pd.array([True, None, False, True] * 10, dtype="boolean"),
        "i": pd.array([1, None, 3, 4] * 10, dtype="Int64"),
    })
    pre = ColumnTransformer([("n", make_pipeline(ToFloat(), SimpleImputer(add_indicator=True),
                                                 StandardScaler()), ["b", "i"])])
    pipe = Pipeline([("pre", pre), ("km", KMeans(2, n_init=1, random_state=0))]).fit(X)
    sc = CompiledScorer.compile(pipe)
    np.testing.assert_array_equal(sc.matrix(X), pipe[0].transform(X))
    np.testing.assert_array_equal(sc.matrix_one({"b": pd.NA, "i": None}), sc.matrix(X)[1:2])


_PIPE = Pipeline([("pre", make_preprocessor()), ("km", KMeans(3, n_init=1, random_state=0))])
_PIPE.fit(FEATS)
_SC = CompiledScorer.compile(_PIPE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(0, 1e4)),
            st.one_of(st.none(), st.floats(0, 50)),
            st.one_of(st.none(), st.floats(-100, 1e5)),
            st.sampled_from(["north", "south", "east", "west", "mars", None]),
            st.sampled_from(["f", "m", None]),
            st.sampled_from(["low", "mid", "high"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_property_matrix_and_labels_match_pipeline(rows):
    frame = pd.DataFrame(rows, columns=[*NUM, *CAT, "satisfaction"]).astype(
        {c: "float64" for c in NUM} | {c: "str" for c in CAT}  # missing levels are NaN
    )
    frame["monetary"] = frame["monetary"].abs()
    z = _SC.matrix(frame)
    np.testing.assert_array_equal(z, _PIPE[0].transform(frame))
    np.testing.assert_array_equal(_SC.assign(z).labels, _PIPE.predict(frame))
    np.testing.assert_array_equal(_SC.matrix_one(frame.iloc[0].to_dict()), z[:1])


def test_coded_string_columns_in_blocks():
    """String columns factorized once and looked up per block: RareOneHot (a 'missing'
    label, a level literally called 'missing'), nested and plain one-hot, unseen levels."""
    from segml.scoring.steps import _Coded

    feats = make_features(400, seed=3)
    feats.loc[feats.index[::9], "gender"] = "missing"
    pre = ColumnTransformer([
        ("n", StandardScaler(), ["frequency"]),
        ("r", RareOneHot(min_frequency=0.2), ["region"]),
        ("nested", ColumnTransformer([("g", RareOneHot(min_frequency=0.05), ["gender"])]),
         ["gender", "satisfaction"]),
        ("s", OneHotEncoder(handle_unknown="ignore"), ["satisfaction"]),
    ])
    pipe = Pipeline([("pre", pre), ("km", KMeans(3, n_init=1, random_state=0))]).fit(feats)
    sc = CompiledScorer.compile(pipe)
    assert sc.fallbacks == []
    assert [sc.columns[i] for i in sc._onehot_inputs()] == ["region", "gender", "satisfaction"]
    new = make_features(300, seed=4)
    new.loc[new.index[:4], "region"] = "mars"
    new.loc[new.index[4:8], "satisfaction"] = "meh"
    new.loc[new.index[8:20], "gender"] = np.nan
    assert isinstance(new["region"].dtype, pd.StringDtype)
    _assert_blocks_identical(sc, new, rows=50)
    np.testing.assert_array_equal(sc.matrix(new), pipe[0].transform(new))
    np.testing.assert_array_equal(sc.assign_frame(new, chunk_rows=50)[0].labels, pipe.predict(new))
    codes, uniq = pd.factorize(new["region"].array)
    given = {"region": (codes, uniq.tolist())}
    a, _ = sc.assign_frame(new, chunk_rows=50, factorized=given)
    np.testing.assert_array_equal(a.labels, pipe.predict(new))
    col = _Coded(new["gender"].array, *pd.factorize(new["gender"].array))
    lab = col.as_label()
    assert lab.uniques.count("missing") == 1
    np.testing.assert_array_equal(
        np.asarray(lab.uniques, dtype=object)[lab.codes], new["gender"].fillna("missing").to_numpy()
    )

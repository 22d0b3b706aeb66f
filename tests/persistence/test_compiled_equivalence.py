"""Every transformer the compiled scorer replays gives the fitted pipeline's results.

One case per entry of :func:`segml.scoring.registry.registry` (a small preprocessor using
that class, then KMeans and a diagonal GaussianMixture): the compiled model matrix equals
``pipeline[0].transform`` elementwise, labels equal ``pipeline.predict``, distances and
confidences agree to FLOAT_TOL (they go through a BLAS product). The guard tests fail when
a class is registered without a case here, or when a segml feature transformer exported by
:mod:`segml.features` is neither registered nor an explicit fallback.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.base import TransformerMixin
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

import segml.features
from segml.features import (
    FamilyWeight,
    FrequencyEncoder,
    LogMoney,
    MissingFlags,
    OrdinalScale,
    RareOneHot,
    ToFloat,
    Winsorizer,
)
from segml.scoring.compiled import CompiledScorer
from segml.scoring.registry import explicit_fallbacks, registry

from .conftest import CAT, FLOAT_TOL, NUM, make_features

TRAIN = make_features(600, seed=5)
NEW = make_features(300, seed=13)
NEW.loc[NEW.index[:3], "region"] = "mars"  # unseen level: each encoder's own policy
NEW.loc[NEW.index[3], "monetary"] = 1e7  # beyond the training range


def _num(*steps: object) -> ColumnTransformer:
    """Numeric columns through ``steps`` (imputed first, so the estimator sees no NaN)."""
    return ColumnTransformer([("n", make_pipeline(SimpleImputer(strategy="median"), *steps), NUM)])


def _seg_num(*steps: object) -> ColumnTransformer:
    """Numeric columns through segml ``steps`` (ToFloat first, imputed last)."""
    return ColumnTransformer(
        [("n", make_pipeline(ToFloat(), *steps, SimpleImputer(strategy="median")), NUM)]
    )


#: Registered class -> preprocessor using it. Every registry entry needs one.
CASES: dict[type, Callable[[], object]] = {
    ColumnTransformer: lambda: ColumnTransformer(
        [("n", make_pipeline(SimpleImputer(), StandardScaler()), NUM),
         ("p", "passthrough", ["frequency"]),
         ("d", "drop", ["gender"])],
        remainder=OneHotEncoder(handle_unknown="ignore"),
        transformer_weights={"n": 2.0, "p": 0.5},
    ),
    Pipeline: lambda: Pipeline(
        [("cols", _num(StandardScaler())), ("passthrough", "passthrough"),
         ("w", FamilyWeight(weight=2.0))]
    ),
    SimpleImputer: lambda: ColumnTransformer(
        [("n", SimpleImputer(strategy="mean", add_indicator=True), NUM),
         ("c", make_pipeline(SimpleImputer(strategy="constant", fill_value="none"),
                             OneHotEncoder(handle_unknown="ignore")), ["region"])]
    ),
    StandardScaler: lambda: _num(StandardScaler()),
    RobustScaler: lambda: _num(RobustScaler()),
    MinMaxScaler: lambda: _num(MinMaxScaler()),
    OneHotEncoder: lambda: ColumnTransformer(
        [("n", _num(StandardScaler()), NUM),
         ("c", make_pipeline(SimpleImputer(strategy="most_frequent"),
                             OneHotEncoder(drop="first", handle_unknown="ignore")), CAT)]
    ),
    OrdinalEncoder: lambda: ColumnTransformer(
        [("n", _num(StandardScaler()), NUM),
         ("o", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                              encoded_missing_value=-2), ["satisfaction", "region"])]
    ),
    FunctionTransformer: lambda: _num(
        FunctionTransformer(np.log1p, feature_names_out="one-to-one"), StandardScaler()
    ),
    OrdinalScale: lambda: ColumnTransformer(
        [("n", _num(StandardScaler()), NUM),
         ("s", make_pipeline(OrdinalScale(levels=["low", "mid", "high"]), SimpleImputer()),
          ["satisfaction"])]
    ),
    FrequencyEncoder: lambda: ColumnTransformer(
        [("n", _num(StandardScaler()), NUM),
         ("f", FrequencyEncoder(), CAT)]
    ),
    RareOneHot: lambda: ColumnTransformer(
        [("n", _num(StandardScaler()), NUM),
         ("r", RareOneHot(min_frequency=0.2), ["region"])]
    ),
    ToFloat: lambda: _seg_num(),
    LogMoney: lambda: _seg_num(LogMoney()),
    Winsorizer: lambda: _seg_num(Winsorizer()),
    FamilyWeight: lambda: ColumnTransformer(
        [("n", make_pipeline(SimpleImputer(), StandardScaler(), FamilyWeight(weight=3.0)), NUM)]
    ),
    MissingFlags: lambda: ColumnTransformer(
        [("n", _num(StandardScaler()), NUM), ("m", MissingFlags(scale=0.5), NUM + CAT)]
    ),
}

ESTIMATORS = {
    "kmeans": lambda: KMeans(3, n_init=2, random_state=0),
    "gmm_diag": lambda: GaussianMixture(3, covariance_type="diag", random_state=0),
}


def _name(cls: type) -> str:
    return cls.__name__


def _distances(z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Euclidean distance of every row to every centre, row by row (no BLAS product)."""
    return np.sqrt(((z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))


@pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning")
@pytest.mark.parametrize("est", list(ESTIMATORS))
@pytest.mark.parametrize("cls", list(CASES), ids=_name)
def test_compiled_equals_pipeline(cls: type, est: str) -> None:
    pipe = Pipeline([("pre", CASES[cls]()), ("est", ESTIMATORS[est]())]).fit(TRAIN)
    sc = CompiledScorer.compile(pipe)
    assert sc.fallbacks == []
    ref = np.asarray(pipe[0].transform(NEW), dtype=np.float64)
    z = sc.matrix(NEW)
    assert z.dtype == np.float64
    np.testing.assert_array_equal(z, ref)
    for i in (0, 3, 7):
        np.testing.assert_array_equal(sc.matrix_one(NEW.iloc[i].to_dict()), ref[i : i + 1])
    a = sc.assign(z)
    labels = pipe.predict(NEW)
    np.testing.assert_array_equal(a.labels, labels)
    centers = pipe[-1].cluster_centers_ if est == "kmeans" else pipe[-1].means_
    d = _distances(ref, np.asarray(centers, dtype=np.float64))
    rows = np.arange(len(NEW))
    np.testing.assert_allclose(a.distance, d[rows, labels], **FLOAT_TOL)
    if est == "kmeans":
        runner_up = np.where(np.eye(d.shape[1], dtype=bool)[labels], np.inf, d).min(axis=1)
        conf = np.clip(1.0 - d[rows, labels] / runner_up, 0.0, 1.0)
    else:
        conf = pipe.predict_proba(NEW)[rows, labels]
    np.testing.assert_allclose(a.confidence, conf, **FLOAT_TOL)


def test_every_registered_class_has_a_case() -> None:
    registered = set(registry())
    missing = sorted(c.__name__ for c in registered - set(CASES))
    stale = sorted(c.__name__ for c in set(CASES) - registered)
    assert not missing, f"registered without an equivalence case in CASES: {missing}"
    assert not stale, f"CASES for classes the registry does not hold: {stale}"


def _exported_transformers() -> set[type]:
    out = set()
    for name in segml.features.__all__:
        obj = getattr(segml.features, name)
        if inspect.isclass(obj) and issubclass(obj, TransformerMixin):
            out.add(obj)
    return out


def test_every_segml_transformer_is_registered_or_an_explicit_fallback() -> None:
    registered, fallbacks = set(registry()), set(explicit_fallbacks())
    assert not registered & fallbacks, "a class is both registered and a fallback"
    exported = _exported_transformers()
    assert len(exported) >= 10  # the check looks at the real exports
    unhandled = sorted(c.__name__ for c in exported - registered - fallbacks)
    assert not unhandled, (
        f"segml.features exports {unhandled}: register a compile function in "
        "segml.scoring.registry (with a case in CASES) or list it in _FALLBACK_NAMES"
    )
    assert fallbacks <= exported, "an explicit fallback that segml.features does not export"


def test_unregistered_class_falls_back_and_stays_equal() -> None:
    """A registered class's subclass in segml is not compiled (its transform may differ)."""

    class Doubled(FamilyWeight):
        def transform(self, X):  # noqa: N802 - sklearn signature
            return super().transform(X) * 2.0

    pre = ColumnTransformer([("n", make_pipeline(SimpleImputer(), Doubled()), NUM)])
    pipe = Pipeline([("pre", pre), ("km", KMeans(3, n_init=1, random_state=0))]).fit(TRAIN)
    sc = CompiledScorer.compile(pipe)
    assert sc.fallbacks == ["n (Doubled)"]
    np.testing.assert_array_equal(sc.matrix(NEW), pipe[0].transform(NEW))
    np.testing.assert_array_equal(sc.assign(sc.matrix(NEW)).labels, pipe.predict(NEW))


def test_new_frame_exercises_unknowns_and_missing() -> None:
    """The cases above see unseen levels, missing values and out-of-range numbers."""
    assert (NEW["region"] == "mars").sum() == 3
    assert NEW["monetary"].isna().any() and NEW["region"].isna().any()
    assert NEW["monetary"].max() > TRAIN["monetary"].max()
    assert isinstance(NEW, pd.DataFrame)

"""Fixtures for the persistence/scoring tests: hand-made feature frames and fitted stand-ins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

#: Tolerance for floats that go through a BLAS matrix product (distances, confidences,
#: GMM probabilities): its summation order depends on the matrix shape and the CPU kernel,
#: so two scoring paths agree to rounding (1 ulp seen), not bit for bit. Labels and segment
#: ids are always compared exactly.
FLOAT_TOL = {"rtol": 1e-9, "atol": 1e-9}

NUM = ["recency_days", "frequency", "monetary"]
CAT = ["region", "gender"]
ORD = ["satisfaction"]


def make_features(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Feature frame with three planted groups, a few NaNs, string categories."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    df = pd.DataFrame(
        {
            "recency_days": rng.exponential(20, n) + g * 60,
            "frequency": rng.poisson(2 + 4 * g).astype(float),
            "monetary": rng.gamma(2, 50 + 100 * g),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "gender": rng.choice(["f", "m"], n),
            "satisfaction": rng.choice(["low", "mid", "high"], n),
        },
        index=pd.Index([f"CUST-{seed}-{i:06d}" for i in range(n)], name="customer_id"),
    )
    df.loc[df.index[::37], "monetary"] = np.nan
    df.loc[df.index[::41], "region"] = np.nan
    return df


def make_preprocessor() -> ColumnTransformer:
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median"),
                    FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                    StandardScaler(),
                ),
                NUM,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                CAT,
            ),
            ("ord", OrdinalEncoder(), ORD),
        ]
    )


@pytest.fixture(scope="session")
def features() -> pd.DataFrame:
    return make_features()


@pytest.fixture(scope="session")
def kmeans_pipe(features: pd.DataFrame) -> Pipeline:
    return Pipeline(
        [("pre", make_preprocessor()), ("km", KMeans(n_clusters=3, n_init=3, random_state=0))]
    ).fit(features)


@pytest.fixture(scope="session")
def gmm_pipe(features: pd.DataFrame) -> Pipeline:
    return Pipeline(
        [("pre", make_preprocessor()), ("gm", GaussianMixture(n_components=3, random_state=0))]
    ).fit(features)


@pytest.fixture(scope="session")
def kmeans_model(kmeans_pipe: Pipeline, features: pd.DataFrame):
    from segml.persistence import SegmentModel

    return SegmentModel.from_training(
        kmeans_pipe,
        features,
        name="demo",
        as_of="2026-10-31",
        training_window=("2025-11-01", "2026-10-31"),
        segment_names=["loyal", "occasional", "lapsed"],
        segment_roles={0: "retain", 2: "win back"},
        metrics={"silhouette": 0.41},
    )

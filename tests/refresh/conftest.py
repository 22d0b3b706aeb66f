"""Fixtures for the refresh tests: a small k-means model fitted through the features layer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from segml.features import build_features
from segml.persistence import SegmentModel


def _fit(tx: Any, customers: Any, as_of: Any, k: int, name: str = "refresh") -> SegmentModel:
    fs = build_features(tx, customers, as_of)
    cols = ["recency_days", "frequency", "monetary"]
    pipe = Pipeline([
        ("pre", ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()),
                                    cols)])),
        ("km", KMeans(n_clusters=k, n_init=1, random_state=0)),
    ]).fit(fs.frame)
    return SegmentModel.from_training(pipe, fs.frame, feature_set=fs, name=name)


@pytest.fixture(scope="session")
def fit_model() -> Callable[..., SegmentModel]:
    """Return ``fit(tx, customers, as_of, k, name=...)``: a model on recency/frequency/monetary."""
    return _fit

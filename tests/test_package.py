"""Package-level facts: the version string and the one NotFittedError."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions

import segml
import segml.errors
from segml.cluster.segmenter import Segmenter
from segml.rules.lookalike import LookalikeScorer


def test_version_is_the_distribution_version() -> None:
    assert isinstance(segml.__version__, str)
    assert segml.__version__ == importlib.metadata.version("segml")


def test_not_fitted_error_is_both_segml_and_sklearn() -> None:
    err = segml.errors.NotFittedError
    assert issubclass(err, sklearn.exceptions.NotFittedError)
    assert issubclass(err, segml.errors.SegmlError)
    # scikit-learn's is a ValueError and an AttributeError; so segml's stays one.
    assert issubclass(err, AttributeError)
    assert issubclass(err, ValueError)


@pytest.mark.parametrize(
    "catch", [sklearn.exceptions.NotFittedError, segml.errors.SegmlError, AttributeError]
)
def test_unfitted_segmenter_raises_segml_not_fitted(catch: type[Exception]) -> None:
    with pytest.raises(catch) as info:
        Segmenter(n_clusters=2).predict(np.zeros((3, 2)))
    assert type(info.value) is segml.errors.NotFittedError
    assert "not fitted yet" in str(info.value)


@pytest.mark.parametrize("catch", [sklearn.exceptions.NotFittedError, segml.errors.SegmlError])
def test_unfitted_lookalike_raises_segml_not_fitted(catch: type[Exception]) -> None:
    with pytest.raises(catch, match="LookalikeScorer is not fitted yet") as info:
        LookalikeScorer().score_samples(pd.DataFrame({"a": [1.0]}))
    assert type(info.value) is segml.errors.NotFittedError

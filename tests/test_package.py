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


# ----------------------------------------------------------------------------- the short API
def test_top_level_names_are_the_implementations() -> None:
    import segml.io
    import segml.persistence
    import segml.scoring
    import segml.workflow

    assert segml.segment is segml.workflow.segment
    assert segml.Segmentation is segml.workflow.Segmentation
    assert segml.demo_data is segml.workflow.demo_data
    assert segml.load_model is segml.persistence.load_model
    assert segml.score is segml.scoring.score
    assert segml.read_transactions is segml.io.read_transactions
    assert segml.read_customers is segml.io.read_customers
    assert set(segml.__all__) <= set(dir(segml))


def test_unknown_top_level_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'segml' has no attribute 'segmnet'"):
        segml.segmnet  # noqa: B018 - the attribute access is the test


def test_import_segml_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, segml; "
            "print(sorted({'pandas', 'sklearn', 'matplotlib'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_is_documented() -> None:
    for name in segml.__all__:
        if name != "__version__":
            assert (getattr(segml, name).__doc__ or "").strip(), name
    for name in ("segment", "demo_data", "Segmentation"):
        assert "Parameters\n    ----------\n" in getattr(segml, name).__doc__, name

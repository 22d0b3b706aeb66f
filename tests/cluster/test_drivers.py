"""Between-segment sum-of-squares shares per model column (segml.cluster.drivers)."""

import numpy as np
import pandas as pd
import pytest

from segml.cluster.drivers import between_ss_shares
from segml.errors import ConfigError


def test_exact_on_a_hand_computed_frame():
    # a: grand mean 4, segment means 1, 4, 10 -> BSS 2*9 + 0 + 36 = 54, TSS 16+4+0+36 = 56
    # b: grand mean 3, segment means 1, 4, 6  -> BSS 2*4 + 1 + 9 = 18, TSS 4+4+1+9 = 18
    Z = pd.DataFrame({"b": [1.0, 1.0, 4.0, 6.0], "a": [0.0, 2.0, 4.0, 10.0]})
    out = between_ss_shares(Z, ["x", "x", "y", "z"])
    assert out.index.tolist() == ["a", "b"]  # largest share first
    np.testing.assert_allclose(out["between_ss"], [54.0, 18.0], rtol=1e-12)
    np.testing.assert_allclose(out["total_ss"], [56.0, 18.0], rtol=1e-12)
    np.testing.assert_allclose(out["share"], [0.75, 0.25], rtol=1e-12)
    np.testing.assert_allclose(out["r2"], [54 / 56, 1.0], rtol=1e-12)


def test_shares_sum_to_one_and_arrays_get_names():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(50, 3))
    lab = rng.integers(0, 4, 50)
    out = between_ss_shares(Z, lab)
    assert sorted(out.index) == ["x0", "x1", "x2"]
    assert out["share"].sum() == pytest.approx(1.0)
    # one segment: nothing separates
    assert (between_ss_shares(Z, np.zeros(50))["share"] == 0).all()


def test_errors():
    with pytest.raises(ConfigError, match=r"labels has shape \(2,\) but Z has 3 rows"):
        between_ss_shares(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ConfigError, match=r"Z holds NaN or infinite values"):
        between_ss_shares(np.array([[np.nan], [1.0]]), [0, 1])

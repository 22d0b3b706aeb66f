"""segml._numeric.to_float: the one numeric conversion the core shares."""

import numpy as np
import pandas as pd
from numpy.testing import assert_array_equal

from segml._numeric import to_float


def test_to_float_text_nullable_and_missing():
    assert_array_equal(to_float(pd.Series(["1.5", None, "x", "2"])), [1.5, np.nan, np.nan, 2.0])
    out = to_float(pd.Series([1, None, 3], dtype="Int64"))
    assert out.dtype == np.float64
    assert_array_equal(out, [1.0, np.nan, 3.0])
    assert_array_equal(to_float(pd.Series([True, False], dtype="boolean")), [1.0, 0.0])
    assert_array_equal(to_float(np.array([2, 4])), [2.0, 4.0])

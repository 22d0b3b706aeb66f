"""Exact migration counts and movers on a hand-made pair of assignments."""

import numpy as np
import pandas as pd
import pytest

from segml.backtest import migration_matrix, movers
from segml.errors import SchemaError

BEFORE = pd.Series(["A", "A", "B", "C"], index=[1, 2, 3, 4])
AFTER = pd.Series(["A", "B", "B", "D"], index=[1, 2, 3, 5])


def test_counts_and_left_out_customers():
    m = migration_matrix(BEFORE, AFTER)
    assert list(m.index) == list(m.columns) == ["A", "B", "C", "D"]
    assert m.loc["A"].tolist() == [1, 1, 0, 0]
    assert m.loc["B"].tolist() == [0, 1, 0, 0]
    assert int(m.to_numpy().sum()) == 3
    assert m.attrs == {"only_before": 1, "only_after": 1}


def test_row_shares():
    m = migration_matrix(BEFORE, AFTER, normalize="index")
    np.testing.assert_allclose(m.loc["A"].to_numpy(), [0.5, 0.5, 0.0, 0.0])
    assert m.loc["C"].isna().all()  # nobody from C is present at both dates


def test_movers_lists_only_changes():
    out = movers(BEFORE, AFTER)
    assert out.to_dict("records") == [{"customer_id": 2, "from_segment": "A", "to_segment": "B"}]


def test_order_independent():
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(BEFORE))
    pd.testing.assert_frame_equal(migration_matrix(BEFORE.iloc[perm], AFTER),
                                  migration_matrix(BEFORE, AFTER))


def test_duplicate_ids_refused():
    with pytest.raises(SchemaError, match=r"before: customer id\(s\) appear more than once \(1\)"):
        migration_matrix(pd.Series(["A", "B"], index=[1, 1]), AFTER)


def test_bad_normalize():
    with pytest.raises(ValueError, match="normalize must be 'index' or None"):
        migration_matrix(BEFORE, AFTER, normalize="all")

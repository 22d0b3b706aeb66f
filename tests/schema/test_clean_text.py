"""Already-clean Arrow text is recognised in one Arrow pass and kept as it is (issue 19).

The fast path of ``segml.schema.values._to_string`` must give exactly what the
per-distinct-value cleaning gives (strip, empty -> missing), for any text.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.schema import values as V

TEXT = st.one_of(st.none(), st.sampled_from(["o1", "o2", " o3", "o4 ", "", " ", "\x1fo5",
                                             "\xa0o6", "é", "a b"]),
                 st.text(alphabet="ab \t\x1c\xa0é", max_size=4))


@settings(max_examples=80, deadline=None)
@given(st.lists(TEXT, max_size=30))
def test_fast_path_equals_the_distinct_value_cleaning(values):
    s = pd.Series(values, dtype="str", name="order_id")
    got = V._to_string(s)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(V, "_clean_arrow_text", lambda _s: False)
        want = V._to_string(s)
    pd.testing.assert_series_equal(got, want)


def test_clean_means_ascii_trimmed_and_not_empty():
    assert V._clean_arrow_text(pd.Series(["a", None, "b-1"], dtype="str"))
    assert not V._clean_arrow_text(pd.Series(["a", "b "], dtype="str"))
    assert not V._clean_arrow_text(pd.Series(["a", ""], dtype="str"))
    assert not V._clean_arrow_text(pd.Series(["\x1fa"], dtype="str"))  # str.strip removes it
    assert not V._clean_arrow_text(pd.Series(["é"], dtype="str"))  # non-ASCII: slow path
    assert not V._clean_arrow_text(pd.Series(["a"], dtype="object"))
    assert V._to_string(pd.Series([" a ", ""], dtype="str")).tolist()[0] == "a"

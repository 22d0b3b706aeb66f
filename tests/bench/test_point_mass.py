"""Point-mass splits and the guards g1 / g2 for ``ps_largest`` (bench/point_mass.py, issue 15).

Hand-made frames and tables with exact expected values: which columns have a point mass, the
Jaccard of a hand-made partition against it, and each guard's decision.
"""


import numpy as np
import pandas as pd
import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("point_mass")


# 10 rows. col 0: 0 in rows 0-5 (share 0.6); col 1: all distinct (share 0.1);
# col 2: 7 in rows 0, 1 and 8 (share 0.3)
TEN = np.array([[0, 10, 7], [0, 11, 7], [0, 12, 1], [0, 13, 2], [0, 14, 3],
                [0, 15, 4], [1, 16, 5], [2, 17, 6], [3, 18, 7], [4, 19, 8]], dtype=float)
AT0 = np.arange(10) < 6  # rows at col 0's mode


def test_point_mass_masks_of_a_ten_row_frame(bench):
    got = bench.point_mass_masks(TEN, min_share=0.3)
    assert sorted(got) == [0, 2]
    assert got[0].tolist() == AT0.tolist()
    assert np.flatnonzero(got[2]).tolist() == [0, 1, 8]
    assert sorted(bench.point_mass_masks(TEN, min_share=0.5)) == [0]
    # the default 5%: one row of 10 is a mode held by 10%, so every column
    assert sorted(bench.point_mass_masks(TEN)) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"min_share=0 should be in \(0, 1\]"):
        bench.point_mass_masks(TEN, min_share=0)


def test_capture_by_one_segment(bench):
    # segment 0 = rows 0-3 (all at the mode), segment 1 = rows 4-6 (2 of 3), segment 2 = 7-9
    c = bench.point_mass_capture([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], AT0)
    assert c.segments == (0,)
    assert c.jaccard == pytest.approx(4 / 6, abs=1e-12)
    assert c.shares == pytest.approx({0: 1.0, 1: 2 / 3, 2: 0.0}, abs=1e-12)
    # segment 1 joins the union at a share threshold of 2/3: rows 0-6 against rows 0-5
    c = bench.point_mass_capture([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], AT0, min_share=0.6)
    assert c.segments == (0, 1)
    assert c.jaccard == pytest.approx(6 / 7, abs=1e-12)


def test_capture_by_a_union_of_segments(bench):
    # the point mass is cut in two segments (rows 0-2, 3-5); their union is exactly it
    c = bench.point_mass_capture(np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2]), AT0)
    assert c.segments == (0, 1)
    assert c.jaccard == pytest.approx(1.0, abs=1e-12)


def test_a_union_of_every_segment_is_not_a_split(bench):
    # shares 1.0 and 0.8 (rows 0-8 at the mode): both pass 0.75, but their union is everything
    at = np.arange(10) < 9
    c = bench.point_mass_capture([0] * 5 + [1] * 5, at, min_share=0.75)
    assert c.segments == (0,)
    assert c.jaccard == pytest.approx(5 / 9, abs=1e-12)


def test_capture_rejects_bad_input(bench):
    with pytest.raises(ValueError, match=r"1-D of one length; got shapes \(3,\) and \(2,\)"):
        bench.point_mass_capture([0, 1, 1], [True, False])
    with pytest.raises(ValueError, match="at_mass should be boolean; got dtype int64"):
        bench.point_mass_capture([0, 1, 1], np.array([1, 0, 0], dtype=np.int64))
    with pytest.raises(ValueError, match="at least 2 segments; got 1"):
        bench.point_mass_capture([0, 0, 0], [True, False, False])
    with pytest.raises(ValueError, match=r"min_share=1.5 should be in \(0, 1\]"):
        bench.point_mass_capture([0, 1, 1], [True, False, False], min_share=1.5)


def test_partition_point_masses_sorts_by_jaccard(bench):
    labels = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    got = bench.partition_point_masses(TEN, labels, min_share=0.3)
    # col 0: segments 0 and 1 are its rows exactly; col 2 (rows 0, 1, 8): segment 0 (2 of 3
    # rows at the mode) is the best single one, 2 / 4, and no segment reaches 0.9
    assert got["column"].tolist() == [0, 2]
    assert got["segments"].tolist() == [[0, 1], [0]]
    assert got["m"].tolist() == [2, 1]
    np.testing.assert_allclose(got["jaccard"], [1.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(got["mode_share"], [0.6, 0.3], atol=1e-12)
    # no point mass at 70%: an empty table with the columns
    empty = bench.partition_point_masses(TEN, labels, min_share=0.7)
    assert empty.empty and list(empty.columns) == ["column", "mode_share", "jaccard",
                                                   "segments", "m"]


def _guard(**over):
    base = {"k": [1, 2, 3, 4], "gap": [0.0, 0.1, 0.2, 0.3],
            "reproducible": [True, True, True, True],
            "jaccard": [np.nan, 0.5, 0.95, 0.92], "off_k": [np.nan, np.nan, 2, 3],
            "off_ps": [np.nan, np.nan, 0.85, 0.3]}
    base.update(over)
    return pd.DataFrame(base)


def test_g1_discounts_point_mass_splits_without_structure_off_the_mass(bench):
    # k = 4 is a split (0.92) whose off rows are not reproducible at 3 (0.3): discounted;
    # k = 3 is a split too but its off rows are reproducible at 2 (0.85): kept
    assert bench.g1_choose(_guard()) == 3
    # off rows at PS 0.79 < 0.8: k = 3 discounted as well, k = 2 (Jaccard 0.5) stays
    assert bench.g1_choose(_guard(off_ps=[np.nan, np.nan, 0.79, 0.3])) == 2
    # k = 2 a split too, with one segment left off the mass (off_k 1): nothing remains
    assert bench.g1_choose(_guard(jaccard=[np.nan, 0.9, 0.95, 0.92],
                                  off_k=[np.nan, 1, 2, 3],
                                  off_ps=[np.nan, np.nan, 0.79, 0.3])) == 1
    # no split anywhere: plain ps_largest (k = 4); k = 4 not reproducible: 3 is not a split
    # to keep (0.85 off) -> 3
    assert bench.g1_choose(_guard(jaccard=[np.nan, 0.5, 0.5, 0.5])) == 4
    assert bench.g1_choose(_guard(reproducible=[True, True, True, False])) == 3
    # the kept k must beat Gap(1), as in ps_largest
    assert bench.g1_choose(_guard(gap=[0.3, 0.1, 0.2, 0.4])) == 1


def test_g1b_also_keeps_a_split_whose_rows_at_the_mass_are_reproducible(bench):
    # k = 4: union of m = 3 segments on the mass, one segment off it (off_k 1)
    tab = _guard(jaccard=[np.nan, 0.5, 0.5, 0.95], off_k=[np.nan, np.nan, np.nan, 1],
                 off_ps=[np.nan] * 4, at_m=[np.nan, np.nan, np.nan, 3],
                 at_ps=[np.nan, np.nan, np.nan, 0.8])
    assert bench.g1_choose(tab) == 3  # g1: nothing off the mass, discounted
    assert bench.g1_choose(tab, both_sides=True) == 4  # g1b: 3 reproducible segments at it
    tab["at_ps"] = [np.nan, np.nan, np.nan, 0.7]
    assert bench.g1_choose(tab, both_sides=True) == 3
    tab["at_m"] = [np.nan, np.nan, np.nan, 1]  # one segment on each side: a one-column rule
    tab["at_ps"] = [np.nan, np.nan, np.nan, 1.0]
    assert bench.g1_choose(tab, both_sides=True) == 3
    with pytest.raises(ValueError, match=r"lacks columns \['at_m', 'at_ps'\]"):
        bench.g1_choose(_guard(), both_sides=True)


def test_g1_rejects_bad_tables(bench):
    with pytest.raises(ValueError, match=r"lacks columns \['off_ps'\]"):
        bench.g1_choose(_guard().drop(columns="off_ps"))
    with pytest.raises(ValueError, match="a row for k = 1"):
        bench.g1_choose(_guard().iloc[1:])


def test_g2_keeps_k_only_with_structure_off_the_masses(bench):
    assert bench.g2_choose(3, [0], 1) == 1
    assert bench.g2_choose(3, [0, 2], 2) == 3
    assert bench.g2_choose(3, [], None) == 3
    assert bench.g2_choose(1, [], None) == 1
    with pytest.raises(ValueError, match=r"captured columns \[0\] at k=3 need the sub-sweep"):
        bench.g2_choose(3, [0], None)

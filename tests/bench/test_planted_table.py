"""The per-case planted table of issue 15 (bench/planted_table.py), on hand-made sweeps."""

import json

import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("planted_table")


def _sweep(planted=3, seed=0, current_k=1):
    # k = 1..4: k = 2 and 3 reproducible, k = 4 not (PS 0.5); the gap peaks at k = 4
    rows = [(1, 0.10, 1.00, None), (2, 0.50, 0.95, 0.90), (3, 0.60, 0.92, 0.88),
            (4, 0.70, 0.50, 0.60)]
    table = [{"k": k, "gap": g, "gap_s": 0.01, "prediction_strength": ps,
              "stability_jaccard_min": j, "too_small": False} for k, g, ps, j in rows]
    ari = {"2": 0.4, "3": 0.9, "4": 0.7} if planted > 1 else {}
    return {"case": "planted", "size": 3000, "planted": planted, "seed": seed, "n": 2640,
            "p": 44, "table": table, "current_k": current_k, "ari": ari}


def test_case_row_reads_every_rule_and_the_planted_k(bench):
    row = bench.case_row(_sweep(), {"refs": {"hurdle2": {"k": 2}}})
    # tibs: Gap(1) 0.1 < Gap(2) - s, Gap(2) 0.5 < 0.6 - 0.01, Gap(3) 0.6 < 0.69: largest k = 4,
    # not reproducible -> 1; ps_largest: largest reproducible 3, Gap(3) > Gap(1);
    # ps_strict: PS >= 0.9 and Jaccard >= 0.85 keep 3, Gap(3) 0.6 > 0.1 + 2 * 0.01
    assert row["k"] == {"current": 1, "tibs": 1, "ps_largest": 3, "ps_strict": 3, "hurdle2": 2}
    assert row["ari"] == {"current": 0.0, "tibs": 0.0, "ps_largest": 0.9, "ps_strict": 0.9,
                          "hurdle2": 0.4}
    assert row["ari_planted"] == pytest.approx(0.9, abs=1e-12)
    assert row["ps_planted"] == pytest.approx(0.92, abs=1e-12)
    assert row["reproducible"] == [1, 2, 3]
    assert row["gap_peak"] == 4


def test_case_row_without_truth_or_hurdle2(bench):
    row = bench.case_row(_sweep(planted=1))
    assert row["k"]["hurdle2"] is None
    assert row["ari_planted"] is None and row["ps_planted"] is None
    assert set(row["ari"].values()) == {None}


def test_load_rows_and_markdown_pair_sweeps_with_null_reference_cases(bench, tmp_path):
    cache, ref = tmp_path / "cache", tmp_path / "ref"
    cache.mkdir()
    ref.mkdir()
    for seed in (1, 0):
        (cache / f"sweep_planted_3000_3_{seed}.json").write_text(json.dumps(_sweep(seed=seed)))
    (ref / "case_planted_3000_3_0.json").write_text(json.dumps({"refs": {"hurdle2": {"k": 3}}}))
    rows = bench.load_rows(cache, ref)
    assert [(r["seed"], r["k"]["hurdle2"]) for r in rows] == [(0, 3), (1, None)]
    assert bench.load_rows(cache, ref, size=20000) == []
    md = bench.markdown(rows).splitlines()
    assert "current / tibs / ps_largest / ps_strict / hurdle2" in md[0]
    assert md[2].startswith("| 3,000 | 3 | 0 | 2,640 x 44 | 1 / 1 / 3 / 3 / 3 | "
                            "0.000 / 0.000 / 0.900 / 0.900 / 0.900 | 0.900 | 0.920 | 1,2,3 | 4 |")
    assert "| 1 / 1 / 3 / 3 / - |" in md[3]

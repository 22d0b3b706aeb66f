"""The k rules of issue 15's comparison (bench/k_rules.py), on hand-made sweep tables."""

import json

import numpy as np
import pandas as pd
import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("k_rules")


def _tab(gap, ps, jac, s=0.05, too_small=None):
    k = list(range(1, len(gap) + 1))
    return pd.DataFrame({"k": k, "gap": gap, "gap_s": s, "prediction_strength": ps,
                         "stability_jaccard_min": jac,
                         "too_small": too_small or [False] * len(k)})


def test_reproducible_ks_apply_every_filter(bench):
    t = _tab([0, 1, 1, 1, 1], [1, .9, .9, .79, .95], [np.nan, .8, .7, .9, .9],
             too_small=[False, False, False, False, True])
    assert bench.reproducible_ks(t) == [1, 2]
    assert bench.reproducible_ks(t, ps_threshold=0.7, min_jaccard=0.6) == [1, 2, 3, 4]
    # stability not computed: prediction strength and size only
    t["stability_jaccard_min"] = np.nan
    assert bench.reproducible_ks(t) == [1, 2, 3]


def test_tibs_rule_is_the_papers_rule_kept_only_when_reproducible(bench):
    # Gap(3) = 0.9 >= Gap(4) - s = 0.83: the paper picks 3, reproducible
    t = _tab([0.1, 0.5, 0.9, 0.88], [1, .9, .9, .5], [np.nan, .9, .9, .5])
    assert bench.choose_k(t, "tibs") == 3
    # the paper picks 3 but k=3 does not reproduce: no clear segments
    t = _tab([0.1, 0.5, 0.9, 0.88], [1, .9, .5, .9], [np.nan, .9, .9, .9])
    assert bench.choose_k(t, "tibs") == 1
    # Gap(1) >= Gap(2) - s: 1
    t = _tab([0.9, 0.92, 0.5, 0.4], [1, .9, .9, .9], [np.nan, .9, .9, .9])
    assert bench.choose_k(t, "tibs") == 1
    # a gap that rises by more than s at every step: the largest k, here reproducible
    t = _tab([0.1, 0.2, 0.3, 0.4], [1, .9, .9, .9], [np.nan, .9, .9, .9])
    assert bench.choose_k(t, "tibs") == 4


def test_prediction_strength_rules(bench):
    t = _tab([0.1, 0.5, 0.6, 0.7, 0.8], [1, .95, .85, .95, .5], [np.nan, .9, .9, .8, .9])
    assert bench.choose_k(t, "ps_largest") == 4  # the largest reproducible
    assert bench.choose_k(t, "ps_strict") == 2  # PS >= 0.9 and Jaccard >= 0.85 leave 2
    # the largest reproducible k is below Gap(1): no structure
    t = _tab([0.9, 0.5, 0.6, 0.7, 0.8], [1, .95, .85, .95, .5], [np.nan, .9, .9, .8, .9])
    assert bench.choose_k(t, "ps_largest") == 1
    # above Gap(1) but by less than 2 s: (b) says 2, the strict rule 1
    t = _tab([0.5, 0.55, 0.4], [1, .95, .5], [np.nan, .9, .5])
    assert (bench.choose_k(t, "ps_largest"), bench.choose_k(t, "ps_strict")) == (2, 1)
    with pytest.raises(ValueError, match="rule='gap' should be one of"):
        bench.choose_k(t, "gap")


def test_table_counts_right_and_ari_per_rule(bench, tmp_path):
    tab = _tab([0.1, 0.5, 0.9, 0.88], [1, .9, .9, .5], [np.nan, .9, .9, .5])
    records = json.loads(tab.to_json(orient="records"))
    for seed, cur in ((0, 3), (1, 1)):
        run = {"case": "planted", "size": 3000, "planted": 3, "seed": seed, "table": records,
               "current_k": cur, "ari": {str(k): k / 10 for k in range(2, 5)}}
        (tmp_path / f"sweep_planted_3000_3_{seed}.json").write_text(json.dumps(run))
    null = {"case": "uniform_box", "size": 0, "planted": 1, "seed": 0, "table": records,
            "current_k": 1, "ari": {}}
    (tmp_path / "sweep_uniform_box_0_1_0.json").write_text(json.dumps(null))
    lines = bench.table(tmp_path).splitlines()
    assert lines[2] == "| current | planted | 3,000 | 3 | 3 1 | 1/2 | 0.150 / 0.000 |"
    assert lines[3] == "| current | uniform_box | 0 | 1 | 1 | 1/1 | n/a |"
    assert lines[4] == "| tibs | planted | 3,000 | 3 | 3 3 | 2/2 | 0.300 / 0.300 |"
    assert lines[5] == "| tibs | uniform_box | 0 | 1 | 3 | 0/1 | n/a |"

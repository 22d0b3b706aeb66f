"""Smoke test of bench/planted_k.py (the planted-truth harness of issue 15) at a tiny size."""

import argparse
import json

import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def harness():
    return load_bench("planted_k")


def test_seeds_are_a_count_or_a_list(harness):
    assert harness._seeds("3") == [0, 1, 2]
    assert harness._seeds("4,") == [4]
    assert harness._seeds("0,5") == [0, 5]
    with pytest.raises(argparse.ArgumentTypeError, match="give a count >= 1"):
        harness._seeds("0")


def test_table_counts_right_k_and_summarises_ari(harness):
    runs = [
        {"size": 3000, "planted": 5, "seed": s, "k_chosen": k, "verdict": None,
         "k_right": k == 5, "ari_recommended": a, "ari_planted_k": 0.9,
         "seconds": {"select_k": 10.0}}
        for s, k, a in [(0, 5, 0.9), (1, 4, 0.7), (2, 5, 0.8)]
    ] + [{"size": 3000, "planted": 1, "seed": 0, "k_chosen": 3, "verdict": "no clear segments",
          "k_right": True, "ari_recommended": None, "ari_planted_k": None,
          "seconds": {"select_k": 4.0}}]
    lines = harness.table(runs).splitlines()
    assert lines[2] == "| 3,000 | 1 | 3(no clear segments) | 1/1 | n/a | n/a | 4 |"
    assert lines[3] == "| 3,000 | 5 | 5 4 5 | 2/3 | 0.800 / 0.700 | 0.900 / 0.900 | 10 |"


@pytest.mark.slow
def test_harness_runs_and_writes_json(harness, tmp_path, capsys):
    out = tmp_path / "planted.json"
    harness.main(["--sizes", "300", "--planted", "3", "--seeds", "1", "--algorithms", "kmeans",
                  "--n-stability", "2", "--k-max", "4", "--out", str(out)])
    result = json.loads(out.read_text())
    assert set(result) == {"meta", "runs"}
    assert {"commit", "date_utc", "machine", "loadavg_start", "segmentation"} <= set(
        result["meta"])
    assert result["meta"]["segmentation"]["algorithms"] == ["kmeans"]
    (run,) = result["runs"]
    assert {"size", "planted", "seed", "n_clustered", "k_chosen", "algorithm", "rule",
            "verdict", "k_right", "ari_recommended", "ari_planted_k", "seconds"} <= set(run)
    assert (run["size"], run["planted"], run["seed"]) == (300, 3, 0)
    # the harness records what the rule says (on 300 customers the gap rule may say "no clear
    # segments"); it must score it right only when it is the planted 3
    assert 1 <= run["k_chosen"] <= 4
    assert run["k_right"] == (run["k_chosen"] == 3)
    assert (run["k_chosen"] == 1) == ("no clear" in str(run["verdict"]))
    assert 0.0 <= run["ari_recommended"] <= 1.0
    assert 0.0 <= run["ari_planted_k"] <= 1.0
    assert set(run["seconds"]) == {"generate", "features", "select_k", "fit"}
    assert "| 300 | 3 |" in capsys.readouterr().out

"""Smoke test of the scale harness (issue 19): the harness itself is correct at a tiny size.

No time limit is asserted: the harness measures, the machine decides the numbers.
"""

from __future__ import annotations

import json

import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def harness():
    return load_bench("bench_scale")


@pytest.fixture(scope="module")
def result(harness, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    res = harness.main([
        "--size", "400", "--chunk", "200", "--data-dir", str(tmp / "data"),
        "--out-dir", str(tmp / "out"), "--algorithms", "kmeans", "--k-min", "3", "--k-max", "4",
        "--set", "segmentation.stability=false", "--stages", "analyse",
        "--backtest-timeout", "0.5",
    ])
    return res, tmp


def test_every_stage_has_a_time_and_a_ratio(harness, result):
    res, tmp = result
    on_disk = json.loads((tmp / "out" / "scale_n400.json").read_text())
    assert on_disk["stages"] == res["stages"]
    assert list(res["stages"]) == harness.STAGES
    for stage, row in res["stages"].items():
        if stage == "backtest":
            continue
        assert row["segml"]["status"] == "ok", (stage, row["segml"])
        assert row["pandas"]["status"] == "ok", (stage, row["pandas"])
        assert row["segml"]["seconds"] >= 0 and row["pandas"]["seconds"] >= 0
        assert row["segml"]["peak_rss_mb"] > 0 and row["pandas"]["peak_rss_mb"] > 0
        assert row["time_ratio_pandas"] is not None and row["time_ratio_pandas"] >= 0
        assert row["memory_ratio_pandas"] > 0
    for stage in ("read_validate", "features"):
        assert res["stages"][stage]["polars"]["status"] == "ok"
        assert res["stages"][stage]["time_ratio_polars"] >= 0


def test_chunked_generation_has_unique_ids_across_chunks(result):
    import pandas as pd

    _, tmp = result
    folder = tmp / "data" / "n400-400-s0"
    cust = pd.read_parquet(folder / "customers.parquet")
    tx = pd.read_parquet(folder / "transactions.parquet", columns=["customer_id"])
    meta = json.loads((folder / "meta.json").read_text())
    assert len(cust) == 400 and cust["customer_id"].is_unique
    assert set(tx["customer_id"]) <= set(cust["customer_id"])
    assert meta["n_lines"] == len(tx) > 0


def test_a_stage_that_cannot_run_says_why(result):
    res, tmp = result
    seg = res["stages"]["backtest"]["segml"]
    assert seg["status"].startswith("not run: timed out after"), seg
    assert res["stages"]["backtest"]["pandas"]["status"] == "not run: left out (--stages)"
    md = (tmp / "out" / "scale_n400.md").read_text()
    assert "| read + validate |" in md and "not run: timed out" in md


def test_k_selection_defaults_are_the_product_config(harness):
    from segml.config import DEFAULTS

    seg = DEFAULTS["segmentation"]
    args = harness.parse_args([])
    assert args.algorithms.split(",") == list(seg["algorithms"])
    assert (args.k_min, args.k_max) == (seg["k_min"], seg["k_max"])
    args = harness.parse_args(["--algorithms", "kmeans", "--k-min", "3", "--k-max", "5"])
    assert (args.algorithms, args.k_min, args.k_max) == ("kmeans", 3, 5)


def test_plain_sweep_starts_at_two(harness):
    import scale_stages

    assert list(scale_stages.plain_k_range(1, 4)) == [2, 3, 4]
    assert list(scale_stages.plain_k_range(3, 4)) == [3, 4]


def test_meta_records_the_k_selection_run(result):
    res, _ = result
    assert res["meta"]["algorithms"] == ["kmeans"]
    assert res["meta"]["k_range"] == [3, 4]

"""The Spark bench's meter and table (issue 16), without Spark.

A real smoke run of ``bench/bench_spark.py`` starts a JVM and Python workers (about 4 minutes
at 3,000 rows on the shared box), so only the measuring and the table are tested here; no time
is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("bench_spark")


def test_meter_counts_a_child_that_exits_and_the_table_has_every_stage(bench, tmp_path):
    out = tmp_path / "m.json"
    meter = bench.Meter(out)
    with meter.stage("pandas.fit") as st:
        # a child burning CPU then exiting: its CPU must stay counted (per-pid samples)
        subprocess.run([sys.executable, "-c", "import time\nt=time.process_time()\n"
                        "while time.process_time() - t < 0.6: pass"], check=True)
        time.sleep(0.3)
        st.extra["n_fit"] = 7
    for name in bench.STAGES:
        if name != "pandas.fit":
            with meter.stage(name):
                pass
    row = meter.stages["pandas.fit"]
    assert row["status"] == "ok" and row["n_fit"] == 7
    assert row["cpu_s"] >= 0.3  # the exited child's CPU (0.6 s, sampled every 0.2 s)
    assert all(r["cpu_s"] >= 0 for r in meter.stages.values())
    saved = json.loads(out.read_text())
    assert set(saved["stages"]) == set(bench.STAGES)
    text = bench.table(meter)
    for name in bench.STAGES:
        assert f"| {name} |" in text
    assert "| fit (sample) |" in text  # a ratio row needs a timed default-path stage


def test_failed_stage_is_recorded_and_raised(bench):
    meter = bench.Meter(None)
    with pytest.raises(ValueError, match="boom"), meter.stage("spark.read"):
        raise ValueError("boom")
    assert meter.stages["spark.read"]["status"] == "failed: ValueError: boom"

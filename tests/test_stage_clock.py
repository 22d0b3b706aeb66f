"""StageClock: the stage timer both run engines share."""

from __future__ import annotations

import segml.pipeline.result as result
from segml.pipeline.result import StageClock


def test_stage_clock_records_the_seconds_since_the_previous_stage(monkeypatch):
    ticks = iter([10.0, 12.5, 12.5004, 20.0])
    monkeypatch.setattr(result.time, "perf_counter", lambda: next(ticks))
    timings = {"load": 1.0}
    tick = StageClock(timings)  # starts at 10.0
    tick("features")            # 12.5
    tick("select_k")            # 12.5004 -> rounded to the millisecond
    tick("fit")                 # 20.0
    assert timings == {"load": 1.0, "features": 2.5, "select_k": 0.0, "fit": 7.5}

"""bench/mem_profile.py: the sampler attributes RSS to segml frames and runs a CLI command."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.bench.bench_loader import load_bench

mp = load_bench("mem_profile")


def test_sampler_sees_a_growing_allocation_and_its_place():
    sampler = mp.Sampler(interval=0.005).start()
    before = mp.rss_gib()
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    time.sleep(0.1)
    sampler.stop()
    assert block.sum() == len(block)
    assert max(r for _, r, _ in sampler.samples) >= before + 0.05
    peaks = sampler.peaks()
    assert peaks == sorted(peaks, reverse=True) and peaks[0][1] == "(outside segml)"
    rows = sampler.timeline(step=0.0)
    assert len(rows) == len(sampler.samples) and rows[0][0] == 0.0


def test_profiles_a_segml_command(tmp_path, capsys):
    out = tmp_path / "demo"
    rc = mp.main(["--interval", "0.001", "--top", "50", "--", "generate", "--n-customers",
                  "3000", "--out", str(out)])
    assert rc == 0 and (out / "transactions.parquet").exists()
    err = capsys.readouterr().err
    assert "peak RSS (ru_maxrss):" in err and "timeline:" in err
    places = err.split("(innermost segml frames):")[1].split("timeline:")[0]
    assert ".py:" in places  # at least one sample landed inside segml's own code


def test_needs_a_command(capsys):
    with pytest.raises(SystemExit) as exc:
        mp.main(["--top", "3"])
    assert exc.value.code == 2
    assert "give the segml command after --" in capsys.readouterr().err

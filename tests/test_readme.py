"""The README's Python blocks run as written, in order: fit, save, load, score, plot."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_every_python_block_runs_and_the_saved_model_reproduces_the_training_labels(
    tmp_path, monkeypatch, capsys
):
    blocks = _python_blocks()
    assert len(blocks) >= 2  # the quickstart and the plotting example
    monkeypatch.chdir(tmp_path)  # the blocks write models/ and profiles.png here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    ns: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{README}:block{i + 1}", "exec"), ns)  # noqa: S102 - our README

    # saved: a published name pointing at version 1, and the figure written
    assert (tmp_path / "models" / "quickstart").is_symlink()
    assert (tmp_path / "models" / "quickstart").resolve().name == "quickstart@v1"
    assert (tmp_path / "profiles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # loaded and scored: every buyer gets exactly its training segment, every prospect -1
    seg = ns["seg"]
    scores = ns["scores"].set_index("customer_id")
    np.testing.assert_array_equal(scores.loc[seg.labels.index, "segment_id"].to_numpy(),
                                  seg.labels.to_numpy())
    frame = seg.run.features.frame
    prospects = frame.index[frame["is_prospect"].astype(bool)]
    assert len(prospects) > 0
    assert (scores.loc[prospects, "segment_id"] == -1).all()
    assert len(scores) == len(frame)
    # the plotting block: one result type per plot, and the TypeError it shows is printed
    assert len(ns["axes"]) == 6
    assert ns["ax"].images[0].get_array().sum() == len(seg.labels)
    out = capsys.readouterr().out
    assert "plot_profile_heatmap takes a segml.cluster.ProfileResult, got " in out

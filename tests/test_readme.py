"""The README's Python blocks run as written: the quickstart fits, saves, loads and scores."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_quickstart_saves_loads_and_reproduces_the_training_labels(tmp_path, monkeypatch):
    blocks = _python_blocks()
    assert len(blocks) == 1, "update this test when the README gains a Python block"
    monkeypatch.chdir(tmp_path)  # the block writes models/ under the working directory
    ns: dict = {}
    exec(compile(blocks[0], str(README), "exec"), ns)  # noqa: S102 - our own README
    assert (tmp_path / "models" / "quickstart").is_symlink()
    scores = ns["scores"].set_index("customer_id")
    buyers, seg, fs = ns["buyers"], ns["seg"], ns["fs"]
    np.testing.assert_array_equal(scores.loc[buyers.index, "segment_id"].to_numpy(),
                                  seg.labels_)
    prospects = fs.frame.index[fs.frame["is_prospect"].astype(bool)]
    assert len(prospects) > 0
    assert (scores.loc[prospects, "segment_id"] == -1).all()
    assert len(scores) == len(fs.frame)

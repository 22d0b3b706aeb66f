"""On large data the pipeline says what k selection screened out (tracker issue 19)."""

from __future__ import annotations

import sys

import segml
import segml.cluster.select_k  # noqa: F401  (the module, patched below)


def test_screen_note_reaches_progress_and_report_settings(monkeypatch):
    # screening starts at 50,000 rows; lowered here so a 400-customer demo takes that path
    monkeypatch.setattr(sys.modules["segml.cluster.select_k"], "SCREEN_ROWS", 100)
    tx, customers = segml.demo_data(400, random_state=1)
    messages: list[str] = []
    seg = segml.segment(tx, customers, as_of="2024-12-31", k_range=(1, 4),
                        algorithms=["kmeans", "gmm"], n_stability=2, random_state=0,
                        progress=messages.append)
    settings = seg.run.selection.settings
    assert settings["screen"] is True
    notes = [m for m in messages if m.startswith("note: k selection screened for speed on ")]
    assert len(notes) == 1, messages
    assert notes[0] == "note: k selection " + settings["screen_note"]
    assert settings["screen_note"] in settings["sampling_note"]  # the report prints this one

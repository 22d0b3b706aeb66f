"""On large data the pipeline says what k selection screened out (tracker issue 19)."""

from __future__ import annotations

import sys

import segml
import segml.cluster.select_k  # noqa: F401  (the module, patched below)


def test_screen_note_reaches_progress_and_report_settings(monkeypatch):
    # screening starts at 50,000 rows, float32 k-means at 100,000: lowered here so a
    # 400-customer demo takes those paths
    monkeypatch.setattr(sys.modules["segml.cluster.select_k"], "SCREEN_ROWS", 100)
    monkeypatch.setattr(sys.modules["segml.cluster.select_k"], "AUTO_FLOAT32_ROWS", 100)
    tx, customers = segml.demo_data(400, random_state=1)
    messages: list[str] = []
    seg = segml.segment(tx, customers, as_of="2024-12-31", k_range=(3, 4),
                        algorithms=["kmeans", "gmm"], n_stability=2, random_state=0,
                        progress=messages.append)
    settings = seg.run.selection.settings
    assert settings["screen"] is True
    notes = [m for m in messages if m.startswith("note: k selection screened for speed on ")]
    assert len(notes) == 1, messages
    assert notes[0] == "note: k selection " + settings["screen_note"]
    assert settings["screen_note"] in settings["sampling_note"]  # the report prints this one
    # the final fit is fitted as the sweep that chose k was (sample, k-means precision)
    rec = seg.run.selection.recommended
    params = seg.run.segmenter.get_params()
    assert params["dtype"] == settings["dtype"][rec["algorithm"]]
    assert params["dtype"] == ("float32" if rec["algorithm"] != "gmm" else "float64")
    assert params["fit_sample_size"] == settings["fit_sample_size"]
    # the final fit reuses the model matrix's preprocessor (an unfitted copy): same labels as
    # a fresh make_preprocessor, as before the reuse
    import numpy as np

    from segml.cluster import Segmenter
    from segml.features import make_preprocessor

    fs = seg.run.features
    frame = fs.frame.loc[seg.run.labels.index]
    own = seg.run.segmenter.get_params(deep=False)
    fresh = Segmenter(**{**own, "preprocessor": make_preprocessor(fs.spec, frame)}).fit(frame)
    np.testing.assert_array_equal(fresh.labels_, seg.run.segmenter.labels_)
    assert not hasattr(params["preprocessor"], "transformers_")  # the saved param is unfitted

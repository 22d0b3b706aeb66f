"""`segml run` writes the forward-value columns in segments.csv when the spec switches them on."""

import numpy as np
import pandas as pd
import pytest

from segml.cli import main
from segml.features import FeatureSpec


@pytest.mark.filterwarnings("ignore::segml.errors.DataQualityWarning")
def test_run_writes_forward_columns(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = FeatureSpec.default(["recency_days", "frequency", "monetary"]).with_forward(
        ["p_alive", "forward_clv"], horizon=26)
    spec.to_toml(tmp_path / "spec.toml")
    (tmp_path / "c.toml").write_text(
        "[demo]\nn_customers = 400\n[features]\nspec = 'spec.toml'\n"
        "[segmentation]\nalgorithms = ['kmeans']\nk_min = 3\nk_max = 3\nstability = false\n")
    assert main(["run", "--config", "c.toml", "--quiet"]) == 0, capsys.readouterr().err
    seg = pd.read_csv(tmp_path / "reports" / "demo-20241231" / "segments.csv")
    assert {"p_alive", "forward_clv"} <= set(seg.columns)
    assert "expected_spend" not in seg.columns  # only the columns the spec switched on
    buyers = seg[seg["segment_id"] >= 0]
    assert buyers["p_alive"].between(0, 1).all()
    assert np.isfinite(buyers["forward_clv"]).all() and (buyers["forward_clv"] >= 0).all()

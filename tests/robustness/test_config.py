"""Config errors: every one names the key, the problem and a Fix, before any work starts."""

from __future__ import annotations

import pytest

from segml.config import load_config
from segml.errors import ConfigError

from .conftest import cli_error

CASES = [
    ("wrong-type-int", "[segmentation]\nk_min = 'x'\n",
     r"'segmentation.k_min' must be int .*Fix: write it like k_min = 1"),
    ("wrong-type-list", "[segmentation]\nalgorithms = 'kmeans'\n",
     r"'segmentation.algorithms' must be list .*Fix: write it like algorithms = "
     r"\[\"kmeans\", \"gmm\"\]"),
    ("wrong-type-bool", "[segmentation]\nstability = 3\n",
     r"'segmentation.stability' must be bool .*Fix: write it like stability = true"),
    ("section-not-a-table", "segmentation = 3\n",
     r"'segmentation' must be a table .*Fix: write it as a \[segmentation\] section"),
    ("k-min-above-k-max", "[segmentation]\nk_min = 6\nk_max = 4\n",
     r"k_min=6, k_max=4\. Fix: set \[segmentation\] k_min and k_max"),
    ("unknown-rule", "[segmentation]\nrule = 'elbow'\n",
     r"rule='elbow' should be .*Fix: \[segmentation\] rule = \"gap\""),
    ("jaccard-out-of-range", "[segmentation]\nmin_jaccard = 1.5\n",
     r"min_jaccard=1\.5 should be in \(0, 1\]\. Fix:"),
    ("loader-and-files", "[data]\nloader = 'cdnow'\ntransactions = 'x.csv'\n",
     r"set either data\.loader .* not both\. Fix: pass --loader or --transactions"),
    ("not-toml", "[segmentation\nk_min = 3\n",
     r"is not valid TOML: .*Fix: correct that line"),
    ("unknown-key", "[segmentation]\nk_mx = 5\n",
     r"unknown key 'segmentation\.k_mx'\. Did you mean 'k_max'\?.*Fix:"),
]


@pytest.mark.parametrize(("text", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_config_error_names_the_fix_before_any_work(tmp_path, monkeypatch, capsys, text, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(tmp_path / "c.toml")
    cli_error(["run", "--config", "c.toml", "--quiet"], capsys, match=match)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]  # nothing generated

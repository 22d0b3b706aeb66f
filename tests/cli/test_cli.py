"""The segml CLI and run config: help, user errors exit 2, no overwrite, a small full run."""

import json

import pandas as pd
import pytest

from segml.cli import build_parser, main
from segml.config import EXAMPLE_CONFIG, load_config, validate_config
from segml.errors import ConfigError
from segml.pipeline import config_to_toml

COMMANDS = ["init", "run", "generate", "validate-data", "features", "select-k", "fit",
            "score", "compare", "report", "models", "pilot", "refresh", "backtest", "alerts",
            "export", "serve"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_with_examples(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_every_subcommand_is_listed():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)


def test_unknown_config_key_suggests_and_exits_2(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[segmentation]\nk_mx = 5\n")
    assert main(["run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "segml: error: config: unknown key 'segmentation.k_mx'. Did you mean 'k_max'?" in err
    assert "Traceback" not in err


def test_spark_engine_is_refused_by_pandas_only_commands_not_ignored(tmp_path, capsys):
    # segml run / fit / report run on Spark (tests/spark/test_run.py); the commands that read
    # data with pandas refuse the engine instead of ignoring it
    cfg = tmp_path / "c.toml"
    cfg.write_text('[engine]\nengine = "spark"\n')
    assert main(["validate-data", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert ("segml: error: config: engine.engine='spark' is supported by segml run, fit and "
            "report (run_pipeline) only") in err
    assert 'Fix: set [engine] engine = "pandas" for this command' in err


def test_segml_run_engine_spark_refuses_pandas_only_options_before_any_work(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    out = tmp_path / "o"
    cfg.write_text(f'[data]\ndedupe = true\n[output]\nreports_dir = "{out}/r"\n'
                   f'models_dir = "{out}/m"\n')
    assert main(["run", "--config", str(cfg), "--engine", "spark"]) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert ("segml: error: config: [data] dedupe=True is only implemented by the pandas "
            "reader") in err
    assert "Fix: remove it from [data]" in err
    assert not out.exists()


def test_debug_shows_the_exception(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[nope]\n")
    with pytest.raises(ConfigError, match=r"unknown key 'nope'"):
        main(["run", "--config", str(cfg), "--debug"])


def test_config_errors():
    with pytest.raises(ConfigError, match=r"'segmentation.k_min' must be int \(like 1\), got 'x'"):
        validate_config({"segmentation": {"k_min": "x"}})
    with pytest.raises(ConfigError, match=r"need 1 <= segmentation.k_min <= segmentation.k_max"):
        validate_config({"segmentation": {"k_min": 6, "k_max": 4}})
    with pytest.raises(ConfigError,
                       match=r"segmentation.rule='elbow' should be 'gap', 'largest_stable'"):
        validate_config({"segmentation": {"rule": "elbow"}})
    with pytest.raises(ConfigError, match=r"segmentation.min_jaccard=1.5 should be in \(0, 1\]"):
        validate_config({"segmentation": {"min_jaccard": 1.5}})
    with pytest.raises(ConfigError, match=r"set either data.loader or data.transactions"):
        validate_config({"data": {"loader": "cdnow", "transactions": "x.csv"}})
    with pytest.raises(ConfigError, match=r"config file .*missing.toml not found"):
        load_config("missing.toml")


def test_real_data_needs_as_of(capsys, shared_data):
    # (mall_customers has no dates at all, so it needs none since issue 15: see test_mall_run)
    assert main(["select-k", "--loader", "cdnow_sample", "--quiet"]) == 2
    assert "features.as_of is required for real data" in capsys.readouterr().err


def test_init_writes_valid_example_and_refuses_overwrite(tmp_path, capsys):
    path = tmp_path / "segml.toml"
    assert main(["init", str(path)]) == 0
    assert path.read_text() == EXAMPLE_CONFIG
    assert load_config(path)["segmentation"]["k_min"] == 1  # k=1 searched: "no clear segments"
    assert main(["init", str(path)]) == 2
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
    assert main(["init", str(path), "--force"]) == 0


def test_config_round_trips_through_toml(tmp_path):
    cfg = validate_config({"data": {"mapping": {"amount": "net value"}},
                           "features": {"weights": {"value": 2.0}}})
    path = tmp_path / "used.toml"
    path.write_text(config_to_toml(cfg))
    again = load_config(path)
    for section in cfg:
        expected = {k: v for k, v in cfg[section].items() if v is not None}
        got = {k: v for k, v in again[section].items() if v is not None}
        assert got == expected


@pytest.mark.slow
def test_small_run_writes_the_run_folder_and_refuses_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(
        "[demo]\nn_customers = 600\n[segmentation]\nalgorithms = ['kmeans']\nk_max = 5\n"
        "n_stability = 2\n")
    assert main(["run", "--config", "c.toml", "--quiet"]) == 0
    out = capsys.readouterr().out
    run = tmp_path / "reports" / "demo-20241231"
    assert "report: reports/demo-20241231/report.html" in out
    # the printed summary has each segment's action and fits 100 columns (paths aside)
    assert "    action: " in out
    assert max(len(line) for line in out.splitlines()
               if not line.startswith(("model: ", "report: ", "segments: "))) <= 100, out
    names = {p.name for p in run.iterdir()}
    assert names == {"report.html", "figures", "segments.csv", "segments.parquet",
                     "profiles.csv", "metrics.json", "config.toml", ".segml-run"}
    seg = pd.read_csv(run / "segments.csv", dtype={"customer_id": str})
    assert len(seg) == 600 and seg["customer_id"].is_unique
    prospects = seg["segment_name"] == "prospect (not clustered)"
    assert prospects.sum() > 0 and (seg.loc[prospects, "segment_id"] == -1).all()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_customers"] == 600
    sel = metrics["selection"]
    n_segments = seg.loc[seg["segment_id"] >= 0, "segment_id"].nunique()
    if sel["recommended"]["k"] == 1:  # "no clear segments" on 528 buyers: the RFM groups
        from segml.rules import builtin_segmenter

        assert sel["settings"]["partition"] == "rfm_groups"
        groups = set(builtin_segmenter("rfm_groups").rules.segment_names)
        clustered = seg["segment_id"] >= 0
        assert set(seg.loc[clustered, "segment_name"]) <= groups and n_segments >= 2
        assert (seg.loc[clustered, "segment_name"] == seg.loc[clustered, "rfm_groups"]).all()
    else:
        assert "partition" not in sel["settings"] and n_segments == sel["recommended"]["k"]
    assert load_config(run / "config.toml")["demo"]["n_customers"] == 600
    # same input and seed -> same segments file; an existing run folder is not overwritten
    first = (run / "segments.csv").read_bytes()
    assert main(["run", "--config", "c.toml", "--quiet"]) == 2
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
    assert main(["run", "--config", "c.toml", "--quiet", "--force"]) == 0
    assert (run / "segments.csv").read_bytes() == first
    assert main(["models", "list"]) == 0
    assert "demo-20241231" in capsys.readouterr().out
    assert main(["models", "show", "models/demo-20241231"]) == 0
    assert json.loads(capsys.readouterr().out)["n_train"] == metrics["n_clustered"]
    assert main(["models", "show"]) == 2
    assert "models show needs a model folder" in capsys.readouterr().err

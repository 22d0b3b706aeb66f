"""Hostile inputs for model privacy: no customer data may end up in a saved model's files.

Identifier-like model columns are refused unless listed in ``allow_identifiers``; category
levels held by fewer than ``min_level_customers`` customers are folded into
``<column>_other`` and never stored (encoders, contract, drift reference).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.cluster import Segmenter
from segml.config import validate_config
from segml.errors import ConfigError
from segml.features import (
    FeatureSpec,
    FrequencyEncoder,
    RareOneHot,
    build_features,
    make_preprocessor,
)
from segml.persistence import SegmentModel, save_model
from tests.robustness.conftest import cli_error, cli_ok

AS_OF = "2024-03-25"
N = 60
IDS = [f"c{i:03d}" for i in range(N)]
EMAILS = [f"person{i}.secret@example.com" for i in range(N)]
PHONES = [f"+39 02 5550 {i:04d}" for i in range(N)]
FREE_TEXT = [f"Maria Rossi via Roma {i}" for i in range(N)]


def _tx() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "customer_id": pd.array(np.repeat(IDS, 2), dtype="str"),
        "timestamp": pd.Timestamp("2024-01-01")
        + pd.to_timedelta(np.r_[rng.integers(0, 80, 2 * N - 1), 84], unit="D"),
        "amount": rng.uniform(5, 500, 2 * N).round(2),
    })


def _customers(profession: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.array(IDS, dtype="str"),
        "profession": pd.array(profession if profession is not None else EMAILS, dtype="str"),
        "region": pd.array(["north"] * 30 + ["south"] * 29 + ["tinyville"], dtype="str"),
    })


def _files(tmp_path: Path, profession: list[str] | None = None) -> tuple[str, str]:
    t, c = tmp_path / "tx.csv", tmp_path / "cu.csv"
    _tx().to_csv(t, index=False)
    _customers(profession).to_csv(c, index=False)
    return str(t), str(c)


def _saved_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------- refusals

IDENTIFIERS = [
    pytest.param(EMAILS, r"'profession': 60 of 60 values look like e-mail addresses",
                 id="emails"),
    pytest.param(PHONES, r"'profession': 60 of 60 values look like phone numbers", id="phones"),
    pytest.param(FREE_TEXT, r"'profession': free text, 60 of 60 values distinct",
                 id="unique-free-text"),
]


@pytest.mark.parametrize(("values", "match"), IDENTIFIERS)
def test_identifier_column_refused_by_api(values, match):
    fs = build_features(_tx(), _customers(values), AS_OF)
    with pytest.raises(ConfigError, match=match) as err:
        make_preprocessor(fs.spec, fs.frame)
    msg = str(err.value)
    assert "allow_identifiers" in msg and "Fix:" in msg
    assert not any(v in msg for v in values)  # the message never quotes the data


@pytest.mark.parametrize(("values", "match"), IDENTIFIERS)
def test_identifier_column_refused_by_cli(values, match, tmp_path, capsys):
    t, c = _files(tmp_path, values)
    msg = cli_error(["select-k", "--transactions", t, "--customers", c, "--as-of", AS_OF],
                    capsys, match=match)
    assert 'allow_identifiers = ["profession"]' in msg
    assert not any(v in msg for v in values)


def test_identifier_by_column_name_in_a_user_spec():
    spec_text = ('version = 1\n[families.demographic.columns]\ncontact_email = "onehot"\n'
                 '[families.value.columns]\nmonetary = "log"\n')
    spec = FeatureSpec.from_toml(spec_text)
    frame = pd.DataFrame({"contact_email": ["x", "y"] * 15, "monetary": np.arange(30.0)})
    with pytest.raises(ConfigError, match=r"'contact_email': name contains 'email'"):
        make_preprocessor(spec, frame)
    allowed = replace(spec, allow_identifiers=["contact_email"])
    assert make_preprocessor(allowed, frame).fit_transform(frame).shape == (30, 3)
    # (API only: the CLI reads canonical customer columns, none of which has such a name)


@pytest.mark.parametrize(("key", "value", "match"), [
    pytest.param("min_level_customers", 0, r"min_level_customers=0 should be a whole number",
                 id="min-level-zero"),
    pytest.param("min_level_customers", 2.5, r"min_level_customers=2\.5 should be a whole",
                 id="min-level-float"),
    pytest.param("allow_identifiers", "profession",
                 r"allow_identifiers='profession' should be a list", id="allow-a-string"),
])
def test_bad_privacy_settings_refused(key, value, match, tmp_path, capsys):
    with pytest.raises(ConfigError, match=rf"config: features\.{match}"):
        validate_config({"features": {key: value}})
    with pytest.raises(ConfigError, match=match):
        FeatureSpec(**{key: value})
    toml_value = f'"{value}"' if isinstance(value, str) else value
    (tmp_path / "c.toml").write_text(f"[features]\n{key} = {toml_value}\n")
    t, c = _files(tmp_path)
    cli_error(["select-k", "--config", str(tmp_path / "c.toml"), "--transactions", t,
               "--customers", c, "--as-of", AS_OF], capsys, match=match)


# ------------------------------------------------------------------------- what is stored


def test_allowed_identifier_saved_without_a_single_email(tmp_path):
    fs = build_features(_tx(), _customers(), AS_OF)
    # attributes describe only by default (issue 15); weighted so the model stores them
    spec = replace(fs.spec.with_weights(demographic=1, geographic=1),
                   allow_identifiers=["profession"])
    fs.spec = spec
    seg = Segmenter(n_clusters=3, preprocessor=make_preprocessor(spec, fs.frame),
                    random_state=0).fit(fs.frame)
    # the e-mails and the one-customer region are folded into <column>_other and counted
    assert fs.report["rare_levels_folded"] == {"profession": 60, "region": 1}
    enc = seg.preprocessor_ if hasattr(seg, "preprocessor_") else seg.preprocessor
    names = list(enc.get_feature_names_out())
    assert "profession_other" in names and "region_tinyville" not in names
    model = SegmentModel.from_training(seg, fs.frame, name="m", feature_set=fs)
    folder = save_model(model, root=tmp_path / "models")
    files = _saved_bytes(folder)
    assert {"model.joblib", "manifest.json", "manifest.sha256"} <= set(files)
    for name, data in files.items():
        leaked = [e for e in EMAILS if e.encode() in data]
        assert leaked == [], f"{name} holds {len(leaked)} e-mail(s)"
        assert b"secret@" not in data and b"tinyville" not in data, name
    assert b"north" in files["manifest.json"]  # 30 customers: a level that may be stored


def test_allowed_identifier_fit_through_the_cli_saves_no_email(tmp_path, capsys):
    t, c = _files(tmp_path)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[features]\nallow_identifiers = ["profession"]\n'
        "[segmentation]\nalgorithms = ['kmeans']\nn_stability = 2\nstability = false\n"
        f'[output]\nmodels_dir = "{tmp_path / "models"}"\nreports_dir = "{tmp_path / "rep"}"\n'
    )
    cli_ok(["fit", "--config", str(cfg), "--transactions", t, "--customers", c,
            "--as-of", AS_OF, "--k", "3", "--name", "m", "--quiet"], capsys)
    files = _saved_bytes(tmp_path / "models" / "m")
    assert "model.joblib" in files
    for name, data in files.items():
        assert b"secret@" not in data and b"tinyville" not in data, name


def test_min_level_customers_from_config_reaches_the_spec(tmp_path):
    from segml.pipeline import build_run_features, load_data

    t, c = _files(tmp_path, ["doctor"] * 5 + ["baker"] * 55)
    cfg = validate_config({"data": {"transactions": t, "customers": c},
                           "features": {"as_of": AS_OF, "min_level_customers": 6}})
    fs = build_run_features(cfg, load_data(cfg))
    assert fs.spec.min_level_customers == 6
    assert fs.report["rare_levels_folded"] == {"profession": 5, "region": 1}


def test_spec_toml_round_trip_of_privacy_keys():
    spec = FeatureSpec.from_toml(
        'version = 1\nmin_level_customers = 25\nallow_identifiers = ["member code"]\n'
        '[families.value.columns]\nmonetary = "log"\n'
    )
    assert (spec.min_level_customers, spec.allow_identifiers) == (25, ["member code"])
    assert FeatureSpec.from_toml(spec.to_toml()) == spec


# ------------------------------------------------------------------------- encoders


def test_rare_one_hot_stores_no_level_below_min_count():
    X = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["x1", "x2"]})
    enc = RareOneHot(min_count=3).fit(X)
    assert [c.tolist() for c in enc.categories_] == [["a", "b", "<folded>"]]
    assert enc.n_folded_ == {"c": 2}
    assert enc.get_feature_names_out().tolist() == ["c_a", "c_b", "c_other"]
    out = enc.transform(pd.DataFrame({"c": ["x1", "b", "never"]}))
    assert out.tolist() == [[0, 0, 1], [0, 1, 0], [0, 0, 1]]
    # x1 is not stored: it is as unknown as "never"
    assert enc.quality(pd.DataFrame({"c": ["x1", "b", "never"]})) == {"n_unknown": 2}


def test_frequency_encoder_stores_no_level_below_min_count():
    X = pd.DataFrame({"city": ["milano"] * 4 + ["x1", "x2"]})
    enc = FrequencyEncoder(min_count=2).fit(X)
    assert enc.frequencies_ == {"city": {"milano": pytest.approx(4 / 6)}}
    assert enc.n_folded_ == {"city": 2}
    assert enc.transform(X).ravel().tolist() == pytest.approx([4 / 6] * 4 + [0.0, 0.0])


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_encoders_refuse_bad_min_count(bad):
    X = pd.DataFrame({"c": ["a", "b"]})
    with pytest.raises(ConfigError, match=rf"min_count={bad!r} should be an integer >= 1"):
        RareOneHot(min_count=bad).fit(X)
    with pytest.raises(ConfigError, match=rf"min_count={bad!r} should be an integer >= 1"):
        FrequencyEncoder(min_count=bad).fit(X)


@given(st.lists(st.sampled_from(list("abcdefgh")), min_size=1, max_size=60),
       st.integers(1, 8), st.sampled_from([None, 0.05, 3]), st.sampled_from([None, 3, 5]))
@settings(max_examples=60, deadline=None)
def test_property_rare_one_hot_never_stores_a_rare_level(values, min_count, min_freq, max_lv):
    X = pd.DataFrame({"c": values})
    enc = RareOneHot(min_count=min_count, min_frequency=min_freq, max_levels=max_lv).fit(X)
    counts = X["c"].value_counts()
    stored = set(enc.categories_[0].tolist()) - {"<folded>"}
    assert all(counts[v] >= min_count for v in stored)
    assert enc.n_folded_.get("c", 0) == int(counts[counts < min_count].sum())
    out = enc.transform(X)
    assert (out.sum(axis=1) == 1).all()  # every training row lands in exactly one column
    names = enc.get_feature_names_out().tolist()
    own = [n.removeprefix("c_") for n in names if n != "c_other"]
    assert all(counts[v] >= min_count for v in own)
    if max_lv is not None:
        assert len(names) <= max_lv

"""Saved models: round trip, integrity checks, versions, no customer rows, listing."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import BisectingKMeans, KMeans
from sklearn.pipeline import Pipeline

from segml.errors import (
    ConfigError,
    ModelIntegrityError,
    ModelVersionError,
    ModelVersionWarning,
    OutputExistsError,
    SchemaError,
)
from segml.persistence import (
    MANIFEST,
    MANIFEST_HASH,
    MODEL_FILE,
    SegmentModel,
    list_models,
    load_model,
    read_manifest,
    save_model,
)
from segml.scoring import score_features

from .conftest import make_features, make_preprocessor


def _rewrite_manifest(folder: Path, edit) -> None:
    """Edit the manifest and re-seal it (simulates a model written by other versions)."""
    m = json.loads((folder / MANIFEST).read_bytes())
    edit(m)
    data = (json.dumps(m, indent=2, sort_keys=True) + "\n").encode()
    (folder / MANIFEST).write_bytes(data)
    (folder / MANIFEST_HASH).write_text(
        "sha256:" + hashlib.sha256(data).hexdigest() + "  manifest.json\n"
    )


def test_round_trip_identical_predictions(tmp_path, kmeans_model, kmeans_pipe, features):
    path = save_model(kmeans_model, root=tmp_path)
    assert path == tmp_path / "demo"
    assert sorted(p.name for p in path.iterdir()) == [MANIFEST, MANIFEST_HASH, MODEL_FILE]
    loaded = load_model(path)
    before = score_features(kmeans_model, features).frame
    after = score_features(loaded, features).frame
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    np.testing.assert_array_equal(after["segment_id"].to_numpy(), kmeans_pipe.predict(features))
    assert loaded.segment_names == {0: "loyal", 1: "occasional", 2: "lapsed"}
    assert loaded.segment_roles == {0: "retain", 2: "win back"}
    assert loaded.as_of == pd.Timestamp("2026-10-31")
    assert loaded.training_window == (pd.Timestamp("2025-11-01"), pd.Timestamp("2026-10-31"))
    assert loaded.metrics == {"silhouette": 0.41}
    assert loaded.n_train == len(features)


def test_manifest_contents(tmp_path, kmeans_model, features):
    m = read_manifest(save_model(kmeans_model, root=tmp_path))
    assert set(m["versions"]) == {
        "segml", "scikit-learn", "pandas", "numpy", "joblib", "python", "skops"
    }
    assert m["serializer"] == "joblib"
    assert m["algorithm"] == "KMeans" and m["k"] == 3 and m["n_train"] == 600
    assert m["input_contract"]["region"]["levels"] == ["east", "north", "south", "west"]
    assert m["input_contract"]["gender"]["kind"] == "category"
    rec = m["input_contract"]["recency_days"]
    assert rec["kind"] == "numeric"
    assert rec["min"] == pytest.approx(features["recency_days"].min())
    assert m["input_contract"]["monetary"]["missing_share"] == pytest.approx(17 / 600)
    assert [s["name"] for s in m["segments"]] == ["loyal", "occasional", "lapsed"]
    assert sum(m["segment_shares"].values()) == pytest.approx(1.0)
    ref = m["drift_reference"]["frequency"]
    assert sum(ref["shares"]) + ref["missing"] == pytest.approx(1.0)
    assert m["files"][MODEL_FILE]["sha256"] == hashlib.sha256(
        (tmp_path / "demo" / MODEL_FILE).read_bytes()
    ).hexdigest()
    assert m["stripped_per_row_attributes"] == ["segmenter.steps[1][1].labels_"]


def test_no_customer_rows_in_saved_folder(tmp_path, kmeans_model, features):
    path = save_model(kmeans_model, root=tmp_path)
    blob = b"".join(p.read_bytes() for p in path.iterdir())
    import joblib

    raw = joblib.load(path / MODEL_FILE)  # decompressed pickle too
    import pickle

    blob += pickle.dumps(raw)
    leaked = [cid for cid in features.index if cid.encode() in blob]
    assert leaked == []
    assert b"CUST-" not in blob


def test_kmeans_model_small_and_labels_stripped(tmp_path):
    feats = make_features(20_000, seed=3)
    pipe = Pipeline([("pre", make_preprocessor()), ("km", KMeans(4, n_init=1, random_state=0))])
    pipe.fit(feats)
    model = SegmentModel.from_training(pipe, feats, name="big")
    path = save_model(model, root=tmp_path)
    size = sum(p.stat().st_size for p in path.iterdir())
    assert size <= 100_000
    assert hasattr(pipe[-1], "labels_"), "the caller's estimator must not be stripped"
    assert not hasattr(load_model(path).segmenter[-1], "labels_")


def test_bisecting_model_has_no_row_arrays(features):
    pipe = Pipeline([("pre", make_preprocessor()), ("bk", BisectingKMeans(3, random_state=0))])
    pipe.fit(features)
    model = SegmentModel.from_training(pipe, features)
    assert model.stripped == ["segmenter.steps[1][1].labels_"]
    assert model.segmenter[-1]._bisecting_tree.indices is None  # sklearn drops them itself
    np.testing.assert_array_equal(
        score_features(model, features).frame["segment_id"].to_numpy(), pipe.predict(features)
    )


def test_flipped_byte_refused_before_unpickling(tmp_path, kmeans_model, monkeypatch):
    path = save_model(kmeans_model, root=tmp_path)
    data = bytearray((path / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (path / MODEL_FILE).write_bytes(bytes(data))
    import segml.persistence.load as sp

    def boom(*a, **k):
        raise AssertionError("unpickled an altered file")

    monkeypatch.setattr(sp.joblib, "load", boom)
    with pytest.raises(ModelIntegrityError, match="does not match its sha256.*Refusing to unpic"):
        load_model(path)


def test_edited_manifest_refused(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path)
    text = (path / MANIFEST).read_text().replace('"loyal"', '"gold"')
    (path / MANIFEST).write_text(text)
    with pytest.raises(ModelIntegrityError, match="manifest was edited or corrupted"):
        load_model(path)


def test_missing_sidecar_and_not_a_model(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path)
    (path / MANIFEST_HASH).unlink()
    with pytest.raises(ModelIntegrityError, match="is not a segml model folder"):
        load_model(path)
    with pytest.raises(ModelIntegrityError, match="is not a segml model folder"):
        load_model(tmp_path / "nothing")


def test_unlisted_and_missing_files_refused(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path)
    (path / "extra.pkl").write_bytes(b"x")
    with pytest.raises(ModelIntegrityError, match=r"files not in its manifest: \['extra.pkl'\]"):
        load_model(path)
    (path / "extra.pkl").unlink()
    (path / MODEL_FILE).unlink()
    with pytest.raises(ModelIntegrityError, match="listed in the manifest but missing"):
        load_model(path)


def test_hmac_signed_models(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path, key=b"secret")
    assert (path / MANIFEST_HASH).read_text().startswith("hmac-sha256:")
    assert load_model(path, key=b"secret").n_train == 600
    with pytest.raises(ModelIntegrityError, match="is signed"):
        load_model(path)
    with pytest.raises(ModelIntegrityError, match="or the key is wrong"):
        load_model(path, key=b"other")
    plain = save_model(kmeans_model, tmp_path / "plain")
    with pytest.raises(ModelIntegrityError, match="not signed but a key was given"):
        load_model(plain, key=b"secret")
    # re-sealing an edited manifest with plain sha256 does not pass a keyed load
    _rewrite_manifest(path, lambda m: m.update(name="evil"))
    with pytest.raises(ModelIntegrityError, match="not signed but a key was given"):
        load_model(path, key=b"secret")


def test_overwrite_refused_then_versioned(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path)
    with pytest.raises(OutputExistsError, match="already exists; refusing to overwrite"):
        save_model(kmeans_model, root=tmp_path)
    first = read_manifest(path)
    save_model(kmeans_model, root=tmp_path, overwrite=True)
    save_model(kmeans_model, root=tmp_path, overwrite=True)
    # the name is a link to the newest version; every version is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "demo@v1", "demo@v2", "demo@v3"]
    assert os.readlink(tmp_path / "demo") == "demo@v3"
    assert read_manifest(tmp_path / "demo@v1") == first
    assert load_model(tmp_path / "demo@v2").n_train == 600
    table = list_models(tmp_path)
    assert table[["name", "version"]].values.tolist() == [
        ["demo", "current"], ["demo", "v1"], ["demo", "v2"]
    ]
    assert table["k"].tolist() == [3, 3, 3]
    assert table["verified"].all()
    assert table.loc[0, "as_of"] == pd.Timestamp("2026-10-31")


def test_list_models_flags_tampered_and_empty_root(tmp_path, kmeans_model):
    assert list_models(tmp_path / "none").empty
    path = save_model(kmeans_model, root=tmp_path)
    (path / MANIFEST).write_text((path / MANIFEST).read_text().replace("KMeans", "Other"))
    table = list_models(tmp_path)
    assert table["verified"].tolist() == [False]


def test_refuses_to_replace_a_non_model_folder(tmp_path, kmeans_model):
    (tmp_path / "demo").mkdir()
    with pytest.raises(ConfigError, match="is not a segml model folder; refusing to replace it"):
        save_model(kmeans_model, root=tmp_path, overwrite=True)


def test_version_mismatch_error_and_warning(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path)
    _rewrite_manifest(path, lambda m: m["versions"].update({"scikit-learn": "1.2.2"}))
    with pytest.raises(ModelVersionError, match=r"scikit-learn 1.2.2 \(saved\)"):
        load_model(path)
    with pytest.warns(ModelVersionWarning, match=r"scikit-learn 1.2.2"):
        load_model(path, strict_versions=False)
    import sklearn

    major, minor = sklearn.__version__.split(".")[:2]
    _rewrite_manifest(
        path,
        lambda m: m["versions"].update({"scikit-learn": f"{major}.{minor}.99", "python": "3.0.0"}),
    )
    with pytest.warns(ModelVersionWarning, match=r"python 3.0.0 \(saved\)"):
        load_model(path)
    _rewrite_manifest(path, lambda m: m["versions"].update({"numpy": "1.26.4"}))
    with pytest.raises(ModelVersionError, match="numpy 1.26.4"):
        load_model(path)


def test_newer_format_refused(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path)
    _rewrite_manifest(path, lambda m: m.update(format_version=99))
    with pytest.raises(ModelVersionError, match="model format 99 is newer"):
        load_model(path)


def test_bad_name_and_bad_inputs(kmeans_pipe, features):
    with pytest.raises(ConfigError, match="model name 'a/b' is not valid"):
        SegmentModel.from_training(kmeans_pipe, features, name="a/b")
    with pytest.raises(ConfigError, match="non-empty training feature frame"):
        SegmentModel.from_training(kmeans_pipe, features.iloc[:0])
    with pytest.raises(SchemaError, match=r"lack column\(s\) \['gender'\]"):
        SegmentModel.from_training(kmeans_pipe, features.drop(columns="gender"))
    with pytest.raises(SchemaError, match="cannot score with a str"):
        SegmentModel.from_training("nope", features)
    with pytest.raises(ConfigError, match="save_model expects a SegmentModel, got Pipeline"):
        save_model(kmeans_pipe, "x")


def test_no_warning_on_plain_round_trip(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(path)


def test_gmm_round_trip(tmp_path, gmm_pipe, features):
    model = SegmentModel.from_training(gmm_pipe, features, name="gmm")
    loaded = load_model(save_model(model, root=tmp_path))
    res = score_features(loaded, features).frame
    np.testing.assert_array_equal(res["segment_id"].to_numpy(), gmm_pipe.predict(features))
    np.testing.assert_allclose(
        res["confidence"].to_numpy(), gmm_pipe.predict_proba(features).max(axis=1), rtol=1e-12
    )

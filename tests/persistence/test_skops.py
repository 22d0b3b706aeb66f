"""The skops format: loads without pickle, refuses types outside the allow-list."""

from __future__ import annotations

import numpy as np
import pytest

from segml.cluster import Segmenter
from segml.errors import ConfigError, ModelIntegrityError
from segml.persistence import SKOPS_FILE, SegmentModel, load_model, read_manifest, save_model
from segml.scoring import score_features

from .conftest import make_preprocessor

sio = pytest.importorskip("skops.io", reason="skops is the optional secure format")


def test_skops_round_trip_segmenter(tmp_path, features):
    seg = Segmenter(n_clusters=3, preprocessor=make_preprocessor(), random_state=0, n_init=1)
    seg.fit(features)
    model = SegmentModel.from_training(seg, features, name="sk")
    path = save_model(model, root=tmp_path, format="skops")
    assert sorted(p.name for p in path.iterdir()) == [
        "manifest.json", "manifest.sha256", SKOPS_FILE
    ]
    assert read_manifest(path)["serializer"] == "skops"
    loaded = load_model(path)
    np.testing.assert_array_equal(
        score_features(loaded, features).frame["segment_id"], seg.predict(features)
    )
    blob = (path / SKOPS_FILE).read_bytes()
    assert not any(cid.encode() in blob for cid in features.index[:50])


def test_skops_refuses_foreign_types(tmp_path, kmeans_model, monkeypatch):
    path = save_model(kmeans_model, root=tmp_path, format="skops")
    import segml.persistence.formats as sp  # where the trusted list is read

    monkeypatch.setattr(sp, "SKOPS_TRUSTED_TYPES", ())
    with pytest.raises(ModelIntegrityError, match=r"types that are not trusted: \['numpy.dtype'\]"):
        load_model(path)
    assert load_model(path, trusted=["numpy.dtype"]).n_train == 600


def test_skops_tamper_refused(tmp_path, kmeans_model):
    path = save_model(kmeans_model, root=tmp_path, format="skops")
    data = bytearray((path / SKOPS_FILE).read_bytes())
    data[-10] ^= 0xFF
    (path / SKOPS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="model.skops does not match its sha256"):
        load_model(path)


def test_unknown_format(kmeans_model, tmp_path):
    with pytest.raises(ConfigError, match=r"format='pickle' should be one of"):
        save_model(kmeans_model, root=tmp_path, format="pickle")

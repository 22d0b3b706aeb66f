"""The model bundle's own module, its predict, and the module layering it relies on."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import segml
import segml.model
import segml.persistence
from segml.monitoring import drift_reference
from segml.scoring import CompiledScorer

#: Private names still imported across layers (segml.<layer>): left for the modules'
#: owners. The test fails when one is added, and when one of these goes away (then drop it).
ALLOWED_PRIVATE_IMPORTS: set[tuple[str, str]] = {
    # the forward-value models are a features family (segml.features.forward imports
    # segml.value), so importing segml.features here would be circular
    ("segml.value.summary", f"segml.features._time.{name}")
    for name in ("cutoff", "timestamp_values", "to_as_of")
}


def test_persistence_reexports_the_bundle():
    assert segml.persistence.SegmentModel is segml.model.SegmentModel
    assert segml.persistence.input_contract is segml.model.input_contract


def test_predict_is_the_pipeline_predict(kmeans_model, kmeans_pipe, features):
    np.testing.assert_array_equal(kmeans_model.predict(features), kmeans_pipe.predict(features))


def test_manifest_body_is_to_manifest(kmeans_model):
    assert segml.persistence.manifest_body(kmeans_model) == kmeans_model.to_manifest()


def test_drift_reference_is_the_models(kmeans_model, features):
    ref = drift_reference(features, kmeans_model.contract, 10, 1)
    assert ref == {c: v for c, v in kmeans_model.reference.items() if c != "_segments"}


def test_bundle_never_holds_a_compiled_scorer_on_disk(kmeans_model, tmp_path):
    """The compiled scorer is rebuilt on load (it is not part of the saved payload)."""
    path = segml.persistence.save_model(kmeans_model, root=tmp_path)
    loaded = segml.persistence.load_model(path)
    assert loaded._scorer is None
    assert isinstance(loaded.scorer, CompiledScorer)


def _layer(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _private_imports() -> set[tuple[str, str]]:
    root = Path(segml.__file__).parent
    found = set()
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root.parent).with_suffix("")
        mod = ".".join(rel.parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.module
                    and node.module.startswith("segml")):
                continue
            other_layer = _layer(node.module) != _layer(mod)
            # a private module inside another layer's package (segml.features._time), not
            # segml's shared private helpers (segml._validation, segml._atomic, ...)
            private_module = any(p.startswith("_") for p in node.module.split(".")[2:])
            for alias in node.names:
                if other_layer and (alias.name.startswith("_") or private_module):
                    found.add((mod, f"{node.module}.{alias.name}"))
    return found


@pytest.mark.parametrize("kind", ["new", "gone"])
def test_no_new_private_import_across_layers(kind):
    found = _private_imports()
    if kind == "new":
        assert found - ALLOWED_PRIVATE_IMPORTS == set(), "make the name public instead"
    else:
        assert ALLOWED_PRIVATE_IMPORTS - found == set(), "fixed: remove it from the allowlist"

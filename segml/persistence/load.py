"""Reading models back: loading (after every check) and listing the models of a folder."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import joblib
import pandas as pd

from segml.errors import (
    ModelIntegrityError,
    ModelVersionError,
)
from segml.model import SegmentModel
from segml.persistence.formats import MODEL_FILE, SKOPS_FILE, _load_skops
from segml.persistence.manifest import (
    MANIFEST,
    MODEL_FORMAT_VERSION,
    _check_files,
    _read_manifest,
    _refuse_temporary,
    _resolve,
    check_versions,
    verify_model,
)
from segml.persistence.save import StagedModel, _link_target


def load_model(
    path: str | Path,
    *,
    key: bytes | None = None,
    strict_versions: bool = True,
    trusted: Sequence[str] | None = None,
) -> SegmentModel:
    """Load a saved model after checking its manifest, file hashes and versions.

    Only load models you trust: unpickling runs code. The checks (manifest hash,
    then each file's sha256) run **before** anything is unpickled.

    Parameters
    ----------
    path : path-like
        Model folder (e.g. ``models/churn`` or a kept version ``models/churn@v1``).
    key : bytes, optional
        HMAC key for signed models.
    strict_versions : bool, default True
        Refuse non-portable library differences (else warn and try).
    trusted : sequence of str, optional
        For skops models: extra type names to allow besides scikit-learn, numpy dtypes
        and segml's own classes.

    Returns
    -------
    SegmentModel
        The model, ready for :func:`segml.scoring.score`.

    Raises
    ------
    ModelIntegrityError
        Missing/edited manifest, altered or unlisted files.
    ModelVersionError
        Non-portable library versions, or a newer model format.
    """
    folder = _resolve(path)
    _refuse_temporary(folder)
    return _load_folder(folder, key=key, strict_versions=strict_versions, trusted=trusted)


def load_staged(staged: StagedModel, *, key: bytes | None = None) -> SegmentModel:
    """Load a model that is staged but not yet published (same checks as :func:`load_model`).

    Parameters
    ----------
    staged : StagedModel
        Output of :func:`stage_model`.
    key : bytes, optional
        The key it was signed with.

    Returns
    -------
    SegmentModel
    """
    return _load_folder(staged.folder, key=key, strict_versions=True, trusted=None)


def _load_folder(
    folder: Path, *, key: bytes | None, strict_versions: bool, trusted: Sequence[str] | None
) -> SegmentModel:
    manifest = _read_manifest(folder, key)
    fmt = int(manifest.get("format_version", 0))
    if fmt > MODEL_FORMAT_VERSION:
        raise ModelVersionError(
            f"model format {fmt} is newer than this segml understands ({MODEL_FORMAT_VERSION}); "
            "Fix: upgrade segml (pip install -U segml) or load it with the segml that saved it."
        )
    _check_files(folder, manifest)
    saved = manifest.get("versions")
    if not isinstance(saved, Mapping) or not saved.get("scikit-learn"):
        raise ModelVersionError(
            f"{folder / MANIFEST} has no 'versions' block naming the scikit-learn it was saved "
            "with, so segml cannot tell whether its pickle is safe to load here; refusing it. "
            "Fix: re-train and save the model with this segml (segml fit, or save_model in "
            "Python)."
        )
    check_versions(saved, strict=strict_versions)
    if manifest.get("serializer") == "skops":
        payload = _load_skops(folder / SKOPS_FILE, trusted)
    else:
        payload = joblib.load(folder / MODEL_FILE)
    segs = manifest.get("segments", [])
    win = manifest.get("training_window")
    ref = dict(manifest.get("drift_reference") or {})
    ref["_segments"] = manifest.get("segment_shares", {})
    model = SegmentModel(
        segmenter=payload["segmenter"],
        name=manifest["name"],
        feature_spec=payload.get("feature_spec"),
        feature_state=payload.get("feature_state"),
        as_of=None if manifest.get("as_of") is None else pd.Timestamp(manifest["as_of"]),
        training_window=None if win is None else (pd.Timestamp(win[0]), pd.Timestamp(win[1])),
        segment_names={int(s["id"]): s["name"] for s in segs},
        segment_roles={int(s["id"]): s["role"] for s in segs if s.get("role") is not None},
        profiles=manifest.get("profiles") or {},
        metrics=manifest.get("metrics") or {},
        contract=manifest.get("input_contract") or {},
        reference=ref,
        distance_quantiles=manifest.get("distance_quantiles") or {},
        n_train=int(manifest.get("n_train", 0)),
        created=manifest.get("created"),
        stripped=list(manifest.get("stripped_per_row_attributes", [])),
        kind=str(manifest.get("kind", "clusters")),  # older files: clusters
        manifest=manifest,
    )
    return model


# ----------------------------------------------------------------------------- listing
def list_models(root: str | Path = "models", *, key: bytes | None = None) -> pd.DataFrame:
    """Table of the models under ``root`` (current ones and kept ``@vN`` versions).

    Each model is verified like :func:`load_model` does before unpickling (manifest hash
    or signature, then every file's sha256); nothing is unpickled. ``verified`` is true
    only when all of that passed. Hidden folders (temporaries of unfinished saves) are
    never listed; a version is listed once, as ``current`` when its name points to it.

    Parameters
    ----------
    root : path-like, default "models"
        Folder of model folders.
    key : bytes, optional
        HMAC key, to verify signed models (without it they are listed as not verified).

    Returns
    -------
    pandas.DataFrame
        Columns ``name, version, path, created, as_of, algorithm, k, n_train,
        segml_version, sklearn_version, verified, status``; one row per model, sorted.
        ``status`` is ``"ok"`` or why it is not verified.
    """
    cols = [
        "name", "version", "path", "created", "as_of", "algorithm", "k", "n_train",
        "segml_version", "sklearn_version", "verified", "status",
    ]
    rows = []
    base = Path(root)
    if base.is_dir():
        entries = sorted(p for p in base.iterdir() if not p.name.startswith("."))
        current = {_link_target(p) for p in entries} - {None}
        for p in entries:
            if p.name in current:
                continue  # listed as its name's "current" row
            real = _resolve(p)
            if _link_target(p) is not None and not real.exists():
                rows.append({c: None for c in cols} | {
                    "name": p.name, "version": "current", "path": str(p), "created": pd.NaT,
                    "as_of": pd.NaT, "verified": False,
                    "status": f"points to {real.name}, which is missing"})
                continue
            if not real.is_dir() or not (real / MANIFEST).is_file():
                continue
            try:
                m = verify_model(real, key=key)
                verified, status = True, "ok"
            except ModelIntegrityError as exc:
                try:
                    m = json.loads((real / MANIFEST).read_bytes())
                    m = m if isinstance(m, dict) else {}
                except (OSError, ValueError):
                    m = {}
                verified = False
                why = str(exc).split(". Fix:")[0].replace(f"{real}{os.sep}", "")
                status = "signed: pass the key to verify" if "is signed" in why else \
                    why.replace(str(real), "folder")[:200]
            name, _, ver = p.name.partition("@")
            v = m.get("versions") or {}
            rows.append({
                "name": name, "version": ver or "current", "path": str(p),
                "created": pd.Timestamp(m["created"]) if m.get("created") else pd.NaT,
                "as_of": pd.Timestamp(m["as_of"]) if m.get("as_of") else pd.NaT,
                "algorithm": m.get("algorithm"), "k": m.get("k"), "n_train": m.get("n_train"),
                "segml_version": v.get("segml"), "sklearn_version": v.get("scikit-learn"),
                "verified": verified, "status": status,
            })
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["name", "version"], kind="stable").reset_index(drop=True)

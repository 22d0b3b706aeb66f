"""The manifest of a saved model: library versions, file hashes and the signature.

Written by :mod:`~segml.persistence.save`; read, verified and version-checked here before
anything is unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import platform
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from segml._atomic import (
    is_temporary,
)
from segml._json import jsonable
from segml.errors import (
    ModelIntegrityError,
    ModelVersionError,
    ModelVersionWarning,
)
from segml.model import SegmentModel
from segml.persistence.formats import MODEL_FILE, SKOPS_FILE

MODEL_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"


def _segml_version() -> str:
    try:
        from importlib.metadata import version

        return version("segml")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "0+unknown"


def _skops_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("skops")
    except Exception:
        return None


def _versions() -> dict[str, str | None]:
    return {
        "segml": _segml_version(),
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "skops": _skops_version(),
        "python": platform.python_version(),
    }


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _manifest_digest(data: bytes, key: bytes | None) -> str:
    if key is None:
        return "sha256:" + hashlib.sha256(data).hexdigest()
    return "hmac-sha256:" + hmac.new(key, data, hashlib.sha256).hexdigest()


def manifest_body(model: SegmentModel) -> dict[str, Any]:
    """Manifest body of ``model`` (everything but the file hashes and the creation stamp).

    Parameters
    ----------
    model : SegmentModel
        The bundle.

    Returns
    -------
    dict
        JSON-ready manifest fields: format, versions, contract, segments, drift reference...
    """
    state = model.feature_state
    spec = model.feature_spec
    k = model.n_segments
    return {
        "format": "segml-model",
        "format_version": MODEL_FORMAT_VERSION,
        "name": model.name,
        "versions": _versions(),
        "as_of": jsonable(model.as_of),
        "training_window": jsonable(model.training_window),
        "n_train": int(model.n_train),
        "algorithm": model.algorithm,
        "kind": getattr(model, "kind", "clusters"),
        "k": k,
        "feature_spec": jsonable(spec) if spec is not None else None,
        "cut_points": jsonable(state) if state is not None else None,
        "input_contract": model.contract,
        "model_features": model.scorer.feature_names_out(),
        "segments": [
            {
                "id": j,
                "name": model.segment_names.get(j, f"segment_{j}"),
                "role": model.segment_roles.get(j),
                "train_share": model.reference.get("_segments", {}).get(str(j)),
            }
            for j in range(k)
        ],
        "distance_quantiles": model.distance_quantiles,
        "profiles": model.profiles,
        "metrics": model.metrics,
        "drift_reference": {c: v for c, v in model.reference.items() if c != "_segments"},
        "segment_shares": model.reference.get("_segments", {}),
        "stripped_per_row_attributes": list(model.stripped),
    }


# ----------------------------------------------------------------------------- load
def read_manifest(path: str | Path, *, key: bytes | None = None) -> dict[str, Any]:
    """Read and verify ``manifest.json`` of a model folder (nothing is unpickled).

    Parameters
    ----------
    path : path-like
        Model folder.
    key : bytes, optional
        HMAC key the model was signed with.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    ModelIntegrityError
        When the folder is not a model, the manifest does not match its hash, or the
        signature/key do not agree.
    """
    folder = _resolve(path)
    _refuse_temporary(folder)
    return _read_manifest(folder, key)


def _refuse_temporary(folder: Path) -> None:
    if is_temporary(folder):
        raise ModelIntegrityError(
            f"{folder} is a temporary folder left by an unfinished save; segml never loads it. "
            "Fix: load the model by its name (e.g. models/<name>) and delete this folder."
        )


def _read_manifest(folder: Path, key: bytes | None) -> dict[str, Any]:
    mpath, hpath = folder / MANIFEST, folder / MANIFEST_HASH
    if not mpath.is_file() or not hpath.is_file():
        raise ModelIntegrityError(
            f"{folder} is not a segml model folder: {MANIFEST} or {MANIFEST_HASH} is missing. "
            "Fix: pass a model folder (see `segml models list`)."
        )
    data = mpath.read_bytes()
    recorded = hpath.read_text(encoding="utf-8").split()[0] if hpath.stat().st_size else ""
    signed = recorded.startswith("hmac-sha256:")
    if signed and key is None:
        raise ModelIntegrityError(
            f"{folder} is signed (HMAC-SHA256) and no key was given. Fix: pass the key it was "
            "saved with: --key-file PATH or --key-env VAR on the CLI (key=b'...' in Python)."
        )
    if not signed and key is not None:
        raise ModelIntegrityError(
            f"{folder} is not signed but a key was given; refusing an unsigned model. Fix: "
            "load a model saved with that key, or drop --key-file/--key-env (key=) if you "
            "trust this unsigned one."
        )
    if not hmac.compare_digest(recorded, _manifest_digest(data, key)):
        what = "signature" if signed else "sha256"
        raise ModelIntegrityError(
            f"{folder / MANIFEST} does not match the {what} in {MANIFEST_HASH}: the manifest was "
            "edited or corrupted (or the key is wrong). Refusing to load. Fix: check the key "
            "(--key-file/--key-env, key=), or restore the model from a kept version "
            "(<name>@v<N>) or a backup, or save it again."
        )
    try:
        manifest = json.loads(data)
    except json.JSONDecodeError as exc:  # pragma: no cover - hash matched a bad file
        raise ModelIntegrityError(f"{mpath} is not valid JSON: {exc}") from exc
    if manifest.get("format") != "segml-model":
        raise ModelIntegrityError(f"{mpath} is not a segml model manifest. Fix: pass a model "
                                  "folder (see `segml models list`).")
    return manifest


def _resolve(path: str | Path) -> Path:
    """Follow a model name's symlink(s) once, so every later read sees the same version."""
    p = Path(path)
    for _ in range(8):
        if not p.is_symlink():
            return p
        target = Path(os.readlink(p))
        p = target if target.is_absolute() else p.parent / target
    return p


def verify_model(path: str | Path, *, key: bytes | None = None) -> dict[str, Any]:
    """Check a saved model's manifest hash (or signature) and every file's sha256.

    Nothing is unpickled.

    Parameters
    ----------
    path : path-like
        Model name or version folder.
    key : bytes, optional
        HMAC key for signed models.

    Returns
    -------
    dict
        The verified manifest.

    Raises
    ------
    ModelIntegrityError
        Any mismatch, missing or unlisted file, or a temporary folder.
    """
    folder = _resolve(path)
    _refuse_temporary(folder)
    manifest = _read_manifest(folder, key)
    _check_files(folder, manifest)
    return manifest


def _check_files(folder: Path, manifest: Mapping[str, Any]) -> None:
    files = manifest.get("files") or {}
    fname = SKOPS_FILE if manifest.get("serializer") == "skops" else MODEL_FILE
    if fname not in files:
        raise ModelIntegrityError(f"{folder / MANIFEST} lists no {fname}.")
    for rel, meta in files.items():
        p = folder / rel
        if not p.is_file():
            raise ModelIntegrityError(f"{p} is listed in the manifest but missing.")
        got = _sha256_file(p)
        if not hmac.compare_digest(got, str(meta.get("sha256", ""))):
            raise ModelIntegrityError(
                f"{p} does not match its sha256 in the manifest (expected "
                f"{meta.get('sha256')}, got {got}): the file was corrupted or altered. "
                "Refusing to unpickle it. Fix: restore the model from a kept version "
                "(<name>@v<N>) or a backup, or save it again."
            )
    known = set(files) | {MANIFEST, MANIFEST_HASH}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in known)
    if extra:
        raise ModelIntegrityError(f"{folder} holds files not in its manifest: {extra}. Fix: "
                                  "remove them (segml never adds files to a saved model).")


def _mm(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def check_versions(saved: Mapping[str, str], *, strict: bool = True) -> list[str]:
    """Compare saved library versions with the running ones.

    Parameters
    ----------
    saved : mapping
        ``manifest["versions"]``.
    strict : bool, default True
        Raise on non-portable differences (else they only warn).

    Returns
    -------
    list of str
        The differences found (also warned with ``ModelVersionWarning``).

    Raises
    ------
    ModelVersionError
        For a different scikit-learn major/minor release or a different numpy/pandas
        major release (when ``strict``).
    """
    now = _versions()
    errors, notes = [], []
    for lib, depth in (("scikit-learn", 2), ("numpy", 1), ("pandas", 1)):
        a, b = saved.get(lib), now[lib]
        if a is None or a == b:
            continue
        if _mm(a)[:depth] != _mm(b)[:depth]:
            errors.append(f"{lib} {a} (saved) vs {b} (running)")
        else:
            notes.append(f"{lib} {a} (saved) vs {b} (running)")
    for lib in ("python", "segml", "joblib"):
        a, b = saved.get(lib), now.get(lib)
        if a is not None and a != b:
            notes.append(f"{lib} {a} (saved) vs {b} (running)")
    if errors and strict:
        raise ModelVersionError(
            "model was saved with library versions whose pickles are not portable: "
            + "; ".join(errors)
            + ". Fix: re-train and save it with the running versions, or install the saved "
            "ones (load_model(..., strict_versions=False) tries anyway)."
        )
    diffs = errors + notes
    if diffs:
        warnings.warn(
            "model was saved with different library versions: " + "; ".join(diffs),
            ModelVersionWarning,
            stacklevel=3,
        )
    return diffs

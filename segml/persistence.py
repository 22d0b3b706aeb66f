"""Saved segment models: the on-disk format of a :class:`~segml.model.SegmentModel`.

This module only reads and writes: the manifest (:func:`manifest_body`), hashes and
signatures, library versions, the joblib/skops formats and the versioned folder layout.
The bundle itself (and ``input_contract``) lives in :mod:`segml.model` and is
re-exported here, so ``from segml.persistence import SegmentModel`` keeps working.

A saved model is a folder (by default ``models/<name>`` is a link to ``models/<name>@v<N>/``)::

    models/<name>@v<N>/
        model.joblib      # fitted segmenter + FeatureState + FeatureSpec (pickle)
        manifest.json     # versions, as_of, window, contract, cut points, segments, metrics,
                          # drift reference, sha256 of every other file
        manifest.sha256   # sha256 (or HMAC-SHA256 with a key) of manifest.json's bytes

Rules
-----
* **No customer rows.** Per-row training arrays (``labels_`` of the segmenter and of the
  inner estimator, the bisecting tree's ``indices``, and for large trainings anything
  with one entry per training row) are stripped before saving; the manifest holds
  aggregates only (quantile edges, shares, ranges, levels).
* **Atomic, never silently overwritten, never absent.** Each save writes a complete new
  version under a hidden temporary name, renames it to ``<name>@v<N>`` and then points
  the name (a relative symlink) at it with one atomic ``os.replace``: a reader of
  ``models/<name>`` always sees a complete model, the previous versions stay. Saving onto
  an existing name raises :class:`~segml.errors.OutputExistsError` unless
  ``overwrite=True``; of two concurrent savers without ``overwrite`` exactly one wins
  (the name is claimed with ``os.symlink``, which fails if it exists). Temporaries of a
  killed save (``.<name>.<random>.tmp``) are never listed nor loaded.
* **Checked before unpickling.** :func:`load_model` verifies ``manifest.sha256`` against
  ``manifest.json``, then every file's sha256 against the manifest, and only then unpickles.
* **Versions.** A different scikit-learn major/minor release, or a different numpy/pandas
  major release, raises :class:`~segml.errors.ModelVersionError` (pickles are not portable
  there); any other difference warns with :class:`~segml.errors.ModelVersionWarning`.

Security
--------
Loading a pickle runs code. Load only models you trust. ``save_model(..., format="skops")``
writes ``model.skops`` instead (the ``skops`` package): loading it builds only
scikit-learn types, numpy dtypes and segml's own classes, and refuses any other type
unless the caller names it in ``trusted=``. The sha256 checks catch
corruption and accidental edits, not an attacker who can rewrite the whole folder: for
that, sign with ``key=`` (HMAC-SHA256 of the manifest, which pins every file's hash).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import os
import platform
import re
import secrets
import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from segml._atomic import (
    check_name,
    check_writable,
    is_temporary,
    make_temp_dir,
    rename_new,
    write_error,
)
from segml._json import jsonable
from segml.errors import (
    ConfigError,
    ModelIntegrityError,
    ModelVersionError,
    ModelVersionWarning,
    OutputExistsError,
    SegmlError,
)
from segml.model import SegmentModel, check_model_name, input_contract

__all__ = [
    "SegmentModel",
    "input_contract",
    "manifest_body",
    "StagedModel",
    "save_model",
    "stage_model",
    "load_model",
    "load_staged",
    "verify_model",
    "list_models",
    "check_model_target",
    "MODEL_FORMAT_VERSION",
]

MODEL_FORMAT_VERSION = 1
MODEL_FILE = "model.joblib"
SKOPS_FILE = "model.skops"
FORMATS = ("joblib", "skops")
#: Types a skops model may hold besides scikit-learn's own: numpy dtypes and segml's classes
#: (segml's code is already trusted by whoever imports it). Anything else must be named by the
#: caller in ``load_model(..., trusted=[...])``.
SKOPS_TRUSTED_PREFIXES = ("segml.",)
SKOPS_TRUSTED_TYPES = ("numpy.dtype",)
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


# ----------------------------------------------------------------------------- save
#: How a saved model sits in its folder of models (``root``)::
#:
#:     <root>/<name>          -> <name>@v3      # symlink: the current model
#:     <root>/<name>@v1/ ...                     # every version, complete and never edited
#:     <root>/<name>@v3/ ...
#:
#: A version folder is written under a hidden temporary name and renamed into place only
#: when complete. The name is a relative symlink replaced with one ``os.replace``, so a
#: reader of ``<root>/<name>`` sees either the previous or the new complete model, never
#: none; a saver without ``overwrite`` claims the name with ``os.symlink``, which fails if
#: another saver got there first. (A model folder of older segml releases under the name
#: itself is moved to a version the first time it is overwritten.)
_VERSION_RE = r"{name}@v(\d+)"


def _versions_of(final: Path) -> list[tuple[int, Path]]:
    pattern = re.compile(_VERSION_RE.format(name=re.escape(final.name)))
    out = []
    if final.parent.is_dir():
        for p in final.parent.iterdir():
            m = pattern.fullmatch(p.name)
            if m:
                out.append((int(m.group(1)), p))
    return sorted(out)


def _next_version(path: Path) -> Path:
    found = _versions_of(path)
    n = found[-1][0] + 1 if found else 1
    return path.with_name(f"{path.name}@v{n}")


def _link_target(final: Path) -> str | None:
    """Return the version a model name points to (None when ``final`` is not such a link)."""
    if not final.is_symlink():
        return None
    target = os.readlink(final)
    if re.fullmatch(_VERSION_RE.format(name=re.escape(final.name)), target):
        return target
    return None


def _model_state(final: Path) -> str:
    """``"absent"``, ``"link"`` (segml's name), ``"legacy"`` (older segml folder) or foreign."""
    if not os.path.lexists(final):
        return "absent"
    if _link_target(final) is not None:
        return "link"
    if final.is_dir() and not final.is_symlink() and (final / MANIFEST).is_file():
        try:
            ok = json.loads((final / MANIFEST).read_bytes()).get("format") == "segml-model"
        except (OSError, ValueError, AttributeError):
            ok = False
        if ok:
            return "legacy"
    return "foreign"


def check_model_target(path: str | Path, *, overwrite: bool) -> Path:
    """Check that a model may be saved at ``path`` (nothing is written).

    Parameters
    ----------
    path : path-like
        The model name's path (``<models_dir>/<name>``).
    overwrite : bool
        ``--force`` / ``overwrite=True``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputExistsError
        A model exists there and ``overwrite`` is false.
    ConfigError
        Something that is not a segml model is there (never replaced).
    """
    final = Path(path)
    state = _model_state(final)
    if state == "foreign":
        raise ConfigError(
            f"{final} exists and is not a segml model folder; refusing to replace it "
            "(--force / overwrite=True only replaces segml's own models). Fix: choose another "
            "model name (--name / [output] model_name) or move that folder away yourself."
        )
    check_writable(final, overwrite=overwrite)
    return final


@dataclass
class StagedModel:
    """A model written completely under a hidden temporary folder, not yet published.

    Attributes
    ----------
    folder : pathlib.Path
        The temporary folder (``<root>/.<name>.<random>.tmp``); never listed or loaded
        by :func:`load_model`.
    target : pathlib.Path
        The model name it will be published as (``<root>/<name>``).
    """

    folder: Path
    target: Path
    _version: Path | None = None
    _previous: str | None = None
    _claimed: bool = False

    def publish(self, *, overwrite: bool = False) -> Path:
        """Move the model into place as a new version and point its name at it.

        Parameters
        ----------
        overwrite : bool, default False
            Replace the current model of that name (it stays as its ``@v<N>`` version).

        Returns
        -------
        pathlib.Path
            The model name's path.

        Raises
        ------
        OutputExistsError
            ``overwrite`` is false and the name exists (also when another process
            published it first).
        ConfigError
            Something that is not a segml model holds the name.
        OutputWriteError
            The disk is full or the folder is not writable.
        """
        final = self.target
        check_model_target(final, overwrite=overwrite)
        try:
            if overwrite and _model_state(final) == "legacy":
                _migrate_legacy(final)
            self._previous = _link_target(final)
            for _ in range(1000):
                version = _next_version(final)
                try:
                    rename_new(self.folder, version)
                    break
                except OutputExistsError:  # a concurrent saver took that number
                    continue
            else:  # pragma: no cover
                raise OutputExistsError(f"{final}: could not claim a free version number.")
            self._version = version
            if overwrite:
                link = final.with_name(f".{final.name}.{secrets.token_hex(6)}.link")
                os.symlink(version.name, link)
                try:
                    os.replace(link, final)
                except BaseException:
                    with contextlib.suppress(OSError):
                        link.unlink()
                    raise
            else:
                try:
                    os.symlink(version.name, final)
                except FileExistsError as exc:  # another saver claimed the name first
                    shutil.rmtree(version)
                    self._version = None
                    raise OutputExistsError(
                        f"{final} already exists; refusing to overwrite it (another save of "
                        "this name finished first). Fix: pass --force on the CLI "
                        "(overwrite=True in Python) to replace it, or choose another name."
                    ) from exc
            self._claimed = True
        except BaseException as exc:
            if self._version is not None and not self._claimed:
                # the name was not pointed at it: give the version back to the temporary
                with contextlib.suppress(OSError):
                    os.rename(self._version, self.folder)
                self._version = None
            if isinstance(exc, OSError) and not isinstance(exc, SegmlError):
                raise write_error(final, exc) from exc
            raise
        return final

    def unpublish(self) -> None:
        """Undo :meth:`publish` (the run that made the model failed afterwards).

        The name points back to the previous version (or is removed when there was
        none) and the new version is deleted. Best effort: it can itself fail on a
        disk with no room left for the link.
        """
        if not self._claimed or self._version is None:
            return
        final = self.target
        if _link_target(final) == self._version.name:
            if self._previous is not None:
                link = final.with_name(f".{final.name}.{secrets.token_hex(6)}.link")
                os.symlink(self._previous, link)
                os.replace(link, final)
            else:
                final.unlink()
        if _link_target(final) != self._version.name:
            shutil.rmtree(self._version, ignore_errors=True)
        self._claimed = False

    def discard(self) -> None:
        """Remove the temporary folder (when it was not published)."""
        if os.path.lexists(self.folder):
            shutil.rmtree(self.folder, ignore_errors=True)


def _migrate_legacy(final: Path) -> None:
    """Move an older segml model folder under the name to a version and link the name to it.

    Between the two renames the name is briefly absent (once per model, on its first
    overwrite by this segml).
    """
    for _ in range(1000):
        keep = _next_version(final)
        try:
            rename_new(final, keep)
            break
        except OutputExistsError:
            continue
    os.symlink(keep.name, final)


def stage_model(
    model: SegmentModel,
    path: str | Path | None = None,
    *,
    root: str | Path = "models",
    key: bytes | None = None,
    compress: int = 3,
    format: str = "joblib",
) -> StagedModel:
    """Write ``model`` completely under a hidden temporary folder beside its final name.

    Parameters are those of :func:`save_model`; :meth:`StagedModel.publish` puts it in
    place and :meth:`StagedModel.discard` drops it. ``segml run`` publishes only after the
    whole run succeeded.

    Returns
    -------
    StagedModel
    """
    if not isinstance(model, SegmentModel):
        raise ConfigError(
            f"save_model expects a SegmentModel, got {type(model).__name__}; "
            "build one with SegmentModel.from_training(segmenter, features)."
        )
    if format not in FORMATS:
        raise ConfigError(
            f"format={format!r} should be one of {FORMATS}. Fix: pass format='joblib' or "
            "'skops' (--model-format / [output] model_format on the CLI)."
        )
    if key is not None and (not isinstance(key, bytes) or not key):
        raise ConfigError("key must be non-empty bytes. Fix: pass key=b'...' (read it from a "
                          "file or an environment variable, --key-file / --key-env on the CLI).")
    if format == "skops":
        sio = _skops()
    if path is None:
        check_model_name(model.name)
        final = Path(root) / model.name
    else:
        final = Path(path)
        check_name(final.name, what=f"model path {str(final)!r}: its last part", forbid="@",
                   fix="end the path with a plain name such as models/churn-2024q4.")
    body = model.to_manifest()
    body["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    tmp: Path | None = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = make_temp_dir(final)
        payload = {
            "segmenter": model.segmenter,
            "feature_state": model.feature_state,
            "feature_spec": model.feature_spec,
        }
        fname = MODEL_FILE if format == "joblib" else SKOPS_FILE
        if format == "joblib":
            joblib.dump(payload, tmp / fname, compress=compress)
        else:
            sio.dump(_skops_encode(payload, {}), tmp / fname, compression=8,
                     compresslevel=min(max(compress, 0), 9))
        body["serializer"] = format
        body["files"] = {
            fname: {"sha256": _sha256_file(tmp / fname), "bytes": (tmp / fname).stat().st_size}
        }
        body["integrity"] = "sha256" if key is None else "hmac-sha256"
        data = _dumps(body)
        (tmp / MANIFEST).write_bytes(data)
        (tmp / MANIFEST_HASH).write_text(_manifest_digest(data, key) + f"  {MANIFEST}\n")
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, SegmlError):
            raise write_error(final, exc) from exc
        raise
    model.created = body["created"]
    model.manifest = body
    return StagedModel(folder=tmp, target=final)


def save_model(
    model: SegmentModel,
    path: str | Path | None = None,
    *,
    root: str | Path = "models",
    overwrite: bool = False,
    key: bytes | None = None,
    compress: int = 3,
    format: str = "joblib",
) -> Path:
    """Save ``model`` as a folder with ``model.joblib``, ``manifest.json`` and its hash.

    The model is written completely under a hidden temporary name, then published as a
    new version ``<path>@v<N>`` and the name ``<path>`` (a symlink) is pointed at it in
    one atomic step: readers of ``<path>`` see the previous or the new model, never none
    and never half of one. Previous versions are kept.

    Parameters
    ----------
    model : SegmentModel
        The bundle to save.
    path : path-like, optional
        Model name's path; defaults to ``<root>/<model.name>``.
    root : path-like, default "models"
        Folder of models when ``path`` is not given.
    overwrite : bool, default False
        Replace an existing model. The previous one stays as its ``<path>@v<N>``.
    key : bytes, optional
        Sign the manifest with HMAC-SHA256 instead of a plain sha256; loading then
        needs the same key.
    compress : int, default 3
        joblib compression level.
    format : {"joblib", "skops"}, default "joblib"
        ``"skops"`` writes ``model.skops`` (needs the ``skops`` package): loading it
        instantiates only allowed types instead of running pickle code.

    Returns
    -------
    pathlib.Path
        The model name's path (load it with :func:`load_model`).

    Raises
    ------
    OutputExistsError
        When the name exists and ``overwrite`` is false (checked before writing, and
        again atomically when publishing, so of two concurrent savers exactly one wins).
    ConfigError
        When ``model`` is not a :class:`SegmentModel`, the name is not a plain name, or
        something that is not a segml model holds the name.
    OutputWriteError
        Disk full or folder not writable; nothing is left behind.
    """
    final = Path(path) if path is not None else Path(root) / getattr(model, "name", "")
    if isinstance(model, SegmentModel) and path is None:
        check_model_name(model.name)
    check_model_target(final, overwrite=overwrite)
    staged = stage_model(model, path, root=root, key=key, compress=compress, format=format)
    try:
        return staged.publish(overwrite=overwrite)
    finally:
        staged.discard()


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


class _SkopsTimestamp:
    """A ``pandas.Timestamp`` inside a skops file (skops cannot rebuild Timestamps)."""

    def __init__(self, iso: str) -> None:
        self.iso = iso


def _skops_encode(obj: Any, seen: dict[int, Any]) -> Any:
    """Return ``obj`` with every Timestamp in segml objects/containers swapped for a stand-in.

    Objects are copied only where something changes; the caller's model is not touched.
    """
    if isinstance(obj, pd.Timestamp):
        return _SkopsTimestamp(obj.isoformat())
    if id(obj) in seen:
        return seen[id(obj)]
    seen[id(obj)] = obj
    if isinstance(obj, dict):
        new = {k: _skops_encode(v, seen) for k, v in obj.items()}
        out: Any = obj if all(new[k] is v for k, v in obj.items()) else type(obj)(new)
    elif isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        items = [_skops_encode(v, seen) for v in obj]
        out = obj if all(a is b for a, b in zip(items, obj, strict=True)) else type(obj)(items)
    elif (type(obj).__module__ or "").startswith("segml.") and hasattr(obj, "__dict__"):
        changed = {k: e for k, v in vars(obj).items() if (e := _skops_encode(v, seen)) is not v}
        out = obj
        if changed:
            out = copy.copy(obj)
            for k, v in changed.items():
                object.__setattr__(out, k, v)
    else:
        out = obj
    seen[id(obj)] = out
    return out


def _skops_decode(obj: Any, seen: set[int]) -> Any:
    """Undo :func:`_skops_encode` in place on a freshly loaded payload."""
    if isinstance(obj, _SkopsTimestamp):
        return pd.Timestamp(obj.iso)
    if id(obj) in seen:
        return obj
    seen.add(id(obj))
    if isinstance(obj, dict):
        for k, v in obj.items():
            obj[k] = _skops_decode(v, seen)
    elif isinstance(obj, list):
        obj[:] = [_skops_decode(v, seen) for v in obj]
    elif isinstance(obj, tuple):
        return type(obj)(_skops_decode(v, seen) for v in obj) if type(obj) is tuple else obj
    elif (type(obj).__module__ or "").startswith("segml.") and hasattr(obj, "__dict__"):
        for k, v in list(vars(obj).items()):
            d = _skops_decode(v, seen)
            if d is not v:
                object.__setattr__(obj, k, d)
    return obj


def _skops() -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise ConfigError(
            "format='skops' needs the skops package. Fix: pip install skops, or use the "
            "default joblib format (--model-format joblib / format='joblib')."
        ) from exc
    return sio


def _load_skops(path: Path, trusted: Sequence[str] | None) -> Any:
    sio = _skops()
    untrusted = sio.get_untrusted_types(file=path)
    extra = set(trusted or ())
    refused = sorted(
        t for t in untrusted
        if not t.startswith(SKOPS_TRUSTED_PREFIXES) and t not in SKOPS_TRUSTED_TYPES
        and t not in extra
    )
    if refused:
        raise ModelIntegrityError(
            f"{path} holds types that are not trusted: {refused}. Fix: inspect them and pass "
            "load_model(..., trusted=[...]) if you trust them."
        )
    return _skops_decode(sio.load(path, trusted=list(untrusted)), set())


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

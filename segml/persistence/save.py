"""Writing a model: the versioned folder layout, staging, publishing and saving."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib

from segml._atomic import (
    check_name,
    check_writable,
    make_temp_dir,
    rename_new,
    write_error,
)
from segml.errors import (
    ConfigError,
    OutputExistsError,
    SegmlError,
)
from segml.model import SegmentModel, check_model_name
from segml.persistence.formats import FORMATS, MODEL_FILE, SKOPS_FILE, _skops, _skops_encode
from segml.persistence.manifest import (
    MANIFEST,
    MANIFEST_HASH,
    _dumps,
    _manifest_digest,
    _sha256_file,
)

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

"""The served model: loaded and verified once, swapped atomically on reload.

:class:`ModelHolder` keeps one :class:`Served` (the model, its version and its card). A
request reads :attr:`ModelHolder.current` once and scores with that object to the end, so
a reload never changes the model under a request in flight: the new version is loaded and
verified completely (:func:`segml.persistence.load_model`: manifest hash or signature,
every file's sha256, library versions) before one reference assignment swaps it in. A
reload that fails keeps the old model and records why (:attr:`ModelHolder.last_reload`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segml.errors import SegmlError
from segml.model import SegmentModel
from segml.persistence import load_model

__all__ = ["ModelHolder", "Served", "model_card"]

log = logging.getLogger("segml.service")


@dataclass(frozen=True)
class Served:
    """One loaded model version, never changed after it is built.

    Attributes
    ----------
    model : SegmentModel
        The verified model.
    folder : pathlib.Path
        The version folder it was loaded from (symlinks followed once).
    version : str or None
        ``vN`` of a ``<name>@vN`` folder, else None.
    card : dict
        The model card (:func:`model_card`).
    stamp : tuple
        Identity of the files on disk (folder, manifest size and mtime), for the watcher.
    """

    model: SegmentModel
    folder: Path
    version: str | None
    card: dict[str, Any]
    stamp: tuple[Any, ...] = field(default=())


def _stamp(path: Path) -> tuple[Any, ...]:
    """Return what identifies the model on disk now: the resolved folder and its manifest."""
    real = Path(os.path.realpath(path))
    try:
        st = (real / "manifest.json").stat()
        return (str(real), st.st_size, st.st_mtime_ns)
    except OSError:
        return (str(real), None, None)


def _version_of(folder: Path) -> str | None:
    _, sep, ver = folder.name.partition("@")
    return ver if sep else None


def model_card(model: SegmentModel, version: str | None, *, signed: bool) -> dict[str, Any]:
    """Return the model card the service shows at ``GET /model``.

    The same facts as ``segml models show`` (the verified manifest), trimmed to what a
    caller needs: name, version, dates, segments with names, roles and suggested actions,
    and the input contract (aggregates only, no customer values).

    Parameters
    ----------
    model : SegmentModel
        A loaded model.
    version : str or None
        Its version (``vN``), when it was loaded from a ``<name>@vN`` folder.
    signed : bool
        Whether it was verified with a signing key.

    Returns
    -------
    dict
        JSON-ready card.
    """
    man = model.manifest or model.to_manifest()
    actions = {str(k): v for k, v in (model.profiles.get("actions") or {}).items()}
    segments = [
        {
            "id": int(s["id"]),
            "name": s.get("name"),
            "role": s.get("role"),
            "action": actions.get(str(s["id"])),
            "train_share": s.get("train_share"),
        }
        for s in man.get("segments", [])
    ]
    return {
        "name": model.name,
        "version": version,
        "created": man.get("created"),
        "as_of": man.get("as_of"),
        "training_window": man.get("training_window"),
        "algorithm": man.get("algorithm"),
        "k": man.get("k"),
        "n_train": man.get("n_train"),
        "signed": bool(signed),
        "versions": man.get("versions") or {},
        "segments": segments,
        "input_contract": model.contract,
        "model_features": man.get("model_features") or [],
    }


class ModelHolder:
    """Load, verify and hold the served model; reload it atomically.

    Parameters
    ----------
    path : path-like
        Model folder (``models/<name>``, a link to its newest version, or ``<name>@vN``).
    key : bytes, optional
        HMAC key of a signed model (as ``segml score --key-file``).
    strict_versions : bool, default True
        Refuse non-portable library differences, as :func:`segml.persistence.load_model`.

    Raises
    ------
    SegmlError
        When the model does not load or verify (the message of :func:`load_model`): the
        service refuses to start.
    """

    def __init__(self, path: str | Path, *, key: bytes | None = None,
                 strict_versions: bool = True) -> None:
        self.path = Path(path)
        self._key = key
        self._strict = strict_versions
        self._reload_lock = threading.Lock()
        self.last_reload: dict[str, Any] | None = None
        self.current: Served = self._load()

    def _load(self) -> Served:
        stamp = _stamp(self.path)
        folder = Path(stamp[0])
        if not self.path.exists():
            from segml.errors import InputFileError

            raise InputFileError(
                f"model {self.path}: no such folder. Fix: pass a model folder such as "
                "models/<name> (segml serve MODEL; create_app(model_path=...)); "
                "`segml models list` shows the saved ones."
            )
        model = load_model(folder, key=self._key, strict_versions=self._strict)
        # build what scoring caches lazily now, not in the first request
        _ = model.scorer, model.level_sets(), model.no_fit_threshold()
        version = _version_of(folder)
        card = model_card(model, version, signed=self._key is not None)
        return Served(model=model, folder=folder, version=version, card=card, stamp=stamp)

    def disk_stamp(self) -> tuple[Any, ...]:
        """Identity of the files the model path points at now (compare with ``current.stamp``)."""
        return _stamp(self.path)

    def reload(self) -> dict[str, Any]:
        """Load and verify the model path again, then swap it in (or keep the old one).

        Returns
        -------
        dict
            ``ok`` (bool), ``changed`` (a new version is served), ``serving`` (name and
            version now served), ``previous`` (name and version before), ``error`` (the
            SegmlError message when it failed), ``at`` (UTC time).
        """
        with self._reload_lock:
            old = self.current
            t0 = time.perf_counter()
            out: dict[str, Any] = {
                "previous": {"name": old.model.name, "version": old.version},
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            try:
                new = self._load()
            except (SegmlError, OSError) as exc:
                out.update(ok=False, changed=False, error=str(exc),
                           serving=out["previous"])
                log.warning("model reload failed; still serving %s %s (%s)",
                            old.model.name, old.version, type(exc).__name__)
            else:
                self.current = new  # one reference assignment: requests in flight keep `old`
                out.update(ok=True, changed=new.stamp != old.stamp, error=None,
                           serving={"name": new.model.name, "version": new.version})
                log.info("model reloaded in %.0f ms: %s %s -> %s", 1e3 * (time.perf_counter() - t0),
                         new.model.name, old.version, new.version)
            self.last_reload = out
            return out

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

Modules
-------
:mod:`~segml.persistence.save` (layout, staging, publishing), :mod:`~segml.persistence.load`
(load, list), :mod:`~segml.persistence.manifest` (versions, hashes, verification) and
:mod:`~segml.persistence.formats` (joblib/skops, and ``SKOPS_TRUSTED_TYPES``, the one list of
types a skops file may hold without ``trusted=``). Every public name is importable from
``segml.persistence``.
"""

from __future__ import annotations

from segml.model import SegmentModel, input_contract
from segml.persistence.formats import (
    FORMATS,
    MODEL_FILE,
    SKOPS_FILE,
    SKOPS_TRUSTED_PREFIXES,
    SKOPS_TRUSTED_TYPES,
)
from segml.persistence.formats import _SkopsTimestamp as _SkopsTimestamp
from segml.persistence.load import list_models, load_model, load_staged
from segml.persistence.manifest import (
    MANIFEST,
    MANIFEST_HASH,
    MODEL_FORMAT_VERSION,
    check_versions,
    manifest_body,
    read_manifest,
    verify_model,
)
from segml.persistence.save import StagedModel, check_model_target, save_model, stage_model

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
    # also public, defined in the submodules
    "FORMATS",
    "MANIFEST",
    "MANIFEST_HASH",
    "MODEL_FILE",
    "SKOPS_FILE",
    "SKOPS_TRUSTED_PREFIXES",
    "SKOPS_TRUSTED_TYPES",
    "check_versions",
    "read_manifest",
]

"""The two on-disk formats of the fitted objects: joblib (pickle) and skops.

The types a skops file may build without the caller's ``trusted=`` are listed here, in one place.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from segml.errors import (
    ConfigError,
    ModelIntegrityError,
)

MODEL_FILE = "model.joblib"
SKOPS_FILE = "model.skops"
FORMATS = ("joblib", "skops")
#: Types a skops model may hold besides scikit-learn's own: numpy dtypes and segml's classes
#: (segml's code is already trusted by whoever imports it). Anything else must be named by the
#: caller in ``load_model(..., trusted=[...])``.
SKOPS_TRUSTED_PREFIXES = ("segml.",)
SKOPS_TRUSTED_TYPES = ("numpy.dtype",)
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

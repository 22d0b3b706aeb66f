"""segml: a workbench for customer-portfolio segmentation.

The main job in one import::

    import segml

    tx, customers = segml.demo_data(random_state=0)
    seg = segml.segment(tx, customers, as_of="2024-12-31", random_state=0)
    seg.summary()
    path = seg.save("models/demo")
    scores = segml.score(segml.load_model(path), tx, customers, as_of="2024-12-31").frame

Public names (imported on first use, so ``import segml`` stays light):

- :func:`segment` and :class:`Segmentation` (:mod:`segml.workflow`): transactions and
  customers to named segments, compared with rule segments, plotted and saved;
- :func:`demo_data`: the synthetic demo portfolio;
- :func:`read_transactions`, :func:`read_customers` (:mod:`segml.io`): your files, validated;
- :func:`load_model` (:mod:`segml.persistence`) and :func:`score` (:mod:`segml.scoring`):
  a saved model scoring a new batch;
- ``__version__``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = [
    "__version__",
    "Segmentation",
    "demo_data",
    "load_model",
    "read_customers",
    "read_transactions",
    "score",
    "segment",
]

try:
    __version__: str = version("segml")
except PackageNotFoundError:  # pragma: no cover - running from a source tree, not installed
    __version__ = "0+unknown"

del PackageNotFoundError, version

#: Public name -> module that defines it (imported on first access).
_API = {
    "Segmentation": "segml.workflow",
    "demo_data": "segml.workflow",
    "segment": "segml.workflow",
    "load_model": "segml.persistence",
    "score": "segml.scoring",
    "read_transactions": "segml.io",
    "read_customers": "segml.io",
}


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'segml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

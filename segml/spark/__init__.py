"""segml on Apache Spark (optional extra ``segml[spark]``, Java 17+).

Nothing here imports pyspark at import time: :mod:`segml.spark.session` imports it inside
:func:`~segml.spark.session.get_session`, and :mod:`segml.spark.features` (which needs pyspark)
is only imported when asked for. See ``docs/SPARK.md``.

Modules
-------
session
    :func:`get_session` (classic ``master`` or Spark Connect ``remote``), the Java / pyspark
    checks and :func:`check_executors`.
features
    :func:`spark_feature_frame`: segml's feature frame (transaction features, customer
    attributes, CLV, growth potential and, when the spec has it, the forward family) computed
    with the PySpark DataFrame API, equal to :func:`segml.features.build_features` under
    segml's semantics.
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_session", "check_java", "check_executors", "spark_feature_frame"]

_LAZY = {
    "get_session": "segml.spark.session",
    "check_java": "segml.spark.session",
    "check_executors": "segml.spark.session",
    "spark_feature_frame": "segml.spark.features",
}


def __getattr__(name: str) -> Any:
    """Import the public functions lazily, so ``import segml.spark`` never starts pyspark."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'segml.spark' has no attribute {name!r}")

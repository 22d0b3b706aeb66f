"""One exception root for segml, and the package's warning classes.

Every error segml raises on purpose derives from :class:`SegmlError`; the
subclasses also inherit the matching builtin so ``except ValueError`` keeps
working for callers who do not know segml.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "SegmlError",
    "SchemaError",
    "ConfigError",
    "RuleSyntaxError",
    "NotFittedError",
    "ModelIntegrityError",
    "ModelVersionError",
    "InputFileError",
    "OutputExistsError",
    "OutputWriteError",
    "EngineError",
    "NoClearSegmentsError",
    "SegmlWarning",
    "DataQualityWarning",
    "ModelVersionWarning",
]


class SegmlError(Exception):
    """Root of every error segml raises on purpose."""


class SchemaError(SegmlError, ValueError):
    """Input data does not meet a table contract (column, problem, examples, fix)."""


class ConfigError(SegmlError, ValueError):
    """A configuration file, feature spec or argument is invalid."""


class NoClearSegmentsError(SegmlError, ValueError):
    """k selection found no clear segments and no number of segments was forced."""


class RuleSyntaxError(SegmlError, ValueError):
    """A rule expression cannot be parsed or refers to an unknown column."""


class NotFittedError(SegmlError, _SklearnNotFittedError):
    """An estimator was used before ``fit``.

    Subclasses scikit-learn's :class:`sklearn.exceptions.NotFittedError` (itself a
    ``ValueError`` and an ``AttributeError``), so ``except SegmlError``, scikit-learn's
    ``except NotFittedError`` and ``except AttributeError`` all catch it.
    """


class ModelIntegrityError(SegmlError, ValueError):
    """A saved model's files do not match the hashes in its manifest."""


class ModelVersionError(SegmlError, RuntimeError):
    """A saved model was written by library versions that cannot load it safely."""


class InputFileError(SegmlError, OSError):
    """An input file is missing, unreadable or in an unsupported format."""


class OutputExistsError(SegmlError, FileExistsError):
    """An output already exists and overwriting it was not asked for."""


class EngineError(SegmlError, RuntimeError):
    """A compute engine (Spark) cannot be used: missing package, Java, or unreachable cluster."""


class SegmlWarning(UserWarning):
    """Root of segml's warnings."""


class DataQualityWarning(SegmlWarning):
    """Rows were repaired or excluded; the data-quality report has the counts."""


class ModelVersionWarning(SegmlWarning):
    """A saved model was written with different (but compatible) library versions."""


class OutputWriteError(SegmlError, OSError):
    """An output could not be written (disk full, permission denied); nothing partial was left."""

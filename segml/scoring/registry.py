"""Registry of compiled steps: which fitted transformers the fast scorer replays, and how.

:func:`registry` maps each supported transformer class to the function that reads its
fitted attributes into a compiled step (:mod:`segml.scoring.steps`); the compiled step
gives the same model matrix as the transformer's ``transform``, bit for bit, which
``tests/persistence/test_compiled_equivalence.py`` checks for every entry. A class that is
not registered falls back to its own fitted ``transform`` (slower, same result);
:func:`explicit_fallbacks` lists the segml feature encoders that do so on purpose.

scikit-learn classes match their subclasses too (as they always have); segml encoders
match their exact class. The segml entries are added once :mod:`segml.features.encoders`
is imported (a fitted segml encoder implies it is), so scoring does not import the
features layer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

from segml.scoring.fuse import _fuse, _OneHotGroup, _Sub
from segml.scoring.steps import (
    _Affine,
    _as_float,
    _AsLabel,
    _Chain,
    _chain_of,
    _Clip,
    _DictMap,
    _Elementwise,
    _Fallback,
    _Func,
    _identity,
    _Imputer,
    _OneHot,
    _Ordinal,
    _raw_values,
    _Scale,
    _Step,
    _Unsupported,
)

__all__ = ["StepCompiler", "compile_step", "explicit_fallbacks", "registry"]

#: A compile function: ``(fitted transformer, fallback notes, branch label) -> step``.
#: It raises ``_Unsupported`` for a configuration it cannot replay exactly.
StepCompiler = Callable[[Any, list[str], str], _Step]

_ENCODERS = "segml.features.encoders"
#: segml feature encoders scored through their own ``transform`` on purpose: their
#: output is not a fixed elementwise expression of fitted attributes (free-text parsing
#: of ages, multi-label splitting, row-wise scores).
_FALLBACK_NAMES = (
    f"{_ENCODERS}.AgeEncoder",
    f"{_ENCODERS}.MultiLabelFlags",
    "segml.features.relationship.GrowthPotential",
    "segml.features.scores.RFMScorer",
)


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _standard(step: StandardScaler, notes: list[str], where: str) -> _Step:
    return _Affine(getattr(step, "mean_", None) if step.with_mean else None,
                   step.scale_ if step.with_std else None)


def _robust(step: RobustScaler, notes: list[str], where: str) -> _Step:
    return _Affine(step.center_ if step.with_centering else None,
                   step.scale_ if step.with_scaling else None)


def _minmax(step: MinMaxScaler, notes: list[str], where: str) -> _Step:
    if step.clip:
        raise _Unsupported("MinMaxScaler(clip=True)")
    return _Affine(step.min_, step.scale_, multiply=True)


class _MissingFlags(_Step):
    """``scale`` where a value is missing (NaN, None, pd.NA), else 0 (any input type)."""

    numeric_input = False

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def __call__(self, block: Any) -> np.ndarray:
        if isinstance(block, np.ndarray):
            miss = np.asarray(pd.isna(block), dtype=bool).reshape(block.shape)
        else:
            cols = [np.asarray(pd.isna(_raw_values(c)), dtype=bool) for c in block]
            miss = np.column_stack(cols) if cols else np.empty((0, 0), dtype=bool)
        return miss.astype(np.float64) * self.scale


def _pipeline(step: Pipeline, notes: list[str], where: str) -> _Step:
    return _Chain(*(compile_step(s, notes, where) for s in _flatten(step)))


_SKLEARN: dict[type, StepCompiler] = {
    ColumnTransformer: lambda step, notes, where: _CTStep(step, notes, where),
    Pipeline: _pipeline,
    SimpleImputer: lambda step, notes, where: _Imputer(step),
    StandardScaler: _standard,
    RobustScaler: _robust,
    MinMaxScaler: _minmax,
    OneHotEncoder: lambda step, notes, where: _OneHot(step),
    OrdinalEncoder: lambda step, notes, where: _Ordinal(step),
    FunctionTransformer: lambda step, notes, where: _Func(step),
}


def _segml_compilers() -> dict[type, StepCompiler]:
    from segml.features import encoders as enc

    def ordinal_scale(step: Any, notes: list[str], where: str) -> _Step:
        maps = [dict(step.maps_[str(c)]) for c in step.levels_]
        return _DictMap(maps, enc.normalize_level, np.nan)

    def frequency(step: Any, notes: list[str], where: str) -> _Step:
        maps = [dict(step.frequencies_[c]) for c in step.frequencies_]
        return _Chain(_AsLabel(), _DictMap(maps, None, 0.0))

    def winsorizer(step: Any, notes: list[str], where: str) -> _Step:
        return _Clip(np.asarray(step.lower_, dtype=np.float64),
                     np.asarray(step.upper_, dtype=np.float64))

    return {
        enc.MissingFlags: lambda step, notes, where: _MissingFlags(float(step.scale)),
        enc.OrdinalScale: ordinal_scale,
        enc.FrequencyEncoder: frequency,
        enc.RareOneHot: lambda step, notes, where: _Chain(_AsLabel(), _OneHot(step.encoder_)),
        enc.ToFloat: lambda step, notes, where: _Elementwise(_identity),
        enc.LogMoney: lambda step, notes, where: _Elementwise(_signed_log),
        enc.Winsorizer: winsorizer,
        enc.FamilyWeight: lambda step, notes, where: _Scale(float(step.scale_)),
    }


_SEGML: dict[type, StepCompiler] = {}


def registry() -> dict[type, StepCompiler]:
    """Every transformer class the compiled scorer replays, with its compile function.

    Imports :mod:`segml.features.encoders` for the segml entries.

    Returns
    -------
    dict of type to callable
        A new dict: scikit-learn classes first, then the segml feature encoders.
    """
    if not _SEGML:
        _SEGML.update(_segml_compilers())
    return {**_SKLEARN, **_SEGML}


def explicit_fallbacks() -> list[type]:
    """List the segml feature transformers left to their own ``transform`` on purpose.

    Returns
    -------
    list of type
        The classes (their modules are imported).
    """
    import importlib

    out = []
    for qual in _FALLBACK_NAMES:
        mod, _, name = qual.rpartition(".")
        out.append(getattr(importlib.import_module(mod), name))
    return out


def _compiler_for(step: Any) -> StepCompiler | None:
    cls = type(step)
    if _ENCODERS in sys.modules:
        own = registry()
        if cls in own and cls not in _SKLEARN:
            return own[cls]
    for base in cls.__mro__:  # scikit-learn classes: subclasses too
        if base in _SKLEARN:
            return _SKLEARN[base]
    return None


def compile_step(step: Any, notes: list[str], where: str) -> _Step:
    """Compile one fitted transformer (a ``Pipeline`` or ``ColumnTransformer`` recursively).

    Parameters
    ----------
    step : object
        Fitted transformer.
    notes : list of str
        Receives ``"branch (reason)"`` for each branch of a ``ColumnTransformer`` that
        falls back to scikit-learn.
    where : str
        Label prefix of the branch (for the notes).

    Returns
    -------
    _Step
        The compiled step.

    Raises
    ------
    _Unsupported
        When the step (outside a ``ColumnTransformer`` branch) has no compiled form.
    """
    build = _compiler_for(step)
    if build is None:
        raise _Unsupported(type(step).__name__)
    return build(step, notes, where)


def _flatten(trans: Any) -> list[Any]:
    if isinstance(trans, Pipeline):
        out: list[Any] = []
        for _, s in trans.steps:
            if s is None or (isinstance(s, str) and s == "passthrough"):
                continue
            out.extend(_flatten(s))
        return out
    return [trans]


def _collect_onehot_inputs(ct: _CTStep, where: list[int], found: set[int]) -> None:
    """Add to ``found`` the top-level inputs (``where[i]`` for input i) of one-hot groups."""
    for g in ct.groups:
        if isinstance(g, _OneHotGroup):
            found.update(where[i] for i in g.inputs)
    for sub in ct.subs:
        first = _chain_of(sub.step)[0]
        if isinstance(first, _CTStep):
            _collect_onehot_inputs(first, [where[i] for i in sub.idx], found)


class _CTStep(_Step):
    """A fitted ``ColumnTransformer`` replayed branch by branch (nested ones too)."""

    numeric_input = False

    def __init__(self, ct: ColumnTransformer, notes: list[str], where: str = "") -> None:
        self.names_in = [str(c) for c in ct.feature_names_in_]
        pos = {c: i for i, c in enumerate(self.names_in)}
        to_idx = getattr(ct, "_transformer_to_input_indices", {})
        weights = ct.transformer_weights or {}
        self.subs: list[_Sub] = []
        self.n_out = 0
        for name, trans, cols in ct.transformers_:
            out = ct.output_indices_.get(name, slice(0, 0))
            self.n_out = max(self.n_out, out.stop)
            if (isinstance(trans, str) and trans == "drop") or out.stop == out.start:
                continue
            if name in to_idx:
                idx = [int(i) for i in to_idx[name]]
            else:  # pragma: no cover - older scikit-learn
                idx = [pos[str(c)] for c in np.atleast_1d(cols)]
            label = f"{where}{name}"
            if isinstance(trans, str) and trans == "passthrough":
                step: _Step = _Elementwise(_identity)
            else:
                try:
                    step = compile_step(trans, notes, label + "/")
                except _Unsupported as exc:
                    notes.append(f"{label} ({exc})")
                    step = _Fallback(trans, [self.names_in[i] for i in idx])
            self.subs.append(_Sub(label, idx, out, step, weights.get(name)))
        self.groups, self.rest = _fuse(self.subs)

    def __call__(self, block: Any) -> np.ndarray:
        cols = block if not isinstance(block, np.ndarray) else list(block.T)
        n = len(next(c for c in cols if c is not None)) if cols else 0
        out = np.empty((n, self.n_out), dtype=np.float64)
        for grp in self.groups:
            grp.run(cols, out)
        for sub in self.rest:
            if sub.weight is None and isinstance(sub.step, _Affine) and sub.step.write_into(
                [cols[i] for i in sub.idx], out[:, sub.out]
            ):
                continue
            res = _as_float(sub.step([cols[i] for i in sub.idx]))
            if sub.weight is not None:
                res = res * sub.weight
            out[:, sub.out] = res
        return out


"""Compile a fitted segmenter into plain numpy operations for fast scoring.

The plain path ``pipeline.predict(frame)`` spends most of its time in the
``ColumnTransformer`` machinery (validation, per-branch DataFrame slicing,
``hstack``). :class:`CompiledScorer` reads the *fitted parameters* of the known
steps once (imputer fill values, scaler centre/scale, one-hot vocabularies,
ordinal codes, ``log1p``) and replays them with numpy, so the model matrix is the
same bits the pipeline produces (every step is elementwise), and the k-means
assignment uses the same formula as scikit-learn (``||c||^2 - 2 x.c``, first
minimum wins).

Any step it does not know makes that branch fall back to the fitted
scikit-learn branch itself (``branch.transform(frame[cols])``); the fallback is
listed in :attr:`CompiledScorer.fallbacks` and logged once per compile, so
results stay correct and only speed is lost.

A single customer given as a ``dict`` never goes through a DataFrame: each
branch runs on one-row arrays and vocabularies are plain ``dict`` look-ups.

Big batches (:meth:`CompiledScorer.assign_frame`) run in blocks of 16,384 rows so that
the model matrix and the distance temporaries stay in the CPU cache; string columns
read by one-hot encoders are factorized once for the whole batch (or taken from the
input checks) and each block looks its codes up in a small table. Every step is row by
row, so the blocks give the same model matrix, labels and segment ids as the whole frame.
Distances, confidences and GMM probabilities come from a BLAS matrix product whose
summation order depends on the block shape and the CPU kernel, so they agree with the
whole-frame values to rounding, not bit for bit (observed: 1 ulp on 2 of 500 rows with
OpenBLAS's Haswell kernel on an AMD EPYC; the tests allow 1e-9). A label could only
differ where a row's two nearest centres are equally far to within that rounding.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
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

from segml.errors import SchemaError

__all__ = ["CompiledScorer", "SegmenterParts", "split_segmenter"]

logger = logging.getLogger("segml.scoring")

_SMALL = 8  # at or below this many rows, vocabularies are looked up with dicts
_CHUNK_ROWS = 16384  # rows per block in CompiledScorer.assign_frame (a few MB of temporaries)
_ROW_FIELDS = ("labels", "raw", "distance", "confidence", "second", "proba")


@dataclass(frozen=True)
class SegmenterParts:
    """The pieces of a fitted segmenter that scoring needs.

    Attributes
    ----------
    preprocessor : object or None
        Fitted transformer from the feature frame to the model matrix.
    estimator : object
        Fitted clustering estimator (k-means family or a Gaussian mixture).
    label_map : numpy.ndarray
        ``label_map[raw_label]`` is the ordered segment id.
    columns : list of str
        Input feature columns, in the order seen at fit.
    """

    preprocessor: Any
    estimator: Any
    label_map: np.ndarray
    columns: list[str]
    model_feature_names: list[str] | None = None


def _label_map(order: Any, k: int) -> np.ndarray:
    if order is None:
        return np.arange(k, dtype=np.intp)
    if isinstance(order, Mapping):
        out = np.arange(k, dtype=np.intp)
        for raw, ordered in order.items():
            out[int(raw)] = int(ordered)
        return out
    arr = np.asarray(order, dtype=np.intp)
    if arr.shape != (k,):
        raise SchemaError(f"label_order_ has shape {arr.shape}; expected ({k},).")
    return arr


def _n_components(est: Any) -> int:
    if hasattr(est, "cluster_centers_"):
        return int(np.asarray(est.cluster_centers_).shape[0])
    if hasattr(est, "means_"):
        return int(np.asarray(est.means_).shape[0])
    return int(getattr(est, "n_clusters", getattr(est, "n_components", 0)))


def split_segmenter(segmenter: Any) -> SegmenterParts:
    """Split a fitted segmenter into preprocessor, estimator and label order.

    Accepts the segml ``Segmenter`` (``preprocessor_``, ``estimator_``,
    ``label_order_``), a scikit-learn ``Pipeline`` whose last step clusters, or a
    bare fitted clustering estimator.

    Parameters
    ----------
    segmenter : object
        Fitted segmenter.

    Returns
    -------
    SegmenterParts
        The parts; raw labels map to ordered labels through ``label_map``.

    Raises
    ------
    SchemaError
        When the object is not a fitted segmenter of a supported shape.
    """
    if hasattr(segmenter, "estimator_"):
        pre = getattr(segmenter, "preprocessor_", None)
        est = segmenter.estimator_
        order = getattr(segmenter, "label_order_", None)
    elif isinstance(segmenter, Pipeline):
        est = segmenter.steps[-1][1]
        pre = segmenter[:-1] if len(segmenter.steps) > 1 else None
        order = None
    elif hasattr(segmenter, "cluster_centers_") or hasattr(segmenter, "means_"):
        pre, est, order = None, segmenter, None
    else:
        raise SchemaError(
            f"cannot score with a {type(segmenter).__name__}: expected a fitted segml Segmenter, "
            "a fitted Pipeline ending in a clustering estimator, or a fitted "
            "KMeans/GaussianMixture."
        )
    cols = getattr(segmenter, "feature_names_in_", None)
    if cols is None and pre is not None:
        cols = getattr(pre, "feature_names_in_", None)
    if cols is None:
        cols = getattr(est, "feature_names_in_", None)
    if cols is None:
        raise SchemaError(
            "the segmenter records no feature_names_in_; fit it on a DataFrame so scoring "
            "can check input columns by name."
        )
    k = _n_components(est)
    mnames = getattr(segmenter, "model_feature_names_", None)
    mnames = None if mnames is None else [str(c) for c in mnames]
    return SegmenterParts(pre, est, _label_map(order, k), [str(c) for c in cols], mnames)


# --------------------------------------------------------------------------------------
# Per-branch operations. A block is either a list of raw 1-D columns (before the first
# numeric step) or a 2-D float64 array.


def _is_missing(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.isna(values), dtype=bool)


def _as_float(block: Any) -> np.ndarray:
    if isinstance(block, np.ndarray):
        return block
    cols = [np.asarray(_raw_values(c), dtype=np.float64) for c in block]
    return np.column_stack(cols) if cols else np.empty((0, 0))


class _Vocab:
    """Sorted category vocabulary with a fast lookup for few or many rows."""

    def __init__(self, cats: np.ndarray) -> None:
        cats = np.asarray(cats, dtype=object)
        miss = _is_missing(cats)
        self.nan_code = int(np.flatnonzero(miss)[0]) if miss.any() else -1
        keep = np.flatnonzero(~miss)
        self.index = pd.Index(cats[keep], dtype=object)
        self.positions = keep.astype(np.intp)
        self.lookup = {v: int(p) for v, p in zip(cats[keep].tolist(), keep.tolist(), strict=True)}

    def codes(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return codes (``-1`` unknown) and the missing mask."""
        n = len(values)
        if n <= _SMALL:
            miss = np.zeros(n, dtype=bool)
            out = np.empty(n, dtype=np.intp)
            for i, v in enumerate(values.tolist() if isinstance(values, np.ndarray) else values):
                if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                    miss[i] = True
                    out[i] = self.nan_code
                else:
                    out[i] = self.lookup.get(v, -1)
            return out, miss
        fc, uniq = pd.factorize(values, use_na_sentinel=True)
        ulist = uniq.tolist() if hasattr(uniq, "tolist") else list(uniq)
        lut = np.array([self.lookup.get(u, -1) for u in ulist] + [self.nan_code], dtype=np.intp)
        return lut[fc], fc < 0

    def codes_of(self, col: Any) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`codes` of a raw column, from its factorization when it is a :class:`_Coded`."""
        if not isinstance(col, _Coded):
            return self.codes(_raw_values(col))
        lut = col.luts.get(id(self))
        if lut is None:
            lut = np.array(
                [self.lookup.get(u, -1) for u in col.uniques] + [self.nan_code], dtype=np.intp
            )
            col.luts[id(self)] = lut
        return lut[col.codes], col.codes < 0


class _Coded:
    """A string column factorized once (``pd.factorize``, missing -> -1), sliced by blocks.

    :meth:`CompiledScorer.assign_frame` hands these to the one-hot encoders so that each
    block looks its codes up in a small table instead of hashing its strings again. Every
    other step sees the raw values (:func:`_raw_values`). Only pandas string columns are
    coded: their missing values (NaN, None, NA) are all missing for every step here.
    """

    __slots__ = ("values", "codes", "uniques", "luts", "shared")

    def __init__(self, values: Any, codes: np.ndarray, uniques: list[Any],
                 luts: dict[int, np.ndarray] | None = None,
                 shared: dict[str, Any] | None = None) -> None:
        self.values = values
        self.codes = codes
        self.uniques = uniques
        self.luts = {} if luts is None else luts  # per vocabulary, shared by the blocks
        self.shared = {} if shared is None else shared

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: slice) -> _Coded:
        return _Coded(self.values[rows], self.codes[rows], self.uniques, self.luts, self.shared)

    def as_label(self) -> _Coded:
        """Return what :class:`_AsLabel` makes of the column (missing -> "missing"), coded."""
        if "label" not in self.shared:
            uniq = list(self.uniques)
            if "missing" in uniq:
                m = uniq.index("missing")
            else:
                m = len(uniq)
                uniq.append("missing")
            self.shared["label"] = (m, uniq, {}, {})
        m, uniq, luts, shared = self.shared["label"]
        codes = np.where(self.codes < 0, m, self.codes)
        return _Coded(self.values.fillna("missing"), codes, uniq, luts, shared)


def _raw_values(col: Any) -> Any:
    """Raw values as a numpy array, or a pandas ExtensionArray kept as is (arrow strings)."""
    if isinstance(col, (np.ndarray, pd.api.extensions.ExtensionArray)):
        return col
    if isinstance(col, _Coded):
        return col.values
    return np.asarray(col, dtype=object)


class _Step:
    numeric_input = True

    def __call__(self, block: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class _Imputer(_Step):
    def __init__(self, imp: SimpleImputer) -> None:
        stats = np.asarray(imp.statistics_)
        if not _is_missing_marker(imp.missing_values):
            raise _Unsupported("SimpleImputer with a custom missing marker")
        ind = getattr(imp, "indicator_", None) if imp.add_indicator else None
        if ind is not None and (ind.features != "missing-only" or ind.error_on_new):
            raise _Unsupported("SimpleImputer with a non-default missing indicator")
        self.indicator = None if ind is None else np.asarray(ind.features_, dtype=np.intp)
        if stats.dtype.kind in "fiub":
            stats = stats.astype(np.float64)
            if np.isnan(stats).any():
                raise _Unsupported("SimpleImputer dropping all-missing features")
            self.numeric_input = True
        else:
            if _is_missing(stats).any() or self.indicator is not None:
                raise _Unsupported("categorical SimpleImputer with an indicator or empty features")
            self.numeric_input = False
        self.stats = stats

    def __call__(self, block: Any) -> Any:
        if self.numeric_input:
            x = _as_float(block)
            miss = np.isnan(x)
            if miss.any():
                x = np.where(miss, self.stats, x)
            if self.indicator is not None:
                x = np.hstack([x, miss[:, self.indicator].astype(np.float64)])
            return x
        out = []
        for j, col in enumerate(block if not isinstance(block, np.ndarray) else list(block.T)):
            vals = _raw_values(col)
            miss = _sk_missing(vals)
            if miss.any():
                if isinstance(vals, pd.api.extensions.ExtensionArray):
                    vals = vals.fillna(self.stats[j])
                else:
                    vals = vals.astype(object, copy=True)
                    vals[miss] = self.stats[j]
            out.append(vals)
        return out


def _sk_missing(vals: np.ndarray) -> np.ndarray:
    """Missing as scikit-learn's imputer sees it: NaN/NA, but ``None`` is a value."""
    miss = _is_missing(vals)
    if isinstance(vals, np.ndarray) and vals.dtype == object and miss.any():
        where = np.flatnonzero(miss)
        miss[where] = [v is not None for v in vals[where].tolist()]
    return miss


def _is_missing_marker(marker: Any) -> bool:
    return marker is None or marker is pd.NA or (isinstance(marker, float) and math.isnan(marker))


class _Unsupported(Exception):
    pass


class _Affine(_Step):
    """``(x - centre) / scale`` or ``x * scale + offset`` as scikit-learn writes it."""

    def __init__(self, center: Any, scale: Any, *, multiply: bool = False) -> None:
        self.center = None if center is None else np.asarray(center, dtype=np.float64)
        self.scale = None if scale is None else np.asarray(scale, dtype=np.float64)
        self.multiply = multiply

    def write_into(self, cols: list[Any], out: np.ndarray) -> bool:
        """Write ``self(cols)`` column by column into ``out`` (same bits, no temporaries).

        Returns False (nothing written) unless every column is a 1-D float64 array.
        """
        if self.multiply or not all(
            isinstance(c, np.ndarray) and c.ndim == 1 and c.dtype == np.float64 for c in cols
        ):
            return False
        w = len(cols)
        c = None if self.center is None else np.broadcast_to(self.center, (w,))
        s = None if self.scale is None else np.broadcast_to(self.scale, (w,))
        for j, col in enumerate(cols):
            dst = out[:, j]
            if c is not None:
                np.subtract(col, c[j], out=dst)
            else:
                dst[...] = col
            if s is not None:
                np.divide(dst, s[j], out=dst)
        return True

    def __call__(self, block: Any) -> np.ndarray:
        x = _as_float(block)
        if self.multiply:
            y = x * self.scale
            y += self.center
            return y
        y = x - self.center if self.center is not None else x.copy()
        if self.scale is not None:
            y /= self.scale
        return y


class _OneHot(_Step):
    numeric_input = False

    def __init__(self, enc: OneHotEncoder) -> None:
        self.vocabs = [_Vocab(c) for c in enc.categories_]
        self.error = enc.handle_unknown == "error"
        drop = getattr(enc, "drop_idx_", None)
        self.drop = [None] * len(self.vocabs) if drop is None else list(drop)
        infrequent = getattr(enc, "_infrequent_enabled", False)
        maps = getattr(enc, "_default_to_infrequent_mappings", None) if infrequent else None
        if infrequent and (maps is None or drop is not None):
            raise _Unsupported("OneHotEncoder with infrequent categories and drop")
        self.maps = [None] * len(self.vocabs) if maps is None else list(maps)
        to_infrequent = enc.handle_unknown == "infrequent_if_exist"
        self.offsets, self.unknown_to = [], []
        off = 0
        for j, (v, d) in enumerate(zip(enc.categories_, self.drop, strict=True)):
            m = self.maps[j]
            if m is not None:
                w = int(np.max(m)) + 1
                self.unknown_to.append(w - 1 if to_infrequent else -1)
            else:
                w = len(v) - (0 if d is None else 1)
                self.unknown_to.append(-1)
            self.offsets.append(off)
            off += w
        self.width = off
        self.names = list(enc.feature_names_in_) if hasattr(enc, "feature_names_in_") else None

    def __call__(self, block: Any) -> np.ndarray:
        cols = block if not isinstance(block, np.ndarray) else list(block.T)
        n = len(cols[0]) if cols else 0
        out = np.zeros((n, self.width), dtype=np.float64)
        self.write(cols, out, 0)
        return out

    def write(self, cols: list[Any], out: np.ndarray, base: int) -> None:
        """Set the indicator cells of ``out[:, base:base + width]`` (already zero)."""
        n = out.shape[0]
        rows = np.arange(n)
        for j, (col, vocab) in enumerate(zip(cols, self.vocabs, strict=True)):
            codes, _ = vocab.codes_of(col)
            bad = codes < 0
            if bad.any() and self.error:
                examples = sorted({str(v) for v in _raw_values(col)[bad][:5]})
                raise SchemaError(
                    f"column {self._name(j)!r} has categories not seen in training "
                    f"(e.g. {examples}) and the fitted encoder refuses unknown categories."
                )
            m = self.maps[j]
            if m is not None:
                codes = np.where(bad, self.unknown_to[j], m[np.maximum(codes, 0)])
                bad = codes < 0
            d = self.drop[j]
            if d is not None:
                d = int(d)
                bad = bad | (codes == d)
                codes = np.where(codes > d, codes - 1, codes)
            ok = ~bad
            if n == 1:
                if ok[0]:
                    out[0, base + self.offsets[j] + codes[0]] = 1.0
            elif not bad.any():
                out[rows, base + self.offsets[j] + codes] = 1.0
            else:
                out[rows[ok], base + self.offsets[j] + codes[ok]] = 1.0

    def _name(self, j: int) -> str:
        return str(self.names[j]) if self.names is not None else f"#{j}"


class _AsLabel(_Step):
    """RareOneHot's input preparation: ``str(value)``, missing -> ``"missing"``."""

    numeric_input = False

    def __call__(self, block: Any) -> list[np.ndarray]:
        cols = block if not isinstance(block, np.ndarray) else list(block.T)
        out = []
        for col in cols:
            vals = _raw_values(col)
            if isinstance(vals, pd.api.extensions.ExtensionArray) and pd.api.types.is_string_dtype(
                vals.dtype
            ):
                out.append(vals.fillna("missing"))
                continue
            vals = np.asarray(vals, dtype=object) if not isinstance(vals, np.ndarray) else vals
            na = _is_missing(vals)
            if vals.dtype == object and all(isinstance(v, str) for v in vals[~na][:64]):
                res = vals.astype(object, copy=True)
                if not all(isinstance(v, str) for v in res[~na]):
                    res = np.array([str(v) for v in res], dtype=object)
            else:
                res = np.array([str(v) for v in vals.tolist()], dtype=object)
            res[na] = "missing"
            out.append(res)
        return out


class _Chain(_Step):
    def __init__(self, *steps: _Step) -> None:
        self.steps = steps

    def __call__(self, block: Any) -> Any:
        for s in self.steps:
            block = s(block)
        return block


class _Ordinal(_Step):
    numeric_input = False

    def __init__(self, enc: OrdinalEncoder) -> None:
        if getattr(enc, "_infrequent_enabled", False):
            raise _Unsupported("OrdinalEncoder with infrequent categories")
        self.vocabs = [_Vocab(c) for c in enc.categories_]
        self.error = enc.handle_unknown == "error"
        self.unknown_value = float(enc.unknown_value) if enc.unknown_value is not None else np.nan
        self.missing_value = float(enc.encoded_missing_value)

    def __call__(self, block: Any) -> np.ndarray:
        cols = block if not isinstance(block, np.ndarray) else list(block.T)
        n = len(cols[0]) if cols else 0
        out = np.empty((n, len(self.vocabs)), dtype=np.float64)
        for j, (col, vocab) in enumerate(zip(cols, self.vocabs, strict=True)):
            codes, miss = vocab.codes(_raw_values(col))
            x = codes.astype(np.float64)
            unknown = (codes < 0) & ~miss
            if unknown.any():
                if self.error:
                    raise SchemaError(
                        f"ordinal column #{j} has categories not seen in training and the fitted "
                        "encoder refuses unknown categories."
                    )
                x[unknown] = self.unknown_value
            x[miss & (codes < 0)] = self.missing_value
            out[:, j] = x
        return out


class _Func(_Step):
    _KNOWN: dict[Any, Callable[[np.ndarray], np.ndarray]] = {
        np.log1p: np.log1p,
        np.log: np.log,
        np.sqrt: np.sqrt,
        np.abs: np.abs,
    }

    def __init__(self, ft: FunctionTransformer) -> None:
        if ft.kw_args or (ft.func is not None and ft.func not in self._KNOWN):
            raise _Unsupported(f"FunctionTransformer({getattr(ft.func, '__name__', ft.func)})")
        self.func = None if ft.func is None else self._KNOWN[ft.func]

    def __call__(self, block: Any) -> np.ndarray:
        x = _as_float(block)
        return x if self.func is None else self.func(x)


class _Elementwise(_Step):
    def __init__(self, func: Callable[[np.ndarray], np.ndarray]) -> None:
        self.func = func

    def __call__(self, block: Any) -> np.ndarray:
        return self.func(_as_float(block))


class _Clip(_Step):
    def __init__(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.lo, self.hi = lo, hi

    def __call__(self, block: Any) -> np.ndarray:
        return np.clip(_as_float(block), self.lo, self.hi)


class _Scale(_Step):
    def __init__(self, scale: float) -> None:
        self.scale = scale

    def __call__(self, block: Any) -> np.ndarray:
        return _as_float(block) * self.scale


class _DictMap(_Step):
    """Map each column's values through a dict (unique values looked up once)."""

    numeric_input = False

    def __init__(self, maps: list[dict[Any, float]], key: Callable[[Any], Any] | None,
                 default: float) -> None:
        self.maps = maps
        self.key = key
        self.default = default

    def _lookup(self, m: dict[Any, float], v: Any) -> float:
        if self.key is not None:
            v = self.key(v)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return self.default
        r = m.get(v, self.default)
        return self.default if r is None else float(r)

    def __call__(self, block: Any) -> np.ndarray:
        cols = block if not isinstance(block, np.ndarray) else list(block.T)
        n = len(cols[0]) if cols else 0
        out = np.empty((n, len(self.maps)), dtype=np.float64)
        for j, (col, m) in enumerate(zip(cols, self.maps, strict=True)):
            vals = _raw_values(col)
            if n <= _SMALL:
                out[:, j] = [self._lookup(m, v) for v in vals.tolist()]
                continue
            codes, uniq = pd.factorize(vals, use_na_sentinel=True)
            mapped = np.array([self._lookup(m, v) for v in np.asarray(uniq).tolist()] + [
                self._lookup(m, None)
            ], dtype=np.float64)
            out[:, j] = mapped[codes]  # code -1 (missing) picks the trailing default
        return out


def _normalize_level(v: Any) -> Any:
    from segml.features.encoders import normalize_level

    return normalize_level(v)


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _compile_segml(step: Any) -> _Step | None:
    """Compile the segml feature encoders whose transform is a fixed numpy expression."""
    if type(step).__module__ != "segml.features.encoders":
        return None
    name = type(step).__name__
    if name == "OrdinalScale":
        maps = [dict(step._maps_[str(c)]) for c in step.levels_]
        return _DictMap(maps, _normalize_level, np.nan)
    if name == "FrequencyEncoder":
        maps = [dict(step.frequencies_[c]) for c in step.frequencies_]
        return _Chain(_AsLabel(), _DictMap(maps, None, 0.0))
    if name == "RareOneHot":
        return _Chain(_AsLabel(), _OneHot(step.encoder_))
    if name == "ToFloat":
        return _Elementwise(_identity)
    if name == "LogMoney":
        return _Elementwise(_signed_log)
    if name == "Winsorizer":
        return _Clip(np.asarray(step.lower_, dtype=np.float64),
                     np.asarray(step.upper_, dtype=np.float64))
    if name == "FamilyWeight":
        return _Scale(float(step.scale_))
    return None


def _compile_step(step: Any, notes: list[str], where: str) -> _Step:
    own = _compile_segml(step)
    if own is not None:
        return own
    if isinstance(step, ColumnTransformer):
        return _CTStep(step, notes, where)
    if isinstance(step, Pipeline):
        return _Chain(*(_compile_step(s, notes, where) for s in _flatten(step)))
    if isinstance(step, SimpleImputer):
        return _Imputer(step)
    if isinstance(step, StandardScaler):
        return _Affine(getattr(step, "mean_", None) if step.with_mean else None,
                       step.scale_ if step.with_std else None)
    if isinstance(step, RobustScaler):
        return _Affine(step.center_ if step.with_centering else None,
                       step.scale_ if step.with_scaling else None)
    if isinstance(step, MinMaxScaler):
        if step.clip:
            raise _Unsupported("MinMaxScaler(clip=True)")
        return _Affine(step.min_, step.scale_, multiply=True)
    if isinstance(step, OneHotEncoder):
        return _OneHot(step)
    if isinstance(step, OrdinalEncoder):
        return _Ordinal(step)
    if isinstance(step, FunctionTransformer):
        return _Func(step)
    raise _Unsupported(type(step).__name__)


def _flatten(trans: Any) -> list[Any]:
    if isinstance(trans, Pipeline):
        out: list[Any] = []
        for _, s in trans.steps:
            if s is None or (isinstance(s, str) and s == "passthrough"):
                continue
            out.extend(_flatten(s))
        return out
    return [trans]


class _Fallback(_Step):
    """Run a fitted scikit-learn transformer on a frame rebuilt from the raw columns."""

    numeric_input = False

    def __init__(self, fitted: Any, names: list[str]) -> None:
        self.fitted = fitted
        self.names = names

    def __call__(self, block: Any) -> np.ndarray:
        if isinstance(block, np.ndarray):
            frame = pd.DataFrame(block, columns=self.names)
        else:
            frame = pd.DataFrame(dict(zip(self.names, map(_raw_values, block), strict=True)))
        res = self.fitted.transform(frame)
        if hasattr(res, "toarray"):
            res = res.toarray()
        return np.asarray(res, dtype=np.float64)


@dataclass
class _Sub:
    name: str
    idx: list[int]
    out: slice
    step: _Step
    weight: float | None


# ----------------------------------------------------------------------------------------
# Fusion: many single-column branches with the same chain of numeric steps (the features
# layer builds one small Pipeline per column) run as one broadcast over a (n, G, w) block,
# with the per-branch parameters stacked to (G, w). Same elementwise operations, same bits.


def _fuse_spec(step: _Step, width: int) -> tuple[tuple[Any, ...], dict[str, np.ndarray], int]:
    """Return (key, params of shape (width_in or width_out,), width_out) or raise _Unsupported."""
    def vec(v: Any, w: int, default: float) -> np.ndarray:
        if v is None:
            return np.full(w, default)
        a = np.asarray(v, dtype=np.float64)
        if a.shape not in ((), (w,)):
            raise _Unsupported("shape")
        return np.broadcast_to(a, (w,)).astype(np.float64)

    if isinstance(step, _Elementwise):
        return ("ew", step.func), {}, width
    if isinstance(step, _Func):
        return ("ew", step.func or _identity), {}, width
    if isinstance(step, _Clip):
        return ("clip",), {"lo": vec(step.lo, width, 0), "hi": vec(step.hi, width, 0)}, width
    if isinstance(step, _Scale):
        return ("mul",), {"s": vec(step.scale, width, 1.0)}, width
    if isinstance(step, _Affine):
        prm = {"c": vec(step.center, width, 0.0), "s": vec(step.scale, width, 1.0)}
        return ("mm" if step.multiply else "aff",), prm, width
    if isinstance(step, _Imputer) and step.numeric_input:
        ind = () if step.indicator is None else tuple(int(i) for i in step.indicator)
        return ("imp", ind), {"v": vec(step.stats, width, 0.0)}, width + len(ind)
    raise _Unsupported(type(step).__name__)


class _Group:
    """Subs sharing one fusable chain, run together."""

    def __init__(self, subs: list[_Sub], chain: list[tuple[Any, ...]],
                 params: list[list[dict[str, np.ndarray]]]) -> None:
        self.idx = np.asarray([sub.idx for sub in subs], dtype=np.intp)  # (G, m_in)
        self.flat = self.idx.ravel().tolist()
        self.chain = chain
        self.params = [
            {k: np.stack([p[k] for p in per_sub]) for k in per_sub[0]}
            for per_sub in zip(*params, strict=True)
        ]
        self.pos = np.concatenate([np.arange(sub.out.start, sub.out.stop) for sub in subs])

    def run(self, cols: list[Any], out: np.ndarray) -> None:
        g, m = self.idx.shape
        flat = [_raw_values(cols[i]) for i in self.flat]
        n = len(flat[0])
        if n == 1:
            x = np.array([c[0] for c in flat], dtype=np.float64).reshape(1, g, m)
        else:
            x = np.empty((n, g * m), dtype=np.float64)
            for j, c in enumerate(flat):
                x[:, j] = c
            x = x.reshape(n, g, m)
        for key, p in zip(self.chain, self.params, strict=True):
            kind = key[0]
            if kind == "ew":
                x = key[1](x)
            elif kind == "clip":
                x = np.clip(x, p["lo"], p["hi"])
            elif kind == "mul":
                x = x * p["s"]
            elif kind == "aff":
                x = (x - p["c"]) / p["s"]
            elif kind == "mm":
                x = x * p["s"]
                x = x + p["c"]
            else:  # imp
                miss = np.isnan(x)
                x = np.where(miss, p["v"], x)
                if key[1]:
                    x = np.concatenate([x, miss[:, :, list(key[1])].astype(np.float64)], axis=2)
        out[:, self.pos] = x.reshape(n, -1)


class _OneHotGroup:
    """One-hot branches written straight into the output (no per-branch arrays)."""

    def __init__(self, members: list[tuple[_Sub, _AsLabel | None, _OneHot]]) -> None:
        self.members = members
        self.pos = np.concatenate(
            [np.arange(sub.out.start, sub.out.stop) for sub, _, _ in members]
        )
        self.inputs = sorted({i for sub, _, _ in members for i in sub.idx})
        if len(self.pos) and np.array_equal(self.pos, np.arange(self.pos[0], self.pos[-1] + 1)):
            self.zero: Any = slice(int(self.pos[0]), int(self.pos[-1]) + 1)
        else:
            self.zero = self.pos

    def run(self, cols: list[Any], out: np.ndarray) -> None:
        out[:, self.zero] = 0.0
        for sub, prep, enc in self.members:
            block = [cols[i] for i in sub.idx]
            if prep is not None:
                if all(isinstance(c, _Coded) for c in block):
                    block = [c.as_label() for c in block]
                else:
                    block = prep(block)
            enc.write(block, out, sub.out.start)


def _collect_onehot_inputs(ct: _CTStep, where: list[int], found: set[int]) -> None:
    """Add to ``found`` the top-level inputs (``where[i]`` for input i) of one-hot groups."""
    for g in ct.groups:
        if isinstance(g, _OneHotGroup):
            found.update(where[i] for i in g.inputs)
    for sub in ct.subs:
        first = _chain_of(sub.step)[0]
        if isinstance(first, _CTStep):
            _collect_onehot_inputs(first, [where[i] for i in sub.idx], found)


def _chain_of(step: _Step) -> list[_Step]:
    if isinstance(step, _Chain):
        res: list[_Step] = []
        for s in step.steps:
            res.extend(_chain_of(s))
        return res
    return [step]


def _fuse(subs: list[_Sub]) -> tuple[list[Any], list[_Sub]]:
    groups: dict[tuple[Any, ...], list[tuple[_Sub, list[dict[str, np.ndarray]]]]] = {}
    chains: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    rest: list[_Sub] = []
    onehots: list[tuple[_Sub, _AsLabel | None, _OneHot]] = []
    for sub in subs:
        if sub.weight is not None:
            rest.append(sub)
            continue
        chain = _chain_of(sub.step)
        if isinstance(chain[-1], _OneHot) and (
            len(chain) == 1 or (len(chain) == 2 and isinstance(chain[0], _AsLabel))
        ):
            onehots.append((sub, chain[0] if len(chain) == 2 else None, chain[-1]))
            continue
        try:
            width = len(sub.idx)
            keys, params = [], []
            for st in _chain_of(sub.step):
                key, prm, width = _fuse_spec(st, width)
                keys.append(key)
                params.append(prm)
            if width != sub.out.stop - sub.out.start:
                raise _Unsupported("width")
        except _Unsupported:
            rest.append(sub)
            continue
        gkey = (len(sub.idx), *keys)
        groups.setdefault(gkey, []).append((sub, params))
        chains[gkey] = keys
    out_groups: list[Any] = [_OneHotGroup(onehots)] if onehots else []
    for gkey, members in groups.items():
        if len(members) == 1:
            rest.append(members[0][0])
            continue
        out_groups.append(_Group([m[0] for m in members], chains[gkey], [m[1] for m in members]))
    return out_groups, rest


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
                    step = _compile_step(trans, notes, label + "/")
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


def _identity(x: np.ndarray) -> np.ndarray:
    return x


@dataclass
class CompiledScorer:
    """Numpy replay of a fitted segmenter (see the module docstring).

    Build it with :meth:`compile`; it stores only fitted parameters.

    Attributes
    ----------
    columns : list of str
        Input feature columns (the order the preprocessor reads them).
    fallbacks : list of str
        Branches replayed through scikit-learn because a step is not compiled.
    """

    parts: SegmenterParts
    step: _Step | None = None
    columns: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    used: list[bool] = field(default_factory=list)

    @property
    def required_columns(self) -> list[str]:
        """Input columns the preprocessor actually reads (dropped ones excluded)."""
        return [c for c, u in zip(self.columns, self.used, strict=True) if u]

    @classmethod
    def compile(cls, segmenter: Any) -> CompiledScorer:
        """Read the fitted parameters of ``segmenter`` into numpy operations.

        Parameters
        ----------
        segmenter : object
            A fitted segmenter accepted by :func:`split_segmenter`.

        Returns
        -------
        CompiledScorer
            The compiled scorer.
        """
        parts = split_segmenter(segmenter)
        self = cls(parts=parts, columns=list(parts.columns))
        pre = parts.preprocessor
        if pre is None:
            self.step = _Elementwise(_identity)
        else:
            names = getattr(pre, "feature_names_in_", None)
            if names is not None:
                self.columns = [str(c) for c in names]
            try:
                self.step = _compile_step(pre, self.fallbacks, "")
            except _Unsupported as exc:
                self.fallbacks.append(f"preprocessor ({exc})")
                self.step = _Fallback(pre, self.columns)
        self.used = [True] * len(self.columns)
        first = _chain_of(self.step)[0]
        if isinstance(first, _CTStep) and first.names_in == self.columns:
            idx = {i for sub in first.subs for i in sub.idx}
            self.used = [i in idx for i in range(len(self.columns))]
        if self.fallbacks:
            logger.warning(
                "segml fast scorer: %d step(s) replayed through scikit-learn (slower): %s",
                len(self.fallbacks), "; ".join(self.fallbacks),
            )
        return self

    # ---------------------------------------------------------------- model matrix
    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Model matrix of a checked feature frame (columns by name, any order).

        Parameters
        ----------
        frame : pandas.DataFrame
            Feature frame holding at least :attr:`columns`.

        Returns
        -------
        numpy.ndarray
            ``(n_rows, n_model_features)`` float64, the preprocessor's output.
        """
        pairs = zip(self.columns, self.used, strict=True)
        raw = [_column(frame[c]) if u else None for c, u in pairs]
        return self._run(raw)

    def assign_frame(
        self,
        frame: Any,
        *,
        explain: int = 0,
        chunk_rows: int | None = None,
        factorized: Mapping[str, tuple[np.ndarray, list[Any]]] | None = None,
    ) -> tuple[Assignment, np.ndarray | None]:
        """Assign a checked feature frame in row blocks; same results as ``assign(matrix(f))``.

        The model matrix, the distances and the driver pulls of one block of rows stay in
        the CPU cache instead of living as ``(n_rows, n_model_features)`` temporaries
        (several hundred MB at 1M rows). Every step works row by row, so the labels are the
        whole-frame path's; distances, confidences and driver pulls agree to rounding (the
        BLAS product's summation order depends on the block shape; see the module notes).
        A scorer with fallback branches (scikit-learn transformers it does not compile) runs on the
        whole frame, as ``pipeline.predict`` would.

        Parameters
        ----------
        frame : pandas.DataFrame or mapping
            Feature frame (or column name -> Series) holding at least :attr:`columns`.
        explain : int, default 0
            Also return the indices of the ``explain`` strongest drivers per row
            (:func:`top_features`); 0 for none.
        chunk_rows : int, optional
            Rows per block (default 16384).
        factorized : mapping, optional
            Column -> ``(codes, uniques)`` of ``pd.factorize(values, use_na_sentinel=True)``
            already computed by the caller (the input checks); string columns read by
            one-hot encoders are looked up from these codes instead of hashed per block.

        Returns
        -------
        (Assignment, numpy.ndarray or None)
            The assignment of every row, and the ``(n_rows, explain)`` driver indices
            (``None`` when ``explain`` is 0).
        """
        chunk_rows = _CHUNK_ROWS if chunk_rows is None else max(int(chunk_rows), 1)
        pairs = zip(self.columns, self.used, strict=True)
        raw = [_column(frame[c]) if u else None for c, u in pairs]
        present = [c for c in raw if c is not None]
        n = len(present[0]) if present else 0
        if n <= chunk_rows or self.fallbacks or not present:
            z = self._run(raw)
            a = self.assign(z)
            return a, (top_features(z, a, int(explain)) if explain else None)
        known = factorized or {}
        for i in self._onehot_inputs():
            col = raw[i]
            if not (isinstance(col, pd.api.extensions.ExtensionArray)
                    and isinstance(col.dtype, pd.StringDtype)):
                continue
            name = self.columns[i]
            if name in known and len(known[name][0]) == n:
                codes, uniques = known[name]
            else:
                codes, uniq = pd.factorize(col, use_na_sentinel=True)
                uniques = uniq.tolist()
            raw[i] = _Coded(col, np.asarray(codes, dtype=np.intp), list(uniques))
        n_blocks = -(-n // chunk_rows)
        # equal blocks: none is tiny, so every block takes the same code paths
        bounds = np.linspace(0, n, n_blocks + 1).astype(np.intp).tolist()
        store: dict[str, np.ndarray] = {}
        centers: np.ndarray | None = None
        drivers: np.ndarray | None = None
        with _one_blas_thread():
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                z = self._run([None if c is None else c[lo:hi] for c in raw])
                a = self.assign(z)
                if centers is None:
                    centers = a.centers
                for name in _ROW_FIELDS:
                    part = getattr(a, name)
                    if part is None:
                        continue
                    if name not in store:
                        store[name] = np.empty((n, *part.shape[1:]), dtype=part.dtype)
                    store[name][lo:hi] = part
                if explain:
                    idx = top_features(z, a, int(explain))
                    if drivers is None:
                        drivers = np.empty((n, idx.shape[1]), dtype=idx.dtype)
                    drivers[lo:hi] = idx
        assert centers is not None
        full = Assignment(centers=centers, proba=store.pop("proba", None), **store)
        return full, drivers

    def _onehot_inputs(self) -> list[int]:
        """Input columns read by fused one-hot encoders (nested ColumnTransformers too)."""
        first = _chain_of(self.step)[0] if self.step is not None else None
        if not isinstance(first, _CTStep) or first.names_in != self.columns:
            return []
        found: set[int] = set()
        _collect_onehot_inputs(first, list(range(len(self.columns))), found)
        return sorted(found)

    def matrix_one(self, record: Mapping[str, Any]) -> np.ndarray:
        """Model matrix of one customer given as a mapping (no DataFrame built).

        Parameters
        ----------
        record : mapping
            Feature name -> value; must hold every input column.

        Returns
        -------
        numpy.ndarray
            ``(1, n_model_features)`` float64.
        """
        return self._run(
            [_one(record[c]) if u else None for c, u in zip(self.columns, self.used, strict=True)]
        )

    def _run(self, raw: list[np.ndarray]) -> np.ndarray:
        assert self.step is not None
        z = _as_float(self.step(raw))
        if z.dtype != np.float64:
            z = z.astype(np.float64)
        return z

    # ---------------------------------------------------------------- assignment
    def assign(self, z: np.ndarray) -> Assignment:
        """Assign rows of the model matrix to ordered segments.

        Parameters
        ----------
        z : numpy.ndarray
            Model matrix from :meth:`matrix`.

        Returns
        -------
        Assignment
            Ordered labels, distance to own centroid, confidence, second centroid.
        """
        est = self.parts.estimator
        lm = self.parts.label_map
        n = z.shape[0]
        rows = np.arange(n)
        if hasattr(est, "means_"):
            centers = np.asarray(est.means_, dtype=np.float64)
            try:
                wlp = est._estimate_weighted_log_prob(z.astype(est.means_.dtype))
                raw = wlp.argmax(axis=1)
                wlp = wlp - wlp.max(axis=1, keepdims=True)
                p = np.exp(wlp)
                p /= p.sum(axis=1, keepdims=True)
            except AttributeError:  # pragma: no cover - future scikit-learn
                p = est.predict_proba(z)
                raw = est.predict(z)
            conf = p[rows, raw]
            d2 = _sq_dists(z, centers)
            second = _second(d2, raw)
            proba = p
        else:
            fitted_centers = np.asarray(est.cluster_centers_)
            centers = fitted_centers.astype(np.float64)
            cn = np.einsum("ij,ij->i", centers, centers)
            dd = cn - 2.0 * _matmul(z, centers.T)
            if not isinstance(est, (KMeans, MiniBatchKMeans)):
                raw = np.asarray(est.predict(z.astype(fitted_centers.dtype)), dtype=np.intp)
            elif fitted_centers.dtype != np.float64:
                zc = z.astype(fitted_centers.dtype)
                cc = np.einsum("ij,ij->i", fitted_centers, fitted_centers)
                raw = (cc - 2 * (zc @ fitted_centers.T)).argmin(axis=1)
            else:
                raw = dd.argmin(axis=1)
            zn = np.einsum("ij,ij->i", z, z)
            d2 = np.maximum(dd + zn[:, None], 0.0)
            second = _second(d2, raw)
            diff = centers.take(raw, axis=0)
            np.subtract(z, diff, out=diff)
            d1 = _row_norm(diff)
            d2nd = np.sqrt(d2[rows, second]) if d2.shape[1] > 1 else np.full(n, np.inf)
            with np.errstate(divide="ignore", invalid="ignore"):
                conf = np.where(d2nd > 0, 1.0 - d1 / d2nd, 0.0)
            conf = np.clip(conf, 0.0, 1.0)
            proba = None
        dist = d1 if proba is None else _row_norm(z - centers[raw])
        return Assignment(
            labels=lm[raw], raw=np.asarray(raw, dtype=np.intp), distance=dist, confidence=conf,
            second=second, centers=centers, proba=proba,
        )

    def feature_names_out(self) -> list[str]:
        """Model-space feature names (the segmenter's or preprocessor's names out)."""
        if self.parts.model_feature_names is not None:
            return list(self.parts.model_feature_names)
        pre = self.parts.preprocessor
        if pre is None:
            return list(self.columns)
        try:
            return [str(s) for s in pre.get_feature_names_out()]
        except (AttributeError, ValueError, TypeError):
            n = int(getattr(self.parts.estimator, "n_features_in_", 0))
            return [f"x{i}" for i in range(n)]


def _column(s: pd.Series) -> Any:
    dt = s.dtype
    if isinstance(dt, pd.StringDtype):
        return s.array
    if isinstance(dt, pd.api.extensions.ExtensionDtype):
        if pd.api.types.is_bool_dtype(dt):
            if not s.hasnans:
                return s.to_numpy(dtype=bool)
            return s.to_numpy(dtype=object, na_value=None)
        if pd.api.types.is_numeric_dtype(dt):
            return s.to_numpy(dtype=np.float64, na_value=np.nan)
    return s.to_numpy()


_BLAS: list[Any] = []
_ONE_THREAD = [False]  # inside _one_blas_thread(): BLAS already limited


def _blas() -> Any:
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0]


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread once for a loop of products (see :func:`_matmul`)."""
    if _ONE_THREAD[0]:
        yield
        return
    with _blas().limit(limits=1, user_api="blas"):
        _ONE_THREAD[0] = True
        try:
            yield
        finally:
            _ONE_THREAD[0] = False


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Multiply ``a @ b`` with BLAS on one thread for big ``a`` (as k-means in sklearn).

    Equal to the threaded product to rounding; avoids BLAS threads fighting the caller's
    own parallelism and oversubscribed machines.
    """
    if a.shape[0] < 4096 or _ONE_THREAD[0]:
        return a @ b
    with _one_blas_thread():
        return a @ b


def _row_norm(diff: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def _sq_dists(z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    cn = np.einsum("ij,ij->i", centers, centers)
    zn = np.einsum("ij,ij->i", z, z)
    return np.maximum(zn[:, None] - 2.0 * _matmul(z, centers.T) + cn, 0.0)


def _second(d2: np.ndarray, raw: np.ndarray) -> np.ndarray:
    if d2.shape[1] < 2:
        return raw.copy()
    masked = d2.copy()
    masked[np.arange(len(raw)), raw] = np.inf
    return masked.argmin(axis=1)


def _one(value: Any) -> np.ndarray:
    """One value as a 1-element array; missing (None/NA/NaN) becomes NaN (then imputed)."""
    if value is None or value is pd.NA or value is pd.NaT:
        arr = np.empty(1, dtype=object)
        arr[0] = np.nan
        return arr
    if isinstance(value, str):
        arr = np.empty(1, dtype=object)
        arr[0] = value
        return arr
    if isinstance(value, (bool, np.bool_)):
        arr = np.empty(1, dtype=object)
        arr[0] = bool(value)
        return arr
    return np.array([value])


@dataclass
class Assignment:
    """Result of :meth:`CompiledScorer.assign` (internal to scoring)."""

    labels: np.ndarray
    raw: np.ndarray
    distance: np.ndarray
    confidence: np.ndarray
    second: np.ndarray
    centers: np.ndarray
    proba: np.ndarray | None = None


def top_features(z: np.ndarray, a: Assignment, k: int) -> np.ndarray:
    """Index the model features that most pull each row to its segment.

    A feature's pull is how much closer it puts the row to its own centre than to
    the runner-up centre: ``(z - c_second)^2 - (z - c_own)^2``.

    Parameters
    ----------
    z : numpy.ndarray
        Model matrix.
    a : Assignment
        Its assignment.
    k : int
        How many to name per row.

    Returns
    -------
    numpy.ndarray
        ``(n_rows, k)`` feature indices, strongest first; ``-1`` where the pull
        is not positive (fewer than ``k`` features pull the row in).
    """
    n, p = z.shape
    k = min(k, p)
    if k <= 0 or n == 0:
        return np.empty((n, max(k, 0)), dtype=np.intp)
    pull = (z - a.centers[a.second]) ** 2
    pull -= (z - a.centers[a.raw]) ** 2
    if k < p:
        idx = np.argpartition(-pull, k - 1, axis=1)[:, :k]
    else:
        idx = np.broadcast_to(np.arange(p), (n, p)).copy()
    vals = np.take_along_axis(pull, idx, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    idx[vals <= 0] = -1
    return idx

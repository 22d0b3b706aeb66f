"""Compiled preprocessing steps: numpy replays of fitted transformers, branch by branch.

A block is either a list of raw 1-D columns (before the first numeric step) or a 2-D
float64 array. Each step replays one fitted transformer elementwise, so its output is the
same bits as the transformer's ``transform``. :class:`_Fallback` runs a fitted
transformer that has no compiled step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder

from segml.errors import SchemaError

_SMALL = 8  # at or below this many rows, vocabularies are looked up with dicts



def _is_missing(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.isna(values), dtype=bool)


def _as_float(block: Any) -> np.ndarray:
    if isinstance(block, np.ndarray):
        return block
    cols = [np.asarray(_raw_values(c), dtype=np.float64) for c in block]
    if not cols:
        return np.empty((0, 0))
    if any(c.ndim != 1 for c in cols):
        return np.column_stack(cols)
    # Same values as np.column_stack, without its per-call overhead (the one-row path
    # calls this once per step): fill a preallocated C-ordered (n, k) block.
    out = np.empty((len(cols[0]), len(cols)), dtype=np.float64)
    for j, c in enumerate(cols):
        out[:, j] = c
    return out


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
                k = x.shape[1]
                full = np.empty((x.shape[0], k + len(self.indicator)), dtype=np.float64)
                full[:, :k] = x
                full[:, k:] = miss[:, self.indicator]
                return full
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
                    " Fix: map those values to levels seen in training, or refit with an "
                    "encoder that accepts them (handle_unknown='ignore' or 'use_encoded_value')."
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
            # as scikit-learn: a missing value is a category when the fit saw one (then it
            # is encoded_missing_value), otherwise it is unknown like an unseen level
            unknown = codes < 0
            if unknown.any():
                if self.error:
                    what = "missing values" if miss[unknown].all() else "categories"
                    raise SchemaError(
                        f"ordinal column #{j} has {what} not seen in training and the fitted "
                        "encoder refuses unknown categories. Fix: map those values to levels seen "
                        "in training, or refit with an encoder that accepts them "
                        "(handle_unknown='use_encoded_value')."
                    )
                x[unknown] = self.unknown_value
            if vocab.nan_code >= 0:
                x[codes == vocab.nan_code] = self.missing_value
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



def _identity(x: np.ndarray) -> np.ndarray:
    return x



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


def _chain_of(step: _Step) -> list[_Step]:
    if isinstance(step, _Chain):
        res: list[_Step] = []
        for s in step.steps:
            res.extend(_chain_of(s))
        return res
    return [step]

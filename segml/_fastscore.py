"""Compile a fitted segmenter into plain numpy operations for fast scoring.

The plain path ``pipeline.predict(frame)`` spends most of its time in the
``ColumnTransformer`` machinery (validation, per-branch DataFrame slicing,
``hstack``). :class:`CompiledScorer` reads the *fitted parameters* of the known
steps once (imputer fill values, scaler centre/scale, one-hot vocabularies,
ordinal codes, ``log1p``) and replays them with numpy, so the model matrix is the
same bits the pipeline produces, and the k-means assignment uses the same
formula as scikit-learn (``||c||^2 - 2 x.c``, first minimum wins).

Any step it does not know makes that branch fall back to the fitted
scikit-learn branch itself (``branch.transform(frame[cols])``); the fallback is
listed in :attr:`CompiledScorer.fallbacks` and logged once per compile, so
results stay correct and only speed is lost.

A single customer given as a ``dict`` never goes through a DataFrame: each
branch runs on one-row arrays and vocabularies are plain ``dict`` look-ups.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
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
    cols = [np.asarray(c, dtype=np.float64) for c in block]
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
        miss = _is_missing(values)
        idx = self.index.get_indexer(values)
        out = np.where(idx >= 0, self.positions[np.maximum(idx, 0)], -1)
        if self.nan_code >= 0:
            out[miss] = self.nan_code
        return out, miss


def _raw_values(col: Any) -> np.ndarray:
    if isinstance(col, np.ndarray):
        return col
    return np.asarray(col, dtype=object)


class _Step:
    numeric_input = True

    def __call__(self, block: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class _Imputer(_Step):
    def __init__(self, imp: SimpleImputer) -> None:
        stats = np.asarray(imp.statistics_)
        if imp.add_indicator or not _is_missing_marker(imp.missing_values):
            raise _Unsupported("SimpleImputer with add_indicator or a custom missing marker")
        if stats.dtype.kind in "fiub":
            stats = stats.astype(np.float64)
            if np.isnan(stats).any():
                raise _Unsupported("SimpleImputer with all-missing features")
            self.numeric_input = True
        else:
            self.numeric_input = False
        self.stats = stats

    def __call__(self, block: Any) -> Any:
        if self.numeric_input:
            x = _as_float(block)
            miss = np.isnan(x)
            if miss.any():
                x = np.where(miss, self.stats, x)
            return x
        out = []
        for j, col in enumerate(block):
            vals = _raw_values(col)
            miss = _is_missing(vals)
            if miss.any():
                vals = vals.astype(object, copy=True)
                vals[miss] = self.stats[j]
            out.append(vals)
        return out


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

    def __call__(self, block: Any) -> np.ndarray:
        x = np.array(_as_float(block), dtype=np.float64, copy=True)
        if self.multiply:
            x *= self.scale
            x += self.center
            return x
        if self.center is not None:
            x -= self.center
        if self.scale is not None:
            x /= self.scale
        return x


class _OneHot(_Step):
    numeric_input = False

    def __init__(self, enc: OneHotEncoder) -> None:
        if getattr(enc, "_infrequent_enabled", False):
            raise _Unsupported("OneHotEncoder with infrequent categories")
        self.vocabs = [_Vocab(c) for c in enc.categories_]
        self.error = enc.handle_unknown == "error"
        drop = getattr(enc, "drop_idx_", None)
        self.drop = [None] * len(self.vocabs) if drop is None else list(drop)
        widths, self.offsets = [], []
        off = 0
        for v, d in zip(enc.categories_, self.drop, strict=True):
            w = len(v) - (0 if d is None else 1)
            self.offsets.append(off)
            widths.append(w)
            off += w
        self.width = off
        self.dtype = np.dtype(enc.dtype)
        self.names = list(enc.feature_names_in_) if hasattr(enc, "feature_names_in_") else None
        self.last_unknown: list[int] = []

    def __call__(self, block: Any) -> np.ndarray:
        cols = block if not isinstance(block, np.ndarray) else list(block.T)
        n = len(cols[0]) if cols else 0
        out = np.zeros((n, self.width), dtype=np.float64)
        rows = np.arange(n)
        for j, (col, vocab) in enumerate(zip(cols, self.vocabs, strict=True)):
            codes, _ = vocab.codes(_raw_values(col))
            bad = codes < 0
            if bad.any() and self.error:
                examples = sorted({str(v) for v in _raw_values(col)[bad][:5]})
                raise SchemaError(
                    f"column {self._name(j)!r} has categories not seen in training "
                    f"(e.g. {examples}) and the fitted encoder refuses unknown categories."
                )
            d = self.drop[j]
            if d is not None:
                d = int(d)
                bad = bad | (codes == d)
                codes = np.where(codes > d, codes - 1, codes)
            ok = ~bad
            out[rows[ok], self.offsets[j] + codes[ok]] = 1.0
        return out

    def _name(self, j: int) -> str:
        return str(self.names[j]) if self.names is not None else f"#{j}"


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


def _compile_step(step: Any) -> _Step:
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
            if s is None or s == "passthrough":
                continue
            out.extend(_flatten(s))
        return out
    return [trans]


@dataclass
class _Branch:
    name: str
    columns: list[str]
    out: slice
    steps: list[_Step] | None  # None: fall back to ``fitted``
    fitted: Any = None
    weight: float | None = None

    def run(self, raw: list[np.ndarray], frame_cols: Callable[[list[str]], pd.DataFrame]) -> Any:
        if self.steps is None:
            res = self.fitted.transform(frame_cols(self.columns))
            if hasattr(res, "toarray"):
                res = res.toarray()
            block: Any = np.asarray(res, dtype=np.float64)
        else:
            block = raw
            for step in self.steps:
                block = step(block)
            block = _as_float(block)
        if self.weight is not None:
            block = block * self.weight
        return block


@dataclass
class CompiledScorer:
    """Numpy replay of a fitted segmenter (see the module docstring).

    Build it with :meth:`compile`; it stores only fitted parameters.

    Attributes
    ----------
    columns : list of str
        Input feature columns.
    fallbacks : list of str
        Branches replayed through scikit-learn because a step is not compiled.
    """

    parts: SegmenterParts
    branches: list[_Branch] = field(default_factory=list)
    n_out: int = 0
    columns: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    whole_fallback: bool = False

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
        est = parts.estimator
        n_out = int(getattr(est, "n_features_in_", 0))
        self.n_out = n_out
        if pre is None:
            self.branches = [_Branch("identity", self.columns, slice(0, len(self.columns)), [])]
        elif isinstance(pre, ColumnTransformer):
            self._compile_ct(pre)
        else:
            steps = _flatten(pre)
            if len(steps) == 1 and isinstance(steps[0], ColumnTransformer):
                self._compile_ct(steps[0])
            else:
                try:
                    compiled = [_compile_step(s) for s in steps]
                    whole = _Branch("preprocessor", self.columns, slice(0, n_out), compiled)
                    self.branches = [whole]
                except _Unsupported as exc:
                    self.whole_fallback = True
                    self.fallbacks.append(f"preprocessor ({exc})")
        if self.fallbacks:
            logger.warning(
                "segml fast scorer: %d branch(es) replayed through scikit-learn (slower): %s",
                len(self.fallbacks), "; ".join(self.fallbacks),
            )
        return self

    def _compile_ct(self, ct: ColumnTransformer) -> None:
        names_in = [str(c) for c in ct.feature_names_in_]
        to_idx = getattr(ct, "_transformer_to_input_indices", {})
        weights = ct.transformer_weights or {}
        for name, trans, cols in ct.transformers_:
            out = ct.output_indices_.get(name, slice(0, 0))
            if trans == "drop" or out.stop == out.start:
                continue
            if name in to_idx:
                columns = [names_in[i] for i in to_idx[name]]
            else:
                columns = [str(c) for c in np.atleast_1d(cols)]
            w = weights.get(name)
            if trans == "passthrough":
                self.branches.append(_Branch(name, columns, out, [], weight=w))
                continue
            fitted = trans
            try:
                steps = [_compile_step(s) for s in _flatten(trans)]
                self.branches.append(_Branch(name, columns, out, steps, fitted=fitted, weight=w))
            except _Unsupported as exc:
                self.fallbacks.append(f"{name} ({exc})")
                self.branches.append(_Branch(name, columns, out, None, fitted=trans, weight=w))

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
        if self.whole_fallback:
            res = self.parts.preprocessor.transform(frame[self.columns])
            return np.asarray(res.toarray() if hasattr(res, "toarray") else res, dtype=np.float64)
        n = len(frame)
        out = np.empty((n, self.n_out), dtype=np.float64)

        def cols_of(names: list[str]) -> pd.DataFrame:
            return frame[names]

        for br in self.branches:
            raw = [frame[c].to_numpy() for c in br.columns]
            out[:, br.out] = br.run(raw, cols_of)
        return out

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
        if self.whole_fallback or any(b.steps is None for b in self.branches):
            return self.matrix(pd.DataFrame([{c: record[c] for c in self.columns}]))
        out = np.empty((1, self.n_out), dtype=np.float64)
        for br in self.branches:
            raw = [_one(record[c]) for c in br.columns]
            out[:, br.out] = br.run(raw, _no_frame)
        return out

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
            dd = cn - 2.0 * (z @ centers.T)
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
            d1 = np.sqrt(d2[rows, raw])
            d2nd = np.sqrt(d2[rows, second]) if d2.shape[1] > 1 else np.full(n, np.inf)
            with np.errstate(divide="ignore", invalid="ignore"):
                conf = np.where(d2nd > 0, 1.0 - d1 / d2nd, 0.0)
            conf = np.clip(conf, 0.0, 1.0)
            proba = None
        diff = z - centers[raw]
        dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        return Assignment(
            labels=lm[raw], raw=np.asarray(raw, dtype=np.intp), distance=dist, confidence=conf,
            second=second, centers=centers, proba=proba,
        )

    def feature_names_out(self) -> list[str]:
        """Model-space feature names (the preprocessor's ``get_feature_names_out``).

        Branches whose steps cannot name their outputs are named after their input
        columns when the width matches, else ``<branch>_<i>``.
        """
        pre = self.parts.preprocessor
        if pre is None:
            return list(self.columns)
        if self.parts.model_feature_names is not None:
            return list(self.parts.model_feature_names)
        try:
            return [str(s) for s in pre.get_feature_names_out()]
        except (AttributeError, ValueError, TypeError):
            pass
        names = [f"x{i}" for i in range(self.n_out)]
        for br in self.branches:
            width = br.out.stop - br.out.start
            got: list[str] | None = None
            if br.fitted is not None and hasattr(br.fitted, "get_feature_names_out"):
                try:
                    got = [str(s) for s in br.fitted.get_feature_names_out(br.columns)]
                except (AttributeError, ValueError, TypeError):
                    got = None
            if got is None or len(got) != width:
                got = list(br.columns) if len(br.columns) == width else [
                    f"{br.name}_{i}" for i in range(width)
                ]
            names[br.out] = got
        return names


def _sq_dists(z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    cn = np.einsum("ij,ij->i", centers, centers)
    zn = np.einsum("ij,ij->i", z, z)
    return np.maximum(zn[:, None] - 2.0 * (z @ centers.T) + cn, 0.0)


def _second(d2: np.ndarray, raw: np.ndarray) -> np.ndarray:
    if d2.shape[1] < 2:
        return raw.copy()
    masked = d2.copy()
    masked[np.arange(len(raw)), raw] = np.inf
    return masked.argmin(axis=1)


def _no_frame(names: list[str]) -> pd.DataFrame:  # pragma: no cover - guarded by matrix_one
    raise RuntimeError("fallback branch needs a frame")


def _one(value: Any) -> np.ndarray:
    if isinstance(value, str) or value is None or value is pd.NA:
        arr = np.empty(1, dtype=object)
        arr[0] = None if value is pd.NA else value
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

"""Compile a fitted segmenter into plain numpy operations for fast scoring.

The plain path ``pipeline.predict(frame)`` spends most of its time in the
``ColumnTransformer`` machinery (validation, per-branch DataFrame slicing,
``hstack``). :class:`CompiledScorer` reads the *fitted parameters* of the known
steps (:func:`segml.scoring.registry.registry`) once (imputer fill values, scaler
centre/scale, one-hot vocabularies, ordinal codes, ``log1p``) and replays them with
numpy, so the model matrix is the same bits the pipeline produces (every step is
elementwise), and the k-means assignment uses the same formula as scikit-learn
(``||c||^2 - 2 x.c``, first minimum wins).

Any step it does not know (not registered) makes that branch fall back to the fitted
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segml.scoring.assign import Assignment, _one_blas_thread, assign_rows, top_features
from segml.scoring.parts import SegmenterParts, split_segmenter
from segml.scoring.registry import (
    _collect_onehot_inputs,
    _CTStep,
    compile_step,
)
from segml.scoring.steps import (
    _as_float,
    _chain_of,
    _Coded,
    _column,
    _Elementwise,
    _Fallback,
    _identity,
    _one,
    _Step,
    _Unsupported,
)

__all__ = ["CompiledScorer"]

logger = logging.getLogger("segml.scoring")

_CHUNK_ROWS = 16384  # rows per block in CompiledScorer.assign_frame (a few MB of temporaries)
_ROW_FIELDS = ("labels", "raw", "distance", "confidence", "second", "proba")


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
                self.step = compile_step(pre, self.fallbacks, "")
            except _Unsupported as exc:
                # a step that declares replay_with_transform (segml's rule-group indicators)
                # is scored through its own transform by design: no fallback to report
                if not getattr(pre, "replay_with_transform", False):
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
        raw: list[Any] = []
        at: list[int] = []
        floats: list[float] = []
        for j, (c, u) in enumerate(zip(self.columns, self.used, strict=True)):
            v = record[c] if u else None
            if type(v) is float:  # exactly what _one gives: a float64 element (NaN too)
                at.append(j)
                floats.append(v)
                raw.append(None)
            else:
                raw.append(_one(v) if u else None)
        if floats:
            # One array for every plain-float value, each column a 1-element view of it:
            # the same dtype and bits as np.array([v]) per value, a fraction of the cost.
            buf = np.array(floats, dtype=np.float64)
            for k, j in enumerate(at):
                raw[j] = buf[k:k + 1]
        return self._run(raw)

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
        return assign_rows(self.parts, z)

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


"""Vectorised drawing helpers shared by the generator's steps (allocation, ids, strings)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segml._planted_segments import SegmentProfile
from segml.schema import text_category

_DAY_NS = 86_400 * 10**9
_STR = pd.StringDtype(na_value=np.nan)  # pandas' default ``str`` dtype

def _top_share(values: np.ndarray, top: float) -> float:
    """Share of the total carried by the largest ``top`` fraction of ``values``."""
    if len(values) == 0:
        return 0.0
    total = float(values.sum())
    if total <= 0:
        return 0.0
    k = max(1, int(round(top * len(values))))
    return float(np.sort(values)[::-1][:k].sum() / total)


# --------------------------------------------------------------------------- helpers


def _alloc(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer counts proportional to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() == 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1).astype(np.int8)


def _mix(rng: np.random.Generator, base: Sequence[float], n: int, noise: float) -> np.ndarray:
    """Per-customer mixes around ``base``: Dirichlet whose spread grows with ``noise``."""
    p = np.asarray(base, dtype=float)
    p = p / p.sum()
    if noise < 1e-3 or n == 0:  # Dirichlet concentration would overflow; the spread is nil
        return np.tile(p, (n, 1))
    alpha = np.maximum(p * 25.0 / noise**2, 1e-3)
    out = rng.dirichlet(alpha, size=n)
    out[:, p == 0] = 0.0  # a profile that never uses a channel/category keeps it at zero
    return out / out.sum(axis=1, keepdims=True)


def _take_str(dictionary: pa.Array, codes: np.ndarray) -> pd.Series:
    """``dictionary[codes]`` as a pandas ``str`` Series (codes < 0 are missing)."""
    mask = codes < 0
    if mask.any():
        idx = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
    else:
        idx = pa.array(codes.astype(np.int32, copy=False))
    return pd.Series(dictionary.cast(pa.large_string()).take(idx), dtype=_STR, copy=False)


def _strings(values: Sequence[str], codes: np.ndarray) -> pd.Series:
    """``values[codes]`` as a pandas ``str`` Series (codes < 0 are missing)."""
    return _take_str(pa.array(list(values), type=pa.large_string()), np.asarray(codes))


def _take_category(dictionary: Sequence[str] | pa.Array, codes: np.ndarray,
                   levels: Sequence[str] | None = None) -> pd.Series:
    """``dictionary[codes]`` in the validator's label form (codes < 0 are missing).

    See :func:`segml.schema.text_category`: a generated log is then a fixed point of
    :func:`segml.schema.validate_transactions`.
    """
    values = dictionary.to_pylist() if isinstance(dictionary, pa.Array) else list(dictionary)
    return text_category(values, codes, levels)


def _format_ids(prefix: str, numbers_: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers_`` as an arrow large_string array."""
    digits = pa.array(np.asarray(numbers_, dtype=np.int64)).cast(pa.large_string())
    return pc.binary_join_element_wise(
        pa.scalar(prefix, pa.large_string()), pc.utf8_lpad(digits, width, "0"),
        pa.scalar("", pa.large_string()),
    )


def _per_seg(profiles: list[SegmentProfile], seg: np.ndarray, attr: str) -> np.ndarray:
    return np.array([getattr(p, attr) for p in profiles], dtype=float)[seg]

"""Fusion of single-column branches into one broadcast per chain of numeric steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from segml.scoring.steps import (
    _Affine,
    _AsLabel,
    _chain_of,
    _Clip,
    _Coded,
    _Elementwise,
    _Func,
    _identity,
    _Imputer,
    _OneHot,
    _raw_values,
    _Scale,
    _Step,
    _Unsupported,
)


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


"""Shared input checks and the convergence warning of the buy-till-you-die models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError, SchemaError, SegmlWarning

__all__ = ["ConvergenceWarning", "as_columns", "check_summary_arrays", "positive_float"]

#: Bounds of the optimised log-parameters: every parameter is kept in [1e-6, 1e6].
LOG_BOUND = float(np.log(1e6))


class ConvergenceWarning(SegmlWarning):
    """A maximum-likelihood fit stopped without converging or with a parameter at its bound."""


def _short(values: np.ndarray, n: int = 3) -> str:
    return ", ".join(repr(float(v)) for v in np.asarray(values).ravel()[:n])


def as_columns(summary: Any, names: Sequence[str], what: str) -> list[np.ndarray]:
    """Return the named columns of a summary frame as float64 arrays.

    Parameters
    ----------
    summary : pandas.DataFrame
        Per-customer summary (the output of :func:`segml.value.rfm_summary`).
    names : sequence of str
        Columns to return.
    what : str
        Who asks, used in error messages (e.g. ``"BGNBD.fit"``).

    Returns
    -------
    list of numpy.ndarray
        One float64 array per name.

    Raises
    ------
    SchemaError
        When ``summary`` is not a DataFrame or a column is missing.
    """
    if not isinstance(summary, pd.DataFrame):
        raise SchemaError(
            f"{what}: summary is a {type(summary).__name__}, expected a pandas DataFrame with "
            f"columns {list(names)}. Fix: build it with segml.value.rfm_summary(transactions, "
            "calibration_end)."
        )
    missing = [n for n in names if n not in summary.columns]
    if missing:
        raise SchemaError(
            f"{what}: summary has no column(s) {missing} (it has {list(summary.columns)[:6]}). "
            "Fix: build it with segml.value.rfm_summary(transactions, calibration_end)"
            + (", which gives 'monetary' when transactions have 'amount'."
               if "monetary" in missing else ".")
        )
    out = []
    for n in names:
        col = summary[n]
        if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            raise SchemaError(
                f"{what}: summary column {n!r} has dtype {col.dtype}, expected numbers. "
                "Fix: convert it with pd.to_numeric."
            )
        out.append(col.to_numpy(dtype="float64", na_value=np.nan))
    return out


def check_summary_arrays(x: Any, t_x: Any, T: Any, what: str) -> tuple[np.ndarray, ...]:
    """Validate BG/NBD inputs ``x``, ``t_x``, ``T`` and broadcast them to float64 arrays.

    Parameters
    ----------
    x, t_x, T : array-like
        Repeat purchases (non-negative integers), time of the last purchase and age, both
        measured from the first purchase in the model's time unit, with ``0 <= t_x <= T`` and
        ``t_x == 0`` when ``x == 0``.
    what : str
        Who asks, used in error messages.

    Returns
    -------
    tuple of numpy.ndarray
        ``x, t_x, T`` as broadcast float64 arrays.

    Raises
    ------
    SchemaError
        On missing, negative or non-integer ``x``, negative ``t_x``, ``t_x > T`` or a positive
        ``t_x`` with ``x == 0``.
    """
    try:
        x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, t_x, T)))
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"{what}: x, t_x and T must be numbers of one common shape ({exc}). "
            "Fix: pass the columns of one rfm_summary frame."
        ) from exc
    for name, v in (("x", x), ("t_x", t_x), ("T", T)):
        bad = ~np.isfinite(v)
        if bad.any():
            raise SchemaError(
                f"{what}: {int(bad.sum())} value(s) of {name} are missing or infinite "
                f"(e.g. {_short(v[bad])}). Fix: drop those customers or rebuild the summary."
            )
        neg = v < 0
        if neg.any():
            raise SchemaError(
                f"{what}: {int(neg.sum())} value(s) of {name} are negative "
                f"(e.g. {_short(v[neg])}); times and counts start at 0 at the first purchase. "
                "Fix: rebuild the summary with rfm_summary."
            )
    frac = x != np.round(x)
    if frac.any():
        raise SchemaError(
            f"{what}: x must count repeat purchases (whole numbers); got {_short(x[frac])}. "
            "Fix: count purchase days, e.g. with rfm_summary."
        )
    over = t_x > T * (1 + 1e-12) + 1e-12
    if over.any():
        raise SchemaError(
            f"{what}: t_x > T for {int(over.sum())} customer(s) (e.g. t_x={_short(t_x[over])} "
            f"with T={_short(T[over])}); the last purchase cannot come after the calibration end. "
            "Fix: measure both from the first purchase to the same calibration_end."
        )
    zero = (x == 0) & (t_x > 0)
    if zero.any():
        raise SchemaError(
            f"{what}: t_x > 0 for {int(zero.sum())} customer(s) with x = 0 "
            f"(e.g. t_x={_short(t_x[zero])}); without a repeat purchase t_x is 0. "
            "Fix: rebuild the summary with rfm_summary."
        )
    return x, t_x, T


def positive_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float, rejecting negatives (and zero unless allowed).

    Parameters
    ----------
    name : str
        Argument name for the message.
    value : Any
        The value.
    allow_zero : bool, default False
        Accept 0.

    Returns
    -------
    float
        The value.

    Raises
    ------
    ConfigError
        When the value is not a finite number in range.
    """
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    v = float(value) if ok else float("nan")
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name}={value!r} must be a finite number {bound}. Fix: pass e.g. 1.")
    return v

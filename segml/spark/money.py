"""Money on Spark as segml sums it: integers at the smallest scale making every amount whole.

The scale is the smallest of 1, 100, 10000 for which every amount (within 1e-6) is whole and
the largest possible sum stays below 2**62; amounts are summed as ``round(amount * scale)``
longs and divided at the end, so sums do not depend on partitioning or row order. When no scale
fits, the doubles are summed (then equal to rounding only).
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F  # noqa: N812 (pyspark convention)

__all__: list[str] = []

_SCALES = (1, 100, 10_000)
_INT_LIMIT = 2.0**62


def _money(expr: Column, scale: int | None) -> Column:
    return expr if scale is None else F.round(expr * F.lit(scale)).cast("long")


def _unscale(expr: Column, scale: int | None) -> Column:
    """Integer money back to currency, as segml's polars expression ``x / scale`` computes it.

    polars evaluates a division by a literal as a multiplication by its reciprocal (385968
    cents give 3859.6800000000003, not the correctly rounded 3859.68), so the same
    multiplication here makes the sums identical to segml's, not only within 1e-15.
    """
    out = expr.cast("double")
    return out if scale is None or scale == 1 else out * F.lit(1.0 / scale)


def _pick_scale(dev: dict[int, Any], biggest: Any, n: int) -> int | None:
    """Pick the money scale: the smallest of 1/100/10000 making every value whole (or None)."""
    if biggest is None or n == 0:
        return 1
    for s in _SCALES:
        d = dev[s]
        if d is not None and d <= 1e-6 and float(biggest) * s * max(n, 1) < _INT_LIMIT:
            return s
    return None


def _scale_aggs(expr: Column, mask: Column, tag: str) -> list[Column]:
    val = F.when(mask, expr)
    aggs = [F.max(F.abs(F.round(val * F.lit(s)) - val * F.lit(s))).alias(f"{tag}_d{s}")
            for s in _SCALES]
    return aggs + [F.max(F.abs(val)).alias(f"{tag}_max"), F.count(val).alias(f"{tag}_n")]


def _scale_of(stats: Any, tag: str) -> int | None:
    return _pick_scale({s: stats[f"{tag}_d{s}"] for s in _SCALES}, stats[f"{tag}_max"],
                       int(stats[f"{tag}_n"]))

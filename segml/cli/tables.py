"""Terminal tables of the CLI that must fit a width (the k sweep of ``segml select-k``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: (column of the sweep table, short header), in the order they are kept when the width is
#: short: the first ones always, the later ones while the table still fits.
_SWEEP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("silhouette_sqeuclidean_full", "silhouette"),
    ("stability_ari_mean", "stability"),
    ("min_jaccard", "min jaccard"),
    ("min_segment_share", "min share"),
    ("calinski_harabasz", "CH"),
    ("davies_bouldin", "DB"),
    ("prediction_strength", "pred.str"),
    ("dip_p", "dip p"),  # the least separated neighbouring pair's dip test (issue 15)
    ("gap", "gap"),
    ("bic", "BIC"),
    ("silhouette_euclidean_sample", "sil.sample"),
)


def _num(v: Any) -> str:
    if v is None or (isinstance(v, float | np.floating) and math.isnan(float(v))):
        return ""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else ""
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        v = float(v)
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}" if abs(v) < 1 else f"{v:.1f}"
    return str(v)


def _is_recommended(row: pd.Series, rec: Mapping[str, Any]) -> bool:
    if rec.get("k") is None or int(row.get("k", -1)) != int(rec["k"]):
        return False
    if rec.get("algorithm") is not None and row.get("algorithm") != rec["algorithm"]:
        return False
    cov = rec.get("covariance_type")
    return cov is None or row.get("covariance_type") in (cov, None) or pd.isna(
        row.get("covariance_type"))


def compact_sweep_table(table: pd.DataFrame, recommended: Mapping[str, Any] | None, *,
                        width: int = 100) -> str:
    """Return the k sweep as a text table no wider than ``width`` characters.

    One row per (algorithm, covariance, k); columns: the model, k, a verdict (``<- chosen``
    on the recommended row, ``too small`` where a segment is under the minimum share) and the
    criteria that matter most (silhouette, stability, smallest segment share, ...), as many
    as fit. Columns absent from ``table`` are skipped, so a sweep with other criteria still
    prints.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`segml.cluster.SelectKResult.table`.
    recommended : mapping or None
        :attr:`segml.cluster.SelectKResult.recommended` (``algorithm``, ``k``,
        ``covariance_type``).
    width : int, default 100
        Widest line allowed.

    Returns
    -------
    str
        The table; every line at most ``width`` characters.

    Examples
    --------
    >>> t = pd.DataFrame({"algorithm": ["kmeans", "kmeans"], "k": [2, 3],
    ...                   "silhouette_sqeuclidean_full": [0.61, 0.42]})
    >>> print(compact_sweep_table(t, {"algorithm": "kmeans", "k": 2}))
    model   k  verdict    silhouette
    kmeans  2  <- chosen        0.61
    kmeans  3                   0.42
    """
    rec = dict(recommended or {})
    model = table["algorithm"].astype(str) if "algorithm" in table.columns else pd.Series(
        "", index=table.index)
    if "covariance_type" in table.columns:
        cov = table["covariance_type"]
        model = model + np.where(cov.notna() & (cov.astype(str) != "None"),
                                 "/" + cov.astype(str), "")
    verdict = []
    for _, row in table.iterrows():
        v = "<- chosen" if _is_recommended(row, rec) else ""
        if bool(row.get("too_small", False)) is True:
            v = (v + ", " if v else "") + "too small"
        verdict.append(v)
    cells: dict[str, list[str]] = {
        "model": model.tolist(),
        "k": [_num(v) for v in table["k"]] if "k" in table.columns else [""] * len(table),
        "verdict": verdict,
    }
    optional = [(h, [_num(v) for v in table[c]]) for c, h in _SWEEP_COLUMNS
                if c in table.columns and table[c].notna().any()]
    while True:
        text = _render(cells | dict(optional), left=("model", "verdict"))
        if max(map(len, text.splitlines())) <= width or not optional:
            break
        optional.pop()
    return text


def _render(cells: dict[str, list[str]], *, left: tuple[str, ...]) -> str:
    widths = {h: max([len(h), *map(len, vals)]) for h, vals in cells.items()}
    n = len(next(iter(cells.values())))

    def cell(h: str, v: str) -> str:
        return v.ljust(widths[h]) if h in left else v.rjust(widths[h])

    lines = ["  ".join(cell(h, h) for h in cells).rstrip()]
    lines += ["  ".join(cell(h, vals[i]) for h, vals in cells.items()).rstrip()
              for i in range(n)]
    return "\n".join(lines)

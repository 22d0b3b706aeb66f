"""Plot of the calibration/holdout check (matplotlib is imported lazily)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from segml.errors import SchemaError

__all__ = ["plot_calibration_holdout"]


def plot_calibration_holdout(table: pd.DataFrame, ax: Any = None) -> Any:
    """Draw mean actual vs predicted holdout purchases by calibration frequency.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`segml.value.calibration_holdout_table`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when None.

    Returns
    -------
    matplotlib.axes.Axes
        The axes.

    Raises
    ------
    SchemaError
        When ``table`` lacks ``actual`` or ``predicted``.
    """
    missing = [c for c in ("actual", "predicted") if c not in getattr(table, "columns", [])]
    if missing:
        raise SchemaError(
            f"plot_calibration_holdout: table has no column(s) {missing}. Fix: pass the output "
            "of segml.value.calibration_holdout_table."
        )
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    pos = range(len(table))
    ax.plot(pos, table["actual"].to_numpy(), marker="o", label="actual")
    ax.plot(pos, table["predicted"].to_numpy(), marker="s", linestyle="--", label="BG/NBD")
    ax.set_xticks(list(pos), [str(i) for i in table.index])
    ax.set_xlabel("purchases in calibration period (repeat)")
    ax.set_ylabel("mean purchases in holdout period")
    ax.set_title("Calibration vs holdout")
    ax.legend()
    return ax

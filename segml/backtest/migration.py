"""Where customers went between two segment assignments.

Used by the backtest (consecutive cutoffs) and by the periodic refresh (the previous
run against today's). Both assignments are Series indexed by customer id; only the
customers present in both are compared, and the counts of those present in only one
are reported, never dropped silently.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from segml.errors import SchemaError

__all__ = ["migration_matrix", "movers"]


def _aligned(before: pd.Series, after: pd.Series) -> tuple[pd.Series, pd.Series]:
    for name, s in (("before", before), ("after", after)):
        if not isinstance(s, pd.Series):
            raise TypeError(f"{name} must be a pandas Series indexed by customer id, "
                            f"got {type(s).__name__}")
        dup = s.index[s.index.duplicated()]
        if len(dup):
            shown = ", ".join(map(str, dup.unique()[:5]))
            raise SchemaError(f"{name}: customer id(s) appear more than once ({shown}); "
                              "pass one segment per customer")
    common = before.index.intersection(after.index, sort=False)
    return before.loc[common], after.loc[common]


def migration_matrix(before: pd.Series, after: pd.Series, *,
                     normalize: Literal["index", None] = None) -> pd.DataFrame:
    """Cross-tabulate each customer's segment before (rows) against after (columns).

    Parameters
    ----------
    before, after : pandas.Series
        Segment per customer, indexed by customer id. Customers present in only one
        of them are left out; their counts are in ``result.attrs["only_before"]`` and
        ``result.attrs["only_after"]``.
    normalize : {"index", None}, default None
        ``"index"`` gives row shares (where each segment's customers went, each row
        summing to 1); ``None`` gives counts.

    Returns
    -------
    pandas.DataFrame
        Rows are segments before, columns segments after, both in sorted order and
        including segments that exist on one side only (with zeros).

    Raises
    ------
    SchemaError
        When a customer id appears twice in either assignment.
    """
    if normalize not in ("index", None):
        raise ValueError(f"normalize must be 'index' or None, got {normalize!r}")
    b, a = _aligned(before, after)
    levels = sorted(set(before.dropna().unique()) | set(after.dropna().unique()), key=str)
    counts = pd.crosstab(pd.Categorical(b.to_numpy(), categories=levels),
                         pd.Categorical(a.to_numpy(), categories=levels), dropna=False)
    counts.index.name, counts.columns.name = "before", "after"
    out = counts.astype("int64")
    if normalize == "index":
        tot = out.sum(axis=1).replace(0, pd.NA).astype("Float64")
        out = out.div(tot, axis=0).astype("float64")
    out.attrs["only_before"] = int(len(before) - len(b))
    out.attrs["only_after"] = int(len(after) - len(a))
    return out


def movers(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    """List the customers whose segment changed, for a CRM update.

    Parameters
    ----------
    before, after : pandas.Series
        Segment per customer, indexed by customer id.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id``, ``from_segment``, ``to_segment``, one row per customer
        present in both whose segment differs, sorted by customer id.
    """
    b, a = _aligned(before, after)
    changed = b.astype("object").to_numpy() != a.astype("object").to_numpy()
    out = pd.DataFrame({"customer_id": b.index[changed],
                        "from_segment": b.to_numpy()[changed],
                        "to_segment": a.to_numpy()[changed]})
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)

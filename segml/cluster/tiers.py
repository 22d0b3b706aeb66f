"""Value tiers: the value partition segml gives when there are no clear segments.

Issue 15 asks that a "no clear segments" answer still leave the analyst something to act on,
labelled for what it is. The partition is ``n_tiers`` tiers of one value column (the first of
:data:`TIER_COLUMNS` in the frame) cut at its natural breaks: k-means on that one log-scaled
column, which is what Jenks' natural-breaks optimisation computes in one dimension. Tier 0 is
the most valuable. It is a :class:`~segml.cluster.Segmenter` like any fitted segmentation, so
it is saved, validated and scores new customers through the same code; what makes it a value
partition and not a clustering is recorded by the caller (``selection.settings["partition"]``
in a run, ``ClusterModel.partition_`` in a backtest).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from segml.cluster.segmenter import Segmenter

__all__ = ["TIER_COLUMNS", "tier_column", "value_tiers", "tiers_note"]

#: the value columns tiers are cut on, in order of preference
TIER_COLUMNS = ("monetary", "clv")


def tier_column(columns: Iterable[str]) -> str | None:
    """Return the value column tiers would be cut on, or None (attribute-only data)."""
    have = set(columns)
    return next((c for c in TIER_COLUMNS if c in have), None)


def value_tiers(frame: pd.DataFrame, n_tiers: int = 3, *, random_state: int = 0) -> Segmenter:
    """Fit ``n_tiers`` value tiers on ``frame`` (natural breaks of its value column).

    Parameters
    ----------
    frame : DataFrame
        Feature frame of the customers to tier (one of :data:`TIER_COLUMNS` in it).
    n_tiers : int, default 3
        Tiers wanted; fewer when the column has fewer distinct values.
    random_state : int, default 0
        Seed of the k-means initialisation.

    Returns
    -------
    Segmenter
        Fitted; ``labels_`` 0 is the top tier, and every tier is a contiguous range of the
        value column.

    Raises
    ------
    ValueError
        The frame has no value column (check with :func:`tier_column` first).
    """
    from segml.features import FeatureSpec, make_preprocessor

    column = tier_column(frame.columns)
    if column is None:
        raise ValueError(f"value tiers need one of {', '.join(TIER_COLUMNS)} in the frame; "
                         "this data has none (attributes only). Fix: force a k instead.")
    n = max(1, min(int(n_tiers), int(frame[column].nunique())))
    spec = FeatureSpec.from_dict({"version": 1, "families": {
        "value": {"weight": 1.0, "columns": {column: "log"}}}})
    return Segmenter(algorithm="kmeans", n_clusters=n, order_by=column,
                     preprocessor=make_preprocessor(spec, frame),
                     random_state=random_state).fit(frame)


def tiers_note(segmenter: Segmenter, column: str) -> str:
    """Return the sentence that labels a value-tier partition for what it is."""
    return (f"no clear segments: the {segmenter.n_clusters_} segments are value tiers, natural "
            f"breaks of {column} (k-means on log {column} alone), a value partition and not "
            "clusters; `segml run --k K` clusters anyway, no_segments = \"stop\" stops instead")

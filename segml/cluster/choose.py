"""From a k sweep to fitted segments: the step ``segml run``, the Spark run and the backtest share.

After :func:`~segml.cluster.select_k` the product does one of two things:

* on "no clear segments" with k = 1 searched, it fits the configured **value partition**
  (``[segmentation] no_segments``: the RFM groups or value tiers), labelled as such
  (:func:`fallback_possible`, :func:`fit_fallback`);
* otherwise it fits the recommended clustering **as the sweep fitted it**: same fit sample,
  same k-means precision, same parameters (:func:`fit_recommended`). At 1M customers a
  full-data float64 refit cost more than the sweep's own fit at that k (issue 19).

:func:`sweep` runs :func:`~segml.cluster.select_k` with the ``[segmentation]`` table. The
functions take that table (``cfg["segmentation"]``, or :data:`segml.config.DEFAULTS` with
overrides), not the whole configuration, so code below the pipeline (the backtest's
:class:`~segml.backtest.segmenters.ClusterModel`) uses the same step as ``segml run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
from sklearn.base import clone

__all__ = ["sweep", "fallback_possible", "fit_fallback", "fit_recommended"]


def _quiet(message: str) -> None:
    """Progress sink that drops the message."""


def sweep(X: Any, seg: Mapping[str, Any], *, k_range: range | None = None,
          screen: bool | str = "auto", progress: bool = False) -> Any:
    """Run :func:`~segml.cluster.select_k` with the ``[segmentation]`` settings ``seg``.

    Parameters
    ----------
    X : array-like or pandas.DataFrame
        Model matrix (or raw frame, see :func:`~segml.cluster.select_k`).
    seg : mapping
        The ``[segmentation]`` table: ``k_min``, ``k_max``, ``algorithms``,
        ``covariance_types``, ``stability``, ``n_stability``, ``min_segment_share``, ``rule``,
        ``min_jaccard``, ``n_references``, ``ps_threshold``, ``fit_sample_size``, ``n_jobs``,
        ``random_state``.
    k_range : range, optional
        Overrides ``range(k_min, k_max + 1)``.
    screen : bool or "auto", default "auto"
        :func:`~segml.cluster.select_k`'s ``screen``. A caller that uses only the
        recommendation (the backtest) passes ``True``: the recommendation is the full sweep's,
        and the stability refits and mixture fits at k that fail prediction strength are
        skipped at every size, not only from 50,000 rows.
    progress : bool, default False
        Progress bars of the sweep.

    Returns
    -------
    segml.cluster.SelectKResult
    """
    from segml.cluster.select_k import select_k

    return select_k(
        X, k_range=k_range if k_range is not None else range(seg["k_min"], seg["k_max"] + 1),
        algorithms=seg["algorithms"], covariance_types=seg["covariance_types"],
        stability=seg["stability"], n_stability=seg["n_stability"],
        min_segment_share=seg["min_segment_share"], rule=seg["rule"],
        min_jaccard=seg["min_jaccard"], n_references=seg["n_references"],
        ps_threshold=seg["ps_threshold"], fit_sample_size=seg["fit_sample_size"],
        n_jobs=seg["n_jobs"], screen=screen, progress=progress,
        random_state=seg["random_state"],
    )


def fallback_possible(how: str, columns: Iterable[str], *, rfm_scorer: Any = None,
                      need_scorer: bool = False) -> bool:
    """Whether frames with ``columns`` allow the no-clear-segments fallback ``how``.

    Parameters
    ----------
    how : str
        ``[segmentation] no_segments``: ``"rfm_groups"``, ``"value_tiers"`` or ``"stop"``.
    columns : iterable of str
        Columns of the clustered customers' raw feature frame.
    rfm_scorer : segml.features.RFMScorer, optional
        The fitted RFM scorer the groups will be scored with.
    need_scorer : bool, default False
        Require ``rfm_scorer`` for ``"rfm_groups"`` (``segml run`` freezes the training
        quintile edges in the model; the backtest reads the frame's own RFM scores).

    Returns
    -------
    bool
        False for ``"stop"`` and when the columns (or the scorer) the fallback needs are
        missing.
    """
    from segml.cluster.tiers import tier_column

    columns = list(columns)
    if how == "value_tiers":
        return tier_column(columns) is not None
    if how == "rfm_groups":
        from segml.rules import builtin_missing_columns

        return ((rfm_scorer is not None or not need_scorer)
                and not builtin_missing_columns("rfm_groups", columns))
    return False


def fit_fallback(frame: pd.DataFrame, seg: Mapping[str, Any], selection: Any, *,
                 rfm_scorer: Any = None,
                 progress: Callable[[str], None] = _quiet) -> Any:
    """Fit the value partition ``[segmentation] no_segments`` names, labelled as such.

    ``"rfm_groups"``: :class:`~segml.cluster.fallback.RuleGroupSegmenter` (with
    ``rfm_scorer``, the groups of its frozen quintile edges; without, of the frame's own
    RFM scores). ``"value_tiers"``: :func:`~segml.cluster.tiers.value_tiers` with
    ``[segmentation] value_tiers`` tiers. ``selection.settings["partition"]`` and
    ``["verdict_note"]`` (shown by the summary, report and model card) say it is a value
    partition, not clusters; the note also goes to ``progress``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The clustered customers' raw feature rows.
    seg : mapping
        The ``[segmentation]`` table (``no_segments``, ``value_tiers``, ``random_state``).
    selection : segml.cluster.SelectKResult
        The sweep whose verdict was "no clear segments"; its settings are annotated.
    rfm_scorer : segml.features.RFMScorer, optional
        See above.
    progress : callable, optional
        Receives the note.

    Returns
    -------
    object
        The fitted partition (``labels_``, ``n_clusters_``, ``predict``).
    """
    if seg["no_segments"] == "rfm_groups":
        from segml.cluster.fallback import RuleGroupSegmenter, rules_note

        segmenter = RuleGroupSegmenter("rfm_groups", rfm_scorer=rfm_scorer).fit(frame)
        note = rules_note(segmenter)
    elif seg["no_segments"] == "value_tiers":
        from segml.cluster.tiers import tier_column, tiers_note, value_tiers

        segmenter = value_tiers(frame, seg["value_tiers"], random_state=seg["random_state"])
        note = tiers_note(segmenter, str(tier_column(frame.columns)))
    else:
        from segml.errors import ConfigError

        raise ConfigError(
            f"fit_fallback: [segmentation] no_segments={seg['no_segments']!r} has no value "
            "partition to fit. Fix: use 'rfm_groups' or 'value_tiers' (check "
            "fallback_possible first)."
        )
    selection.settings["partition"] = seg["no_segments"]
    selection.settings["verdict_note"] = note
    progress(note)
    return segmenter


def fit_recommended(seg: Mapping[str, Any], selection: Any, frame: pd.DataFrame,
                    preprocessor: Any, *, progress: Callable[[str], None] = _quiet,
                    **overrides: Any) -> Any:
    """Fit the selection's recommended clustering on ``frame`` as the sweep that chose it.

    Same fit sample and k-means precision as the sweep, the recommendation's parameters and
    an unfitted copy of the model matrix's ``preprocessor`` (the same as a new one, without
    the identifier scan again). Segment 0 is the highest mean ``monetary`` when the frame
    has it.

    Parameters
    ----------
    seg : mapping
        The ``[segmentation]`` table (``random_state``).
    selection : segml.cluster.SelectKResult
        A sweep whose recommendation has k >= 2.
    frame : pandas.DataFrame
        The clustered customers' raw feature rows.
    preprocessor : transformer
        The preprocessor of the model matrix the sweep saw (fitted or not; it is cloned).
    progress : callable, optional
        Receives one message.
    **overrides
        :class:`~segml.cluster.Segmenter` parameters that win over the recommendation's
        (e.g. ``n_init``).

    Returns
    -------
    segml.cluster.Segmenter
        Fitted on ``frame``.
    """
    from segml.cluster.segmenter import Segmenter

    rec = selection.recommended
    progress(f"fitting {rec['algorithm']} with k={rec['k']}")
    params = dict(rec.get("params") or {})
    params.update(algorithm=rec["algorithm"], n_clusters=rec["k"],
                  random_state=seg["random_state"])
    if rec["algorithm"] == "gmm":
        params["covariance_type"] = rec["covariance_type"]
    params.setdefault("fit_sample_size", selection.settings.get("fit_sample_size"))
    params.setdefault("dtype", (selection.settings.get("dtype") or {}).get(
        rec["algorithm"], "float64"))
    params.pop("preprocessor", None)
    if "monetary" in frame.columns:
        params.setdefault("order_by", "monetary")
    params.update(overrides)
    return Segmenter(preprocessor=clone(preprocessor), **params).fit(frame)

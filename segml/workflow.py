"""The main job in a few calls: transactions to named segments, compared, plotted, saved.

``import segml`` is enough::

    tx, customers = segml.demo_data(random_state=0)
    seg = segml.segment(tx, customers, as_of="2024-12-31", random_state=0)
    seg.summary()                      # one row per named segment
    path = seg.save("models/demo")     # a versioned, hash-checked model folder
    scores = segml.score(segml.load_model(path), tx, customers, as_of="2024-12-31").frame

:func:`segment` runs the same analysis as ``segml run`` (:func:`segml.pipeline.analyse`:
features as of a date, choice of k, fit, validation, profiles and names, rule segments and
their comparison with the clusters) on data frames instead of a config file, and returns a
:class:`Segmentation`: the results, the fitted model, and ``plot_*`` methods that call
:mod:`segml.plotting` with the right result object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from segml.errors import ConfigError
from segml.pipeline import (
    LoadedData,
    RunResult,
    analyse,
    check_run_config,
    run_model,
    segments_table,
    stage_checked,
    summary_table,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from segml.model import SegmentModel
    from segml.rules import ComparisonResult

__all__ = ["Segmentation", "demo_data", "segment"]

#: Rule sets compared with the clusters by default (every built-in one).
DEFAULT_RULE_SETS = ("rfm_groups", "abc", "portfolio_roles", "lifecycle")


def demo_data(n_customers: int = 2000, *, n_segments: int = 5,
              random_state: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the synthetic demo portfolio: transactions and customers, ending 2024-12-31.

    Parameters
    ----------
    n_customers : int, default 2000
        Customers to generate (about 12% are prospects without a purchase).
    n_segments : int, default 5
        Planted behaviour segments.
    random_state : int, default 0
        Seed: the same seed gives the same tables.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``transactions`` and ``customers`` in segml's canonical columns (see
        docs/CONTRACTS.md); :func:`segml.datasets.make_portfolio` also gives the planted
        segments.

    Examples
    --------
    >>> tx, customers = demo_data(200, random_state=0)
    >>> sorted({"customer_id", "timestamp", "amount"} - set(tx.columns))
    []
    """
    from segml.datasets import make_portfolio

    pf = make_portfolio(n_customers, n_segments=n_segments, random_state=random_state)
    return pf.transactions, pf.customers


def segment(
    transactions: pd.DataFrame | None,
    customers: pd.DataFrame | None = None,
    *,
    as_of: Any,
    k: int | None = None,
    k_range: tuple[int, int] = (1, 10),
    algorithms: Sequence[str] = ("kmeans", "gmm"),
    rule_sets: Sequence[str] = DEFAULT_RULE_SETS,
    mapping: dict[str, str] | None = None,
    customer_mapping: dict[str, str] | None = None,
    n_stability: int = 10,
    no_segments: str = "rfm_groups",
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Segmentation:
    """Segment customers: features as of a date, choose k, fit, validate, name, compare.

    The same analysis as ``segml run`` (:func:`segml.pipeline.analyse`), on data frames:
    the tables are validated (:func:`segml.schema.validate_transactions` /
    ``validate_customers``), features are built with only the rows on or before
    ``as_of``, prospects (no purchase yet) are left out of the clustering, k is chosen by
    the gap statistic with reproducibility filters (which can answer "no clear segments"),
    and the segments are profiled, named and compared with the rule
    segments. Nothing is written to disk (see :meth:`Segmentation.save`).

    Parameters
    ----------
    transactions : pandas.DataFrame or None
        Orders or payments: ``customer_id``, ``timestamp``, ``amount`` at least (your own
        names through ``mapping``). None segments on customer attributes only.
    customers : pandas.DataFrame, optional
        One row per customer (``customer_id`` and any attributes).
    as_of : str or timestamp
        Feature date (``"YYYY-MM-DD"``, inclusive). Required: segml never takes the last
        date in the data. (``[features] as_of`` / ``--as-of`` of ``segml run``.)
    k : int, optional
        Fix the number of segments instead of choosing it in ``k_range`` (``--k``).
    k_range : (int, int), default (1, 10)
        Smallest and largest k tried (``[segmentation] k_min``/``k_max``); with 1 in the
        range the answer can be "no clear segments" (see :func:`segml.cluster.select_k`).
    algorithms : sequence of {"kmeans", "gmm"}, default ("kmeans", "gmm")
        Algorithms compared (``[segmentation] algorithms``).
    rule_sets : sequence of str, default every built-in rule set
        Rule segmentations compared with the clusters (``[rules] sets``); a set whose
        features the data lacks is skipped and listed in ``.skipped_rules``.
    mapping, customer_mapping : dict, optional
        Canonical name -> your column name, for transactions and customers.
    n_stability : int, default 10
        Bootstrap refits per k, for the stability filter (``[segmentation] n_stability``).
    no_segments : {"rfm_groups", "value_tiers", "stop"}, default "rfm_groups"
        What to do when the selection finds no clear segments (``[segmentation]
        no_segments``): put the customers in the RFM groups (the ``rfm_groups`` rule set on
        the training quintile scores, :class:`segml.cluster.fallback.RuleGroupSegmenter`;
        the default, chosen by backtest: bench/RESULTS.md), cut them into value tiers
        (natural breaks of ``monetary``), each labelled as such in
        ``selection.settings["partition"]``, or stop.
    random_state : int, default 0
        Seed of every random step: same input and seed give the same segments.
    progress : callable, optional
        Receives one message per step (e.g. ``print``).

    Returns
    -------
    Segmentation

    Raises
    ------
    ConfigError
        An argument out of range (the message names its config key), no ``as_of``, or too
        few customers for ``k_range``.
    SchemaError
        The tables do not meet the data contract (the message names the column and fix).
    NoClearSegmentsError
        k was not forced, k = 1 was in ``k_range``, the selection found no clear segments
        and ``no_segments="stop"`` (or the data lack what the fallback needs); the message
        says why and what to do.
    """
    from segml.config import validate_config
    from segml.schema import validate_customers, validate_transactions

    if transactions is None and customers is None:
        raise ConfigError("segment() got neither transactions nor customers. Fix: pass a "
                          "transactions table, a customers table, or both.")
    if as_of is None:
        raise ConfigError("segment() needs as_of: segml never defaults it to the last date in "
                          "the data. Fix: pass as_of=\"YYYY-MM-DD\".")
    if k is not None:
        k_range = (k, k)
    cfg = validate_config({
        "features": {"as_of": str(pd.Timestamp(as_of).date()) if not isinstance(as_of, str)
                     else as_of},
        "segmentation": {"k_min": int(k_range[0]), "k_max": int(k_range[1]),
                         "algorithms": list(algorithms), "n_stability": int(n_stability),
                         "no_segments": no_segments, "random_state": int(random_state)},
        "rules": {"sets": list(rule_sets)},
    })
    check_run_config(cfg)
    quality: dict[str, Any] = {}
    cust = tx = None
    if customers is not None:
        cust, quality["customers"] = validate_customers(customers, customer_mapping)
    if transactions is not None:
        tx, quality["transactions"] = validate_transactions(transactions, mapping,
                                                            customers=cust)
    data = LoadedData(name="data", transactions=tx, customers=cust, quality=quality)
    run = analyse(cfg, data, progress=progress or (lambda message: None))
    return Segmentation(run)


class Segmentation:
    """Named segments of one portfolio as of one date, with the model that assigns them.

    Returned by :func:`segment`; everything is in memory until :meth:`save`.

    Parameters
    ----------
    run : segml.pipeline.RunResult
        The analysis (:func:`segml.pipeline.analyse`).

    Attributes
    ----------
    run : segml.pipeline.RunResult
        Every result object: ``features``, ``selection``, ``validation``, ``profiles``,
        ``comparisons``, ``pareto``, ``projection``...
    model : segml.model.SegmentModel
        The fitted model bundle (feature state, preprocessor, segmenter, names, profiles).
    labels : pandas.Series
        ``customer_id`` -> segment id, for the customers clustered (buyers).
    names : dict of int to str
        Segment id -> name.
    skipped_rules : dict of str to list of str
        Rule sets not run, with the feature columns the data lacks.
    """

    def __init__(self, run: RunResult) -> None:
        from segml.scoring import score_features

        self.run = run
        self.model: SegmentModel = run_model(run, name="segments")
        clustered = run.features.frame.loc[run.labels.index]
        run.scores = score_features(self.model, clustered).frame

    def __repr__(self) -> str:
        rec = self.run.selection.recommended
        return (f"Segmentation({len(self.names)} segments ({rec['algorithm']}) of "
                f"{len(self.labels):,} customers as of {self.run.features.as_of.date()}; "
                f"rules compared: {', '.join(self.run.comparisons) or 'none'})")

    # ------------------------------------------------------------------ results
    @property
    def labels(self) -> pd.Series:
        """``customer_id`` -> segment id of the customers clustered."""
        return self.run.labels

    @property
    def names(self) -> dict[int, str]:
        """Segment id -> name."""
        return {int(k): str(v) for k, v in self.run.profiles.names.items()}

    @property
    def selection(self) -> Any:
        """The k sweep (:class:`segml.cluster.SelectKResult`)."""
        return self.run.selection

    @property
    def validation(self) -> Any:
        """Silhouettes, stability, separation (:class:`segml.cluster.ValidationResult`)."""
        return self.run.validation

    @property
    def profiles(self) -> Any:
        """Per-segment profiles, names, roles (:class:`segml.cluster.ProfileResult`)."""
        return self.run.profiles

    @property
    def skipped_rules(self) -> dict[str, list[str]]:
        """Rule sets not run, with the feature columns the data lacks."""
        return dict(self.run.rules_skipped)

    def summary(self) -> pd.DataFrame:
        """One row per segment: name, role, customers, share, revenue share and action.

        Returns
        -------
        pandas.DataFrame
            Indexed by segment id; ``action`` is the playbook's suggested action (whole).
        """
        return summary_table(self.run)

    def segments(self) -> pd.DataFrame:
        """Every customer's segment id, name, role, confidence and rule segments.

        Prospects (no purchase on or before ``as_of``) get segment -1, "prospect (not
        clustered)"; the columns are those of ``segments.csv`` of ``segml run``.

        Returns
        -------
        pandas.DataFrame
            One row per customer with features.
        """
        return segments_table(self.run)

    def compare_rules(self, rule_set: str = "rfm_groups") -> ComparisonResult:
        """Clusters against one rule segmentation (contingency, ARI, best matches).

        Parameters
        ----------
        rule_set : str, default "rfm_groups"
            One of the ``rule_sets`` given to :func:`segment` that ran.

        Returns
        -------
        segml.rules.ComparisonResult

        Raises
        ------
        ConfigError
            ``rule_set`` was not run (skipped for missing features, or not asked for).
        """
        comps = self.run.comparisons
        if rule_set not in comps:
            why = (f"it was skipped: the data lacks {', '.join(self.run.rules_skipped[rule_set])}"
                   if rule_set in self.run.rules_skipped else "it was not asked for")
            raise ConfigError(
                f"compare_rules: no comparison with rule set {rule_set!r}: {why}. Fix: use one "
                f"of {sorted(comps)}, or pass rule_sets=[..., {rule_set!r}] to segment()."
            )
        return comps[rule_set]

    # ------------------------------------------------------------------ plots
    def plot_k_selection(self, axes: Any = None) -> Any:
        """Draw the k sweep (:func:`segml.plotting.plot_k_selection`); return its 6 Axes."""
        from segml.plotting import plot_k_selection

        return plot_k_selection(self.run.selection, axes)

    def plot_profiles(self, ax: Axes | None = None, *, value: str = "zscores",
                      features: Sequence[str] | None = None) -> Axes:
        """Draw segments x features (:func:`segml.plotting.plot_profile_heatmap`)."""
        from segml.plotting import plot_profile_heatmap

        return plot_profile_heatmap(self.run.profiles, ax, value=value, features=features)

    def plot_silhouette(self, ax: Axes | None = None) -> Axes:
        """Draw each segment's silhouettes (:func:`segml.plotting.plot_silhouette`)."""
        from segml.plotting import plot_silhouette

        return plot_silhouette(self.run.validation, ax, labels=self.run.labels.to_numpy(),
                               names=self.names)

    def plot_projection(self, ax: Axes | None = None) -> Axes:
        """Draw customers on two principal components (:func:`segml.plotting.plot_projection`)."""
        from segml.plotting import plot_projection

        return plot_projection(self.run.projection, ax, names=self.names)

    def plot_shares(self, ax: Axes | None = None) -> Axes:
        """Draw customer and revenue shares (:func:`segml.plotting.plot_segment_shares`)."""
        from segml.plotting import plot_segment_shares
        from segml.projection import segment_shares

        frame = self.run.features.frame
        revenue = frame["monetary"] if "monetary" in frame.columns else None
        return plot_segment_shares(segment_shares(self.run.labels, revenue, names=self.names),
                                   ax)

    def plot_comparison(self, rule_set: str = "rfm_groups", ax: Axes | None = None, *,
                        value: str = "row_shares") -> Axes:
        """Draw clusters vs one rule set (:func:`segml.plotting.plot_comparison`)."""
        from segml.plotting import plot_comparison

        return plot_comparison(self.compare_rules(rule_set), ax, value=value, names=self.names)

    def plot_pareto(self, ax: Axes | None = None) -> Axes:
        """Draw revenue concentration (:func:`segml.plotting.plot_pareto`).

        Raises
        ------
        ConfigError
            The data has no revenue (``monetary``): a customers-only segmentation.
        """
        from segml.plotting import plot_pareto

        if self.run.pareto is None:
            raise ConfigError("plot_pareto: this segmentation has no revenue (no monetary "
                              "feature). Fix: pass a transactions table to segment().")
        return plot_pareto(self.run.pareto, ax)

    # ------------------------------------------------------------------ report
    def report(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the HTML report of ``segml run`` (one self-contained page) to ``path``.

        Parameters
        ----------
        path : path-like
            The ``.html`` file to write (atomically).
        overwrite : bool, default False
            Replace an existing file.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        OutputExistsError
            ``path`` exists and ``overwrite`` is false.
        """
        from segml._atomic import check_writable, write_text
        from segml.report import render_report

        check_writable(path, overwrite=overwrite)  # before drawing every figure
        return write_text(path, render_report(self.run), overwrite=overwrite)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = False, format: str = "joblib",
             key: bytes | None = None) -> Path:
        """Save the model (:func:`segml.persistence.save_model`) and check the round trip.

        The saved model is loaded back and must give every clustered customer its
        segment; no customer rows are stored.

        Parameters
        ----------
        path : path-like
            Model name's path, e.g. ``"models/demo"``: a new version ``models/demo@v<N>``
            is written and ``models/demo`` points to it.
        overwrite : bool, default False
            Replace an existing model (the previous one stays as its version).
        format : {"joblib", "skops"}, default "joblib"
            File format; ``"skops"`` loads without running arbitrary code.
        key : bytes, optional
            Sign the manifest (HMAC-SHA256); loading then needs the key.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        OutputExistsError
            ``path`` exists and ``overwrite`` is false.
        RuntimeError
            The reloaded model does not give back the training segments.
        """
        from segml.persistence import check_model_target

        target = Path(path)
        check_model_target(target, overwrite=overwrite)  # before any work
        staged, _, _ = stage_checked(replace(self.model, name=target.name), self.run, target,
                                     key=key, format=format)
        try:
            return staged.publish(overwrite=overwrite)
        finally:
            staged.discard()

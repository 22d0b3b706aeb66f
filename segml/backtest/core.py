"""Backtest segmentations on history: refit or freeze at each cutoff, judge the next window.

:func:`backtest` runs every segmenter (and predictor) on exactly the same customers and
windows, and returns one :class:`BacktestResult`: stability between consecutive cutoffs,
migration matrices, predictive validity with bootstrap intervals, a per-cutoff table and a
verdict in words. Plots are in :mod:`segml.backtest.plot`, the HTML page in
:mod:`segml.backtest.report`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from segml.backtest.crossfit import check_n_folds, make_folds
from segml.backtest.metrics import (
    SEGMENT_METRICS,
    Groups,
    predictor_metrics,
    score_bins,
    segment_metrics,
)
from segml.backtest.migration import migration_matrix
from segml.backtest.segmenters import (
    ClusterModel,
    CutoffFit,
    _check_predictors,
    fit_at,
    no_rows_error,
    resolve_segmenters,
)
from segml.backtest.windows import History, make_cutoffs, parse_horizon
from segml.errors import ConfigError

__all__ = ["backtest", "BacktestResult", "VERDICT_METRICS"]

#: Metrics the verdict compares: out of sample (cross-fitted), so comparable between
#: segmenters of any number of segments and predictors (eta2 is descriptive and not compared).
VERDICT_METRICS = ("r2_revenue", "r2_log_revenue", "auc_bought_again", "capture_top10",
                   "spearman_revenue")


@dataclass
class BacktestResult:
    """Everything a backtest measured; tables are long-format pandas frames.

    Attributes
    ----------
    cutoffs : list of pandas.Timestamp
    horizon : pandas.DateOffset
    mode : {"refit", "frozen"}
    segmenters, predictors : list of str
        Names, baselines (``none``, ``recency_deciles``) included in ``segmenters``.
    assignments : dict of str to pandas.DataFrame
        Per segmenter: customers (rows) x cutoffs (columns), the segment label (NaN where a
        customer had not bought yet).
    outcomes : dict of pandas.Timestamp to pandas.DataFrame
        Per cutoff: ``revenue``, ``orders``, ``bought_again``, ``churned`` per customer.
    validity : pandas.DataFrame
        ``cutoff, name, kind, metric, value, lo, hi`` (bootstrap percentile interval). Every
        segmenter and predictor gets every metric of
        :data:`segml.backtest.metrics.SEGMENT_METRICS`, out of sample (cross-fitted over
        ``n_folds`` folds of customers) except the descriptive ``eta2_*``.
    overall : pandas.DataFrame
        ``name, kind, metric, value, lo, hi``: the mean over cutoffs.
    comparisons : pandas.DataFrame
        Per verdict metric: ``winner``, ``runner_up``, ``difference`` (mean over cutoffs),
        its paired-bootstrap ``lo``/``hi`` and ``real`` (interval excludes 0).
    segments : pandas.DataFrame
        Per cutoff, segmenter and segment: ``n``, ``share``, ``bought_again_rate``,
        ``churn_rate``, ``mean_revenue``, ``revenue_share``.
    stability : pandas.DataFrame
        Per segmenter and consecutive cutoff pair: ``n_common``, ``ari``, ``psi`` and
        ``centroid_drift`` (cluster models). For a refitted cluster model the PSI compares
        segment shares after matching each new cluster to the old one it shares most
        customers with (a refit numbers its clusters afresh); the drift is the mean distance
        between matched centres in the earlier model's space, in units of its median
        customer-to-centre distance. ``k_from``/``k_to``: the number of segments at each
        of the two cutoffs (ARI is only comparable between segmenters of similar k).
    verdict : str
    notes : list of str
        Counts of what was left out (customers without a segment, cutoffs not generated).
    timings : dict of str to float
    settings : dict
    """

    cutoffs: list[pd.Timestamp]
    horizon: pd.DateOffset
    mode: str
    segmenters: list[str]
    predictors: list[str]
    assignments: dict[str, pd.DataFrame]
    outcomes: dict[pd.Timestamp, pd.DataFrame]
    validity: pd.DataFrame
    overall: pd.DataFrame
    comparisons: pd.DataFrame
    segments: pd.DataFrame
    stability: pd.DataFrame
    verdict: str
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def migration(self, segmenter: str, step: int = 0, *,
                  normalize: str | None = None) -> pd.DataFrame:
        """Migration matrix of ``segmenter`` from cutoff ``step`` to ``step + 1``.

        Parameters
        ----------
        segmenter : str
        step : int, default 0
            Index of the earlier cutoff.
        normalize : {"index", None}
            Row shares or counts (see :func:`segml.backtest.migration_matrix`).

        Returns
        -------
        pandas.DataFrame
        """
        if segmenter not in self.assignments:
            raise ConfigError(f"no segmenter {segmenter!r} in this backtest; it has "
                              f"{', '.join(self.assignments)}.")
        if not 0 <= step < len(self.cutoffs) - 1:
            raise ConfigError(f"step={step} needs a next cutoff; use 0..{len(self.cutoffs) - 2}.")
        a = self.assignments[segmenter]
        before, after = a.iloc[:, step].dropna(), a.iloc[:, step + 1].dropna()
        return migration_matrix(before, after, normalize=normalize)

    def table(self, metric_set: str = "overall") -> pd.DataFrame:
        """Wide table, one row per name: ``value [lo, hi]`` per metric.

        Parameters
        ----------
        metric_set : {"overall", "per_cutoff"}

        Returns
        -------
        pandas.DataFrame
        """
        src = self.overall if metric_set == "overall" else self.validity
        keys = ["name"] if metric_set == "overall" else ["cutoff", "name"]
        cell = src.assign(cell=[_cell(v, lo, hi) for v, lo, hi
                                in zip(src["value"], src["lo"], src["hi"], strict=True)])
        out = cell.pivot_table(index=keys, columns="metric", values="cell", aggfunc="first",
                               sort=False)
        cols = [m for m in SEGMENT_METRICS if m in out.columns]
        return out[cols].fillna("")

    @property
    def n_segments(self) -> pd.DataFrame:
        """Number of segments (k) per segmenter (rows) and cutoff (columns)."""
        return pd.DataFrame({name: a.nunique() for name, a in self.assignments.items()}).T

    def summary(self) -> str:
        """Return the verdict with the overall and stability tables, as the CLI prints it."""
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            k = self.n_segments
            k_text = pd.Series([f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi
                                in zip(k.min(axis=1), k.max(axis=1), strict=True)],
                               index=k.index, name="k")
            stab = k_text.to_frame().join(self.stability.groupby("segmenter", sort=False)[
                ["ari", "psi", "centroid_drift"]].mean().round(3))
            parts = [
                f"backtest: {len(self.cutoffs)} cutoffs "
                f"({', '.join(str(c.date()) for c in self.cutoffs)}), horizon "
                f"{_offset_text(self.horizon)}, mode {self.mode}, "
                f"{self.settings.get('n_boot')} bootstrap resamples",
                "",
                "predictive validity (mean over cutoffs, 95% bootstrap interval; "
                + (f"out of sample: segment values cross-fitted over {self.settings['n_folds']} "
                   "folds of customers, eta2 in sample):"
                   if self.settings.get("n_folds", 1) > 1 else "IN SAMPLE, n_folds=1):"),
                self.table("overall").to_string(),
                "",
                "stability between consecutive cutoffs (mean over pairs; k: segments per "
                "cutoff, min-max):",
                stab.to_string(),
                "",
                "verdict:",
                self.verdict,
            ]
            if self.notes:
                parts += ["", "notes:", *(f"- {n}" for n in self.notes)]
        return "\n".join(parts)


def _cell(v: float, lo: float, hi: float) -> str:
    if pd.isna(v):
        return ""
    if pd.isna(lo):
        return f"{v:.3f}"
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def _offset_text(off: pd.DateOffset) -> str:
    kw = off.kwds
    return ", ".join(f"{v} {k}" for k, v in kw.items()) or str(off)


def backtest(
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    cutoffs: Any,
    horizon: Any,
    segmenters: Any = ("clusters", "rfm_groups", "abc"),
    predictors: Any = None,
    mode: str = "refit",
    n_boot: int = 200,
    start: Any = None,
    end: Any = None,
    feature_spec: Any = None,
    random_state: int = 0,
    progress: Any = None,
    n_folds: int = 5,
    engine: str = "pandas",
    spark: Any = None,
) -> BacktestResult:
    """Test segmentations on history: segment as of each cutoff, judge the window after.

    For each cutoff ``T``: features as of ``T`` (rows up to ``T`` only), every segmenter
    refitted at ``T`` (``mode="refit"``) or the one fitted at the first cutoff applied
    (``"frozen"``); then what the buyers of ``T`` did in ``(T, T + horizon]``. All
    segmenters and predictors are judged on the same customers and windows, with the same
    bootstrap resamples (so their differences get paired intervals).

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``; ``order_id``
        optional).
    customers : pandas.DataFrame, optional
        Canonical customers table (attributes; prospects are not judged: they have no
        history to segment on).
    cutoffs : {"monthly", "quarterly"} or sequence of date-like
        Month/quarter ends between ``start`` and ``end`` (default: the data's first day and
        the last day whose window fits), or explicit dates.
    horizon : int, str or pandas.DateOffset
        Outcome window length: days (``90``) or ``"3M"``, ``"13W"``, ... (see
        :func:`segml.backtest.windows.parse_horizon`).
    segmenters : sequence or mapping, default ("clusters", "rfm_groups", "abc")
        See :func:`segml.backtest.segmenters.resolve_segmenters`; the baselines ``none``
        and ``recency_deciles`` are always added.
    predictors : sequence or mapping of Predictor, optional
        Continuous scores (``fit(transactions, customers, as_of)`` /
        ``predict(transactions, customers, as_of) -> Series``), judged on the same metrics
        (ranking by the score; R², η² and top segment on its deciles).
    mode : {"refit", "frozen"}, default "refit"
    n_boot : int, default 200
        Bootstrap resamples of the customers per cutoff (0: no intervals).
    start, end : date-like, optional
        Limits for a calendar rule.
    feature_spec : FeatureSpec, optional
        Spec of the feature builder.
    random_state : int, default 0
        Seed of the cluster models and the resamples: same input and seed, same result.
    progress : callable, optional
        Receives one message per cutoff (e.g. ``print``).
    n_folds : int, default 5
        Folds of customers (per cutoff, seeded by ``random_state``) for the out-of-sample
        metrics: each customer is scored by its segment's rate/mean on the other folds
        (see :mod:`segml.backtest.metrics`). 1: in sample (optimistic; it favours many
        small segments).
    engine : {"pandas", "spark"}, default "pandas"
        Where each cutoff's features are built. ``"spark"``: with
        :func:`segml.spark.features.spark_feature_frame` on ``spark`` (the transactions are
        shipped once and cached; :mod:`segml.spark.backtest`); only the columns built on
        Spark exist, so with no ``feature_spec`` the clusters use the default spec of those
        (a note says so). Segmenters, outcomes and bootstrap stay on the driver.
    spark : pyspark.sql.SparkSession, optional
        The session for ``engine="spark"`` (e.g. ``segml.spark.get_session("local[2]")``).

    Returns
    -------
    BacktestResult

    Raises
    ------
    ConfigError
        For an unknown mode, segmenter or rule, a window past the data, a cutoff without
        customers, or ``n_boot < 0``.
    SchemaError
        When the transactions lack the canonical columns.

    Examples
    --------
    >>> from segml.datasets import make_portfolio
    >>> pf = make_portfolio(300, random_state=0)
    >>> res = backtest(pf.transactions, pf.customers, cutoffs=["2023-06-30", "2023-12-31"],
    ...                horizon="6M", segmenters=["rfm_groups"], n_boot=20)
    >>> sorted(res.assignments)
    ['none', 'recency_deciles', 'rfm_groups']
    """
    if mode not in ("refit", "frozen"):
        raise ConfigError(f"mode={mode!r} should be 'refit' or 'frozen'. Fix: pass mode='refit' "
                          "(refit at every cutoff) or 'frozen' (CLI: --mode frozen).")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ConfigError(f"n_boot={n_boot!r} should be a non-negative integer. Fix: e.g. "
                          "n_boot=200 (CLI: --n-boot 200).")
    n_folds = check_n_folds(n_folds)
    if engine not in ("pandas", "spark"):
        raise ConfigError(f"engine={engine!r} should be 'pandas' or 'spark'. Fix: pass "
                          "backtest(engine='pandas') (default) or engine='spark' with spark=.")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    hist = History(transactions)
    offset = parse_horizon(horizon)
    notes: list[str] = []
    dates = make_cutoffs(cutoffs, first=hist.first, last=hist.last, start=start, end=end)
    if isinstance(cutoffs, str) and end is None:
        fits_in = [c for c in dates if (c + offset).normalize() <= hist.last]
        if len(fits_in) < len(dates):
            notes.append(f"{len(dates) - len(fits_in)} {cutoffs} cutoff(s) after "
                         f"{fits_in[-1].date() if fits_in else hist.first.date()} left out: "
                         "their outcome window runs past the data")
        if not fits_in:
            raise ConfigError(
                f"no {cutoffs} cutoff has a full {_offset_text(offset)} outcome window before "
                f"the last transaction day {hist.last.date()}. Fix: shorten the horizon "
                "(CLI: --horizon) or pass explicit dates."
            )
        dates = fits_in
    ends = [hist.check_window(c, offset) for c in dates]
    templates = resolve_segmenters(segmenters, random_state=random_state)
    preds = _check_predictors(predictors)
    builders = None
    if engine == "spark":  # pyspark is imported only here
        from segml.spark.backtest import spark_builder_factory

        builders = spark_builder_factory(spark, transactions, customers)
        notes.append("features built on Spark (spark_feature_frame) at every cutoff"
                     + ("" if feature_spec is not None else "; the clusters use the default "
                        "spec of the Spark-built columns (no customer attributes, CLV or "
                        "forward value: docs/SPARK.md)"))
    timings["prepare"] = time.perf_counter() - t0

    fits: list[CutoffFit] = []
    outcomes: dict[pd.Timestamp, pd.DataFrame] = {}
    stab_rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for c, e in zip(dates, ends, strict=True):
        if progress is not None:
            progress(f"cutoff {c.date()}: features, {mode} {', '.join(templates)}")
        frozen = fits[0] if (mode == "frozen" and fits) else None
        rows = hist.rows_as_of(c)
        if not rows.height:  # the prefix is empty: name the first transaction day
            raise no_rows_error(c, hist.first)
        fit = fit_at(rows, customers, c, segmenters=templates, predictors=preds,
                     frozen=frozen, feature_spec=feature_spec,
                     predictor_transactions=hist.as_of(c) if preds else None,
                     feature_builder=builders)
        fit.features = None  # the frame with prospects: not needed past fit_at (peak memory)
        notes += [f"{name} at {c.date()}: no clear segments, so "
                  + (f"{model.k_} value tiers of monetary" if model.partition_ == "value_tiers"
                     else f"the {model.k_} RFM groups (rules)")
                  + " (what segml run gives), not clusters"
                  for name, model in fit.models.items()
                  if getattr(model, "partition_", None) in ("value_tiers", "rfm_groups")
                  and frozen is None]
        outcomes[c] = hist.outcomes(c, e, offset, fit.frame.index)
        if fits:  # stability with the previous cutoff, then drop its feature frames
            stab_rows += _stability_pair(fits[-1], fit, templates)
            _slim(fits[-1])
        fits.append(fit)
    if builders is not None:
        builders.unpersist()
    timings["fit"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rng = np.random.default_rng(random_state)
    validity, boots = _validity(fits, outcomes, templates, preds, n_boot, rng, n_folds)
    overall, comparisons = _overall(validity, boots, list(templates), list(preds))
    timings["validity"] = time.perf_counter() - t0
    stability = pd.DataFrame(stab_rows, columns=_STAB_COLS)
    assignments = {
        name: pd.concat({f.as_of: f.labels[name] for f in fits}, axis=1).sort_index()
        for name in templates
    }
    notes.append(
        "customers judged per cutoff (buyers as of it): "
        + ", ".join(f"{c.date()}: {len(o):,}" for c, o in outcomes.items())
    )
    res = BacktestResult(
        cutoffs=dates, horizon=offset, mode=mode, segmenters=list(templates),
        predictors=list(preds), assignments=assignments, outcomes=outcomes, validity=validity,
        overall=overall, comparisons=comparisons, segments=_segments(fits, outcomes, templates),
        stability=stability, verdict="", notes=notes, timings=timings,
        settings={"n_boot": int(n_boot), "random_state": random_state,
                  "horizon": _offset_text(offset), "mode": mode, "n_folds": n_folds},
    )
    res.verdict = _verdict(comparisons, overall, n_boot, n_folds)
    return res


def _slim(fit: CutoffFit) -> CutoffFit:
    """Drop a cutoff's feature frames once its stability pair is computed (labels stay)."""
    fit.features = None
    fit.frame = None
    return fit


def _codes(labels: pd.Series) -> tuple[np.ndarray, list[str]]:
    codes, uniq = pd.factorize(labels, sort=True)
    return codes.astype("int64"), [str(u) for u in uniq]


def _validity(fits: list[CutoffFit], outcomes: Mapping[pd.Timestamp, pd.DataFrame],
              templates: Mapping[str, Any], preds: Mapping[str, Any], n_boot: int,
              rng: np.random.Generator,
              n_folds: int = 5) -> tuple[pd.DataFrame, dict[Any, np.ndarray]]:
    rows = []
    boots: dict[Any, np.ndarray] = {}
    for fit in fits:
        out = outcomes[fit.as_of]
        folds = make_folds(len(out), n_folds, random_state=rng)  # same folds for everyone
        grp = Groups(out["revenue"].to_numpy(), out["bought_again"].to_numpy(), folds)
        coded = {n: _codes(fit.labels[n]) for n in templates}
        scores = {n: fit.scores[n].to_numpy() for n in preds}
        bins = {n: score_bins(s) for n, s in scores.items()}
        point = {n: segment_metrics(c, len(u), grp) for n, (c, u) in coded.items()}
        point.update({n: predictor_metrics(s, bins[n], grp) for n, s in scores.items()})
        reps: dict[str, list[dict[str, float]]] = {n: [] for n in point}
        for _ in range(n_boot):
            w = np.bincount(rng.integers(0, grp.n, grp.n), minlength=grp.n).astype("float64")
            for n, (c, u) in coded.items():
                reps[n].append(segment_metrics(c, len(u), grp, w))
            for n, s in scores.items():
                reps[n].append(predictor_metrics(s, bins[n], grp, w))
        for name, m in point.items():
            kind = "segmenter" if name in templates else "predictor"
            for metric, v in m.items():
                arr = np.array([r[metric] for r in reps[name]], dtype="float64")
                boots[(fit.as_of, name, metric)] = arr
                lo, hi = (np.nanpercentile(arr, [2.5, 97.5]) if n_boot and np.isfinite(arr).any()
                          else (np.nan, np.nan))
                rows.append({"cutoff": fit.as_of, "name": name, "kind": kind, "metric": metric,
                             "value": v, "lo": lo, "hi": hi})
    return pd.DataFrame(rows), boots


def _overall(validity: pd.DataFrame, boots: Mapping[Any, np.ndarray], seg_names: list[str],
             pred_names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    cutoffs = list(dict.fromkeys(validity["cutoff"]))
    rows = []
    mean_boot: dict[tuple[str, str], np.ndarray] = {}
    for name in [*seg_names, *pred_names]:
        kind = "segmenter" if name in seg_names else "predictor"
        for metric in SEGMENT_METRICS:
            sel = validity[(validity["name"] == name) & (validity["metric"] == metric)]
            value = float(sel["value"].mean())
            stack = np.vstack([boots[(c, name, metric)] for c in cutoffs])
            mb = stack.mean(axis=0) if stack.shape[1] else np.array([])
            mean_boot[(name, metric)] = mb
            lo, hi = (np.nanpercentile(mb, [2.5, 97.5]) if mb.size and np.isfinite(mb).any()
                      else (np.nan, np.nan))
            rows.append({"name": name, "kind": kind, "metric": metric, "value": value,
                         "lo": lo, "hi": hi})
    overall = pd.DataFrame(rows)
    comp = []
    for metric in VERDICT_METRICS:
        sub = overall[(overall["metric"] == metric) & overall["value"].notna()]
        sub = sub.sort_values("value", ascending=False, kind="stable")
        if len(sub) < 2:
            continue
        a, b = sub.iloc[0], sub.iloc[1]
        diff = mean_boot[(a["name"], metric)] - mean_boot[(b["name"], metric)]
        lo, hi = (np.nanpercentile(diff, [2.5, 97.5]) if diff.size and np.isfinite(diff).any()
                  else (np.nan, np.nan))
        comp.append({"metric": metric, "winner": a["name"], "winner_value": a["value"],
                     "runner_up": b["name"], "runner_up_value": b["value"],
                     "difference": a["value"] - b["value"], "lo": lo, "hi": hi,
                     "real": bool(lo > 0) if np.isfinite(lo) else None})
    return overall, pd.DataFrame(comp)


_METRIC_WORDS = {
    "r2_revenue": "revenue variance explained out of sample (R2)",
    "r2_log_revenue": "log-revenue variance explained out of sample (R2)",
    "auc_bought_again": "ranking who buys again (AUC)",
    "capture_top10": "revenue captured by the top 10%",
    "spearman_revenue": "rank correlation with revenue (Spearman)",
}


def _verdict(comp: pd.DataFrame, overall: pd.DataFrame, n_boot: int, n_folds: int = 5) -> str:
    if comp.empty:
        return "nothing to compare: fewer than two segmenters with a value."
    how = (f"All compared metrics are out of sample: each customer is ranked by its segment's "
           f"rate/mean estimated on the other {n_folds - 1} of {n_folds} folds of customers "
           "(predictors: by their score; R2 on its deciles)." if n_folds > 1 else
           "All compared metrics are IN SAMPLE (n_folds=1): each segment's rate is measured "
           "on the customers it is judged on, which favours many small segments.")
    lines = []
    for r in comp.itertuples():
        if r.real is None:
            call = "no interval (n_boot=0)"
        elif r.real:
            call = f"a real difference (paired 95% interval {r.lo:+.3f} to {r.hi:+.3f})"
        elif r.hi < 0:  # the resamples favour the runner-up: no win either way
            call = (f"not a real difference: the paired 95% interval {r.lo:+.3f} to "
                    f"{r.hi:+.3f} lies below 0 (the runner-up is ahead in the resamples)")
        else:
            call = (f"not a real difference: the paired 95% interval {r.lo:+.3f} to "
                    f"{r.hi:+.3f} includes 0")
        by = f"{r.difference:+.3f}" if abs(r.difference) >= 5e-4 else f"{r.difference:+.1e}"
        lines.append(f"- {_METRIC_WORDS[r.metric]}: {r.winner} wins with {r.winner_value:.3f}, "
                     f"ahead of {r.runner_up} ({r.runner_up_value:.3f}) by {by}; {call}.")
    wins = comp["winner"].value_counts()
    head = (f"{wins.index[0]} wins {wins.iloc[0]} of {len(comp)} metrics"
            + (f", {', '.join(f'{n} {k}' for n, k in wins.iloc[1:].items())}"
               if len(wins) > 1 else ""))
    base = overall[(overall["name"] == "recency_deciles") & (overall["metric"] == "auc_bought_"
                                                              "again")]["value"]
    tail = ""
    if len(base):
        beat = overall[(overall["metric"] == "auc_bought_again")
                       & (overall["value"] > float(base.iloc[0]))
                       & ~overall["name"].isin(["recency_deciles", "none"])]["name"].tolist()
        tail = ("\nBeating the recency-deciles baseline on who buys again: "
                + (", ".join(beat) if beat else "nobody") + ".")
    return f"{head}.\n" + "\n".join(lines) + tail + "\n" + how


def _segments(fits: list[CutoffFit], outcomes: Mapping[pd.Timestamp, pd.DataFrame],
              templates: Mapping[str, Any]) -> pd.DataFrame:
    parts = []
    for fit in fits:
        out = outcomes[fit.as_of]
        total = out["revenue"].sum()
        for name in templates:
            g = out.groupby(fit.labels[name].to_numpy(), sort=True)
            t = pd.DataFrame({
                "n": g.size(), "bought_again_rate": g["bought_again"].mean(),
                "churn_rate": g["churned"].mean(), "mean_revenue": g["revenue"].mean(),
                "revenue": g["revenue"].sum()})
            t["share"] = t["n"] / len(out)
            t["revenue_share"] = t["revenue"] / total if total else np.nan
            t.index.name = "segment"
            parts.append(t.reset_index().assign(cutoff=fit.as_of, segmenter=name))
    cols = ["cutoff", "segmenter", "segment", "n", "share", "bought_again_rate", "churn_rate",
            "mean_revenue", "revenue_share"]
    return pd.concat(parts, ignore_index=True)[cols]


def _shares(labels: pd.Series, levels: list[str]) -> np.ndarray:
    return labels.value_counts(normalize=True).reindex(levels, fill_value=0.0).to_numpy()


def _drift(a: CutoffFit, b: CutoffFit, name: str) -> float:
    """Mean distance of matched centres, in units of the earlier model's median distance."""
    from scipy.optimize import linear_sum_assignment

    ma = a.models[name]
    Zb = ma.embed(b.frame)
    lab = b.labels[name].to_numpy()
    cb = np.vstack([Zb[lab == s].mean(axis=0) for s in np.unique(lab)])
    ca = ma.centers
    d = np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2)
    r, c = linear_sum_assignment(d)
    scale = ma.segmenter_.train_distance_quantiles_.get("p50") or 1.0
    return float(d[r, c].mean() / scale)


def _matched(before: pd.Series, after: pd.Series) -> pd.Series:
    """Rename ``after``'s clusters to the ``before`` cluster they share most customers with."""
    from scipy.optimize import linear_sum_assignment

    ct = pd.crosstab(after.loc[before.index], before)
    r, c = linear_sum_assignment(-ct.to_numpy())
    names = dict(zip(ct.index[r], ct.columns[c], strict=True))
    extra = [s for s in sorted(set(after)) if s not in names]  # unmatched clusters
    names.update({s: f"new{i}" for i, s in enumerate(extra)})
    return after.map(names)


_STAB_COLS = ["segmenter", "from", "to", "n_common", "ari", "psi", "centroid_drift", "k_from",
              "k_to"]


def _stability_pair(a: CutoffFit, b: CutoffFit, templates: Mapping[str, Any]) -> list[dict]:
    """Stability of every segmenter between two consecutive cutoffs."""
    from segml.monitoring import psi

    rows = []
    for name in templates:
        la, lb = a.labels[name], b.labels[name]
        common = la.index.intersection(lb.index)
        cluster = isinstance(a.models[name], ClusterModel)
        if cluster and b.models[name] is not a.models[name]:
            lb = _matched(la.loc[common], lb)  # a refit numbers its clusters afresh
        levels = sorted(set(la) | set(lb))
        # rule groups have no centres to drift (their indicator "centres" are fixed)
        rules = getattr(a.models[name], "partition_", None) == "rfm_groups"
        drift = _drift(a, b, name) if cluster and not rules else np.nan
        rows.append({
            "segmenter": name, "from": a.as_of, "to": b.as_of, "n_common": len(common),
            "ari": float(adjusted_rand_score(la.loc[common], lb.loc[common]))
            if len(common) else np.nan,
            "psi": psi(_shares(la, levels), _shares(lb, levels)),
            "centroid_drift": drift, "k_from": la.nunique(), "k_to": lb.nunique(),
        })
    return rows

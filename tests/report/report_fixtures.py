"""Runs for the report tests: a tiny hand-built one (fast, exact) and a real one (demo data).

A plain module (not conftest.py) so test files can import ``tiny_run`` by a unique name."""

from __future__ import annotations

import warnings
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from segml.cluster.profiles import ProfileResult
from segml.cluster.select_k import SelectKResult
from segml.cluster.validation import ValidationResult
from segml.features.scores import pareto
from segml.pipeline import RunResult
from segml.rules.compare import compare_segmentations
from segml.schema import DataQualityReport

IDS = [f"C{i:03d}" for i in range(8)]


def tiny_run(**changes) -> RunResult:
    """Eight customers, two segments, every piece of a run built by hand."""
    labels = pd.Series([0, 0, 0, 1, 1, 1, 1, 0], index=pd.Index(IDS, name="customer_id"),
                       name="segment")
    frame = pd.DataFrame({
        "recency_days": [5.0, 10, 20, 200, 300, 250, 400, 15],
        "frequency": [10, 8, 12, 1, 2, 1, 1, 9],
        "monetary": [500.0, 400, 600, 20, 30, 10, 40, 400],
        "r_score": [5, 5, 4, 2, 1, 1, 1, 4],
        "f_score": [5, 4, 5, 1, 2, 1, 1, 4],
        "region": ["Lazio", "<script>alert(1)</script>", "Lazio", "Veneto", "Veneto",
                   "Sicilia", "Veneto", "Lazio"],
    }, index=labels.index)
    X = pd.DataFrame({"r": [1.0, 0.9, 0.8, -1, -1.2, -0.9, -1.1, 0.95],
                      "f": [1.0, 0.8, 1.1, -0.9, -0.8, -1.0, -1.0, 0.9],
                      "m": [1.0, 0.9, 1.2, -1.0, -0.8, -1.1, -0.9, 0.9]}, index=labels.index)
    q_tx = DataQualityReport("transactions", n_input_rows=12, n_output_rows=11,
                             excluded={"missing customer_id & <bad>": 1},
                             flagged={"negative amount (return)": 2})
    q_cu = DataQualityReport("customers", n_input_rows=8, n_output_rows=8)
    table = pd.DataFrame([
        dict(algorithm="kmeans", covariance_type=None, k=k, silhouette_sqeuclidean_full=s,
             silhouette_euclidean_sample=s - 0.05, silhouette_euclidean_sample_ci_low=s - 0.1,
             silhouette_euclidean_sample_ci_high=s, calinski_harabasz=c, davies_bouldin=d,
             inertia=i, inertia_knee=k == 2, stability_ari_mean=a, min_segment_share=m,
             too_small=m < 0.05)
        for k, s, c, d, i, a, m in [(2, 0.8, 90.0, 0.3, 2.0, 1.0, 0.5),
                                    (3, 0.5, 60.0, 0.6, 1.5, 0.8, 0.125)]
    ])
    selection = SelectKResult(table=table, recommended={"algorithm": "kmeans", "k": 2,
                                                        "covariance_type": None, "votes": 5,
                                                        "n_criteria": 6},
                              rationale="Recommended k=2 (kmeans): chosen by 5 of 6 criteria.",
                              settings={"sampling_note": "models fitted on all 8 rows"})
    validation = ValidationResult(
        per_segment=pd.DataFrame({"n": [4, 4], "silhouette": [0.8, 0.82],
                                  "separation_ratio": [3.1, 3.1]}, index=[0, 1]),
        overall={"silhouette_sqeuclidean_full": 0.81}, centroid_distances=pd.DataFrame(),
        silhouette_values=np.array([0.9, 0.8, 0.7, 0.85, 0.8, 0.75, 0.9, 0.8]))
    lift = pd.DataFrame({
        "segment": [0, 0, 0, 1, 1, 1],
        "feature": ["recency_days", "frequency", "monetary"] * 2,
        "segment_mean": [12.5, 9.75, 475.0, 287.5, 1.25, 25.0],
        "base_mean": [150.0, 5.5, 250.0] * 2,
        "ratio": [0.083, 1.77, 1.9, 1.92, 0.23, 0.1],
        "z": [-1.0, 1.0, 1.0, 1.0, -1.0, -1.0],
    })
    profiles = ProfileResult(
        table=pd.DataFrame({"n": [4, 4], "share": [0.5, 0.5], "revenue_share": [0.95, 0.05],
                            "monetary_mean": [475.0, 25.0]}, index=pd.Index([0, 1],
                                                                            name="segment")),
        lift=lift,
        top_categories=pd.DataFrame({"segment": [0], "column": ["region"],
                                     "category": ["Lazio"], "segment_share": [0.75],
                                     "base_share": [0.375], "lift": [2.0]}),
        composition=pd.DataFrame(),
        names=pd.Series(["loyal & high value", "lapsed"], index=[0, 1]),
        roles=pd.Series(["precious", "to win back"], index=[0, 1]),
        role_reasons=pd.Series(["value_index >= 1.5", "recency_days_z >= 0.5"], index=[0, 1]),
        role_rules=[],
    )
    rule = pd.Series(np.where(frame["r_score"] >= 4, "champions", "hibernating"),
                     index=labels.index)
    comparisons = {"rfm_groups": compare_segmentations(labels, rule, frame,
                                                       names=("clusters", "rfm_groups"))}
    features = SimpleNamespace(frame=frame, as_of=pd.Timestamp("2024-12-31"), spec=None,
                               report={"n_customers": 8, "n_prospects": 0})
    kw = dict(
        run_id="tiny", config={"segmentation": {"random_state": 0}}, data_name="hand-built",
        quality={"transactions": q_tx, "customers": q_cu}, features=features, model_matrix=X,
        selection=selection,
        segmenter=SimpleNamespace(cluster_centers_=np.array([[0.9, 0.95, 1.0],
                                                             [-1.05, -0.93, -0.95]])),
        validation=validation, profiles=profiles, labels=labels,
        rule_labels={"rfm_groups": rule}, comparisons=comparisons,
        pareto=pareto(frame["monetary"]), model_path=Path("models/tiny"),
        manifest={"format": "segml-model", "format_version": 1, "name": "tiny",
                  "algorithm": "kmeans", "k": 2, "n_train": 8, "as_of": "2024-12-31",
                  "versions": {"segml": "0.1.0", "numpy": np.__version__},
                  "segments": [{"id": 0, "name": "loyal & high value", "role": "precious"},
                               {"id": 1, "name": "lapsed", "role": "to win back"}]},
    )
    kw.update(changes)
    return RunResult(**kw)


def build_demo_run() -> RunResult:
    """A small real run: demo portfolio -> features -> k sweep -> fit -> profiles -> rules."""
    from segml.cluster.profiles import profile_segments
    from segml.cluster.segmenter import Segmenter
    from segml.cluster.select_k import select_k
    from segml.cluster.validation import validate_segments
    from segml.datasets import make_portfolio
    from segml.features import build_features, make_preprocessor
    from segml.projection import project_2d
    from segml.rules.builtin import builtin_segmenter
    from segml.schema import validate_customers, validate_transactions

    p = make_portfolio(400, n_segments=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tv = validate_transactions(p.transactions)
        cv = validate_customers(p.customers)
        fs = build_features(tv.frame, cv.frame, p.as_of)
        buyers = fs.frame[~fs.frame["is_prospect"].astype(bool)]
        X = make_preprocessor(fs.spec, buyers).fit_transform(buyers)
        sel = select_k(X, k_range=range(2, 6), algorithms=("kmeans",), stability=False,
                       n_bootstrap=20, progress=False, random_state=0)
        seg = Segmenter(**sel.recommended["params"], random_state=0).fit(X)
        labels = pd.Series(seg.labels_, index=X.index, name="segment")
        val = validate_segments(seg, X, stability=False, random_state=0)
        prof = profile_segments(buyers, labels)
        rules, comps = {}, {}
        for name in ("rfm_groups", "abc"):
            rl = pd.Series(builtin_segmenter(name).fit(buyers).predict(buyers),
                           index=buyers.index)
            rules[name] = rl
            comps[name] = compare_segmentations(labels, rl, buyers,
                                                names=("clusters", name))
    return RunResult(
        run_id="demo-test", config={}, data_name="demo", quality={"transactions": tv.report,
                                                                  "customers": cv.report},
        features=fs, model_matrix=X, selection=sel, segmenter=seg, validation=val,
        profiles=prof, labels=labels, rule_labels=rules, comparisons=comps,
        pareto=pareto(buyers["monetary"]),
        projection=project_2d(X, labels, seg.cluster_centers_, random_state=0),
        truth=p.truth,
    )


PNG = b"\x89PNG\r\n\x1a\n"


class _Doc(HTMLParser):
    """Collects sections, images, links, scripts and the text of the document."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.imgs: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.swatches: list[str] = []
        self._section = None
        self.by_section: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self.sections.append(a.get("id"))
            self._section = a.get("id")
            self.by_section[self._section] = []
        if tag == "img":
            self.imgs.append(a)
        for key in ("src", "href", "action", "data", "poster"):
            if key in a:
                self.urls.append(a[key])
        if a.get("class") == "swatch":
            self.swatches.append(a.get("style", ""))

    def handle_data(self, data):
        self.text.append(data)
        if self._section:
            self.by_section[self._section].append(data)


def parse(text: str) -> _Doc:
    doc = _Doc()
    doc.feed(text)
    doc.close()
    return doc


#: The longest names the naming rules produce (every part, an attribute and a tie-breaker),
#: and the playbook's longest actions: the widest front page a real run may give.
EXTREME_NAMES = [
    "top-value active frequent growing late-paying buyers, region North-West (higher spend)",
    "top-value active frequent growing late-paying buyers, region North-West (lower spend)",
    "high-value cooling occasional declining prompt-paying buyers, sector Manufacturing",
    "high-value active frequent growing buyers, company size 250+ employees",
    "mid-value cooling occasional declining late-paying buyers, age 55-64",
    "mid-value active frequent prompt-paying buyers, channel online and phone",
    "low-value lapsed one-off late-paying buyers, region South and Islands",
    "low-value lapsed occasional buyers, first order in the holiday season",
    "low-value active one-off growing buyers, acquired by the spring campaign",
    "low-value cooling occasional declining buyers, region Centre (segment 9)",
]
EXTREME_ACTIONS = [
    "tighter payment terms: shorter due dates, deposits or pre-payment, reminders before the "
    "due date, review credit limits",
    "onboarding and cross-sell: welcome sequence, second-purchase offer, introduce related "
    "categories",
    "low-cost channels only: automated e-mail, self-service; nurture towards a repeat purchase",
    "low-cost reactivation (one automated e-mail or voucher); let go those who do not respond",
    "personal call from the account manager within two weeks; review the last orders and "
    "any complaint",
]
EXTREME_ROLES = ["to secure", "precious", "to retain", "to develop", "to win back",
                 "to serve efficiently", "to reach", "to review", "to retain", "to develop"]


def extreme_front(run: RunResult) -> tuple[RunResult, Any]:
    """The demo run as 10 segments with the longest names and actions, roles, a value-tier
    note, prospects, and a refresh with a trend, 40 new alerts and drift.

    Returns ``(run, refresh)`` for :func:`segml.report.write_report`.
    """
    import dataclasses

    from segml.refresh import RefreshResult

    k = len(EXTREME_NAMES)
    labels = pd.Series(np.arange(len(run.labels)) % k, index=run.labels.index, name="segment")
    names = pd.Series(EXTREME_NAMES)
    profiles = SimpleNamespace(**{
        **vars(run.profiles), "names": names,
        "actions": pd.Series([EXTREME_ACTIONS[i % len(EXTREME_ACTIONS)] for i in range(k)]),
        "roles": pd.Series(EXTREME_ROLES)})
    rng = np.random.default_rng(0)
    prev = rng.dirichlet(np.ones(k))
    segments = pd.DataFrame({"segment": list(names), "previous_n": [40] * k,
                             "current_n": [40] * k, "previous_share": prev,
                             "current_share": [1.0 / k] * k})
    segments.loc[k - 1, "segment"] = "a segment of the previous run only"
    alerts = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(60)],
        "alert": ["activity_drop", "lapsing_high_value", "late_payment"] * 20,
        "value": np.linspace(1, 60, 60), "threshold": [1.0] * 60,
        "message": ["spend in the last 90 days fell by more than half"] * 60,
        "new": [True] * 40 + [False] * 20})
    drift = SimpleNamespace(
        features=pd.DataFrame({"feature": ["recency_days", "monetary", "frequency"],
                               "psi": [0.31, 0.12, 0.02],
                               "level": ["re-fit", "moderate", "stable"]}),
        segment_psi=0.18, segment_level="moderate")
    refresh = RefreshResult(
        as_of=pd.Timestamp("2025-03-31"), previous_as_of=pd.Timestamp("2024-12-31"),
        scores=pd.DataFrame(), movers=pd.DataFrame(), migration=pd.DataFrame(),
        segments=segments, segment_psi=0.18, drift=drift, alerts=alerts,
        counts={"new_alerts": 40, "alerts_now": 60, "alerts_before": 20, "movers": 57})
    settings = {**(run.selection.settings or {}), "verdict_note": (
        "no clear segments: the k sweep found no k > 1 that holds up (gap statistic, "
        "prediction strength and bootstrap Jaccard), so the customers are shown as value "
        "tiers, a value partition, not clusters")}
    selection = dataclasses.replace(run.selection, settings=settings)
    return dataclasses.replace(run, labels=labels, profiles=profiles,
                               selection=selection), refresh

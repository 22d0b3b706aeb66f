"""scikit-learn's estimator contract for every public segml estimator, waivers in one place.

``parametrize_with_checks`` runs sklearn's generic checks on each estimator below. The
checks it cannot pass for a domain reason are listed in :data:`WAIVERS` -- the only
waivers in the suite -- and each waived property is tested here instead, in the form the
estimator does honour (``test_waived_invariances_hold_on_the_real_output``).
``docs/ESTIMATORS.md`` is generated from this file by ``bench/contract_table.py``.

The estimators that read columns by name (GrowthPotential, RuleSegmenter,
LookalikeScorer) see an array's columns as ``x0, x1, ...``; their harness instances name
those columns.
"""

from __future__ import annotations

import copy
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from segml.cluster import Segmenter
from segml.features.encoders import (
    AgeEncoder,
    FamilyWeight,
    FrequencyEncoder,
    LogMoney,
    MissingFlags,
    MultiLabelFlags,
    OrdinalScale,
    RareOneHot,
    ToFloat,
    Winsorizer,
)
from segml.features.relationship import GrowthPotential
from segml.features.scores import ABCClassifier, RFMScorer
from segml.rules import LookalikeScorer, RuleSegmenter

#: One harness instance per public estimator configuration worth checking.
ESTIMATORS = [
    ToFloat(),
    LogMoney(),
    Winsorizer(),
    FamilyWeight(weight=2.0),
    RareOneHot(min_frequency=2),
    OrdinalScale(),
    FrequencyEncoder(),
    # ages as given (source="age") over any range: the checks feed random numbers
    AgeEncoder(as_of_year=2026, source="age", min_age=-1e9, max_age=1e9),
    MultiLabelFlags(),
    MissingFlags(),
    RFMScorer(),
    ABCClassifier(),
    ABCClassifier(method="revenue"),
    GrowthPotential(monetary="x0", min_peers=1),
    Segmenter(random_state=0),
    Segmenter(algorithm="minibatch", random_state=0),
    Segmenter(algorithm="bisecting", random_state=0),
    Segmenter(algorithm="gmm", covariance_type="diag", random_state=0),
    RuleSegmenter([("high", "x0 >= median(x0)")], "rest"),
    LookalikeScorer(features=["x0"], reference="x0 >= median(x0)"),
]

_NAMES = (
    "predict returns segment names ('A'/'B'/'C'/'none') -- the vocabulary reports, rules and "
    "saved models use; the check compares outputs with assert_allclose, which needs numbers. "
    "The property is tested on the names in test_waived_invariances_hold_on_the_real_output."
)
_RULE_NAMES = (
    "predict returns a categorical Series of segment names (the same interface as the "
    "cluster model's named segments); the check compares outputs numerically. The property "
    "is tested on the names in test_waived_invariances_hold_on_the_real_output."
)
_LOOKALIKE_FRAME = (
    "transform returns a DataFrame of a float lookalike_score and a boolean is_lookalike (the "
    "rule language reads is_lookalike as a boolean column); the check compares outputs with "
    "assert_allclose or reads .dtype, which a mixed-dtype frame has not. The property is "
    "tested on the frame in test_waived_invariances_hold_on_the_real_output."
)
_BY_NAME = (
    "reads the columns it needs by name from the whole feature frame and ignores the others, "
    "so n_features_in_ counts the columns it reads (feature_names_in_), not the frame's width: "
    "a frozen model scores later frames that carry more or fewer other columns. Tested in "
    "test_column_readers_ignore_other_columns."
)

#: check name -> reason, per estimator class: every waiver of the suite.
WAIVERS: dict[type, dict[str, str]] = {
    ABCClassifier: {
        "check_estimators_pickle": _NAMES,
        "check_methods_sample_order_invariance": _NAMES,
        "check_methods_subset_invariance": _NAMES,
        "check_fit_idempotent": _NAMES,
    },
    GrowthPotential: {
        "check_n_features_in": _BY_NAME,
        "check_n_features_in_after_fitting": _BY_NAME,
        "check_transformer_general": _BY_NAME,
    },
    RuleSegmenter: {
        "check_n_features_in": _BY_NAME,
        "check_n_features_in_after_fitting": _BY_NAME,
        "check_estimators_pickle": _RULE_NAMES,
        "check_methods_sample_order_invariance": _RULE_NAMES,
        "check_methods_subset_invariance": _RULE_NAMES,
        "check_fit_idempotent": _RULE_NAMES,
    },
    LookalikeScorer: {
        "check_n_features_in": _BY_NAME,
        "check_n_features_in_after_fitting": _BY_NAME,
        "check_estimators_pickle": _LOOKALIKE_FRAME,
        "check_pipeline_consistency": _LOOKALIKE_FRAME,
        "check_transformer_data_not_an_array": _LOOKALIKE_FRAME,
        "check_transformer_general": _LOOKALIKE_FRAME,
        "check_transformer_preserve_dtypes": _LOOKALIKE_FRAME,
        "check_methods_sample_order_invariance": _LOOKALIKE_FRAME,
        "check_methods_subset_invariance": _LOOKALIKE_FRAME,
        "check_fit_idempotent": _LOOKALIKE_FRAME,
    },
}

#: Per configuration: BisectingKMeans reports no n_iter_, so the wrapper cannot either.
_BISECTING = {
    "check_transformer_n_iter": "BisectingKMeans (scikit-learn) does not expose n_iter_, so "
    "the Segmenter wrapping it cannot report one; every other check passes."
}


def waivers(estimator) -> dict[str, str]:
    """The waived checks of one harness instance (check name -> reason)."""
    if isinstance(estimator, Segmenter) and estimator.algorithm == "bisecting":
        return dict(_BISECTING)
    return dict(WAIVERS.get(type(estimator), {}))


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=waivers)
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_every_waiver_gives_a_domain_reason():
    for est in ESTIMATORS:
        for check, reason in waivers(est).items():
            assert check.startswith("check_")
            assert len(reason) > 60 and "fails" not in reason, (type(est).__name__, check)


# ------------------------------------------------------------- the waived properties, kept


def _frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    monetary = np.round(rng.gamma(2.0, 50.0, n), 2)
    monetary[:5] = 0.0
    return pd.DataFrame(
        {
            "monetary": monetary,
            "frequency": np.where(monetary > 0, rng.integers(1, 9, n), 0),
            "recency_days": rng.integers(1, 400, n).astype("float64"),
            "age": rng.integers(18, 80, n).astype("float64"),
            "gender": pd.array(rng.choice(["F", "M"], n), dtype="str"),
            "region": pd.array(rng.choice(["n", "s", "e"], n), dtype="str"),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


def _with_abc(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["abc_class"] = pd.array(ABCClassifier().fit(frame).predict(frame), dtype="str")
    return out


def _named_output(est, X: pd.DataFrame):
    if isinstance(est, LookalikeScorer):
        return est.transform(X)
    out = est.predict(X)
    return pd.Series(np.asarray(out, dtype=object), index=X.index)


def _assert_same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=0)
    else:
        pd.testing.assert_series_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ABCClassifier(),
        lambda: ABCClassifier(method="revenue"),
        lambda: RuleSegmenter([("big", "monetary >= quantile(monetary, 0.75)"),
                               ("old", "recency_days > median(recency_days)")], "rest"),
        lambda: LookalikeScorer(features=["age", "gender", "region"]),
    ],
    ids=["abc_count", "abc_revenue", "rules", "lookalike"],
)
def test_waived_invariances_hold_on_the_real_output(make):
    X = _with_abc(_frame())
    est = make().fit(X)
    full = _named_output(est, X)
    # pickle round trip
    _assert_same(_named_output(pickle.loads(pickle.dumps(est)), X), full)
    # sample order
    perm = np.random.default_rng(1).permutation(len(X))
    _assert_same(_named_output(est, X.iloc[perm]), full.iloc[perm])
    # subsets (batches of 7 rows)
    parts = [_named_output(est, X.iloc[i:i + 7]) for i in range(0, len(X), 7)]
    _assert_same(pd.concat(parts), full)
    # fitting twice (or a clone) gives the same model
    again = clone(est).fit(X)
    _assert_same(_named_output(again.fit(X), X), full)
    assert len(set(np.asarray(full if full.ndim == 1 else full["is_lookalike"]).tolist())) > 1


def test_column_readers_ignore_other_columns():
    X = _with_abc(_frame())
    wide = X.assign(extra_1=1.0, extra_2="x")
    narrow_cols = {
        "growth": ["monetary", "region"],
        "rules": ["monetary"],
        "lookalike": ["age", "abc_class"],
    }
    ests = {
        "growth": GrowthPotential(by=("region",), min_peers=3),
        "rules": RuleSegmenter([("big", "monetary >= median(monetary)")], "rest"),
        "lookalike": LookalikeScorer(features=["age"]),
    }
    for key, est in ests.items():
        est.fit(wide)
        assert est.feature_names_in_.tolist() == [c for c in narrow_cols[key]
                                                  if key != "lookalike" or c == "age"]
        assert est.n_features_in_ == len(est.feature_names_in_)
        narrow = X[narrow_cols[key]]
        a = est.transform(wide) if hasattr(est, "transform") else est.predict(wide)
        b = est.transform(narrow) if hasattr(est, "transform") else est.predict(narrow)
        if isinstance(a, pd.DataFrame | pd.Series):
            assert a.equals(b)
        else:
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------ transform never writes to self


def _fitted_with_batches():
    """(name, fitted estimator, method names, a batch unlike the training data)."""
    X = _with_abc(_frame())
    new = _with_abc(_frame(seed=7))
    new.loc[new.index[:3], "monetary"] = -5.0
    new.loc[new.index[3], "region"] = "w"  # unseen level / fallback cell
    new.loc[new.index[4], "gender"] = "X"
    num = X[["monetary", "recency_days"]]
    num_new = new[["monetary", "recency_days"]]
    cat, cat_new = X[["region", "gender"]], new[["region", "gender"]]
    ages = pd.DataFrame({"birth_year": 2026 - X["age"].to_numpy()})
    ages_new = pd.DataFrame({"birth_year": [1890.0, np.nan, 1990.0]})
    labels = pd.DataFrame({"interests": ["price; brand", "tech", None, "brand"] * 10})
    labels_new = pd.DataFrame({"interests": ["golf; price", "chess"]})
    fitted = [
        ("ToFloat", ToFloat().fit(num), ["transform"], num_new),
        ("LogMoney", LogMoney().fit(num), ["transform", "quality"], num_new),
        ("Winsorizer", Winsorizer().fit(num), ["transform"], num_new),
        ("FamilyWeight", FamilyWeight().fit(num), ["transform"], num_new),
        ("RareOneHot", RareOneHot(min_frequency=2).fit(cat), ["transform", "quality"], cat_new),
        ("OrdinalScale", OrdinalScale().fit(cat), ["transform", "quality"], cat_new),
        ("FrequencyEncoder", FrequencyEncoder().fit(cat), ["transform", "quality"], cat_new),
        ("AgeEncoder", AgeEncoder(as_of_year=2026).fit(ages), ["transform", "quality"],
         ages_new),
        ("MultiLabelFlags", MultiLabelFlags().fit(labels), ["transform", "quality"], labels_new),
        ("RFMScorer", RFMScorer().fit(X[["recency_days", "frequency", "monetary"]]),
         ["transform"], new[["recency_days", "frequency", "monetary"]]),
        ("ABCClassifier", ABCClassifier().fit(X), ["predict"], new),
        ("GrowthPotential", GrowthPotential(by=("region",), min_peers=3).fit(X),
         ["transform", "quality"], new),
        ("Segmenter", Segmenter(n_clusters=3, random_state=0).fit(num), ["predict", "transform"],
         num_new),
        ("RuleSegmenter", RuleSegmenter([("big", "monetary >= median(monetary)")]).fit(X),
         ["predict", "match_matrix"], new),
        ("LookalikeScorer", LookalikeScorer(features=["age", "gender"]).fit(X),
         ["transform", "predict", "score_samples"], new),
    ]
    return fitted


@pytest.mark.parametrize("name, est, methods, batch", _fitted_with_batches(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_transform_never_writes_to_the_estimator(name, est, methods, batch):
    before_keys = set(vars(est))
    before = joblib.hash(copy.deepcopy(vars(est)))
    for method in methods:
        getattr(est, method)(batch)
    assert set(vars(est)) == before_keys, name
    assert joblib.hash(vars(est)) == before, f"{name}.{methods} changed the estimator"


def test_quality_counts_the_batch_not_the_training_data():
    X = _with_abc(_frame())
    gp = GrowthPotential(by=("region",), min_peers=3).fit(X)
    new = X.assign(region=pd.array(["w"] * len(X), dtype="str"))
    assert gp.n_fallback_ == 0
    assert gp.quality(new) == {"n_fallback": len(X)}
    assert gp.quality(X) == {"n_fallback": 0}


def test_check_frame_names_array_columns_and_refuses_what_it_cannot_read():
    from scipy import sparse

    from segml._validation import check_frame

    frame = pd.DataFrame({"a": [1.0]})
    assert check_frame(frame, "E.fit") is frame  # never copied
    out = check_frame(np.array([[1.0, 2.0], [3.0, 4.0]]), "E.fit")
    assert out.columns.tolist() == ["x0", "x1"]
    assert out.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError, match=r"E.fit: sparse data is not supported; pass a dense"):
        check_frame(sparse.csr_matrix(np.eye(2)), "E.fit")
    with pytest.raises(ValueError, match=r"E.fit: expected a 2D array or DataFrame, got ndim=1"):
        check_frame(np.zeros(3), "E.fit")
    with pytest.raises(ValueError, match=r"E.fit: Complex data not supported"):
        check_frame(np.array([[1 + 2j]]), "E.fit")
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\) \(shape=\(0, 2\)\)"):
        check_frame(np.zeros((0, 2)), "E.fit")
    with pytest.raises(ValueError, match=r"Found array with 0 feature\(s\) \(shape=\(3, 0\)\)"):
        check_frame(pd.DataFrame(index=range(3)), "E.fit")


#: Public estimators of the checked layers that cannot take one ``X`` (with the reason).
NOT_IN_HARNESS = {
    "FeatureBuilder": "fit(transactions, customers, as_of) takes two tables and a date, not one "
                      "X; tests/features/test_builder.py checks that transform leaves it as is",
    "RuleGroupSegmenter": "its X must carry recency_days / frequency / monetary (or the r/f/m "
                          "scores) to apply the rfm_groups rule set, not any numeric matrix; "
                          "tests/test_rule_fallback.py checks fit, predict, save and scoring",
    "RuleGroupIndicators": "built already fitted by RuleGroupSegmenter from a fitted rule "
                           "segmenter (its parameters are fitted objects); checked through "
                           "RuleGroupSegmenter in tests/test_rule_fallback.py",
}


def test_every_public_estimator_of_the_core_is_in_the_harness():
    import importlib
    import inspect
    import pkgutil

    from sklearn.base import BaseEstimator

    import segml

    found = set()
    for pkg in ("cluster", "features", "rules"):
        mod = importlib.import_module(f"segml.{pkg}")
        names = [mod.__name__] + [m.name for m in pkgutil.walk_packages(mod.__path__,
                                                                         f"{mod.__name__}.")]
        for name in names:
            for cls_name, cls in inspect.getmembers(importlib.import_module(name),
                                                    inspect.isclass):
                if (issubclass(cls, BaseEstimator) and not cls_name.startswith("_")
                        and cls.__module__.startswith(segml.__name__)):
                    found.add(cls_name)
    checked = {type(e).__name__ for e in ESTIMATORS}
    assert found - checked == set(NOT_IN_HARNESS)
    assert checked <= found

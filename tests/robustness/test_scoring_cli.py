"""Hostile cases for scoring and the CLI commands that must finish what they start.

Tracker issue 11, parts 5 and 7: ``segml score`` says what it did (a report beside the
output), a model column the data lacks is an error unless imputing is asked for, prospects
get one policy in ``segml run``, ``segml score`` and ``score()``, the command the report
prints works, ``compare`` / ``fit`` / ``validate-data`` stop with a clear message instead of
a traceback, and customer-only data runs end to end with the transaction rule sets skipped.

One small demo run (400 customers, k-means, k <= 4) is shared by the module.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segml.config import validate_config
from segml.errors import ConfigError, SchemaError
from segml.features import build_features
from segml.persistence import load_model
from segml.pipeline import run_select_k
from segml.schema import validate_customers, validate_transactions
from segml.scoring import PROSPECT_SEGMENT_NAME, score, score_features, score_one
from tests.robustness.conftest import cli_error, cli_ok

AS_OF = "2024-12-31"  # the demo portfolio's end date


def _config(folder: Path, *, n_customers: int = 400, k_min: int = 3, k_max: int = 4,
            attributes: bool = False) -> Path:
    path = folder / "small.toml"
    path.write_text(
        f'[demo]\nn_customers = {n_customers}\nfolder = "{(folder / "demo").as_posix()}"\n'
        f'[segmentation]\nalgorithms = ["kmeans"]\nk_min = {k_min}\nk_max = {k_max}\n'
        "n_stability = 2\n"
        # income and region in the model (attributes describe only by default since issue 15)
        + ("[features.weights]\ndemographic = 1.0\ngeographic = 1.0\n" if attributes else "")
        + f'[output]\nreports_dir = "{(folder / "reports").as_posix()}"\n'
        f'models_dir = "{(folder / "models").as_posix()}"\n'
    )
    return path


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One ``segml run`` on a 400-customer demo; returns its paths and tables."""
    from segml.cli import main

    root = tmp_path_factory.mktemp("demo_run")
    cfg = _config(root, attributes=True)
    assert main(["run", "--config", str(cfg), "--run-id", "r", "--quiet"]) == 0
    demo = root / "demo"
    tx = pd.read_parquet(demo / "transactions.parquet")
    cust = pd.read_parquet(demo / "customers.parquet")
    tx.to_csv(root / "tx.csv", index=False)
    cust.to_csv(root / "cust.csv", index=False)
    cust.drop(columns=["region", "income"]).to_csv(root / "cust_no_region.csv", index=False)
    return {
        "root": root, "config": cfg, "model": root / "models" / "r",
        "folder": root / "reports" / "r", "tx": tx, "cust": cust,
        "segments": pd.read_csv(root / "reports" / "r" / "segments.csv",
                                dtype={"customer_id": str}),
    }


def _files(run: dict, customers: str = "cust.csv") -> list[str]:
    root = run["root"]
    return ["--transactions", str(root / "tx.csv"), "--customers", str(root / customers),
            "--as-of", AS_OF]


# --------------------------------------------------------------- part A: scoring says what


def test_score_labels_equal_the_run_labels_exactly(demo_run, tmp_path, capsys):
    """``segml score`` with the run's config gives the labels ``segml run`` wrote."""
    out = tmp_path / "s.csv"
    cli_ok(["score", str(demo_run["model"]), "--config", str(demo_run["folder"] / "config.toml"),
            "--out", str(out)], capsys)
    run = demo_run["segments"].set_index("customer_id")
    got = pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")
    assert sorted(got.index) == sorted(run.index)  # prospects included, nobody dropped
    got = got.loc[run.index]
    np.testing.assert_array_equal(got["segment_id"].to_numpy(), run["segment_id"].to_numpy())
    assert got["segment_name"].tolist() == run["segment_name"].tolist()
    n_prospects = int((run["segment_id"] == -1).sum())
    assert n_prospects == 48
    assert set(run.loc[run["segment_id"] == -1, "segment_name"]) == {PROSPECT_SEGMENT_NAME}


def test_score_writes_its_report_beside_the_output(demo_run, tmp_path, capsys):
    out = tmp_path / "scores.parquet"
    stdout, _ = cli_ok(["score", str(demo_run["model"]), *_files(demo_run), "--out", str(out)],
                       capsys)
    report = json.loads((tmp_path / "scores.report.json").read_text())
    seg = demo_run["segments"]
    assert report["n_rows"] == 400
    # 400 = 48 prospects + 1 zero-value buyer (segment -2, set aside as in the run) + 351
    assert report["rows_scored"] == int((seg["segment_id"] >= 0).sum()) == 351
    assert report["customers_left_out"] == {"prospects": 48, "zero-value buyers": 1,
                                            "not_yet_customers": 0}
    assert report["columns_imputed"] == []
    assert report["fits_no_segment"] == int(pd.read_parquet(out)["fits_no_segment"].sum())
    assert "prospects (segment -1) 48" in stdout
    assert f"report: {tmp_path / 'scores.report.json'}" in stdout


def test_score_impute_missing_is_explicit_and_counted(demo_run, tmp_path, capsys):
    out = tmp_path / "imputed.csv"
    stdout, _ = cli_ok(["score", str(demo_run["model"]),
                        *_files(demo_run, "cust_no_region.csv"), "--out", str(out),
                        "--impute-missing"], capsys)
    report = json.loads((tmp_path / "imputed.report.json").read_text())
    assert report["columns_imputed"] == ["income", "region"]
    assert report["missing_imputed"]["region"] == 351
    assert report["missing_imputed"]["income"] == 351
    assert "columns absent, imputed: income, region" in stdout


def test_score_prospect_policy_in_the_api(demo_run):
    """score(), score_features() and score_one() give prospects -1 like segments.csv."""
    model = load_model(demo_run["model"])
    tx, _ = validate_transactions(demo_run["tx"], customers=demo_run["cust"])
    cust, _ = validate_customers(demo_run["cust"])
    res = score(model, tx, cust, AS_OF)
    run = demo_run["segments"].set_index("customer_id")
    got = res.frame.set_index("customer_id").loc[run.index]
    np.testing.assert_array_equal(got["segment_id"].to_numpy(), run["segment_id"].to_numpy())
    assert res.report["customers_left_out"]["prospects"] == 48
    assert res.report["rows_scored"] == 351
    pros = res.frame[res.frame["segment_id"] == -1]
    assert pros["distance"].isna().all() and not pros["fits_no_segment"].any()
    one = score_one(model, {"customer_id": "p", "is_prospect": True})
    assert (one["segment_id"], one["segment_name"]) == (-1, PROSPECT_SEGMENT_NAME)
    # a $0-only buyer gets the run's degenerate group, on the CRM path too
    zero = res.frame[res.frame["segment_id"] == -2]
    assert zero["segment_name"].astype(str).tolist() == ["zero-value buyers (not clustered)"]
    row = build_features(tx, cust, AS_OF).frame.loc[zero["customer_id"].iloc[0]].to_dict()
    assert row["frequency"] >= 1 and row["monetary"] == 0
    one = score_one(model, {"customer_id": "z", **row})
    assert (one["segment_id"], one["segment_name"]) == (-2, "zero-value buyers (not clustered)")


# --------------------------------------------------------------- hostile scoring inputs


def test_score_missing_columns_is_an_error(demo_run, tmp_path, capsys):
    msg = cli_error(["score", str(demo_run["model"]), *_files(demo_run, "cust_no_region.csv"),
                     "--out", str(tmp_path / "s.csv")], capsys,
                    match=r"scoring data lacks 2 column\(s\) the model reads: 'income', "
                          r"'region'.*--impute-missing")
    assert "impute_missing=True" in msg
    assert not (tmp_path / "s.csv").exists()
    model = load_model(demo_run["model"])
    tx, _ = validate_transactions(demo_run["tx"])
    cust, _ = validate_customers(demo_run["cust"].drop(columns=["region", "income"]))
    with pytest.raises(SchemaError, match=r"lacks 2 column\(s\) the model reads: 'income', "
                                          r"'region'"):
        score(model, tx, cust, AS_OF)


def test_score_unseen_level_with_unknown_error(demo_run, tmp_path, capsys):
    cust = demo_run["cust"].copy()
    cust.loc[cust.index[:3], "profession"] = "astronaut"
    cust.to_csv(tmp_path / "c.csv", index=False)
    argv = ["score", str(demo_run["model"]), "--transactions", str(demo_run["root"] / "tx.csv"),
            "--customers", str(tmp_path / "c.csv"), "--as-of", AS_OF,
            "--out", str(tmp_path / "s.csv"), "--unknown", "error"]
    cli_error(argv, capsys, match=r"not seen in training in 'profession': \['astronaut'\]"
                                  r".*--unknown ignore")
    model = load_model(demo_run["model"])
    tx, _ = validate_transactions(demo_run["tx"])
    vc, _ = validate_customers(cust)
    with pytest.raises(SchemaError, match=r"'profession': \['astronaut'\]"):
        score(model, tx, vc, AS_OF, unknown="error")


def test_score_refuses_an_existing_report_before_scoring(demo_run, tmp_path, capsys):
    from segml.cli import main

    (tmp_path / "s.report.json").write_text("{}")
    assert main(["score", str(demo_run["model"]), *_files(demo_run),
                 "--out", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err
    assert "s.report.json already exists; refusing to overwrite" in err
    assert "Traceback" not in err
    assert not (tmp_path / "s.csv").exists()  # nothing half-written
    assert (tmp_path / "s.report.json").read_text() == "{}"


def test_score_features_empty_frame(demo_run):
    model = load_model(demo_run["model"])
    with pytest.raises(SchemaError, match=r"0 rows\. Fix: check the input files and --as-of"):
        score_features(model, pd.DataFrame(columns=model.columns))


# --------------------------------------------------------------- the report's command


def test_report_score_command_runs(demo_run, tmp_path, monkeypatch, capsys):
    page = (demo_run["folder"] / "report.html").read_text(encoding="utf-8")
    found = re.findall(r"<pre>(segml score [^<]*)</pre>", page)
    assert len(found) == 1, found
    argv = shlex.split(html.unescape(found[0]))
    assert argv[:2] == ["segml", "score"] and "--model" not in argv
    monkeypatch.chdir(tmp_path)
    cli_ok(argv[1:], capsys)
    got = pd.read_csv(tmp_path / "scored.csv", dtype={"customer_id": str})
    assert len(got) == 400
    assert (tmp_path / "scored.report.json").is_file()


# --------------------------------------------------------------- validate-data


def test_validate_data_transactions_only_readme_example(tmp_path, demo_run, capsys,
                                                         monkeypatch):
    """README: ``segml validate-data --transactions orders.csv --map amount=net_value``."""
    tx = demo_run["tx"].rename(columns={"amount": "net_value"})
    tx[tx["customer_id"].isin(tx["customer_id"].unique()[:9])].to_csv(
        tmp_path / "orders.csv", index=False)
    monkeypatch.chdir(tmp_path)
    out, _ = cli_ok(["validate-data", "--transactions", "orders.csv", "--map",
                     "amount=net_value"], capsys)
    n = int(demo_run["tx"]["customer_id"].isin(tx["customer_id"].unique()[:9]).sum())
    assert f"orders: OK — {n:,} transactions of 9 customers" in out


# --------------------------------------------------------------- compare


def _labels(path: Path, rows: dict[str, list]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


COMPARE_CASES = [
    pytest.param({"id": ["a", "b"], "segment_name": ["x", "y"]}, None,
                 r"a\.csv: no 'customer_id' column \(columns: 'id', 'segment_name'\)",
                 id="no-customer_id"),
    pytest.param({"customer_id": ["a", "b"]}, None,
                 r"a\.csv: only a customer_id column, no label column", id="one-column"),
    pytest.param({"customer_id": ["a", "b"], "segment_name": ["x", "y"]}, "segment",
                 r"a\.csv: no label column 'segment' \(columns: 'customer_id', "
                 r"'segment_name'\).*--column", id="unknown-column"),
    pytest.param({"customer_id": ["a", "a", "b"], "segment_name": ["x", "y", "y"]}, None,
                 r"a\.csv: customer_id has 1 duplicated row\(s\), e\.g\. 'a'",
                 id="duplicate-ids"),
    pytest.param({"customer_id": ["q", "r"], "segment_name": ["x", "y"]}, None,
                 r"share no customer_id: 0 of 2 ids in a\.csv are in b\.csv", id="no-overlap"),
]


@pytest.mark.parametrize(("rows_a", "column", "match"), COMPARE_CASES)
def test_compare_bad_files(tmp_path, capsys, rows_a, column, match):
    a = _labels(tmp_path / "a.csv", rows_a)
    b = _labels(tmp_path / "b.csv", {"customer_id": ["a", "b", "c"],
                                     "segment_name": ["x", "y", "y"]})
    argv = ["compare", str(a), str(b)] + (["--column", column] if column else [])
    cli_error(argv, capsys, match=match)


def test_compare_same_file_names_in_two_folders_and_partial_overlap(tmp_path, capsys):
    (tmp_path / "q1").mkdir()
    (tmp_path / "q2").mkdir()
    a = _labels(tmp_path / "q1" / "segments.csv",
                {"customer_id": list("abcdef"), "segment_name": list("xxxyyy")})
    b = _labels(tmp_path / "q2" / "segments.csv",
                {"customer_id": list("abcdeg"), "segment_name": list("PPPQQQ")})
    out, _ = cli_ok(["compare", str(a), str(b)], capsys)
    assert "note: 5 customers are in both files; 1 only in segments.csv" in out
    scores = json.loads(out[out.index("{"):])
    assert scores["ari"] == 1.0


# --------------------------------------------------------------- fit / select-k arguments


@pytest.mark.parametrize("k", ["0", "1", "-3"], ids=["k0", "k1", "k-negative"])
def test_fit_k_below_two_is_refused_before_loading(tmp_path, capsys, k):
    cfg = _config(tmp_path)
    cli_error(["fit", "--config", str(cfg), "--k", k, "--quiet"], capsys,
              match=rf"--k {k}: a segmentation needs at least 2 segments.*--k 2 or more")
    assert not (tmp_path / "demo").exists()  # nothing generated, loaded or fitted


def test_fit_k_above_the_customers_is_refused_before_fitting(tmp_path, capsys):
    cfg = _config(tmp_path, n_customers=60)
    cli_error(["fit", "--config", str(cfg), "--k", "500", "--quiet"], capsys,
              match=r"segmentation\.k_min=500 needs more customers: only \d+ to cluster")
    assert not (tmp_path / "models").exists()
    X = pd.DataFrame({"x": np.arange(10.0)})
    cfg_k = validate_config({"segmentation": {"k_min": 3, "k_max": 12}})
    with pytest.raises(ConfigError, match=r"k_max=12 needs more customers: only 10 to cluster"):
        run_select_k(cfg_k, X, progress=False)
    cfg_k = validate_config({"segmentation": {"k_min": 3, "k_max": 10}})  # k == n: too many
    with pytest.raises(ConfigError, match=r"k_max=10 needs more customers: only 10 to cluster"):
        run_select_k(cfg_k, X, progress=False)


def test_config_k_min_above_k_max_is_refused_before_loading(tmp_path, capsys):
    from segml.cli import main

    cfg = _config(tmp_path, k_min=6, k_max=4)
    assert main(["select-k", "--config", str(cfg), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "need 1 <= segmentation.k_min <= segmentation.k_max, got k_min=6, k_max=4" in err
    assert "Traceback" not in err
    assert not (tmp_path / "demo").exists()


# --------------------------------------------------------------- customer-only data


def test_customer_only_mall_runs_end_to_end_with_rules_skipped(tmp_path, capsys,
                                                               shared_data):
    cfg = _config(tmp_path)
    out, _ = cli_ok(["run", "--config", str(cfg), "--loader", "mall_customers",
                     "--path", str(shared_data / "Mall_Customers.csv"), "--as-of",
                     "2024-01-01", "--run-id", "mall", "--quiet"], capsys)
    assert "note: rule set 'rfm_groups' skipped: needs r_score, f_score, m_score" in out
    metrics = json.loads((tmp_path / "reports" / "mall" / "metrics.json").read_text())
    assert sorted(metrics["rules_skipped"]) == ["abc", "lifecycle", "portfolio_roles",
                                                "rfm_groups"]
    assert metrics["n_customers"] == metrics["n_clustered"] == 200
    page = (tmp_path / "reports" / "mall" / "report.html").read_text(encoding="utf-8")
    assert "Rule set abc skipped: it needs abc_class" in page
    seg = pd.read_csv(tmp_path / "reports" / "mall" / "segments.csv", dtype={"customer_id": str})
    cli_ok(["score", str(tmp_path / "models" / "mall"), "--loader", "mall_customers",
            "--path", str(shared_data / "Mall_Customers.csv"), "--as-of", "2024-01-01",
            "--out", str(tmp_path / "mall.csv")], capsys)
    got = pd.read_csv(tmp_path / "mall.csv", dtype={"customer_id": str})
    assert got["segment_id"].tolist() == seg.set_index("customer_id").loc[
        got["customer_id"], "segment_id"].tolist()


# --------------------------------------------------------------- refused before any loading

MISSING_MODEL = "no/such/model"  # loading it would fail: these must stop earlier

EARLY_CASES = [
    pytest.param(["score", MISSING_MODEL, "--as-of", "2024-13-45", "--out", "s.csv"],
                 r"features\.as_of='2024-13-45' is not a valid calendar date\. Fix: write the "
                 r"date as YYYY-MM-DD.*CLI --as-of 2024-12-31",
                 {"features": {"as_of": "2024-13-45"}}, id="score-bad-as-of"),
    pytest.param(["score", MISSING_MODEL, "--out", "s.xlsx"],
                 r"--out s\.xlsx: segml score writes \.csv or \.parquet, not '\.xlsx'",
                 None, id="score-out-xlsx"),
    pytest.param(["features", "--out", "f"],
                 r"segml features writes \.csv or \.parquet, not 'a file without extension'",
                 None, id="features-out-no-extension"),
    pytest.param(["features", "--loader", "cdnow", "--path", "no/such.csv",
                  "--out", "f.parquet"],
                 r"features\.as_of is required for real data.*pass --as-of",
                 {"data": {"loader": "cdnow"}}, id="features-real-data-no-as-of"),
    pytest.param(["score", MISSING_MODEL, "--customers", "no/such.csv", "--out", "s.csv"],
                 r"features\.as_of is required for real data",
                 {"data": {"customers": "no/such.csv"}}, id="score-real-data-no-as-of"),
    pytest.param(["validate-data", "--map", "amount"],
                 r"--map 'amount': expected CANON=COLUMN\. Fix: .*--map amount=value",
                 None, id="map-without-equals"),
    pytest.param(["select-k", "--loader", "nope", "--as-of", "2024-01-01", "--quiet"],
                 r"data\.loader='nope' is unknown\. Fix: pass --loader .*mall_customers",
                 None, id="unknown-loader"),
]


@pytest.mark.parametrize(("argv", "match", "config"), EARLY_CASES)
def test_refused_before_loading(tmp_path, capsys, monkeypatch, argv, match, config):
    from segml.pipeline import check_run_config

    monkeypatch.chdir(tmp_path)
    cli_error(argv, capsys, match=match)
    assert list(tmp_path.iterdir()) == []  # nothing written, no demo generated
    if config is not None:
        with pytest.raises(ConfigError, match=match.split(r"\. Fix")[0]):
            check_run_config(validate_config(config))


def test_unknown_rule_set_is_refused_before_fitting(tmp_path, capsys):
    from segml.pipeline import check_run_config

    cfg = _config(tmp_path)
    cfg.write_text(cfg.read_text() + '[rules]\nsets = ["rfm_groups", "rfm"]\n')
    cli_error(["run", "--config", str(cfg), "--quiet"], capsys,
              match=r"unknown built-in rule set 'rfm'\. Fix: .*\[rules\] sets")
    assert not (tmp_path / "demo").exists() and not (tmp_path / "models").exists()
    with pytest.raises(ConfigError, match=r"unknown built-in rule set 'rfm'"):
        check_run_config(validate_config({"rules": {"sets": ["rfm"]}}))


@pytest.mark.parametrize(("n", "k"), [("0", "5"), ("50", "0"), ("5", "9"), ("-3", "2")],
                         ids=["no-customers", "no-segments", "more-segments-than-customers",
                              "negative-customers"])
def test_generate_numeric_flags_are_checked_first(tmp_path, capsys, n, k):
    out = tmp_path / "g"
    cli_error(["generate", "--n-customers", n, "--n-segments", k, "--out", str(out)], capsys,
              match=rf"--n-customers {n} --n-segments {k}: need 1 <= n-segments <= "
                    r"n-customers\. Fix: ")
    assert not out.exists()


def test_generate_writes_the_one_population_null(tmp_path, capsys):
    out = tmp_path / "null"
    cli_ok(["generate", "--n-customers", "60", "--n-segments", "1", "--out", str(out)], capsys)
    truth = pd.read_parquet(out / "truth.parquet")
    # one planted profile; prospects (no purchase yet) are labelled as such in the truth
    assert set(truth["segment"]) - {"prospect"} == {"loyal_high_value"}


def test_score_customers_only_with_a_transactions_model(demo_run, tmp_path, capsys):
    """A model fitted on transactions cannot score a customers table alone: say what lacks."""
    argv = ["score", str(demo_run["model"]), "--customers", str(demo_run["root"] / "cust.csv"),
            "--as-of", AS_OF, "--out", str(tmp_path / "s.csv")]
    # 33 since issue 15 (a value column redundant with monetary is not in the model); 28 since
    # stop 28: the 5 calendar-quarter shares are describe-only
    msg = cli_error(argv, capsys, match=r"scoring data lacks 28 column\(s\) the model reads: "
                                        r"'recency_days', 'frequency', 'monetary', .* and 22 "
                                        r"more\. ")
    assert "--impute-missing" in msg
    model = load_model(demo_run["model"])
    cust, _ = validate_customers(demo_run["cust"])
    with pytest.raises(SchemaError, match=r"lacks 28 column\(s\) the model reads: "
                                          r"'recency_days'"):
        score(model, None, cust, AS_OF)


def test_score_a_batch_of_prospects_only(demo_run):
    from segml.features import build_features

    model = load_model(demo_run["model"])
    tx, _ = validate_transactions(demo_run["tx"], customers=demo_run["cust"])
    cust, _ = validate_customers(demo_run["cust"])
    frame = build_features(tx, cust, AS_OF, model.feature_spec, state=model.feature_state).frame
    pros = frame[frame["is_prospect"].astype(bool)]
    res = score_features(model, pros)
    assert len(res.frame) == 48 and res.report["rows_scored"] == 0
    assert (res.frame["segment_id"] == -1).all()
    assert set(res.frame["segment_name"]) == {PROSPECT_SEGMENT_NAME}
    assert res.report["customers_left_out"] == {"prospects": 48}
    assert res.report["no_fit_share"] == 0.0


SEGMENTATION_CASES = [
    pytest.param('algorithms = ["foo"]', r"segmentation\.algorithms=\['foo'\] should be a "
                 r"non-empty list of kmeans.*segml fit --algorithm", id="unknown-algorithm"),
    pytest.param("algorithms = []", r"segmentation\.algorithms=\[\] should be a non-empty",
                 id="no-algorithm"),
    pytest.param('covariance_types = ["weird"]', r"segmentation\.covariance_types=\['weird'\]",
                 id="unknown-covariance"),
    pytest.param("n_stability = 0", r"segmentation\.n_stability=0 should be at least 1",
                 id="no-stability-refits"),
    pytest.param("min_segment_share = 2.0",
                 r"segmentation\.min_segment_share=2\.0 should be in \[0, 1\)", id="share-2"),
    pytest.param("fit_sample_size = 0",
                 r"segmentation\.fit_sample_size=0 should be 'auto' or an integer >= k_max=4",
                 id="fit-sample-0"),
    pytest.param("n_jobs = 0", r"segmentation\.n_jobs=0 should be a non-zero integer",
                 id="n-jobs-0-was-a-traceback"),
]


@pytest.mark.parametrize(("line", "match"), SEGMENTATION_CASES)
def test_segmentation_config_refused_before_loading(tmp_path, capsys, line, match):
    import tomllib

    from segml.pipeline import check_run_config

    cfg = _config(tmp_path)
    key = line.split(" = ")[0]
    text = re.sub(rf"^{key} = .*\n", "", cfg.read_text(), flags=re.M)  # replace, not repeat
    cfg.write_text(text.replace("[segmentation]\n", f"[segmentation]\n{line}\n"))
    cli_error(["select-k", "--config", str(cfg), "--quiet"], capsys, match=match)
    assert not (tmp_path / "demo").exists()  # refused before the demo was generated
    raw = tomllib.loads(cfg.read_text())
    with pytest.raises(ConfigError, match=match):
        check_run_config(validate_config(raw))

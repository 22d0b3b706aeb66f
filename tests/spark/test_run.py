"""``segml run --engine spark``: the same run folder and model as the default engine."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segml.cli import main
from segml.config import validate_config
from segml.datasets import make_portfolio
from segml.errors import EngineError, InputFileError, SchemaError
from segml.features import FeatureSpec
from segml.persistence import load_model
from segml.spark.read import read_run_input, spark_charset, spark_date_pattern
from segml.spark.run import check_spark_run, spark_run_spec

#: columns both engines build, so both runs cluster the same features
SPEC_COLUMNS = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
                "return_rate"]


def _config(tmp, data: dict, extra: str = "") -> str:
    lines = ["[data]"] + [f'{k} = "{v}"' for k, v in data.items()]
    text = "\n".join(lines) + f"""
[features]
as_of = "2024-06-30"
spec = "{tmp / 'spec.toml'}"
[segmentation]
algorithms = ["kmeans"]
stability = false
[output]
reports_dir = "{tmp / 'reports'}"
models_dir = "{tmp / 'models'}"
[engine]
master = "local[1]"
partitions = 2
{extra}
"""
    path = tmp / "segml.toml"
    path.write_text(text)
    return str(path)


def _planted(tmp, n_per: int = 40, seed: int = 0) -> pd.Series:
    """Three tight behaviour profiles (orders, order value, recency, tenure); returns truth."""
    rng = np.random.default_rng(seed)
    end, rows, cust = pd.Timestamp("2024-06-30"), [], []
    # (orders, order value, days since the last and the first order)
    for g, (n_tx, amount, last, first) in enumerate([(2, 20.0, 300, 700), (24, 60.0, 5, 700),
                                                      (6, 600.0, 60, 400)]):
        for i in range(n_per):
            cid = f"g{g}_{i:03d}"
            for d in np.linspace(first, last, n_tx) + rng.uniform(-1, 1, n_tx):
                rows.append((cid, end - pd.Timedelta(days=float(d)),
                             amount * float(rng.lognormal(0, 0.05))))
            cust.append((cid, end - pd.Timedelta(days=first + 10), g))
    pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"]).to_parquet(
        tmp / "tx.parquet", index=False)
    cu = pd.DataFrame(cust, columns=["customer_id", "signup_date", "truth"])
    cu[["customer_id", "signup_date"]].to_parquet(tmp / "cu.parquet", index=False)
    FeatureSpec.default(SPEC_COLUMNS).to_toml(tmp / "spec.toml")
    return cu.set_index("customer_id")["truth"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sparkrun")
    return tmp, _planted(tmp)


@pytest.fixture(scope="module")
def both_runs(spark, files):
    """One pandas run and one Spark run (strategy "sample") of the same files, k chosen."""
    tmp, _ = files
    cfg = _config(tmp, {"transactions": tmp / "tx.parquet", "customers": tmp / "cu.parquet"})
    assert main(["run", "--config", cfg, "--run-id", "pandas", "--quiet"]) == 0
    assert main(["run", "--config", cfg, "--run-id", "spark", "--engine", "spark",
                 "--quiet"]) == 0
    return tmp, cfg


def test_spark_run_writes_the_same_folder_and_labels(both_runs, files):
    tmp, _ = both_runs
    truth = files[1]
    pan, spk = tmp / "reports" / "pandas", tmp / "reports" / "spark"
    listing = sorted(p.relative_to(spk).as_posix() for p in spk.rglob("*"))
    assert listing == sorted(p.relative_to(pan).as_posix() for p in pan.rglob("*"))
    assert {"report.html", "segments.csv", "segments.parquet", "profiles.csv", "metrics.json",
            "config.toml"} <= set(listing)
    a = pd.read_csv(pan / "segments.csv", dtype={"customer_id": str}).set_index("customer_id")
    b = pd.read_csv(spk / "segments.csv", dtype={"customer_id": str}).set_index("customer_id")
    assert list(a.index) == list(b.index)
    # the same selection and the default engine's fit of the same frame: exact labels
    np.testing.assert_array_equal(a["segment_id"].to_numpy(), b["segment_id"].to_numpy())
    assert (b["segment_id"] >= 0).sum() == len(truth)
    assert adjusted_rand_score(truth.loc[b.index], b["segment_id"]) >= 0.8
    metrics = json.loads((spk / "metrics.json").read_text())
    sel = metrics["selection"]
    # k chosen by the default engine's rule on the driver: same verdict, k and algorithm
    rec_p = json.loads((pan / "metrics.json").read_text())["selection"]["recommended"]
    rec_s = sel["recommended"]
    assert rec_s["verdict"] == rec_p["verdict"] == "segments" and rec_s["rule"] == "gap"
    assert (rec_s["k"], rec_s["algorithm"]) == (rec_p["k"], rec_p["algorithm"])
    assert rec_s["k"] >= 2
    assert sel["settings"]["engine"] == "spark" and sel["settings"]["strategy"] == "sample"
    assert sel["settings"]["k_selection"] == "driver"
    overall = metrics["validation"]["overall"]
    assert overall["silhouette_sqeuclidean_full_spark"] == pytest.approx(
        overall["silhouette_sqeuclidean_full"], abs=1e-9)
    assert sel["settings"]["silhouette_sqeuclidean_full_spark"] == pytest.approx(
        overall["silhouette_sqeuclidean_full"], abs=1e-9)
    assert 'engine = "pandas"' not in (spk / "config.toml").read_text()


def test_spark_model_loads_and_segml_score_uses_it(both_runs, tmp_path):
    tmp, cfg = both_runs
    model = load_model(tmp / "models" / "spark")
    chosen = json.loads((tmp / "reports" / "spark" / "metrics.json").read_text())
    assert model.n_segments == chosen["selection"]["recommended"]["k"]
    out = tmp_path / "scores.csv"
    assert main(["score", str(tmp / "models" / "spark"), "--config", cfg, "--out",
                 str(out)]) == 0
    scored = pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")
    run = pd.read_csv(tmp / "reports" / "spark" / "segments.csv",
                      dtype={"customer_id": str}).set_index("customer_id")
    both = run.index.intersection(scored.index)
    assert len(both) == len(run)
    np.testing.assert_array_equal(scored.loc[both, "segment_id"].to_numpy(),
                                  run.loc[both, "segment_id"].to_numpy())
    assert adjusted_rand_score(scored.loc[both, "segment_id"], run.loc[both, "segment_id"]) \
        == pytest.approx(1.0)


def _run_both(tmp, extra: str = "") -> tuple[dict, dict, pd.DataFrame, pd.DataFrame]:
    """k chosen (no --k) by the default engine and on Spark; metrics and segments of each."""
    cfg = _config(tmp, {"transactions": tmp / "tx.parquet", "customers": tmp / "cu.parquet"},
                  extra)
    assert main(["run", "--config", cfg, "--run-id", "pandas", "--quiet"]) == 0
    assert main(["run", "--config", cfg, "--run-id", "spark", "--engine", "spark",
                 "--quiet"]) == 0
    out = []
    for run in ("pandas", "spark"):
        folder = tmp / "reports" / run
        out.append(json.loads((folder / "metrics.json").read_text()))
    for run in ("pandas", "spark"):
        out.append(pd.read_csv(tmp / "reports" / run / "segments.csv",
                               dtype={"customer_id": str}).set_index("customer_id"))
    return tuple(out)


def test_spark_run_says_no_clear_segments_and_writes_the_fallback(spark, tmp_path):
    pf = make_portfolio(200, n_segments=1, random_state=2)  # one planted profile: null case
    pf.transactions.to_parquet(tmp_path / "tx.parquet", index=False)
    pf.customers[["customer_id", "signup_date"]].to_parquet(tmp_path / "cu.parquet",
                                                            index=False)
    FeatureSpec.default(SPEC_COLUMNS).to_toml(tmp_path / "spec.toml")
    # strategy "distributed": nothing to refit with MLlib, the fallback is the run's partition
    pan, spk, a, b = _run_both(tmp_path, 'strategy = "distributed"')
    for m in (pan, spk):
        assert m["selection"]["recommended"]["verdict"] == "no clear segments"
        assert m["selection"]["recommended"]["k"] == 1
    sp, ss = pan["selection"]["settings"], spk["selection"]["settings"]
    assert ss["partition"] == sp["partition"] == "rfm_groups"
    assert ss["verdict_note"] == sp["verdict_note"]
    assert "nothing to fit with MLlib" in ss["distributed_note"]
    assert "silhouette_sqeuclidean_full_spark" not in spk["validation"]["overall"]
    assert list(a.index) == list(b.index)
    np.testing.assert_array_equal(a["segment_id"].to_numpy(), b["segment_id"].to_numpy())
    assert list(a["segment_name"]) == list(b["segment_name"])
    assert load_model(tmp_path / "models" / "spark").kind == "rules"


# ------------------------------------------------------------------------- refusals
def _cfg(**over):
    cfg = validate_config({"engine": {"engine": "spark"}})
    for section, values in over.items():
        cfg[section] = {**cfg[section], **values}
    return cfg


def test_pandas_only_data_options_are_refused():
    with pytest.raises(EngineError, match=r"\[data\] dedupe=True is only implemented by the "
                                          r"pandas reader.*Fix: remove it.*--dedupe"):
        check_spark_run(_cfg(data={"dedupe": True}))
    with pytest.raises(EngineError, match=r"'mall_customers' has no transactions.*Fix"):
        check_spark_run(_cfg(data={"loader": "mall_customers"}))
    with pytest.raises(EngineError, match=r"reads CSV and Parquet files only.*Fix: convert"):
        check_spark_run(_cfg(data={"transactions": "x.xlsx"}))


def test_distributed_mixture_is_refused():
    check_spark_run(_cfg(segmentation={"k_min": 1}))  # k = 1 is searched on Spark too
    with pytest.raises(EngineError, match=r"full covariances only.*\['diag'\].*Fix"):
        check_spark_run(_cfg(engine={"engine": "spark", "strategy": "distributed"}))


def test_spec_families_not_built_on_spark_are_refused(tmp_path):
    spec = FeatureSpec.default(["monetary", "frequency", "age", "clv"])
    spec.to_toml(tmp_path / "s.toml")
    with pytest.raises(EngineError, match=r"families the Spark engine does not build "
                                          r"\(.*age.*\).*Fix: drop those"):
        spark_run_spec(_cfg(features={"spec": str(tmp_path / "s.toml")}))


def test_date_pattern_translation():
    assert spark_date_pattern("%d/%m/%Y %H:%M") == "dd/MM/yyyy HH:mm"
    assert spark_date_pattern("%Y-%m-%dT%H:%M:%S") == "yyyy-MM-dd'T'HH:mm:ss"
    assert spark_date_pattern("ISO8601") is None
    with pytest.raises(EngineError, match=r"timestamp_format='epoch_s'|%a"):
        spark_date_pattern("%a %d")


def test_spark_reader_errors(spark, tmp_path):
    tx = tmp_path / "tx.csv"
    tx.write_text("cust,date,value\na,2024-01-02,10\nb,02/01/2024,5\nc,2024-01-05,x\n")
    cfg = _cfg(data={"transactions": str(tx)})
    with pytest.raises(SchemaError, match=r"transactions.customer_id: required column "
                                          r"'customer_id' is missing.*Fix: map it"):
        read_run_input(spark, cfg)
    cfg = _cfg(data={"transactions": str(tx),
                     "mapping": {"customer_id": "cust", "timestamp": "date",
                                 "amount": "value"}})
    with pytest.raises(SchemaError, match=r"transactions.timestamp: 1 of 3 values do not parse "
                                          r"as datetime \(e.g. '02/01/2024'\).*timestamp_format"):
        read_run_input(spark, cfg)
    cfg["data"]["timestamp_format"] = "%Y-%m-%d"
    tx.write_text("cust,date,value\na,2024-01-02,10\nb,2024-01-03,5\nc,2024-01-05,x\n")
    with pytest.raises(SchemaError, match=r"transactions.amount: 1 of 3 values do not parse as "
                                          r"float \(e.g. 'x'\)"):
        read_run_input(spark, cfg)
    tx.write_text("cust,date,value\na,2024-01-02,10\nb,2024-01-03,-5\n,2024-01-05,1\n")
    with pytest.raises(SchemaError, match=r"transactions.customer_id: 1 of 3 values are "
                                          r"missing"):
        read_run_input(spark, cfg)
    tx.write_text("cust,date,value\na,2024-01-02,10\nb,2024-01-03,-5\n")
    got = read_run_input(spark, cfg)
    rows = got.transactions.orderBy("customer_id").collect()
    assert [(r["customer_id"], r["amount"]) for r in rows] == [("a", 10.0), ("b", -5.0)]
    assert str(rows[1]["timestamp"]).startswith("2024-01-03")
    assert got.quality["transactions"].flagged == {
        "negative amount (kept, revenue net of returns)": 1}
    cu = tmp_path / "cu.csv"
    cu.write_text("customer_id,signup_date\na,2024-01-01\na,2024-01-02\n")
    cfg["data"]["customers"] = str(cu)
    with pytest.raises(SchemaError, match=r"customers.customer_id: 1 duplicate ids \(e.g. "
                                          r"'a'\).*Fix"):
        read_run_input(spark, cfg)
    cfg["data"]["customers"] = str(tmp_path / "nope.csv")
    with pytest.raises(InputFileError, match=r"'.*nope.csv' does not exist. Fix"):
        read_run_input(spark, cfg)


def test_spark_reader_refuses_bytes_the_encoding_cannot_decode(spark, tmp_path):
    tx = tmp_path / "tx.csv"
    tx.write_bytes(b"customer_id,timestamp,amount\nM\xfcller,2024-01-02,10.5\n"
                   b"abc,2024-01-03,3\nabd,2024-01-04,4\n")
    cfg = _cfg(data={"transactions": str(tx)})
    with pytest.raises(SchemaError, match=r"transactions.customer_id: 1 of 3 values hold bytes "
                                          r"that are not valid utf-8 \(.*'M\ufffdller'\)\. Fix: "
                                          r"give the file's encoding.*--encoding iso-8859-1"):
        read_run_input(spark, cfg)
    cfg["data"]["encoding"] = "latin-1"  # the fix works: the id is read as written
    got = read_run_input(spark, cfg).transactions.orderBy("customer_id").collect()
    assert [r["customer_id"] for r in got] == ["Müller", "abc", "abd"]
    cfg["data"]["encoding"] = "cp1252"  # Python reads it, Spark's CSV reader does not
    with pytest.raises(EngineError, match=r"data.encoding='cp1252' is not an encoding Spark's "
                                          r"CSV reader takes.*Fix: convert the file to UTF-8 "
                                          r"\(e.g. iconv -f cp1252 -t utf-8\)"):
        read_run_input(spark, cfg)
    assert spark_charset("ISO-8859-1") == "iso-8859-1" and spark_charset("utf8") == "utf-8"
    with pytest.raises(EngineError, match=r"data.encoding='klingon'"):
        spark_charset("klingon")
    cu = tmp_path / "cu.csv"
    cu.write_bytes(b"customer_id,region\nabc,Nord\nabd,S\xfcd\n")
    cfg["data"]["encoding"] = None
    cfg["data"]["transactions"] = str(tmp_path / "ok.csv")
    (tmp_path / "ok.csv").write_text("customer_id,timestamp,amount\nabc,2024-01-03,3\n")
    cfg["data"]["customers"] = str(cu)
    with pytest.raises(SchemaError, match=r"customers.region: 1 of 2 values hold bytes that "
                                          r"are not valid utf-8.*--encoding iso-8859-1"):
        read_run_input(spark, cfg)

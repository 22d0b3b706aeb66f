"""`segml pilot`: the CRM list by suffix, no overwrite without --force, user errors exit 2."""

from __future__ import annotations

import pandas as pd

from segml.cli import main


def _scores(tmp_path):
    ids = [f"c{i:02d}" for i in range(20)]
    path = tmp_path / "scores.csv"
    pd.DataFrame({"customer_id": ids, "segment_id": [0] * 8 + [1] * 12,
                  "segment_name": ["lo"] * 8 + ["hi"] * 12}).to_csv(path, index=False)
    return path


def test_pilot_writes_csv_and_parquet_and_refuses_overwrite(tmp_path, capsys):
    scores = _scores(tmp_path)
    out = tmp_path / "pilot.csv"
    assert main(["pilot", str(scores), "--fraction", "0.5", "--out", str(out)]) == 0
    got = pd.read_csv(out, dtype=str)
    assert got.columns.tolist() == ["customer_id", "segment", "arm"]
    # hi: 6 in the pilot -> 3 control, 3 treated; lo: 4 -> 2, 2
    assert got.groupby(["segment", "arm"]).size().to_dict() == {
        ("hi", "control"): 3, ("hi", "treatment"): 3, ("lo", "control"): 2,
        ("lo", "treatment"): 2}
    assert "10 customers (5 treatment, 5 control)" in capsys.readouterr().out
    assert main(["pilot", str(scores), "--fraction", "0.5", "--out", str(out)]) == 2
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
    assert main(["pilot", str(scores), "--size", "4", "--out", str(out), "--force"]) == 0
    assert len(pd.read_csv(out)) == 4
    pq = tmp_path / "pilot.parquet"
    assert main(["pilot", str(scores), "--size", "4", "--segment-column", "segment_id",
                 "--out", str(pq)]) == 0
    assert sorted(pd.read_parquet(pq)["segment"].unique().tolist()) == [0, 1]


def test_pilot_user_errors_exit_2(tmp_path, capsys):
    scores = _scores(tmp_path)
    assert main(["pilot", str(scores), "--size", "21", "--out", str(tmp_path / "p.csv")]) == 2
    assert "size=21 is larger than the base of 20 customers" in capsys.readouterr().err
    assert main(["pilot", str(scores), "--fraction", "0.1", "--out",
                 str(tmp_path / "p.csv")]) == 2
    assert "segment(s) too small to hold both a treatment and a control arm" in \
        capsys.readouterr().err
    assert main(["pilot", str(scores), "--fraction", "0.5", "--out",
                 str(tmp_path / "p.txt")]) == 2
    assert "segml pilot writes .csv or .parquet" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def test_pilot_balance_check_on_covariates(tmp_path, capsys):
    scores = _scores(tmp_path)
    cov = tmp_path / "features.csv"
    pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(20)],
                  "age": [30.0 + i for i in range(20)], "region": ["n", "s"] * 10,
                  "other": range(20)}).to_csv(cov, index=False)
    argv = ["pilot", str(scores), "--fraction", "1.0", "--covariates", str(cov),
            "--balance-on", "age,region", "--out", str(tmp_path / "p.csv")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "covariate" in out and " age " in out and " region " in out and "other" not in out
    argv[-1] = str(tmp_path / "q.csv")
    argv[argv.index("age,region")] = "age,income"
    assert main(argv) == 2
    assert "no column(s) ['income']" in capsys.readouterr().err

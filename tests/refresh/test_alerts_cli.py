"""`segml alerts`: new alerts since the last run (hand-made history), --all, files, errors."""

from __future__ import annotations

import pandas as pd
import pytest
from test_refresh import PREV, _history

from segml.cli import main
from segml.persistence import save_model
from segml.scoring import score


@pytest.fixture(scope="module")
def setup(tmp_path_factory, fit_model):
    root = tmp_path_factory.mktemp("alerts_cli")
    tx = _history()
    tx.to_csv(root / "tx.csv", index=False)
    model = fit_model(tx, None, PREV, k=2, name="alerts")
    path = save_model(model, root=root / "models")
    score(model, tx, None, PREV).frame.assign(as_of="2024-09-30").to_csv(root / "prev.csv",
                                                                         index=False)
    return root, path


def _argv(root, source, *extra):
    return ["alerts", str(source), "--transactions", str(root / "tx.csv"), "--as-of",
            "2024-12-31", "--previous", str(root / "prev.csv"), *extra]


def test_new_alerts_from_a_model(setup, capsys):
    root, path = setup
    out = root / "new.csv"
    assert main(_argv(root, path, "--out", str(out), "--quiet")) == 0
    got = capsys.readouterr()
    assert got.err == ""
    # A was lost years ago and alerted at the previous run too: not new; B and D are
    assert ("2 new alert(s) since the last run (2 at the previous run), as of 2024-12-31 vs "
            "2024-09-30") in got.out
    new = pd.read_csv(out, dtype={"customer_id": str})
    assert new.columns.tolist() == ["customer_id", "alert", "value", "threshold", "message"]
    assert new[["customer_id", "value"]].values.tolist() == [["B", 122.0], ["D", 87.0]]
    assert main(_argv(root, path, "--out", str(out))) == 2
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
    assert main(_argv(root, path, "--out", str(out), "--force", "--quiet")) == 0


def test_all_open_alerts_with_the_new_flag(setup, capsys):
    root, path = setup
    out = root / "all.parquet"
    assert main(_argv(root, path, "--all", "--out", str(out), "--progress")) == 0
    got = capsys.readouterr()
    assert "[1/2] loading the model and the data ..." in got.err
    assert "3 open alert(s), 2 new since the last run" in got.out
    every = pd.read_parquet(out)
    assert every[["customer_id", "value", "new"]].values.tolist() == [
        ["A", 1496.0, False], ["B", 122.0, True], ["D", 87.0, True]]


def test_alerts_of_a_refresh_folder(setup, capsys):
    root, path = setup
    folder = root / "q4"
    assert main(["refresh", str(path), "--transactions", str(root / "tx.csv"), "--as-of",
                 "2024-12-31", "--previous", str(root / "prev.csv"), "--out",
                 str(folder)]) == 0
    capsys.readouterr()
    assert main(["alerts", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "2 new alert(s) since the last run (2 at the previous run), as of 2024-12-31" in out
    lines = out.splitlines()
    assert any(ln.split()[:2] == ["B", "activity_drop"] for ln in lines)
    assert not any(ln.split()[:1] == ["A"] for ln in lines)
    assert main(["alerts", str(folder), "--all"]) == 2
    err = capsys.readouterr().err
    assert "keeps the new alerts only" in err and "Fix: leave --all out" in err
    assert main(["alerts", str(folder), "--as-of", "2025-01-01"]) == 2
    assert "would be ignored. Fix: leave --as-of out" in capsys.readouterr().err


def test_alerts_user_errors_exit_2(setup, capsys):
    root, path = setup
    argv = _argv(root, path)
    argv = argv[:argv.index("--previous")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--previous SCORES needed" in err and "Fix: pass them" in err
    assert main(["alerts", str(root)]) == 2
    assert "neither a folder written by segml refresh" in capsys.readouterr().err
    assert main(_argv(root, path, "--out", str(root / "a.txt"))) == 2
    assert "Fix: end --out with .csv or .parquet" in capsys.readouterr().err
    assert not (root / "a.txt").exists()

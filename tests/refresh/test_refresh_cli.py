"""`segml refresh`: a saved model, the previous scores, the folder and its page; errors exit 2."""

from __future__ import annotations

import pandas as pd
import pytest

from segml.cli import main
from segml.datasets import make_portfolio
from segml.persistence import save_model
from segml.scoring import score


@pytest.fixture(scope="module")
def setup(tmp_path_factory, fit_model):
    root = tmp_path_factory.mktemp("refresh_cli")
    pf = make_portfolio(300, random_state=2)
    pf.write(root / "data", format="csv")
    prev = pf.as_of - pd.Timedelta(days=91)
    model = fit_model(pf.transactions, pf.customers, prev, k=3, name="cli")
    path = save_model(model, root=root / "models")
    score(model, pf.transactions, pf.customers, prev).frame.to_csv(root / "prev.csv",
                                                                    index=False)
    return root, path, pf


def _argv(root, path, out, *extra):
    return ["refresh", str(path), "--transactions", str(root / "data" / "transactions.csv"),
            "--customers", str(root / "data" / "customers.csv"), "--as-of", "2024-12-31",
            "--previous", str(root / "prev.csv"), "--out", str(out), *extra]


def test_refresh_writes_the_folder_and_refuses_overwrite(setup, capsys):
    root, path, pf = setup
    out = root / "q4"
    assert main(_argv(root, path, out, "--previous-as-of", "2024-10-01")) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "drift.csv", "migration.csv", "movers.csv", "new_alerts.csv", "refresh.html",
        "scores.csv", "segments.csv", "summary.json"]
    printed = capsys.readouterr().out
    assert "refresh 2024-12-31 vs 2024-10-01: 300 customers scored" in printed
    movers = pd.read_csv(out / "movers.csv")
    assert movers.columns.tolist() == ["customer_id", "from_segment", "to_segment"]
    alerts = pd.read_csv(out / "new_alerts.csv")
    assert alerts.columns.tolist() == ["customer_id", "alert", "value", "threshold", "message"]
    page = (out / "refresh.html").read_text()
    assert "<h2>New alerts since the previous run" in page and "<script" not in page
    assert main(_argv(root, path, out, "--previous-as-of", "2024-10-01")) == 2
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
    # the next quarter reads this run's scores.csv, whose as_of column gives its date
    nxt = ["refresh", str(path), "--transactions", str(root / "data" / "transactions.csv"),
           "--customers", str(root / "data" / "customers.csv"), "--as-of", "2025-01-01",
           "--previous", str(out / "scores.csv"), "--out", str(root / "q1")]
    assert main(nxt) == 0
    assert "vs 2024-12-31" in capsys.readouterr().out


def test_refresh_user_errors_exit_2(setup, capsys):
    root, path, _ = setup
    assert main(_argv(root, path, root / "x")) == 2
    assert "previous_as_of is needed" in capsys.readouterr().err
    argv = _argv(root, path, root / "y", "--previous-as-of", "2024-10-01")
    argv.remove("--as-of")
    argv.remove("2024-12-31")
    assert main(argv) == 2
    assert "segml refresh needs the date of this run. Fix: pass --as-of" in \
        capsys.readouterr().err
    assert not (root / "x").exists() and not (root / "y").exists()

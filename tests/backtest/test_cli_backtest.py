"""`segml backtest`: tables and page written from a transactions file; no overwrite without
--force; user errors exit 2 with the message."""

from backtest_data import tiny_transactions

from segml.cli import main


def _csv(tmp_path):
    path = tmp_path / "tx.csv"
    tx = tiny_transactions()
    tx.assign(timestamp=tx["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(path,
                                                                                   index=False)
    return path


def test_backtest_writes_tables_and_page(tmp_path, capsys):
    out = tmp_path / "bt"
    args = ["backtest", "--transactions", str(_csv(tmp_path)), "--cutoffs",
            "2024-03-31,2024-06-30", "--horizon", "3M", "--segmenters", "abc",
            "--n-boot", "5", "--out", str(out)]
    assert main(args) == 0
    shown = capsys.readouterr().out
    assert "verdict:" in shown and "recency_deciles" in shown
    names = sorted(p.name for p in out.iterdir())
    assert names == [".segml-backtest", "assignments.csv", "backtest.html", "comparisons.csv",
                     "overall.csv", "segments.csv", "stability.csv", "validity.csv",
                     "verdict.txt"]
    page = (out / "backtest.html").read_text(encoding="utf-8")
    assert "Verdict" in page and "data:image/png;base64," in page
    assert main(args) == 2  # exists: refused
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_backtest_user_errors(tmp_path, capsys):
    base = ["backtest", "--transactions", str(_csv(tmp_path)), "--horizon", "3M",
            "--n-boot", "0", "--out", str(tmp_path / "bt")]
    assert main([*base, "--cutoffs", "2024-12-31"]) == 2
    assert "after the last transaction day 2024-12-29" in capsys.readouterr().err
    assert main([*base, "--cutoffs", "weekly"]) == 2
    assert "cutoffs='weekly' is not a calendar rule" in capsys.readouterr().err
    assert main([*base, "--cutoffs", "quarterly", "--segmenters", "kmeans"]) == 2
    assert "unknown segmenter 'kmeans'" in capsys.readouterr().err
    assert not (tmp_path / "bt").exists()

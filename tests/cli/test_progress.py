"""CLI progress (TTY, --quiet, --progress) and the compact select-k table."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segml.cli import main
from segml.cli._common import _Progress
from segml.cli.tables import compact_sweep_table

SMALL = ("[demo]\nn_customers = 300\nfolder = 'data/demo'\n[segmentation]\n"
         "algorithms = ['kmeans', 'gmm']\nk_min = 2\nk_max = 9\nstability = false\n"
         "rule = 'votes'\n")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("tty", "quiet", "force", "shown"), [
    (True, False, False, True), (False, False, False, False), (False, False, True, True),
    (True, True, False, False), (False, True, True, False),
])
def test_progress_shown_on_a_terminal_or_when_forced(monkeypatch, tty, quiet, force, shown):
    err = _Tty() if tty else io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    p = _Progress(2, quiet=quiet, force=force)
    p("loading")
    p("fitting")
    p.done()
    text = err.getvalue()
    assert p.bars is shown
    if shown:
        lines = text.splitlines()
        assert lines[0] == "[1/2] loading ..." and lines[2] == "[2/2] fitting ..."
        assert lines[1].strip().startswith("done in ") and len(lines) == 4
    else:
        assert text == ""
    q = _Progress(None, force=True)
    q("cutoff 2024-03-31")
    assert "[1] cutoff 2024-03-31 ..." in err.getvalue()


def test_notes_take_no_step_number(monkeypatch):
    # a 1M-customer run printed "[11/10]": its three notes had each taken a step
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    p = _Progress(2, force=True)
    p("choosing k")
    p("note: k selection screened for speed")
    p("fitting")
    p.done()
    lines = err.getvalue().splitlines()
    assert lines[0] == "[1/2] choosing k ..."
    assert lines[1] == "      note: k selection screened for speed"
    assert lines[2].strip().startswith("done in ") and lines[3] == "[2/2] fitting ..."
    assert len(lines) == 5
    p("note: quiet later")
    q = _Progress(2, quiet=True)
    q("note: not shown")
    assert q.i == 0 and p.i == 2


def _sweep(n_alg: int = 2) -> pd.DataFrame:
    rows = []
    for alg, cov in [("kmeans", None), ("gmm", "diag")][:n_alg]:
        for k in range(2, 11):
            rows.append({"algorithm": alg, "covariance_type": cov, "k": k,
                         "n_segments_found": k, "n_fit_samples": 123456,
                         "dtype": "float64", "inertia": 123456.789 / k,
                         "silhouette_sqeuclidean_full": 0.5 - k / 100,
                         "silhouette_euclidean_sample": 0.4 - k / 100,
                         "silhouette_euclidean_sample_ci_low": 0.3,
                         "silhouette_euclidean_sample_ci_high": 0.5,
                         "negative_silhouette_share": 0.01, "calinski_harabasz": 1234.5 / k,
                         "davies_bouldin": 1.0 + k / 10, "min_segment_share": 0.2 / k,
                         "fit_seconds": 1.5, "metrics_seconds": 0.2,
                         "stability_seconds": 3.0, "too_small": k > 6, "inertia_knee": k == 4,
                         "stability_ari_mean": 0.9 - k / 50, "bic": -1e6 + k,
                         **{f"extra_criterion_{i}": np.pi for i in range(6)}})
    return pd.DataFrame(rows)


def test_compact_sweep_table_fits_100_columns():
    table = _sweep()
    assert table.shape[1] == 28  # the full table: wider than any terminal
    text = compact_sweep_table(table, {"algorithm": "gmm", "k": 3, "covariance_type": "diag"})
    lines = text.splitlines()
    assert len(lines) == 1 + len(table)
    assert max(map(len, lines)) <= 100
    head = lines[0].split()
    assert head[:6] == ["model", "k", "verdict", "silhouette", "stability", "min"]
    chosen = [ln for ln in lines if "<- chosen" in ln]
    assert len(chosen) == 1 and chosen[0].split()[:4] == ["gmm/diag", "3", "<-", "chosen"]
    assert lines[1].split()[:3] == ["kmeans", "2", "0.48"]
    assert sum("too small" in ln for ln in lines) == 8  # k = 7..10, both algorithms
    narrow = compact_sweep_table(table, None, width=40)
    assert max(map(len, narrow.splitlines())) <= 40 or narrow.splitlines()[0].split() == [
        "model", "k", "verdict"]


def test_select_k_prints_compact_table_and_writes_the_full_one(tmp_path, monkeypatch,
                                                               capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(SMALL)
    # relative: the "full table -> path" line is under 100 characters whatever the tmp path
    # (pytest-xdist puts tmp_path one folder deeper, popen-gw0/, which made it 109)
    out = Path("sweep.csv")
    assert main(["select-k", "--config", "c.toml", "--quiet", "--table-out", str(out)]) == 0
    got = capsys.readouterr()
    assert got.err == ""  # --quiet: no progress, no bar
    lines = got.out.splitlines()
    assert max(map(len, lines)) <= 100
    rec = next(ln for ln in lines if ln.startswith("recommended: "))
    assert "nan" not in rec and "None" not in rec and " k=" in rec
    assert lines[0].split()[:3] == ["model", "k", "verdict"]
    assert sum("<- chosen" in ln for ln in lines) == 1
    full = pd.read_csv(out)
    assert len(full) == 16 and {"silhouette_sqeuclidean_full", "k"} <= set(full.columns)
    assert f"full table ({full.shape[1]} columns) -> {out}" in got.out
    # the file is not overwritten without --force (checked before any work)
    assert main(["select-k", "--config", "c.toml", "--quiet", "--table-out", str(out)]) == 2
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
    assert main(["select-k", "--config", "c.toml", "--table-out", "sweep.txt"]) == 2
    assert "Fix: end --out with .csv or .parquet" in capsys.readouterr().err


def test_select_k_progress_when_forced(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(SMALL.replace("'kmeans', 'gmm'", "'kmeans'"))
    assert main(["select-k", "--config", "c.toml", "--progress"]) == 0
    err = capsys.readouterr().err
    assert "[1/3] loading the data ..." in err
    assert "[3/3] sweeping k in 2..9 (kmeans) on " in err
    assert "select_k" in err  # the sweep's own bar, per fit


def test_backtest_progress_per_cutoff(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text("[demo]\nn_customers = 300\nfolder = 'data/demo'\n")
    argv = ["backtest", "--config", "c.toml", "--cutoffs", "2024-06-30,2024-09-30",
            "--horizon", "90D", "--segmenters", "rfm_groups", "--n-boot", "20", "--out", "bt"]
    assert main([*argv, "--progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    steps = [ln for ln in err if ln.startswith("[")]
    assert steps == ["[1] loading the data ...",
                     "[2] cutoff 2024-06-30: features, refit rfm_groups, none, "
                     "recency_deciles ...",
                     "[3] cutoff 2024-09-30: features, refit rfm_groups, none, "
                     "recency_deciles ...",
                     "[4] writing the page and the tables ..."]
    assert sum(ln.strip().startswith("done in ") for ln in err) == 4
    # not a terminal and no --progress (pytest's capture): silent
    assert main([*argv, "--force"]) == 0
    assert capsys.readouterr().err == ""

"""`segml export` of a real small `segml run` and `segml refresh`, read back as users would."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segml.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("export_run")
    cfg = root / "c.toml"
    cfg.write_text(
        f"[demo]\nn_customers = 400\nfolder = '{root / 'data'}'\n"
        "[segmentation]\nalgorithms = ['kmeans']\nk_min = 3\nk_max = 3\nn_stability = 2\n"
        f"[output]\nreports_dir = '{root / 'reports'}'\nmodels_dir = '{root / 'models'}'\n"
        "run_id = 'q4'\n")
    assert main(["run", "--config", str(cfg), "--quiet", "--export", str(root / "at-run")]) == 0
    return root, root / "reports" / "q4"


def test_run_export_matches_segments_csv_in_every_format(run, capsys):
    root, folder = run
    seg = pd.read_csv(folder / "segments.csv", dtype={"customer_id": str},
                      keep_default_na=False, na_values=[""])
    seg = seg.sort_values("customer_id").reset_index(drop=True)
    rules = ["rfm_groups", "abc", "portfolio_roles", "lifecycle"]
    for fmt in ("csv", "parquet", "xlsx"):
        assert main(["export", str(folder), "--to", str(root / fmt), "--format", fmt]) == 0
    capsys.readouterr()
    tables = {
        "csv": pd.read_csv(root / "csv" / "customers.csv", dtype={"customer_id": str},
                           keep_default_na=False, na_values=[""]),
        "parquet": pd.read_parquet(root / "parquet" / "customers.parquet"),
    }
    rows = list(openpyxl.load_workbook(root / "xlsx" / "customers.xlsx")["customers"]
                .iter_rows(values_only=True))
    tables["xlsx"] = pd.DataFrame(rows[1:], columns=rows[0])
    for fmt, t in tables.items():
        assert t.columns.tolist() == [
            "customer_id", "as_of", "segment_id", "segment_name", "role", "action",
            "confidence", "fits_no_segment", *(f"rule_{r}" for r in rules)], fmt
        assert len(t) == len(seg) == 400, fmt  # one row per customer, prospects included
        assert t["customer_id"].tolist() == seg["customer_id"].tolist(), fmt
        assert (t["as_of"] == "2024-12-31").all(), fmt
        assert t["segment_id"].astype(int).tolist() == seg["segment_id"].tolist(), fmt
        for c in ("segment_name", "role"):
            assert t[c].tolist() == seg[c].tolist(), (fmt, c)
        assert t["action"].fillna("").tolist() == seg["action"].fillna("").tolist(), fmt
        np.testing.assert_allclose(t["confidence"].astype(float), seg["confidence"],
                                   atol=5e-5 + 1e-12, err_msg=fmt)
        assert t["fits_no_segment"].astype(bool).tolist() == \
            seg["fits_no_segment"].astype(bool).tolist(), fmt
        for r in rules:
            assert t[f"rule_{r}"].tolist() == seg[r].astype(str).tolist(), (fmt, r)
    # one row checked by hand: the first clustered customer, in the CSV text itself
    first = seg.loc[seg["segment_id"] >= 0].iloc[0]
    line = next(ln for ln in (root / "csv" / "customers.csv").read_text().splitlines()
                if ln.startswith(first["customer_id"] + ","))
    assert line.startswith(f"{first['customer_id']},2024-12-31,{first['segment_id']},")
    assert f",{round(first['confidence'], 4)}," in line
    assert (root / "csv" / "customers.csv").read_bytes()[:3] != b"\xef\xbb\xbf"
    # segml run --export wrote the same file right after the run
    assert (root / "at-run" / "customers.csv").read_bytes() == \
        (root / "csv" / "customers.csv").read_bytes()


def test_refresh_export_with_the_model_and_its_alerts(run, capsys):
    root, folder = run
    model = json.loads((folder / "metrics.json").read_text())["model_path"]
    data = root / "data"
    out = root / "refresh"
    argv = ["refresh", model, "--transactions", str(data / "transactions.parquet"),
            "--customers", str(data / "customers.parquet"), "--as-of", "2024-12-31",
            "--previous", str(folder / "segments.csv"), "--previous-as-of", "2024-09-30",
            "--out", str(out)]
    assert main([*argv, "--export", str(root / "rp"), "--export-format", "xlsx",
                 "--excel-bom"]) == 2  # refused before any work
    assert "--excel-bom applies to CSV only" in capsys.readouterr().err
    assert not out.exists() and not (root / "rp").exists()
    assert main([*argv, "--export", str(root / "rp"), "--export-format", "parquet"]) == 0
    assert main(["export", str(out), "--to", str(root / "rx"), "--model", model,
                 "--excel-bom"]) == 0
    capsys.readouterr()
    scores = pd.read_csv(out / "scores.csv", dtype={"customer_id": str})
    cust = pd.read_csv(root / "rx" / "customers.csv", dtype={"customer_id": str},
                       encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    assert (root / "rx" / "customers.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert len(cust) == len(scores)
    assert sorted(cust["customer_id"]) == cust["customer_id"].tolist()
    both = cust.merge(scores, on="customer_id", suffixes=("", "_s"))
    assert len(both) == len(cust)
    assert (both["segment_id"] == both["segment_id_s"]).all()
    # the same model, the same date: the refresh gives each customer the run's role/action
    seg = pd.read_csv(folder / "segments.csv", dtype={"customer_id": str},
                      keep_default_na=False, na_values=[""]).set_index("customer_id")
    same = cust.set_index("customer_id")
    same = same.loc[same["segment_id"] >= -1]
    assert (same["role"] == seg.loc[same.index, "role"]).all()
    assert (same["action"].fillna("") == seg.loc[same.index, "action"].fillna("")).all()
    alerts = pd.read_csv(out / "new_alerts.csv", dtype={"customer_id": str})
    for kind, stem in (("payment_slip", "alerts_billing"), ("activity_drop", "alerts_sales")):
        got = pd.read_csv(root / "rx" / f"{stem}.csv", dtype={"customer_id": str},
                          encoding="utf-8-sig")
        want = alerts.loc[alerts["alert"] == kind].sort_values("customer_id")
        assert got["customer_id"].tolist() == want["customer_id"].tolist(), stem
        assert (got["alert"] == kind).all()
    assert len(alerts) > 0  # the demo has lapsed customers: the split is exercised
    # refresh --export: the same customers, and the changes since --previous are the movers
    pq = pd.read_parquet(root / "rp" / "customers.parquet")
    assert pq["customer_id"].tolist() == cust["customer_id"].tolist()
    assert pq["role"].tolist() == cust["role"].tolist()
    changes = pd.read_parquet(root / "rp" / "segment_changes.parquet")
    movers = pd.read_csv(out / "movers.csv", dtype={"customer_id": str})
    moved = changes.loc[changes["change"] == "moved"]
    assert sorted(moved["customer_id"]) == sorted(movers["customer_id"])
    assert (moved["old_as_of"] == "2024-09-30").all() and (moved["new_as_of"] ==
                                                           "2024-12-31").all()
    counts = json.loads((out / "summary.json").read_text())["counts"]
    assert (changes["change"] == "new").sum() == counts["only_now"]
    assert (changes["change"] == "gone").sum() == counts["only_before"]
    assert sorted(p.name for p in (root / "rp").iterdir()) == [
        ".segml-export", "alerts_billing.parquet", "alerts_sales.parquet",
        "customers.parquet", "export.json", "segment_changes.parquet"]

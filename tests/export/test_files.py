"""Export folders from hand-made run and refresh folders, opened with the readers users use."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segml.cli import main
from segml.errors import ConfigError, InputFileError, OutputExistsError, SchemaError
from segml.export import EXPORT_MARKER, export_folder, write_export


def _run_folder(root, name, as_of, rows):
    folder = root / name
    folder.mkdir()
    (folder / ".segml-run").write_text("")
    (folder / "metrics.json").write_text(json.dumps({"run_id": name, "as_of": as_of}))
    seg = pd.DataFrame(rows, columns=["customer_id", "segment_id", "segment_name", "role",
                                      "action", "confidence", "distance", "fits_no_segment",
                                      "abc", "forward_clv"])
    seg.to_parquet(folder / "segments.parquet", index=False)
    return folder


@pytest.fixture
def runs(tmp_path):
    old = _run_folder(tmp_path, "q3", "2024-09-30", [
        ["0042", 0, "clients fidèles", "to retain", "remercier", 0.9, 0.1, False, "A", 10.0],
        ["7", 1, "lapsed", "to win back", "coupon", 0.4, 2.0, True, "C", 1.0],
        ["9", 1, "lapsed", "to win back", "coupon", 0.5, 2.0, False, "C", 0.5],
    ])
    new = _run_folder(tmp_path, "q4", "2024-12-31", [
        ["0042", 1, "lapsed", "to win back", "coupon", 0.61234, 1.0, False, "B", 12.346],
        ["7", 1, "lapsed", "to win back", "coupon", 0.7, 2.5, True, "C", np.nan],
        ["8", -1, "prospect (not clustered)", "to reach", "", np.nan, np.nan, False, "none",
         np.nan],
    ])
    return tmp_path, old, new


EXPECTED_COLUMNS = ["customer_id", "as_of", "segment_id", "segment_name", "role", "action",
                    "confidence", "fits_no_segment", "rule_abc", "forward_clv"]


def test_csv_export_is_utf8_without_bom_and_reads_back_column_by_column(runs):
    root, old, new = runs
    res = export_folder(new, root / "out", previous=old)
    assert sorted(p.name for p in (root / "out").iterdir()) == [
        EXPORT_MARKER, "customers.csv", "export.json", "segment_changes.csv"]
    raw = (root / "out" / "customers.csv").read_bytes()
    assert raw.startswith(b"customer_id,as_of,") and b"\r\n" not in raw
    assert "clients" not in raw.decode("utf-8")  # 0042 moved to "lapsed"
    lines = raw.decode("utf-8").splitlines()
    assert lines[1] == "0042,2024-12-31,1,lapsed,to win back,coupon,0.6123,false,B,12.35"
    assert lines[3] == "8,2024-12-31,-1,prospect (not clustered),to reach,,,false,none,"
    cust = pd.read_csv(root / "out" / "customers.csv", dtype={"customer_id": str})
    assert cust.columns.tolist() == EXPECTED_COLUMNS
    assert cust["customer_id"].tolist() == ["0042", "7", "8"]  # leading zeros kept
    assert cust["segment_id"].dtype == np.int64 and cust["fits_no_segment"].dtype == bool
    assert cust["fits_no_segment"].tolist() == [False, True, False]
    np.testing.assert_allclose(cust["forward_clv"], [12.35, np.nan, np.nan], atol=1e-9)
    changes = pd.read_csv(root / "out" / "segment_changes.csv", dtype={"customer_id": str})
    assert changes.astype(object).where(changes.notna(), None).values.tolist() == [
        ["0042", "moved", 0, "clients fidèles", 1, "lapsed", "2024-09-30", "2024-12-31"],
        ["8", "new", None, None, -1, "prospect (not clustered)", "2024-09-30", "2024-12-31"],
        ["9", "gone", 1, "lapsed", None, None, "2024-09-30", "2024-12-31"],
    ]
    manifest = json.loads((root / "out" / "export.json").read_text())
    assert manifest["encoding"] == "utf-8" and manifest["as_of"] == "2024-12-31"
    assert manifest["previous_as_of"] == "2024-09-30"
    assert manifest["files"]["customers.csv"]["rows"] == 3
    assert manifest["files"]["customers.csv"]["columns"]["segment_id"] == "int64"
    assert manifest["files"]["segment_changes.csv"]["columns"]["old_segment_id"] == \
        "int64 (nullable)"
    assert res.rows == {"customers": 3, "segment_changes": 3}


def test_excel_bom_only_with_the_option(runs):
    root, old, new = runs
    export_folder(old, root / "bom", excel_bom=True)
    raw = (root / "bom" / "customers.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcustomer_id,")
    assert "clients fidèles".encode() in raw
    cust = pd.read_csv(root / "bom" / "customers.csv", dtype={"customer_id": str},
                       encoding="utf-8-sig")
    assert cust.columns[0] == "customer_id" and cust["segment_name"][0] == "clients fidèles"
    assert json.loads((root / "bom" / "export.json").read_text())["encoding"].startswith(
        "utf-8-sig")
    with pytest.raises(ConfigError, match=r"--excel-bom applies to CSV only.*Fix: leave "
                       r"--excel-bom out \(excel_bom=False in Python\)"):
        export_folder(old, root / "x", format="parquet", excel_bom=True)
    assert not (root / "x").exists()


def test_parquet_export_keeps_the_types(runs):
    root, old, new = runs
    export_folder(new, root / "pq", format="parquet", previous=old)
    cust = pd.read_parquet(root / "pq" / "customers.parquet")
    assert cust.columns.tolist() == EXPECTED_COLUMNS
    assert {c: str(t) for c, t in cust.dtypes.items()} == {
        "customer_id": "str", "as_of": "str", "segment_id": "int64", "segment_name": "str",
        "role": "str", "action": "str", "confidence": "float64", "fits_no_segment": "bool",
        "rule_abc": "str", "forward_clv": "float64"}
    assert cust.iloc[0].tolist()[:8] == ["0042", "2024-12-31", 1, "lapsed", "to win back",
                                         "coupon", 0.6123, False]
    changes = pd.read_parquet(root / "pq" / "segment_changes.parquet")
    assert str(changes["new_segment_id"].dtype) == "Int64"
    assert changes["change"].tolist() == ["moved", "new", "gone"]


def test_xlsx_export_opens_in_openpyxl_with_text_ids_and_money_format(runs):
    root, old, new = runs
    export_folder(new, root / "xl", format="xlsx", previous=old)
    wb = openpyxl.load_workbook(root / "xl" / "customers.xlsx")
    assert wb.sheetnames == ["customers"]
    ws = wb["customers"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == EXPECTED_COLUMNS
    assert list(rows[1]) == ["0042", "2024-12-31", 1, "lapsed", "to win back", "coupon",
                             0.6123, False, "B", 12.35]
    assert list(rows[3]) == ["8", "2024-12-31", -1, "prospect (not clustered)", "to reach",
                             None, None, False, "none", None]  # empty cells stay empty
    assert ws["A2"].data_type == "s" and ws["J2"].number_format == "0.00"
    assert len(rows) == 1 + 3
    ch = list(openpyxl.load_workbook(root / "xl" / "segment_changes.xlsx")["segment_changes"]
              .iter_rows(values_only=True))
    assert list(ch[1]) == ["0042", "moved", 0, "clients fidèles", 1, "lapsed", "2024-09-30",
                           "2024-12-31"]


def test_never_replaces_without_force_and_only_segml_exports(runs):
    root, old, new = runs
    export_folder(old, root / "e")
    with pytest.raises(OutputExistsError, match=r"already exists; refusing to overwrite it\. "
                       r"Fix: pass --force"):
        export_folder(new, root / "e")
    assert pd.read_csv(root / "e" / "customers.csv")["as_of"].iloc[0] == "2024-09-30"
    export_folder(new, root / "e", overwrite=True)
    assert pd.read_csv(root / "e" / "customers.csv")["as_of"].iloc[0] == "2024-12-31"
    (root / "mine").mkdir()
    (root / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(ConfigError, match=r"exists and is not a folder segml export wrote"
                       r".*Fix: pass a new --to folder"):
        export_folder(new, root / "mine", overwrite=True)
    assert (root / "mine" / "notes.txt").read_text() == "keep"
    with pytest.raises(ConfigError, match=r"export format 'json' is not one of"):
        write_export({"customers": pd.DataFrame()}, root / "j", format="json")


def test_previous_must_be_earlier_and_sources_must_be_segml_folders(runs):
    root, old, new = runs
    with pytest.raises(ConfigError, match=r"--previous .*q4 is as of 2024-12-31, not before "
                       r"2024-09-30.*Fix: pass the earlier run as --previous"):
        export_folder(old, root / "x", previous=new)
    with pytest.raises(InputFileError, match=r"not a folder written by segml run.*Fix: pass "
                       r"reports/<run-id>/"):
        export_folder(root, root / "x")
    (root / "prev.csv").write_text("customer_id,segment_id\n1,0\n")
    with pytest.raises(SchemaError, match=r"--previous prev.csv: missing column\(s\) "
                       r"\['segment_name', 'as_of'\].*Fix:"):
        export_folder(new, root / "x", previous=root / "prev.csv")
    assert not (root / "x").exists()


def _refresh_folder(root):
    folder = root / "refresh"
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({"as_of": "2025-03-31",
                                                     "previous_as_of": "2024-12-31"}))
    pd.DataFrame({
        "customer_id": ["0042", "7", "8"], "segment_id": [0, 1, -1],
        "segment_name": ["clients fidèles", "lapsed", "prospect (not clustered)"],
        "confidence": [0.8, 0.3, np.nan], "distance": [0.1, 3.0, np.nan],
        "fits_no_segment": [False, True, False], "driver_1": ["monetary", "recency_days", ""],
        "as_of": "2025-03-31",
    }).to_csv(folder / "scores.csv", index=False)
    pd.DataFrame({
        "customer_id": ["7", "0042"], "alert": ["activity_drop", "payment_slip"],
        "value": [210.0, 14.5], "threshold": [60.0, 8.25],
        "message": ["no purchase for 210 days", "paying 14.5 days late"],
    }).to_csv(folder / "new_alerts.csv", index=False)
    return folder


def test_refresh_export_takes_roles_from_the_model_and_splits_the_alerts(runs):
    root, old, new = runs
    src = _refresh_folder(root)
    with pytest.raises(ConfigError, match=r"is a segml refresh folder.*Fix: pass the model "
                       r"folder the refresh used \(--model models/NAME; model= in Python\)"):
        export_folder(src, root / "x")
    model = SimpleNamespace(segment_roles={0: "to retain", 1: "to win back"},
                            profiles={"actions": {"0": "remercier", "1": "coupon"}})
    export_folder(src, root / "r", model=model, previous=new)
    assert sorted(p.name for p in (root / "r").iterdir()) == [
        EXPORT_MARKER, "alerts_billing.csv", "alerts_sales.csv", "customers.csv",
        "export.json", "segment_changes.csv"]
    cust = pd.read_csv(root / "r" / "customers.csv", dtype={"customer_id": str},
                       keep_default_na=False)
    assert cust[["customer_id", "segment_id", "role", "action"]].values.tolist() == [
        ["0042", 0, "to retain", "remercier"], ["7", 1, "to win back", "coupon"],
        ["8", -1, "to reach", ""]]
    billing = pd.read_csv(root / "r" / "alerts_billing.csv", dtype={"customer_id": str})
    assert billing.values.tolist() == [["0042", "2025-03-31", "payment_slip", 14.5, 8.25,
                                        "paying 14.5 days late", 0, "clients fidèles",
                                        "to retain"]]
    sales = pd.read_csv(root / "r" / "alerts_sales.csv", dtype={"customer_id": str})
    assert sales.values.tolist() == [["7", "2025-03-31", "activity_drop", 210.0, 60.0,
                                      "no purchase for 210 days", 1, "lapsed", "to win back"]]
    changes = pd.read_csv(root / "r" / "segment_changes.csv", dtype={"customer_id": str})
    assert changes[["customer_id", "change", "old_segment_name", "new_segment_name",
                    "old_as_of", "new_as_of"]].values.tolist() == [
        ["0042", "moved", "lapsed", "clients fidèles", "2024-12-31", "2025-03-31"]]
    # a previous score file (scores.csv of the last refresh) gives the same list
    pd.read_parquet(new / "segments.parquet").assign(as_of="2024-12-31").to_csv(
        root / "prev.csv", index=False)
    export_folder(src, root / "r2", model=model, previous=root / "prev.csv")
    assert (root / "r2" / "segment_changes.csv").read_bytes() == \
        (root / "r" / "segment_changes.csv").read_bytes()


def test_run_and_refresh_export_flags_are_checked_before_any_work(runs, capsys, monkeypatch):
    root, old, new = runs
    monkeypatch.chdir(root)
    assert main(["run", "--excel-bom", "--quiet"]) == 2
    assert "--excel-bom and --export-format apply to the --export files. Fix: add --export" \
        in capsys.readouterr().err
    assert main(["run", "--export", str(new), "--quiet"]) == 2  # exists: refused up front
    assert f"{new} already exists; refusing to overwrite it" in capsys.readouterr().err
    assert main(["refresh", str(root / "no-model"), "--as-of", "2024-12-31", "--previous",
                 str(root / "p.csv"), "--out", str(root / "o"), "--export", str(root / "e"),
                 "--export-format", "parquet", "--excel-bom"]) == 2
    assert "--excel-bom applies to CSV only" in capsys.readouterr().err
    assert not (root / "reports").exists() and not (root / "o").exists()


def test_cli_export_errors_exit_2_with_the_fix(runs, capsys):
    root, old, new = runs
    assert main(["export", str(new), "--to", str(root / "c"), "--previous", str(old)]) == 0
    out = capsys.readouterr().out
    assert "customers.csv" in out and "segment_changes.csv" in out
    assert main(["export", str(new), "--to", str(root / "c")]) == 2
    assert "refusing to overwrite it. Fix: pass --force" in capsys.readouterr().err
    assert main(["export", str(new), "--to", str(root / "c"), "--force", "--format",
                 "xlsx"]) == 0
    assert (root / "c" / "customers.xlsx").is_file() and not (root / "c" /
                                                              "customers.csv").exists()
    capsys.readouterr()
    assert main(["export", str(new), "--to", str(root / "d"), "--format", "xlsx",
                 "--excel-bom"]) == 2
    assert "segml: error: --excel-bom applies to CSV only" in capsys.readouterr().err
    assert main(["export", str(new), "--to", str(root / "d"), "--model", str(root)]) == 2
    assert "a run folder carries its roles and actions" in capsys.readouterr().err
    assert main(["export", str(root), "--to", str(root / "d")]) == 2
    assert "not a folder written by segml run" in capsys.readouterr().err
    assert not (root / "d").exists()
    # a previous score file without as_of (segml score output) needs --previous-as-of
    pd.DataFrame({"customer_id": ["0042", "7", "8"], "segment_id": [1, 0, -1],
                  "segment_name": ["lapsed", "loyal", "prospect (not clustered)"]}).to_csv(
        root / "s.csv", index=False)
    assert main(["export", str(new), "--to", str(root / "d"), "--previous",
                 str(root / "s.csv")]) == 2
    assert "give its date with --previous-as-of" in capsys.readouterr().err
    assert main(["export", str(new), "--to", str(root / "d"), "--previous", str(root / "s.csv"),
                 "--previous-as-of", "2024-06-30"]) == 0
    ch = pd.read_csv(root / "d" / "segment_changes.csv", dtype={"customer_id": str})
    assert ch.values.tolist() == [["7", "moved", 0, "loyal", 1, "lapsed", "2024-06-30",
                                   "2024-12-31"]]


def test_rule_columns_come_from_the_runs_config(runs):
    """A column segments.parquet gains later is not exported as a rule set by mistake."""
    root, old, new = runs
    seg = pd.read_parquet(new / "segments.parquet").assign(value_tier=["a", "b", "c"])
    seg.to_parquet(new / "segments.parquet", index=False)
    (new / "config.toml").write_text('[rules]\nsets = ["abc", "lifecycle"]\n')
    export_folder(new, root / "cfg", format="parquet")
    cols = pd.read_parquet(root / "cfg" / "customers.parquet").columns.tolist()
    assert cols == EXPECTED_COLUMNS  # rule_abc only: lifecycle skipped, value_tier no rule
    (new / "config.toml").unlink()  # no config: every other column is taken as a rule set
    export_folder(new, root / "nocfg", format="parquet")
    cols = pd.read_parquet(root / "nocfg" / "customers.parquet").columns.tolist()
    assert cols == [*EXPECTED_COLUMNS[:-1], "rule_value_tier", "forward_clv"]


def test_xlsx_writes_text_that_looks_like_a_formula_as_text(tmp_path):
    df = pd.DataFrame({"customer_id": ["=1+2", "@SUM(A1)"], "segment_name": ["=HYPERLINK()", "x"]})
    write_export({"customers": df}, tmp_path / "x", format="xlsx")
    ws = openpyxl.load_workbook(tmp_path / "x" / "customers.xlsx")["customers"]
    assert [(c.value, c.data_type) for c in ws[2]] == [("=1+2", "s"), ("=HYPERLINK()", "s")]
    assert [(c.value, c.data_type) for c in ws[3]] == [("@SUM(A1)", "s"), ("x", "s")]

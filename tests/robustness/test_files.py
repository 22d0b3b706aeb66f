"""Hostile input files: each is read correctly, or refused with a message that names the fix.

Every case is a tiny file written into ``tmp_path`` and goes through the Python API
(``segml.io.read_transactions`` / ``read_customers`` / ``read_table``) and, for most, the CLI
(``segml validate-data --transactions ... --customers ...``: exit 2, one short message with a
``Fix:``).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError, InputFileError, SchemaError, SegmlError
from segml.io import load_online_retail, read_customers, read_table, read_transactions
from segml.readers import SEPARATORS, sniff_sep
from tests.robustness.conftest import MAX_MESSAGE_CHARS, cli_error, cli_ok

TX = "customer_id,timestamp,amount\n1,2024-01-02,10.5\n2,2024-01-03,3\n"
TX_SEMI = "customer_id;timestamp;amount\n1;2024-01-02;10.5\n2;2024-01-03;3\n"
CUSTOMERS = "customer_id,city\n1,Roma\n2,Milano\n"


def _xlsx(sheets: dict[str, pd.DataFrame]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with pd.ExcelWriter(path) as xl:
            for name, df in sheets.items():
                df.to_excel(xl, sheet_name=name, index=False)
    return write


def _zip(members: dict[str, str]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with zipfile.ZipFile(path, "w") as zf:
            for name, text in members.items():
                zf.writestr(name, text)
    return write


def _parquet(path: Path) -> None:
    pd.DataFrame({"customer_id": ["1"], "timestamp": ["2024-01-01"], "amount": [1.0]}) \
        .to_parquet(path)


def _write(path: Path, content: bytes | str | Callable[[Path], None] | None) -> None:
    if content is None:
        return
    if callable(content):
        content(path)
    elif isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)


@dataclass
class Refused:
    """A transactions file that must be refused (API and CLI)."""

    name: str
    content: Any
    error: type[SegmlError]
    match: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    mapping: dict[str, str] | None = None


ORDERS = pd.DataFrame({"customer_id": ["1"], "timestamp": ["2024-01-01"], "amount": [1.0]})
WIDE_HEADER = ",".join(f"column_{i}_" + "x" * 200 for i in range(500)) + "\n" + \
    ",".join("1" for _ in range(500)) + "\n"

REFUSED = {
    "missing-file": Refused("nope.csv", None, InputFileError, r"nope\.csv: file not found"),
    "directory": Refused("folder.csv", lambda p: p.mkdir(), InputFileError,
                         r"is a folder, not a file"),
    "empty-0-bytes": Refused("tx.csv", b"", InputFileError, r"is empty \(0 bytes\)"),
    "blank-lines-only": Refused("tx.csv", "\n  \n\n", InputFileError, r"holds only blank lines"),
    "header-only": Refused("tx.csv", "customer_id,timestamp,amount\n", InputFileError,
                           r"has a header line \('customer_id,timestamp,amount'\) but no data"),
    "unsupported-extension": Refused("tx.json", "{}", InputFileError,
                                     r"unsupported file type '\.json'"),
    "no-extension": Refused("orders", TX, InputFileError, r"unsupported file type ''"),
    "parquet-renamed-csv": Refused("tx.csv", _parquet, InputFileError,
                                   r"is a Parquet file, not a text table\. Fix: rename it to "
                                   r"end in \.parquet"),
    "gzip-named-csv": Refused("tx.csv", gzip.compress(TX.encode()), InputFileError,
                              r"is gzip-compressed, not a text table\. Fix: rename it to end in "
                              r"\.gz"),
    "bz2-named-txt": Refused("tx.txt", bz2.compress(TX.encode()), InputFileError,
                             r"is bzip2-compressed, not a text table\. Fix: rename it to end in "
                             r"\.bz2"),
    "binary-garbage": Refused("tx.csv", bytes(range(256)) * 8, InputFileError,
                              r"holds binary data \(a NUL byte at byte 0\)"),
    "utf16-without-bom": Refused("tx.csv", TX.encode("utf-16-le"), InputFileError,
                                 r"holds binary data \(a NUL byte at byte 1\), not text\. Fix: "
                                 r".*pass --encoding utf-16-le"),
    "csv-renamed-xlsx": Refused("tx.xlsx", TX, InputFileError,
                                r"is not an Excel workbook \(it starts with b'customer_id"),
    "truncated-gzip": Refused("tx.csv.gz", gzip.compress(TX.encode() * 50)[:60], InputFileError,
                              r"could not be read as text \(EOFError"),
    "zip-two-members": Refused("tx.zip", _zip({"a.csv": TX, "b.csv": TX}), InputFileError,
                               r"zip archive with 2 files \('a\.csv', 'b\.csv'\)\. Fix: extract"),
    "zip-no-member": Refused("tx.zip", _zip({}), InputFileError,
                             r"zip archive with no file in it"),
    "cp1252-no-encoding": Refused(
        "tx.csv", "customer_id,timestamp,amount,city\n1,2024-01-02,3,Forlì\n".encode("cp1252"),
        InputFileError,
        r"cannot be decoded as UTF-8 \(it has no byte-order mark\): byte 53 \(line 2\) is "
        r"b'\\xec', in '1,2024-01-02,3,Forl\\\\xec'\. Fix: pass --encoding 'cp1252' "
        r"\(config \[data\] encoding = \"cp1252\"; Python encoding='cp1252'\)"),
    "wrong-encoding-given": Refused(
        "tx.csv", "customer_id,timestamp,amount,city\n1,2024-01-02,3,Forlì\n".encode("cp1252"),
        InputFileError, r"cannot be decoded as 'utf-8' \(the encoding given\): byte 53",
        kwargs={"encoding": "utf-8"}, argv=["--encoding", "utf-8"]),
    "unknown-encoding": Refused("tx.csv", TX, ConfigError,
                                r"encoding='klingon' is not a known text encoding",
                                kwargs={"encoding": "klingon"}, argv=["--encoding", "klingon"]),
    "ambiguous-separator": Refused(
        "tx.csv", "customer_id,timestamp;amount\n1,2024-01-02;3\n", InputFileError,
        r"the separator is ambiguous in the first 2 lines \(',' gives 2 fields on every line; "
        r"';' gives 2 fields on every line\)\. Fix: pass --sep ','"),
    "wrong-sep-given": Refused("tx.csv", TX_SEMI, InputFileError,
                               r"reads with the separator you gave \(','\) as a single column "
                               r"'customer_id;timestamp;amount', but the header contains ';'\. "
                               r"Fix: pass --sep ';'",
                               kwargs={"sep": ","}, argv=["--sep", ","]),
    "tsv-that-is-comma-separated": Refused(
        "tx.tsv", TX, InputFileError, r"reads with the separator taken from its \.tsv \('\\t'\) "
        r"as a single column 'customer_id,timestamp,amount', but the header contains ','\. "
        r"Fix: pass --sep ','"),
    "two-char-sep": Refused("tx.csv", TX, ConfigError, r"sep='::' is not a usable separator",
                            kwargs={"sep": "::"}, argv=["--sep", "::"]),
    "duplicate-header": Refused("tx.csv", "customer_id,timestamp,amount,amount\n1,2024-01-02,3,4\n",
                                InputFileError,
                                r"the header names column 'amount' twice \(columns 3 and 4\)"),
    "header-less": Refused("tx.csv", "1,2024-01-02,3.5\n2,2024-01-03,4\n", InputFileError,
                           r"the first line looks like data, not a header \('1', '2024-01-02', "
                           r"'3\.5'\)\. Fix: add a header line"),
    "one-field-more-every-row": Refused(
        "tx.csv", "customer_id,timestamp,amount\n1,2024-01-02,3,\n2,2024-01-03,4,\n",
        InputFileError, r"the header has 3 fields but record 2 \(the header is record 1\) has 4 "
        r"with the separator ',': '1,2024-01-02,3,'\. Fix: remove any title lines"),
    "short-row": Refused(
        "tx.csv", "customer_id;timestamp;amount\n1;2024-01-02;3\n2;2024-01-03\n",
        InputFileError, r"the header has 3 fields but record 3 .* has 2 with the separator ';'"),
    "long-row-after-the-sniffed-lines": Refused(
        "tx.csv", TX + "".join(f"{i},2024-01-02,1\n" for i in range(3, 80)) + "9,2024-01-02,1,7\n",
        InputFileError, r"the header has 3 fields but line 81 has 4 with the separator ',': "
        r"'9,2024-01-02,1,7'\. Fix: remove any title lines"),
    "long-row-after-the-sniffed-lines-quoted": Refused(
        "tx.csv",
        TX + "".join(f'{i},2024-01-02,"1"\n' for i in range(3, 80)) + "9,2024-01-02,1,7\n",
        InputFileError, r"could not be read as text \(ParserError: Error tokenizing data\. "
        r"C error: Expected 3 fields in line 81, saw 4\)\. Fix: remove any title lines"),
    "short-row-after-the-sniffed-lines": Refused(
        "tx.csv", TX + "".join(f"{i},2024-01-02,1\r\n" for i in range(3, 80)) + "9,2024-01-02\n"
        + "10,2024-01-02\n", InputFileError, r"the header has 3 fields but line 81 has 2 with the "
        r"separator ',': '9,2024-01-02' \(2 such lines\)\. Fix: remove any title lines"),
    "title-line-above-header": Refused(
        "tx.csv", "Orders export 2024\n" + TX, InputFileError,
        r"the header has 1 fields but record 2 \(the header is record 1\) has 3 with the separator "
        r"',': 'customer_id,timestamp,amount'\. Fix: remove any title lines above the header"),
    "excel-duplicate-header": Refused(
        "tx.xlsx", _xlsx({"Orders": pd.DataFrame([["1", "2024-01-02", 3.0, 4.0]], columns=[
            "customer_id", "timestamp", "amount", "amount"])}),
        InputFileError, r"the header names column 'amount' twice \(columns 3 and 4\)"),
    "excel-two-sheets": Refused("tx.xlsx", _xlsx({"Orders": ORDERS, "Notes": ORDERS}),
                                InputFileError, r"has 2 sheets \('Orders', 'Notes'\)\. Fix: name "
                                r"the sheet to read: pass --sheet 'Orders'"),
    "excel-sheet-not-found": Refused("tx.xlsx", _xlsx({"Orders": ORDERS}), InputFileError,
                                     r"has no sheet 'Nope' \(sheets: 'Orders'\)",
                                     kwargs={"sheet": "Nope"}, argv=["--sheet", "Nope"]),
    "decimal-comma-as-dot": Refused(
        "tx.csv", "customer_id;timestamp;amount\n1;2024-01-02;12,50\n2;2024-01-03;1.234,5\n",
        SchemaError, r"transactions\.amount: 2 value\(s\) written with a decimal comma — row 0: "
        r"'12,50', row 1: '1\.234,5'\. Fix: pass --decimal ','"),
    "thousands-comma": Refused(
        "tx.csv", 'customer_id,timestamp,amount\n1,2024-01-02,"1,234.50"\n2,2024-01-03,3\n',
        SchemaError, r"written with a thousands comma — row 0: '1,234\.50'\. Fix: pass "
        r"--thousands ','"),
    "ambiguous-comma": Refused(
        "tx.csv", "customer_id;timestamp;amount\n1;2024-01-02;1,234\n2;2024-01-03;3\n",
        SchemaError, r"a comma that is a decimal or a thousands mark — row 0: '1,234'\. Fix: "
        r"pass --decimal ',' .* if ',' is the decimal mark, or --thousands ','"),
    "excel-text-cells-decimal-comma": Refused(
        "tx.xlsx", _xlsx({"Orders": pd.DataFrame({"customer_id": ["1"], "timestamp": ["2024-01-02"],
                                                  "amount": ["12,50"]})}),
        SchemaError, r"transactions\.amount: 1 value\(s\) written with a decimal comma — row 0: "
        r"'12,50'\. Fix: pass --decimal ','"),
    "decimal-point-when-comma-given": Refused(
        "tx.csv", "customer_id;timestamp;amount\n1;2024-01-02;12.50\n2;2024-01-03;3,5\n",
        SchemaError, r"written with a decimal point while the decimal mark is ',' — row 0: "
        r"'12\.50'", kwargs={"decimal": ","}, argv=["--decimal", ","]),
    "mapped-column-twice": Refused(
        "tx.csv", "cust,when,value\n1,2024-01-02,3\n", SchemaError,
        r"mapping sends column 'value' to 2 canonical columns \('amount', 'margin'\)",
        mapping={"customer_id": "cust", "timestamp": "when", "amount": "value",
                 "margin": "value"},
        argv=["--map", "customer_id=cust", "--map", "timestamp=when", "--map", "amount=value",
              "--map", "margin=value"]),
    "huge-value": Refused("tx.csv", f"customer_id,timestamp,amount\n1,2024-01-02,{'x' * 100_000}\n",
                          SchemaError, r"amount: has non-numeric values: 1 offending value\(s\) "
                          r"— row 0: 'x{57}…'"),
    "500-long-column-names": Refused(
        "tx.csv", WIDE_HEADER, SchemaError,
        r"required column 'customer_id' is missing\..* and 490 more\]"),
}


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_refused_through_api(case: Refused, tmp_path: Path) -> None:
    path = tmp_path / case.name
    _write(path, case.content)
    with pytest.raises(case.error, match=case.match) as exc:
        read_transactions(path, case.mapping, **case.kwargs)
    assert len(str(exc.value)) <= MAX_MESSAGE_CHARS
    assert "Fix:" in str(exc.value)


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_refused_through_cli(case: Refused, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / case.name
    _write(path, case.content)
    customers = tmp_path / "customers.csv"
    customers.write_text(CUSTOMERS)
    cli_error(["validate-data", "--transactions", str(path), "--customers", str(customers),
               *case.argv], capsys, match=case.match)


def test_customers_file_refused_like_transactions(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cust = tmp_path / "customers.csv"
    cust.write_bytes("customer_id;city\n1;Forlì\n".encode("cp1252"))
    tx = tmp_path / "tx.csv"
    tx.write_text(TX)
    match = r"customers\.csv: cannot be decoded as UTF-8 .* byte 23 \(line 2\)"
    with pytest.raises(InputFileError, match=match):
        read_customers(cust)
    cli_error(["validate-data", "--transactions", str(tx), "--customers", str(cust)], capsys,
              match=match)


def test_customers_income_with_decimal_comma_names_the_option(tmp_path: Path) -> None:
    cust = tmp_path / "customers.csv"
    cust.write_text("id;reddito\n1;35.000,50\n2;28,5\n")
    with pytest.raises(SchemaError, match=r"customers\.income \(column 'reddito'\): 2 value\(s\) "
                       r"written with a decimal comma"):
        read_customers(cust, {"customer_id": "id", "income": "reddito"})
    frame, _ = read_customers(cust, {"customer_id": "id", "income": "reddito"}, decimal=",")
    assert frame["income"].tolist() == [35000.5, 28.5]


# --------------------------------------------------------------------------- read correctly


def _compressed(opener: Callable[..., Any]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with opener(path, "wb") as fh:
            fh.write(TX_SEMI.encode())
    return write


@dataclass
class Read:
    """A transactions file read correctly: the amounts and first column name are asserted."""

    name: str
    content: Any
    amounts: list[float]
    kwargs: dict[str, Any] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    customers_encoding: str = "utf-8"


READ = {
    "csv.gz-semicolon": Read("tx.csv.gz", _compressed(gzip.open), [10.5, 3.0]),
    "tsv.gz": Read("tx.tsv.gz", gzip.compress(TX.replace(",", "\t").encode()), [10.5, 3.0]),
    "txt.gz": Read("tx.txt.gz", _compressed(gzip.open), [10.5, 3.0]),
    "csv.bz2": Read("tx.csv.bz2", _compressed(bz2.open), [10.5, 3.0]),
    "csv.xz": Read("tx.csv.xz", _compressed(lzma.open), [10.5, 3.0]),
    "zip-one-member": Read("tx.zip", _zip({"orders/tx.csv": TX_SEMI, "__MACOSX/._tx.csv": "x"}),
                           [10.5, 3.0]),
    "utf8-bom": Read("tx.csv", b"\xef\xbb\xbf" + TX.encode(), [10.5, 3.0]),
    "utf16-bom": Read("tx.csv", TX_SEMI.encode("utf-16"), [10.5, 3.0]),
    "utf16-bom-given": Read("tx.csv", TX.encode("utf-16"), [10.5, 3.0],
                            {"encoding": "utf-16"}, ["--encoding", "utf-16"], "utf-16"),
    "utf16le-without-bom-given": Read("tx.csv", TX.encode("utf-16-le"), [10.5, 3.0],
                                      {"encoding": "utf-16-le"}, ["--encoding", "utf-16-le"],
                                      "utf-16-le"),
    "cp1252-given": Read("tx.csv", "customer_id,timestamp,amount,city\n1,2024-01-02,10.5,Forlì\n"
                         "2,2024-01-03,3,Cesena\n".encode("cp1252"), [10.5, 3.0],
                         {"encoding": "cp1252"}, ["--encoding", "cp1252"]),
    "decimal-comma-thousands-dot": Read(
        "tx.csv", "customer_id;timestamp;amount\n1;2024-01-02;1.234,50\n2;2024-01-03;1.234\n"
        "3;2024-01-04;12,5\n", [1234.5, 1234.0, 12.5], {"decimal": ","}, ["--decimal", ","]),
    "comma-separated-quoted-decimal-comma": Read(
        "tx.csv", 'customer_id,timestamp,amount\n1,2024-01-02,"1.234,5"\n2,2024-01-03,"3,25"\n',
        [1234.5, 3.25], {"decimal": ","}, ["--decimal", ","]),
    "thousands-comma-given": Read(
        "tx.csv", 'customer_id,timestamp,amount\n1,2024-01-02,"1,234.50"\n2,2024-01-03,3\n',
        [1234.5, 3.0], {"thousands": ","}, ["--thousands", ","]),
    "quoted-separator-in-field": Read(
        "tx.csv", 'customer_id,timestamp,amount,note\n1,2024-01-02,10.5,"a, b; c"\n'
        '2,2024-01-03,3,"x|y"\n', [10.5, 3.0]),
    "tab-sep-given-as-backslash-t": Read("tx.txt", TX.replace(",", "\t"), [10.5, 3.0],
                                         {"sep": "\\t"}, ["--sep", "\\t"]),
    "whitespace-aligned": Read("tx.txt", "customer_id   timestamp   amount\n"
                               "  1   2024-01-02   10.5\n  2   2024-01-03   3\n", [10.5, 3.0]),
    "blank-and-whitespace-lines": Read("tx.csv", TX.replace("\n2,", "\n\n   \n\t\n2,") + "\n \n",
                                       [10.5, 3.0]),
    "crlf-line-ends": Read("tx.csv", TX.replace("\n", "\r\n"), [10.5, 3.0]),
    "excel-text-cells-decimal-comma": Read(
        "tx.xlsx", _xlsx({"Orders": pd.DataFrame({"customer_id": ["1", "2"],
                                                  "timestamp": ["2024-01-02", "2024-01-03"],
                                                  "amount": ["1.234,50", "3,5"]})}),
        [1234.5, 3.5], {"decimal": ","}, ["--decimal", ","]),
    "excel-sheet-given": Read("tx.xlsx", _xlsx({"Notes": ORDERS.iloc[:0], "Orders": ORDERS}),
                              [1.0], {"sheet": "Orders"}, ["--sheet", "Orders"]),
}


@pytest.mark.parametrize("case", READ.values(), ids=READ.keys())
def test_read_through_api(case: Read, tmp_path: Path) -> None:
    path = tmp_path / case.name
    _write(path, case.content)
    raw = read_table(path, **case.kwargs)
    assert raw.columns[0] == "customer_id"  # no BOM, no merged header
    frame, report = read_transactions(path, **case.kwargs)
    assert sorted(frame["amount"].tolist()) == sorted(case.amounts)
    assert report.excluded == {}


@pytest.mark.parametrize("case", READ.values(), ids=READ.keys())
def test_read_through_cli(case: Read, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / case.name
    _write(path, case.content)
    customers = tmp_path / "customers.csv"
    customers.write_bytes("customer_id\n1\n2\n3\n".encode(case.customers_encoding))
    out, _ = cli_ok(["validate-data", "--transactions", str(path), "--customers",
                     str(customers), *case.argv], capsys)
    assert f"{len(case.amounts)} transactions" in out


def test_cp1252_option_leaves_utf8_files_alone(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """One --encoding serves both files: a valid UTF-8 file is not turned into mojibake."""
    cust = tmp_path / "customers.csv"
    cust.write_text("customer_id,city\n1,Forlì\n2,Cesena\n", encoding="utf-8")
    tx = tmp_path / "tx.csv"
    tx.write_bytes("customer_id,timestamp,amount,city\n1,2024-01-02,3,Forlì\n".encode("cp1252"))
    assert read_table(cust, encoding="cp1252")["city"].tolist() == ["Forlì", "Cesena"]
    assert read_table(tx, encoding="cp1252")["city"].tolist() == ["Forlì"]
    out, _ = cli_ok(["validate-data", "--transactions", str(tx), "--customers", str(cust),
                     "--encoding", "cp1252"], capsys)
    assert "2 customers, 1 transactions" in out


def test_codes_keep_their_leading_zeros_and_dots(tmp_path: Path) -> None:
    """Id and label columns are read as text: 01234 stays 01234, order 12.345 is not 12345."""
    cust = tmp_path / "customers.csv"
    cust.write_text("customer_id;postcode;income\n007;01234;1.500,5\n008;40121;900\n")
    frame, _ = read_customers(cust, decimal=",")
    assert frame["postcode"].tolist() == ["01234", "40121"]
    assert frame["customer_id"].tolist() == ["007", "008"]
    assert frame["income"].tolist() == [1500.5, 900.0]
    tx = tmp_path / "tx.csv"
    tx.write_text("customer_id;timestamp;amount;order_id\n007;2024-01-02;1.234,5;12.345\n")
    frame, _ = read_transactions(tx, decimal=",")
    assert frame["order_id"].tolist() == ["12.345"] and frame["amount"].tolist() == [1234.5]


def test_one_column_customers_file(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer id\nAnn Lee\nBob\n")
    assert read_table(path)["customer id"].tolist() == ["Ann Lee", "Bob"]


def test_cdnow_whitespace_file_still_sniffed(shared_data: Path) -> None:
    raw = read_table(shared_data / "CDNOW_master.txt", dtype={"customer_id": str})
    assert list(raw.columns) == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert len(raw) == 69_659 and raw["customer_id"].iloc[0] == "00001"


@pytest.mark.parametrize(("name", "shape", "first"), [
    ("marketing_campaign.csv", (2_240, 29), "ID"),  # tab-separated, sniffed
    ("Mall_Customers.csv", (200, 5), "CustomerID"),
    ("ta_feng_all_months_merged.csv.gz", (1_000, 9), "TRANSACTION_DT"),  # gzip, BOM, quotes
])
def test_shared_real_files_sniffed(shared_data: Path, name: str, shape: tuple[int, int],
                                   first: str) -> None:
    raw = read_table(shared_data / name, nrows=1_000 if name.endswith(".gz") else None,
                     dtype={"CUSTOMER_ID": str})
    assert raw.shape == shape and raw.columns[0] == first
    if name.endswith(".gz"):
        assert raw["CUSTOMER_ID"].iloc[0] == "01104905"  # zero padding survives


def test_cdnow_sample_without_header_is_refused(shared_data: Path) -> None:
    with pytest.raises(InputFileError, match=r"CDNOW_sample\.txt: the first line looks like data, "
                       r"not a header \('00004', '0001', '19970101', '2' and 1 more\)"):
        read_table(shared_data / "CDNOW_sample.txt")


def test_config_keys_must_be_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[data]\ntransactions = 'tx.csv'\ndecimal = 1\n")
    cli_error(["validate-data", "--config", str(cfg)], capsys,
              match=r"config: data\.decimal must be a string, got 1\. Fix: quote it")


# --------------------------------------------------------------------------- properties

_CELLS = st.text(alphabet="ab ,;|", max_size=6).map(lambda s: "x" + s)


@settings(max_examples=40, deadline=None)
@given(sep=st.sampled_from(SEPARATORS), n_cols=st.integers(2, 4),
       rows=st.lists(st.lists(_CELLS, min_size=4, max_size=4), min_size=1, max_size=6))
def test_sniffed_separator_round_trips(sep: str, n_cols: int, rows: list[list[str]]) -> None:
    """Whatever the cells hold (other separators, quotes needed), the writer's sep is found."""
    df = pd.DataFrame([r[:n_cols] for r in rows], columns=[f"c{i}" for i in range(n_cols)])
    text = df.to_csv(sep=sep, index=False)
    assert sniff_sep(Path("t.csv"), text) == sep
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.csv"
        path.write_text(text)
        back = read_table(path, dtype=str)
    assert back.to_dict("list") == df.to_dict("list")


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.text(), st.binary(), st.integers(), st.floats()))
def test_quoted_values_are_short(value: Any) -> None:
    """No quoted value in a message is longer than 60 characters, whatever it is."""
    from segml.readers import clip
    from segml.schema import _show

    assert len(clip(value)) <= 60
    assert len(_show(value)) <= 60
    if len(repr(value)) <= 60:
        assert clip(value) == repr(value)


@settings(max_examples=40, deadline=None)
@given(cents=st.lists(st.integers(-10**11, 10**11), min_size=1, max_size=5))
def test_decimal_comma_numbers_round_trip(cents: list[int]) -> None:
    """``1.234.567,89`` style amounts are read to their exact value (never 1.234 for 1234)."""
    def european(c: int) -> str:
        whole, frac = divmod(abs(c), 100)
        return ("-" if c < 0 else "") + f"{whole:,}".replace(",", ".") + f",{frac:02d}"
    lines = "".join(f"{i};2024-01-02;{european(c)}\n" for i, c in enumerate(cents))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.csv"
        path.write_text("customer_id;timestamp;amount\n" + lines)
        frame, _ = read_transactions(path, decimal=",")
    got = frame.sort_values("customer_id", key=lambda s: s.astype(int))["amount"].tolist()
    assert got == [c / 100 for c in cents]


def test_online_retail_ii_workbook_needs_its_sheet(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Online Retail II ships one sheet per year: reading only the first would drop a year."""
    year = pd.DataFrame({"Invoice": ["536365"], "StockCode": ["85123A"], "Quantity": [6],
                         "InvoiceDate": ["2010-12-01 08:26"], "Price": [2.55],
                         "Customer ID": [17850.0], "Country": ["United Kingdom"]})
    path = tmp_path / "online_retail_II.xlsx"
    _xlsx({"Year 2009-2010": year, "Year 2010-2011": year})(path)
    match = r"has 2 sheets \('Year 2009-2010', 'Year 2010-2011'\)\. Fix: name the sheet"
    with pytest.raises(InputFileError, match=match):
        load_online_retail(path)
    cli_error(["validate-data", "--loader", "online_retail", "--path", str(path)], capsys,
              match=match)
    d = load_online_retail(path, sheet="Year 2010-2011")
    assert d.transactions["amount"].tolist() == [6 * 2.55]
    out, _ = cli_ok(["validate-data", "--loader", "online_retail", "--path", str(path),
                     "--sheet", "Year 2010-2011"], capsys)
    assert "1 customers, 1 transactions" in out

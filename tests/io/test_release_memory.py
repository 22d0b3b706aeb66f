"""Reading a log hands the reader's freed pages back to the OS (segml._memory, issue 19)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

import segml._memory as memory
import segml.io.read as read_module
from segml.io import read_transactions


def test_release_unused_keeps_live_arrow_data():
    arr = pa.array([f"c{i}" for i in range(10_000)])
    before = pa.total_allocated_bytes()
    memory.release_unused()
    # only unused pages go: live buffers stay allocated and readable
    assert pa.total_allocated_bytes() == before
    assert arr[9_999].as_py() == "c9999"


def test_read_transactions_releases_once_after_validation(tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(read_module, "release_unused", lambda: calls.append(1))
    path = tmp_path / "tx.csv"
    pd.DataFrame({"customer_id": ["a", "b"], "timestamp": ["2024-01-02", "2024-01-03"],
                  "amount": [10.0, 5.5]}).to_csv(path, index=False)
    tx, report = read_transactions(path, timestamp_format="ISO8601")
    assert calls == [1]
    assert tx["customer_id"].tolist() == ["a", "b"] and tx["amount"].tolist() == [10.0, 5.5]

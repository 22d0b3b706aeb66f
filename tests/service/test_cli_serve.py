"""``segml serve``: refusals before binding, and the real command serving over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from segml.cli import main
from segml.persistence import save_model

from .conftest import TOKEN, records

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def saved(fitted, tmp_path):
    return save_model(fitted.model, root=tmp_path / "models")


def test_non_loopback_host_needs_a_token_or_insecure(saved, capsys, monkeypatch):
    monkeypatch.delenv("SEGML_SERVE_TOKEN", raising=False)
    assert main(["serve", str(saved), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("segml: error: --host 0.0.0.0 is reachable from other machines and "
                          "no token is set")
    assert "Fix: pass --token-file PATH (or set SEGML_SERVE_TOKEN)" in err


def test_empty_token_file_and_bad_options_exit_2(saved, tmp_path, capsys):
    empty = tmp_path / "token.txt"
    empty.write_text("\n")
    assert main(["serve", str(saved), "--token-file", str(empty)]) == 2
    assert f"--token-file {empty} is empty. Fix:" in capsys.readouterr().err
    assert main(["serve", str(saved), "--workers", "0"]) == 2
    assert "--workers 0 should be at least 1. Fix:" in capsys.readouterr().err
    assert main(["serve", str(saved), "--port", "70000"]) == 2
    assert "--port 70000 is not a TCP port" in capsys.readouterr().err


def test_tampered_model_refuses_to_start(saved, capsys):
    target = saved.resolve() / "manifest.json"
    target.write_text(target.read_text().replace('"k": 4', '"k": 5'))
    assert main(["serve", str(saved), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("segml: error: ") and "manifest" in err and "Fix:" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_segml_serve_serves_over_http(saved, fitted, tmp_path):
    port = _free_port()
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SEGML_SERVE_TOKEN", None)
    cmd = [sys.executable, "-c", "import sys; from segml.cli import main; "
           "sys.exit(main(sys.argv[1:]))", "serve", str(saved), "--port", str(port),
           "--token-file", str(tok)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "segml serve did not start in 60 s"
            time.sleep(0.2)
        row = records(fitted.features.reset_index().iloc[:1])[0]
        assert httpx.post(f"{url}/score", json={"features": row}).status_code == 401
        r = httpx.post(f"{url}/score", json={"features": row},
                       headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and r.json()["model"]["name"] == "svc"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert f"serving model svc v1 on http://127.0.0.1:{port} (bearer token required" in err
    assert TOKEN not in err and row["customer_id"] not in err

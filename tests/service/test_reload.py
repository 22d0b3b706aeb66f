"""Hot reload: a new version is verified, then swapped; a failed one keeps the old model."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from segml.persistence import save_model
from segml.scoring import score_one

from .conftest import TOKEN, records

H = {"Authorization": f"Bearer {TOKEN}"}


def _renamed(model, tag: str):
    names = {j: f"{tag}_{j}" for j in range(model.n_segments)}
    return dataclasses.replace(model, segment_names=names, _cache={})


def _tamper(folder) -> None:
    target = folder.resolve() / "model.joblib"
    data = bytearray(target.read_bytes())
    data[len(data) // 3] ^= 0xFF
    target.write_bytes(bytes(data))


@pytest.fixture()
def root(fitted, tmp_path):
    save_model(fitted.model, root=tmp_path)
    return tmp_path


def test_admin_reload_swaps_versions_and_a_failed_one_keeps_the_old(fitted, root):
    from segml.service import create_app, run_in_thread

    path = root / "svc"
    app = create_app(path, token=TOKEN)
    row = records(fitted.features.reset_index().iloc[7:8])[0]
    with run_in_thread(app) as url, httpx.Client(base_url=url, headers=H) as c:
        first = c.post("/score", json={"features": row}).json()
        assert first["model"]["version"] == "v1"
        save_model(_renamed(fitted.model, "new"), root=root, overwrite=True)
        # nothing changes until the reload
        assert c.get("/model").json()["version"] == "v1"
        r = c.post("/admin/reload")
        assert r.status_code == 200, r.text
        assert r.json() | {"at": None} == {
            "ok": True, "changed": True, "error": None, "at": None,
            "previous": {"name": "svc", "version": "v1"},
            "serving": {"name": "svc", "version": "v2"}}
        second = c.post("/score", json={"features": row}).json()
        assert second["model"]["version"] == "v2"
        assert second["segment_name"] == f"new_{first['segment_id']}"
        assert second["segment_id"] == first["segment_id"]
        assert c.get("/model").json()["segments"][0]["name"] == "new_0"

        save_model(_renamed(fitted.model, "bad"), root=root, overwrite=True)
        _tamper(path)
        r = c.post("/admin/reload")
        assert r.status_code == 409
        body = r.json()
        assert body["ok"] is False and body["serving"] == {"name": "svc", "version": "v2"}
        assert "model.joblib" in body["error"] and "Fix:" in body["error"]
        third = c.post("/score", json={"features": row}).json()
        assert (third["model"]["version"], third["segment_name"]) == (
            "v2", second["segment_name"])
        ready = c.get("/ready").json()
        assert ready["model"]["version"] == "v2" and ready["last_reload"]["ok"] is False


def test_requests_in_flight_keep_their_version(fitted, root):
    from segml.service import ModelHolder, create_app, run_in_thread

    holder = ModelHolder(root / "svc")
    old = holder.current
    save_model(_renamed(fitted.model, "v2name"), root=root, overwrite=True)
    row = records(fitted.features.reset_index().iloc[9:10])[0]
    assert holder.reload()["ok"] is True
    # the object a request took before the swap is untouched and still scores
    assert old is not holder.current and old.version == "v1"
    before, after = score_one(old.model, row), score_one(holder.current.model, row)
    assert before["segment_id"] == after["segment_id"]
    assert after["segment_name"] == f"v2name_{before['segment_id']}"

    # over HTTP: requests racing a reload all succeed, each on one whole version
    app = create_app(root / "svc", token=TOKEN)
    save_model(_renamed(fitted.model, "v3name"), root=root, overwrite=True)
    with run_in_thread(app) as url, httpx.Client(base_url=url, headers=H) as c:
        def one(_):
            return c.post("/score", json={"features": row}).json()

        with ThreadPoolExecutor(8) as pool:
            futs = [pool.submit(one, i) for i in range(60)]
            assert c.post("/admin/reload").json()["serving"]["version"] == "v3"
            got = [f.result() for f in futs]
    pairs = {(g["model"]["version"], g["segment_name"]) for g in got}
    k = before["segment_id"]
    assert pairs <= {("v2", f"v2name_{k}"), ("v3", f"v3name_{k}")}


def test_watched_path_reloads_a_new_version(fitted, root):
    from segml.service import create_app, run_in_thread

    app = create_app(root / "svc", token=TOKEN, watch_interval=0.1)
    with run_in_thread(app) as url:
        save_model(_renamed(fitted.model, "watched"), root=root, overwrite=True)
        deadline = time.monotonic() + 20
        version = None
        while time.monotonic() < deadline:
            version = httpx.get(f"{url}/ready").json()["model"]["version"]
            if version == "v2":
                break
            time.sleep(0.1)
        assert version == "v2"
        card = httpx.get(f"{url}/model", headers=H).json()
        assert card["segments"][0]["name"] == "watched_0"

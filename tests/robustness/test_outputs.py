"""Hostile cases for the outputs segml writes: run folders and saved models (tracker 11).

Every output location is checked before any work; names stay inside their folders;
``--force`` replaces only segml's own folders; saves are atomic against concurrent
saves and readers; failures (disk full) leave nothing partial; listing verifies hashes.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import json
import os
import shutil
import stat
import threading
import time
from pathlib import Path

import joblib
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from segml import _atomic
from segml.config import validate_config
from segml.errors import (
    ConfigError,
    ModelIntegrityError,
    ModelVersionError,
    OutputExistsError,
    OutputWriteError,
)
from segml.persistence import (
    MANIFEST,
    MANIFEST_HASH,
    MODEL_FILE,
    SegmentModel,
    list_models,
    load_model,
    read_manifest,
    save_model,
    stage_model,
    verify_model,
)
from segml.pipeline import RUN_MARKER, check_outputs
from tests.persistence.conftest import make_features, make_preprocessor
from tests.robustness.conftest import cli_error, cli_ok

RUN_ID = "demo-20241231"  # the demo's default run id (and model name)
# k_min = 3: these tests are about outputs, and on 400 customers k = 1..4 finds no clear segments
# (the run would stop before writing anything)
SMALL = ("[demo]\nn_customers = 400\n[segmentation]\nalgorithms = ['kmeans']\nk_min = 3\n"
         "k_max = 4\nn_stability = 2\n")


# ---------------------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def model() -> SegmentModel:
    """A tiny fitted model (200 customers, k=3)."""
    X = make_features(200, seed=1)
    pipe = Pipeline([("pre", make_preprocessor()),
                     ("km", KMeans(n_clusters=3, n_init=1, random_state=0))]).fit(X)
    return SegmentModel.from_training(pipe, X, name="m1")


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """Run the CLI in an empty folder with a small config ``c.toml``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text(SMALL)
    return tmp_path


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every path under ``root`` with its content hash (or link target) and mode."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(root))] = ("-> " + os.readlink(p), 0)
        elif p.is_file():
            out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest(),
                                             p.stat().st_mode)
        else:
            out[str(p.relative_to(root))] = ("dir", p.stat().st_mode)
    return out


def renamed(model: SegmentModel, name: str) -> SegmentModel:
    """The same model under another name (bypassing the name check of from_training)."""
    other = copy.copy(model)
    other.name = name
    return other


def reseal(folder: Path, edit) -> None:
    """Edit a manifest and re-seal it with a valid sha256 (a model from another writer)."""
    m = json.loads((folder / MANIFEST).read_bytes())
    edit(m)
    data = (json.dumps(m, indent=2, sort_keys=True) + "\n").encode()
    (folder / MANIFEST).write_bytes(data)
    (folder / MANIFEST_HASH).write_text(
        "sha256:" + hashlib.sha256(data).hexdigest() + "  manifest.json\n")


def no_work(monkeypatch) -> None:
    """Make any pipeline work fail loudly: a refusal must come before it."""
    import segml.pipeline as pl

    def boom(*a, **k):
        raise AssertionError("the run started working before checking its outputs")

    monkeypatch.setattr(pl, "run_pipeline", boom)
    monkeypatch.setattr(pl, "load_data", boom)


def marked_run_folder(root: Path, run_id: str = RUN_ID) -> Path:
    folder = root / "reports" / run_id
    folder.mkdir(parents=True)
    (folder / RUN_MARKER).write_text("segml\n")
    (folder / "report.html").write_text("<html>old</html>")
    return folder


# ------------------------------------------------------------------------- 1. rerun refused early
REFUSALS = [  # (command, what already exists): every pair where the command would write it
    ("run", "run-folder"), ("run", "model"), ("run", "both"), ("fit", "model"),
    ("fit", "both"), ("report", "run-folder"), ("report", "both"),
]


@pytest.mark.parametrize(("command", "existing"), REFUSALS,
                         ids=[f"{c}-{e}" for c, e in REFUSALS])
def test_rerun_without_force_is_refused_before_any_work(workdir, model, monkeypatch, capsys,
                                                        command, existing):
    if existing in ("run-folder", "both"):
        marked_run_folder(workdir)
    if existing in ("model", "both"):
        save_model(model, workdir / "models" / RUN_ID)
    writes_report, writes_model = command in ("run", "report"), command in ("run", "fit")
    before = snapshot(workdir)
    no_work(monkeypatch)
    t0 = time.perf_counter()
    cli_error([command, "--config", "c.toml"], capsys,
              match=r"already exists; refusing to overwrite it\. Fix: pass --force")
    assert time.perf_counter() - t0 < 5.0
    assert snapshot(workdir) == before
    cfg = validate_config({"demo": {"n_customers": 400}})
    with pytest.raises(OutputExistsError, match=r"already exists; refusing to overwrite"):
        check_outputs(cfg, overwrite=False, report=writes_report, model=writes_model)


# ---------------------------------------------------------------------------- 2. run ids confined
BAD_RUN_IDS = {
    "parent": "../x", "dotdot": "..", "absolute": "/tmp/segml-abs", "separator": "a/b",
    "backslash": "a\\b", "empty": "", "hidden": ".hidden", "space": "a b", "newline": "a\nb",
    "too-long": "r" * 129,
}


@pytest.mark.parametrize("run_id", list(BAD_RUN_IDS.values()), ids=list(BAD_RUN_IDS))
@pytest.mark.parametrize("command", ["run", "report"])
def test_run_id_must_be_a_plain_name(workdir, monkeypatch, capsys, command, run_id):
    no_work(monkeypatch)
    cli_error([command, "--config", "c.toml", "--run-id", run_id], capsys,
              match=r"run id .* is not valid: it must be a plain name.*Fix: pass a plain --run-id")
    (workdir / "bad.toml").write_text(SMALL + f"[output]\nrun_id = {json.dumps(run_id)}\n")
    cli_error([command, "--config", "bad.toml"], capsys, match=r"run id .* is not valid")
    cfg = validate_config({"output": {"run_id": run_id}})
    with pytest.raises(ConfigError, match=r"run id .* is not valid.*\[output\] run_id"):
        check_outputs(cfg, overwrite=True)
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.toml", "c.toml"]
    assert not Path("/tmp/segml-abs").exists()


@pytest.mark.parametrize(("stem", "run_id"), [
    ("Online Retail II", "Online_Retail_II-20101209"), ("../../etc/x", "x-20101209"),
    (".hidden", "hidden-20101209"), ("ordini è già", "ordini_gi_-20101209"),
], ids=["spaces", "path", "hidden", "accents"])
def test_default_run_id_from_a_file_name_is_made_plain(workdir, stem, run_id):
    cfg = validate_config({"data": {"transactions": f"{stem}.csv"},
                           "features": {"as_of": "2010-12-09"}})
    plan = check_outputs(cfg, overwrite=False)
    assert plan["run_id"] == run_id == cfg["output"]["run_id"]
    assert plan["run_folder"] == Path("reports") / run_id
    assert plan["model_path"] == Path("models") / run_id


# ------------------------------------------------------------------------ 3. model names confined
BAD_NAMES = {
    "separator": "a/b", "parent": "../m", "absolute": "/tmp/segml-abs-model", "empty": "",
    "hidden": ".m", "version-sign": "m@v1", "backslash": "m\\n",
}


@pytest.mark.parametrize("name", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_model_name_must_be_a_plain_name(workdir, model, monkeypatch, capsys, name):
    no_work(monkeypatch)
    cli_error(["fit", "--config", "c.toml", "--name", name], capsys,
              match=r"model name .* is not valid.*Fix: use a plain name .*--name.*name= in Python")
    bad = renamed(model, name)
    with pytest.raises(ConfigError, match=r"model name .* is not valid"):
        save_model(bad, root=workdir / "models")
    with pytest.raises(ConfigError, match=r"is not valid"):
        save_model(model, workdir / "models" / "x@v2")
    assert not (workdir / "models").exists()
    assert not Path("/tmp/segml-abs-model").exists()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=12))
def test_any_accepted_name_stays_inside_its_folder(name):
    root = Path("/srv/segml/reports")
    try:
        _atomic.check_name(name, what="run id", fix="x")
    except ConfigError as exc:
        assert "is not valid" in str(exc) and "Fix:" in str(exc)
        return
    target = root / name
    assert os.path.normpath(target) == str(target)  # no '..', '.', '//' games
    assert target.parent == root and not name.startswith(".")


@pytest.mark.parametrize("option", ["reports_dir", "models_dir"])
def test_output_folder_that_is_a_file_is_refused_before_work(workdir, monkeypatch, capsys,
                                                             option):
    no_work(monkeypatch)
    (workdir / "taken").write_text("a file")
    (workdir / "bad.toml").write_text(SMALL + f'[output]\n{option} = "taken/sub"\n')
    cli_error(["run", "--config", "bad.toml"], capsys,
              match=rf"taken is a file, not a folder.*Fix: point \[output\] {option}")
    cfg = validate_config({"output": {option: "taken/sub"}})
    with pytest.raises(ConfigError, match=r"taken is a file, not a folder"):
        check_outputs(cfg, overwrite=False)
    assert (workdir / "taken").read_text() == "a file"


def test_output_folder_not_writable_is_refused_before_work(workdir, monkeypatch, capsys):
    no_work(monkeypatch)
    (workdir / "ro").mkdir()
    (workdir / "bad.toml").write_text(SMALL + '[output]\nreports_dir = "ro/reports"\n')
    real = os.access
    monkeypatch.setattr(_atomic.os, "access",  # tests may run as root, which may write anywhere
                        lambda p, mode, **k: False if Path(p).name == "ro" else real(p, mode))
    cli_error(["run", "--config", "bad.toml"], capsys,
              match=r"could not write ro/reports/demo-20241231: permission denied.*Fix: make ro/")
    with pytest.raises(OutputWriteError, match=r"permission denied"):
        check_outputs(validate_config({"output": {"reports_dir": "ro/reports"}}), overwrite=False)
    assert list((workdir / "ro").iterdir()) == []


# ----------------------------------------------------------------- 4. --force and foreign folders
def _foreign_run_folder(root: Path) -> Path:
    folder = root / "reports" / RUN_ID
    folder.mkdir(parents=True)
    (folder / "thesis.docx").write_text("my thesis")
    return folder


def _run_folder_link(root: Path) -> Path:
    elsewhere = root / "important"
    elsewhere.mkdir()
    (elsewhere / RUN_MARKER).write_text("even with a marker, a link is not replaced")
    (root / "reports").mkdir()
    os.symlink(elsewhere, root / "reports" / RUN_ID)
    return elsewhere


def _foreign_model_folder(root: Path) -> Path:
    folder = root / "models" / RUN_ID
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    return folder


def _foreign_model_link(root: Path) -> Path:
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    (root / "models").mkdir()
    os.symlink(elsewhere, root / "models" / RUN_ID)
    return elsewhere


def _foreign_demo_folder(root: Path) -> Path:
    folder = root / "data" / "demo"
    folder.mkdir(parents=True)
    (folder / "customers.parquet").write_text("not really")
    (folder / "budget.xlsx").write_text("mine")
    return folder


FOREIGN = {
    "run-folder": (_foreign_run_folder, "run", r"is not a run folder written by segml"),
    "run-folder-link": (_run_folder_link, "run", r"is not a run folder written by segml"),
    "model-folder": (_foreign_model_folder, "fit", r"is not a segml model folder"),
    "model-link-elsewhere": (_foreign_model_link, "fit", r"is not a segml model folder"),
    "demo-data-folder": (_foreign_demo_folder, "report",
                         r"is not a demo data folder written by segml"),
}


@pytest.mark.parametrize("case", list(FOREIGN), ids=list(FOREIGN))
def test_force_never_deletes_a_folder_segml_did_not_write(workdir, monkeypatch, capsys, case,
                                                          model):
    make, command, match = FOREIGN[case]
    make(workdir)
    before = snapshot(workdir)
    no_work(monkeypatch)
    cli_error([command, "--config", "c.toml", "--force"], capsys, match=match + r".*Fix:")
    assert snapshot(workdir) == before
    cfg = validate_config({})
    with pytest.raises(ConfigError, match=match):
        check_outputs(cfg, overwrite=True, report=command != "fit", model=command != "report")
    if case.startswith("model"):
        with pytest.raises(ConfigError, match=match):
            save_model(model, workdir / "models" / RUN_ID, overwrite=True)
    assert snapshot(workdir) == before


def test_force_replaces_segml_run_folder_and_keeps_previous_model(workdir, model):
    folder = marked_run_folder(workdir)
    cfg = validate_config({})
    assert check_outputs(cfg, overwrite=True)["run_folder"] == Path("reports") / RUN_ID
    first = save_model(model, Path("models") / RUN_ID)
    first_manifest = read_manifest(first)
    save_model(model, Path("models") / RUN_ID, overwrite=True)
    assert read_manifest(Path("models") / f"{RUN_ID}@v1") == first_manifest
    assert os.readlink(Path("models") / RUN_ID) == f"{RUN_ID}@v2"
    assert folder.is_dir()


def test_older_model_folder_is_kept_as_a_version_on_overwrite(tmp_path, model):
    path = save_model(model, root=tmp_path)
    legacy = tmp_path / "legacy"
    shutil.copytree(os.path.realpath(path), legacy)  # the layout of older segml releases
    reseal(legacy, lambda m: m.update(name="legacy"))
    old = read_manifest(legacy)
    with pytest.raises(OutputExistsError, match="already exists"):
        save_model(model, legacy)
    save_model(model, legacy, overwrite=True)
    assert read_manifest(tmp_path / "legacy@v1") == old
    assert os.readlink(legacy) == "legacy@v2"
    assert load_model(legacy).n_train == 200


def test_a_published_model_can_be_taken_back(tmp_path, model):
    first = save_model(model, root=tmp_path)
    staged = stage_model(model, root=tmp_path)
    assert staged.publish(overwrite=True) == first
    assert os.readlink(first) == "m1@v2"
    staged.unpublish()  # the run failed after publishing: back to the previous model
    assert os.readlink(first) == "m1@v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m1", "m1@v1"]
    fresh = stage_model(renamed(model, "m2"), root=tmp_path)
    fresh.publish()
    fresh.unpublish()  # no previous model: the name goes away
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m1", "m1@v1"]


# ------------------------------------------------------------------------------- 5. killed writes
def test_leftovers_of_a_killed_save_are_never_listed_or_loaded(tmp_path, model, capsys,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = save_model(model, root="models")
    leftover = Path("models") / ".m1.0123456789ab.tmp"  # what a killed save leaves
    shutil.copytree(os.path.realpath(path), leftover)
    link_left = Path("models") / ".m1.0123456789ab.link"
    os.symlink("m1@v1", link_left)
    table = list_models("models")
    assert table[["name", "version"]].values.tolist() == [["m1", "current"]]
    with pytest.raises(ModelIntegrityError, match=r"temporary folder left by an unfinished save"):
        load_model(leftover)
    with pytest.raises(ModelIntegrityError, match=r"temporary folder"):
        read_manifest(leftover)
    cli_error(["models", "show", str(leftover)], capsys,
              match=r"temporary folder left by an unfinished save.*Fix: load the model by its")
    out, err = cli_ok(["models", "list"], capsys)
    assert ".tmp" not in out and "0123456789ab" not in out
    assert "note: 2 temporary folder(s) of interrupted saves" in err
    save_model(model, root="models", overwrite=True)  # leftovers do not block a new save
    assert os.readlink(path) == "m1@v2"


KILLED_SAVER = """
import sys, time, joblib
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline
from segml.persistence import SegmentModel, save_model
from tests.persistence.conftest import make_features, make_preprocessor

X = make_features(120, seed=2)
pipe = Pipeline([("pre", make_preprocessor()), ("km", KMeans(3, n_init=1))]).fit(X)
model = SegmentModel.from_training(pipe, X, name="m1")

def half_written(obj, path, **kw):
    open(path, "wb").write(b"half a pickle")
    print("WRITING", flush=True)
    time.sleep(60)

joblib.dump = half_written
save_model(model, root=sys.argv[1], overwrite=True)
"""


def test_a_save_killed_midway_leaves_only_an_ignored_temporary(tmp_path, model):
    import signal
    import subprocess
    import sys

    root = tmp_path / "models"
    save_model(model, root=root)
    before = load_model(root / "m1").manifest["created"]
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, str(root)],
                            stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout.readline().strip() == "WRITING"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    leftovers = [p for p in root.iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and _atomic.is_temporary(leftovers[0])
    assert list_models(root)[["name", "version"]].values.tolist() == [["m1", "current"]]
    assert load_model(root / "m1").manifest["created"] == before  # the model is untouched
    with pytest.raises(ModelIntegrityError, match="temporary folder left by an unfinished"):
        load_model(leftovers[0])
    save_model(model, root=root, overwrite=True)
    assert os.readlink(root / "m1") == "m1@v2"


# ----------------------------------------------------------------------------------- 6. disk full
def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", ["model-file", "manifest", "publish-link"])
def test_disk_full_while_saving_leaves_nothing(tmp_path, model, monkeypatch, where):
    import segml.persistence.save as sp  # where _dumps and os.symlink are looked up

    prior = save_model(model, root=tmp_path)
    before = snapshot(tmp_path)
    if where == "model-file":
        monkeypatch.setattr(joblib, "dump", _enospc)
    elif where == "manifest":
        monkeypatch.setattr(sp, "_dumps", lambda body: _enospc())
    else:
        monkeypatch.setattr(sp.os, "symlink", _enospc)
    with pytest.raises(OutputWriteError,
                       match=r"could not write .*m1: no space left on the device.*Fix: free"):
        save_model(model, root=tmp_path, overwrite=True)
    monkeypatch.undo()
    assert snapshot(tmp_path) == before  # no temporaries, no new version, name unchanged
    assert load_model(prior).n_train == 200


def test_disk_full_on_the_cli_is_one_line(workdir, capsys, monkeypatch):
    monkeypatch.setattr(Path, "write_bytes", _enospc)
    msg = cli_error(["init", "new.toml"], capsys,
                    match=r"could not write new.toml: no space left on the device.*Fix: free")
    assert "\n" not in msg
    assert sorted(p.name for p in workdir.iterdir()) == ["c.toml"]


# --------------------------------------------------------------------------------------- 7. umask
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077], ids=["022", "027", "077"])
def test_outputs_follow_the_umask(tmp_path, model, capsys, monkeypatch, umask):
    monkeypatch.chdir(tmp_path)
    old = os.umask(umask)
    try:
        path = save_model(model, root="models")
        cli_ok(["init", "cfg.toml"], capsys)
        with _atomic.atomic_dir("run", marker=RUN_MARKER) as tmp:
            (tmp / "a.csv").write_text("x\n")
    finally:
        os.umask(old)
    fmode, dmode = 0o666 & ~umask, 0o777 & ~umask
    real = Path(os.path.realpath(path))
    for f in [real / MODEL_FILE, real / MANIFEST, real / MANIFEST_HASH, Path("cfg.toml"),
              Path("run") / "a.csv", Path("run") / RUN_MARKER]:
        assert stat.S_IMODE(f.stat().st_mode) == fmode, f
    for d in [real, Path("run")]:
        assert stat.S_IMODE(d.stat().st_mode) == dmode, d


# ---------------------------------------------------------------------------- 8. listing verifies
def test_listing_says_verified_only_after_checking_every_hash(tmp_path, model, capsys,
                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = save_model(model, root="models")
    bad = save_model(renamed(model, "bad"), root="models")
    blob = bytearray((bad / MODEL_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # the manifest still matches its own hash
    (bad / MODEL_FILE).write_bytes(bytes(blob))
    signed = save_model(renamed(model, "signed"), root="models",
                        key=b"k3y")
    table = list_models("models").set_index("name")
    assert table["verified"].to_dict() == {"bad": False, "m1": True, "signed": False}
    assert "does not match its sha256" in table.loc["bad", "status"]
    assert table.loc["signed", "status"] == "signed: pass the key to verify"
    assert list_models("models", key=b"k3y").set_index("name").loc["signed", "verified"]
    out, _ = cli_ok(["models", "list"], capsys)
    row = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert " True " in row["m1"] and " False " in row["bad"]
    monkeypatch.setenv("SEGML_TEST_KEY", "k3y")
    out, _ = cli_ok(["models", "list", "--key-env", "SEGML_TEST_KEY"], capsys)
    row = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert " True " in row["signed"]
    cli_error(["models", "show", str(bad)], capsys, match=r"does not match its sha256.*Fix:")
    shutil.rmtree(os.path.realpath(bad))  # a version deleted by hand: the name dangles
    row = list_models("models").set_index("name").loc["bad"]
    assert not row["verified"] and row["status"] == "points to bad@v1, which is missing"
    cli_error(["models", "show", str(bad)], capsys, match=r"is not a segml model folder.*Fix:")
    assert verify_model(good)["name"] == "m1"
    assert verify_model(signed, key=b"k3y")["name"] == "signed"


# -------------------------------------------------------------------------- 9-11. refusing models
def test_manifest_without_versions_is_refused(workdir, model, capsys):
    path = save_model(model, root="models")
    reseal(Path(os.path.realpath(path)), lambda m: m.pop("versions"))
    with pytest.raises(ModelVersionError, match=r"has no 'versions' block.*Fix: re-train"):
        load_model(path)
    cli_error(["score", str(path), "--out", "s.csv"], capsys,
              match=r"no 'versions' block.*Fix: re-train and save")
    assert not (workdir / "s.csv").exists()


KEYS = {
    "wrong-key-env": (["--key-env", "SEGML_TEST_KEY"], b"other",
                      r"does not match the signature.*Fix: check the key"),
    "no-key": ([], None, r"is signed \(HMAC-SHA256\) and no key was given.*--key-file"),
    "missing-key-file": (["--key-file", "nope.key"], None, r"--key-file nope.key: cannot read"),
    "empty-key-env": (["--key-env", "SEGML_EMPTY"], None, r"--key-env SEGML_EMPTY: .*not set"),
}


@pytest.mark.parametrize("case", list(KEYS), ids=list(KEYS))
def test_signed_model_needs_the_right_key(workdir, model, capsys, monkeypatch, case):
    argv, api_key, match = KEYS[case]
    path = save_model(model, root="models", key=b"right")
    monkeypatch.setenv("SEGML_TEST_KEY", "other")
    monkeypatch.setenv("SEGML_EMPTY", "")
    cli_error(["score", str(path), "--out", "s.csv", *argv], capsys, match=match)
    cli_error(["models", "show", str(path), *argv], capsys, match=match)
    if api_key is not None or case == "no-key":
        with pytest.raises(ModelIntegrityError, match=match.split(".*")[0]):
            load_model(path, key=api_key)
    (workdir / "right.key").write_bytes(b"right\n")
    out, _ = cli_ok(["models", "show", str(path), "--key-file", "right.key"], capsys)
    assert json.loads(out)["integrity"] == "hmac-sha256"


def test_tampered_model_file_is_refused(workdir, model, capsys):
    path = save_model(model, root="models")
    real = Path(os.path.realpath(path))
    (real / MODEL_FILE).write_bytes((real / MODEL_FILE).read_bytes()[:-7] + b"evil!!!")
    with pytest.raises(ModelIntegrityError, match=r"does not match its sha256.*Refusing"):
        load_model(path)
    cli_error(["score", str(path), "--out", "s.csv"], capsys,
              match=r"does not match its sha256.*Fix: restore the model")


def test_unknown_model_format_is_refused_before_work(workdir, model, monkeypatch, capsys):
    no_work(monkeypatch)
    (workdir / "bad.toml").write_text(SMALL + '[output]\nmodel_format = "pickle"\n')
    cli_error(["run", "--config", "bad.toml"], capsys,
              match=r"output.model_format='pickle' is not one of.*Fix: set \[output\]")
    with pytest.raises(ConfigError, match=r"format='pickle' should be one of.*Fix:"):
        save_model(renamed(model, "fmt"), root=workdir / "models", format="pickle")
    assert not (workdir / "models").exists()


# -------------------------------------------------------------------------------- 12. concurrency
def _race(n: int, target) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("interleave", [False, True], ids=["free", "all-past-the-checks"])
@pytest.mark.parametrize("round_", range(3))
def test_concurrent_saves_without_overwrite_exactly_one_wins(tmp_path, model, monkeypatch,
                                                             round_, interleave):
    if interleave:  # every saver has passed its existence checks before any claims the name
        import segml.persistence.save as sp  # where rename_new is looked up

        barrier, real = threading.Barrier(3, timeout=20), sp.rename_new

        def claim_version_then_wait(src, dst):
            real(src, dst)
            barrier.wait()

        monkeypatch.setattr(sp, "rename_new", claim_version_then_wait)
    results = _race(3, lambda i: save_model(model, root=tmp_path))
    wins = [r for r in results if isinstance(r, Path)]
    losses = [r for r in results if isinstance(r, OutputExistsError)]
    assert len(wins) == 1 and len(losses) == 2, results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m1", os.readlink(tmp_path / "m1")]
    assert load_model(tmp_path / "m1").n_train == 200


def test_concurrent_overwrites_keep_every_model(tmp_path, model):
    save_model(model, root=tmp_path)
    results = _race(3, lambda i: save_model(model, root=tmp_path, overwrite=True))
    assert all(isinstance(r, Path) for r in results), results
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["m1", "m1@v1", "m1@v2", "m1@v3", "m1@v4"]
    assert os.readlink(tmp_path / "m1") in names
    for n in names:
        assert verify_model(tmp_path / n)["n_train"] == 200


def test_readers_always_see_a_complete_model_during_overwrites(tmp_path, model):
    save_model(model, root=tmp_path)
    stop = threading.Event()
    loads: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                loads.append(load_model(tmp_path / "m1").n_train)
            except BaseException as exc:  # any failure is a bug: collected
                errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(8):
            save_model(model, root=tmp_path, overwrite=True)
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert loads and set(loads) == {200}
    assert os.readlink(tmp_path / "m1") == "m1@v9"


# ---------------------------------------------------------------------------------- 13. full runs
@pytest.mark.slow
def test_report_writes_only_the_report(workdir, capsys):
    out, _ = cli_ok(["report", "--config", "c.toml", "--run-id", "q4"], capsys)
    assert "report: reports/q4/report.html" in out
    assert (workdir / "reports" / "q4" / "report.html").is_file()
    assert (workdir / "reports" / "q4" / RUN_MARKER).is_file()
    assert not (workdir / "models").exists() or not any((workdir / "models").iterdir())
    metrics = json.loads((workdir / "reports" / "q4" / "metrics.json").read_text())
    assert metrics["model_path"] is None


@pytest.mark.slow
def test_failed_run_leaves_no_model_and_no_run_folder(workdir, capsys, monkeypatch):
    # the disk fills up at the very last step: moving the complete run folder into place,
    # after the model was published; the model is taken back
    real = _atomic.rename_new

    def full_disk(src, dst):
        if Path(dst).name == RUN_ID and Path(dst).parent.name == "reports":
            assert os.path.islink(Path("models") / RUN_ID)  # the model was published ...
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(_atomic, "rename_new", full_disk)
    cli_error(["run", "--config", "c.toml", "--quiet"], capsys,
              match=r"could not write reports/demo-20241231: no space left.*Fix: free")
    assert sorted(p.name for p in (workdir / "models").iterdir()) == []  # ... and taken back
    assert sorted(p.name for p in (workdir / "reports").iterdir()) == []


def test_skops_keeps_the_feature_state_dates(tmp_path, model):
    pytest.importorskip("skops.io")
    from segml.datasets import make_portfolio
    from segml.features import build_features

    pf = make_portfolio(150, random_state=0)
    fs = build_features(pf.transactions, pf.customers, pf.as_of)
    dated = renamed(model, "dated")
    dated.feature_state = fs.state
    path = save_model(dated, root=tmp_path, format="skops")
    assert fs.state.as_of == pd.Timestamp("2024-12-31")  # the caller's object is untouched
    loaded = load_model(path)
    assert isinstance(loaded.feature_state.as_of, pd.Timestamp)
    assert loaded.feature_state.as_of == fs.state.as_of


@pytest.mark.slow
def test_fit_writes_a_signed_skops_model_that_score_needs_the_key_for(workdir, capsys,
                                                                      monkeypatch):
    monkeypatch.setenv("SEGML_TEST_KEY", "s3cret")
    cli_ok(["fit", "--config", "c.toml", "--name", "sk", "--model-format", "skops",
            "--key-env", "SEGML_TEST_KEY", "--quiet"], capsys)
    real = Path(os.path.realpath(workdir / "models" / "sk"))
    assert sorted(p.name for p in real.iterdir()) == [MANIFEST, MANIFEST_HASH, "model.skops"]
    assert not (workdir / "reports").exists()  # fit writes no report
    out, _ = cli_ok(["models", "show", "models/sk", "--key-env", "SEGML_TEST_KEY"], capsys)
    assert json.loads(out)["serializer"] == "skops"
    cli_error(["score", "models/sk", "--config", "c.toml", "--out", "s.csv"], capsys,
              match=r"is signed \(HMAC-SHA256\) and no key was given.*--key-env")
    out, _ = cli_ok(["score", "models/sk", "--config", "c.toml", "--out", "s.csv",
                     "--key-env", "SEGML_TEST_KEY"], capsys)
    assert "scored" in out and (workdir / "s.csv").is_file()

"""segml.spark.session: every refusal is checked without a JVM; one real local session reuse."""

from __future__ import annotations

import builtins
import os
import socket
import subprocess
import sys

import pytest

from segml.errors import EngineError, SegmlError
from segml.spark import session as ss


def test_import_segml_does_not_import_pyspark():
    code = ("import sys, segml, segml.spark, segml.spark.session; "
            "print(any(m == 'pyspark' or m.startswith('pyspark.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_engine_error_is_a_segml_error():
    assert issubclass(EngineError, SegmlError)
    assert issubclass(EngineError, RuntimeError)


def test_pyspark_missing_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError("No module named 'pyspark'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(EngineError, match=r"pyspark.*not installed.*Fix: pip install "
                                          r"'segml\[spark\]'"):
        ss.import_pyspark()
    with pytest.raises(EngineError, match=r"pip install 'segml\[spark\]'"):
        ss.get_session(master="local[1]")


def test_connect_client_dependency_missing(monkeypatch):
    # None in sys.modules makes any import of grpc fail, whether or not an earlier test of
    # this worker (the Connect round trip) already imported it; patching builtins.__import__
    # did not, because importlib.import_module returns a cached module without calling it.
    monkeypatch.setitem(sys.modules, "grpc", None)
    with pytest.raises(EngineError, match=r"Spark Connect.*grpc.*pip install 'segml\[spark\]'"):
        ss.import_pyspark(remote=True)


@pytest.mark.parametrize(("text", "major"), [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('java version "1.8.0_292"\nJava(TM) SE Runtime', 8),
    ('openjdk version "21" 2023-09-19', 21),
    ('openjdk version "11.0.2" 2019-01-15', 11),
])
def test_java_major(text, major):
    assert ss.java_major(text) == major


def test_java_major_unreadable():
    with pytest.raises(EngineError, match=r"could not read a Java version.*Fix: install a JDK 17"):
        ss.java_major("command not found")


def test_no_java_on_path(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(ss.shutil, "which", lambda name: None)
    with pytest.raises(EngineError, match=r"no 'java' is on PATH.*Fix: install a JDK 17"
                                          r".*JAVA_HOME"):
        ss.check_java()
    with pytest.raises(EngineError, match=r"needs Java 17\+"):
        ss.get_session(master="local[1]")


def test_java_home_without_java(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(EngineError, match=r"JAVA_HOME=.*has no bin/java.*Fix: install a JDK 17"):
        ss.check_java()


def _fake_java(monkeypatch, stderr, returncode=0):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(ss.shutil, "which", lambda name: "/usr/bin/java")

    def fake_run(cmd, **kwargs):
        assert cmd == ["/usr/bin/java", "-version"]
        return subprocess.CompletedProcess(cmd, returncode, stdout="", stderr=stderr)

    monkeypatch.setattr(ss.subprocess, "run", fake_run)


def test_old_java_refused(monkeypatch):
    _fake_java(monkeypatch, 'openjdk version "11.0.22" 2024-01-16')
    with pytest.raises(EngineError, match=r"needs Java 17\+, but '/usr/bin/java' is Java 11.*"
                                          r"Fix: install a JDK 17.*set JAVA_HOME"):
        ss.check_java()


def test_java_8_refused(monkeypatch):
    _fake_java(monkeypatch, 'java version "1.8.0_292"')
    with pytest.raises(EngineError, match=r"is Java 8\."):
        ss.check_java()


def test_java_version_fails(monkeypatch):
    _fake_java(monkeypatch, "Error: broken install", returncode=1)
    with pytest.raises(EngineError, match=r"-version failed \(exit 1\).*broken install.*Fix:"):
        ss.check_java()


def test_java_17_accepted(monkeypatch):
    _fake_java(monkeypatch, 'openjdk version "17.0.15" 2025-04-15')
    assert ss.check_java() == 17


def test_real_java_is_17_or_newer():
    assert ss.check_java() >= 17


@pytest.mark.parametrize("master", ["local[x]", "spark:/host", "localhost", "", "sc://h:1"])
def test_bad_master(master):
    with pytest.raises(EngineError, match=r"not a master URL.*Fix: config \[engine\] master.*"
                                          r"get_session\(master="):
        ss.get_session(master=master)


@pytest.mark.parametrize("remote", ["http://host:15002", "host:15002", "sc://"])
def test_bad_remote(remote):
    with pytest.raises(EngineError, match=r"should be an sc:// URL.*Fix: config \[engine\] remote"):
        ss.get_session(remote=remote)


def test_remote_port_not_a_number():
    with pytest.raises(EngineError, match=r"port that is not a number \('abc'\).*Fix:"):
        ss.get_session(remote="sc://host:abc")


def test_master_and_remote_both():
    with pytest.raises(EngineError, match=r"not both.*Fix: remove one of \[engine\] "
                                          r"master / remote"):
        ss.get_session(master="local[1]", remote="sc://localhost:15002")


@pytest.mark.parametrize("partitions", [0, -2, 2.5, True, "8"])
def test_bad_partitions(partitions):
    with pytest.raises(EngineError, match=r"partitions=.*positive whole number.*"
                                          r"\[engine\] partitions"):
        ss.get_session(master="local[1]", partitions=partitions)


def test_unreachable_connect_server_names_url():
    # a port nothing listens on: bind one, close it, then connect
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"sc://127.0.0.1:{port}"
    with pytest.raises(EngineError, match=rf"could not reach the Spark Connect server "
                                          rf"'sc://127.0.0.1:{port}'.*Fix: start it"):
        ss.get_session(remote=url)


@pytest.mark.parametrize(("url", "address"), [
    ("sc://host", ("host", 15002)),
    ("sc://host:1234", ("host", 1234)),
    ("sc://host:1234/;token=abc;use_ssl=true", ("host", 1234)),
    ("sc://[::1]:15003", ("::1", 15003)),
])
def test_remote_address(url, address):
    assert ss._remote_address(url) == address


def test_unreachable_cluster_is_reported(monkeypatch):
    import pyspark.sql

    class Boom:
        def master(self, m):
            return self

        def appName(self, n):  # noqa: N802 (pyspark's name)
            return self

        def config(self, k, v):
            return self

        def getOrCreate(self):  # noqa: N802
            raise RuntimeError("All masters are unresponsive! Giving up.")

    monkeypatch.setattr(pyspark.sql.SparkSession, "builder", Boom())
    with pytest.raises(EngineError, match=r"could not start a Spark session on master "
                                          r"'spark://nohost:7077'.*unresponsive.*Fix: check"):
        ss.get_session(master="spark://nohost:7077")


def test_get_session_reuses_the_local_session_and_executors_have_python(spark):
    got = ss.get_session(master="local[1]")
    assert got is spark
    assert got.conf.get("spark.sql.session.timeZone") == "UTC"
    ss.check_executors(got)


def test_executor_failure_is_explained():
    class Frame:
        def mapInPandas(self, func, schema):  # noqa: N802
            return self

        def collect(self):
            raise RuntimeError("ModuleNotFoundError: No module named 'pandas'")

    class Session:
        def range(self, n):
            return Frame()

    with pytest.raises(EngineError, match=r"executors cannot run segml's Python.*pandas.*"
                                          r"Fix: install segml\[spark\].*PYSPARK_PYTHON"):
        ss.check_executors(Session())


def test_engine_config_section_defaults_and_errors():
    from segml.config import validate_config
    from segml.errors import ConfigError

    cfg = validate_config({})
    assert cfg["engine"] == {"engine": "pandas", "master": None, "remote": None,
                             "partitions": None, "sample_size": None, "strategy": "sample"}
    ok = validate_config({"engine": {"engine": "spark", "remote": "sc://h:15002",
                                     "partitions": 8, "sample_size": 1000}})
    assert ok["engine"]["partitions"] == 8
    bad = [
        ({"engine": "dask"}, r"engine.engine='dask' should be 'pandas' or 'spark'.*Fix:"),
        ({"master": "local[2]", "remote": "sc://h"}, r"both set.*Fix: remove one"),
        ({"remote": "http://h:15002"}, r"engine.remote=.*Spark Connect URL.*Fix:"),
        ({"partitions": 0}, r"engine.partitions=0 should be a positive.*Fix: \[engine\]"),
        ({"sample_size": -5}, r"engine.sample_size=-5 should be a positive"),
        ({"strategy": "mllib"}, r"engine.strategy='mllib' should be 'sample' or 'distrib.*Fix"),
        ({"master": 4}, r"engine.master must be a string"),
        ({"maser": "local"}, r"unknown key 'engine.maser'.*Did you mean 'master'"),
    ]
    for section, message in bad:
        with pytest.raises(ConfigError, match=message):
            validate_config({"engine": section})


def test_session_from_config_passes_the_section(monkeypatch):
    from segml.config import validate_config

    seen = {}
    monkeypatch.setattr(ss, "get_session", lambda **kw: seen.update(kw) or "session")
    cfg = validate_config({"engine": {"engine": "spark", "master": "local[2]",
                                      "partitions": 4}})
    assert ss.session_from_config(cfg) == "session"
    assert seen == {"master": "local[2]", "remote": None, "partitions": 4}
    with pytest.raises(EngineError, match=r"engine is 'pandas'.*Fix: set \[engine\] engine"):
        ss.session_from_config(validate_config({}))


def test_classic_session_settings(monkeypatch):
    seen = {}
    monkeypatch.setattr(ss, "_classic", lambda master, app, settings: seen.update(
        master=master, settings=settings) or "session")
    assert ss.get_session(master="local[2]", partitions=3,
                          config={"spark.ui.showConsoleProgress": "true"}) == "session"
    assert seen["master"] == "local[2]"
    assert seen["settings"]["spark.sql.session.timeZone"] == "UTC"
    assert seen["settings"]["spark.sql.shuffle.partitions"] == "3"
    assert seen["settings"]["spark.ui.showConsoleProgress"] == "true"  # the caller's wins
    seen.clear()
    ss.get_session(master="local[1]")
    assert seen["settings"]["spark.ui.showConsoleProgress"] == "false"  # no stage bars


@pytest.mark.parametrize(("master", "partitions"), [
    ("local", "2"), ("local[3]", "6"), ("local[2, 3]", "4"),
    ("local[*]", str(2 * (os.cpu_count() or 1))), ("spark://host:7077", None),
    ("local-cluster[2,1,1024]", None),
])
def test_local_masters_get_few_shuffle_partitions(monkeypatch, master, partitions):
    seen = {}
    monkeypatch.setattr(ss, "_classic", lambda m, app, settings: seen.update(settings))
    ss.get_session(master=master)
    assert seen.get("spark.sql.shuffle.partitions") == partitions
    seen.clear()
    ss.get_session(master=master, partitions=50)  # the configured number always wins
    assert seen["spark.sql.shuffle.partitions"] == "50"

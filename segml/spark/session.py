"""Start (or reach) the Spark session segml runs on, with clear errors when it cannot.

Two kinds of session:

* **classic** (``master="local[4]"``, ``"spark://host:7077"``, ``"yarn"``, ``"k8s://..."``): the
  JVM runs here, so Java 17+ must be installed; :func:`check_java` checks it *before* the JVM
  is started (a missing or old Java otherwise ends in a Java stack trace).
* **Spark Connect** (``remote="sc://host:15002"``): a thin gRPC client; no Java is needed on
  this machine, the server does the work. The connection is tried at once (one cheap call), so an
  unreachable server is reported here with its URL, not at the first query.

Executors need the Python stack: ``mapInPandas`` workers run ``PYSPARK_PYTHON`` (default: the
system ``python3``, usually without pandas or segml). For local masters :func:`get_session` sets
``PYSPARK_PYTHON`` to this interpreter when it is unset; on a cluster the executors' Python must
have ``segml[spark]`` installed (or a packed environment shipped with ``spark.archives``) and
:func:`check_executors` runs a one-row job there to say so clearly.

Nothing here imports pyspark at module import time.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from segml.errors import EngineError

__all__ = ["MIN_JAVA", "get_session", "check_java", "java_major", "check_executors",
           "import_pyspark", "probe_remote", "session_from_config"]

#: Oldest Java major version PySpark 4 runs on.
MIN_JAVA = 17

_INSTALL_FIX = (
    "Fix: pip install 'segml[spark]' (installs pyspark[connect] 4.x), in the environment "
    "that runs segml."
)
_JAVA_FIX = (
    f"Fix: install a JDK {MIN_JAVA} or newer (e.g. apt-get install openjdk-17-jre-headless, "
    "or a Temurin 17/21 build) and set JAVA_HOME to it (export JAVA_HOME=/usr/lib/jvm/"
    "java-17-openjdk-amd64), or use a Spark Connect server instead: config [engine] remote = "
    "\"sc://host:15002\" (Python: get_session(remote=\"sc://host:15002\"))."
)
_MASTER = re.compile(
    r"^(local(\[(\*|\d+)(,\s*\d+)?\])?|local-cluster\[\d+,\s*\d+,\s*\d+\]"
    r"|spark://\S+|yarn|k8s://\S+|mesos://\S+)$"
)


def _short(value: Any, limit: int = 60) -> str:
    text = str(value).strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def import_pyspark(remote: bool = False) -> Any:
    """Import pyspark (and the Spark Connect client when ``remote``), or explain how to get it.

    Parameters
    ----------
    remote : bool, default False
        Also check the Spark Connect client's dependencies (grpcio, protobuf, ...).

    Returns
    -------
    module
        The ``pyspark`` module.

    Raises
    ------
    EngineError
        When pyspark (or a Connect dependency) cannot be imported, or pyspark is older than 4.
    """
    try:
        import pyspark
    except ImportError as exc:
        raise EngineError(
            f"engine 'spark' needs pyspark, which is not installed here ({_short(exc)}). "
            + _INSTALL_FIX
        ) from exc
    major = int(re.match(r"\d+", pyspark.__version__).group())  # type: ignore[union-attr]
    if major < 4:
        raise EngineError(
            f"engine 'spark' needs pyspark 4.x, found pyspark {pyspark.__version__}. "
            "Fix: pip install -U 'segml[spark]'."
        )
    if remote:
        try:
            import importlib

            for name in ("grpc", "grpc_status", "google.protobuf", "pyarrow"):
                importlib.import_module(name)
        except ImportError as exc:
            raise EngineError(
                f"Spark Connect (remote) needs the pyspark[connect] client packages, missing "
                f"here: {_short(exc)}. " + _INSTALL_FIX
            ) from exc
    return pyspark


def _java_executable() -> str:
    """Find the java Spark's launcher runs: ``$JAVA_HOME/bin/java``, else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = Path(home) / "bin" / ("java.exe" if os.name == "nt" else "java")
        if not exe.is_file():
            raise EngineError(
                f"JAVA_HOME={_short(home)!r} has no bin/java, so Spark cannot start its JVM. "
                + _JAVA_FIX
            )
        return str(exe)
    exe = shutil.which("java")
    if exe is None:
        raise EngineError(
            "engine 'spark' (classic master) needs Java 17+, but no 'java' is on PATH and "
            "JAVA_HOME is not set. " + _JAVA_FIX
        )
    return exe


def java_major(version_text: str) -> int:
    """Parse the Java major version from ``java -version`` output.

    Parameters
    ----------
    version_text : str
        What ``java -version`` prints (on stderr), e.g. ``openjdk version "17.0.15" ...``.

    Returns
    -------
    int
        The major version (``"1.8.0_292"`` is 8, ``"17.0.15"`` is 17, ``"21"`` is 21).

    Raises
    ------
    EngineError
        When no version can be read from the text.

    Examples
    --------
    >>> java_major('openjdk version "17.0.15" 2025-04-15')
    17
    >>> java_major('java version "1.8.0_292"')
    8
    """
    match = re.search(r'version\s+"([^"]+)"', version_text)
    if match is None:
        raise EngineError(
            f"could not read a Java version from `java -version`: {_short(version_text)!r}. "
            + _JAVA_FIX
        )
    parts = re.findall(r"\d+", match.group(1))
    if not parts:
        raise EngineError(f"could not read a Java version from {match.group(1)!r}. " + _JAVA_FIX)
    major = int(parts[0])
    if major == 1 and len(parts) > 1:  # "1.8.0_292" is Java 8
        major = int(parts[1])
    return major


def check_java() -> int:
    """Check that the Java Spark will start is 17 or newer, without starting a JVM.

    Returns
    -------
    int
        The Java major version found.

    Raises
    ------
    EngineError
        When no Java is found (JAVA_HOME without ``bin/java``, or none on PATH), ``java
        -version`` fails, or the version is below 17; the message says how to fix it.
    """
    exe = _java_executable()
    try:
        done = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=60,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"could not run {_short(exe)!r} -version: {_short(exc)}. "
                          + _JAVA_FIX) from exc
    text = (done.stderr or "") + (done.stdout or "")
    if done.returncode != 0:
        raise EngineError(f"{_short(exe)!r} -version failed (exit {done.returncode}): "
                          f"{_short(text)!r}. " + _JAVA_FIX)
    major = java_major(text)
    if major < MIN_JAVA:
        raise EngineError(
            f"engine 'spark' needs Java {MIN_JAVA}+, but {_short(exe)!r} is Java {major}. "
            + _JAVA_FIX
        )
    return major


def _check_master(master: str) -> None:
    if not isinstance(master, str) or not _MASTER.match(master.strip()):
        raise EngineError(
            f"Spark master {_short(master)!r} is not a master URL Spark understands (local, "
            "local[4], local[*], spark://host:7077, yarn, k8s://https://host:443). Fix: config "
            "[engine] master = \"local[*]\" (Python: get_session(master=\"local[*]\"))."
        )


def _check_remote(remote: str) -> None:
    if not isinstance(remote, str) or not re.match(r"^sc://[^/\s]+", remote.strip()):
        raise EngineError(
            f"Spark Connect remote {_short(remote)!r} should be an sc:// URL like "
            "sc://host:15002. Fix: config [engine] remote = \"sc://host:15002\" (Python: "
            "get_session(remote=\"sc://host:15002\"))."
        )


def _is_local(master: str) -> bool:
    return master.startswith("local")


def _local_cores(master: str) -> int | None:
    """Worker threads of a ``local``, ``local[n]``, ``local[*]`` or ``local[n, f]`` master.

    None for any other master (``local-cluster[...]`` included).
    """
    m = re.match(r"^local(?:\[(\*|\d+)(?:,\s*\d+)?\])?$", master.strip())  # as _MASTER
    if m is None:
        return None
    if m.group(1) is None:
        return 1
    return (os.cpu_count() or 1) if m.group(1) == "*" else max(1, int(m.group(1)))


def get_session(
    master: str | None = None,
    remote: str | None = None,
    *,
    app_name: str = "segml",
    partitions: int | None = None,
    config: dict[str, Any] | None = None,
) -> Any:
    """Build (or reuse) a SparkSession: classic with ``master``, or Spark Connect with ``remote``.

    Parameters
    ----------
    master : str, optional
        Classic master URL (``local[*]``, ``spark://host:7077``, ``yarn``...). Default
        ``local[*]`` when neither ``master`` nor ``remote`` is given. Config ``[engine] master``.
    remote : str, optional
        Spark Connect URL ``sc://host:port`` (config ``[engine] remote``). Mutually exclusive
        with ``master``.
    app_name : str, default "segml"
        Application name shown by Spark.
    partitions : int, optional
        ``spark.sql.shuffle.partitions`` (config ``[engine] partitions``). When None: twice
        the worker threads of a ``local`` master (Spark's 200 make thousands of tiny tasks on
        one machine), Spark's own default (200, or the cluster's setting) otherwise.
    config : dict, optional
        Further Spark settings (``{"spark.driver.memory": "4g"}``).

    Returns
    -------
    pyspark.sql.SparkSession
        A session with ``spark.sql.session.timeZone=UTC`` (segml's timestamps are naive UTC)
        and Arrow transfers on.

    Raises
    ------
    EngineError
        pyspark missing, Java missing or older than 17 (classic only), a bad master / remote
        URL, both given, or a cluster / Connect server that cannot be reached (the message
        names the URL).
    """
    if master is not None and remote is not None:
        raise EngineError(
            f"give either a classic master ({_short(master)!r}) or a Spark Connect remote "
            f"({_short(remote)!r}), not both. Fix: remove one of [engine] master / remote "
            "(Python: get_session(master=...) or get_session(remote=...))."
        )
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int)
                                   or partitions < 1):
        raise EngineError(
            f"Spark partitions={partitions!r} should be a positive whole number. Fix: config "
            "[engine] partitions = 200 (Python: get_session(partitions=200))."
        )
    settings: dict[str, Any] = {"spark.sql.session.timeZone": "UTC"}
    if partitions is not None:
        settings["spark.sql.shuffle.partitions"] = str(partitions)
    settings.update(config or {})
    if remote is not None:
        _check_remote(remote)
        import_pyspark(remote=True)
        return _connect(remote.strip(), app_name, settings)
    master = "local[*]" if master is None else master
    _check_master(master)
    import_pyspark()
    check_java()
    settings.setdefault("spark.sql.execution.arrow.pyspark.enabled", "true")
    # segml prints its own progress; Spark's stage bars would interleave with it on stderr
    settings.setdefault("spark.ui.showConsoleProgress", "false")
    if _is_local(master.strip()):
        # Spark's 200 shuffle partitions are sized for clusters: on one machine each tiny task
        # costs scheduling time (a 4,000-customer distributed segml run on 2 cores: 8 min 48 s
        # with 200, 83 s with 4 or 8); Spark's tuning guide asks for 2-3 tasks per core
        if (cores := _local_cores(master)) is not None:
            settings.setdefault("spark.sql.shuffle.partitions", str(2 * cores))
        # mapInPandas workers must run this interpreter (pandas, segml), not the system python3.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return _classic(master.strip(), app_name, settings)


def session_from_config(config: dict[str, Any], **kwargs: Any) -> Any:
    """Start the session an ``[engine]`` config section asks for.

    Parameters
    ----------
    config : dict
        A validated ``segml run`` configuration (:func:`segml.config.validate_config`), or its
        ``engine`` section alone: ``engine``, ``master``, ``remote``, ``partitions``.
    **kwargs
        Passed on to :func:`get_session` (``app_name``, ``config``).

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    EngineError
        When the section's engine is not ``"spark"``, or as :func:`get_session`.
    """
    section = config.get("engine", config) if isinstance(config.get("engine"), dict) else config
    if section.get("engine", "pandas") != "spark":
        raise EngineError(
            f"[engine] engine is {section.get('engine', 'pandas')!r}, so no Spark session is "
            "needed. Fix: set [engine] engine = \"spark\" (CLI --engine spark) to run on Spark."
        )
    return get_session(master=section.get("master"), remote=section.get("remote"),
                       partitions=section.get("partitions"), **kwargs)


def _classic(master: str, app_name: str, settings: dict[str, Any]) -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # JVM / cluster errors come as Py4J or Spark exceptions
        raise EngineError(
            f"could not start a Spark session on master {master!r}: {_short(exc, 200)}. "
            "Fix: check that the cluster is up and reachable from here (host, port, firewall), "
            "or run locally with [engine] master = \"local[*]\" (Python: "
            "get_session(master=\"local[*]\"))."
        ) from exc


def _remote_address(remote: str) -> tuple[str, int]:
    """Host and port of an ``sc://host[:port][/;params]`` URL (port 15002 by default)."""
    hostport = remote[len("sc://"):].split("/", 1)[0].split(";", 1)[0]
    host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    if not port:
        return hostport.strip("[]"), 15002
    if not port.isdigit():
        raise EngineError(
            f"Spark Connect remote {_short(remote)!r} has a port that is not a number "
            f"({_short(port)!r}). Fix: config [engine] remote = \"sc://host:15002\" (Python: "
            "get_session(remote=\"sc://host:15002\"))."
        )
    return host.strip("[]"), int(port)


def probe_remote(remote: str, timeout: float = 10.0) -> None:
    """Open (and close) a TCP connection to a Spark Connect URL's host and port.

    The Connect client retries an unreachable server for about ten minutes before it gives up;
    this check answers in ``timeout`` seconds.

    Parameters
    ----------
    remote : str
        ``sc://host[:port]`` URL (port 15002 by default).
    timeout : float, default 10
        Seconds to wait for the connection.

    Raises
    ------
    EngineError
        When the host cannot be resolved or nothing accepts connections on the port.
    """
    host, port = _remote_address(remote)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise EngineError(
            f"could not reach the Spark Connect server {remote!r} ({host}:{port}): "
            f"{_short(exc, 120)}. Fix: start it (sbin/start-connect-server.sh) or correct "
            "[engine] remote (Python: get_session(remote=\"sc://host:15002\")); check host, "
            "port and firewall."
        ) from exc


def _connect(remote: str, app_name: str, settings: dict[str, Any]) -> Any:
    from pyspark.sql import SparkSession

    probe_remote(remote)

    builder = SparkSession.builder.remote(remote).appName(app_name)
    try:
        session = builder.getOrCreate()
        for key, value in settings.items():
            session.conf.set(key, value)
        _ = session.version  # one round trip: fail here, with the URL, when unreachable
    except Exception as exc:
        if "SESSION_ALREADY_EXIST" in str(exc):
            raise EngineError(
                f"cannot open a Spark Connect session to {remote!r}: a classic Spark session "
                "already runs in this Python process, and PySpark allows only one kind. Fix: "
                "stop it first (spark.stop()), or use it instead ([engine] master, Python "
                "get_session(master=...)), or run the Connect client in its own process."
            ) from exc
        raise EngineError(
            f"could not reach the Spark Connect server {remote!r}: {_short(exc, 200)}. "
            "Fix: start it (sbin/start-connect-server.sh) or correct [engine] remote / "
            "--remote (Python: get_session(remote=\"sc://host:15002\")); check host, port "
            "and firewall."
        ) from exc
    return session


def check_executors(spark: Any) -> None:
    """Run a one-row ``mapInPandas`` job to check the executors' Python has pandas and segml.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        A classic or Connect session.

    Raises
    ------
    EngineError
        When the job fails (typically: executors run a Python without pandas / pyarrow /
        segml); the message says how to give them one.
    """
    def _probe(batches: Any) -> Any:
        import pandas as pd

        import segml

        for _ in batches:
            yield pd.DataFrame({"segml": [segml.__version__ if hasattr(segml, "__version__")
                                          else "ok"]})

    try:
        spark.range(1).mapInPandas(_probe, "segml string").collect()
    except Exception as exc:
        raise EngineError(
            f"the Spark executors cannot run segml's Python code: {_short(exc, 200)}. Fix: "
            "install segml[spark] in the executors' Python and point PYSPARK_PYTHON at it "
            "(local: export PYSPARK_PYTHON=$(which python)); on a cluster ship a packed "
            "environment with spark.archives (venv-pack / conda-pack) and set "
            "spark.pyspark.python."
        ) from exc

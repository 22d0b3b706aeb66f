"""One local Spark session for every Spark test (JVM start costs 10-20 s on a 2-core box)."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

#: JVM flags of the test JVMs (this session's and the Connect server's): the tests run many
#: small Spark jobs on a 2-core box, where the C2 compiler threads and the parallel collector
#: cost more CPU than they win back; C1 only with the serial collector roughly halves the JVM's
#: CPU for the same jobs (measured: JVM start plus four small feature frames, 42-44 s -> 20-22 s
#: of JVM CPU). Compilation tiers do not change results (Java floating point is strict).
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


@pytest.fixture(scope="session")
def spark():
    """A ``local[1]`` SparkSession with a small driver (C1 JIT, serial GC), no UI and two
    shuffle partitions."""
    try:
        import pyspark
    except ImportError:  # the spark extra is part of `make test`'s install: a real failure
        pytest.fail("pyspark is not installed: pip install -e '.[dev,spark]' (make test does)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("Java 17+ is needed for the Spark tests: .ci/run installs "
                    "openjdk-17-jre-headless")
    # Workers must run this interpreter (with segml and pandas), not the system Python.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("segml-tests")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", JVM_OPTIONS)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    assert pyspark.__version__ >= "4"
    yield session
    session.stop()

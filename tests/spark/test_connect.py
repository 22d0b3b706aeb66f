"""Spark Connect round trip: features, a sample fit and scoring over ``sc://``, equal to classic.

A local Spark Connect server (PySpark's own ``SparkConnectServer`` through ``spark-submit``,
``local[1]``, 1 GB) is started on a free port for this module and stopped after it. The client
runs in its own process (``connect_roundtrip.py``): PySpark refuses a Connect session next to the
classic test session (``SESSION_ALREADY_EXIST``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import JVM_OPTIONS
from .connect_roundtrip import COLUMNS, pipeline


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory):
    """``sc://127.0.0.1:PORT`` of a Connect server started here, stopped after the module."""
    import pyspark

    home = Path(pyspark.__file__).parent
    submit = home / "bin" / "spark-submit"
    if not submit.exists() or not list((home / "jars").glob("spark-connect_*.jar")):
        pytest.fail(f"no spark-submit / spark-connect jar under {home}: pip install "
                    "'pyspark[connect]>=4'")
    port = _free_port()
    log = tmp_path_factory.mktemp("connect") / "server.log"
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                          os.environ.get("PYTHONPATH", "")])}
    cmd = [str(submit), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
           "--master", "local[1]", "--conf", "spark.driver.memory=1g",
           "--conf", f"spark.driver.extraJavaOptions={JVM_OPTIONS}",
           "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=2",
           "--conf", "spark.sql.session.timeZone=UTC",
           "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
           "--conf", f"spark.connect.grpc.binding.port={port}", "spark-internal"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        start = time.monotonic()
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() - start > 300:
                    pytest.fail(f"Connect server did not start: {log.read_text()[-2000:]}")
                time.sleep(1)
        yield f"sc://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def classic_result(spark):
    return pipeline(spark)


def test_connect_round_trip_equals_classic(classic_result, connect_url, tmp_path):
    feats_c, fit_c, scores_c = classic_result
    script = Path(__file__).with_name("connect_roundtrip.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([
        str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script), connect_url, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    feats_r = pd.read_parquet(tmp_path / "features.parquet")
    assert list(feats_r.index) == list(feats_c.index)
    np.testing.assert_allclose(feats_r.to_numpy(float), feats_c[COLUMNS[1:]].to_numpy(float),
                               rtol=1e-12)
    sample_r = pd.read_parquet(tmp_path / "sample.parquet")
    assert list(sample_r.index) == list(fit_c.sample.index) and len(sample_r) > 200
    np.testing.assert_array_equal(sample_r["label"].to_numpy(),
                                  fit_c.segmenter.predict(fit_c.sample))
    scores_r = pd.read_parquet(tmp_path / "scores.parquet")
    assert list(scores_r.index) == list(scores_c.index)
    np.testing.assert_array_equal(scores_r["segment_id"].to_numpy(),
                                  scores_c["segment_id"].to_numpy())


def test_connect_next_to_a_classic_session_is_explained(spark):
    from segml.errors import EngineError
    from segml.spark.session import get_session

    with socket.socket() as listener:  # something accepts on the port: the probe passes
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"sc://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(EngineError, match=r"a classic Spark session already runs in this "
                                              r"Python process.*Fix: stop it first"):
            get_session(remote=url)
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)  # in case the builder set it

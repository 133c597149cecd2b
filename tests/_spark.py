"""One local Spark session for the whole test run (per xdist worker).

Starting a JVM costs seconds; every Spark test shares this session. Modules that need
Spark call :func:`require_spark` at import, so they skip with the reason where PySpark
or Java is missing.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator

import pytest


def require_spark() -> None:
    """Skip the calling test module when Spark cannot run here, saying why."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip(
            "PySpark is not installed (pip install 'cmooe-risk[spark]')", allow_module_level=True
        )
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH: Spark needs Java 17 or 21", allow_module_level=True)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("cmooe-risk-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.session.timeZone", "UTC")
        # The tests run a few short jobs on tiny data: the JVM's quick (C1) compiler alone
        # starts them sooner than waiting for the optimising one (the first feature build
        # of the parity test: 28 s instead of 35 s)
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # Python workers (the scoring job's mapInPandas) must import cmooe_risk: this
    # interpreter, not python3 on PATH. PYSPARK_PYTHON is read when a context starts.
    session.sparkContext.pythonExec = sys.executable
    yield session
    session.stop()

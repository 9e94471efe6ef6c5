"""The summary expression and the pipeline on Ibis' PySpark backend (local mode), against DuckDB.

One Spark session for the module (starting the JVM is most of the cost). Without PySpark or Java the module is
skipped with the reason, except on CI (CI=true), where that is a failure.
"""

import logging
import os
import shutil

import ibis
import pandas as pd
import pytest

from guanxi.analytics import AnalyticsInputError, engine, pipeline
from guanxi.analytics.btyd import params_dict

from .conftest import CALIBRATION_END, CDNOW_COLUMNS, CDNOW_PATH

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    # PySpark 4.0's pandas conversion still passes copy=False, deprecated in pandas 3.
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Spark tests must run on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def spark():
    try:
        import pyspark  # noqa: F401
    except ImportError as error:
        _unavailable(f"PySpark is not installed ({error})")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _unavailable("no Java runtime (java on PATH or JAVA_HOME) for PySpark")
    session = engine.spark_session(master="local[2]", shuffle_partitions=1, driver_memory="512m")
    # py4j logs "Closing down clientserver connection" from __del__ at interpreter exit, after pytest has
    # closed its capture streams: a "Logging error" traceback below the test summary.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_transactions(spark, cdnow_frame):
    frame = cdnow_frame.rename(columns={"customer": "customer_id"})[["customer_id", "purchased_at", "amount"]]
    # Dates, not naive timestamps: PySpark converts those in the process's local time zone, which Django's
    # settings change (TZ) when the whole suite runs, and midnight would move to the day before.
    frame = frame.assign(purchased_at=frame["purchased_at"].dt.date)
    # A temporary view, not a table: nothing is written to a warehouse directory.
    spark.createDataFrame(frame).createOrReplaceTempView("cdnow_transactions")
    return ibis.pyspark.connect(spark).table("cdnow_transactions")


@pytest.mark.parametrize(("unit", "period"), [("W", "D")])
def test_summary_expr_on_spark_equals_duckdb(spark_transactions, cdnow_transactions, unit, period):
    on_spark = engine.summary_frame(spark_transactions, as_of=CALIBRATION_END, unit=unit, period=period)
    on_duckdb = engine.summary_frame(cdnow_transactions, as_of=CALIBRATION_END, unit=unit, period=period)
    assert len(on_spark) == 2357
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_exact=False, rtol=1e-12)


def test_pipeline_on_a_file_read_by_spark_equals_duckdb(spark):
    on_spark, _ = pipeline.run_file(
        CDNOW_PATH,
        "customer",
        "date",
        "amount",
        "%Y%m%d",
        column_names=CDNOW_COLUMNS,
        engine_name="spark",
        spark=spark,
        as_of=CALIBRATION_END,
    )
    on_duckdb, _ = pipeline.run_file(
        CDNOW_PATH, "customer", "date", "amount", "%Y%m%d", column_names=CDNOW_COLUMNS, as_of=CALIBRATION_END
    )
    assert params_dict(on_spark.bgnbd.params) == pytest.approx(params_dict(on_duckdb.bgnbd.params), rel=1e-9)
    assert params_dict(on_spark.gamma_gamma.params) == pytest.approx(
        params_dict(on_duckdb.gamma_gamma.params), rel=1e-9
    )
    assert on_spark.segment_counts == on_duckdb.segment_counts
    assert on_spark.holdout is not None and on_spark.holdout.actual == 1882
    pd.testing.assert_frame_equal(on_spark.customers, on_duckdb.customers, check_exact=False, rtol=1e-9)


def test_spark_reader_reports_bad_values(spark, tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("c,d,a\nx,2024-01-01,3\ny,2024-01-02,-4.5\nz,never,1\n")
    with pytest.raises(AnalyticsInputError) as caught:
        engine.read_transactions_spark(path, "c", "d", "a", session=spark)
    assert len(caught.value.problems) == 2
    assert "'-4.5'" in caught.value.message and "'never'" in caught.value.message
    with pytest.raises(AnalyticsInputError, match="missing amount column 'amount'"):
        engine.read_transactions_spark(path, "c", "d", "amount", session=spark)

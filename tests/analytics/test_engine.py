"""The per-customer summary: literature facts on CDNOW, an independent pandas reference, every backend,
and the input errors of read_transactions."""

import os
import uuid
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.analytics import AnalyticsInputError, engine

from .conftest import CALIBRATION_END, HOLDOUT_END

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def reference_summary(frame: pd.DataFrame, as_of: str, unit: str = "D", period: str = "D") -> pd.DataFrame:
    """Plain pandas transcription of the documented definitions, independent of the Ibis expression."""
    as_of_ts = pd.Timestamp(as_of)
    kept = frame.assign(day=frame["purchased_at"].dt.normalize())
    kept = kept[kept["day"] <= as_of_ts]
    age = (as_of_ts - kept["day"]).dt.days
    if period == "W":
        age = (age // 7) * 7
    periods = kept.assign(age=age).groupby(["customer_id", "age"], as_index=False)["amount"].sum()
    first_age = periods.groupby("customer_id")["age"].transform("max")
    repeats = periods[periods["age"] != first_age].groupby("customer_id")["amount"].mean()
    by_period = periods.groupby("customer_id")["age"]
    by_row = kept.groupby("customer_id")
    per_unit = 7.0 if unit == "W" else 1.0
    out = pd.DataFrame(
        {
            "frequency": by_period.size() - 1,
            "recency": (by_period.max() - by_period.min()) / per_unit,
            "T": by_period.max() / per_unit,
        }
    )
    out["monetary_value"] = repeats.reindex(out.index).fillna(0.0)
    out["first_purchase"] = by_row["day"].min()
    out["last_purchase"] = by_row["day"].max()
    out["order_count"] = by_row.size()
    out["revenue"] = by_row["amount"].sum()
    return out.rename_axis("customer_id").reset_index()[list(engine.SUMMARY_COLUMNS)]


def assert_same_summary(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(engine.SUMMARY_COLUMNS)
    assert len(actual) == len(expected)
    if expected.empty:
        return
    actual = actual.sort_values("customer_id").reset_index(drop=True)
    expected = expected.sort_values("customer_id").reset_index(drop=True)
    assert actual["customer_id"].astype(str).tolist() == expected["customer_id"].astype(str).tolist()
    for column in ("frequency", "order_count"):
        assert actual[column].tolist() == expected[column].tolist(), column
    for column in ("recency", "T", "monetary_value", "revenue"):
        np.testing.assert_allclose(actual[column], expected[column], rtol=1e-10, atol=1e-9, err_msg=column)
    for column in ("first_purchase", "last_purchase"):
        assert pd.to_datetime(actual[column]).tolist() == pd.to_datetime(expected[column]).tolist(), column


# --- CDNOW: facts from the literature and the data ----------------------------------------------------------


def test_cdnow_summary_matches_the_published_cohort(cdnow_summary):
    # FHL 2005: 2,357 customers; FHL 2005b / Fader & Hardie's Gamma-Gamma note: 946 repeat buyers in weeks 1-39.
    assert len(cdnow_summary) == 2357
    assert int((cdnow_summary["frequency"] > 0).sum()) == 946
    # Customer 0001 in Fader & Hardie's published calibration summary: x = 2, t_x = 30.43, T = 38.86 weeks.
    first = cdnow_summary.set_index("customer_id").loc["0001"]
    assert first["frequency"] == 2
    assert first["recency"] == pytest.approx(30.43, abs=0.005)
    assert first["T"] == pytest.approx(38.86, abs=0.005)


def test_cdnow_summary_matches_the_pandas_reference(cdnow_summary, cdnow_frame):
    reference = reference_summary(cdnow_frame.rename(columns={"customer": "customer_id"}), CALIBRATION_END, unit="W")
    assert_same_summary(cdnow_summary, reference)


def test_cdnow_holdout_repeat_purchases_are_1882(cdnow_transactions, cdnow_frame):
    # FHL 2005 report 1,882 repeat transactions in weeks 40-78; count them from the data two ways.
    holdout = engine.holdout_expr(cdnow_transactions, as_of=CALIBRATION_END, holdout_end=HOLDOUT_END).to_pandas()
    assert int(holdout["holdout_purchases"].sum()) == 1882
    in_window = cdnow_frame[(cdnow_frame["purchased_at"] > CALIBRATION_END)]
    assert in_window.groupby("customer")["purchased_at"].nunique().sum() == 1882


# --- definitions on small, hand-checkable data ---------------------------------------------------------------


def tx_table(rows: list[tuple[str, str, float]]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["customer_id", "purchased_at", "amount"])
    frame["purchased_at"] = pd.to_datetime(frame["purchased_at"], format="ISO8601")
    return ibis.memtable(frame)


def test_same_day_purchases_are_one_transaction_with_summed_amount():
    table = tx_table(
        [
            ("a", "2024-01-01 09:00", 10.0),
            ("a", "2024-01-01 18:00", 5.0),
            ("a", "2024-01-11 10:00", 20.0),
            ("a", "2024-01-11 11:00", 4.0),
            ("a", "2024-01-21", 6.0),
        ]
    )
    row = engine.summary_frame(table, as_of="2024-01-31").iloc[0]
    assert row["frequency"] == 2  # three purchase days
    assert row["order_count"] == 5
    assert row["recency"] == 20.0
    assert row["T"] == 30.0
    assert row["monetary_value"] == pytest.approx((24.0 + 6.0) / 2)  # the first day's 15 is excluded
    assert row["revenue"] == pytest.approx(45.0)


def test_purchases_after_as_of_are_ignored_and_as_of_day_is_included():
    table = tx_table(
        [("a", "2024-01-01", 1.0), ("a", "2024-01-31 23:59", 2.0), ("a", "2024-02-01", 99.0), ("b", "2024-02-02", 5.0)]
    )
    summary = engine.summary_frame(table, as_of="2024-01-31")
    assert summary["customer_id"].tolist() == ["a"]  # b only bought later
    assert summary.iloc[0]["frequency"] == 1
    assert summary.iloc[0]["revenue"] == pytest.approx(3.0)


def test_weekly_periods_merge_purchases_in_the_same_week_counted_back_from_as_of():
    # as_of 2024-01-28: week 0 = Jan 22-28, week 1 = Jan 15-21, ... Jan 15 and Jan 21 share week 1.
    table = tx_table([("a", "2024-01-01", 1.0), ("a", "2024-01-15", 2.0), ("a", "2024-01-21", 3.0)])
    row = engine.summary_frame(table, as_of="2024-01-28", unit="W", period="W").iloc[0]
    assert row["frequency"] == 1
    assert row["T"] == 3.0  # Jan 1 falls in week 3 (Jan 1-7)
    assert row["recency"] == 2.0
    assert row["monetary_value"] == pytest.approx(5.0)


def test_unsorted_input_gives_the_same_summary(cdnow_frame):
    frame = cdnow_frame.rename(columns={"customer": "customer_id"})[["customer_id", "purchased_at", "amount"]]
    ordered = engine.summary_frame(ibis.memtable(frame), as_of=CALIBRATION_END, unit="W")
    shuffled = engine.summary_frame(
        ibis.memtable(frame.sample(frac=1.0, random_state=7)), as_of=CALIBRATION_END, unit="W"
    )
    assert_same_summary(shuffled, ordered)


def test_custom_column_names_and_invalid_units_are_checked():
    table = ibis.memtable(pd.DataFrame({"who": ["a"], "when": pd.to_datetime(["2024-01-01"]), "paid": [3]}))
    summary = engine.summary_frame(table, as_of="2024-01-02", customer_col="who", date_col="when", amount_col="paid")
    assert summary.iloc[0]["revenue"] == 3.0
    with pytest.raises(AnalyticsInputError, match="unit must be 'D'"):
        engine.summary_expr(table, as_of="2024-01-02", customer_col="who", date_col="when", amount_col="paid", unit="M")
    with pytest.raises(AnalyticsInputError, match="missing amount column 'amount'"):
        engine.summary_expr(table, as_of="2024-01-02", customer_col="who", date_col="when")


transactions_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(min_value=0, max_value=70),  # day offset
        st.integers(min_value=0, max_value=23),  # hour
        st.integers(min_value=0, max_value=10_000).map(lambda cents: cents / 100),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=transactions_strategy, unit=st.sampled_from(["D", "W"]), period=st.sampled_from(["D", "W"]))
def test_summary_agrees_with_the_reference_on_random_data(rows, unit, period):
    frame = pd.DataFrame(
        [(c, pd.Timestamp("2024-01-01") + pd.Timedelta(days=d, hours=h), a) for c, d, h, a in rows],
        columns=["customer_id", "purchased_at", "amount"],
    )
    as_of = "2024-02-20"
    actual = engine.summary_frame(ibis.memtable(frame), as_of=as_of, unit=unit, period=period)
    assert_same_summary(actual, reference_summary(frame, as_of, unit=unit, period=period))


def test_compress_summary_on_ibis_and_pandas_agree_and_keep_every_customer(cdnow_transactions, cdnow_summary):
    on_pandas = engine.compress_summary(cdnow_summary)
    on_engine = engine.compress_summary(
        engine.summary_expr(cdnow_transactions, as_of=CALIBRATION_END, unit="W")
    ).to_pandas()
    assert on_pandas["count"].sum() == len(cdnow_summary)
    assert len(on_pandas) < len(cdnow_summary)
    assert not on_pandas.duplicated(["frequency", "recency", "T"]).any()
    pd.testing.assert_frame_equal(on_pandas.reset_index(drop=True), on_engine.reset_index(drop=True), check_dtype=False)


# --- the same expression on every backend ---------------------------------------------------------------------


def load_sqlite(frame: pd.DataFrame, tmp_path: Path):
    con = ibis.sqlite.connect(str(tmp_path / "transactions.sqlite"))
    yield con.create_table("transactions", ibis.memtable(frame))
    con.disconnect()


def load_postgres(frame: pd.DataFrame, tmp_path: Path):
    try:
        con = ibis.postgres.connect(
            host="127.0.0.1", port=5432, user="postgres", database="postgres", connect_timeout=3
        )
    except Exception as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required on CI: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    name = f"guanxi_test_tx_{uuid.uuid4().hex[:12]}"
    try:
        yield con.create_table(name, ibis.memtable(frame), temp=True)
    finally:
        con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
        con.disconnect()


def load_duckdb_csv(frame: pd.DataFrame, tmp_path: Path):
    path = tmp_path / "transactions.csv"
    frame.to_csv(path, index=False)
    yield engine.read_transactions(path, "customer_id", "purchased_at", "amount")


def load_duckdb_parquet(frame: pd.DataFrame, tmp_path: Path):
    path = tmp_path / "transactions.parquet"
    frame.to_parquet(path)
    yield engine.read_transactions(path, "customer_id", "purchased_at", "amount")


@pytest.fixture(
    params=[load_duckdb_csv, load_duckdb_parquet, load_sqlite, load_postgres],
    ids=["duckdb-csv", "duckdb-parquet", "sqlite", "postgres"],
)
def backend_transactions(request, tmp_path, cdnow_frame):
    frame = cdnow_frame.rename(columns={"customer": "customer_id"})[["customer_id", "purchased_at", "amount"]]
    # Intraday times and an unsorted order make the backends truncate dates and sort for themselves.
    frame = frame.assign(purchased_at=frame["purchased_at"] + pd.to_timedelta(np.arange(len(frame)) % 24, "h"))
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    loader = request.param(frame, tmp_path)
    yield next(loader), frame
    loader.close()


@pytest.mark.parametrize(("unit", "period"), [("W", "D"), ("D", "W")])
def test_every_backend_gives_the_reference_summary(backend_transactions, unit, period):
    table, frame = backend_transactions
    actual = engine.summary_frame(table, as_of=CALIBRATION_END, unit=unit, period=period)
    assert_same_summary(actual, reference_summary(frame, CALIBRATION_END, unit=unit, period=period))


# --- read_transactions: clear errors first, then the formats --------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(AnalyticsInputError, match="no such file"):
        engine.read_transactions(tmp_path / "nope.csv", "c", "d", "a")


def test_empty_file(tmp_path):
    with pytest.raises(AnalyticsInputError, match="the file is empty"):
        engine.read_transactions(write(tmp_path, "empty.csv", ""), "c", "d", "a")


def test_header_only_file(tmp_path):
    with pytest.raises(AnalyticsInputError, match="no transactions"):
        engine.read_transactions(write(tmp_path, "header.csv", "c,d,a\n"), "c", "d", "a")


def test_missing_column_names_the_columns_present(tmp_path):
    path = write(tmp_path, "tx.csv", "customer,date,total\nx,2024-01-01,3\n")
    with pytest.raises(AnalyticsInputError, match=r"missing amount column 'amount'.*'customer', 'date', 'total'"):
        engine.read_transactions(path, "customer", "date", "amount")


def test_negative_amounts(tmp_path):
    path = write(tmp_path, "tx.csv", "c,d,a\nx,2024-01-01,3\ny,2024-01-02,-4.5\n")
    with pytest.raises(AnalyticsInputError, match=r"1 row\(s\) have a negative amount.*'-4.5'"):
        engine.read_transactions(path, "c", "d", "a")


def test_non_numeric_amounts(tmp_path):
    path = write(tmp_path, "tx.csv", "c,d,a\nx,2024-01-01,3\ny,2024-01-02,abc\nz,2024-01-02,\n")
    with pytest.raises(AnalyticsInputError, match=r"2 row\(s\) have a missing or non-numeric amount.*'abc'"):
        engine.read_transactions(path, "c", "d", "a")


def test_unparseable_dates_with_and_without_a_format(tmp_path):
    path = write(tmp_path, "tx.csv", "c,d,a\nx,2024-01-01,3\ny,2024-13-45,4\nz,yesterday,1\n")
    with pytest.raises(AnalyticsInputError, match=r"2 row\(s\) have a date .*ISO 8601.*'2024-13-45'"):
        engine.read_transactions(path, "c", "d", "a")
    path = write(tmp_path, "tx2.csv", "c,d,a\nx,20240101,3\ny,2024-01-01,4\n")
    with pytest.raises(AnalyticsInputError, match=r"1 row\(s\) .*the format '%Y%m%d'.*'2024-01-01'"):
        engine.read_transactions(path, "c", "d", "a", "%Y%m%d")


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, "tx.csv", "c,d,a\n,2024-01-01,3\ny,never,-1\nz,2024-01-01,x\n")
    with pytest.raises(AnalyticsInputError) as caught:
        engine.read_transactions(path, "c", "d", "a")
    assert len(caught.value.problems) == 4
    assert isinstance(caught.value, ValueError)


def test_whitespace_text_with_a_header_and_tabs(tmp_path):
    path = write(tmp_path, "tx.txt", "cust  day\tvalue\n a   2024-01-01   3.5\n\nb\t2024-01-03 1\n")
    frame = engine.read_transactions(path, "cust", "day", "value").to_pandas()
    assert frame["customer_id"].tolist() == ["a", "b"]
    assert frame["amount"].tolist() == [3.5, 1.0]
    assert frame["purchased_at"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-03")]


def test_cdnow_file_reads_every_row(cdnow_transactions, cdnow_frame):
    loaded = cdnow_transactions.to_pandas()
    assert len(loaded) == len(cdnow_frame) == 6919
    assert loaded["amount"].sum() == pytest.approx(cdnow_frame["amount"].sum())


def test_headerless_csv_with_column_names(tmp_path):
    path = write(tmp_path, "tx.csv", "a,19970101,3\nb,19970102,4\n")
    frame = engine.read_transactions(path, "who", "when", "paid", "%Y%m%d", column_names=["who", "when", "paid"])
    assert frame.to_pandas()["amount"].sum() == 7.0


def test_compressing_a_frame_counts_its_distinct_rows_in_key_order():
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(
        {
            "frequency": rng.integers(0, 6, 5_000),
            "recency": rng.integers(0, 30, 5_000) / 7.0,  # weeks: fractions
            "T": rng.integers(30, 60, 5_000) / 7.0,
        }
    )
    expected = frame.groupby(["frequency", "recency", "T"], as_index=False).size().rename(columns={"size": "count"})
    pd.testing.assert_frame_equal(engine.compress_summary(frame), expected, check_dtype=False)
    empty = engine.compress_summary(frame.iloc[:0])
    assert list(empty.columns) == ["frequency", "recency", "T", "count"] and empty.empty

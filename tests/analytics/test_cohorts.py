"""Cohort matrices and repeat-purchase curves: facts of the CDNOW cohort, an independent pandas reference on every
Ibis backend, hand-checkable cases, and input errors.

Golden facts: the CDNOW sample is 2,357 customers who all made their first purchase in the first quarter of 1997
(Fader, Hardie & Lee 2005, section 4); everything else is checked against a plain pandas transcription of the
definitions in ``guanxi.analytics.cohorts``.
"""

import os
import uuid

import ibis
import numpy as np
import pandas as pd
import pytest

from guanxi.analytics import AnalyticsInputError, cohorts

AS_OF = "1998-06-30"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def cdnow(cdnow_frame) -> pd.DataFrame:
    return cdnow_frame.rename(columns={"customer": "customer_id"})[["customer_id", "purchased_at", "amount"]]


def reference_cells(frame: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """(cohort month, k) -> customers purchasing and revenue, by the definitions, in pandas."""
    kept = frame[frame["purchased_at"].dt.normalize() <= pd.Timestamp(as_of)]
    month = kept["purchased_at"].dt.year * 12 + kept["purchased_at"].dt.month - 1
    cohort = month.groupby(kept["customer_id"]).transform("min")
    cells = pd.DataFrame({"cohort": cohort, "k": month - cohort, "customer_id": kept["customer_id"]})
    return (
        cells.assign(amount=kept["amount"])
        .groupby(["cohort", "k"])
        .agg(customers=("customer_id", "nunique"), revenue=("amount", "sum"))
    )


def reference_repeat_share(frame: pd.DataFrame, as_of: str, n: int, d: int) -> float:
    days = frame.assign(day=frame["purchased_at"].dt.normalize())
    days = days[days["day"] <= pd.Timestamp(as_of)].drop_duplicates(["customer_id", "day"]).sort_values("day")
    first = days.groupby("customer_id")["day"].min()
    nth = days.groupby("customer_id")["day"].nth(n - 1)
    nth = pd.Series(nth.to_numpy(), index=days.loc[nth.index, "customer_id"].to_numpy())
    observed = first[first <= pd.Timestamp(as_of) - pd.Timedelta(days=d)]
    within = (nth.reindex(observed.index) - observed).dt.days <= d
    return float(within.sum() / len(observed))


# --- CDNOW -------------------------------------------------------------------------------------------------------


def test_cdnow_cohorts_are_the_three_first_quarter_months(cdnow):
    result = cohorts.cohort_matrices(cdnow, as_of=AS_OF)
    assert [str(p) for p in result.sizes.index] == ["1997-01", "1997-02", "1997-03"]
    assert result.sizes.sum() == 2357
    assert (result.retention[0] == 1.0).all()
    # 1997-01 .. 1998-06 is 18 months: k = 0..17 for January, and March's last observed k is 15.
    assert list(result.retention.columns) == list(range(18))
    assert np.isnan(result.retention.loc[pd.Period("1997-03", "M"), 16])
    assert not np.isnan(result.retention.loc[pd.Period("1997-03", "M"), 15])


def test_cdnow_cohorts_match_the_pandas_reference(cdnow):
    result = cohorts.cohort_matrices(cdnow, as_of=AS_OF)
    reference = reference_cells(cdnow, AS_OF)
    for (cohort, k), row in reference.iterrows():
        period = pd.Period(year=cohort // 12, month=cohort % 12 + 1, freq="M")
        assert result.active.loc[period, k] == row["customers"]
        assert result.revenue.loc[period, k] == pytest.approx(row["revenue"])
        assert result.retention.loc[period, k] == pytest.approx(row["customers"] / result.sizes[period])
    # Revenue over all observed cells is every amount up to as_of; the cumulative revenue per customer of the
    # January cohort at its last month is that cohort's total revenue over its size.
    in_range = cdnow[cdnow["purchased_at"] <= AS_OF]
    assert np.nansum(result.revenue.to_numpy()) == pytest.approx(in_range["amount"].sum())
    first = in_range.groupby("customer_id")["purchased_at"].transform("min")
    january = in_range[first.dt.month == 1]
    jan = pd.Period("1997-01", "M")
    assert result.cumulative_revenue_per_customer.loc[jan, 17] == pytest.approx(
        january["amount"].sum() / january["customer_id"].nunique()
    )


def test_cdnow_repeat_curve_matches_the_pandas_reference(cdnow):
    curve = cohorts.repeat_purchase_curve(cdnow, as_of=AS_OF, max_purchase=4, max_days=500)
    for n in (2, 3, 4):
        for d in (0, 7, 30, 90, 365, 480):
            assert curve.share.loc[d, n] == pytest.approx(reference_repeat_share(cdnow, AS_OF, n, d)), (n, d)
    # Everyone was acquired by 1997-03-31, at least 456 days before as_of: no censoring up to there.
    assert (curve.observed.loc[:456] == 2357).all()
    assert curve.observed.loc[500] < 2357
    monotone = curve.share.loc[:456].diff().dropna()
    assert (monotone >= 0).all().all()
    assert (curve.share.loc[:456, 2] >= curve.share.loc[:456, 3]).all()


# --- the same expressions on every backend -----------------------------------------------------------------------


def _sqlite(frame, tmp_path):
    con = ibis.sqlite.connect(str(tmp_path / "tx.sqlite"))
    yield con.create_table("tx", ibis.memtable(frame))
    con.disconnect()


def _postgres(frame, tmp_path):
    try:
        con = ibis.postgres.connect(
            host="127.0.0.1", port=5432, user="postgres", database="postgres", connect_timeout=3
        )
    except Exception as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required on CI: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    name = f"guanxi_test_cohorts_{uuid.uuid4().hex[:12]}"
    try:
        yield con.create_table(name, ibis.memtable(frame), temp=True)
    finally:
        con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
        con.disconnect()


def _duckdb(frame, tmp_path):
    yield ibis.duckdb.connect().create_table("tx", ibis.memtable(frame))


@pytest.mark.parametrize("loader", [_duckdb, _sqlite, _postgres], ids=["duckdb", "sqlite", "postgres"])
def test_every_backend_gives_the_reference_cohorts_and_curve(loader, tmp_path, cdnow):
    # Intraday times make the backends truncate to dates themselves.
    frame = cdnow.assign(purchased_at=cdnow["purchased_at"] + pd.to_timedelta(np.arange(len(cdnow)) % 24, "h"))
    tables = loader(frame, tmp_path)
    table = next(tables)
    try:
        on_backend = cohorts.cohort_matrices(table, as_of=AS_OF)
        in_memory = cohorts.cohort_matrices(frame, as_of=AS_OF)
        pd.testing.assert_frame_equal(on_backend.active, in_memory.active)
        pd.testing.assert_frame_equal(on_backend.revenue, in_memory.revenue, rtol=1e-9)
        curve = cohorts.repeat_purchase_curve(table, as_of=AS_OF, max_days=400)
        pd.testing.assert_frame_equal(
            curve.share, cohorts.repeat_purchase_curve(frame, as_of=AS_OF, max_days=400).share
        )
        assert curve.share.loc[365, 2] == pytest.approx(reference_repeat_share(cdnow, AS_OF, 2, 365))
    finally:
        tables.close()


# --- definitions on small data -----------------------------------------------------------------------------------


def frame_of(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "purchased_at", "amount"])
    frame["purchased_at"] = pd.to_datetime(frame["purchased_at"], format="ISO8601")
    return frame


def test_small_cohort_table_by_hand():
    frame = frame_of(
        [
            ("a", "2024-01-05", 10.0),
            ("a", "2024-01-20", 5.0),  # same month: one active month, revenue 15
            ("a", "2024-03-02", 7.0),  # k = 2
            ("b", "2024-01-31 23:00", 20.0),
            ("c", "2024-02-10", 4.0),
            ("c", "2024-03-10", 6.0),
            ("d", "2024-04-02", 99.0),  # after as_of
        ]
    )
    result = cohorts.cohort_matrices(frame, as_of="2024-03-31")
    jan, feb = pd.Period("2024-01", "M"), pd.Period("2024-02", "M")
    assert result.sizes.to_dict() == {jan: 2, feb: 1}
    assert result.active.loc[jan].tolist() == [2, 0, 1]
    assert result.retention.loc[jan].tolist() == [1.0, 0.0, 0.5]
    assert result.revenue.loc[jan].tolist() == [35.0, 0.0, 7.0]
    assert result.revenue_per_customer.loc[jan].tolist() == [17.5, 0.0, 3.5]
    assert result.cumulative_revenue_per_customer.loc[jan].tolist() == [17.5, 17.5, 21.0]
    assert result.retention.loc[feb, :1].tolist() == [1.0, 1.0]
    assert np.isnan(result.retention.loc[feb, 2])  # April is after as_of


def test_an_incomplete_last_month_is_left_out_unless_asked_for():
    frame = frame_of([("a", "2024-01-05", 1.0), ("a", "2024-02-03", 1.0), ("b", "2024-02-10", 1.0)])
    complete = cohorts.cohort_matrices(frame, as_of="2024-02-15")
    assert complete.as_of == pd.Timestamp("2024-01-31")
    assert list(complete.sizes.index.astype(str)) == ["2024-01"]
    assert list(complete.retention.columns) == [0]
    partial = cohorts.cohort_matrices(frame, as_of="2024-02-15", complete_months_only=False)
    assert partial.as_of == pd.Timestamp("2024-02-15")
    assert partial.sizes.tolist() == [1, 1]
    assert partial.retention.loc[pd.Period("2024-01", "M"), 1] == 1.0


def test_repeat_curve_counts_only_customers_observed_for_d_days():
    frame = frame_of(
        [
            ("a", "2024-01-01", 1.0),
            ("a", "2024-01-01 18:00", 1.0),  # same day: still one purchase
            ("a", "2024-01-04", 1.0),  # 2nd purchase after 3 days
            ("a", "2024-01-11", 1.0),  # 3rd after 10
            ("b", "2024-01-01", 1.0),  # never returns
            ("c", "2024-01-26", 1.0),  # acquired 5 days before as_of
            ("c", "2024-01-27", 1.0),  # 2nd after 1 day
        ]
    )
    curve = cohorts.repeat_purchase_curve(frame, as_of="2024-01-31", max_purchase=3, max_days=10)
    assert curve.observed.tolist() == [3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2]
    assert curve.share[2].tolist() == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert curve.share[3].tolist() == pytest.approx([0] * 6 + [0, 0, 0, 0, 0.5])


def test_timezone_aware_timestamps_use_the_utc_date():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "purchased_at": pd.to_datetime(["2024-01-31 23:30", "2024-02-01 07:30"]).tz_localize("Asia/Shanghai"),
            "amount": [1.0, 2.0],
        }
    )
    # 23:30 and 07:30 in Shanghai are 15:30 on 31 Jan and 23:30 on 31 Jan in UTC: both January.
    result = cohorts.cohort_matrices(frame, as_of="2024-01-31")
    assert result.revenue.iloc[0, 0] == 3.0


def test_custom_column_names_and_string_dates():
    frame = pd.DataFrame({"who": ["x", "x"], "when": ["2024-01-03", "2024-02-09T10:00"], "paid": [2, 3]})
    result = cohorts.cohort_matrices(frame, as_of="2024-02-29", customer_col="who", date_col="when", amount_col="paid")
    assert result.revenue.iloc[0].tolist() == [2.0, 3.0]


# --- input errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"customer_id": ["a"], "amount": [1.0]}), r"missing date column 'purchased_at'"),
        (pd.DataFrame({"customer_id": [], "purchased_at": [], "amount": []}), "there are no transactions"),
        (
            pd.DataFrame({"customer_id": ["a", "b"], "purchased_at": ["2024-01-01", "2024-13-45"], "amount": [1, 2]}),
            r"1 row\(s\) have a missing or unparseable date.*'2024-13-45'",
        ),
        (
            pd.DataFrame({"customer_id": ["a", "b"], "purchased_at": ["2024-01-01"] * 2, "amount": [1, -2.5]}),
            r"1 row\(s\) have a negative amount.*-2.5",
        ),
        (
            pd.DataFrame({"customer_id": ["a", None], "purchased_at": ["2024-01-01"] * 2, "amount": ["x", 1]}),
            r"no customer id.*non-numeric amount.*'x'",
        ),
        (
            pd.DataFrame({"customer_id": ["a"], "purchased_at": [20240101], "amount": [1]}),
            "unparseable date",
        ),
    ],
    ids=["missing-column", "empty", "bad-date", "negative", "several-problems", "numeric-date"],
)
def test_invalid_transactions_are_reported(frame, message):
    with pytest.raises(AnalyticsInputError, match=message):
        cohorts.cohort_matrices(frame, as_of="2024-12-31")


def test_invalid_ibis_tables_are_reported():
    table = ibis.memtable(pd.DataFrame({"customer_id": ["a"], "purchased_at": ["2024-01-01"], "amount": ["1"]}))
    with pytest.raises(AnalyticsInputError, match="amount column 'amount' has type string"):
        cohorts.cohort_matrices(table, as_of="2024-12-31")
    table = ibis.memtable(
        pd.DataFrame({"customer_id": ["a", "b"], "purchased_at": ["2024-01-01", "nope"], "amount": [1.0, -1.0]})
    )
    with pytest.raises(AnalyticsInputError) as caught:
        cohorts.repeat_purchase_curve(table, as_of="2024-12-31")
    assert len(caught.value.problems) == 2


def test_other_invalid_arguments():
    frame = frame_of([("a", "2024-05-01", 1.0)])
    with pytest.raises(AnalyticsInputError, match="no purchases on or before 2024-03-31"):
        cohorts.cohort_matrices(frame, as_of="2024-03-31")
    with pytest.raises(AnalyticsInputError, match="as_of is not a date"):
        cohorts.cohort_matrices(frame, as_of="soon")
    with pytest.raises(AnalyticsInputError, match="max_purchase"):
        cohorts.repeat_purchase_curve(frame, as_of="2024-06-30", max_purchase=1)
    with pytest.raises(AnalyticsInputError, match="pandas DataFrame or an Ibis table"):
        cohorts.cohort_matrices([("a", "2024-01-01", 1.0)], as_of="2024-06-30")  # type: ignore[arg-type]

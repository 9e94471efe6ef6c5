"""The end-to-end pipeline: CDNOW golden values, agreement with the engine and btyd functions, coverage of
segments and tiers, model-fit diagnostics, and the file paths (fast typed read, validating fallback)."""

import json
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.analytics import AnalyticsInputError, btyd, clv, engine, pipeline, rfm

from .conftest import CALIBRATION_END, CDNOW_COLUMNS, CDNOW_PATH

# Fader, Hardie & Lee (2005), CDNOW sample, calibration weeks 1-39 (also asserted by lifetimes and
# pymc-marketing); Gamma-Gamma: Fader, Hardie & Lee (2005b) / Fader & Hardie's note, 946 repeat buyers.
BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
BGNBD_LL = -9582.4
GAMMA_GAMMA_PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}
GAMMA_GAMMA_LL = -4055.9
HOLDOUT_ACTUAL = 1882  # repeat purchases in weeks 40-78 (FHL 2005)


@pytest.fixture(scope="module")
def cdnow_result(cdnow_transactions) -> pipeline.PipelineResult:
    return pipeline.run_pipeline(cdnow_transactions, as_of=CALIBRATION_END, unit="W", period="D")


# --- golden values -------------------------------------------------------------------------------------------


def test_cdnow_parameters_are_the_published_ones(cdnow_result):
    for name, value in BGNBD_PUBLISHED.items():
        assert getattr(cdnow_result.bgnbd.params, name) == pytest.approx(value, rel=0.01), name
    assert cdnow_result.bgnbd.log_likelihood == pytest.approx(BGNBD_LL, abs=0.1)
    for name, value in GAMMA_GAMMA_PUBLISHED.items():
        assert getattr(cdnow_result.gamma_gamma.params, name) == pytest.approx(value, rel=0.01), name
    assert cdnow_result.gamma_gamma.log_likelihood == pytest.approx(GAMMA_GAMMA_LL, abs=0.1)
    assert cdnow_result.gamma_gamma.n_customers == 946
    assert cdnow_result.bgnbd.converged and cdnow_result.gamma_gamma.converged
    assert len(cdnow_result.customers) == 2357
    se = cdnow_result.bgnbd.standard_errors
    assert all(np.isfinite([se.r, se.alpha, se.a, se.b])) and 0 < se.r < 0.05


def test_cdnow_holdout_is_counted_and_predicted(cdnow_result):
    holdout = cdnow_result.holdout
    assert holdout is not None
    assert holdout.actual == HOLDOUT_ACTUAL
    assert str(holdout.start) == "1997-10-01" and str(holdout.end) == "1998-06-30"
    # BG/NBD under-forecasts CDNOW's holdout by about 12% (analytics/README.md: 1,653 of 1,882).
    assert 0.85 * HOLDOUT_ACTUAL < holdout.predicted < HOLDOUT_ACTUAL
    weekly = holdout.weekly
    assert weekly["week"].tolist() == list(range(1, 40))  # weeks 40-78
    assert weekly["actual"].iloc[-1] == HOLDOUT_ACTUAL
    assert np.all(np.diff(weekly["actual"]) >= 0) and np.all(np.diff(weekly["predicted"]) > 0)
    assert weekly["predicted"].iloc[-1] == pytest.approx(holdout.predicted, rel=0.01)


def test_calibration_histogram_matches_the_data_and_the_model(cdnow_result):
    table = cdnow_result.calibration
    assert table["repeat_purchases"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["actual"].sum() == 2357
    assert table["actual"].iloc[0] == 1411  # 2,357 - 946 repeat buyers
    assert table["expected"].sum() == pytest.approx(2357)
    # FHL 2005, figure 2: the model tracks the histogram closely.
    assert table["expected"].iloc[0] == pytest.approx(1411, rel=0.01)
    assert np.abs(table["expected"] - table["actual"]).max() < 25


def test_bgnbd_pmf_is_a_distribution_with_the_model_mean():
    params = btyd.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    t = np.array([1.0, 39.0, 78.0])
    k = np.arange(400)
    pmf = pipeline.bgnbd_pmf(params, t, k)
    assert np.all(pmf >= 0)
    np.testing.assert_allclose(pmf.sum(axis=1), 1.0, atol=1e-6)
    mean = pmf @ k
    np.testing.assert_allclose(mean, btyd.bgnbd_expected_purchases(params, t, 0.0, 0.0, 0.0), rtol=1e-4)


# --- agreement with the building blocks -----------------------------------------------------------------------


def test_per_customer_values_are_the_btyd_clv_and_rfm_functions(cdnow_result):
    c = cdnow_result.customers
    p_bg, p_gg = cdnow_result.bgnbd.params, cdnow_result.gamma_gamma.params
    x, t_x, T, m = (c[k].to_numpy(dtype=float) for k in ("frequency", "recency", "T", "monetary_value"))
    np.testing.assert_allclose(c["p_alive"], btyd.bgnbd_probability_alive(p_bg, x, t_x, T), rtol=1e-12)
    horizon = 365 / 7
    np.testing.assert_allclose(
        c["expected_purchases"], btyd.bgnbd_expected_purchases(p_bg, horizon, x, t_x, T), rtol=1e-9, atol=1e-12
    )
    spend = btyd.gamma_gamma_expected_spend(p_gg, x, m)
    np.testing.assert_allclose(c["expected_spend"], spend, rtol=1e-12)
    direct = clv.customer_lifetime_value(p_bg, x, t_x, T, spend, months=12, discount_rate=0.01, unit="W")
    np.testing.assert_allclose(c["clv"], direct, rtol=1e-9, atol=1e-9)
    scores = rfm.rfm_from_summary(c[list(engine.SUMMARY_COLUMNS)])
    for column in ("r_score", "f_score", "m_score", "fm_score", "segment"):
        assert c[column].tolist() == scores[column].tolist(), column
    assert c["abc_tier"].tolist() == rfm.abc_tiers(c["revenue"]).tolist()
    assert c["value_tier"].tolist() == rfm.value_tiers(c["clv"]).tolist()


def test_segments_and_tiers_cover_every_customer(cdnow_result):
    c = cdnow_result.customers
    assert set(c["segment"]) <= set(rfm.SEGMENT_LABELS)
    assert list(cdnow_result.segment_counts) == list(rfm.SEGMENT_LABELS)
    assert sum(cdnow_result.segment_counts.values()) == len(c)
    assert sum(cdnow_result.abc_counts.values()) == len(c)
    assert sum(cdnow_result.tier_counts.values()) == len(c)
    assert set(c["abc_tier"]) == {"A", "B", "C"}
    assert set(c["value_tier"]) == {"high", "medium", "low"}
    a_share = c.loc[c["abc_tier"] == "A", "revenue"].sum() / c["revenue"].sum()
    assert a_share >= 0.80
    assert c.notna().all().all()


def test_summary_is_the_engine_summary(cdnow_transactions, cdnow_summary):
    summary, later, as_of = pipeline.summarise(cdnow_transactions, as_of=CALIBRATION_END, unit="W", period="D")
    pd.testing.assert_frame_equal(summary, cdnow_summary, check_exact=False, rtol=1e-10)
    assert str(as_of) == CALIBRATION_END
    assert len(later) == HOLDOUT_ACTUAL
    assert later["row"].between(0, len(summary) - 1).all() and (later["days_after"] >= 1).all()


@pytest.mark.parametrize(("unit", "period"), [("D", "W"), ("W", "W"), ("D", "D")])
@pytest.mark.parametrize("as_of", ["1997-09-30", "1998-06-30", None])
def test_summary_agrees_with_the_engine_for_every_unit_period_and_as_of(cdnow_transactions, unit, period, as_of):
    summary, later, used = pipeline.summarise(cdnow_transactions, as_of=as_of, unit=unit, period=period)
    expected = engine.summary_frame(cdnow_transactions, as_of=used, unit=unit, period=period)
    pd.testing.assert_frame_equal(summary, expected, check_exact=False, rtol=1e-10)
    assert str(used) == (as_of or "1998-06-30")  # without as_of: the last purchase date
    holdout = engine.holdout_expr(cdnow_transactions, as_of=used, holdout_end="2099-12-31", period=period)
    expected_holdout = holdout.to_pandas().set_index("customer_id")["holdout_purchases"]
    per_customer = later.groupby("row").size()
    per_customer.index = summary["customer_id"].to_numpy()[per_customer.index]
    assert per_customer.to_dict() == expected_holdout.to_dict()


transactions_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(min_value=0, max_value=60),  # day offset: same-day purchases are frequent
        st.integers(min_value=0, max_value=23),
        st.integers(min_value=0, max_value=100_000).map(lambda cents: cents / 100),
    ),
    min_size=1,
    max_size=50,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=transactions_strategy, unit=st.sampled_from(["D", "W"]), period=st.sampled_from(["D", "W"]))
def test_summary_agrees_with_the_engine_on_random_data(rows, unit, period):
    frame = pd.DataFrame(
        [(c, pd.Timestamp("2024-01-01") + pd.Timedelta(days=d, hours=h), a) for c, d, h, a in rows],
        columns=["customer_id", "purchased_at", "amount"],
    )
    table = ibis.memtable(frame)
    summary, _, _ = pipeline.summarise(table, as_of="2024-02-15", unit=unit, period=period)
    expected = engine.summary_frame(table, as_of="2024-02-15", unit=unit, period=period)
    pd.testing.assert_frame_equal(summary, expected, check_exact=False, rtol=1e-9, atol=1e-9)


def test_several_purchases_on_the_first_day_are_one_period_with_their_summed_amount():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "purchased_at": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 17:00", "2024-01-05 00:00", "2024-01-09 00:00", "2024-01-02 00:00"]
            ),
            "amount": [100.0, 1.0, 10.0, 30.0, 5.0],
        }
    )
    summary, _, _ = pipeline.summarise(ibis.memtable(frame), as_of="2024-01-10", unit="D")
    a = summary.set_index("customer_id").loc["a"]
    assert a["frequency"] == 2 and a["order_count"] == 4
    assert a["monetary_value"] == pytest.approx(20.0)  # (10 + 30) / 2: the first day's 101 excluded
    assert a["recency"] == 8 and a["T"] == 9


def test_units_rescale_only_alpha(cdnow_transactions, cdnow_result):
    in_days = pipeline.run_pipeline(cdnow_transactions, as_of=CALIBRATION_END, unit="D")
    weeks, days = cdnow_result.bgnbd.params, in_days.bgnbd.params
    assert days.alpha == pytest.approx(7 * weeks.alpha, rel=1e-4)
    for name in ("r", "a", "b"):
        assert getattr(days, name) == pytest.approx(getattr(weeks, name), rel=1e-4)
    np.testing.assert_allclose(in_days.customers["clv"], cdnow_result.customers["clv"], rtol=1e-4, atol=1e-6)


def test_result_serialises_to_strict_json(cdnow_result):
    data = json.loads(json.dumps(cdnow_result.as_dict(), allow_nan=False))
    assert data["customers"] == 2357
    assert set(data["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood", "standard_errors"}
    assert data["holdout"]["actual_repeat_purchases"] == HOLDOUT_ACTUAL
    assert set(data["timings"]) >= set(pipeline.STAGES) | {"total"}


def test_progress_reports_every_stage(cdnow_transactions):
    seen: list[str] = []
    pipeline.run_pipeline(cdnow_transactions, as_of=CALIBRATION_END, progress=seen.append)
    assert seen == list(pipeline.STAGES)


# --- degenerate data and errors ---------------------------------------------------------------------------------


def test_nobody_repeating_is_a_clear_error():
    frame = pd.DataFrame(
        {"customer_id": ["a", "b"], "purchased_at": pd.to_datetime(["2024-01-01", "2024-01-02"]), "amount": [1.0, 2.0]}
    )
    with pytest.raises(AnalyticsInputError, match="no customer made a repeat purchase"):
        pipeline.run_pipeline(ibis.memtable(frame), as_of="2024-02-01")


def test_as_of_before_every_purchase_is_a_clear_error(cdnow_transactions):
    with pytest.raises(AnalyticsInputError, match="no purchase on or before 1996-01-01"):
        pipeline.run_pipeline(cdnow_transactions, as_of="1996-01-01")
    with pytest.raises(AnalyticsInputError, match="not a date"):
        pipeline.run_pipeline(cdnow_transactions, as_of="yesterday-ish")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_file_errors_are_reported_with_examples(tmp_path):
    with pytest.raises(AnalyticsInputError, match="the file is empty"):
        pipeline.run_file(write(tmp_path, "empty.csv", ""), "c", "d", "a")
    with pytest.raises(AnalyticsInputError, match=r"missing amount column 'a'.*'c', 'd', 'x'"):
        pipeline.run_file(write(tmp_path, "cols.csv", "c,d,x\nu,2024-01-01,3\n"), "c", "d", "a")
    # The typed reader accepts the negative amount; the scan's check hands over to the validating reader.
    negative = write(tmp_path, "neg.csv", "c,d,a\nu,2024-01-01,3\nu,2024-01-05,-4.5\n")
    with pytest.raises(AnalyticsInputError, match=r"1 row\(s\) have a negative amount.*'-4.5'"):
        pipeline.run_file(negative, "c", "d", "a")
    # The typed reader rejects these values itself; the same hand-over gives the full list.
    bad = write(tmp_path, "bad.csv", "c,d,a\nu,2024-01-01,3\nu,2024-01-05,abc\nv,2024-02-31,1\n")
    with pytest.raises(AnalyticsInputError) as caught:
        pipeline.run_file(bad, "c", "d", "a")
    assert len(caught.value.problems) == 2
    assert "'abc'" in caught.value.message and "'2024-02-31'" in caught.value.message


def cdnow_csv(tmp_path: Path, cdnow_frame: pd.DataFrame, **changes) -> Path:
    frame = cdnow_frame.assign(date=cdnow_frame["purchased_at"].dt.strftime("%Y-%m-%d"))[["customer", "date", "amount"]]
    frame = frame.assign(**changes)
    path = tmp_path / "cdnow.csv"
    frame.to_csv(path, index=False)
    return path


def test_fast_csv_read_and_validating_read_give_the_same_result(tmp_path, cdnow_frame, cdnow_result):
    path = cdnow_csv(tmp_path, cdnow_frame)
    _, validated = pipeline.open_transactions(path, "customer", "date", "amount")
    assert not validated
    result, _ = pipeline.run_file(path, "customer", "date", "amount", as_of=CALIBRATION_END)
    pd.testing.assert_frame_equal(result.customers, cdnow_result.customers, check_exact=False, rtol=1e-9)
    assert btyd.params_dict(result.bgnbd.params) == pytest.approx(btyd.params_dict(cdnow_result.bgnbd.params), rel=1e-9)
    # Ids with spaces around them: the validating reader strips them, and the result is the same.
    padded = cdnow_csv(tmp_path, cdnow_frame, customer=" " + cdnow_frame["customer"].astype(str))
    again, _ = pipeline.run_file(padded, "customer", "date", "amount", as_of=CALIBRATION_END)
    assert again.customers["customer_id"].tolist() == cdnow_result.customers["customer_id"].tolist()
    assert again.segment_counts == cdnow_result.segment_counts


def test_run_file_on_the_cdnow_text_file_without_as_of_uses_the_last_date(tmp_path):
    result, table = pipeline.run_file(
        CDNOW_PATH, "customer", "date", "amount", "%Y%m%d", column_names=CDNOW_COLUMNS, unit="W"
    )
    assert str(result.as_of) == "1998-06-30"
    assert result.holdout is None
    assert len(result.customers) == 2357
    assert table.count().to_pyarrow().as_py() == 6919


def test_cohort_matrix_of_the_report(cdnow_transactions):
    from guanxi.analytics.report import cohort_matrix

    share = cohort_matrix(cdnow_transactions)
    # CDNOW's sample: the customers who first bought in January, February and March 1997.
    assert [f"{c:%Y-%m}" for c in share.index] == ["1997-01", "1997-02", "1997-03"]
    assert share["customers"].sum() == 2357
    assert (share[0] == 1.0).all()
    assert share[1].between(0.05, 0.5).all()
    # The data end in June 1998: month 17 is known for January's cohort only.
    assert share[17].notna().tolist() == [True, False, False]


def test_repeat_buyers_with_only_free_repeat_orders_are_left_out_of_the_spend_fit(cdnow_frame, cdnow_result):
    frame = cdnow_frame.rename(columns={"customer": "customer_id"})[["customer_id", "purchased_at", "amount"]]
    free = pd.DataFrame(
        {
            "customer_id": ["free", "free", "free"],
            "purchased_at": pd.to_datetime(["1997-01-10", "1997-03-01", "1997-06-01"]),
            "amount": [20.0, 0.0, 0.0],
        }
    )
    result = pipeline.run_pipeline(ibis.memtable(pd.concat([frame, free])), as_of=CALIBRATION_END)
    assert result.spend_excluded == 1
    assert result.gamma_gamma.n_customers == 946
    assert btyd.params_dict(result.gamma_gamma.params) == pytest.approx(
        btyd.params_dict(cdnow_result.gamma_gamma.params),
        rel=1e-5,  # the optimiser's tolerance
    )
    row = result.customers.set_index("customer_id").loc["free"]
    assert row["monetary_value"] == 0 and 0 < row["expected_spend"] < 20
    assert result.as_dict()["gamma_gamma"]["excluded_non_positive_spend"] == 1


def test_whitespace_text_problems_are_reported_by_the_validating_reader(tmp_path):
    path = write(tmp_path, "tx.txt", "who when paid\na 2024-01-01 3\na 2024-01-09 4\nb 2024-13-01 -2\n")
    with pytest.raises(AnalyticsInputError) as caught:
        pipeline.run_file(path, "who", "when", "paid")
    assert len(caught.value.problems) == 2
    assert "'2024-13-01'" in caught.value.message and "'-2'" in caught.value.message
    with pytest.raises(AnalyticsInputError, match=r"missing amount column 'amount'.*'who', 'when', 'paid'"):
        pipeline.run_file(path, "who", "when", "amount")


def test_fast_csv_read_handles_headerless_files_timestamps_and_formats(tmp_path, cdnow_frame, cdnow_result):
    frame = cdnow_frame.assign(
        when=(cdnow_frame["purchased_at"] + pd.Timedelta(hours=13)).dt.strftime("%Y-%m-%d %H:%M:%S"),
        compact=cdnow_frame["purchased_at"].dt.strftime("%d/%m/%Y"),
    )
    headerless = tmp_path / "headerless.csv"
    frame[["customer", "compact", "amount"]].to_csv(headerless, index=False, header=False)
    timestamps = tmp_path / "timestamps.csv"
    frame[["customer", "when", "amount"]].to_csv(timestamps, index=False)
    runs = {
        "headerless": (headerless, "who", "day", "paid", "%d/%m/%Y", ["who", "day", "paid"]),
        "timestamps": (timestamps, "customer", "when", "amount", None, None),
        "timestamps with a format": (timestamps, "customer", "when", "amount", "%Y-%m-%d %H:%M:%S", None),
    }
    for name, (path, customer, date, amount, date_format, names) in runs.items():
        _, validated = pipeline.open_transactions(path, customer, date, amount, date_format, column_names=names)
        assert not validated, name
        result, _ = pipeline.run_file(
            path, customer, date, amount, date_format, column_names=names, as_of=CALIBRATION_END
        )
        assert result.segment_counts == cdnow_result.segment_counts, name
        assert btyd.params_dict(result.bgnbd.params) == pytest.approx(
            btyd.params_dict(cdnow_result.bgnbd.params), rel=1e-9
        ), name


def test_typed_parquet_is_read_as_it_is_and_checked_by_the_scan(tmp_path, cdnow_frame, cdnow_result):
    frame = cdnow_frame.assign(day=cdnow_frame["purchased_at"].dt.date)[["customer", "day", "amount"]]
    typed = tmp_path / "typed.parquet"
    frame.to_parquet(typed)  # ids as integers, dates as DATE, amounts as doubles
    _, validated = pipeline.open_transactions(typed, "customer", "day", "amount")
    assert not validated
    result, _ = pipeline.run_file(typed, "customer", "day", "amount", as_of=CALIBRATION_END)
    assert btyd.params_dict(result.bgnbd.params) == pytest.approx(btyd.params_dict(cdnow_result.bgnbd.params), rel=1e-9)
    assert result.segment_counts == cdnow_result.segment_counts
    # A negative amount passes the typed read; the scan's check hands over to the validating reader's error.
    negative = tmp_path / "negative.parquet"
    frame.assign(amount=frame["amount"].where(frame.index != 5, -2.5)).to_parquet(negative)
    with pytest.raises(AnalyticsInputError, match=r"1 row\(s\) have a negative amount"):
        pipeline.run_file(negative, "customer", "day", "amount")
    # Dates stored as text need parsing: the validating reader opens the file.
    text = tmp_path / "text.parquet"
    frame.assign(day=frame["day"].astype(str)).to_parquet(text)
    assert pipeline.open_transactions(text, "customer", "day", "amount")[1]

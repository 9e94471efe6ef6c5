"""Per-customer monthly forecasts, grouped totals and backtests: the CDNOW holdout, simulated data with known
parameters, and input errors.

Golden values: 1,882 repeat purchases by the CDNOW cohort in weeks 40-78 (Fader, Hardie & Lee 2005, section 4);
BG/NBD's conditional expectation under-forecasts them by about 12% (1,653; the figure lifetimes and our
test_btyd.py reproduce), so the backtest's total must sit in the band 85-100% of the actual. On simulated data the
truth is known, and the forecast must be within sampling error of what the simulated customers then did.
"""

import numpy as np
import pandas as pd
import pytest

from guanxi.analytics import AnalyticsInputError, btyd, engine, forecast

from .conftest import CALIBRATION_END

HOLDOUT_MONTHS = 9  # 1997-10-01 .. 1998-06-30: 273 days = 39 weeks


def simulate_bgnbd_transactions(
    params: btyd.BGNBDParams,
    spend: btyd.GammaGammaParams,
    n: int,
    *,
    start: str,
    acquisition_days: int,
    end: str,
    seed: int,
) -> pd.DataFrame:
    """Transactions of a BG/NBD customer base (rates in days) with Gamma-Gamma spend, seeded.

    FHL 2005, section 2: lambda ~ Gamma(r, alpha), p ~ Beta(a, b); the first purchase on a day uniform in the first
    ``acquisition_days``; repeat purchases form a Poisson(lambda) process in continuous time up to the end of
    ``end``, and the customer drops out right after each repeat purchase with probability p. Spend per purchase
    ~ Gamma(p_spend, nu), nu ~ Gamma(q, v) per customer (Fader & Hardie 2013).
    """
    rng = np.random.default_rng(seed)
    first = rng.integers(0, acquisition_days, size=n).astype(np.float64)
    horizon = (pd.Timestamp(end) - pd.Timestamp(start)).days + 1 - first
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    dropout = rng.beta(params.a, params.b, size=n)
    alive_for = rng.geometric(dropout)  # the repeat purchase after which the customer drops out
    owner = np.repeat(np.arange(n), rng.poisson(lam * horizon))
    position = rng.random(owner.size)
    order = np.lexsort((position, owner))
    owner, position = owner[order], position[order]
    # Given their number, Poisson arrival times are uniform; the customer lives to make the first K of them.
    rank = np.arange(owner.size) - np.searchsorted(owner, owner, side="left")
    keep = rank < alive_for[owner]
    owner, times = owner[keep], first[owner[keep]] + horizon[owner[keep]] * position[keep]
    nu = rng.gamma(spend.q, 1.0 / spend.v, size=n)
    customer = np.concatenate([np.arange(n), owner])
    day = np.floor(np.concatenate([first, times])).astype(np.int64)
    return pd.DataFrame(
        {
            "customer_id": customer,
            "purchased_at": pd.Timestamp(start) + pd.to_timedelta(day, unit="D"),
            "amount": rng.gamma(spend.p, 1.0 / nu[customer]),
        }
    )


# --- CDNOW -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_backtest(cdnow_transactions):
    return forecast.backtest(cdnow_transactions, as_of=CALIBRATION_END, months=HOLDOUT_MONTHS, unit="W")


def test_cdnow_backtest_reproduces_the_holdout_under_forecast(cdnow_backtest, cdnow_summary):
    total = cdnow_backtest.total
    assert total["actual_purchases"] == 1882
    # The documented band: BG/NBD under-forecasts the CDNOW holdout by ~12% (README).
    assert 0.85 * 1882 < total["forecast_purchases"] < 1.0 * 1882
    assert total["purchases_pct_error"] == pytest.approx(100 * (total["forecast_purchases"] / 1882 - 1))
    # The nine months add up to btyd's 39-week conditional expectation (273 days = 39 weeks exactly).
    fit = cdnow_backtest.fitted.bgnbd
    x, t_x, T = cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]
    assert total["forecast_purchases"] == pytest.approx(btyd.expected_purchases(fit.params, 39.0, x, t_x, T).sum())
    assert list(cdnow_backtest.months["month_end"].dt.strftime("%Y-%m-%d")) == [
        "1997-10-31",
        "1997-11-30",
        "1997-12-31",
        "1998-01-31",
        "1998-02-28",
        "1998-03-31",
        "1998-04-30",
        "1998-05-31",
        "1998-06-30",
    ]


def test_cdnow_backtest_actuals_match_a_pandas_count(cdnow_backtest, cdnow_frame):
    later = cdnow_frame[cdnow_frame["purchased_at"] > CALIBRATION_END]
    days = later.groupby(["customer", "purchased_at"], as_index=False)["amount"].sum()
    by_month = days.groupby(days["purchased_at"].dt.to_period("M")).agg(n=("amount", "size"), revenue=("amount", "sum"))
    months = cdnow_backtest.months
    assert months["actual_purchases"].tolist() == by_month["n"].tolist()
    np.testing.assert_allclose(months["actual_revenue"], by_month["revenue"], rtol=1e-9)
    # Revenue forecast = purchases x Gamma-Gamma expected spend, customer by customer.
    fitted = cdnow_backtest.fitted
    spend = btyd.gamma_gamma_expected_spend(
        fitted.gamma_gamma.params, fitted.summary["frequency"], fitted.summary["monetary_value"]
    )
    assert months["forecast_revenue"].sum() == pytest.approx((fitted.forecast.purchases.sum(axis=1) * spend).sum())


def test_the_forecast_does_not_depend_on_the_time_unit(cdnow_transactions):
    weeks = forecast.fit_and_forecast(cdnow_transactions, as_of=CALIBRATION_END, months=3, unit="W").forecast
    days = forecast.fit_and_forecast(cdnow_transactions, as_of=CALIBRATION_END, months=3, unit="D").forecast
    np.testing.assert_allclose(weeks.purchases.to_numpy(), days.purchases.to_numpy(), rtol=2e-3, atol=1e-6)


# --- simulated data: the truth is known ---------------------------------------------------------------------------

TRUTH = btyd.BGNBDParams(r=0.6, alpha=80.0, a=0.8, b=3.0)  # rates per day
SPEND = btyd.GammaGammaParams(p=5.0, q=4.0, v=30.0)


@pytest.fixture(scope="module")
def simulated():
    transactions = simulate_bgnbd_transactions(
        TRUTH, SPEND, 20_000, start="2023-01-01", acquisition_days=120, end="2024-06-30", seed=7
    )
    return transactions, forecast.backtest(transactions, as_of="2023-12-31", months=6, unit="D")


def test_simulated_forecast_is_within_sampling_error_of_what_happened(simulated):
    transactions, result = simulated
    summary = result.fitted.summary
    # Actual purchase days per customer and month, counted independently of the module.
    later = transactions[transactions["purchased_at"] > "2023-12-31"].drop_duplicates(["customer_id", "purchased_at"])
    month = later["purchased_at"].dt.month  # January .. June 2024 = forecast months 1..6
    actual = pd.crosstab(later["customer_id"], month).reindex(index=summary["customer_id"], columns=range(1, 7))
    actual = actual.fillna(0).to_numpy(np.float64)
    assert actual.sum(axis=0).tolist() == result.months["actual_purchases"].tolist()
    for params in (TRUTH, result.fitted.bgnbd.params):
        predicted = forecast.forecast_customers(summary, params, None, as_of="2023-12-31", months=6).purchases
        predicted = predicted.to_numpy()
        # Customers are independent: the standard error of a total is the root of its summed squared residuals.
        for columns in ([0], [1], [2], [3], [4], [5], [0, 1, 2, 3, 4, 5]):
            residual = actual[:, columns].sum(axis=1) - predicted[:, columns].sum(axis=1)
            standard_error = np.sqrt(np.sum(residual**2))
            assert abs(residual.sum()) < 4 * standard_error, (params, columns)
        assert standard_error < 0.03 * actual.sum()  # the six-month band is tight enough to mean something


def test_simulated_revenue_forecast_is_within_sampling_error(simulated):
    _, result = simulated
    total = result.total
    assert abs(total["revenue_pct_error"]) < 5.0, total
    gg = result.fitted.gamma_gamma.params
    # The Gamma-Gamma fit recovers the spend process: its mean spend p v / (q - 1) is near the truth's 50.
    assert gg.p * gg.v / (gg.q - 1) == pytest.approx(SPEND.p * SPEND.v / (SPEND.q - 1), rel=0.05)


# --- per customer and grouped -----------------------------------------------------------------------------------


def test_month_windows_are_calendar_months_from_a_month_end_and_day_to_day_otherwise():
    assert [d.strftime("%m-%d") for d in forecast.month_ends("2024-01-31", 3)] == ["02-29", "03-31", "04-30"]
    assert [d.strftime("%m-%d") for d in forecast.month_ends("2024-01-15", 2)] == ["02-15", "03-15"]


def test_monthly_forecasts_add_up_to_btyd_cumulative_expectations(cdnow_summary):
    params = btyd.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL 2005, weeks
    result = forecast.forecast_customers(cdnow_summary, params, None, as_of=CALIBRATION_END, months=12, unit="W")
    assert result.revenue is None
    six_months = (pd.Timestamp("1998-03-31") - pd.Timestamp(CALIBRATION_END)).days / 7
    x, t_x, T = (cdnow_summary[c] for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        result.purchases.loc[:, 1:6].sum(axis=1), btyd.expected_purchases(params, six_months, x, t_x, T), rtol=1e-10
    )
    assert (result.purchases.to_numpy() >= 0).all()
    assert result.purchases.index.tolist() == cdnow_summary["customer_id"].tolist()


def test_grouped_totals_add_up_and_keep_customers_without_attributes(cdnow_backtest):
    fc = cdnow_backtest.fitted.forecast
    ids = fc.purchases.index.to_series()
    attributes = pd.DataFrame(
        {
            "customer_id": ids.to_numpy()[:-10],  # the last ten customers have no attributes
            "region": np.where(ids.astype(int) % 2 == 0, "north", "south")[:-10],
            "tier": np.where(ids.astype(int) % 3 == 0, "A", "B")[:-10],
        }
    )
    grouped = forecast.aggregate_forecast(fc, attributes, "region")
    assert set(grouped["region"].fillna("none")) == {"north", "south", "none"}
    per_month = grouped.groupby("month")[["purchases", "revenue"]].sum()
    np.testing.assert_allclose(per_month["purchases"], fc.purchases.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(per_month["revenue"], fc.revenue.sum(axis=0), rtol=1e-12)
    assert grouped.loc[grouped["region"].isna(), "customers"].iloc[0] == 10
    assert grouped.loc[grouped["month"] == 1, "customers"].sum() == len(fc.purchases)
    two = forecast.aggregate_forecast(fc, attributes.set_index("customer_id"), ["region", "tier"])
    assert len(two) == 5 * HOLDOUT_MONTHS  # 2 x 2 groups and the customers without attributes
    north_a = (attributes["region"] == "north") & (attributes["tier"] == "A")
    expected = fc.purchases.loc[attributes.loc[north_a, "customer_id"], 1].sum()
    actual = two[(two["region"] == "north") & (two["tier"] == "A") & (two["month"] == 1)]["purchases"].iloc[0]
    assert actual == pytest.approx(expected)


# --- input errors ------------------------------------------------------------------------------------------------


def test_invalid_forecast_inputs(cdnow_summary):
    params = btyd.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    spend = btyd.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    ok = {"as_of": CALIBRATION_END, "unit": "W"}
    with pytest.raises(AnalyticsInputError, match=r"missing column\(s\) \['T'\]"):
        forecast.forecast_customers(cdnow_summary.drop(columns="T"), params, None, **ok)
    with pytest.raises(AnalyticsInputError, match="monetary_value"):
        forecast.forecast_customers(cdnow_summary.drop(columns="monetary_value"), params, spend, **ok)
    with pytest.raises(AnalyticsInputError, match="duplicate customer ids"):
        forecast.forecast_customers(pd.concat([cdnow_summary, cdnow_summary.head(1)]), params, None, **ok)
    with pytest.raises(AnalyticsInputError, match="months must be"):
        forecast.forecast_customers(cdnow_summary, params, None, months=0, **ok)
    with pytest.raises(AnalyticsInputError, match="unit must be"):
        forecast.forecast_customers(cdnow_summary, params, None, as_of=CALIBRATION_END, unit="M")
    with pytest.raises(AnalyticsInputError, match=r"no finite expected spend \(q <= 1\)"):
        forecast.forecast_customers(cdnow_summary, params, btyd.GammaGammaParams(p=2.0, q=0.9, v=10.0), **ok)
    with pytest.raises(AnalyticsInputError, match="no customers"):
        forecast.forecast_customers(cdnow_summary.head(0), params, None, **ok)


def test_invalid_grouping(cdnow_backtest):
    fc = cdnow_backtest.fitted.forecast
    with pytest.raises(AnalyticsInputError, match=r"missing column\(s\) \['segment'\]"):
        forecast.aggregate_forecast(fc, pd.DataFrame({"customer_id": ["0001"]}), "segment")
    with pytest.raises(AnalyticsInputError, match="duplicate customer ids"):
        forecast.aggregate_forecast(fc, pd.DataFrame({"customer_id": ["0001", "0001"], "s": [1, 2]}), "s")
    with pytest.raises(AnalyticsInputError, match="at least one grouping column"):
        forecast.aggregate_forecast(fc, pd.DataFrame({"customer_id": ["0001"], "s": [1]}), [])


def test_a_backtest_needs_data_for_every_month(cdnow_transactions):
    with pytest.raises(AnalyticsInputError, match=r"needs data up to 1998-07-31, but the data end on 1998-06-30"):
        forecast.backtest(cdnow_transactions, as_of=CALIBRATION_END, months=10, unit="W")
    with pytest.raises(AnalyticsInputError, match="no purchases on or before 1996-12-31"):
        forecast.fit_and_forecast(cdnow_transactions, as_of="1996-12-31")


def test_engine_summary_is_what_the_forecast_uses(cdnow_backtest, cdnow_summary):
    # fit_and_forecast goes through engine.summary_frame: same customers and histories as the shared fixture.
    pd.testing.assert_frame_equal(
        cdnow_backtest.fitted.summary[list(engine.SUMMARY_COLUMNS)].reset_index(drop=True),
        cdnow_summary.reset_index(drop=True),
        check_dtype=False,
    )

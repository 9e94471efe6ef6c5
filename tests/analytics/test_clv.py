"""Discounted CLV: against a month-by-month loop (lifetimes' algorithm), and its invariants."""

import numpy as np
import pytest

from guanxi.analytics import AnalyticsInputError, btyd, clv

BGNBD = btyd.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL 2005, weeks
X, T_X, T = np.array([0, 2, 7, 30]), np.array([0.0, 30.4, 35.0, 38.0]), np.array([38.9, 38.9, 38.9, 38.9])
SPEND = np.array([35.0, 40.0, 20.0, 55.0])


def loop_clv(params, months, monthly_rate, per_month):
    """lifetimes.utils.customer_lifetime_value, transcribed: one month at a time."""
    total = np.zeros(len(X))
    for k in range(1, months + 1):
        purchases = btyd.expected_purchases(params, k * per_month, X, T_X, T) - btyd.expected_purchases(
            params, (k - 1) * per_month, X, T_X, T
        )
        total += SPEND * purchases / (1 + monthly_rate) ** k
    return total


@pytest.mark.parametrize("params", [BGNBD, btyd.ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669)])
def test_matches_the_month_by_month_loop(params):
    values = clv.customer_lifetime_value(params, X, T_X, T, SPEND, months=12, discount_rate=0.01, unit="W")
    np.testing.assert_allclose(values, loop_clv(params, 12, 0.01, 365.25 / 12 / 7), rtol=1e-10)
    lifetimes_month = clv.customer_lifetime_value(
        params, X, T_X, T, SPEND, months=12, discount_rate=0.01, unit="W", periods_per_month=4.345
    )
    np.testing.assert_allclose(lifetimes_month, loop_clv(params, 12, 0.01, 4.345), rtol=1e-10)


def test_without_discount_clv_is_spend_times_expected_purchases():
    values = clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, months=6, discount_rate=0.0, margin=0.3, unit="W")
    expected = 0.3 * SPEND * btyd.expected_purchases(BGNBD, 6 * 365.25 / 12 / 7, X, T_X, T)
    np.testing.assert_allclose(values, expected, rtol=1e-10)


def test_discounting_lowers_and_longer_horizons_raise_clv():
    base = clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, unit="W")
    assert np.all(clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, discount_rate=0.05, unit="W") < base)
    assert np.all(clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, months=24, unit="W") > base)
    assert np.all(base > 0)


def test_annual_rate_is_converted_to_its_monthly_equivalent():
    assert (1 + clv.monthly_rate(0.12)) ** 12 == pytest.approx(1.12)
    annual = clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, annual_discount_rate=0.12, unit="W")
    monthly = clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, discount_rate=clv.monthly_rate(0.12), unit="W")
    np.testing.assert_allclose(annual, monthly)


def test_day_and_week_units_agree_for_the_same_model():
    days = btyd.BGNBDParams(r=BGNBD.r, alpha=BGNBD.alpha * 7, a=BGNBD.a, b=BGNBD.b)
    in_weeks = clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, unit="W")
    in_days = clv.customer_lifetime_value(days, X, T_X * 7, T * 7, SPEND, unit="D")
    np.testing.assert_allclose(in_days, in_weeks, rtol=1e-9)


def test_invalid_arguments():
    with pytest.raises(AnalyticsInputError):
        clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, months=0)
    with pytest.raises(AnalyticsInputError):
        clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, margin=1.5)
    with pytest.raises(AnalyticsInputError):
        clv.customer_lifetime_value(BGNBD, X, T_X, T, SPEND, unit="M")

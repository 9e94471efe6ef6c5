"""The uplift statistics (pure functions): golden values from the literature, scipy as the peer for Welch's t,
and simulated campaigns with a planted effect (fixed seeds)."""

import numpy as np
import pytest
from scipy import stats

from guanxi.offers import uplift


def test_wilson_interval_matches_newcombe_1998_table_i():
    # Newcombe (1998, Stat Med 17:857) Table I, example 81/263: Wilson score interval 0.2553 to 0.3662.
    low, high = uplift.wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=5e-5)
    assert high == pytest.approx(0.3662, abs=5e-5)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "low", "high"),
    [
        # Newcombe (1998, Stat Med 17:873) Table II, method 10 (hybrid score): 56/70 - 48/80 and 9/10 - 3/10.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
    ],
)
def test_newcombe_hybrid_interval_matches_the_paper(k1, n1, k2, n2, low, high):
    diff = uplift.newcombe_difference(k1, n1, k2, n2)
    assert diff.estimate == pytest.approx(k1 / n1 - k2 / n2)
    assert diff.low == pytest.approx(low, abs=5e-4)
    assert diff.high == pytest.approx(high, abs=5e-4)


def test_welch_agrees_with_scipy():
    rng = np.random.default_rng(7)
    x, y = rng.gamma(2.0, 50.0, 300), rng.gamma(2.0, 40.0, 40)
    diff = uplift.welch_difference(x, y)
    expected = stats.ttest_ind(x, y, equal_var=False)
    ci = expected.confidence_interval(0.95)
    assert diff.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert (diff.low, diff.high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        uplift.wilson_interval(5, 0)
    with pytest.raises(ValueError):
        uplift.GroupData([None, 1.0], [0.0])
    assert uplift.welch_difference([1.0], [2.0, 3.0]) is None


def _simulate(rng, n, rate, spend=120.0, days=56):
    returned = rng.random(n) < rate
    days_to_return = [float(d) if r else None for r, d in zip(returned, rng.uniform(0.5, days, n), strict=True)]
    revenue = np.where(returned, rng.gamma(2.0, spend / 2.0, n), 0.0)
    return uplift.GroupData(days_to_return, revenue.tolist())


def test_planted_effect_is_recovered_within_the_interval():
    # Control returns 10%, treated 18%: the true effect is 8 customers per 100; 10% of 4,000 held out.
    rng = np.random.default_rng(20261204)
    treated, control = _simulate(rng, 3600, 0.18), _simulate(rng, 400, 0.10)
    report = uplift.uplift_report(treated, control, measure_days=56)
    d = report.return_rate_diff
    assert d.low < 0.08 < d.high
    assert d.low > 0
    assert d.p_value < 0.01
    assert report.direction == "more"
    # Revenue per member: true difference 0.08 * 120 = 9.6 per member.
    assert report.revenue_diff.low < 9.6 < report.revenue_diff.high
    assert report.treated.size == 3600 and report.control.size == 400


def test_no_effect_gives_an_interval_around_zero():
    rng = np.random.default_rng(11)
    report = uplift.uplift_report(_simulate(rng, 3600, 0.10), _simulate(rng, 400, 0.10), measure_days=56)
    assert report.return_rate_diff.low < 0 < report.return_rate_diff.high
    assert report.direction == "unclear"


def test_interval_coverage_is_close_to_95_percent():
    # 400 simulated campaigns with the planted 8-point effect: the 95% interval should hold it about 95% of times.
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(400):
        k1, k2 = rng.binomial(1800, 0.18), rng.binomial(200, 0.10)
        d = uplift.newcombe_difference(int(k1), 1800, int(k2), 200)
        hits += d.low < 0.08 < d.high
    assert 0.92 <= hits / 400 <= 0.98


def test_small_groups_are_not_judged():
    report = uplift.uplift_report(
        uplift.GroupData([1.0] * 10, [10.0] * 10), uplift.GroupData([None] * 5, [0.0] * 5), measure_days=28
    )
    assert report.direction == "too_small"


def test_empty_control_has_no_difference():
    report = uplift.uplift_report(uplift.GroupData([1.0, None], [5.0, 0.0]), uplift.GroupData([], []), measure_days=14)
    assert report.return_rate_diff is None and report.direction == "none"
    assert report.control.return_rate is None


def test_cumulative_curve_counts_first_returns_by_week():
    days, shares = uplift.cumulative_curve([1.0, 6.9, 7.0, 8.0, 20.0, None, None, None], 21)
    assert days == [7, 14, 21]
    assert shares == [3 / 8, 4 / 8, 5 / 8]
    days, shares = uplift.cumulative_curve([3.0], 10)
    assert days == [7, 10] and shares == [1.0, 1.0]

"""Measured uplift of an offer: treated versus a random control group, framework-free (numpy and scipy only).

Input per group: for every member, the days from assignment to their first order inside the measurement window
(``None``: did not return) and the revenue of their orders inside the window (currency units, refunds excluded by
the caller). The window is ``(assigned_at, assigned_at + measure_days]`` for each member.

Outputs:
- return rate per group with a Wilson score interval (Wilson 1927);
- the difference in return rates, treated - control, with Newcombe's hybrid score interval (Newcombe 1998,
  "Interval estimation for the difference between independent proportions", method 10): no normal approximation
  on the difference itself, so it behaves with rates near 0 and small control groups; the two-sided p-value is
  the pooled two-proportion z test;
- revenue per member: the difference of means with Welch's t interval and p-value (unequal variances,
  Welch-Satterthwaite degrees of freedom), because revenue is skewed and the groups are of very unequal size;
- weekly cumulative return curves per group, for the chart.

Because members are assigned to the groups at random, the difference estimates the offer's causal effect on the
audience (the average treatment effect of *sending* the offer, whether or not the coupon was used).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import ceil, isfinite, sqrt

import numpy as np
from scipy import stats

LEVEL = 0.95
# Below this many members in a group the report says the result is too small to read (normal approximations and
# Welch's t are poor, and a manager should not act on it).
MIN_GROUP = 30


@dataclass(frozen=True)
class GroupData:
    """One group's members: ``days_to_return[i]`` (None: no order in the window) and ``revenue[i]``."""

    days_to_return: Sequence[float | None]
    revenue: Sequence[float]

    def __post_init__(self) -> None:
        if len(self.days_to_return) != len(self.revenue):
            raise ValueError("days_to_return and revenue must have one value per member")


@dataclass(frozen=True)
class GroupSummary:
    size: int
    returned: int
    return_rate: float | None
    rate_low: float | None
    rate_high: float | None
    revenue_total: float
    revenue_per_member: float | None


@dataclass(frozen=True)
class Difference:
    estimate: float
    low: float
    high: float
    p_value: float | None


@dataclass(frozen=True)
class UpliftReport:
    level: float
    measure_days: int
    treated: GroupSummary
    control: GroupSummary
    return_rate_diff: Difference | None  # proportions (0.061 = 6.1 more customers per 100)
    revenue_diff: Difference | None  # currency per member
    curve_days: list[int] = field(default_factory=list)
    treated_curve: list[float] = field(default_factory=list)
    control_curve: list[float] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.treated.size >= MIN_GROUP and self.control.size >= MIN_GROUP

    @property
    def direction(self) -> str:
        """more / fewer (the interval excludes 0), unclear (it contains 0), too_small, or none (no data)."""
        if self.return_rate_diff is None:
            return "none"
        if not self.readable:
            return "too_small"
        if self.return_rate_diff.low > 0:
            return "more"
        if self.return_rate_diff.high < 0:
            return "fewer"
        return "unclear"


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def wilson_interval(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n`` (n > 0)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError("need 0 <= successes <= n and n > 0")
    z = _z(level)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(k1: int, n1: int, k2: int, n2: int, level: float = LEVEL) -> Difference:
    """p1 - p2 with Newcombe's hybrid score interval (method 10) and the pooled z test's two-sided p-value."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, level)
    l2, u2 = wilson_interval(k2, n2, level)
    d = p1 - p2
    low = d - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (k1 + k2) / (n1 + n2)
    se = sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else (1.0 if d == 0 else 0.0)
    return Difference(d, low, high, p_value)


def welch_difference(x: Sequence[float], y: Sequence[float], level: float = LEVEL) -> Difference | None:
    """mean(x) - mean(y) with Welch's t interval and two-sided p-value; None with fewer than 2 values a side."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.size < 2 or b.size < 2:
        return None
    d = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se2 = va + vb
    if se2 == 0:  # both groups constant: the difference is known exactly
        return Difference(d, d, d, 1.0 if d == 0 else 0.0)
    df = se2**2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(1 - (1 - level) / 2, df)) * sqrt(se2)
    p_value = float(2 * stats.t.sf(abs(d) / sqrt(se2), df))
    return Difference(d, d - half, d + half, p_value if isfinite(p_value) else None)


def summarise(group: GroupData, level: float = LEVEL) -> GroupSummary:
    n = len(group.revenue)
    returned = sum(1 for days in group.days_to_return if days is not None)
    total = float(np.sum(np.asarray(group.revenue, dtype=float))) if n else 0.0
    if n == 0:
        return GroupSummary(0, 0, None, None, None, 0.0, None)
    low, high = wilson_interval(returned, n, level)
    return GroupSummary(n, returned, returned / n, low, high, total, total / n)


def cumulative_curve(days_to_return: Sequence[float | None], measure_days: int, step: int = 7) -> tuple[list, list]:
    """Days ``step, 2*step, ... , measure_days`` and the share of members who had returned by each."""
    marks = [min(step * i, measure_days) for i in range(1, ceil(measure_days / step) + 1)] if measure_days else []
    n = len(days_to_return)
    if n == 0:
        return marks, [0.0 for _ in marks]
    days = np.sort(np.asarray([d for d in days_to_return if d is not None], dtype=float))
    return marks, [float(np.searchsorted(days, mark, side="right")) / n for mark in marks]


def uplift_report(treated: GroupData, control: GroupData, *, measure_days: int, level: float = LEVEL) -> UpliftReport:
    """The comparison of ``treated`` with ``control`` (see the module docstring)."""
    t, c = summarise(treated, level), summarise(control, level)
    rate_diff = revenue_diff = None
    if t.size and c.size:
        rate_diff = newcombe_difference(t.returned, t.size, c.returned, c.size, level)
        revenue_diff = welch_difference(treated.revenue, control.revenue, level)
    marks, treated_curve = cumulative_curve(treated.days_to_return, measure_days)
    _marks, control_curve = cumulative_curve(control.days_to_return, measure_days)
    return UpliftReport(
        level=level,
        measure_days=measure_days,
        treated=t,
        control=c,
        return_rate_diff=rate_diff,
        revenue_diff=revenue_diff,
        curve_days=marks,
        treated_curve=treated_curve,
        control_curve=control_curve,
    )

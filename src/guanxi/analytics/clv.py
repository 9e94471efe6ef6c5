"""Customer lifetime value over a finite horizon, discounted monthly.

CLV_i = margin * E[M_i] * sum_{k=1..K} (E[Y_i(k m)] - E[Y_i((k-1) m)]) / (1 + d)^k

with E[Y_i(t)] the conditional expected purchases of a fitted count model (BG/NBD or Pareto/NBD,
``guanxi.analytics.btyd``) over the next t time units after ``as_of``, m the number of time units in a month,
E[M_i] the conditional expected spend per purchase (Gamma-Gamma), d the monthly discount rate and K the
horizon in months. This is the discounted-cash-flow approach of Fader, Hardie & Lee (2005b, JMR 42(4),
section "CLV") as implemented by lifetimes' ``customer_lifetime_value``, vectorised: one broadcast call
computes the cumulative expectations for all customers and months. lifetimes uses 30 days (4.345 weeks) per
month; here a month is 365.25 / 12 days unless ``periods_per_month`` says otherwise.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from guanxi.analytics.btyd import BGNBDParams, FloatArray, ParetoNBDParams, expected_purchases
from guanxi.analytics.errors import AnalyticsInputError

DAYS_PER_MONTH = 365.25 / 12
_DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}


def monthly_rate(annual_rate: float) -> float:
    """The monthly rate that compounds to ``annual_rate`` over 12 months."""
    return float((1.0 + annual_rate) ** (1.0 / 12.0) - 1.0)


def customer_lifetime_value(
    params: BGNBDParams | ParetoNBDParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    expected_spend: ArrayLike,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    annual_discount_rate: float | None = None,
    margin: float = 1.0,
    unit: str = "D",
    periods_per_month: float | None = None,
) -> FloatArray:
    """Discounted margin of each customer's expected purchases over the next ``months`` months.

    ``x``, ``t_x``, ``T`` are in ``unit`` ("D" or "W", the unit the model was fitted in); ``expected_spend``
    is per purchase in currency (e.g. ``gamma_gamma_expected_spend``). ``discount_rate`` is monthly;
    ``annual_discount_rate``, if given, replaces it by its monthly equivalent. ``margin`` is the share of
    revenue kept (0-1]. Returns currency per customer.
    """
    if unit not in _DAYS_PER_UNIT:
        raise AnalyticsInputError(f"unit must be 'D' or 'W', not {unit!r}")
    if not isinstance(months, int | np.integer) or months < 1:
        raise AnalyticsInputError("months must be a whole number >= 1")
    if annual_discount_rate is not None:
        discount_rate = monthly_rate(annual_discount_rate)
    if discount_rate < 0 or not np.isfinite(discount_rate):
        raise AnalyticsInputError("the discount rate must be >= 0")
    if not 0 < margin <= 1:
        raise AnalyticsInputError("margin must be in (0, 1]")
    per_month = periods_per_month if periods_per_month is not None else DAYS_PER_MONTH / _DAYS_PER_UNIT[unit]
    horizons = (np.arange(months + 1, dtype=np.float64) * per_month)[:, None]
    cumulative = expected_purchases(
        params,
        horizons,
        np.asarray(x, dtype=np.float64),
        np.asarray(t_x, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
    )
    per_month_purchases = np.diff(cumulative, axis=0)
    discount = (1.0 + discount_rate) ** -np.arange(1, months + 1, dtype=np.float64)
    return margin * np.asarray(expected_spend, dtype=np.float64) * (discount @ per_month_purchases)

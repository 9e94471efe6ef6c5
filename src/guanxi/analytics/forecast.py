"""Expected purchases and revenue per customer for the next 1..12 months, grouped totals, and a backtest.

Model: BG/NBD for the number of purchases and Gamma-Gamma for the spend per purchase (``guanxi.analytics.btyd``):

    purchases_i(k) = E[Y_i(t_k) | x_i, t_x,i, T_i] - E[Y_i(t_{k-1}) | x_i, t_x,i, T_i]     ([FHL05] eq. 10)
    revenue_i(k)   = purchases_i(k) * E[M_i | x_i, m_i]                                     ([FH13] eq. 5)

with t_k the time from ``as_of`` to the end of month k, in the unit the models were fitted in. Month k is the
window (``as_of`` + (k-1) months, ``as_of`` + k months] in calendar months: when ``as_of`` is a month end, the
windows are whole calendar months (October, November, ...); otherwise they run from day to day (15 Oct - 15 Nov).
Whole days, so the backtest can count actual purchases in exactly the forecast's windows. Purchases are purchase
days (same-day orders merged, as in the summary); revenue is in the currency of the amounts.

Only customers in the summary (first purchase on or before ``as_of``) are forecast: customers acquired later
are not, so grouped totals are the expected business from today's customers, not a sales forecast including
acquisition.

References: [FHL05] Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science
24(2); [FH13] Fader & Hardie (2013), "The Gamma-Gamma model of monetary value". The CDNOW backtest figures are
in this package's README.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from guanxi.analytics import btyd, engine
from guanxi.analytics.cohorts import Transactions, as_of_date, transactions_table
from guanxi.analytics.errors import AnalyticsInputError

_DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}
_SUMMARY_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value")


def month_ends(as_of: dt.date | str | pd.Timestamp, months: int) -> pd.DatetimeIndex:
    """Last day of forecast months 1..``months`` after ``as_of`` (calendar month ends when ``as_of`` is one)."""
    start = as_of_date(as_of)
    steps = range(1, months + 1)
    if start.is_month_end:
        return pd.DatetimeIndex([start + pd.offsets.MonthEnd(k) for k in steps], name="month_end")
    return pd.DatetimeIndex([start + pd.DateOffset(months=k) for k in steps], name="month_end")


@dataclass(frozen=True)
class Forecast:
    """Per-customer forecast. ``purchases`` and ``revenue``: one row per customer (index ``customer_id``), one
    column per month k = 1..K; month k ends on ``month_ends[k-1]``. ``expected_spend`` is per purchase
    (currency); ``revenue`` is None when no spend model was given."""

    as_of: pd.Timestamp
    unit: str
    month_ends: pd.DatetimeIndex
    purchases: pd.DataFrame
    revenue: pd.DataFrame | None
    expected_spend: pd.Series | None


def _check_months(months: int) -> None:
    if not isinstance(months, int | np.integer) or not 1 <= months <= 120:
        raise AnalyticsInputError("months must be a whole number from 1 to 120")


def forecast_customers(
    summary: pd.DataFrame,
    count_params: btyd.BGNBDParams | btyd.ParetoNBDParams,
    spend_params: btyd.GammaGammaParams | None,
    *,
    as_of: dt.date | str | pd.Timestamp,
    months: int = 12,
    unit: str = "D",
) -> Forecast:
    """Expected purchases (and revenue) per customer for each of the next ``months`` months after ``as_of``.

    ``summary`` is :func:`guanxi.analytics.engine.summary_frame` at the same ``as_of``: ``customer_id``,
    ``frequency``, ``recency``, ``T`` (in ``unit``: "D" days or "W" weeks, the unit the models were fitted
    in) and ``monetary_value`` (mean repeat spend; needed only with ``spend_params``).
    """
    _check_months(months)
    if unit not in _DAYS_PER_UNIT:
        raise AnalyticsInputError(f"unit must be 'D' (days) or 'W' (weeks), not {unit!r}")
    missing = [c for c in _SUMMARY_COLUMNS[:4] if c not in summary.columns]
    if spend_params is not None and "monetary_value" not in summary.columns:
        missing.append("monetary_value")
    if missing:
        raise AnalyticsInputError(f"summary is missing column(s) {missing} (use engine.summary_frame)")
    if summary.empty:
        raise AnalyticsInputError("summary has no customers to forecast")
    if summary["customer_id"].duplicated().any():
        raise AnalyticsInputError("summary has duplicate customer ids")
    start = as_of_date(as_of)
    ends = month_ends(start, months)
    horizons = np.asarray((ends - start).days, dtype=np.float64) / _DAYS_PER_UNIT[unit]
    x, t_x, T = (summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))):
        raise AnalyticsInputError("summary has missing or infinite frequency, recency or T")
    cumulative = btyd.expected_purchases(count_params, horizons[:, None], x, t_x, T)
    per_month = np.diff(cumulative, axis=0, prepend=0.0).T
    index = pd.Index(summary["customer_id"].to_numpy(), name="customer_id")
    columns = pd.RangeIndex(1, months + 1, name="month")
    purchases = pd.DataFrame(per_month, index=index, columns=columns)
    revenue = spend = None
    if spend_params is not None:
        spend_values = btyd.gamma_gamma_expected_spend(spend_params, x, summary["monetary_value"].to_numpy(np.float64))
        if not np.all(np.isfinite(spend_values)):
            raise AnalyticsInputError(
                "the Gamma-Gamma model has no finite expected spend (q <= 1): revenue cannot be forecast"
            )
        spend = pd.Series(spend_values, index=index, name="expected_spend")
        revenue = purchases.mul(spend_values, axis=0)
    return Forecast(as_of=start, unit=unit, month_ends=ends, purchases=purchases, revenue=revenue, expected_spend=spend)


def aggregate_forecast(forecast: Forecast, attributes: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """Forecast totals per group and month: one row per (group..., month).

    ``attributes`` has a ``customer_id`` column (or index) and the grouping column(s) ``by`` (segment, tier,
    industry, region ...). Customers without attributes, or with a missing value, form the group NaN (kept, so
    the group totals add up to the overall forecast). Output columns: ``by``..., ``month``, ``month_end``,
    ``customers``, ``purchases`` and ``revenue`` (NaN without a spend model).
    """
    keys = [by] if isinstance(by, str) else list(by)
    if not keys:
        raise AnalyticsInputError("name at least one grouping column")
    frame = attributes.reset_index() if "customer_id" not in attributes.columns else attributes
    missing = [c for c in ["customer_id", *keys] if c not in frame.columns]
    if missing:
        raise AnalyticsInputError(f"attributes are missing column(s) {missing}")
    if frame["customer_id"].duplicated().any():
        raise AnalyticsInputError("attributes have duplicate customer ids")
    groups = frame.set_index("customer_id")[keys].reindex(forecast.purchases.index)

    def totals(values: pd.DataFrame, name: str) -> pd.DataFrame:
        summed = values.groupby([groups[k] for k in keys], dropna=False).sum()
        return summed.melt(ignore_index=False, var_name="month", value_name=name).reset_index()

    out = totals(forecast.purchases, "purchases")
    if forecast.revenue is not None:
        out["revenue"] = totals(forecast.revenue, "revenue")["revenue"].to_numpy()
    else:
        out["revenue"] = np.nan
    counts = groups.groupby(keys, dropna=False).size().rename("customers").reset_index()
    out = out.merge(counts, on=keys, how="left")
    out["month"] = out["month"].astype("int64")
    out["month_end"] = forecast.month_ends[out["month"].to_numpy() - 1]
    return out[[*keys, "month", "month_end", "customers", "purchases", "revenue"]].sort_values(
        [*keys, "month"], ignore_index=True
    )


# --- fitting and backtesting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FittedForecast:
    """The models fitted on the summary at ``as_of`` and their per-customer forecast."""

    summary: pd.DataFrame
    bgnbd: btyd.Fit[btyd.BGNBDParams]
    gamma_gamma: btyd.Fit[btyd.GammaGammaParams]
    forecast: Forecast


def fit_and_forecast(
    transactions: Transactions,
    *,
    as_of: dt.date | str | pd.Timestamp,
    months: int = 12,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    unit: engine.Unit = "D",
) -> FittedForecast:
    """Summary at ``as_of`` (engine, same-day purchases merged), BG/NBD and Gamma-Gamma fits, forecast.

    Transactions as in :func:`guanxi.analytics.cohorts.transactions_table` (pandas or Ibis; validated).
    """
    table = transactions_table(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    return _fit_and_forecast(table, as_of=as_of, months=months, unit=unit)


def _fit_and_forecast(
    table: ir.Table, *, as_of: dt.date | str | pd.Timestamp, months: int, unit: engine.Unit
) -> FittedForecast:
    """:func:`fit_and_forecast` on a table already validated by ``transactions_table``."""
    _check_months(months)
    start = as_of_date(as_of)
    summary = engine.summary_frame(
        table, as_of=start, customer_col="customer_id", date_col="day", amount_col="amount", unit=unit, period="D"
    )
    if summary.empty:
        raise AnalyticsInputError(f"no purchases on or before {start.date()}: nothing to forecast")
    compressed = engine.compress_summary(summary)
    assert isinstance(compressed, pd.DataFrame)
    bgnbd = btyd.fit_bgnbd(compressed["frequency"], compressed["recency"], compressed["T"], compressed["count"])
    gamma_gamma = btyd.fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    forecast = forecast_customers(summary, bgnbd.params, gamma_gamma.params, as_of=start, months=months, unit=unit)
    return FittedForecast(summary=summary, bgnbd=bgnbd, gamma_gamma=gamma_gamma, forecast=forecast)


@dataclass(frozen=True)
class Backtest:
    """Forecast made at ``as_of`` against what happened, per month and in total.

    ``months`` has one row per month k: ``month``, ``month_end``, ``forecast_purchases``, ``actual_purchases``,
    ``purchases_error`` (forecast - actual), ``purchases_pct_error`` (100 * error / actual), and the same for
    revenue; ``total`` the same quantities summed over the months. Actuals count the purchase days (and sum
    the amounts) of the customers acquired on or before ``as_of`` only, as the forecast does.
    """

    as_of: pd.Timestamp
    months: pd.DataFrame
    total: pd.Series
    fitted: FittedForecast


def _with_errors(frame: pd.DataFrame) -> pd.DataFrame:
    for what in ("purchases", "revenue"):
        error = frame[f"forecast_{what}"] - frame[f"actual_{what}"]
        frame[f"{what}_error"] = error
        actual = frame[f"actual_{what}"].to_numpy(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame[f"{what}_pct_error"] = np.where(actual > 0, 100.0 * error.to_numpy() / actual, np.nan)
    return frame


def backtest(
    transactions: Transactions,
    *,
    as_of: dt.date | str | pd.Timestamp,
    months: int = 12,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    unit: engine.Unit = "D",
    data_end: dt.date | str | pd.Timestamp | None = None,
) -> Backtest:
    """Fit at ``as_of``, forecast ``months`` months, and compare with the purchases that followed.

    ``data_end`` is the last day the transactions cover (default: the last purchase date in them); the forecast
    months must end by then, so a month is never compared with data that stop in the middle of it.
    """
    table = transactions_table(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    fitted = _fit_and_forecast(table, as_of=as_of, months=months, unit=unit)
    start, ends = fitted.forecast.as_of, fitted.forecast.month_ends
    if data_end is None:
        last = table.aggregate(last=table.day.max()).to_pandas()["last"].iloc[0]
        end_of_data = as_of_date(last, "the last purchase date")
    else:
        end_of_data = as_of_date(data_end, "data_end")
    if ends[-1] > end_of_data:
        raise AnalyticsInputError(
            f"a {months}-month backtest from {start.date()} needs data up to {ends[-1].date()}, but the data end on"
            f" {end_of_data.date()}; use fewer months or an earlier as_of"
        )
    lo, hi = ibis.date(start.date().isoformat()), ibis.date(ends[-1].date().isoformat())
    known = table.filter(table.day <= lo).select("customer_id").distinct()
    later = table.filter((table.day > lo) & (table.day <= hi))
    later = later.semi_join(known, "customer_id")
    days = later.group_by(["customer_id", "day"]).aggregate(amount=later.amount.sum())
    per_day = days.group_by("day").aggregate(purchases=days.count(), revenue=days.amount.sum()).to_pandas()
    day_values = pd.to_datetime(per_day["day"]).to_numpy("datetime64[ns]")
    month_of_day = np.searchsorted(ends.to_numpy("datetime64[ns]"), day_values, side="left")
    actual_purchases = np.bincount(month_of_day, weights=per_day["purchases"].to_numpy(np.float64), minlength=months)
    actual_revenue = np.bincount(month_of_day, weights=per_day["revenue"].to_numpy(np.float64), minlength=months)
    forecast = fitted.forecast
    assert forecast.revenue is not None
    frame = pd.DataFrame(
        {
            "month": np.arange(1, months + 1),
            "month_end": ends,
            "forecast_purchases": forecast.purchases.sum(axis=0).to_numpy(),
            "actual_purchases": actual_purchases[:months],
            "forecast_revenue": forecast.revenue.sum(axis=0).to_numpy(),
            "actual_revenue": actual_revenue[:months],
        }
    )
    frame = _with_errors(frame)
    sums = frame[["forecast_purchases", "actual_purchases", "forecast_revenue", "actual_revenue"]].sum()
    total = _with_errors(sums.to_frame().T).iloc[0]
    return Backtest(as_of=start, months=frame, total=total, fitted=fitted)

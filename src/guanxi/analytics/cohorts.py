"""Monthly acquisition cohorts (retention and revenue matrices) and repeat-purchase curves.

Input: transactions with a customer id, a purchase date or timestamp (the calendar date is used; timezone-aware
pandas timestamps are converted to UTC first) and an amount (currency, >= 0), as a pandas frame or an Ibis table
on any backend. Everything is computed as of ``as_of`` (inclusive): later rows are ignored.

Definitions (the standard cohort table, e.g. Fader & Hardie (2009), "Probability models for customer-base
analysis", Journal of Interactive Marketing 23(1), and Gupta et al. (2006), "Modeling customer lifetime value",
Journal of Service Research 9(2)):

* A customer's *cohort* is the calendar month of their first purchase on or before ``as_of``.
* Month k of a cohort is the k-th calendar month after the acquisition month (k = 0 is the acquisition month).
* ``active[c, k]``: customers of cohort c who purchased in month k; ``retention = active / size`` (so
  retention[., 0] = 1). ``revenue[c, k]``: all amounts of cohort c's customers in month k (first purchases
  included); ``revenue_per_customer = revenue / size`` (per *original* customer, not per active one).
* A cell whose month lies after ``as_of`` is NaN (not observed); an observed month without purchases is 0.
  Months in which nobody was acquired have no row.
  By default only complete months are used: when ``as_of`` is not a month end, the computation stops at the
  end of the previous month, so the last column is never a partial month.

The repeat-purchase curve (Fader & Hardie's "time to second purchase" view): for n = 2, 3, ..., the share of
customers who made their n-th purchase within d days of their first. Purchases are distinct purchase days (as in
:mod:`guanxi.analytics.engine`). A customer acquired fewer than d days before ``as_of`` cannot show whether they
bought within d days, so the share at d counts only customers whose first purchase is at least d days before
``as_of`` (``observed[d]``): share_n(d) = #{first <= as_of - d, n-th purchase <= first + d} / #{first <= as_of - d}.

The cells are Ibis expressions (:func:`cohort_cells_expr`, :func:`repeat_counts_expr`) that run on SQLite,
PostgreSQL and DuckDB; only small aggregates come back to pandas.

This module also holds the validated-input helpers shared by the other analytics modules
(:func:`transactions_table`, :func:`transactions_frame`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from guanxi.analytics.errors import AnalyticsInputError

Transactions: TypeAlias = pd.DataFrame | ir.Table
_EXAMPLES = 3


# --- validated input ---------------------------------------------------------------------------------------------


def _missing_columns(present: list[str], roles: Mapping[str, str], source: str) -> None:
    missing = [f"{role} column {name!r}" for role, name in roles.items() if name not in present]
    if missing:
        available = ", ".join(repr(c) for c in present)
        raise AnalyticsInputError(f"{source}: missing {' and '.join(missing)} (columns present: {available})")


def _examples(values: pd.Series) -> str:
    return ", ".join(repr(v) for v in values.head(_EXAMPLES).tolist())


def _frame_dates(column: pd.Series) -> pd.Series:
    """Calendar dates (datetime64[ns] at midnight, UTC for aware timestamps) of a pandas column; NaT if bad."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_dtype(column.dtype):
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            return pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]")
        column = pd.to_datetime(column, errors="coerce", format="ISO8601", utc=True).dt.tz_localize(None)
    return column.dt.normalize().astype("datetime64[ns]")


def _validate_frame(
    frame: pd.DataFrame, customer_col: str, date_col: str, amount_col: str, keep: Mapping[str, str]
) -> pd.DataFrame:
    source = "transactions"
    _missing_columns(
        list(map(str, frame.columns)),
        {"customer": customer_col, "date": date_col, "amount": amount_col, **keep},
        source,
    )
    if frame.empty:
        raise AnalyticsInputError(f"{source}: there are no transactions")
    customer = frame[customer_col]
    day = _frame_dates(frame[date_col])
    raw_amount = frame[amount_col]
    if pd.api.types.is_bool_dtype(raw_amount.dtype):
        amount = pd.Series(np.nan, index=frame.index)
    else:
        amount = pd.to_numeric(raw_amount, errors="coerce").astype("float64")
    problems = []
    no_id = customer.isna()
    if no_id.any():
        problems.append(f"{int(no_id.sum())} row(s) have no customer id in column {customer_col!r}")
    bad_date = day.isna()
    if bad_date.any():
        problems.append(
            f"{int(bad_date.sum())} row(s) have a missing or unparseable date in column {date_col!r}"
            f" (e.g. {_examples(frame.loc[bad_date, date_col])})"
        )
    bad_amount = ~np.isfinite(amount.to_numpy())
    if bad_amount.any():
        problems.append(
            f"{int(bad_amount.sum())} row(s) have a missing or non-numeric amount in column {amount_col!r}"
            f" (e.g. {_examples(raw_amount[bad_amount])})"
        )
    negative = (amount < 0).to_numpy()
    if negative.any():
        problems.append(
            f"{int(negative.sum())} row(s) have a negative amount in column {amount_col!r}"
            f" (e.g. {_examples(raw_amount[negative])}); record returns separately"
        )
    if problems:
        raise AnalyticsInputError(f"{source}: " + "; ".join(problems), problems=problems)
    out = pd.DataFrame(
        {"customer_id": customer.to_numpy(), "day": day.to_numpy(), "amount": amount.to_numpy()}, copy=False
    )
    for name, column in keep.items():
        out[name] = frame[column].to_numpy()
    return out


def _table_date(column: ir.Column) -> ir.DateValue:
    dtype = column.type()
    if dtype.is_date():
        return column
    if dtype.is_timestamp():
        return column.date()
    if dtype.is_string():
        return column.strip().try_cast("timestamp").date()
    raise AnalyticsInputError(f"date column {column.get_name()!r} has type {dtype}, expected a date or timestamp")


def _validate_table(
    table: ir.Table, customer_col: str, date_col: str, amount_col: str, keep: Mapping[str, str]
) -> ir.Table:
    source = "transactions"
    _missing_columns(
        list(table.columns), {"customer": customer_col, "date": date_col, "amount": amount_col, **keep}, source
    )
    amount_type = table[amount_col].type()
    if not amount_type.is_numeric() or amount_type.is_boolean():
        raise AnalyticsInputError(f"{source}: amount column {amount_col!r} has type {amount_type}, expected numbers")
    parsed = table.select(
        customer_id=table[customer_col],
        day=_table_date(table[date_col]),
        amount=table[amount_col].cast("float64"),
        **{name: table[column] for name, column in keep.items()},
    )
    counts = (
        parsed.aggregate(
            rows=parsed.count(),
            no_id=parsed.customer_id.isnull().sum(),
            bad_date=parsed.day.isnull().sum(),
            bad_amount=parsed.amount.isnull().sum(),
            negative=(parsed.amount < 0).sum(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    if not counts["rows"]:
        raise AnalyticsInputError(f"{source}: there are no transactions")
    problems = []
    if counts["no_id"]:
        problems.append(f"{counts['no_id']} row(s) have no customer id in column {customer_col!r}")
    if counts["bad_date"]:
        problems.append(f"{counts['bad_date']} row(s) have a missing or unparseable date in column {date_col!r}")
    if counts["bad_amount"]:
        problems.append(f"{counts['bad_amount']} row(s) have a missing amount in column {amount_col!r}")
    if counts["negative"]:
        problems.append(
            f"{counts['negative']} row(s) have a negative amount in column {amount_col!r}; record returns separately"
        )
    if problems:
        raise AnalyticsInputError(f"{source}: " + "; ".join(problems), problems=problems)
    return parsed


def transactions_table(
    transactions: Transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    keep: Mapping[str, str] | None = None,
) -> ir.Table:
    """Validate transactions and return an Ibis table with ``customer_id``, ``day`` (date), ``amount`` (float64).

    ``keep`` maps output names to further input columns carried along unchanged (e.g. ``{"order_id": "order"}``).
    A pandas frame is validated in pandas and wrapped in ``ibis.memtable``; an Ibis table is validated with one
    aggregate query on its backend. Raises AnalyticsInputError listing every problem: missing columns, no rows,
    missing customer ids, missing or unparseable dates, missing, non-numeric or negative amounts.
    """
    keep = dict(keep or {})
    if isinstance(transactions, pd.DataFrame):
        table = ibis.memtable(_validate_frame(transactions, customer_col, date_col, amount_col, keep))
        return table.mutate(day=table.day.date())
    if isinstance(transactions, ir.Table):
        return _validate_table(transactions, customer_col, date_col, amount_col, keep)
    raise AnalyticsInputError(f"transactions must be a pandas DataFrame or an Ibis table, not {type(transactions)}")


def transactions_frame(
    transactions: Transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    keep: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Like :func:`transactions_table`, but return a pandas frame (``day`` as datetime64[ns] at midnight).

    For the numpy-based modules (churn, needs): an Ibis table is validated and fetched once.
    """
    keep = dict(keep or {})
    if isinstance(transactions, pd.DataFrame):
        return _validate_frame(transactions, customer_col, date_col, amount_col, keep)
    frame = transactions_table(
        transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col, keep=keep
    ).to_pandas()
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    frame["amount"] = frame["amount"].astype("float64")
    return frame


def as_of_date(value: dt.date | str | pd.Timestamp, name: str = "as_of") -> pd.Timestamp:
    """A date parameter as a midnight Timestamp, with a clear error for a value that is not a date."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise AnalyticsInputError(f"{name} is not a date: {value!r}") from error
    if pd.isna(stamp):
        raise AnalyticsInputError(f"{name} is not a date: {value!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize()


def _ibis_date(stamp: pd.Timestamp) -> ir.DateScalar:
    return ibis.date(stamp.date().isoformat())


def _month_number(stamp: pd.Timestamp) -> int:
    return stamp.year * 12 + stamp.month - 1


# --- cohorts -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohorts:
    """Monthly acquisition cohorts as of ``as_of`` (see the module docstring for the definitions).

    Frames are indexed by ``cohort`` (a monthly ``PeriodIndex``) with columns ``k`` = 0, 1, ... (months since
    acquisition); cells not yet observed are NaN. Amounts are in the currency of the input.
    """

    as_of: pd.Timestamp
    sizes: pd.Series
    active: pd.DataFrame
    retention: pd.DataFrame
    revenue: pd.DataFrame
    revenue_per_customer: pd.DataFrame
    cumulative_revenue_per_customer: pd.DataFrame


def cohort_cells_expr(table: ir.Table, *, as_of: dt.date | str | pd.Timestamp) -> ir.Table:
    """Ibis expression: one row per observed (cohort, k) cell with ``customers`` and ``revenue``.

    ``table`` has the columns of :func:`transactions_table`. ``cohort`` and ``month`` are month numbers
    (year * 12 + month - 1); ``k = month - cohort``. Cells without purchases are absent.
    """
    end = as_of_date(as_of)
    tx = table.filter(table.day <= _ibis_date(end))
    tx = tx.mutate(month=tx.day.year().cast("int64") * 12 + tx.day.month().cast("int64") - 1)
    per_month = tx.group_by(["customer_id", "month"]).aggregate(revenue=tx.amount.sum())
    # A join on the per-customer minimum: about twice as fast on DuckDB as a window MIN over customer_id.
    first = per_month.group_by("customer_id").aggregate(cohort=per_month.month.min())
    joined = per_month.join(first, "customer_id")
    cells = joined.group_by(["cohort", "month"]).aggregate(
        customers=joined.count().cast("int64"), revenue=joined.revenue.sum().cast("float64")
    )
    return cells.mutate(k=cells.month - cells.cohort).order_by(["cohort", "k"])


def _last_complete_day(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp if stamp.is_month_end else (stamp.replace(day=1) - pd.Timedelta(days=1))


def cohort_matrices(
    transactions: Transactions,
    *,
    as_of: dt.date | str | pd.Timestamp,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    complete_months_only: bool = True,
) -> Cohorts:
    """Retention, revenue and size of every monthly acquisition cohort up to ``as_of`` (inclusive).

    With ``complete_months_only`` (default) and an ``as_of`` that is not a month end, the computation stops at
    the end of the previous month (``Cohorts.as_of`` says which day was used). Raises AnalyticsInputError for
    invalid transactions or when nobody purchased on or before that day.
    """
    end = as_of_date(as_of)
    if complete_months_only:
        end = _last_complete_day(end)
    table = transactions_table(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    cells = cohort_cells_expr(table, as_of=end).to_pandas()
    if cells.empty:
        raise AnalyticsInputError(f"no purchases on or before {end.date()}: there are no cohorts")
    cells = cells.astype({"cohort": "int64", "k": "int64", "customers": "int64", "revenue": "float64"})
    first, last = int(cells["cohort"].min()), _month_number(end)
    cohort_numbers = np.unique(cells["cohort"].to_numpy())
    row = np.searchsorted(cohort_numbers, cells["cohort"].to_numpy())
    ks = np.arange(0, last - first + 1)
    index = pd.PeriodIndex(
        [pd.Period(year=int(m // 12), month=int(m % 12 + 1), freq="M") for m in cohort_numbers], name="cohort"
    )
    columns = pd.Index(ks, name="k")
    observed = (cohort_numbers[:, None] + ks[None, :]) <= last

    def matrix(values: str) -> pd.DataFrame:
        grid = np.zeros((len(cohort_numbers), len(ks)))
        grid[row, cells["k"].to_numpy()] = cells[values].to_numpy()
        return pd.DataFrame(np.where(observed, grid, np.nan), index=index, columns=columns)

    active, revenue = matrix("customers"), matrix("revenue")
    sizes = active[0].astype("int64").rename("customers")
    denominator = sizes.to_numpy().astype(np.float64)[:, None]
    retention = active / denominator
    per_customer = revenue / denominator
    return Cohorts(
        as_of=end,
        sizes=sizes,
        active=active,
        retention=retention,
        revenue=revenue,
        revenue_per_customer=per_customer,
        cumulative_revenue_per_customer=per_customer.cumsum(axis=1, skipna=False),
    )


# --- repeat-purchase curve ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatCurve:
    """Share of customers whose n-th purchase came within d days of their first (module docstring).

    ``share`` is indexed by ``days`` (0 .. max_days) with one column per n (2 .. max_purchase); ``observed[d]``
    is the number of customers acquired at least d days before ``as_of`` (the denominator; NaN shares where 0).
    """

    as_of: pd.Timestamp
    share: pd.DataFrame
    observed: pd.Series


def repeat_counts_expr(table: ir.Table, *, as_of: dt.date | str | pd.Timestamp, max_purchase: int) -> ir.Table:
    """Ibis expression for the repeat-purchase curve, on a table with the columns of :func:`transactions_table`.

    One query (a UNION ALL, so the ranking window runs once) with columns ``kind``, ``n``, ``days``, ``customers``:
    ``kind = "gap"`` counts customers by (n, days from the first to the n-th distinct purchase day) for
    n = 2 .. max_purchase; ``kind = "window"`` counts the customers with at least n purchases by (n, days from
    their first purchase to ``as_of``) for n = 1 .. max_purchase.
    """
    end = as_of_date(as_of)
    tx = table.filter(table.day <= _ibis_date(end))
    days = tx.group_by(["customer_id", "day"]).aggregate()
    ordered = ibis.window(group_by=days.customer_id, order_by=days.day)
    days = days.mutate(
        n=(ibis.row_number().over(ordered) + 1).cast("int64"), first=days.day.min().over(group_by=days.customer_id)
    )
    days = days.filter(days.n <= max_purchase)
    days = days.mutate(
        gap=days.day.delta(days.first, unit="day").cast("int64"),
        window=_ibis_date(end).delta(days.first, unit="day").cast("int64"),
    )
    repeats = days.filter(days.n >= 2)
    gaps = repeats.group_by(["n", "gap"]).aggregate(customers=repeats.count().cast("int64"))
    windows = days.group_by(["n", "window"]).aggregate(customers=days.count().cast("int64"))
    return gaps.select(kind=ibis.literal("gap"), n=gaps.n, days=gaps.gap, customers=gaps.customers).union(
        windows.select(kind=ibis.literal("window"), n=windows.n, days=windows.window, customers=windows.customers),
        distinct=False,
    )


def _count_at_most(values: np.ndarray, counts: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """For each d in grid, the total count of values <= d."""
    order = np.argsort(values, kind="stable")
    cumulative = np.concatenate([[0], np.cumsum(counts[order])])
    return cumulative[np.searchsorted(values[order], grid, side="right")]


def repeat_purchase_curve(
    transactions: Transactions,
    *,
    as_of: dt.date | str | pd.Timestamp,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    max_purchase: int = 5,
    max_days: int = 365,
) -> RepeatCurve:
    """Share of customers who made their 2nd .. ``max_purchase``-th purchase within d = 0 .. ``max_days`` days.

    Same-day purchases are one purchase. See the module docstring for how customers acquired less than d days
    before ``as_of`` are handled.
    """
    if not isinstance(max_purchase, int) or max_purchase < 2:
        raise AnalyticsInputError("max_purchase must be a whole number >= 2")
    if not isinstance(max_days, int) or max_days < 0:
        raise AnalyticsInputError("max_days must be a whole number >= 0")
    end = as_of_date(as_of)
    table = transactions_table(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    counts = repeat_counts_expr(table, as_of=end, max_purchase=max_purchase).to_pandas()
    counts = counts.astype({"n": "int64", "days": "int64", "customers": "int64"})
    gaps, windows = counts[counts["kind"] == "gap"], counts[counts["kind"] == "window"]
    if windows.empty:
        raise AnalyticsInputError(f"no purchases on or before {end.date()}: there is no repeat-purchase curve")
    grid = np.arange(max_days + 1)

    def subset(frame: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
        rows = frame[frame["n"] == n]
        return rows["days"].to_numpy(), rows["customers"].to_numpy()

    everyone_windows, everyone = subset(windows, 1)
    observed = everyone.sum() - _count_at_most(everyone_windows, everyone, grid - 1)
    shares = {}
    for n in range(2, max_purchase + 1):
        # n-th purchase within d days and observed for d days = (gap <= d) minus (window < d); gap <= window.
        within = _count_at_most(*subset(gaps, n), grid) - _count_at_most(*subset(windows, n), grid - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares[n] = np.where(observed > 0, within / np.maximum(observed, 1), np.nan)
    share = pd.DataFrame(shares, index=pd.Index(grid, name="days"))
    share.columns.name = "n"
    return RepeatCurve(as_of=end, share=share, observed=pd.Series(observed, index=share.index, name="customers"))

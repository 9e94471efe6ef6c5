"""The whole customer-base analysis in one call: summary, BG/NBD, Gamma-Gamma, P(alive), CLV, RFM and tiers.

Input: a transactions table (Ibis, any backend) with a customer id, a purchase date or timestamp and an amount
(currency, >= 0); ``as_of`` is the calibration end (inclusive). Output: a :class:`PipelineResult` with one row
per customer who bought on or before ``as_of``, the fitted models with standard errors, the segment and tier
counts, model-fit diagnostics and the time each stage took. Used by ``guanxi analyze`` and the benchmarks.

Stages and their references:

* ``summary``: the per-customer summary of :mod:`guanxi.analytics.engine` (frequency x, recency t_x, age T,
  mean repeat spend m, ...), computed by :func:`summarise` in ONE scan of the transactions (see there).
* ``fit``: BG/NBD (Fader, Hardie & Lee 2005, Marketing Science 24(2), eq. 6) on the compressed summary (distinct
  (x, t_x, T) rows weighted by their counts), and Gamma-Gamma (Fader, Hardie & Lee 2005b, JMR 42(4); Fader &
  Hardie 2013 note, eq. 4) on the repeat buyers with a positive mean repeat spend; both by maximum likelihood
  (:mod:`guanxi.analytics.btyd`: on more than 50,000 rows, a fit on a sample finished by Newton's method on all
  rows), run concurrently (numpy and scipy release the GIL in their array loops).
* ``predict``: P(alive) (FHL 2008 eq. 2), expected purchases in the next ``horizon_days`` (FHL 2005 eq. 10),
  expected spend per purchase (Fader & Hardie 2013 eq. 5), discounted CLV over round(horizon_days / 30.44)
  months (:mod:`guanxi.analytics.clv`). E[Y(t) | x, t_x, T] = A(t; x, T) * P(alive | x, t_x, T), where A, the
  expected purchases of a customer known to be alive, does not depend on t_x; so the Gauss hypergeometric
  function is evaluated once per distinct (x, T) and horizon, not once per customer and horizon.
* ``rfm`` and ``tiers``: :mod:`guanxi.analytics.rfm` (quintile scores, 11 segments, ABC by revenue, high /
  medium / low by CLV).
* ``diagnostics``: the calibration-period histogram of repeat purchases, actual against the BG/NBD
  expectation sum_i P(X(T_i) = k) (FHL 2005 eq. 8), and, when the data extend past ``as_of``, the holdout:
  actual repeat purchases per week after ``as_of`` against the sum of conditional expectations.

Times are in ``unit`` ("W" weeks, "D" days): ``alpha`` and the summary's recency and T are in that unit.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis.common.exceptions import IbisError
from scipy.special import betainc, betaln, gammaln

from guanxi.analytics import btyd, engine, rfm
from guanxi.analytics.clv import DAYS_PER_MONTH, customer_lifetime_value
from guanxi.analytics.engine import Unit
from guanxi.analytics.errors import AnalyticsInputError

Engine = Literal["duckdb", "spark"]
STAGES = ("summary", "fit", "predict", "rfm", "tiers", "diagnostics")
_DAYS_PER_UNIT = {"D": 1, "W": 7}
CALIBRATION_BUCKETS = 8  # repeat purchases 0 .. 6 and "7+" in the calibration histogram (as in FHL 2005, fig. 2)
ProgressCallback = Callable[[str], None]


class InputCheckFailed(AnalyticsInputError):
    """Bad values found by :func:`summarise`'s scan (null dates, negative amounts, ...)."""


@dataclass(frozen=True)
class Holdout:
    """Repeat purchases after ``as_of`` by the calibration customers, actual against the BG/NBD prediction.

    ``weekly`` has one row per week after ``as_of`` (``week`` 1, 2, ...), with the cumulative ``actual`` repeat
    purchases (distinct purchase periods) and the cumulative ``predicted`` sum of E[Y(t) | x, t_x, T].
    """

    start: dt.date
    end: dt.date
    actual: int
    predicted: float
    weekly: pd.DataFrame


@dataclass(frozen=True)
class PipelineResult:
    """Everything ``run_pipeline`` computed.

    ``customers``: one row per customer: the summary columns of :data:`engine.SUMMARY_COLUMNS`, then
    ``p_alive``, ``expected_purchases`` (in the next ``horizon_days``), ``expected_spend`` (per purchase),
    ``clv`` (discounted margin over ``clv_months``), ``r_score``, ``f_score``, ``m_score``, ``fm_score``,
    ``segment`` (key of :data:`rfm.SEGMENT_LABELS`), ``abc_tier`` (A/B/C by revenue) and ``value_tier``
    (high/medium/low by CLV), the last three as categoricals. ``calibration``: columns ``repeat_purchases``
    (0 .. 6 and "7+"), ``actual``, ``expected``. ``spend_excluded``: repeat buyers left out of the
    Gamma-Gamma fit because their repeat purchases were free (mean repeat spend 0). ``timings``: seconds per
    stage, in order.
    """

    customers: pd.DataFrame
    bgnbd: btyd.Fit[btyd.BGNBDParams]
    gamma_gamma: btyd.Fit[btyd.GammaGammaParams]
    segment_counts: dict[str, int]
    abc_counts: dict[str, int]
    tier_counts: dict[str, int]
    calibration: pd.DataFrame
    holdout: Holdout | None
    as_of: dt.date
    unit: Unit
    period: Unit
    horizon_days: int
    clv_months: int
    discount_rate: float
    margin: float
    compressed_rows: int
    spend_excluded: int
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no per-customer rows): parameters, standard errors, counts, timings."""

        def fit_dict(fit: btyd.Fit[Any]) -> dict[str, Any]:
            return {
                **btyd.params_dict(fit.params),
                "standard_errors": {k: _finite(v) for k, v in btyd.params_dict(fit.standard_errors).items()},
                "log_likelihood": fit.log_likelihood,
                "customers": int(fit.n_customers),
                "converged": fit.converged,
                "at_bound": fit.at_bound,
            }

        frame = self.customers
        out: dict[str, Any] = {
            "customers": len(frame),
            "repeat_buyers": int((frame["frequency"] > 0).sum()),
            "transactions": int(frame["order_count"].sum()),
            "revenue": float(frame["revenue"].sum()),
            "as_of": self.as_of.isoformat(),
            "unit": {"D": "day", "W": "week"}[self.unit],
            "horizon_days": self.horizon_days,
            "clv_months": self.clv_months,
            "monthly_discount_rate": self.discount_rate,
            "margin": self.margin,
            "compressed_rows": self.compressed_rows,
            "bgnbd": fit_dict(self.bgnbd),
            "gamma_gamma": {**fit_dict(self.gamma_gamma), "excluded_non_positive_spend": self.spend_excluded},
            "segments": self.segment_counts,
            "tiers": {"abc": self.abc_counts, "value": self.tier_counts},
            "totals": {
                "expected_purchases": float(frame["expected_purchases"].sum()),
                "clv": float(frame["clv"].sum()),
                "mean_p_alive": float(frame["p_alive"].mean()),
            },
            "calibration": self.calibration.to_dict(orient="records"),
            "holdout": None,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
        if self.holdout is not None:
            out["holdout"] = {
                "start": self.holdout.start.isoformat(),
                "end": self.holdout.end.isoformat(),
                "actual_repeat_purchases": self.holdout.actual,
                "predicted_repeat_purchases": self.holdout.predicted,
            }
        return out


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


# --- summary in one scan -------------------------------------------------------------------------------------


def _as_of_date(as_of: dt.date | str) -> dt.date:
    try:
        return pd.Timestamp(as_of).date()
    except (ValueError, TypeError) as error:
        raise AnalyticsInputError(f"as_of {as_of!r} is not a date (use YYYY-MM-DD)") from error


@ibis.udf.scalar.builtin(name="list_unique")
def _list_unique(values: list[int]) -> int:  # type: ignore[empty-body]
    """DuckDB's ``list_unique``: the number of distinct non-NULL elements of a list."""


@ibis.udf.agg.builtin(name="arg_min")
def _arg_min(arg: float, by: dt.date) -> float:  # type: ignore[empty-body]
    """DuckDB's ``arg_min``: ``arg`` on the row with the smallest ``by`` (Ibis' argmin becomes an ordered
    FIRST, for which DuckDB builds a sort key per row)."""


def _period_key(day: ir.DateValue, as_of: ir.DateValue | None, period: Unit) -> ir.IntegerValue:
    """Days counted back from ``as_of`` (``period="D"``: any origin will do) or the 7-day week, as in the engine."""
    if period == "D" or as_of is None:
        return day.delta(ibis.date("1970-01-01"), unit="day")
    return as_of.delta(day, unit="day") // _DAYS_PER_UNIT[period]


def _scan_expr(
    transactions: ir.Table,
    as_of: dt.date | None,
    customer_col: str,
    date_col: str,
    amount_col: str,
    period: Unit,
) -> ir.Table:
    """Per-customer aggregates in one GROUP BY customer; ``as_of`` None means "no row after the last one"."""
    as_of_value = ibis.date(as_of.isoformat()) if as_of is not None else None
    tx = transactions.select(
        customer_id=transactions[customer_col],
        day=engine._as_date(transactions[date_col]),
        amount=transactions[amount_col].cast("float64"),
    )
    tx = tx.mutate(key=_period_key(tx.day, as_of_value, period))
    # FILTER clauses cost about a fifth of the scan on DuckDB: only used when rows may lie after as_of.
    calibration = None if as_of_value is None else tx.day <= as_of_value
    is_duckdb = transactions._find_backend().name == "duckdb"

    def distinct_count(values: ir.IntegerColumn, where: ir.BooleanValue | None) -> ir.IntegerValue:
        # The length of the de-duplicated list of a customer's periods: on DuckDB about 5x cheaper than
        # COUNT(DISTINCT) or a (customer, period) GROUP BY, which keep a hash entry per purchase period.
        listed = values.collect(where=where)
        if is_duckdb:
            return _list_unique(listed)  # ibis' unique() adds NULL handling that repeats the aggregate 3 times
        return listed.unique().length()

    aggregates: dict[str, ir.Value] = {
        "n_periods": distinct_count(tx.key, calibration),
        "first_purchase": tx.day.min(where=calibration),
        "last_purchase": tx.day.max(where=calibration),
        "revenue": tx.amount.sum(where=calibration),
        "order_count": tx.count(where=calibration),
        # One row's amount in the first period; its whole amount when the customer has one row per period.
        "first_row_amount": (
            _arg_min(tx.amount, tx.day, where=calibration) if is_duckdb else tx.amount.argmin(tx.day, where=calibration)
        ),
        # Checks of unvalidated input, as cheap aggregates (DuckDB sorts NaN above +inf, so max shows both).
        "dated_rows": tx.day.count(),
        "amount_rows": tx.amount.count(),
        "all_rows": tx.count(),
        "min_amount": tx.amount.min(),
        "max_amount": tx.amount.max(),
    }
    # Rows after as_of (dated_rows - order_count): their purchase days, the holdout, are fetched by a second
    # query only if there are any. Collecting them here cost a fifth of the scan even when there were none.
    return tx.group_by("customer_id").aggregate(**aggregates)


def _later_purchase_days(
    transactions: ir.Table, as_of: dt.date, customer_col: str, date_col: str
) -> tuple[pd.Series, np.ndarray]:
    """(customer ids, days after ``as_of``): the distinct purchase days after ``as_of``, one row each."""
    as_of_value = ibis.date(as_of.isoformat())
    tx = transactions.select(customer_id=transactions[customer_col], day=engine._as_date(transactions[date_col]))
    tx = tx.filter(tx.day > as_of_value)
    days = tx.select("customer_id", ahead=tx.day.delta(as_of_value, unit="day")).distinct().to_pandas()
    return days["customer_id"], days["ahead"].to_numpy(dtype=np.int64)


def summarise(
    transactions: ir.Table,
    *,
    as_of: dt.date | str | None,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    unit: Unit = "W",
    period: Unit = "D",
) -> tuple[pd.DataFrame, pd.DataFrame, dt.date]:
    """The per-customer summary of :func:`engine.summary_frame` in one scan, plus the holdout's purchases.

    Returns ``(summary, holdout, as_of)``: ``summary`` equals ``engine.summary_frame(...)`` (same columns,
    definitions and order); ``holdout`` has one row per purchase period after ``as_of`` (periods counted as
    ``engine.holdout_expr`` does) of a customer in the summary: ``row`` (position in ``summary``) and
    ``days_after`` (the period's first day, in days after ``as_of``); ``as_of`` is the calibration end used
    (the last purchase date when None).

    Why not ``engine.summary_expr``: it groups by (customer, period) first, a hash table with one entry per
    purchase period (9.9 million for the 1M-customer benchmark), then by customer; on DuckDB that costs twice
    this scan. This groups by customer only: the number of periods is the length of the de-duplicated list of
    the customer's periods; the first period's amount is the amount of its row when every period of the
    customer has one row (always, when a customer buys at most once a period); the customers with several
    rows in some period get their first-period amount from a second query restricted to them. Recency and T
    follow from the first and last purchase dates. The scan also checks null dates and bad or negative
    amounts, for input that was not validated (see :func:`open_transactions`), and counts the rows after
    ``as_of``: only if there are any does a second query fetch the holdout's purchase days. Backends without
    the needed aggregates fall back to ``engine.summary_frame``.
    """
    engine._check_unit("unit", unit)
    engine._check_unit("period", period)
    engine._require_columns(
        transactions, {"customer": customer_col, "date": date_col, "amount": amount_col}, "transactions"
    )
    as_of_day = _as_of_date(as_of) if as_of is not None else None
    if as_of_day is None and period != "D":  # weekly periods are counted back from as_of: find it first
        as_of_day = _last_date(transactions, date_col)
    try:
        # Sorted by customer id like engine.summary_expr, so that ties (ABC tiers keep input order) are stable;
        # the engine sorts on all its threads, faster than sorting the Arrow result here.
        scan = _scan_expr(transactions, as_of_day, customer_col, date_col, amount_col, period).order_by("customer_id")
        frame = scan.to_pyarrow().to_pandas(date_as_object=False)
    except (IbisError, NotImplementedError):
        return _summarise_with_engine(transactions, as_of_day, customer_col, date_col, amount_col, unit, period)
    _check_scan(frame, customer_col, date_col, amount_col)
    if as_of_day is None:
        as_of_day = pd.Timestamp(frame["last_purchase"].max()).date()
    kept = (frame["order_count"] > 0).to_numpy()
    frame = frame[kept].reset_index(drop=True)
    if frame.empty:
        raise AnalyticsInputError(f"no purchase on or before {as_of_day}: choose a later as_of")
    frame["n_periods"] = frame["n_periods"].fillna(0).astype("int64")  # an empty filtered list is NULL
    holdout = _holdout_periods(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), period)
    if (frame["dated_rows"] > frame["order_count"]).any():  # rows after as_of
        holdout = _holdout_for(frame["customer_id"], transactions, as_of_day, customer_col, date_col, period)
    first_day = pd.to_datetime(frame["first_purchase"]).astype("datetime64[ns]").to_numpy()
    last_day = pd.to_datetime(frame["last_purchase"]).astype("datetime64[ns]").to_numpy()
    as_of_ns = np.datetime64(as_of_day.isoformat(), "ns")
    step = _DAYS_PER_UNIT[period]
    first_age = ((as_of_ns - first_day) // np.timedelta64(1, "D")) // step * step
    last_age = ((as_of_ns - last_day) // np.timedelta64(1, "D")) // step * step
    duplicated = (frame["order_count"] > frame["n_periods"]).to_numpy()
    first_amount = frame["first_row_amount"].to_numpy(dtype=np.float64, copy=True)
    if duplicated.any():
        wanted = pd.DataFrame({"customer_id": frame["customer_id"][duplicated], "first_age": first_age[duplicated]})
        first_amount[duplicated] = _first_period_amounts(
            transactions, wanted, as_of_day, customer_col, date_col, amount_col, period
        ).to_numpy()
    days = float(_DAYS_PER_UNIT[unit])
    frequency = frame["n_periods"].to_numpy(dtype=np.int64) - 1
    revenue = frame["revenue"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (revenue - first_amount) / np.maximum(frequency, 1), 0.0)
    summary = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].array,  # kept in Arrow: no million Python strings
            "frequency": frequency,
            "recency": (first_age - last_age).astype(np.float64) / days,
            "T": first_age.astype(np.float64) / days,
            "monetary_value": monetary,
            "first_purchase": first_day,
            "last_purchase": last_day,
            "order_count": frame["order_count"].to_numpy(dtype=np.int64),
            "revenue": revenue,
        }
    )
    return summary, holdout, as_of_day


def _summarise_with_engine(
    transactions: ir.Table,
    as_of: dt.date | None,
    customer_col: str,
    date_col: str,
    amount_col: str,
    unit: Unit,
    period: Unit,
) -> tuple[pd.DataFrame, pd.DataFrame, dt.date]:
    if as_of is None:
        as_of = _last_date(transactions, date_col)
    columns = {"customer_col": customer_col, "date_col": date_col, "amount_col": amount_col}
    summary = engine.summary_frame(transactions, as_of=as_of, unit=unit, period=period, **columns)
    holdout = _holdout_for(summary["customer_id"], transactions, as_of, customer_col, date_col, period)
    return summary, holdout, as_of


def _holdout_for(
    customer_ids: pd.Series, transactions: ir.Table, as_of: dt.date, customer_col: str, date_col: str, period: Unit
) -> pd.DataFrame:
    """:func:`_holdout_periods` of the purchases after ``as_of`` by the customers in ``customer_ids`` (rows)."""
    later_ids, days_after = _later_purchase_days(transactions, as_of, customer_col, date_col)
    rows = pd.Index(customer_ids).get_indexer(later_ids)
    known = rows >= 0
    return _holdout_periods(rows[known], days_after[known], period)


def _holdout_periods(row: np.ndarray, days_after: np.ndarray, period: Unit) -> pd.DataFrame:
    """Purchase periods after as_of: one row per (customer row, period) with the period's first day.

    Periods are counted as ``engine.holdout_expr`` does: day d after as_of (d >= 1) is in period d // length.
    """
    frame = pd.DataFrame({"row": row.astype(np.int64), "days_after": days_after.astype(np.int64)})
    frame["period"] = frame["days_after"] // _DAYS_PER_UNIT[period]
    firsts = frame.groupby(["row", "period"], as_index=False, sort=True)["days_after"].min()
    return firsts[["row", "days_after"]]


def _check_scan(frame: pd.DataFrame, customer_col: str, date_col: str, amount_col: str) -> None:
    problems = []
    if frame.empty:
        raise InputCheckFailed("the transactions table has no rows")
    ids = frame["customer_id"].astype(str)
    stripped = ids.str.strip()
    if (frame["customer_id"].isna() | (stripped == "")).any():
        problems.append(f"some rows have no customer id in column {customer_col!r}")
    elif (stripped != ids).any():
        problems.append(f"some customer ids in column {customer_col!r} have leading or trailing spaces")
    rows = frame["all_rows"]
    if (frame["dated_rows"] < rows).any():
        problems.append(f"{int((rows - frame['dated_rows']).sum())} row(s) have no date in column {date_col!r}")
    max_amount = frame["max_amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    if (frame["amount_rows"] < rows).any() or not np.isfinite(max_amount).all():
        problems.append(f"some rows have a missing or non-numeric amount in column {amount_col!r}")
    if (frame["min_amount"] < 0).any():
        problems.append(f"some rows have a negative amount in column {amount_col!r}; record returns separately")
    if problems:
        raise InputCheckFailed("; ".join(problems), problems=problems)


def _first_period_amounts(
    transactions: ir.Table,
    customers: pd.DataFrame,
    as_of: dt.date,
    customer_col: str,
    date_col: str,
    amount_col: str,
    period: Unit,
) -> pd.Series:
    """Total amount of each listed customer's first purchase period, aligned with ``customers``."""
    as_of_value = ibis.date(as_of.isoformat())
    days = _DAYS_PER_UNIT[period]
    tx = transactions.select(
        customer_id=transactions[customer_col],
        day=engine._as_date(transactions[date_col]),
        amount=transactions[amount_col].cast("float64"),
    )
    tx = tx.filter(tx.day <= as_of_value)
    days_before = as_of_value.delta(tx.day, unit="day")
    tx = tx.mutate(age=days_before if days == 1 else (days_before // days) * days)
    wanted = ibis.memtable(customers.reset_index(drop=True)).rename(first_customer="customer_id")
    wanted = wanted.cast({"first_customer": tx.customer_id.type()})
    joined = tx.inner_join(wanted, [tx.customer_id == wanted.first_customer, tx.age == wanted.first_age])
    sums = joined.group_by("customer_id").aggregate(amount=joined.amount.sum()).to_pandas()
    lookup = dict(zip(sums["customer_id"], sums["amount"], strict=True))
    return customers["customer_id"].map(lookup).astype("float64")


# --- files ---------------------------------------------------------------------------------------------------

_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%f", "%p", "%z", "%Z", "%c", "%X", "%T")


def open_transactions(
    path: str | Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None = None,
    *,
    column_names: list[str] | None = None,
    engine_name: Engine = "duckdb",
    spark: Any = None,
) -> tuple[ir.Table, bool]:
    """Open a transactions file for :func:`run_pipeline`; return (table, validated).

    CSV on DuckDB is read with typed columns (VARCHAR id, DATE or TIMESTAMP as the sniffer or ``date_format``
    says, DOUBLE amount) and whitespace text is split once into a table in memory; neither is validated here
    (``validated`` False): the pipeline's one scan checks them, and a problem it finds (or a value the typed
    reader rejects) makes :func:`run_file` call ``engine.read_transactions``, whose error lists every problem
    with examples. Parquet with typed dates and numeric amounts is read as it is, unvalidated likewise; other
    Parquet files and Spark go through ``engine.read_transactions`` / :func:`engine.read_transactions_spark`
    (validated). Columns of the result: ``customer_id``, ``purchased_at``, ``amount``.
    """
    path = Path(path)
    if engine_name == "spark":
        table = engine.read_transactions_spark(
            path, customer_col, date_col, amount_col, date_format, column_names=column_names, session=spark
        )
        return table, True
    kind = engine._detect_format(path, "auto") if path.is_file() and path.stat().st_size > 0 else None
    if kind == "whitespace":
        return _open_whitespace(path, customer_col, date_col, amount_col, date_format, column_names), False
    if kind == "parquet" and date_format is None:
        typed_table = _open_typed_parquet(path, customer_col, date_col, amount_col, column_names)
        if typed_table is not None:
            return typed_table, False
    if kind != "csv":
        table = engine.read_transactions(
            path, customer_col, date_col, amount_col, date_format, column_names=column_names
        )
        return table, True
    con = ibis.duckdb.connect()
    options: dict[str, Any] = {"header": column_names is None}
    if column_names is not None:
        options["names"] = column_names
    sniffed = con.read_csv(str(path), **options)
    engine._require_columns(sniffed, {"customer": customer_col, "date": date_col, "amount": amount_col}, str(path))
    date_type = sniffed[date_col].type()
    if date_format is not None:
        timed = any(d in date_format for d in _TIME_DIRECTIVES)
        date_sql = "TIMESTAMP" if timed else "DATE"
        options["timestampformat" if timed else "dateformat"] = date_format
    elif date_type.is_date() or date_type.is_timestamp():
        date_sql = "DATE" if date_type.is_date() else "TIMESTAMP"
    else:  # the sniffer did not recognise the dates: let read_transactions report or parse them
        table = engine.read_transactions(
            path, customer_col, date_col, amount_col, date_format, column_names=column_names
        )
        return table, True
    columns = {name: "VARCHAR" for name in sniffed.columns}
    columns.update({date_col: date_sql, amount_col: "DOUBLE"})
    options.pop("names", None)
    typed = con.read_csv(str(path), columns=columns, auto_detect=False, **options)
    # Ids are not stripped here (TRIM on every row costs as much as the aggregation); summarise() checks the
    # distinct ids and run_file() falls back to the validating reader if any has surrounding spaces.
    table = typed.select(customer_id=typed[customer_col], purchased_at=typed[date_col], amount=typed[amount_col])
    return table, False


def _open_typed_parquet(
    path: Path, customer_col: str, date_col: str, amount_col: str, column_names: list[str] | None
) -> ir.Table | None:
    """A Parquet file whose dates are stored as DATE or TIMESTAMP and amounts as numbers, read as it is.

    Such a file needs no parsing, so the validating reader's extra pass (a fifth of the time on 100 million
    rows) is skipped: the summary's scan checks nulls and negative or non-finite amounts as for CSV. Returns
    None (use ``engine.read_transactions``) when the dates are text or the amounts are not numeric.
    """
    raw = engine._read_raw(ibis.duckdb.connect(), path, "parquet", column_names)
    engine._require_columns(raw, {"customer": customer_col, "date": date_col, "amount": amount_col}, str(path))
    date_type, amount_type = raw[date_col].type(), raw[amount_col].type()
    if not (date_type.is_date() or date_type.is_timestamp()) or not amount_type.is_numeric():
        return None
    customer = raw[customer_col]
    return raw.select(
        customer_id=customer if customer.type().is_string() else customer.cast("string"),
        purchased_at=raw[date_col],
        amount=raw[amount_col].cast("float64"),
    )


def _open_whitespace(
    path: Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None,
    column_names: list[str] | None,
) -> ir.Table:
    """Whitespace-separated text, split into fields once and kept in DuckDB's memory, not validated.

    Splitting lines with a regular expression costs more than the analysis of a file like CDNOW's; the
    validating reader (``engine.read_transactions``) would split them a second time, and the summary once or
    twice more. Values that do not parse become NULL, which the summary's checks catch (see :func:`run_file`).
    """
    con = ibis.duckdb.connect()
    raw = engine._read_whitespace(con, path, column_names)
    engine._require_columns(raw, {"customer": customer_col, "date": date_col, "amount": amount_col}, str(path))
    parsed = raw.select(
        customer_id=raw[customer_col].strip(),
        purchased_at=engine._parse_date(raw[date_col], date_format),
        amount=engine._parse_amount(raw[amount_col]),
    )
    return con.create_table(f"transactions_{uuid.uuid4().hex[:12]}", parsed, temp=True)


def run_file(
    path: str | Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None = None,
    *,
    column_names: list[str] | None = None,
    engine_name: Engine = "duckdb",
    spark: Any = None,
    as_of: dt.date | str | None = None,
    **settings: Any,
) -> tuple[PipelineResult, ir.Table]:
    """Open ``path`` (:func:`open_transactions`), run :func:`run_pipeline` on it; return the result and the table.

    The table (columns ``customer_id``, ``purchased_at``, ``amount``) is returned for reports that need more
    than the summary (cohorts). Without ``as_of``, the calibration ends on the last purchase date in the file
    (no holdout). Errors in the file raise AnalyticsInputError listing every problem (see
    ``engine.read_transactions``).
    """
    started = time.perf_counter()
    table, validated = open_transactions(
        path,
        customer_col,
        date_col,
        amount_col,
        date_format,
        column_names=column_names,
        engine_name=engine_name,
        spark=spark,
    )
    try:
        return _with_open_time(run_pipeline(table, as_of=as_of, **settings), started), table
    except Exception as error:
        if validated or not (isinstance(error, InputCheckFailed) or _is_conversion_error(error)):
            raise
    # The fast typed read met a value it rejects, or the scan's checks failed: the validating reader raises an
    # error that lists every problem with examples, or returns a clean table (e.g. ids with spaces, stripped).
    started = time.perf_counter()
    checked = engine.read_transactions(path, customer_col, date_col, amount_col, date_format, column_names=column_names)
    return _with_open_time(run_pipeline(checked, as_of=as_of, **settings), started), checked


def _with_open_time(result: PipelineResult, started: float) -> PipelineResult:
    """Add the time spent opening (and, for validated formats, checking) the file as the stage ``open``."""
    elapsed = time.perf_counter() - started
    open_time = elapsed - result.timings["total"]
    result.timings.update({"open": open_time, "total": elapsed})
    return result


def _is_conversion_error(error: Exception) -> bool:
    # DuckDB raises ConversionException / InvalidInputException from the typed CSV reader on a bad value.
    return type(error).__module__.startswith(("duckdb", "_duckdb"))


# --- the pipeline ----------------------------------------------------------------------------------------------


@contextmanager
def _stage(name: str, timings: dict[str, float], progress: ProgressCallback | None) -> Iterator[None]:
    if progress is not None:
        progress(name)
    started = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - started


def run_pipeline(
    transactions: ir.Table,
    *,
    as_of: dt.date | str | None = None,
    horizon_days: int = 365,
    unit: Unit = "W",
    period: Unit = "D",
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    discount_rate: float = 0.01,
    annual_discount_rate: float | None = None,
    margin: float = 1.0,
    abc_shares: tuple[float, float] = (0.80, 0.15),
    tier_shares: tuple[float, float] = (0.20, 0.30),
    progress: ProgressCallback | None = None,
) -> PipelineResult:
    """Analyse a customer base end to end; see the module docstring for the stages and references.

    ``as_of`` defaults to the last purchase date in the data. ``horizon_days`` sets the horizon of
    ``expected_purchases`` and, rounded to whole months, of CLV. ``discount_rate`` is monthly (0.01 = 1% a
    month); ``annual_discount_rate``, if given, replaces it by its monthly equivalent; ``margin`` is the share
    of revenue kept. ``abc_shares`` are the A and B revenue shares; ``tier_shares`` the high and medium shares
    of customers by CLV. ``progress`` is called with each stage name (:data:`STAGES`) as it starts.
    Raises AnalyticsInputError for unusable input (no rows, bad values, nobody with a repeat purchase ...).
    """
    if horizon_days < 1:
        raise AnalyticsInputError("horizon_days must be at least 1")
    timings: dict[str, float] = {}
    with _stage("summary", timings, progress):
        summary, later, as_of_day = summarise(
            transactions,
            as_of=as_of,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            unit=unit,
            period=period,
        )
    x = summary["frequency"].to_numpy(dtype=np.float64)
    t_x = summary["recency"].to_numpy(dtype=np.float64)
    T = summary["T"].to_numpy(dtype=np.float64)
    m = summary["monetary_value"].to_numpy(dtype=np.float64)

    with _stage("fit", timings, progress):
        compressed = engine.compress_summary(summary[["frequency", "recency", "T"]])
        assert isinstance(compressed, pd.DataFrame)
        repeat = summary.loc[summary["frequency"] > 0, ["frequency", "monetary_value"]]
        # Gamma-Gamma is a model of positive spend: repeat buyers whose repeat purchases were all free are left
        # out of its fit (and counted); their expected spend still follows from the fitted model.
        paying = repeat["monetary_value"] > 0
        # Fitted on the customers themselves: with amounts in cents few (x, m) pairs repeat, so grouping them
        # cost more than it saved, and the likelihood's per-row work is one logarithm (see btyd).
        spend_rows = repeat[paying].assign(size=1)
        with ThreadPoolExecutor(max_workers=2) as pool:
            count_fit = pool.submit(
                _timed,
                btyd.fit_bgnbd,
                compressed["frequency"],
                compressed["recency"],
                compressed["T"],
                compressed["count"],
            )
            spend_fit = pool.submit(
                _timed,
                btyd.fit_gamma_gamma,
                spend_rows["frequency"],
                spend_rows["monetary_value"],
                spend_rows["size"],
            )
            bgnbd, timings["fit_bgnbd"] = count_fit.result()
            gamma_gamma, timings["fit_gamma_gamma"] = spend_fit.result()

    months = max(1, round(horizon_days / DAYS_PER_MONTH))
    if annual_discount_rate is not None:
        discount_rate = float((1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0)
    with _stage("predict", timings, progress):
        days_per_unit = _DAYS_PER_UNIT[unit]
        groups = _alive_groups(x, T, days_per_unit)
        p_alive = btyd.bgnbd_probability_alive(bgnbd.params, x, t_x, T)
        horizons = np.array([horizon_days / days_per_unit])[:, None]
        purchases = groups.alive_purchases(bgnbd.params, horizons)[0] * p_alive
        spend = btyd.gamma_gamma_expected_spend(gamma_gamma.params, x, m)
        clv_alive = customer_lifetime_value(
            bgnbd.params,
            groups.x,
            groups.T,
            groups.T,
            np.ones_like(groups.x),
            months=months,
            discount_rate=discount_rate,
            margin=margin,
            unit=unit,
        ) / btyd.bgnbd_probability_alive(bgnbd.params, groups.x, groups.T, groups.T)
        clv = clv_alive[groups.inverse] * p_alive * spend

    with _stage("rfm", timings, progress):
        scores = rfm.rfm_scores(T - t_x, x + 1, summary["revenue"].to_numpy())

    with _stage("tiers", timings, progress):
        abc = rfm.abc_tier_codes(summary["revenue"].to_numpy(), a_share=abc_shares[0], b_share=abc_shares[1])
        value = rfm.value_tier_codes(clv, high_share=tier_shares[0], medium_share=tier_shares[1])
        customers = summary.assign(
            p_alive=p_alive,
            expected_purchases=purchases,
            expected_spend=spend,
            clv=clv,
            r_score=scores["r_score"].to_numpy(),
            f_score=scores["f_score"].to_numpy(),
            m_score=scores["m_score"].to_numpy(),
            fm_score=scores["fm_score"].to_numpy(),
            # Categoricals built from codes: a million Python strings would cost more to store and count
            # than the tiering itself.
            segment=scores["segment"].array,
            abc_tier=_categorical(abc, list(rfm.ABC_TIERS)),
            value_tier=_categorical(value, _VALUE_TIERS),
        )
        segment_counts = _counts(customers["segment"], _SEGMENTS)
        abc_counts = _counts(customers["abc_tier"], ["A", "B", "C"])
        tier_counts = _counts(customers["value_tier"], _VALUE_TIERS)

    with _stage("diagnostics", timings, progress):
        calibration = calibration_histogram(bgnbd.params, x, T)
        holdout = None
        if len(later):
            holdout = _holdout(later, p_alive, groups, bgnbd.params, as_of_day, unit)
    timings["total"] = sum(v for k, v in timings.items() if k in STAGES)
    return PipelineResult(
        customers=customers,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        segment_counts=segment_counts,
        abc_counts=abc_counts,
        tier_counts=tier_counts,
        calibration=calibration,
        holdout=holdout,
        as_of=as_of_day,
        unit=unit,
        period=period,
        horizon_days=horizon_days,
        clv_months=months,
        discount_rate=discount_rate,
        margin=margin,
        compressed_rows=len(compressed),
        spend_excluded=int((~paying).sum()),
        timings=timings,
    )


_SEGMENTS = list(rfm.SEGMENT_LABELS)
_VALUE_TIERS = list(rfm.VALUE_TIERS)


def _categorical(codes: Any, categories: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8), categories=categories)


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    return fn(*args), time.perf_counter() - started


def _counts(values: pd.Series, keys: list[str]) -> dict[str, int]:
    counts = values.value_counts()
    return {key: int(counts.get(key, 0)) for key in keys}


def _last_date(transactions: ir.Table, date_col: str) -> dt.date:
    if date_col not in transactions.columns:
        engine._require_columns(transactions, {"date": date_col}, "transactions")
    last = engine._as_date(transactions[date_col]).max().to_pyarrow().as_py()
    if last is None:
        raise AnalyticsInputError("the transactions table has no dated rows")
    return pd.Timestamp(last).date()


@dataclass(frozen=True)
class _AliveGroups:
    """Customers grouped by (x, T), the arguments of A(t; x, T) = E[Y(t) | alive, x, T]."""

    x: np.ndarray
    T: np.ndarray
    inverse: np.ndarray

    def alive_purchases(self, params: btyd.BGNBDParams, horizons: np.ndarray) -> np.ndarray:
        """A(t; x, T) for each horizon (rows) and customer (columns), from one evaluation per group.

        bgnbd_expected_purchases(t, x, T, T) = A(t; x, T) * P(alive | x, T, T), and P(alive | x, T, T) =
        (b+x-1)/(a+b+x-1) > 0 for x > 0 (1 for x = 0), so A is that ratio.
        """
        per_group = btyd.bgnbd_expected_purchases(params, horizons, self.x, self.T, self.T)
        per_group = per_group / btyd.bgnbd_probability_alive(params, self.x, self.T, self.T)
        return np.asarray(per_group[:, self.inverse])


def _alive_groups(x: np.ndarray, T: np.ndarray, days_per_unit: int) -> _AliveGroups:
    # T is a whole number of days (ages are counted in days), so (x, T in days) is an exact integer key.
    t_days = np.rint(T * days_per_unit).astype(np.int64)
    key = x.astype(np.int64) * (int(t_days.max()) + 1) + t_days
    inverse, unique = pd.factorize(key, sort=False)
    span = int(t_days.max()) + 1
    unique = np.asarray(unique)
    return _AliveGroups(
        x=(unique // span).astype(np.float64), T=(unique % span).astype(np.float64) / days_per_unit, inverse=inverse
    )


# --- diagnostics -----------------------------------------------------------------------------------------------


def bgnbd_pmf(params: btyd.BGNBDParams, t: np.ndarray, k: np.ndarray) -> np.ndarray:
    """P(X(t) = k) under BG/NBD, [FHL05] eq. 8, for times ``t`` (rows) and counts ``k`` (columns).

    P(X(t)=k) = B(a, b+k)/B(a, b) * NB(k; r, alpha/(alpha+t))
                + [k>0] B(a+1, b+k-1)/B(a, b) * P(NB(r, alpha/(alpha+t)) >= k),
    with NB the negative binomial pmf G(r+k)/(G(r) k!) p^r (1-p)^k, and its survival function written as the
    regularised incomplete beta I_{1-p}(k, r).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    tt = np.asarray(t, dtype=np.float64)[:, None]
    kk = np.asarray(k, dtype=np.float64)[None, :]
    log_p, log_q = np.log(alpha) - np.log(alpha + tt), np.log(tt) - np.log(alpha + tt)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_nb = gammaln(r + kk) - gammaln(r) - gammaln(kk + 1) + r * log_p + np.where(kk > 0, kk * log_q, 0.0)
        first = np.exp(betaln(a, b + kk) - betaln(a, b) + log_nb)
        ks = np.maximum(kk, 1.0)
        second = np.exp(betaln(a + 1, b + ks - 1) - betaln(a, b)) * betainc(ks, r, np.exp(log_q))
    return np.asarray(first + np.where(kk > 0, second, 0.0))


def calibration_histogram(params: btyd.BGNBDParams, x: np.ndarray, T: np.ndarray) -> pd.DataFrame:
    """Customers by repeat purchases in the calibration period (0 .. 6, "7+"), actual and BG/NBD-expected."""
    top = CALIBRATION_BUCKETS - 1
    unique_T, inverse = np.unique(T, return_inverse=True)
    weights = np.bincount(inverse, minlength=len(unique_T)).astype(np.float64)
    pmf = bgnbd_pmf(params, unique_T, np.arange(top))
    expected = weights @ pmf
    expected = np.append(expected, len(x) - expected.sum())
    actual = np.bincount(np.minimum(x, top).astype(np.int64), minlength=top + 1)
    labels = [str(i) for i in range(top)] + [f"{top}+"]
    return pd.DataFrame({"repeat_purchases": labels, "actual": actual.astype(np.int64), "expected": expected})


def _holdout(
    later: pd.DataFrame,
    p_alive: np.ndarray,
    groups: _AliveGroups,
    params: btyd.BGNBDParams,
    as_of: dt.date,
    unit: Unit,
) -> Holdout:
    """Weekly cumulative repeat purchases after ``as_of``: actual (calibration customers) against predicted."""
    ahead = later["days_after"].to_numpy()
    end = as_of + dt.timedelta(days=int(ahead.max()))
    weeks = max(1, int(np.ceil((end - as_of).days / 7)))
    week_of = ((ahead - 1) // 7 + 1).astype(np.int64)
    actual = np.cumsum(np.bincount(week_of, minlength=weeks + 1)[1:])
    horizons = (np.arange(1, weeks + 1, dtype=np.float64) * 7 / _DAYS_PER_UNIT[unit])[:, None]
    alive_by_group = np.bincount(groups.inverse, weights=p_alive, minlength=len(groups.x))
    per_group = btyd.bgnbd_expected_purchases(params, horizons, groups.x, groups.T, groups.T)
    per_group = per_group / btyd.bgnbd_probability_alive(params, groups.x, groups.T, groups.T)
    predicted = per_group @ alive_by_group
    last_horizon = np.array([[(end - as_of).days / _DAYS_PER_UNIT[unit]]])
    total_predicted = float(
        (
            btyd.bgnbd_expected_purchases(params, last_horizon, groups.x, groups.T, groups.T)
            / btyd.bgnbd_probability_alive(params, groups.x, groups.T, groups.T)
        )[0]
        @ alive_by_group
    )
    weekly = pd.DataFrame({"week": np.arange(1, weeks + 1), "actual": actual, "predicted": predicted})
    return Holdout(
        start=as_of + dt.timedelta(days=1), end=end, actual=len(later), predicted=total_predicted, weekly=weekly
    )

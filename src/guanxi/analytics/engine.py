"""Per-customer purchase summaries as Ibis expressions, and validated loading of transaction files.

The summary is the input of the BTYD models (``guanxi.analytics.btyd``) and of RFM (``guanxi.analytics.rfm``).
It is ONE Ibis expression, so the same code runs on SQLite, PostgreSQL, DuckDB (files) and, later, PySpark:
the engine does the grouping, only the small result comes back to Python.

Definitions (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an alternative to the Pareto/NBD
model", Marketing Science 24(2), section 2; the same as lifetimes' ``summary_data_from_transaction_data``):

* Transactions are grouped into *purchase periods*: calendar days (``period="D"``), or 7-day weeks counted
  back from ``as_of`` (``period="W"``: week 0 is the 7 days ending on ``as_of``). Several purchases in one
  period are one transaction whose amount is their sum.
* ``frequency`` x: number of purchase periods minus one (repeat purchases).
* ``recency`` t_x: time from the first to the last purchase period.
* ``T``: time from the first purchase period to ``as_of`` (the calibration end, inclusive: a purchase on
  ``as_of`` counts; later purchases are ignored).
* ``monetary_value``: mean amount of the repeat periods (the first period excluded), 0 when x = 0.
* ``first_purchase``, ``last_purchase`` (dates), ``order_count`` (rows, before grouping into periods),
  ``revenue`` (all amounts up to ``as_of``, first period included).

Times are in ``unit`` ("D" days, "W" weeks = days / 7, fractional when ``period="D"``). The CDNOW results of
Fader, Hardie & Lee use ``period="D", unit="W"``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from guanxi.analytics.errors import AnalyticsInputError

Unit = Literal["D", "W"]
FileFormat = Literal["auto", "csv", "whitespace", "parquet"]

SUMMARY_COLUMNS = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "first_purchase",
    "last_purchase",
    "order_count",
    "revenue",
)
_DAYS_PER_UNIT = {"D": 1, "W": 7}
_EXAMPLES = 3


def _check_unit(name: str, value: str) -> None:
    if value not in _DAYS_PER_UNIT:
        raise AnalyticsInputError(f"{name} must be 'D' (days) or 'W' (weeks), not {value!r}")


def _as_date(column: ir.Column) -> ir.DateValue:
    dtype = column.type()
    if dtype.is_date():
        return column
    if dtype.is_timestamp():
        return column.date()
    if dtype.is_string():
        return column.cast("timestamp").date()
    raise AnalyticsInputError(f"date column {column.get_name()!r} has type {dtype}, expected a date or timestamp")


def _require_columns(table: ir.Table, columns: dict[str, str], source: str) -> None:
    missing = [f"{role} column {name!r}" for role, name in columns.items() if name not in table.columns]
    if missing:
        available = ", ".join(repr(c) for c in table.columns)
        raise AnalyticsInputError(f"{source}: missing {' and '.join(missing)} (columns present: {available})")


def summary_expr(
    transactions: ir.Table,
    *,
    as_of: dt.date | str,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    unit: Unit = "D",
    period: Unit = "D",
) -> ir.Table:
    """Build the per-customer BTYD summary of a transactions table as one Ibis expression.

    Input columns: ``customer_col`` (any type, one value per customer), ``date_col`` (date or timestamp; the
    calendar date of a timestamp is used), ``amount_col`` (numeric, >= 0). ``as_of`` is the calibration end
    (inclusive); rows after it are excluded. ``unit`` is the time unit of ``recency`` and ``T``; ``period`` is
    the grouping of purchases (see the module docstring). Output: ``SUMMARY_COLUMNS``, one row per customer
    with at least one purchase on or before ``as_of``, ordered by ``customer_id``.
    """
    _check_unit("unit", unit)
    _check_unit("period", period)
    _require_columns(transactions, {"customer": customer_col, "date": date_col, "amount": amount_col}, "transactions")
    as_of_date = ibis.date(pd.Timestamp(as_of).date().isoformat())
    tx = transactions.select(
        customer_id=transactions[customer_col],
        day=_as_date(transactions[date_col]),
        amount=transactions[amount_col].cast("float64"),
    )
    tx = tx.filter(tx.day <= as_of_date)
    days_before = as_of_date.delta(tx.day, unit="day")
    period_days = _DAYS_PER_UNIT[period]
    # Periods are counted backwards from as_of, so as_of always closes a period and T is whole periods.
    tx = tx.mutate(age=days_before if period_days == 1 else (days_before // period_days) * period_days)
    periods = tx.group_by(["customer_id", "age"]).aggregate(
        amount=tx.amount.sum(), orders=tx.count(), first_day=tx.day.min(), last_day=tx.day.max()
    )
    periods = periods.mutate(first_age=periods.age.max().over(group_by=periods.customer_id))
    is_repeat = periods.age != periods.first_age
    per_customer = periods.group_by("customer_id").aggregate(
        n_periods=periods.count(),
        first_age=periods.age.max(),
        last_age=periods.age.min(),
        repeat_revenue=periods.amount.sum(where=is_repeat),
        revenue=periods.amount.sum(),
        order_count=periods.orders.sum(),
        first_purchase=periods.first_day.min(),
        last_purchase=periods.last_day.max(),
    )
    days = float(_DAYS_PER_UNIT[unit])
    frequency = (per_customer.n_periods - 1).cast("int64")
    monetary = ibis.ifelse(frequency > 0, per_customer.repeat_revenue.coalesce(0.0) / frequency.cast("float64"), 0.0)
    return per_customer.select(
        customer_id=per_customer.customer_id,
        frequency=frequency,
        recency=(per_customer.first_age - per_customer.last_age).cast("float64") / days,
        T=per_customer.first_age.cast("float64") / days,
        monetary_value=monetary.cast("float64"),
        first_purchase=per_customer.first_purchase,
        last_purchase=per_customer.last_purchase,
        order_count=per_customer.order_count.cast("int64"),
        revenue=per_customer.revenue.cast("float64"),
    ).order_by("customer_id")


def holdout_expr(
    transactions: ir.Table,
    *,
    as_of: dt.date | str,
    holdout_end: dt.date | str,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    period: Unit = "D",
) -> ir.Table:
    """Purchases per customer in the holdout window (``as_of``, ``holdout_end``], for model validation.

    Output columns: ``customer_id``, ``holdout_purchases`` (purchase periods in the window, grouped as in
    :func:`summary_expr`; a period that straddles ``as_of`` cannot occur for ``period="D"``) and
    ``holdout_revenue``. Only customers with a purchase in the window appear.
    """
    _check_unit("period", period)
    _require_columns(transactions, {"customer": customer_col, "date": date_col, "amount": amount_col}, "transactions")
    start = ibis.date(pd.Timestamp(as_of).date().isoformat())
    end = ibis.date(pd.Timestamp(holdout_end).date().isoformat())
    tx = transactions.select(
        customer_id=transactions[customer_col],
        day=_as_date(transactions[date_col]),
        amount=transactions[amount_col].cast("float64"),
    )
    tx = tx.filter((tx.day > start) & (tx.day <= end))
    tx = tx.mutate(age=tx.day.delta(start, unit="day") // _DAYS_PER_UNIT[period])
    periods = tx.group_by(["customer_id", "age"]).aggregate(amount=tx.amount.sum())
    return (
        periods.group_by("customer_id")
        .aggregate(holdout_purchases=periods.count().cast("int64"), holdout_revenue=periods.amount.sum())
        .order_by("customer_id")
    )


def compress_summary(summary: ir.Table | pd.DataFrame) -> ir.Table | pd.DataFrame:
    """Collapse a summary into its distinct (frequency, recency, T) rows with a ``count`` weight.

    The BG/NBD and Pareto/NBD likelihoods depend on a customer only through (x, t_x, T), so fitting on the
    compressed rows with weights gives the same estimates with far fewer rows. Works on an Ibis table (runs
    on the engine) or a pandas frame; returns the same kind, ordered by the three keys.
    """
    keys = ["frequency", "recency", "T"]
    if isinstance(summary, pd.DataFrame):
        missing = [k for k in keys if k not in summary.columns]
        if missing:
            raise AnalyticsInputError(f"summary is missing column(s) {missing}")
        return _compress_frame(summary, keys)
    _require_columns(summary, {k: k for k in keys}, "summary")
    return summary.group_by(keys).aggregate(count=summary.count().cast("int64")).order_by(keys)


def _compress_frame(summary: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The distinct rows of ``summary[keys]`` in key order, with a ``count``, by hashing one integer per row.

    Each column is factorised with sorted codes, the codes are combined into one int64 whose order is the
    rows' lexicographic order, and the distinct values of that are counted: on a million customers about half
    the time of a three-column pandas GROUP BY. Falls back to the GROUP BY when the combined code could
    overflow.
    """
    if summary.empty:
        return pd.DataFrame({**{k: summary[k].to_numpy() for k in keys}, "count": np.zeros(0, dtype=np.int64)})
    factorised = [pd.factorize(summary[k].to_numpy(), sort=True) for k in keys]
    sizes = [len(uniques) for _, uniques in factorised]
    if float(np.prod(sizes, dtype=np.float64)) >= 2.0**62:
        return summary.groupby(keys, as_index=False, sort=True).size().rename(columns={"size": "count"})
    combined = np.zeros(len(summary), dtype=np.int64)
    for (codes, _), size in zip(factorised, sizes, strict=True):
        combined = combined * size + codes
    distinct, counts = np.unique(combined, return_counts=True)
    columns: dict[str, np.ndarray] = {}
    remainder = distinct
    for key, (_, uniques), size in reversed(list(zip(keys, factorised, sizes, strict=True))):
        columns[key] = np.asarray(uniques)[remainder % size]
        remainder = remainder // size
    return pd.DataFrame({**{k: columns[k] for k in keys}, "count": counts.astype(np.int64)})


# --- files ---------------------------------------------------------------------------------------------------


@ibis.udf.scalar.builtin(name="try_strptime")
def _try_strptime(value: str, fmt: str) -> dt.datetime:  # type: ignore[empty-body]
    """DuckDB's ``try_strptime``: NULL instead of an error, so bad dates can be reported, not crash."""


def _detect_format(path: Path, file_format: FileFormat) -> FileFormat:
    if file_format != "auto":
        return file_format
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if ".txt" in suffixes or ".dat" in suffixes:
        return "whitespace"
    return "csv"


def _read_whitespace(con: ibis.BaseBackend, path: Path, column_names: list[str] | None) -> ir.Table:
    # One VARCHAR column per line (the delimiter is a control character that text files do not contain),
    # then split on runs of whitespace: DuckDB's CSV reader cannot treat "  " as one separator.
    options = {"columns": {"line": "VARCHAR"}, "delim": "\x1f", "header": False, "quote": "", "escape": ""}
    lines = con.read_csv(str(path), auto_detect=False, **options)
    if column_names is None:
        first = lines.filter(lines.line.strip() != "").limit(1).to_pyarrow().column("line").to_pylist()
        if not first:
            raise AnalyticsInputError(f"{path}: the file has no rows")
        column_names = first[0].split()
        lines = con.read_csv(str(path), auto_detect=False, skip=1, **options)
    lines = lines.filter(lines.line.strip() != "")
    fields = lines.line.strip().re_split(r"\s+")
    return lines.select(**{name: fields[i] for i, name in enumerate(column_names)})


def _read_raw(con: ibis.BaseBackend, path: Path, file_format: FileFormat, column_names: list[str] | None) -> ir.Table:
    if file_format == "parquet":
        table = con.read_parquet(str(path))
        if column_names is not None:
            table = table.rename(dict(zip(column_names, table.columns, strict=False)))
        return table
    if file_format == "whitespace":
        return _read_whitespace(con, path, column_names)
    if column_names is not None:
        return con.read_csv(str(path), all_varchar=True, header=False, names=column_names)
    return con.read_csv(str(path), all_varchar=True)


def _parse_date(column: ir.Column, date_format: str | None) -> ir.TimestampValue:
    dtype = column.type()
    if dtype.is_timestamp():
        return column
    if dtype.is_date():
        return column.cast("timestamp")
    text = column.cast("string").strip()
    if date_format is not None:
        return _try_strptime(text, date_format)
    return text.try_cast("timestamp")


def _parse_amount(column: ir.Column) -> ir.FloatingValue:
    if column.type().is_numeric():
        return column.cast("float64")
    return column.cast("string").strip().try_cast("float64")


def _examples(table: ir.Table, condition: ir.BooleanValue, column: str) -> str:
    values = table.filter(condition).select(column).limit(_EXAMPLES).to_pyarrow().column(column).to_pylist()
    return ", ".join(repr(v) for v in values)


def _check_counts(
    path: object,
    counts: Any,
    parsed: ir.Table,
    bad_date: ir.BooleanColumn,
    bad_amount: ir.BooleanColumn,
    negative: ir.BooleanColumn,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None,
) -> None:
    """Raise one AnalyticsInputError listing every problem the validation counts found (both readers)."""
    if counts["rows"] == 0:
        raise AnalyticsInputError(f"{path}: the file has no transactions (only a header?)")
    problems = []
    if counts["no_id"]:
        problems.append(f"{counts['no_id']} row(s) have no customer id in column {customer_col!r}")
    if counts["bad_date"]:
        hint = f"the format {date_format!r}" if date_format else "ISO 8601 (pass date_format, e.g. '%Y%m%d')"
        problems.append(
            f"{counts['bad_date']} row(s) have a date in column {date_col!r} that does not parse as {hint}"
            f" (e.g. {_examples(parsed, bad_date, 'raw_date')})"
        )
    if counts["bad_amount"]:
        problems.append(
            f"{counts['bad_amount']} row(s) have a missing or non-numeric amount in column {amount_col!r}"
            f" (e.g. {_examples(parsed, bad_amount, 'raw_amount')})"
        )
    if counts["negative"]:
        problems.append(
            f"{counts['negative']} row(s) have a negative amount in column {amount_col!r}"
            f" (e.g. {_examples(parsed, negative.fill_null(False), 'raw_amount')}); record returns separately"
        )
    if problems:
        raise AnalyticsInputError(f"{path}: " + "; ".join(problems), problems=problems)


def read_transactions(
    path: str | Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None = None,
    *,
    column_names: list[str] | None = None,
    file_format: FileFormat = "auto",
    con: ibis.BaseBackend | None = None,
) -> ir.Table:
    """Load and validate a transactions file with DuckDB (through Ibis); return a lazy Ibis table.

    Formats: CSV (any delimiter DuckDB's sniffer detects, header row expected), whitespace-separated text
    (``.txt``/``.dat``; runs of spaces or tabs separate fields) and Parquet, chosen by extension unless
    ``file_format`` says otherwise. ``column_names`` names the columns of a file without a header row.
    Dates are parsed with ``date_format`` (strptime syntax, e.g. ``"%Y%m%d"``) or, without it, as ISO 8601.

    The result has the columns ``customer_id`` (string), ``purchased_at`` (timestamp) and ``amount``
    (float64), ready for :func:`summary_expr` with its default column names. Raises AnalyticsInputError,
    listing every problem found with example values: missing or empty file, no rows, missing columns,
    missing customer ids, non-numeric or negative amounts, unparseable dates.
    """
    path = Path(path)
    if not path.is_file():
        raise AnalyticsInputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AnalyticsInputError(f"{path}: the file is empty")
    con = con if con is not None else ibis.duckdb.connect()
    raw = _read_raw(con, path, _detect_format(path, file_format), column_names)
    _require_columns(raw, {"customer": customer_col, "date": date_col, "amount": amount_col}, str(path))

    parsed = raw.select(
        customer_id=raw[customer_col].cast("string").strip(),
        purchased_at=_parse_date(raw[date_col], date_format),
        amount=_parse_amount(raw[amount_col]),
        raw_date=raw[date_col].cast("string"),
        raw_amount=raw[amount_col].cast("string"),
    )
    no_id = parsed.customer_id.isnull() | (parsed.customer_id == "")
    bad_date = parsed.purchased_at.isnull()
    bad_amount = parsed.amount.isnull() | parsed.amount.isnan() | parsed.amount.isinf()
    negative = parsed.amount < 0
    counts = (
        parsed.aggregate(
            rows=parsed.count(),
            no_id=no_id.sum(),
            bad_date=bad_date.sum(),
            bad_amount=bad_amount.sum(),
            negative=negative.sum(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    _check_counts(
        path,
        counts,
        parsed,
        bad_date,
        bad_amount,
        negative,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
    )
    return parsed.select("customer_id", "purchased_at", "amount")


def summary_frame(
    transactions: ir.Table,
    *,
    as_of: dt.date | str,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    unit: Unit = "D",
    period: Unit = "D",
) -> pd.DataFrame:
    """Execute :func:`summary_expr` and return a pandas frame with stable dtypes across backends.

    Backends return dates and integers with different Python types (SQLite has no DATE type); this
    normalises ``first_purchase``/``last_purchase`` to ``datetime64`` and counts to ``int64``.
    """
    frame = summary_expr(
        transactions,
        as_of=as_of,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        unit=unit,
        period=period,
    ).to_pandas()
    for column in ("first_purchase", "last_purchase"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    for column in ("frequency", "order_count"):
        frame[column] = frame[column].astype("int64")
    for column in ("recency", "T", "monetary_value", "revenue"):
        frame[column] = frame[column].astype("float64")
    return frame.reset_index(drop=True)


# --- Spark ---------------------------------------------------------------------------------------------------
# summary_expr, holdout_expr and compress_summary run unchanged on Ibis' PySpark backend
# (tests/analytics/test_spark.py); these helpers open a local session and read files into it.

_STRPTIME_TO_JAVA = {
    "%Y": "yyyy",
    "%m": "MM",
    "%d": "dd",
    "%H": "HH",
    "%M": "mm",
    "%S": "ss",
    "%y": "yy",
    "%f": "SSSSSS",
}


def spark_session(
    *, master: str = "local[2]", shuffle_partitions: int = 4, driver_memory: str = "1g", app_name: str = "guanxi"
) -> Any:
    """A PySpark session for the Ibis PySpark backend (local mode by default), or AnalyticsInputError.

    Sets ``SPARK_LOCAL_IP=127.0.0.1`` unless already set (no network lookup of the host name), few shuffle
    partitions (the summary of even millions of customers is small), UTC session time zone, Arrow for the
    conversions to and from pandas, and ANSI mode off so that a bad value casts to NULL and is reported by
    :func:`read_transactions_spark` instead of failing the job. PySpark and Java 17 are optional
    (``pip install guanxi[spark]``).
    """
    import os

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise AnalyticsInputError("the Spark engine needs PySpark: pip install 'guanxi[spark]'") from error
    session = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _java_date_format(date_format: str) -> str:
    java = date_format
    for directive, pattern in _STRPTIME_TO_JAVA.items():
        java = java.replace(directive, pattern)
    if "%" in java:
        raise AnalyticsInputError(f"date format {date_format!r} has a directive the Spark engine does not support")
    return java


def read_transactions_spark(
    path: str | Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None = None,
    *,
    column_names: list[str] | None = None,
    file_format: FileFormat = "auto",
    session: Any = None,
) -> ir.Table:
    """:func:`read_transactions` on Spark: the same formats, columns, checks and errors, as an Ibis table.

    ``session`` is a PySpark session (default :func:`spark_session`). ``date_format`` uses strptime
    directives (%Y %m %d %H %M %S %y %f), translated to Spark's patterns.
    """
    import uuid

    path = Path(path)
    if not path.is_file():
        raise AnalyticsInputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AnalyticsInputError(f"{path}: the file is empty")
    session = session if session is not None else spark_session()
    con = ibis.pyspark.connect(session)
    kind = _detect_format(path, file_format)
    if kind == "parquet":
        frame = session.read.parquet(str(path))
        if column_names is not None:
            frame = frame.toDF(*column_names[: len(frame.columns)])
    elif kind == "whitespace":
        from pyspark.sql import functions as F

        lines = session.read.text(str(path)).filter(F.trim("value") != "")
        names = column_names
        if names is None:
            first = lines.first()
            if first is None:
                raise AnalyticsInputError(f"{path}: the file has no rows")
            names = first["value"].split()
            lines = lines.filter(F.col("value") != first["value"])
        fields = F.split(F.trim("value"), r"\s+")
        frame = lines.select(*[fields.getItem(i).alias(name) for i, name in enumerate(names)])
    else:
        frame = session.read.csv(str(path), header=column_names is None, inferSchema=False)
        if column_names is not None:
            frame = frame.toDF(*column_names[: len(frame.columns)])
    view = f"guanxi_tx_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(view)
    raw = con.table(view)
    _require_columns(raw, {"customer": customer_col, "date": date_col, "amount": amount_col}, str(path))
    text_date = raw[date_col].cast("string").strip()
    dtype = raw[date_col].type()
    if dtype.is_timestamp() or dtype.is_date():
        purchased_at = raw[date_col].cast("timestamp")
    elif date_format is not None:
        purchased_at = text_date.as_timestamp(_java_date_format(date_format))
    else:
        purchased_at = text_date.cast("timestamp")
    parsed = raw.select(
        customer_id=raw[customer_col].cast("string").strip(),
        purchased_at=purchased_at,
        amount=raw[amount_col].cast("float64")
        if raw[amount_col].type().is_numeric()
        else raw[amount_col].cast("string").strip().cast("float64"),
        raw_date=raw[date_col].cast("string"),
        raw_amount=raw[amount_col].cast("string"),
    )
    no_id = parsed.customer_id.isnull() | (parsed.customer_id == "")
    bad_date = parsed.purchased_at.isnull()
    bad_amount = parsed.amount.isnull() | parsed.amount.isnan() | parsed.amount.isinf()
    negative = parsed.amount < 0
    counts = (
        parsed.aggregate(
            rows=parsed.count(),
            no_id=no_id.sum(),
            bad_date=bad_date.sum(),
            bad_amount=bad_amount.sum(),
            negative=negative.sum(),
        )
        .to_pandas()
        .iloc[0]
    )
    _check_counts(
        path,
        counts,
        parsed,
        bad_date,
        bad_amount,
        negative,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
    )
    return parsed.select("customer_id", "purchased_at", "amount")

"""``guanxi analyze FILE``: the customer-base analysis on a transactions file, without a server or a database.

Registered on the ``guanxi`` Typer app in ``guanxi.commands``. It never sets up Django: everything it runs is
in the framework-free ``guanxi.analytics`` package (imported lazily, so ``guanxi --help`` stays fast).
Errors in the input print one line ``error: ...`` to stderr and exit 1 (STYLE.md section 5).
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from guanxi.analytics.pipeline import PipelineResult


class EngineChoice(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class UnitChoice(StrEnum):
    week = "week"
    day = "day"


def _fail(message: str) -> None:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(1)


def analyze(
    file: Annotated[Path, typer.Argument(help="Transactions: CSV, whitespace-separated text (.txt, .dat) or Parquet")],
    customer_col: Annotated[str, typer.Option("--customer-col", help="Column with the customer id")],
    date_col: Annotated[str, typer.Option("--date-col", help="Column with the purchase date or timestamp")],
    amount_col: Annotated[str, typer.Option("--amount-col", help="Column with the amount (>= 0)")],
    date_format: Annotated[
        str | None, typer.Option("--date-format", help="strptime format of the dates, e.g. %Y%m%d (default ISO 8601)")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Calibration end YYYY-MM-DD, inclusive (default: the last purchase date)"),
    ] = None,
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1, help="Prediction and CLV horizon")] = 365,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here")] = None,
    engine_name: Annotated[EngineChoice, typer.Option("--engine", help="Where the summary runs")] = EngineChoice.duckdb,
    column_names: Annotated[
        str | None, typer.Option("--column-names", help="Comma-separated names for a file without a header row")
    ] = None,
    unit: Annotated[UnitChoice, typer.Option("--unit", help="Time unit of the models (alpha, recency, T)")] = (
        UnitChoice.week
    ),
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", min=0.0, help="Monthly discount rate of CLV (0.01 = 1%)")
    ] = 0.01,
    margin: Annotated[float, typer.Option("--margin", min=0.0, max=1.0, help="Share of revenue kept, for CLV")] = 1.0,
) -> None:
    """Fit BG/NBD and Gamma-Gamma, score RFM segments, value tiers, P(alive) and CLV for every customer in FILE.

    Same-day purchases count as one transaction. Example (the CDNOW sample of Fader, Hardie & Lee 2005):

        guanxi analyze CDNOW_sample.txt --column-names master,customer,date,cds,amount --customer-col customer
        --date-col date --amount-col amount --date-format %Y%m%d --as-of 1997-09-30 --html report.html
    """
    # The same messages as engine.read_transactions, before the analytics stack is imported (seconds).
    if not file.is_file():
        _fail(f"{file}: no such file")
    if file.stat().st_size == 0:
        _fail(f"{file}: the file is empty")
    from guanxi.analytics.errors import AnalyticsInputError

    names = [name.strip() for name in column_names.split(",")] if column_names else None
    show_progress = not as_json and sys.stderr.isatty()
    started = time.perf_counter()
    try:
        with _progress(show_progress) as on_stage:
            result, table = _run(
                file,
                customer_col,
                date_col,
                amount_col,
                date_format,
                names,
                engine_name.value,
                as_of,
                horizon_days,
                "W" if unit is UnitChoice.week else "D",
                discount_rate,
                margin,
                on_stage,
            )
            if html is not None:
                on_stage("report")
                from guanxi.analytics.report import write_report

                write_report(result, table, html, source=file.name)
    except AnalyticsInputError as error:
        _fail(error.message)
    elapsed = time.perf_counter() - started
    if as_json:
        payload = result.as_dict()
        payload["file"] = str(file)
        payload["engine"] = engine_name.value
        if html is not None:
            payload["report"] = str(html)
        typer.echo(json.dumps(payload, allow_nan=False))
    else:
        _print_summary(result, file, elapsed, html)


def _run(
    file: Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None,
    names: list[str] | None,
    engine_name: str,
    as_of: str | None,
    horizon_days: int,
    unit: str,
    discount_rate: float,
    margin: float,
    on_stage: Any,
) -> Any:
    from guanxi.analytics import engine, pipeline

    spark = engine.spark_session() if engine_name == "spark" else None
    try:
        return pipeline.run_file(
            file,
            customer_col,
            date_col,
            amount_col,
            date_format,
            column_names=names,
            engine_name=engine_name,  # type: ignore[arg-type]
            spark=spark,
            as_of=as_of,
            horizon_days=horizon_days,
            unit=unit,
            discount_rate=discount_rate,
            margin=margin,
            progress=on_stage,
        )
    finally:
        if spark is not None:
            spark.stop()


class _progress:
    """Rich progress on stderr, one step per pipeline stage (only on a terminal, and not with --json)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda stage: None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from guanxi.analytics.pipeline import STAGES

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.progress.start()
        task = self.progress.add_task("reading", total=len(STAGES) + 1)
        seen: list[str] = []

        def on_stage(stage: str) -> None:
            if seen:
                self.progress.advance(task)
            seen.append(stage)
            self.progress.update(task, description=stage)

        return on_stage

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _print_summary(result: PipelineResult, file: Path, elapsed: float, html: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from guanxi.analytics.btyd import params_dict
    from guanxi.analytics.rfm import SEGMENT_LABELS

    console = Console()
    data = result.as_dict()
    unit = data["unit"]
    console.print(
        f"[bold]{file.name}[/bold]: {data['customers']:,} customers ({data['repeat_buyers']:,} repeat buyers), "
        f"{data['transactions']:,} transactions, revenue {data['revenue']:,.2f}; calibration end {data['as_of']}"
    )

    models = Table(title=f"Models (times in {unit}s)")
    for column in ("model", "parameter", "estimate", "std. error"):
        models.add_column(column, justify="right" if column in ("estimate", "std. error") else "left")
    for name, fit in (("BG/NBD", result.bgnbd), ("Gamma-Gamma", result.gamma_gamma)):
        errors = params_dict(fit.standard_errors)
        for i, (key, value) in enumerate(params_dict(fit.params).items()):
            models.add_row(name if i == 0 else "", key, f"{value:.4f}", f"{errors[key]:.4f}")
        models.add_row("", "log-likelihood", f"{fit.log_likelihood:,.2f}", "", end_section=True)
    console.print(models)

    frame = result.customers
    segments = Table(title="RFM segments")
    for column in ("segment", "customers", "share", "mean CLV", "mean P(alive)"):
        segments.add_column(column, justify="left" if column == "segment" else "right")
    by_segment = frame.groupby("segment").agg(clv=("clv", "mean"), alive=("p_alive", "mean"))
    for key, label in SEGMENT_LABELS.items():
        count = result.segment_counts[key]
        if not count:
            continue
        row = by_segment.loc[key]
        segments.add_row(label, f"{count:,}", f"{count / len(frame):.1%}", f"{row['clv']:,.2f}", f"{row['alive']:.2f}")
    console.print(segments)

    tiers = Table(title=f"Value tiers (CLV over {result.clv_months} months; ABC by revenue)")
    tiers.add_column("tier")
    tiers.add_column("customers", justify="right")
    for key, count in result.tier_counts.items():
        tiers.add_row(key, f"{count:,}")
    for key, count in result.abc_counts.items():
        tiers.add_row(key, f"{count:,}")
    console.print(tiers)

    totals = data["totals"]
    console.print(
        f"Next {result.horizon_days} days: {totals['expected_purchases']:,.0f} expected repeat purchases; "
        f"total CLV {totals['clv']:,.2f}; mean P(alive) {totals['mean_p_alive']:.2f}"
    )
    if result.holdout is not None:
        h = result.holdout
        console.print(
            f"Holdout {h.start} to {h.end}: {h.actual:,} repeat purchases, BG/NBD predicted {h.predicted:,.0f} "
            f"({h.predicted / max(h.actual, 1):.0%})"
        )
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items() if k != "total")
    console.print(f"[dim]{elapsed:.2f} s ({stages})[/dim]")
    if html is not None:
        console.print(f"Report: {html}")

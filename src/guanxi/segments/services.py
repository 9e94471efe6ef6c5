"""Scoring: run the analytics pipeline over the orders in the database and write the results back.

The pipeline (``guanxi.analytics``) runs as Ibis expressions on the operational database itself, through
Django's own connection, so it sees exactly what this transaction sees, on SQLite and PostgreSQL alike.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import ibis
import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.analytics import btyd, churn
from guanxi.analytics.clv import DAYS_PER_MONTH
from guanxi.analytics.errors import AnalyticsInputError
from guanxi.analytics.needs import NeedsSegments
from guanxi.analytics.pipeline import PipelineResult, run_pipeline
from guanxi.core import events
from guanxi.core.events import jsonable
from guanxi.core.models import Event
from guanxi.customers.models import Customer
from guanxi.segments import insights
from guanxi.segments.errors import NothingToScore, ScoringAlreadyRunning
from guanxi.segments.models import (
    CustomerScore,
    CustomerScoreHistory,
    ForecastSnapshot,
    NeedsProfile,
    Recommendation,
    ScoreRun,
)
from guanxi.segments.selectors import order_lines_frame, orders_table

Progress = Callable[[str, int], Callable[..., None]]
BATCH = 5000
STALE_RUN = timedelta(hours=6)


@dataclass(frozen=True)
class ScoringSettings:
    """How scores are computed. Time is counted in days; CLV over 12 months at 10% a year, full margin."""

    horizon_days: int = 90
    clv_months: int = 12
    annual_discount_rate: float = 0.10
    margin: float = 1.0
    recommendations: int = 5
    hit_rate_split_days: int = 90
    forecast_months: int = 12
    backtest_months: int = 3


def _no_progress(description: str, total: int):
    return lambda n=1, done=False: None


def compute_scores(
    orders: ibis.Table, *, as_of: date, settings: ScoringSettings
) -> tuple[pd.DataFrame, dict, PipelineResult | None]:
    """Per-customer scores (columns of ``ScoreFields`` plus ``customer_id``), a JSON summary of the run and the
    pipeline's result (None when there are no orders).

    The same pipeline as ``guanxi analyze`` (``guanxi.analytics.pipeline``), in days, over ``clv_months``
    months; plus the expected purchases in the next ``horizon_days`` from the same fitted BG/NBD.
    """
    if orders.count().execute() == 0:
        return pd.DataFrame(), {}, None
    result = run_pipeline(
        orders,
        as_of=as_of,
        horizon_days=round(settings.clv_months * DAYS_PER_MONTH),
        unit="D",
        period="D",
        customer_col="customer_id",
        date_col="ordered_at",
        amount_col="amount",
        annual_discount_rate=settings.annual_discount_rate,
        margin=settings.margin,
    )
    c = result.customers
    x, t_x, T = (c[name].to_numpy(dtype=float) for name in ("frequency", "recency", "T"))
    frame = pd.DataFrame(
        {
            "customer_id": c["customer_id"].astype("int64").to_numpy(),
            "order_count": c["order_count"].to_numpy(),
            "revenue": c["revenue"].to_numpy(dtype=float),
            "frequency": c["frequency"].to_numpy(),
            "recency_days": t_x,
            "tenure_days": T,
            "days_since_last": T - t_x,
            "monetary": c["monetary_value"].to_numpy(dtype=float),
            "rfm_r": c["r_score"].to_numpy(),
            "rfm_f": c["f_score"].to_numpy(),
            "rfm_m": c["m_score"].to_numpy(),
            "segment": c["segment"].to_numpy(),
            "abc_tier": c["abc_tier"].to_numpy(),
            "value_tier": c["value_tier"].to_numpy(),
            "p_alive": c["p_alive"].to_numpy(dtype=float),
            "expected_purchases_90d": btyd.bgnbd_expected_purchases(
                result.bgnbd.params, settings.horizon_days, x, t_x, T
            ),
            "expected_spend": c["expected_spend"].to_numpy(dtype=float),
            "clv": c["clv"].to_numpy(dtype=float),
        }
    )
    frame = frame.merge(_churn(orders, as_of, settings), on="customer_id", how="left")
    summary = result.as_dict()
    parameters = {
        key: summary[key]
        for key in (
            "unit",
            "horizon_days",
            "clv_months",
            "monthly_discount_rate",
            "margin",
            "bgnbd",
            "gamma_gamma",
            "segments",
            "tiers",
        )
    }
    return frame, parameters, result


def _churn(orders: ibis.Table, as_of: date, settings: ScoringSettings) -> pd.DataFrame:
    """Churn risk (no purchase in the next ``horizon_days``) and its main reasons, from the churn classifier
    trained on the latest cutoff whose outcome is known. Empty when the history is too short to train it."""
    columns = ["customer_id", "churn_risk", "churn_reasons"]
    try:
        _model, scores = churn.churn_scores(
            orders,
            as_of=as_of,
            horizon_days=settings.horizon_days,
            customer_col="customer_id",
            date_col="ordered_at",
            amount_col="amount",
            reasons_min_probability=0.5,
        )
    except AnalyticsInputError:
        return pd.DataFrame(columns=columns)
    reasons = [c for c in scores.columns if c.startswith("reason_")]
    out = pd.DataFrame(
        {
            "customer_id": scores.index.astype("int64")
            if "customer_id" not in scores.columns
            else scores["customer_id"],
            "churn_risk": scores["churn_probability"].to_numpy(dtype=float),
            "churn_reasons": [
                [r for r in row if isinstance(r, str)] for row in scores[reasons].itertuples(index=False)
            ],
        }
    )
    return out[columns]


def _start_run(as_of: date) -> ScoreRun:
    with transaction.atomic():
        running = ScoreRun.objects.select_for_update().filter(
            status=ScoreRun.Status.RUNNING, started_at__gt=timezone.now() - STALE_RUN
        )
        if running.exists():
            raise ScoringAlreadyRunning(_("A scoring run is already in progress."))
        return ScoreRun.objects.create(started_at=timezone.now(), as_of=as_of)


def score_customers(
    *, as_of: date | None = None, settings: ScoringSettings = ScoringSettings(), progress: Progress = _no_progress
) -> ScoreRun:
    """Score every live customer with orders who has not opted out of profiling, and write the results back.

    Replaces each customer's current scores, appends one dated history row per customer, drops the scores of
    customers who opted out since, and emits ``customer.segment_changed`` / ``customer.tier_changed`` for every
    customer whose segment or ABC tier moved. Also replaces every customer's product recommendations (with the
    hit rate of the method in the run's parameters), assigns needs-based segments (profiles kept per run), and
    stores each customer's monthly forecast and the run's forecast totals per group and month (kept per run, so
    later runs can compare them with what happened). All of it commits together or not at all; a failed run is
    kept with its error.
    """
    as_of = as_of or timezone.localdate()
    run = _start_run(as_of)
    try:
        frame, parameters, result = compute_scores(orders_table(as_of), as_of=as_of, settings=settings)
        if frame.empty or result is None:
            raise NothingToScore(_("There are no orders to score up to %(date)s.") % {"date": as_of})
        extras = _compute_extras(frame, result, as_of, settings)
        parameters.update(extras.parameters)
        _write_back(run, frame, parameters, progress, extras)
    except Exception as exc:
        ScoreRun.objects.filter(pk=run.pk).update(
            status=ScoreRun.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    run.refresh_from_db()
    return run


FIELDS = [
    f.name for f in CustomerScoreHistory._meta.get_fields() if f.concrete and f.name not in {"id", "customer", "run"}
]


def _rows(frame: pd.DataFrame, as_of: date) -> list[dict]:
    frame = frame.assign(as_of=as_of)
    records = frame.to_dict("records")
    for row in records:
        row["revenue"] = Decimal(str(round(row["revenue"], 2)))
        row["clv"] = Decimal(str(round(row["clv"], 2)))
        if row.get("churn_risk") is not None and pd.isna(row["churn_risk"]):
            row["churn_risk"] = None
        if not isinstance(row.get("churn_reasons"), list):
            row["churn_reasons"] = []
    return records


@dataclass(frozen=True)
class _Extras:
    recommendations: pd.DataFrame
    needs: NeedsSegments | None
    forecast: insights.MonthlyForecast
    parameters: dict


def _compute_extras(frame: pd.DataFrame, result: PipelineResult, as_of: date, settings: ScoringSettings) -> _Extras:
    """Recommendations, needs segments and the monthly forecast for the customers in ``frame``."""
    scored = frame["customer_id"]
    lines = order_lines_frame(as_of)
    lines = lines[lines["customer_id"].isin(scored)]
    orders = orders_table(as_of, with_order_id=True).to_pandas()
    orders = orders[orders["customer_id"].isin(scored)]
    recs = insights.recommendations(
        lines, as_of=as_of, k=settings.recommendations, split_days=settings.hit_rate_split_days
    )
    segments = insights.needs_segments(orders, lines, as_of=as_of)
    attributes = pd.DataFrame(
        Customer.objects.filter(pk__in=scored.tolist()).values_list("pk", "industry", "region"),
        columns=["customer_id", "industry", "region"],
    ).merge(frame[["customer_id", "segment", "abc_tier"]], on="customer_id", how="right")
    monthly = insights.monthly_forecast(result, attributes, as_of=as_of, months=settings.forecast_months)
    parameters = {
        "recommendations": recs.hit_rate,
        "needs": {"k": segments.k, "silhouette": segments.silhouette} if segments is not None else {},
        "forecast_backtest": insights.backtest(orders, as_of=as_of, months=settings.backtest_months)
        if settings.backtest_months
        else {},
    }
    return _Extras(recs.items, segments, monthly, parameters)


@transaction.atomic
def _write_back(run: ScoreRun, frame: pd.DataFrame, parameters: dict, progress: Progress, extras: _Extras) -> None:
    now = timezone.now()
    frame = _with_extras(frame, extras)
    previous = dict(
        (cid, (segment, tier))
        for cid, segment, tier in CustomerScore.objects.values_list("customer_id", "segment", "abc_tier")
    )
    opted_out = Customer.objects.filter(profiling_opt_out=True).count()
    rows = _rows(frame, run.as_of)
    advance = progress("writing scores", len(rows))
    CustomerScore.objects.all().delete()
    changes: list[Event] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        fields = [{k: row[k] for k in FIELDS if k in row} for row in chunk]
        CustomerScore.objects.bulk_create(
            [
                CustomerScore(
                    customer_id=row["customer_id"],
                    run=run,
                    scored_at=now,
                    forecast_purchases=row["forecast_purchases"],
                    forecast_revenue=row["forecast_revenue"],
                    **f,
                )
                for row, f in zip(chunk, fields, strict=True)
            ]
        )
        CustomerScoreHistory.objects.bulk_create(
            [
                CustomerScoreHistory(customer_id=row["customer_id"], run=run, **f)
                for row, f in zip(chunk, fields, strict=True)
            ]
        )
        changes.extend(Event.objects.bulk_create(_change_events(chunk, previous, run, now)))
        advance(len(chunk))
    advance(0, done=True)
    _write_insights(run, extras)
    # Subscribers (lifecycle stages, automation rules) react in this transaction: first to each customer's
    # segment or tier change, then once to the run as a whole.
    events.dispatch(changes)
    events.record("scores.updated", subject=run, payload={"run_id": run.pk, "as_of": run.as_of, "customers": len(rows)})
    ScoreRun.objects.filter(pk=run.pk).update(
        status=ScoreRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        customers_scored=len(rows),
        customers_skipped=opted_out,
        parameters=jsonable(parameters),
        segment_counts=parameters["segments"],
        tier_counts=parameters["tiers"],
    )


def _with_extras(frame: pd.DataFrame, extras: _Extras) -> pd.DataFrame:
    """The score rows with each customer's needs segment and monthly forecast (lists, rounded)."""
    fc = extras.forecast.customers
    ids = frame["customer_id"].to_numpy()
    purchases = fc.purchases.reindex(ids).to_numpy(dtype=float)
    revenue = fc.revenue.reindex(ids).to_numpy(dtype=float) if fc.revenue is not None else purchases * np.nan
    frame = frame.assign(
        forecast_purchases=[[_round(v) for v in row] for row in purchases],
        forecast_revenue=[[_round(v) for v in row] for row in revenue],
    )
    if extras.needs is not None:
        segment = extras.needs.assignments["segment"].reindex(ids)
        frame["needs_segment"] = [None if pd.isna(v) else int(v) for v in segment]
    else:
        frame["needs_segment"] = None
    return frame


def _round(value: float) -> float | None:
    """A JSON-safe float (None for NaN / infinity)."""
    return None if not np.isfinite(value) else float(value)


def _write_insights(run: ScoreRun, extras: _Extras) -> None:
    """Replace the recommendations; add this run's needs profiles and forecast totals."""
    Recommendation.objects.all().delete()
    recs = extras.recommendations
    if not recs.empty:
        Recommendation.objects.bulk_create(
            [
                Recommendation(
                    customer_id=int(row.customer_id),
                    run=run,
                    rank=int(row.rank),
                    product_id=int(row.product_id),
                    score=float(row.score),
                    source=row.source,
                    because_of_id=None if row.because_of is None or pd.isna(row.because_of) else int(row.because_of),
                )
                for row in recs.itertuples(index=False)
            ],
            batch_size=BATCH,
        )
    if extras.needs is not None:
        profiles = extras.needs.profiles
        features = list(extras.needs.features.columns)
        NeedsProfile.objects.bulk_create(
            [
                NeedsProfile(
                    run=run,
                    segment=int(segment),
                    customers=int(row["customers"]),
                    share=float(row["share"]),
                    label_en=row["label_en"],
                    label_zh=row["label_zh"],
                    means={name: _round(row[name]) for name in features},
                    z_scores={name: _round(row[f"z_{name}"]) for name in features},
                )
                for segment, row in profiles.iterrows()
            ]
        )
    totals = extras.forecast.totals
    ForecastSnapshot.objects.bulk_create(
        [
            ForecastSnapshot(
                run=run,
                grouping=row.grouping,
                group=str(row.group)[:100],
                month=int(row.month),
                month_end=row.month_end.date(),
                customers=int(row.customers),
                purchases=float(row.purchases),
                revenue=0.0 if pd.isna(row.revenue) else float(row.revenue),
            )
            for row in totals.itertuples(index=False)
        ],
        batch_size=BATCH,
    )


def _change_events(rows: list[dict], previous: dict, run: ScoreRun, now: datetime) -> list[Event]:
    events = []
    label = Customer._meta.label_lower
    for row in rows:
        before_segment, before_tier = previous.get(row["customer_id"], (None, None))
        if before_segment != row["segment"]:
            events.append(
                Event(
                    type="customer.segment_changed",
                    subject_type=label,
                    subject_id=row["customer_id"],
                    payload={"from": before_segment, "to": row["segment"], "run_id": run.pk},
                    occurred_at=now,
                )
            )
        if before_tier != row["abc_tier"]:
            events.append(
                Event(
                    type="customer.tier_changed",
                    subject_type=label,
                    subject_id=row["customer_id"],
                    payload={"from": before_tier, "to": row["abc_tier"], "run_id": run.pk},
                    occurred_at=now,
                )
            )
    return events

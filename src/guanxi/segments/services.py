"""Scoring: run the analytics pipeline over the orders in the database and write the results back.

The pipeline (``guanxi.analytics``) runs as Ibis expressions on the operational database itself, through
Django's own connection, so it sees exactly what this transaction sees, on SQLite and PostgreSQL alike.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import ibis
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.analytics import btyd, churn
from guanxi.analytics.clv import DAYS_PER_MONTH
from guanxi.analytics.errors import AnalyticsInputError
from guanxi.analytics.pipeline import run_pipeline
from guanxi.core.events import jsonable
from guanxi.core.models import Event
from guanxi.customers.models import Customer
from guanxi.segments.errors import NothingToScore, ScoringAlreadyRunning
from guanxi.segments.models import CustomerScore, CustomerScoreHistory, ScoreRun
from guanxi.segments.selectors import orders_table

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


def _no_progress(description: str, total: int):
    return lambda n=1, done=False: None


def compute_scores(orders: ibis.Table, *, as_of: date, settings: ScoringSettings) -> tuple[pd.DataFrame, dict]:
    """Per-customer scores (columns of ``ScoreFields`` plus ``customer_id``) and a JSON summary of the run.

    The same pipeline as ``guanxi analyze`` (``guanxi.analytics.pipeline``), in days, over ``clv_months``
    months; plus the expected purchases in the next ``horizon_days`` from the same fitted BG/NBD.
    """
    if orders.count().execute() == 0:
        return pd.DataFrame(), {}
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
    return frame, parameters


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
    customer whose segment or ABC tier moved. All of it commits together or not at all; a failed run is kept
    with its error.
    """
    as_of = as_of or timezone.localdate()
    run = _start_run(as_of)
    try:
        frame, parameters = compute_scores(orders_table(as_of), as_of=as_of, settings=settings)
        if frame.empty:
            raise NothingToScore(_("There are no orders to score up to %(date)s.") % {"date": as_of})
        _write_back(run, frame, parameters, progress)
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


@transaction.atomic
def _write_back(run: ScoreRun, frame: pd.DataFrame, parameters: dict, progress: Progress) -> None:
    now = timezone.now()
    previous = dict(
        (cid, (segment, tier))
        for cid, segment, tier in CustomerScore.objects.values_list("customer_id", "segment", "abc_tier")
    )
    opted_out = Customer.objects.filter(profiling_opt_out=True).count()
    rows = _rows(frame, run.as_of)
    advance = progress("writing scores", len(rows))
    CustomerScore.objects.all().delete()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        fields = [{k: row[k] for k in FIELDS if k in row} for row in chunk]
        CustomerScore.objects.bulk_create(
            [
                CustomerScore(customer_id=row["customer_id"], run=run, scored_at=now, **f)
                for row, f in zip(chunk, fields, strict=True)
            ]
        )
        CustomerScoreHistory.objects.bulk_create(
            [
                CustomerScoreHistory(customer_id=row["customer_id"], run=run, **f)
                for row, f in zip(chunk, fields, strict=True)
            ]
        )
        Event.objects.bulk_create(_change_events(chunk, previous, run, now))
        advance(len(chunk))
    advance(0, done=True)
    ScoreRun.objects.filter(pk=run.pk).update(
        status=ScoreRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        customers_scored=len(rows),
        customers_skipped=opted_out,
        parameters=jsonable(parameters),
        segment_counts=parameters["segments"],
        tier_counts=parameters["tiers"],
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

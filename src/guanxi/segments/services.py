"""Scoring: run the analytics pipeline over the orders in the database and write the results back.

The pipeline (``guanxi.analytics``) runs as Ibis expressions on the operational database itself, through
Django's own connection, so it sees exactly what this transaction sees, on SQLite and PostgreSQL alike.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import ibis
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.analytics import btyd, clv, engine, rfm
from guanxi.core.events import jsonable
from guanxi.core.ibis_db import ibis_connection
from guanxi.core.models import Event
from guanxi.customers.models import Customer
from guanxi.segments.errors import NothingToScore, ScoringAlreadyRunning
from guanxi.segments.models import CustomerScore, CustomerScoreHistory, ScoreRun

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


def orders_table(as_of: date) -> ibis.Table:
    """The purchase log as an Ibis table on the operational database: customer_id, ordered_at, amount.

    Only live customers who have not opted out of profiling, and only orders up to the end of ``as_of`` (UTC).
    """
    con = ibis_connection()
    orders = con.table("commerce_order")
    customers = con.table("customers_customer")
    end = datetime.combine(as_of + timedelta(days=1), time.min)
    live = customers.filter(customers.deleted_at.isnull(), ~customers.profiling_opt_out.cast("boolean"))
    joined = orders.join(live, orders.customer_id == live.id)
    return joined.filter(joined.ordered_at < end).select(
        customer_id=joined.customer_id,
        ordered_at=joined.ordered_at,
        amount=joined.amount.cast("float64"),
    )


def compute_scores(orders: ibis.Table, *, as_of: date, settings: ScoringSettings) -> tuple[pd.DataFrame, dict]:
    """Per-customer scores (columns of ``ScoreFields`` plus ``customer_id``) and the fitted parameters.

    Time in days. The summary runs on the database through Ibis; the models are fitted on its compressed
    (x, t_x, T) rows: BG/NBD for probability alive and expected purchases, Gamma-Gamma on the repeat buyers
    for the expected spend, discounted CLV over ``clv_months``, RFM quintiles and segments, ABC tiers by
    revenue and high/medium/low tiers by CLV.
    """
    summary = engine.summary_frame(
        orders,
        as_of=as_of,
        customer_col="customer_id",
        date_col="ordered_at",
        amount_col="amount",
        unit="D",
        period="D",
    )
    if summary.empty:
        return pd.DataFrame(), {}
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    compressed = engine.compress_summary(summary)
    bgnbd = btyd.fit_bgnbd(compressed["frequency"], compressed["recency"], compressed["T"], weights=compressed["count"])
    repeat = summary[summary["frequency"] > 0]
    if len(repeat) < 2:
        raise NothingToScore(_("Too few repeat buyers to fit the spend model."))
    gamma_gamma = btyd.fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
    spend = btyd.gamma_gamma_expected_spend(gamma_gamma.params, x, summary["monetary_value"].to_numpy(dtype=float))
    value = clv.customer_lifetime_value(
        bgnbd.params,
        x,
        t_x,
        T,
        spend,
        months=settings.clv_months,
        annual_discount_rate=settings.annual_discount_rate,
        margin=settings.margin,
        unit="D",
    )
    scores = rfm.rfm_from_summary(summary)
    frame = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "order_count": summary["order_count"].to_numpy(),
            "revenue": summary["revenue"].to_numpy(dtype=float),
            "frequency": summary["frequency"].to_numpy(),
            "recency_days": t_x,
            "tenure_days": T,
            "days_since_last": T - t_x,
            "monetary": summary["monetary_value"].to_numpy(dtype=float),
            "rfm_r": scores["r_score"].to_numpy(),
            "rfm_f": scores["f_score"].to_numpy(),
            "rfm_m": scores["m_score"].to_numpy(),
            "segment": scores["segment"].to_numpy(),
            "abc_tier": rfm.abc_tiers(summary["revenue"].to_numpy(dtype=float)),
            "value_tier": rfm.value_tiers(value),
            "p_alive": btyd.bgnbd_probability_alive(bgnbd.params, x, t_x, T),
            "expected_purchases_90d": btyd.bgnbd_expected_purchases(bgnbd.params, settings.horizon_days, x, t_x, T),
            "expected_spend": spend,
            "clv": value,
        }
    )
    parameters = {
        "unit": "day",
        "bgnbd": {**btyd.params_dict(bgnbd.params), "log_likelihood": bgnbd.log_likelihood},
        "gamma_gamma": {**btyd.params_dict(gamma_gamma.params), "log_likelihood": gamma_gamma.log_likelihood},
        "settings": {
            "horizon_days": settings.horizon_days,
            "clv_months": settings.clv_months,
            "annual_discount_rate": settings.annual_discount_rate,
            "margin": settings.margin,
        },
    }
    return frame, parameters


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
        row.setdefault("churn_reasons", [])
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
        segment_counts={str(k): int(v) for k, v in frame["segment"].value_counts().items()},
        tier_counts={str(k): int(v) for k, v in frame["abc_tier"].value_counts().items()},
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

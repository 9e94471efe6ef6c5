"""Reads of scores, always through the access policy: a user sees the scores of the customers they may see;
aggregates are computed over that same set."""

import json
from datetime import date, datetime, time, timedelta

import ibis
import numpy as np
import pandas as pd
from django.db.models import Count, QuerySet
from django.utils.translation import get_language

from guanxi.analytics import churn, cohorts
from guanxi.analytics.errors import AnalyticsInputError
from guanxi.core import access
from guanxi.core.ibis_db import ibis_connection
from guanxi.customers.models import Customer
from guanxi.segments.models import AbcTier, CustomerScore, CustomerScoreHistory, ScoreRun, Segment


def orders_table(as_of: date, user=None) -> ibis.Table:
    """The purchase log as an Ibis table on the operational database: customer_id, ordered_at, amount.

    Only live customers who have not opted out of profiling, and only orders up to the end of ``as_of`` (UTC).
    With a ``user``, only the customers that user may see (the system's own scoring passes none).
    """
    con = ibis_connection()
    orders = con.table("commerce_order")
    customers = con.table("customers_customer")
    end = datetime.combine(as_of + timedelta(days=1), time.min)
    live = customers.filter(customers.deleted_at.isnull(), ~customers.profiling_opt_out.cast("boolean"))
    joined = orders.join(live, orders.customer_id == live.id)
    joined = joined.filter(joined.ordered_at < end)
    if user is not None and access.customer_q(user) is not None:
        visible = list(access.visible_customers(user).values_list("pk", flat=True))
        joined = joined.filter(joined.customer_id.isin(visible))
    return joined.select(
        customer_id=joined.customer_id,
        ordered_at=joined.ordered_at,
        amount=joined.amount.cast("float64"),
    )


def cohort_figure(user, as_of: date) -> str | None:
    """The monthly acquisition cohorts' retention heatmap (Plotly JSON) over the customers ``user`` may see."""
    try:
        result = cohorts.cohort_matrices(
            orders_table(as_of, user),
            as_of=as_of,
            customer_col="customer_id",
            date_col="ordered_at",
            amount_col="amount",
        )
    except AnalyticsInputError:
        return None
    retention = result.retention.tail(24)
    z = [[None if pd.isna(v) else round(float(v), 4) for v in row] for row in retention.to_numpy()]
    figure = {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "x": [int(k) for k in retention.columns],
                "y": [str(p) for p in retention.index],
                "colorscale": "Reds",
                "zmin": 0,
                "zmax": 1,
            }
        ],
        "layout": {
            "xaxis": {"title": {"text": "k"}, "dtick": 1},
            "yaxis": {"type": "category", "autorange": "reversed", "automargin": True},
            "height": 480,
        },
    }
    return json.dumps(figure)


def latest_run() -> ScoreRun | None:
    return ScoreRun.objects.filter(status=ScoreRun.Status.SUCCEEDED).order_by("-finished_at", "-id").first()


def visible_scores(user) -> QuerySet:
    return access.restrict(CustomerScore.objects.all(), user, via="customer")


def customer_score(user, customer: Customer) -> CustomerScore | None:
    """The scores of a customer the caller already fetched through a selector (so it is visible), with
    ``reason_labels``: the churn reasons in the active language."""
    score = CustomerScore.objects.filter(customer=customer).first()
    if score is not None:
        chinese = (get_language() or "").startswith("zh")
        score.reason_labels = [
            churn.FEATURE_LABELS[r][1 if chinese else 0] if r in churn.FEATURE_LABELS else r
            for r in score.churn_reasons
        ]
    return score


def segment_movement(user, run: ScoreRun) -> list[dict]:
    """How many of the visible customers moved between segments from the previous successful run to ``run``."""
    previous = (
        ScoreRun.objects.filter(status=ScoreRun.Status.SUCCEEDED, finished_at__lt=run.finished_at)
        .order_by("-finished_at", "-id")
        .first()
    )
    if previous is None:
        return []
    history = access.restrict(CustomerScoreHistory.objects.all(), user, via="customer")
    before = dict(history.filter(run=previous).values_list("customer_id", "segment"))
    moves: dict[tuple[str, str], int] = {}
    for customer_id, segment in history.filter(run=run).values_list("customer_id", "segment"):
        origin = before.get(customer_id)
        if origin is not None and origin != segment:
            moves[(origin, segment)] = moves.get((origin, segment), 0) + 1
    labels = dict(Segment.choices)
    return [
        {"from": labels.get(a, a), "to": labels.get(b, b), "customers": n}
        for (a, b), n in sorted(moves.items(), key=lambda item: -item[1])
    ]


def dashboard(user) -> dict:
    """Figures for the analytics page over the caller's visible customers."""
    scores = visible_scores(user)
    run = latest_run()
    labels = dict(Segment.choices)
    segments = {row["segment"]: row["n"] for row in scores.order_by().values("segment").annotate(n=Count("pk"))}
    segment_rows = [
        {"key": key, "label": str(label), "customers": segments.get(key, 0)} for key, label in Segment.choices
    ]
    tiers = {row["abc_tier"]: row["n"] for row in scores.order_by().values("abc_tier").annotate(n=Count("pk"))}
    grid = np.zeros((5, 5), dtype=int)
    for row in scores.order_by().values("rfm_r", "rfm_f").annotate(n=Count("pk")):
        if 1 <= row["rfm_r"] <= 5 and 1 <= row["rfm_f"] <= 5:
            grid[5 - row["rfm_r"], row["rfm_f"] - 1] = row["n"]
    clv = np.array([float(v) for v in scores.values_list("clv", flat=True)])
    figures = {
        "segments": {
            "data": [
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": [r["label"] for r in segment_rows][::-1],
                    "x": [r["customers"] for r in segment_rows][::-1],
                }
            ],
            "layout": {
                "margin": {"l": 150},
                "height": 380,
                "yaxis": {"type": "category", "dtick": 1, "automargin": True},
            },
        },
        "rfm": {
            "data": [
                {
                    "type": "heatmap",
                    "z": grid.tolist(),
                    "x": ["F1", "F2", "F3", "F4", "F5"],
                    "y": ["R5", "R4", "R3", "R2", "R1"],
                    "colorscale": "Reds",
                }
            ],
        },
        "clv": {"data": [{"type": "histogram", "x": clv.round(2).tolist(), "nbinsx": 40}]},
    }
    at_risk = []
    if access.can_see_personal_data(user):
        at_risk = list(
            scores.filter(abc_tier__in=[AbcTier.A, AbcTier.B], p_alive__lt=0.5)
            .select_related("customer", "customer__owner")
            .order_by("-clv")[:20]
        )
    return {
        "run": run,
        "scored": sum(segments.values()),
        "segment_rows": segment_rows,
        "segment_labels": labels,
        "tiers": [(key, label, tiers.get(key, 0)) for key, label in AbcTier.choices],
        "movement": segment_movement(user, run) if run else [],
        "figures": {name: json.dumps(figure) for name, figure in figures.items()},
        "at_risk": at_risk,
        "personal": access.can_see_personal_data(user),
        "cohort_figure": cohort_figure(user, run.as_of) if run else None,
    }

"""Reads of scores, always through the access policy: a user sees the scores of the customers they may see;
aggregates are computed over that same set."""

import json
from datetime import date, datetime, time, timedelta

import ibis
import numpy as np
import pandas as pd
from django.db.models import Count, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.analytics import churn, cohorts, forecast
from guanxi.analytics.errors import AnalyticsInputError
from guanxi.core import access
from guanxi.core.ibis_db import ibis_connection
from guanxi.customers.models import Customer
from guanxi.segments.models import (
    AbcTier,
    CustomerScore,
    CustomerScoreHistory,
    ForecastSnapshot,
    NeedsProfile,
    Recommendation,
    ScoreRun,
    Segment,
)


def _live_orders(as_of: date, user=None) -> ibis.Table:
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
    return joined


def orders_table(as_of: date, user=None, *, with_order_id: bool = False) -> ibis.Table:
    """The purchase log as an Ibis table on the operational database: customer_id, ordered_at, amount (and
    order_id with ``with_order_id``).

    Only live customers who have not opted out of profiling, and only orders up to the end of ``as_of`` (UTC).
    With a ``user``, only the customers that user may see (the system's own scoring passes none).
    """
    joined = _live_orders(as_of, user)
    columns = {"order_id": joined.id} if with_order_id else {}
    return joined.select(
        customer_id=joined.customer_id,
        ordered_at=joined.ordered_at,
        amount=joined.amount.cast("float64"),
        **columns,
    )


def order_lines_frame(as_of: date) -> pd.DataFrame:
    """The order lines behind ``orders_table(as_of)`` (same customers and dates): customer_id, order_id,
    ordered_at, product_id (None for a line without a product), category ("" when unknown), amount
    (quantity * unit price)."""
    con = ibis_connection()
    orders = orders_table(as_of, with_order_id=True)
    lines = con.table("commerce_orderline")
    products = con.table("commerce_product")
    lines = lines.select(
        line_order_id=lines.order_id,
        product_id=lines.product_id,
        line_amount=(lines.quantity.cast("float64") * lines.unit_price.cast("float64")),
    )
    products = products.select(pid=products.id, category=products.category)
    joined = orders.join(lines, orders.order_id == lines.line_order_id)
    joined = joined.left_join(products, joined.product_id == products.pid)
    frame = joined.select(
        customer_id=joined.customer_id,
        order_id=joined.order_id,
        ordered_at=joined.ordered_at,
        product_id=joined.product_id,
        category=joined.category.fill_null(""),
        amount=joined.line_amount,
    ).to_pandas()
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True).dt.tz_localize(None)
    return frame


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
        "needs": needs_rows(user, run) if run else [],
        "unrestricted": access.customer_q(user) is None,
        "hit_rate": (run.parameters or {}).get("recommendations") if run else None,
    }


# --- recommendations, needs segments, forecasts ------------------------------------------------------------------


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def customer_insights(user, customer: Customer) -> dict | None:
    """The customer page's "Recommended next" panel: the customer's recommendations (with the product that
    explains each) and needs segment. Only for users who may see the customer's personal data; ``customer`` was
    fetched through the access policy by the page."""
    if not access.can_see_personal_data(user):
        return None
    score = CustomerScore.objects.filter(customer=customer).only("needs_segment", "run_id", "forecast_purchases")
    score = score.first()
    profile = None
    if score is not None and score.needs_segment is not None:
        profile = NeedsProfile.objects.filter(run_id=score.run_id, segment=score.needs_segment).first()
    items = list(
        Recommendation.objects.filter(customer=customer).select_related("product", "because_of").order_by("rank")
    )
    return {
        "recommendations": items,
        "needs_label": profile.label(_chinese()) if profile else None,
        "expected_purchases_3m": sum(v or 0 for v in score.forecast_purchases[:3]) if score else None,
        "opted_out": customer.profiling_opt_out,
    }


def needs_rows(user, run: ScoreRun) -> list[dict]:
    """The run's needs segments: label, overall size and share, the visible customers in each, feature averages."""
    visible = dict(
        visible_scores(user)
        .order_by()
        .values("needs_segment")
        .annotate(n=Count("pk"))
        .values_list("needs_segment", "n")
    )
    chinese = _chinese()
    rows = []
    for profile in NeedsProfile.objects.filter(run=run).order_by("segment"):
        means = profile.means
        categories = {k[len("category_") :]: v for k, v in means.items() if k.startswith("category_") and v}
        top = max(categories, key=categories.get) if categories else None
        rows.append(
            {
                "segment": profile.segment,
                "label": profile.label(chinese),
                "customers": profile.customers,
                "share": profile.share,
                "visible": visible.get(profile.segment, 0),
                "basket_size": means.get("basket_size"),
                "frequency_per_month": means.get("frequency_per_month"),
                "purchase_interval_days": means.get("purchase_interval_days"),
                "top_category": top,
                "top_category_share": categories.get(top) if top else None,
            }
        )
    return rows


GROUPINGS = {
    "segment": _("Segment"),
    "abc_tier": _("ABC tier"),
    "industry": _("Industry"),
    "region": _("Region"),
}


def _group_label(grouping: str, key: str) -> str:
    if key == "":
        return str(_("(none)"))
    if grouping == "segment":
        return str(dict(Segment.choices).get(key, key))
    return key


def forecast_page(user, *, months: int, grouping: str) -> dict:
    """The forecast over the caller's visible customers, by ``grouping`` and month for ``months`` months.

    Unrestricted callers (admins, analysts) read the totals the run stored; others sum the per-customer
    forecasts of the customers they may see (the same numbers, restricted). Last period's forecast against what
    happened is shown to unrestricted callers only, because earlier runs keep totals, not per-customer values.
    """
    run = latest_run()
    if run is None:
        return {"run": None}
    unrestricted = access.customer_q(user) is None
    if unrestricted:
        rows = list(
            ForecastSnapshot.objects.filter(run=run, grouping=grouping, month__lte=months).values(
                "group", "month", "month_end", "customers", "purchases", "revenue"
            )
        )
        table = pd.DataFrame(rows, columns=["group", "month", "month_end", "customers", "purchases", "revenue"])
    else:
        table = _visible_forecast(user, run, months, grouping)
    table["label"] = [_group_label(grouping, g) for g in table["group"]]
    groups = (
        table.groupby(["group", "label"], dropna=False)
        .agg(customers=("customers", "max"), purchases=("purchases", "sum"), revenue=("revenue", "sum"))
        .reset_index()
        .sort_values("revenue", ascending=False, kind="stable")
    )
    month_ends = sorted(table["month_end"].unique()) if not table.empty else []
    traces = []
    for group, label in zip(groups["group"], groups["label"], strict=True):
        part = table[table["group"] == group].sort_values("month")
        traces.append(
            {
                "type": "bar",
                "name": label,
                "x": [d.isoformat() for d in part["month_end"]],
                "y": [round(float(v), 2) for v in part["revenue"]],
            }
        )
    figure = {
        "data": traces,
        "layout": {"barmode": "stack", "height": 420, "yaxis": {"title": {"text": str(_("Expected revenue"))}}},
    }
    return {
        "run": run,
        "months": months,
        "grouping": grouping,
        "groups": groups.to_dict("records"),
        "total": {
            "purchases": float(groups["purchases"].sum()) if len(groups) else 0.0,
            "revenue": float(groups["revenue"].sum()) if len(groups) else 0.0,
        },
        "month_ends": month_ends,
        "figure": json.dumps(figure),
        "comparison": forecast_vs_actual(run) if unrestricted else None,
        "backtest": (run.parameters.get("forecast_backtest") or None) if unrestricted else None,
        "unrestricted": unrestricted,
    }


def _visible_forecast(user, run: ScoreRun, months: int, grouping: str) -> pd.DataFrame:
    field = {"industry": "customer__industry", "region": "customer__region"}.get(grouping, grouping)
    values = visible_scores(user).filter(run=run).values_list(field, "forecast_purchases", "forecast_revenue")
    ends = forecast.month_ends(run.as_of, months)
    rows: dict[tuple[str, int], list[float]] = {}
    for group, purchases, revenue in values.iterator(chunk_size=5000):
        key = group or ""
        for month in range(1, months + 1):
            if month > len(purchases):
                break
            cell = rows.setdefault((key, month), [0, 0.0, 0.0])
            cell[0] += 1
            cell[1] += purchases[month - 1] or 0.0
            cell[2] += (revenue[month - 1] or 0.0) if month <= len(revenue) else 0.0
    return pd.DataFrame(
        [
            {
                "group": g,
                "month": m,
                "month_end": ends[m - 1].date(),
                "customers": c[0],
                "purchases": c[1],
                "revenue": c[2],
            }
            for (g, m), c in sorted(rows.items())
        ],
        columns=["group", "month", "month_end", "customers", "purchases", "revenue"],
    )


def forecast_vs_actual(run: ScoreRun) -> dict | None:
    """The latest earlier run's forecast for the months that have ended by ``run.as_of``, against the orders
    those months actually brought (purchase days and amounts of the customers that run forecast, i.e. those who
    had bought by its as_of; live customers who have not opted out), with the error."""
    earlier = (
        ScoreRun.objects.filter(status=ScoreRun.Status.SUCCEEDED, as_of__lt=run.as_of, forecasts__grouping="total")
        .order_by("-as_of", "-finished_at")
        .distinct()
    )
    for previous in earlier:
        snapshots = list(
            ForecastSnapshot.objects.filter(run=previous, grouping="total", month_end__lte=run.as_of).order_by("month")
        )
        if snapshots:
            break
    else:
        return None
    ends = [s.month_end for s in snapshots]
    orders = orders_table(ends[-1]).to_pandas()
    orders["day"] = pd.to_datetime(orders["ordered_at"], utc=True).dt.tz_localize(None).dt.normalize()
    start = pd.Timestamp(previous.as_of)
    known = orders.loc[orders["day"] <= start, "customer_id"].unique()
    later = orders[(orders["day"] > start) & orders["customer_id"].isin(known)]
    days = later.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    month = np.searchsorted(np.array([pd.Timestamp(e) for e in ends], dtype="datetime64[ns]"), days["day"], "left")
    purchases = np.bincount(month, minlength=len(ends))[: len(ends)]
    revenue = np.bincount(month, weights=days["amount"].to_numpy(float), minlength=len(ends))[: len(ends)]
    rows = []
    for snap, actual_purchases, actual_revenue in zip(snapshots, purchases, revenue, strict=True):
        rows.append(
            {
                "month_end": snap.month_end,
                "forecast_purchases": snap.purchases,
                "actual_purchases": int(actual_purchases),
                "purchases_error": snap.purchases - actual_purchases,
                "forecast_revenue": snap.revenue,
                "actual_revenue": float(actual_revenue),
                "revenue_error": snap.revenue - actual_revenue,
                "revenue_pct_error": 100.0 * (snap.revenue - actual_revenue) / actual_revenue
                if actual_revenue
                else None,
            }
        )
    return {"run": previous, "rows": rows}

"""The dashboard's figures, computed over what the user may see."""

import json
from datetime import timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from guanxi.commerce import selectors as orders
from guanxi.core import access
from guanxi.customers.models import Customer


def dashboard(user) -> dict:
    customers = access.visible_customers(user)
    since = timezone.now() - timedelta(days=365)
    monthly = (
        orders.list_orders(user, ordered_after=since)
        .order_by()
        .annotate(month=TruncMonth("ordered_at"))
        .values("month")
        .annotate(revenue=Sum("amount"), count=Count("id"))
        .order_by("month")
    )
    months = [row["month"].strftime("%Y-%m") for row in monthly]
    labels = dict(Customer.Source.choices)
    by_source = [
        {"source": labels.get(row["source"], row["source"]), "n": row["n"]}
        for row in customers.order_by().values("source").annotate(n=Count("id")).order_by("-n")
    ]
    chart = {
        "data": [{"type": "bar", "x": months, "y": [float(row["revenue"]) for row in monthly]}],
    }
    return {
        "customer_count": customers.count(),
        "new_customers_30d": customers.filter(created_at__gte=timezone.now() - timedelta(days=30)).count(),
        "orders_12m": sum(row["count"] for row in monthly),
        "revenue_12m": sum((row["revenue"] for row in monthly), start=0),
        "by_source": by_source,
        "revenue_chart": json.dumps(chart),
    }

from datetime import datetime

from django.db.models import Count, Max, Min, QuerySet, Sum
from django.utils.translation import gettext as _

from guanxi.commerce.errors import OrderNotFound
from guanxi.commerce.models import Order
from guanxi.core import access


def list_orders(
    user,
    *,
    customer_id: int | None = None,
    ordered_after: datetime | None = None,
    ordered_before: datetime | None = None,
) -> QuerySet:
    orders = access.restrict(Order.objects.all(), user, via="customer")
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    if ordered_after:
        orders = orders.filter(ordered_at__gte=ordered_after)
    if ordered_before:
        orders = orders.filter(ordered_at__lt=ordered_before)
    return orders.prefetch_related("lines").order_by("-ordered_at", "-id")


def get_order(user, order_id: int) -> Order:
    order = list_orders(user).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(_("No order with id %(id)s.") % {"id": order_id})
    return order


def customer_order_summary(customer_id: int) -> dict:
    """Totals for one customer; call it only for a customer the caller already fetched through a selector."""
    return Order.objects.filter(customer_id=customer_id).aggregate(
        count=Count("id"), revenue=Sum("amount"), first=Min("ordered_at"), last=Max("ordered_at")
    )

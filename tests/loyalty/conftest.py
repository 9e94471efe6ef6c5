from datetime import datetime
from decimal import Decimal

import pytest


@pytest.fixture
def customer(users, make_customer):
    return make_customer(users["rep"], display_name="Wang Fang")


@pytest.fixture
def place(users):
    """``place(customer, amount, at, number=None)`` -> an order placed through commerce (earns via order.placed)."""
    from guanxi.commerce.services import OrderData, place_order

    counter = {"n": 0}

    def make(customer, amount, at: datetime, number: str | None = None, currency: str = "CNY"):
        counter["n"] += 1
        order, _created = place_order(
            actor=users["admin"],
            data=OrderData(
                customer_id=customer.pk,
                external_id=number or f"T-{customer.pk}-{counter['n']}",
                ordered_at=at,
                amount=Decimal(amount),
                currency=currency,
            ),
        )
        return order

    return make


def ledger_sum(customer_id: int) -> int:
    from django.db.models import Sum

    from guanxi.loyalty.models import PointsEntry

    return PointsEntry.objects.filter(customer_id=customer_id).aggregate(s=Sum("points"))["s"] or 0

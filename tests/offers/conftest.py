from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone


@pytest.fixture
def offer(db, users):
    from guanxi.offers import services

    return services.create_offer(
        actor=users["admin"],
        data={"key": "ten_off", "name": "10% off", "name_zh_hans": "九折", "kind": "percent_off", "value": 10},
    )


@pytest.fixture
def customer(make_customer, users):
    return make_customer(users["rep"], display_name="Wang Fang", emails=["wang@example.com"], region="Shanghai")


@pytest.fixture
def place_order(users):
    from guanxi.commerce.services import OrderData, place_order

    counter = iter(range(1, 10_000))

    def place(customer, amount="100.00", *, at=None, actor=None):
        order, _created = place_order(
            actor=actor or users["admin"],
            data=OrderData(
                customer_id=customer.pk,
                external_id=f"T-{customer.pk}-{next(counter)}",
                ordered_at=at or timezone.now() - timedelta(minutes=1),
                amount=Decimal(amount),
                currency="CNY",
            ),
        )
        return order

    return place

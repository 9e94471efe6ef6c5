from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

_numbers = count(1)


@pytest.fixture
def order_for():
    """``order_for(customer, days_ago, now=...)``: an order row (setup only; tests of the chain use the API)."""
    from django.utils import timezone

    from guanxi.commerce.models import Order

    def make(customer, days_ago: float, *, now: datetime | None = None, amount: str = "100.00"):
        return Order.objects.create(
            customer=customer,
            external_id=f"LC-{next(_numbers)}",
            ordered_at=(now or timezone.now()) - timedelta(days=days_ago),
            amount=Decimal(amount),
            currency="CNY",
        )

    return make


@pytest.fixture
def score_for():
    """``score_for(customer, **fields)``: a current score row as the scoring run writes it."""
    from django.utils import timezone

    from guanxi.segments.models import CustomerScore, ScoreRun

    def make(customer, **fields):
        run = ScoreRun.objects.create(started_at=timezone.now(), as_of=date.today(), status="succeeded")
        values = {
            "as_of": date.today(),
            "segment": "loyal",
            "abc_tier": "B",
            "value_tier": "medium",
            "p_alive": 0.9,
            "expected_purchases_90d": 1.0,
            "expected_spend": 100.0,
            "clv": Decimal("300.00"),
            **fields,
        }
        return CustomerScore.objects.update_or_create(
            customer=customer, defaults={"run": run, "scored_at": timezone.now(), **values}
        )[0]

    return make


@pytest.fixture
def stage_of():
    from guanxi.lifecycle.models import CustomerStage

    def get(customer):
        row = CustomerStage.objects.filter(customer_id=customer.pk).first()
        return row.stage if row else None

    return get

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

_numbers = count(1)


@pytest.fixture
def customer(users, make_customer):
    """A customer owned by the rep of team A."""
    return make_customer(users["rep"], display_name="Zhang Wei")


@pytest.fixture
def follow_up(users, customer):
    """``follow_up(customer=..., actor=..., **fields)``: a follow-up planned through the service."""
    from guanxi.followups import services

    def make(customer=customer, actor=None, **fields):
        from django.utils import timezone

        data = {"title": "Call back", "due_on": timezone.localdate(), **fields}
        return services.create_follow_up(actor=actor or users["admin"], customer_id=customer.pk, **data)

    return make


@pytest.fixture
def score(db):
    """``score(customer, **fields)``: the customer's current score (one run per call)."""
    from django.utils import timezone

    from guanxi.segments.models import CustomerScore, ScoreRun

    def make(customer, **fields):
        run = ScoreRun.objects.create(started_at=timezone.now(), as_of=timezone.localdate(), status="succeeded")
        values = {
            "as_of": timezone.localdate(),
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
def order(db):
    """``order(customer, days_ago, amount="100")``: an order placed that many days ago."""
    from django.utils import timezone

    from guanxi.commerce.models import Order

    def make(customer, days_ago: float, amount: str = "100"):
        return Order.objects.create(
            customer=customer,
            external_id=f"FU-{next(_numbers)}",
            ordered_at=timezone.now() - timedelta(days=days_ago),
            amount=Decimal(amount),
            currency="CNY",
        )

    return make


@pytest.fixture
def log_call(db):
    """``log_call(actor, customer, **fields)``: log an interaction through the engagement service."""
    from guanxi.engagement import services

    def make(actor, customer, channel="phone", **fields):
        fields.setdefault("subject", "Call")
        return services.log_interaction(actor=actor, customer_id=customer.pk, channel=channel, **fields)

    return make


def days_ago(n: float) -> datetime:
    from django.utils import timezone

    return timezone.now() - timedelta(days=n)

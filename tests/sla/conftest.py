from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def queue_a(teams, users):
    from guanxi.tickets.models import Queue

    teams[0].managers.add(users["manager"])
    return Queue.objects.create(name="Team A desk", team=teams[0])


@pytest.fixture
def customer(users, make_customer):
    return make_customer(users["rep"], display_name="Li Na")


@pytest.fixture
def new_ticket(users, queue_a, customer):
    """``new_ticket(**data)``: a ticket of the team A queue, created by the admin at the current (travelled) time."""
    from guanxi.tickets import services

    def make(**data):
        data = {"customer_id": customer.pk, "subject": "Broken kettle", "category": "question", **data}
        data.setdefault("queue_id", queue_a.pk)
        data.setdefault("priority", "normal")
        return services.create_ticket(actor=data.pop("actor", users["admin"]), data=data)

    return make


@pytest.fixture
def set_tier():
    """``set_tier(customer, "A")``: the customer's ABC tier as a scoring run would leave it."""
    from django.utils import timezone

    from guanxi.segments.models import CustomerScore, ScoreRun

    def make(customer, tier: str):
        now = timezone.now()
        run = ScoreRun.objects.create(started_at=now, as_of=now.date(), status="succeeded")
        CustomerScore.objects.create(
            customer=customer,
            run=run,
            scored_at=now,
            as_of=now.date(),
            segment="champions",
            abc_tier=tier,
            value_tier="high",
            p_alive=0.9,
            expected_purchases_90d=1.0,
            expected_spend=100.0,
            clv=1000,
        )

    return make

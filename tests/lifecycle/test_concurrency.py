"""Two orders of one potential customer placed at the same moment: one stage change, one event.

Real threads with their own connections and transactions (PostgreSQL, READ COMMITTED with the stage row locked).
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from guanxi.commerce.services import OrderData, place_order
from guanxi.core.models import Event
from guanxi.lifecycle.models import CustomerStage, StageTransition
from tests.concurrency import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the SQLite test database is in memory with a shared cache, whose table locks fail at once instead "
        "of queueing. Run on PostgreSQL (DATABASE_URL).",
    ),
]


@pytest.fixture
def default_definitions(db):
    """The data migration's stage definitions: an earlier transactional test's flush empties every table."""
    from importlib import import_module

    from django.apps import apps

    from guanxi.lifecycle.models import StageDefinition

    if not StageDefinition.objects.exists():
        import_module("guanxi.lifecycle.migrations.0002_default_stages").create_defaults(apps, None)


def test_two_orders_at_once_change_the_stage_once(default_definitions, users, make_customer):
    rep = users["rep"]
    customer = make_customer(rep, display_name="Busy")
    orders = [
        OrderData(customer_id=customer.pk, external_id=f"C-{i}", ordered_at=timezone.now(), amount=Decimal("9.00"))
        for i in range(2)
    ]
    results = run_at_once([lambda data=data: place_order(actor=rep, data=data) for data in orders])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert CustomerStage.objects.get(customer=customer).stage == "new"
    assert StageTransition.objects.filter(customer=customer, view="stage", to_stage="new").count() == 1
    assert Event.objects.filter(type="customer.stage_changed", subject_id=customer.pk).count() == 1

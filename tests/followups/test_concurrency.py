"""Follow-ups under concurrent writers: one completion wins, and one dedupe key gives one open follow-up.

Real threads with their own database connections (PostgreSQL only: the in-memory SQLite test database fails
table locks at once instead of queueing them).
"""

import pytest
from django.db import connection
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.followups import services
from guanxi.followups.errors import FollowUpClosed
from guanxi.followups.models import FollowUp
from tests.ownership.test_concurrency import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the SQLite test database is in memory with a shared cache, whose table locks fail at once instead "
        "of queueing; the file database (WAL, IMMEDIATE) queues writers. Run on PostgreSQL (DATABASE_URL).",
    ),
]


def test_two_completions_at_once_have_one_winner(users):
    customer = customers.create_customer(actor=users["rep"], data={"display_name": "Busy"})
    task = services.create_follow_up(
        actor=users["rep"], customer_id=customer.pk, title="x", due_on=timezone.localdate()
    )
    results = run_at_once(
        [
            lambda: services.complete_follow_up(actor=users["rep"], follow_up_id=task.pk, note="rep"),
            lambda: services.complete_follow_up(actor=users["manager"], follow_up_id=task.pk, note="manager"),
        ]
    )
    winners = [r for r in results if isinstance(r, FollowUp)]
    assert len(winners) == 1, results
    assert all(isinstance(r, FollowUpClosed) for r in results if r not in winners), results
    task.refresh_from_db()
    assert task.version == 2 and task.completion_note == winners[0].completion_note


def test_one_dedupe_key_gives_one_open_follow_up(users):
    customer = customers.create_customer(actor=users["rep"], data={"display_name": "Twice"})
    results = run_at_once(
        [
            lambda n=n: services.create_follow_up(
                actor=None, customer_id=customer.pk, title=f"t{n}", due_on=timezone.localdate(), dedupe_key="rule:1"
            )
            for n in range(4)
        ]
    )
    assert all(isinstance(r, FollowUp) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert FollowUp.objects.filter(customer=customer).count() == 1

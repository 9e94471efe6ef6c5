"""Two breach checks at the same moment (two workers, or a slow run overlapping the next slot) escalate once.

Real threads with their own connections: PostgreSQL only (the in-memory SQLite test database fails table locks
at once instead of queueing them).
"""

import pytest
import time_machine
from django.db import connection

from guanxi.core.models import Event
from guanxi.sla import services
from guanxi.tickets.models import Ticket
from tests.concurrency import run_at_once

from .conftest import sh

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks (DATABASE_URL)"),
]


def test_two_checks_at_once_escalate_once(new_ticket):
    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        ticket = new_ticket(priority="normal")
    results = run_at_once([lambda: services.check_breaches(sh(2026, 3, 2, 14, 5)) for _ in range(3)])
    assert sorted(results) == [0, 0, 1], results
    assert Event.objects.filter(type="ticket.sla_breached", subject_id=ticket.pk).count() == 1
    assert Event.objects.filter(type="ticket.priority_changed", subject_id=ticket.pk).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"

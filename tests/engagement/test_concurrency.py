"""Two edits of one interaction at the same moment, both from version 1: exactly one wins, the other is a 409.

Real threads with their own connections (PostgreSQL: the row lock of select_for_update makes the second writer
wait and then see version 2)."""

import pytest
from django.db import connection

from guanxi.core.errors import StaleVersion
from guanxi.engagement import services
from guanxi.engagement.models import Interaction
from tests.concurrency import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the SQLite test database is in memory with a shared cache, whose table locks fail at once instead "
        "of queueing; the file database (WAL, IMMEDIATE) queues writers. Run on PostgreSQL (DATABASE_URL).",
    ),
]


def test_concurrent_edits_from_one_version_have_one_winner(users, customers, log):
    interaction = log(users["rep"], customers["rep"], subject="Call")

    def edit(subject):
        return lambda: services.update_interaction(
            actor=users["rep"], interaction_id=interaction.pk, version=1, data={"subject": subject}
        )

    results = run_at_once([edit("A"), edit("B"), edit("C")])
    winners = [r for r in results if isinstance(r, Interaction)]
    assert len(winners) == 1 and sum(isinstance(r, StaleVersion) for r in results) == 2, results
    stored = Interaction.objects.get(pk=interaction.pk)
    assert stored.version == 2 and stored.subject == winners[0].subject

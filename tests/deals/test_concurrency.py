"""Two people dragging the same card at the same moment: one move wins, the other gets a stale version."""

import pytest
from django.db import connection

from guanxi.core.errors import StaleVersion
from guanxi.deals import services
from guanxi.deals.models import Deal, DealStage, DealStageChange
from tests.concurrency import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the SQLite test database is in memory with a shared cache, whose table locks fail at once instead "
        "of queueing. Run on PostgreSQL (DATABASE_URL).",
    ),
]


def test_concurrent_moves_of_one_version_have_one_winner(users, make_customer):
    customer = make_customer(users["rep"])
    deal = services.create_deal(actor=users["rep"], data={"customer_id": customer.pk, "title": "Hot", "value": "1"})
    stages = {s.key: s for s in DealStage.objects.filter(pipeline=deal.pipeline)}
    results = run_at_once(
        [
            lambda: services.move_deal(actor=users["rep"], deal_id=deal.pk, stage_id=stages["proposal"].pk, version=1),
            lambda: services.move_deal(
                actor=users["manager"], deal_id=deal.pk, stage_id=stages["negotiation"].pk, version=1
            ),
        ]
    )
    winners = [r for r in results if isinstance(r, Deal)]
    assert len(winners) == 1, results
    assert all(isinstance(r, StaleVersion) for r in results if r not in winners), results
    deal.refresh_from_db()
    assert deal.version == 2 and deal.stage_id == winners[0].stage_id
    assert DealStageChange.objects.filter(deal=deal).count() == 2

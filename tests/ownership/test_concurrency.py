"""Two (or more) reps claiming one pool customer at the same moment: exactly one wins, the others are told who.

Real threads with their own database connections, each in its own transaction (PostgreSQL: READ COMMITTED row
locks re-check the conditional UPDATE; SQLite: IMMEDIATE transactions queue the writers).
"""

import pytest
from django.db import connection

from guanxi.customers import services as customers
from guanxi.ownership import services
from guanxi.ownership.errors import AlreadyClaimed, ClaimQuotaReached
from guanxi.ownership.models import OwnershipChange, PoolRule
from tests.concurrency import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the SQLite test database is in memory with a shared cache, whose table locks fail at once instead "
        "of queueing; the file database (WAL, IMMEDIATE) queues writers. Run on PostgreSQL (DATABASE_URL).",
    ),
]


def test_concurrent_claims_of_one_customer_have_one_winner(users, teams, make_user):
    reps = [users["rep"], users["rep2"]] + [make_user(f"rep{i}", "sales", teams[0]) for i in range(3, 7)]
    for rep in reps:
        rep.display_name = f"Rep {rep.username}"
        rep.save()
    customer = customers.create_customer(
        actor=users["admin"], data={"display_name": "Hot lead", "owner_id": None, "team_id": teams[0].pk}
    )
    results = run_at_once([lambda rep=rep: services.claim_customer(actor=rep, customer_id=customer.pk) for rep in reps])
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(e, AlreadyClaimed) for e in losers), losers
    customer.refresh_from_db()
    winner = next(rep for rep in reps if rep.pk == customer.owner_id)
    assert {e.message for e in losers} == {f"Rep {winner.username} claimed it first."}
    assert OwnershipChange.objects.filter(customer=customer, reason="claimed").count() == 1
    assert customer.version == 2


def test_one_rep_claiming_two_customers_at_once_respects_the_quota(users, teams):
    PoolRule.objects.create(team=teams[0], daily_claim_quota=1)
    first, second = (
        customers.create_customer(
            actor=users["admin"], data={"display_name": name, "owner_id": None, "team_id": teams[0].pk}
        )
        for name in ("First", "Second")
    )
    rep = users["rep"]
    results = run_at_once([lambda c=c: services.claim_customer(actor=rep, customer_id=c.pk) for c in (first, second)])
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert sum(isinstance(r, ClaimQuotaReached) for r in results) == 1, results
    assert OwnershipChange.objects.filter(to_user=rep, reason="claimed").count() == 1

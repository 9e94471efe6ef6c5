"""100 redemptions at the same moment against a balance that covers 10: exactly 10 succeed, never negative.

Real threads, each with its own database connection and transaction. PostgreSQL: the membership row lock
(select_for_update) makes each redemption wait for the previous one and then see its balance. SQLite: the test
database is in memory with a shared cache, where a second writer's BEGIN IMMEDIATE fails at once ("database table
is locked") instead of queueing; each thread retries then, as an API client retries a 503 database_busy, so the
write transactions run one after the other exactly as the file database (WAL, IMMEDIATE, busy timeout) queues them.
PostgreSQL's connection limit (100, shared with other test runs) is why 20 threads fire 5 redemptions each.
"""

import threading
import time

import pytest
from django.db import OperationalError, connection

from guanxi.loyalty import services
from guanxi.loyalty.errors import InsufficientPoints
from guanxi.loyalty.models import Membership, PointsEntry
from tests.loyalty.conftest import ledger_sum

pytestmark = pytest.mark.django_db(transaction=True)

THREADS, PER_THREAD, COST = 20, 5, 7


def _retrying(call):
    for _attempt in range(2000):
        try:
            return call()
        except OperationalError as exc:  # SQLite shared-cache lock: nothing was written; try again
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            connection.close()
            time.sleep(0.001)
    raise AssertionError("the database stayed locked")


def test_100_concurrent_redemptions_against_a_balance_for_10(users, make_customer):
    customer = make_customer(users["rep"], display_name="Chen Jing")
    services.credit_points(customer_id=customer.pk, points=10 * COST, source_key="seed", reason="seed")
    barrier = threading.Barrier(THREADS)
    outcomes: list = []
    lock = threading.Lock()

    def worker(index):
        try:
            barrier.wait(timeout=20)
            for n in range(PER_THREAD):
                key = f"redeem:{index}:{n}"
                try:
                    result = _retrying(
                        lambda key=key: services.redeem_points(
                            actor=users["rep"], customer_id=customer.pk, points=COST, source_key=key
                        )
                    )
                except Exception as exc:  # collected and asserted below
                    result = exc
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == THREADS * PER_THREAD
    succeeded = [r for r in outcomes if isinstance(r, PointsEntry)]
    refused = [r for r in outcomes if isinstance(r, InsufficientPoints)]
    assert len(succeeded) == 10, [r for r in outcomes if not isinstance(r, PointsEntry | InsufficientPoints)]
    assert len(refused) == 90
    assert all(r.details["balance"] < COST for r in refused)
    assert Membership.objects.get(pk=customer.pk).balance == 0 == ledger_sum(customer.pk)
    assert PointsEntry.objects.filter(kind="redeem").count() == 10


def test_concurrent_deliveries_of_one_credit_credit_once(users, make_customer):
    customer = make_customer(users["rep"], display_name="Zhao Lei")
    services.membership_for(customer.pk)
    results = []

    def worker():
        try:
            results.append(
                _retrying(
                    lambda: services.credit_points(customer_id=customer.pk, points=25, source_key="dup", reason="x")
                )
            )
        except Exception as exc:  # asserted below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, PointsEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Membership.objects.get(pk=customer.pk).balance == 25 == ledger_sum(customer.pk)

"""Two workers running the same delivery's task at once (a duplicated or re-queued task): one request only.

Real threads with their own connections (PostgreSQL; see tests/ownership/test_concurrency.py for why SQLite's
in-memory test database cannot run this)."""

import threading

import pytest
from django.db import connection

from guanxi.integrations import services
from guanxi.integrations.models import WebhookAttempt, WebhookDelivery

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the SQLite test database is in memory with a shared cache; run on PostgreSQL (DATABASE_URL).",
    ),
]


def test_one_attempt_when_two_workers_deliver_at_once(users, receiver):
    receiver.answer((200, "ok", {}, 0.3))
    endpoint = services.create_endpoint(actor=users["admin"], url=receiver.url, event_types=["x.*"], allow_private=True)
    delivery = services.queue_webhook(endpoint=endpoint, event_type="x.y", payload={})
    barrier = threading.Barrier(4)
    results = []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(services.deliver(delivery.pk))
        except Exception as exc:  # asserted below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
    final = WebhookDelivery.objects.get(pk=delivery.pk)
    assert final.status == WebhookDelivery.Status.SUCCEEDED and final.attempts == 1

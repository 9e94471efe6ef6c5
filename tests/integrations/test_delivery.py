"""Webhook deliveries against a real local HTTP server: signing, retries with backoff, redirects, timeouts,
the SSRF guard at delivery time, and endpoint subscriptions to domain events."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from guanxi.core import events
from guanxi.core.models import Event
from guanxi.integrations import services
from guanxi.integrations.models import WebhookAttempt, WebhookDelivery
from guanxi.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(users, receiver):
    return services.create_endpoint(
        actor=users["admin"], url=receiver.url, event_types=["customer.*"], allow_private=True
    )


def _queue(endpoint, **kwargs):
    return services.queue_webhook(
        endpoint=endpoint, event_type=kwargs.pop("event_type", "order.placed"), payload={"customer_id": 7}, **kwargs
    )


def test_message_is_signed_to_the_standard_webhooks_spec(endpoint, receiver):
    delivery = _queue(endpoint)

    delivered = services.deliver(delivery.pk)

    assert delivered.status == WebhookDelivery.Status.SUCCEEDED
    assert delivered.attempts == 1 and delivered.last_status_code == 200 and delivered.response_excerpt == "ok"
    (request,) = receiver.requests
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["content-type"] == "application/json"
    # The receiver's side: verifying with the secret the admin was shown parses the body.
    body = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert body["type"] == "order.placed"
    assert body["data"] == {"customer_id": 7}
    assert body["timestamp"].endswith("Z")
    # Another secret does not verify.
    with pytest.raises(Exception, match="signature"):
        Webhook(services.generate_secret()).verify(request.body, request.headers)


def test_secret_format_is_whsec_and_32_random_bytes():
    import base64

    secret = services.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != services.generate_secret()


def test_a_500_is_retried_with_backoff_then_succeeds(endpoint, receiver, fast_retries):
    receiver.answer((500, "boom"), (200, "thanks"))
    delivery = _queue(endpoint)

    before = timezone.now()
    first = services.deliver(delivery.pk)

    assert first.status == WebhookDelivery.Status.RETRYING
    assert first.attempts == 1 and first.last_status_code == 500 and "500" in first.last_error
    assert first.response_excerpt == "boom"
    # The first retry waits the first delay of the schedule (1 s here, 5 s by default).
    assert before + timedelta(seconds=1) <= first.next_attempt_at <= timezone.now() + timedelta(seconds=1)
    # Not due yet: a task that runs early changes nothing and sends nothing.
    assert services.deliver(delivery.pk).attempts == 1
    assert len(receiver.requests) == 1

    second = services.deliver(delivery.pk, force=True)

    assert second.status == WebhookDelivery.Status.SUCCEEDED and second.attempts == 2
    assert second.delivered_at is not None and second.next_attempt_at is None
    assert [a.status_code for a in WebhookAttempt.objects.filter(delivery=delivery)] == [500, 200]
    # Same message id and body on every attempt, so the receiver can deduplicate.
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert receiver.requests[0].body == receiver.requests[1].body


def test_backoff_grows_and_the_last_failure_is_reported(endpoint, receiver, fast_retries, users):
    receiver.answer((503, "down"))
    delivery = _queue(endpoint)
    waits = []
    for _ in range(3):
        now = timezone.now()
        result = services.deliver(delivery.pk, force=True)
        waits.append(round((result.next_attempt_at - now).total_seconds()))
    assert waits == [1, 2, 4]
    assert Notification.objects.filter(kind="webhook_failed").count() == 0

    final = services.deliver(delivery.pk, force=True)

    assert final.status == WebhookDelivery.Status.FAILED and final.attempts == 4 and final.next_attempt_at is None
    event = Event.objects.get(type="webhook.delivery_failed")
    assert event.payload["delivery_id"] == delivery.pk and event.payload["customer_id"] == 7
    assert event.payload["attempts"] == 4 and event.payload["last_status_code"] == 503
    note = Notification.objects.get(kind="webhook_failed")
    assert note.user == users["admin"] and note.link == f"/webhooks/deliveries/{delivery.pk}/"
    # A finished delivery is not attempted again.
    assert services.deliver(delivery.pk, force=True).attempts == 4
    assert len(receiver.requests) == 4


def test_redirects_are_not_followed(endpoint, receiver):
    receiver.answer((302, "", {"Location": "http://169.254.169.254/latest/meta-data/"}))

    result = services.deliver(_queue(endpoint).pk)

    assert result.status == WebhookDelivery.Status.RETRYING
    assert result.last_status_code == 302 and "169.254.169.254" in result.last_error
    assert len(receiver.requests) == 1


def test_a_slow_receiver_times_out(endpoint, receiver, fast_retries):
    receiver.answer((200, "late", {}, 2.0))

    result = services.deliver(_queue(endpoint).pk)

    assert result.status == WebhookDelivery.Status.RETRYING
    assert result.last_status_code is None and "Timed out" in result.last_error


def test_connection_refused_is_a_failed_attempt(users, settings):
    settings.GUANXI_WEBHOOK_ALLOW_PRIVATE = True
    delivery = services.queue_webhook(url="http://127.0.0.1:9/nothing", event_type="x.y", payload={})

    result = services.deliver(delivery.pk)

    assert result.status == WebhookDelivery.Status.RETRYING and "Connection failed" in result.last_error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://localhost:{port}/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://0.0.0.0:{port}/hook",
    ],
)
def test_private_receivers_are_refused_without_a_request(url, receiver):
    port = receiver.url.split(":")[2].split("/")[0]
    delivery = services.queue_webhook(url=url.format(port=port), event_type="x.y", payload={})

    result = services.deliver(delivery.pk)

    assert result.status == WebhookDelivery.Status.FAILED
    assert result.attempts == 1 and result.last_status_code is None
    assert "may not reach" in result.last_error
    assert receiver.requests == []


def test_private_receiver_is_reached_when_the_setting_allows_it(receiver, settings, users):
    settings.GUANXI_WEBHOOK_ALLOW_PRIVATE = True
    secret = services.generate_secret()
    delivery = services.queue_webhook(url=receiver.url, event_type="x.y", payload={"a": 1}, secret=secret)

    assert services.deliver(delivery.pk).status == WebhookDelivery.Status.SUCCEEDED
    assert Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)["data"] == {"a": 1}


def test_endpoint_flag_is_checked_again_at_delivery(endpoint, receiver, users):
    delivery = _queue(endpoint)
    endpoint.allow_private = False
    endpoint.save(update_fields=["allow_private"])  # as if the address changed to a private one meanwhile

    result = services.deliver(delivery.pk)

    assert result.status == WebhookDelivery.Status.FAILED and receiver.requests == []


def test_deliver_refuses_to_run_inside_a_transaction(endpoint):
    from django.db import transaction

    delivery = _queue(endpoint)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.deliver(delivery.pk)


def test_rotated_secret_signs_with_both_for_a_day(endpoint, receiver, users):
    old = endpoint.secret
    rotated = services.rotate_secret(actor=users["admin"], endpoint_id=endpoint.pk)
    assert rotated.secret != old

    services.deliver(_queue(rotated).pk)

    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(rotated.secret).verify(request.body, request.headers)


def test_redeliver_sends_the_same_message_again(endpoint, receiver, users, fast_retries):
    receiver.answer((500,), (500,), (500,), (500,), (200,))
    delivery = _queue(endpoint)
    for _ in range(4):
        services.deliver(delivery.pk, force=True)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookDelivery.Status.FAILED

    copy = services.redeliver(actor=users["admin"], delivery_id=delivery.pk)
    result = services.deliver(copy.pk)

    assert result.status == WebhookDelivery.Status.SUCCEEDED and result.redelivery_of_id == delivery.pk
    assert receiver.requests[-1].headers["webhook-id"] == delivery.message_id
    assert json.loads(receiver.requests[-1].body) == json.loads(receiver.requests[0].body)


# ------------------------------------------------------------------------------------------------ subscriptions


def test_recorded_events_reach_subscribed_endpoints_after_commit(
    endpoint, receiver, users, make_customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        customer = make_customer(users["rep"], display_name="Ada")

    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_type="customer.created")
    assert delivery.payload["subject_id"] == customer.pk
    assert delivery.payload["subject_type"] == "customers.customer"
    assert callbacks  # the first attempt is enqueued after commit, never inside the transaction
    # Only subscribed types: customer.* matches customer.created, not notification.created or order.placed.
    assert not WebhookDelivery.objects.exclude(event_type__startswith="customer.").exists()

    result = services.deliver(delivery.pk)
    assert result.status == WebhookDelivery.Status.SUCCEEDED
    body = Webhook(endpoint.secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert body["type"] == "customer.created" and body["data"]["event_id"] == delivery.event_id


def test_no_endpoints_costs_one_query_per_transaction(users, django_assert_max_num_queries):
    from django.db import transaction

    recorded = [
        Event(pk=i, type="order.placed", subject_type="x.y", subject_id=1, payload={}, occurred_at=timezone.now())
        for i in range(1, 4)
    ]
    with transaction.atomic(), django_assert_max_num_queries(1):
        for event in recorded:
            services.queue_for_events([event])


def test_batch_form_queues_one_bulk_insert(endpoint, users, django_assert_max_num_queries):
    from django.db import transaction

    with transaction.atomic():
        recorded = events.record_many(
            "customer.imported", [(users["admin"], {"customer_id": i}, None) for i in range(50)]
        )
    assert WebhookDelivery.objects.filter(event_type="customer.imported").count() == 50
    assert {d.event_id for d in WebhookDelivery.objects.filter(event_type="customer.imported")} == {
        e.pk for e in recorded
    }


def test_inactive_and_deleted_endpoints_receive_nothing(endpoint, users, make_customer):
    services.update_endpoint(actor=users["admin"], endpoint_id=endpoint.pk, version=1, data={"active": False})
    make_customer(users["rep"])
    assert not WebhookDelivery.objects.exists()


def test_a_failure_report_does_not_report_itself(users, receiver, fast_retries):
    catch_all = services.create_endpoint(
        actor=users["admin"], url="http://127.0.0.1:9/", event_types=["*"], allow_private=True
    )
    failing = services.queue_webhook(endpoint=catch_all, event_type="webhook.delivery_failed", payload={})
    for _ in range(4):
        services.deliver(failing.pk, force=True)
    assert Event.objects.filter(type="webhook.delivery_failed").count() == 1
    assert not WebhookDelivery.objects.filter(event_id__in=Event.objects.filter(type="webhook.delivery_failed"))


def test_erasing_a_customer_empties_the_deliveries_about_them(endpoint, users, make_customer):
    from guanxi.privacy import services as privacy

    customer = make_customer(users["rep"], display_name="Ada Lovelace")
    other = make_customer(users["rep"], display_name="Grace")
    about = WebhookDelivery.objects.get(event_type="customer.created", payload__subject_id=customer.pk)
    direct = services.queue_webhook(endpoint=endpoint, event_type="x.y", payload={"customer_id": customer.pk})
    kept = WebhookDelivery.objects.get(event_type="customer.created", payload__subject_id=other.pk)

    privacy.erase_customer(actor=users["admin"], customer_id=customer.pk, reason="request")

    for delivery in (about, direct):
        delivery.refresh_from_db()
        assert delivery.payload["erased"] is True and delivery.status == WebhookDelivery.Status.FAILED
        assert "Ada" not in json.dumps(delivery.payload)
    kept.refresh_from_db()
    assert kept.payload["subject_id"] == other.pk and kept.status == WebhookDelivery.Status.PENDING

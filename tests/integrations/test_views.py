"""Webhook pages: admins only; create with the SSRF guard in place, edit, test, rotate, delete; the delivery log,
a delivery's attempts and redelivery."""

import pytest

from guanxi.integrations import services
from guanxi.integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PUBLIC = "http://93.184.216.34/hook"


@pytest.fixture
def endpoint(users):
    return services.create_endpoint(actor=users["admin"], url=PUBLIC, event_types=["order.*"], description="ERP")


def test_anonymous_is_sent_to_login(client):
    response = client.get("/webhooks/")
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("role", ["rep", "manager", "analyst"])
def test_other_roles_get_403_everywhere(browser_for, users, endpoint, role):
    client = browser_for(users[role])
    delivery = services.queue_webhook(endpoint=endpoint, event_type="order.placed", payload={})
    for response in (
        client.get("/webhooks/"),
        client.get("/webhooks/new/"),
        client.post("/webhooks/new/", {"url": PUBLIC, "event_types": "*"}),
        client.get(f"/webhooks/{endpoint.pk}/"),
        client.post(f"/webhooks/{endpoint.pk}/delete/"),
        client.post(f"/webhooks/{endpoint.pk}/test/"),
        client.get("/webhooks/deliveries/"),
        client.get(f"/webhooks/deliveries/{delivery.pk}/"),
        client.post(f"/webhooks/deliveries/{delivery.pk}/redeliver/"),
    ):
        assert response.status_code == 403
    assert WebhookEndpoint.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_private_url_is_refused_in_the_form_unless_allowed(browser_for, users):
    client = browser_for(users["admin"])
    refused = client.post("/webhooks/new/", {"url": "http://169.254.169.254/", "event_types": "*", "active": "on"})
    assert refused.status_code == 200
    assert "may not reach" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()
    bad_types = client.post("/webhooks/new/", {"url": PUBLIC, "event_types": "Bad Type!", "active": "on"})
    assert "is not an event type" in bad_types.content.decode()

    allowed = client.post(
        "/webhooks/new/",
        {"url": "http://10.0.0.5/", "event_types": "customer.*\norder.placed", "active": "on", "allow_private": "on"},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert allowed.status_code == 302 and allowed["Location"] == f"/webhooks/{endpoint.pk}/"
    assert endpoint.event_types == ["customer.*", "order.placed"] and endpoint.allow_private


def test_admin_edits_tests_rotates_and_deletes(browser_for, users, endpoint):
    client = browser_for(users["admin"])
    page = client.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret in page and "ERP" in page

    stale = client.post(f"/webhooks/{endpoint.pk}/", {"version": 9, "url": PUBLIC, "event_types": "*"})
    assert "Someone else changed" in stale.content.decode()
    saved = client.post(f"/webhooks/{endpoint.pk}/", {"version": 1, "url": PUBLIC, "event_types": "*"})
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["*"] and endpoint.active is False

    tested = client.post(f"/webhooks/{endpoint.pk}/test/")
    delivery = WebhookDelivery.objects.get(event_type="webhook.test")
    assert tested["Location"] == f"/webhooks/deliveries/{delivery.pk}/"

    old = endpoint.secret
    client.post(f"/webhooks/{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old

    assert client.post(f"/webhooks/{endpoint.pk}/delete/")["Location"] == "/webhooks/"
    assert not WebhookEndpoint.objects.exists()


def test_delivery_log_filters_and_detail(browser_for, users, endpoint, django_assert_max_num_queries):
    for event_type in ("order.placed", "order.cancelled", "customer.created"):
        services.queue_webhook(endpoint=endpoint, event_type=event_type, payload={"x": event_type})
    WebhookDelivery.objects.filter(event_type="order.cancelled").update(
        status="failed", attempts=8, last_status_code=500, last_error="The receiver answered HTTP 500."
    )
    client = browser_for(users["admin"])

    with django_assert_max_num_queries(12):
        page = client.get("/webhooks/deliveries/").content.decode()
    assert page.count('data-status="') == 3
    failed = client.get("/webhooks/deliveries/", {"status": "failed"}).content.decode()
    assert failed.count('data-status="failed"') == 1 and 'data-status="pending"' not in failed
    fragment = client.get("/webhooks/deliveries/", {"event_type": "order."}, headers={"HX-Request": "true"})
    assert fragment.content.decode().count('data-status="') == 2 and "<html" not in fragment.content.decode()

    cancelled = WebhookDelivery.objects.get(event_type="order.cancelled")
    detail = client.get(f"/webhooks/deliveries/{cancelled.pk}/").content.decode()
    assert cancelled.message_id in detail and 'data-testid="redeliver"' in detail
    again = client.post(f"/webhooks/deliveries/{cancelled.pk}/redeliver/")
    copy = WebhookDelivery.objects.get(redelivery_of=cancelled)
    assert again["Location"] == f"/webhooks/deliveries/{copy.pk}/"
    pending = WebhookDelivery.objects.get(event_type="order.placed")
    client.post(f"/webhooks/deliveries/{pending.pk}/redeliver/")
    assert not WebhookDelivery.objects.filter(redelivery_of=pending).exists()
    assert client.get("/webhooks/deliveries/999999/").status_code == 404

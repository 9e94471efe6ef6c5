"""/api/v1/webhooks: admins only; endpoint CRUD with the SSRF guard, secrets, the delivery log and redelivery."""

import pytest

from guanxi.integrations import services
from guanxi.integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks"
PUBLIC = "http://93.184.216.34/hook"  # an IP literal: resolving it needs no network


@pytest.fixture
def endpoint(users):
    return services.create_endpoint(actor=users["admin"], url=PUBLIC, event_types=["order.*"])


def test_anonymous_is_401(api):
    assert api(None).get(f"{BASE}/endpoints").status_code == 401
    assert api(None).post(f"{BASE}/endpoints", {}, content_type="application/json").status_code == 401


@pytest.mark.parametrize("role", ["rep", "manager", "support", "analyst"])
def test_other_roles_are_refused_everything(api, users, endpoint, role):
    client = api(users[role])
    delivery = services.queue_webhook(endpoint=endpoint, event_type="order.placed", payload={})
    for response in (
        client.get(f"{BASE}/endpoints"),
        client.get(f"{BASE}/endpoints/{endpoint.pk}"),
        client.get(f"{BASE}/endpoints/{endpoint.pk}/secret"),
        client.post(f"{BASE}/endpoints", {"url": PUBLIC, "event_types": ["*"]}, content_type="application/json"),
        client.patch(
            f"{BASE}/endpoints/{endpoint.pk}", {"version": 1, "active": False}, content_type="application/json"
        ),
        client.post(f"{BASE}/endpoints/{endpoint.pk}/rotate-secret"),
        client.post(f"{BASE}/endpoints/{endpoint.pk}/test"),
        client.delete(f"{BASE}/endpoints/{endpoint.pk}"),
        client.get(f"{BASE}/deliveries"),
        client.get(f"{BASE}/deliveries/{delivery.pk}"),
        client.post(f"{BASE}/deliveries/{delivery.pk}/redeliver"),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "webhooks_denied"
    endpoint.refresh_from_db()
    assert endpoint.active and WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:8000/hook", "destination_refused"),
        ("http://10.0.0.5/hook", "destination_refused"),
        ("http://169.254.169.254/latest/meta-data/", "destination_refused"),
        ("http://[::1]/hook", "destination_refused"),
        ("ftp://93.184.216.34/hook", "destination_refused"),
        ("file:///etc/passwd", "destination_refused"),
    ],
)
def test_private_or_odd_urls_are_refused_at_creation(api, users, url, code):
    response = api(users["admin"]).post(
        f"{BASE}/endpoints", {"url": url, "event_types": ["*"]}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert not WebhookEndpoint.objects.exists()


def test_invalid_event_types_are_422(api, users):
    client = api(users["admin"])
    for types in ([], ["Not A Type"], ["order.*.x"]):
        response = client.post(
            f"{BASE}/endpoints", {"url": PUBLIC, "event_types": types}, content_type="application/json"
        )
        assert response.status_code == 422, types


def test_private_url_is_accepted_when_the_admin_allows_it(api, users):
    response = api(users["admin"]).post(
        f"{BASE}/endpoints",
        {"url": "http://127.0.0.1:8000/hook", "event_types": ["*"], "allow_private": True},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["allow_private"] is True


def test_admin_creates_reads_updates_rotates_and_deletes(api, users):
    client = api(users["admin"])
    created = client.post(
        f"{BASE}/endpoints",
        {"url": PUBLIC, "event_types": ["customer.*", "order.placed"], "description": "ERP"},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["version"] == 1
    endpoint_id = body["id"]
    assert "secret" not in client.get(f"{BASE}/endpoints/{endpoint_id}").json()
    assert client.get(f"{BASE}/endpoints/{endpoint_id}/secret").json()["secret"] == body["secret"]

    stale = client.patch(
        f"{BASE}/endpoints/{endpoint_id}", {"version": 7, "active": False}, content_type="application/json"
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    updated = client.patch(
        f"{BASE}/endpoints/{endpoint_id}", {"version": 1, "active": False}, content_type="application/json"
    )
    assert updated.status_code == 200 and updated.json()["active"] is False and updated.json()["version"] == 2

    rotated = client.post(f"{BASE}/endpoints/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    assert rotated.json()["previous_secret_expires_at"]

    test = client.post(f"{BASE}/endpoints/{endpoint_id}/test")
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"

    assert client.delete(f"{BASE}/endpoints/{endpoint_id}").status_code == 204
    assert client.get(f"{BASE}/endpoints/{endpoint_id}").status_code == 404
    # The log outlives the endpoint; its unsent test message stops.
    delivery = WebhookDelivery.objects.get(pk=test.json()["id"])
    assert delivery.endpoint_id is None and delivery.status == "failed"


def test_delivery_log_filters_detail_and_redeliver(api, users, endpoint, django_assert_max_num_queries):
    other = services.create_endpoint(actor=users["admin"], url=PUBLIC, event_types=["*"])
    placed = services.queue_webhook(endpoint=endpoint, event_type="order.placed", payload={"n": 1})
    services.queue_webhook(endpoint=other, event_type="customer.created", payload={"n": 2})
    for _ in range(3):
        services.queue_webhook(endpoint=other, event_type="customer.updated", payload={"n": 3})
    client = api(users["admin"])

    with django_assert_max_num_queries(6):
        everything = client.get(f"{BASE}/deliveries").json()
    assert everything["total"] >= 5
    by_prefix = client.get(f"{BASE}/deliveries", {"event_type": "customer."}).json()
    assert {item["event_type"] for item in by_prefix["items"]} == {"customer.created", "customer.updated"}
    by_endpoint = client.get(f"{BASE}/deliveries", {"endpoint_id": endpoint.pk}).json()
    assert [item["id"] for item in by_endpoint["items"]] == [placed.pk]
    assert client.get(f"{BASE}/deliveries", {"status": "bogus"}).status_code == 422

    detail = client.get(f"{BASE}/deliveries/{placed.pk}").json()
    assert detail["payload"] == {"n": 1} and detail["attempt_log"] == [] and detail["status"] == "pending"
    assert client.get(f"{BASE}/deliveries/999999").status_code == 404

    in_progress = client.post(f"{BASE}/deliveries/{placed.pk}/redeliver")
    assert in_progress.status_code == 409
    assert in_progress.json()["error"]["code"] == "webhook_delivery_in_progress"
    WebhookDelivery.objects.filter(pk=placed.pk).update(status="failed")
    again = client.post(f"{BASE}/deliveries/{placed.pk}/redeliver")
    assert again.status_code == 202
    assert again.json()["redelivery_of_id"] == placed.pk and again.json()["message_id"] == placed.message_id

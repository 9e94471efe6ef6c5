"""POST /api/v1/orders/{id}/refund: scoped, once only, emits order.refunded (loyalty reverses the points)."""

from datetime import UTC, datetime

import pytest

from guanxi.commerce.models import Order
from guanxi.core.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(api, users, make_customer):
    customer = make_customer(users["rep"], display_name="Refund me")
    body = {
        "customer_id": customer.pk,
        "external_id": "R-1",
        "ordered_at": datetime(2026, 5, 1, 3, 0, tzinfo=UTC).isoformat(),
        "amount": "250.00",
    }
    response = api(users["rep"]).post("/api/v1/orders", body, content_type="application/json")
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["id"])


def test_refund_is_scoped_once_only_and_emits_the_event(api, users, order):
    url = f"/api/v1/orders/{order.pk}/refund"
    assert api(None).post(url, {}, content_type="application/json").status_code == 401
    assert api(users["rep_b"]).post(url, {}, content_type="application/json").status_code == 404
    assert api(users["analyst"]).post(url, {}, content_type="application/json").status_code == 404
    assert api(users["rep"]).post(url, {"colour": "x"}, content_type="application/json").status_code == 422
    done = api(users["rep"]).post(url, {"reason": "Damaged"}, content_type="application/json")
    assert done.status_code == 200
    assert done.json()["refunded_at"] is not None and done.json()["refund_reason"] == "Damaged"
    again = api(users["rep"]).post(url, {}, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "order_already_refunded"
    event = Event.objects.get(type="order.refunded")
    assert event.payload == {
        "customer_id": order.customer_id,
        "order_id": order.pk,
        "amount": "250.00",
        "currency": order.currency,
        "reason": "Damaged",
    }


def test_refund_reverses_the_points_the_order_earned(api, users, order):
    from guanxi.loyalty.models import Membership, PointsEntry

    earned = PointsEntry.objects.get(source_key=f"order:{order.pk}").points
    assert earned == 250
    api(users["rep"]).post(f"/api/v1/orders/{order.pk}/refund", {}, content_type="application/json")
    assert PointsEntry.objects.get(source_key=f"refund:{order.pk}").points == -earned
    assert Membership.objects.get(pk=order.customer_id).balance == 0

import json

from guanxi.commerce.models import Order
from guanxi.core.models import Event

URL = "/api/v1/orders"


def post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def order(customer_id, number="SO-1", amount="99.50"):
    return {
        "customer_id": customer_id,
        "external_id": number,
        "ordered_at": "2026-11-20T10:00:00+08:00",
        "amount": amount,
        "currency": "cny",
        "lines": [{"sku": "X", "description": "Tea", "quantity": "2", "unit_price": "49.75"}],
    }


def test_orders_are_scoped_like_their_customers(users, api, make_customer):
    mine = make_customer(users["rep"], display_name="Mine")
    theirs = make_customer(users["rep2"], display_name="Theirs")
    assert post(api(users["rep2"]), order(theirs.pk, "T-1")).status_code == 201
    client = api(users["rep"])
    assert post(client, order(theirs.pk, "T-2")).status_code == 404
    assert post(client, order(mine.pk, "M-1")).status_code == 201
    listed = client.get(URL).json()
    assert [o["external_id"] for o in listed["items"]] == ["M-1"]
    their_order = Order.objects.get(external_id="T-1")
    assert client.get(f"{URL}/{their_order.pk}").status_code == 404


def test_placing_an_order_is_idempotent_on_its_number(users, api, make_customer):
    customer = make_customer(users["rep"], display_name="Buyer")
    client = api(users["rep"])
    first = post(client, order(customer.pk))
    assert first.status_code == 201
    body = first.json()
    assert body["currency"] == "CNY" and body["amount"] == "99.50" and len(body["lines"]) == 1
    events = Event.objects.filter(type="order.placed").count()
    again = post(client, order(customer.pk))
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Event.objects.filter(type="order.placed").count() == events
    conflict = post(client, order(customer.pk, amount="1.00"))
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "duplicate_order"
    assert Order.objects.count() == 1


def test_invalid_orders_are_422(users, api, make_customer):
    customer = make_customer(users["rep"], display_name="Buyer")
    client = api(users["rep"])
    assert post(client, order(customer.pk, amount="-5")).status_code == 422
    bad_currency = post(client, {**order(customer.pk), "currency": "1$"})
    assert bad_currency.status_code == 422 and "currency" in bad_currency.json()["error"]["details"]
    assert Order.objects.count() == 0


def test_order_page_section_on_customer_detail(users, api, make_customer, client):
    customer = make_customer(users["rep"], display_name="Buyer")
    post(api(users["rep"]), order(customer.pk, "SHOWN-1"))
    client.force_login(users["rep"])
    assert "SHOWN-1" in client.get(f"/customers/{customer.pk}/").content.decode()

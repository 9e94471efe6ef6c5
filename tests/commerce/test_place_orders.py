"""place_orders: many orders in one transaction, idempotent on the order number, one event per batch."""

from datetime import UTC, datetime
from decimal import Decimal

from guanxi.commerce.models import Order, OrderLine
from guanxi.commerce.services import LineData, OrderData, place_orders
from guanxi.core.models import AuditEntry, Event

WHEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def data(customer_id, number, amount="10", **kw):
    return OrderData(customer_id=customer_id, external_id=number, ordered_at=WHEN, amount=Decimal(amount), **kw)


def test_refused_orders_do_not_stop_the_others(users, make_customer):
    rep = users["rep"]
    mine = make_customer(rep, display_name="Mine")
    theirs = make_customer(users["rep_b"], display_name="Theirs")
    results = place_orders(
        actor=rep,
        orders=[
            data(mine.pk, "A-1", lines=[LineData(quantity=Decimal(2), unit_price=Decimal(5), sku="TEA")]),
            data(mine.pk, "A-2", amount="-1"),
            data(theirs.pk, "A-3"),
            data(mine.pk, "A-4", currency="usd"),
            data(mine.pk, "A-1"),  # the same order again inside the batch
            data(mine.pk, "A-1", amount="11"),  # a different order under the same number
        ],
    )
    assert [r.created for r in results] == [True, False, False, True, False, False]
    assert [r.error.code if r.error else None for r in results] == [
        None,
        "order_invalid",
        "customer_not_found",
        None,
        None,
        "duplicate_order",
    ]
    assert results[4].order_id == results[0].order_id
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["A-1", "A-4"]
    assert Order.objects.get(external_id="A-4").currency == "USD"
    assert OrderLine.objects.get().description == "TEA"
    event = Event.objects.get(type="orders.placed")
    assert sorted(event.payload["order_ids"]) == sorted([results[0].order_id, results[3].order_id])
    assert AuditEntry.objects.filter(event=event).count() == 1


def test_placing_the_same_batch_again_creates_nothing_and_records_no_event(users, make_customer):
    rep = users["rep"]
    mine = make_customer(rep, display_name="Mine")
    batch = [data(mine.pk, f"B-{i}") for i in range(3)]
    assert all(r.created for r in place_orders(actor=rep, orders=batch))
    events = Event.objects.filter(type="orders.placed").count()
    again = place_orders(actor=rep, orders=batch)
    assert [r.created for r in again] == [False] * 3 and all(r.order_id for r in again)
    assert Order.objects.count() == 3
    assert Event.objects.filter(type="orders.placed").count() == events

"""The timeline registry: merge order across sources, paging with ``before``, filters, per-source access."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from guanxi.commerce import services as orders
from guanxi.engagement import timeline
from guanxi.engagement.timeline import TimelineItem, TimelineSource

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MINE = ["interactions", "orders", "ownership"]


@pytest.fixture
def history(users, customers, log):
    """rep's customer: calls on days 1 and 3, orders on days 2 and 4 (ownership: created now)."""
    customer = customers["rep"]
    log(users["rep"], customer, subject="First call", occurred_at=T0 + timedelta(days=1))
    log(users["rep"], customer, channel="note", subject="", body="Likes green tea", occurred_at=T0 + timedelta(days=3))
    for day, number in ((2, "SO-1"), (4, "SO-2")):
        orders.place_order(
            actor=users["rep"],
            data=orders.OrderData(customer.pk, number, T0 + timedelta(days=day), Decimal("120.50"), "CNY"),
        )
    return customer


def test_merged_newest_first_across_sources(users, history):
    page = timeline.merged(users["rep"], history, kinds=MINE)
    assert [(i.kind, i.title) for i in page.items] == [
        ("ownership", "Created"),
        ("orders", "Order SO-2"),
        ("interactions", "Note"),
        ("orders", "Order SO-1"),
        ("interactions", "Phone call: First call"),
    ]
    assert page.items[1].body == "120.50 CNY" and page.items[2].body == "Likes green tea"
    assert page.items[4].actor == "rep" and not page.has_more


def test_paging_with_before(users, history):
    first = timeline.merged(users["rep"], history, kinds=MINE, limit=2)
    assert [i.title for i in first.items] == ["Created", "Order SO-2"] and first.has_more
    second = timeline.merged(users["rep"], history, kinds=MINE, before=first.next_before, limit=2)
    assert [i.title for i in second.items] == ["Note", "Order SO-1"] and second.has_more
    third = timeline.merged(users["rep"], history, kinds=MINE, before=second.next_before, limit=2)
    assert [i.title for i in third.items] == ["Phone call: First call"] and not third.has_more
    assert third.next_before is None


def test_filter_by_kind_and_unknown_kinds_are_ignored(users, history):
    page = timeline.merged(users["rep"], history, kinds=["orders", "nonsense"])
    assert page.kinds == ["orders"] and [i.kind for i in page.items] == ["orders", "orders"]
    assert set(MINE) <= set(timeline.merged(users["rep"], history).kinds)


def test_analyst_sees_orders_but_no_interactions_or_ownership(users, history):
    page = timeline.merged(users["analyst"], history, kinds=MINE)
    assert [i.kind for i in page.items] == ["orders", "orders"]


def test_a_registered_source_joins_the_merge(users, history):
    def fetch(user, customer, *, before, limit):
        items = [TimelineItem(at=T0 + timedelta(days=2, hours=12), kind="tickets", title="Ticket #9", icon="🎫")]
        return [i for i in items if before is None or i.at < before][:limit]

    timeline.register_source(TimelineSource("tickets", "Tickets", fetch))
    try:
        page = timeline.merged(users["rep"], history, kinds=[*MINE, "tickets"])
        assert [i.title for i in page.items][2:4] == ["Note", "Ticket #9"]
        assert timeline.merged(users["rep"], history, kinds=["tickets"]).kinds == ["tickets"]
    finally:
        timeline.unregister_source("tickets")
    assert "tickets" not in timeline.chosen_kinds(None)

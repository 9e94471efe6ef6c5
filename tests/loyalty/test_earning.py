"""Earning on orders (once per order however often the event arrives) and reversal on refunds."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from guanxi.commerce.services import refund_order
from guanxi.core.models import Event
from guanxi.loyalty import handlers, programme, services
from guanxi.loyalty.models import BonusCampaign, MembershipTier, PointsEntry, Programme
from tests.loyalty.conftest import ledger_sum

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def test_an_order_earns_points_per_currency_unit_in_the_placing_transaction(customer, place):
    order = place(customer, "123.90", AT)
    entry = PointsEntry.objects.get(source_key=f"order:{order.pk}")
    assert entry.kind == "earn" and entry.points == 123 and entry.order_id == order.pk
    assert entry.earned_at == AT and entry.expires_on == date(2027, 12, 31)
    assert services.membership_for(customer.pk).balance == 123


def test_the_same_order_event_delivered_twice_credits_once(customer, place):
    order = place(customer, "200", AT)
    event = Event.objects.get(type="order.placed", subject_id=order.pk)
    from django.db import transaction

    with transaction.atomic():
        handlers.on_order_placed(event)
        handlers.on_order_placed(event)
    services.earn_for_orders([order.pk])
    assert PointsEntry.objects.filter(order=order).count() == 1
    assert services.membership_for(customer.pk).balance == 200 == ledger_sum(customer.pk)


def test_per_order_points_tier_multiplier_and_campaigns_add_up(customer, place):
    Programme.objects.update(points_per_order=5)
    programme.ensure_defaults()
    membership = services.membership_for(customer.pk)
    gold = MembershipTier.objects.get(key="gold")
    type(membership).objects.filter(pk=membership.pk).update(tier=gold)
    BonusCampaign.objects.create(
        name="Double",
        multiplier=Decimal("2"),
        bonus_points=7,
        starts_at=datetime(2026, 3, 1, tzinfo=UTC),
        ends_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    BonusCampaign.objects.create(  # over before the order
        name="Old",
        multiplier=Decimal("3"),
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
        ends_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    BonusCampaign.objects.create(  # its rule does not match this customer
        name="VIP",
        bonus_points=1000,
        rule='tags has "vip"',
        starts_at=datetime(2026, 3, 1, tzinfo=UTC),
        ends_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    order = place(customer, "100", AT)
    # floor(100 x 1.25 (gold) x 2 (campaign)) + 5 per order + 7 campaign bonus
    assert PointsEntry.objects.get(order=order).points == 250 + 5 + 7


def test_an_order_in_another_currency_earns_only_the_per_order_points(customer, place):
    Programme.objects.update(points_per_order=3)
    order = place(customer, "100", AT, currency="USD")
    assert PointsEntry.objects.get(order=order).points == 3


def test_batch_orders_earn_like_single_orders_and_only_once(customer, users, make_customer):
    from guanxi.commerce.services import OrderData, place_orders

    other = make_customer(users["rep"], display_name="Li")
    results = place_orders(
        actor=users["admin"],
        orders=[
            OrderData(customer_id=c.pk, external_id=f"B{i}", ordered_at=AT, amount=Decimal(a), currency="CNY")
            for i, (c, a) in enumerate([(customer, "10"), (customer, "20.5"), (other, "7")])
        ],
    )
    ids = [r.order_id for r in results]
    assert services.earn_for_orders(ids) == 0  # already earned through orders.placed
    assert services.membership_for(customer.pk).balance == 30 == ledger_sum(customer.pk)
    assert services.membership_for(other.pk).balance == 7


def test_a_refund_reverses_exactly_what_the_order_earned_once(customer, place, users):
    Programme.objects.update(points_per_order=10)
    kept = place(customer, "50", AT)
    refunded = place(customer, "300", AT)
    earned = PointsEntry.objects.get(order=refunded).points
    assert earned == 310
    refund_order(actor=users["rep"], order_id=refunded.pk, reason="Broken")
    reversal = PointsEntry.objects.get(source_key=f"refund:{refunded.pk}")
    assert reversal.kind == "reverse" and reversal.points == -earned and reversal.reverses.order_id == refunded.pk
    assert reversal.detail["shortfall"] == 0
    assert services.membership_for(customer.pk).balance == 60 == ledger_sum(customer.pk)
    assert services.reverse_order(refunded.pk).pk == reversal.pk  # a replayed refund event changes nothing
    assert services.membership_for(customer.pk).balance == 60
    assert PointsEntry.objects.filter(order=kept).count() == 1


def test_refunding_twice_is_a_conflict_and_someone_elses_order_is_not_found(customer, place, users):
    from guanxi.commerce.errors import OrderAlreadyRefunded, OrderNotFound

    order = place(customer, "50", AT)
    with pytest.raises(OrderNotFound):
        refund_order(actor=users["rep_b"], order_id=order.pk)
    refund_order(actor=users["rep"], order_id=order.pk)
    with pytest.raises(OrderAlreadyRefunded):
        refund_order(actor=users["rep"], order_id=order.pk)
    assert Event.objects.filter(type="order.refunded").count() == 1


def test_a_refund_after_the_points_were_spent_never_goes_negative(customer, place, users):
    order = place(customer, "100", AT)
    services.redeem_points(actor=users["rep"], customer_id=customer.pk, points=70, source_key="spend")
    refund_order(actor=users["rep"], order_id=order.pk)
    reversal = PointsEntry.objects.get(source_key=f"refund:{order.pk}")
    assert reversal.points == -30 and reversal.detail == {"earned": 100, "reversed": 30, "shortfall": 70}
    assert services.membership_for(customer.pk).balance == 0 == ledger_sum(customer.pk)


def test_a_refund_when_nothing_is_left_records_the_whole_shortfall(customer, place, users):
    order = place(customer, "100", AT)
    services.redeem_points(actor=users["rep"], customer_id=customer.pk, points=100, source_key="spend")
    refund_order(actor=users["rep"], order_id=order.pk)
    reversal = PointsEntry.objects.get(source_key=f"refund:{order.pk}")
    assert reversal.points == 0 and reversal.detail["shortfall"] == 100
    assert services.membership_for(customer.pk).balance == 0

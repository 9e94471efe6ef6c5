"""Tier upgrades at once, downgrades at the nightly review, exactly at the rolling window's edges; FIFO expiry.
All with a controlled clock."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from dateutil.relativedelta import relativedelta

from guanxi.commerce.services import refund_order
from guanxi.core.models import Event
from guanxi.loyalty import services, tiering
from guanxi.loyalty.models import Membership, PointsAllocation, PointsEntry, Programme, TierChange
from tests.loyalty.conftest import ledger_sum

pytestmark = pytest.mark.django_db

AT = datetime(2026, 1, 15, 4, 0, tzinfo=UTC)


def tier_of(customer) -> str:
    return Membership.objects.select_related("tier").get(pk=customer.pk).tier.key


def test_an_order_that_reaches_the_entry_rule_upgrades_at_once_with_history_and_event(customer, place):
    with time_machine.travel(AT, tick=False):
        place(customer, "2999", AT)
        assert tier_of(customer) == "standard"
        place(customer, "1", AT)  # 3000 points in the window: silver's min_points
    assert tier_of(customer) == "silver"
    change = TierChange.objects.get(customer=customer)
    assert (change.from_tier.key, change.to_tier.key, change.direction) == ("standard", "silver", "up")
    assert change.window_points == 3000
    event = Event.objects.get(type="member.tier_changed")
    assert event.payload == {
        "customer_id": customer.pk,
        "from_tier": "standard",
        "to_tier": "silver",
        "direction": "up",
        "window_points": 3000,
        "window_spend": "3000.00",
    }


def test_a_big_order_jumps_straight_to_the_highest_tier_it_qualifies_for(customer, place):
    with time_machine.travel(AT, tick=False):
        place(customer, "45000", AT)
    assert tier_of(customer) == "diamond"
    assert TierChange.objects.filter(customer=customer).count() == 1


def test_minimum_spend_alone_qualifies_even_with_fewer_points(customer, place):
    Programme.objects.update(points_per_unit=Decimal("0.5"))
    with time_machine.travel(AT, tick=False):
        place(customer, "5000", AT)  # 2500 points (< 3000) but 5000 spent (silver's min_spend)
    assert tier_of(customer) == "silver"


def test_the_review_downgrades_exactly_when_the_order_leaves_the_window(customer, place):
    with time_machine.travel(AT, tick=False):
        place(customer, "3000", AT)
    assert tier_of(customer) == "silver"
    edge = AT + relativedelta(months=12)
    with time_machine.travel(edge - timedelta(seconds=1), tick=False):
        assert tiering.review_tiers() == 0  # earned one second inside the window: still silver
    assert tier_of(customer) == "silver"
    with time_machine.travel(edge, tick=False):
        assert tiering.review_tiers() == 1  # the window is (now - 12 months, now]: the order is out
        assert tiering.review_tiers() == 0
    assert tier_of(customer) == "standard"
    down = TierChange.objects.filter(customer=customer, direction="down").get()
    assert (down.from_tier.key, down.to_tier.key, down.at) == ("silver", "standard", edge)
    assert Event.objects.filter(type="member.tier_changed", payload__direction="down").count() == 1


def test_an_earn_never_downgrades_only_the_review_does(customer, place):
    with time_machine.travel(AT, tick=False):
        place(customer, "3000", AT)
    later = AT + relativedelta(months=13)
    with time_machine.travel(later, tick=False):
        place(customer, "10", later)
        assert tier_of(customer) == "silver"
        tiering.review_tiers()
    assert tier_of(customer) == "standard"


def test_a_refunded_order_no_longer_counts_for_the_tier(customer, place, users):
    with time_machine.travel(AT, tick=False):
        order = place(customer, "3000", AT)
        refund_order(actor=users["rep"], order_id=order.pk)
        tiering.review_tiers()
    assert tier_of(customer) == "standard"
    assert ledger_sum(customer.pk) == 0


def test_expiry_takes_what_is_left_of_each_lot_after_its_date_fifo_and_once(customer, place, users):
    first_at = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    second_at = datetime(2027, 5, 1, 4, 0, tzinfo=UTC)
    with time_machine.travel(first_at, tick=False):
        old = place(customer, "100", first_at)
    with time_machine.travel(second_at, tick=False):
        new = place(customer, "50", second_at)
        services.redeem_points(actor=users["rep"], customer_id=customer.pk, points=60, source_key="r")
    old_lot = PointsEntry.objects.get(order=old)
    new_lot = PointsEntry.objects.get(order=new)
    assert (old_lot.expires_on, new_lot.expires_on) == (date(2027, 12, 31), date(2028, 12, 31))
    assert services.expire_points(today=date(2027, 12, 31)) == 0  # usable through its last day
    with time_machine.travel(datetime(2027, 12, 31, 16, 30, tzinfo=UTC), tick=False):  # 00:30 1 Jan in Shanghai
        assert services.expire_points() == 1
        assert services.expire_points() == 0
    expired = PointsEntry.objects.get(kind="expire")
    assert expired.points == -40 and expired.source_key == f"expire:{old_lot.pk}"
    assert list(PointsAllocation.objects.filter(consumer=expired).values_list("lot_id", "points")) == [(old_lot.pk, 40)]
    assert Membership.objects.get(pk=customer.pk).balance == 50 == ledger_sum(customer.pk)
    assert services.expire_points(today=date(2029, 1, 1)) == 1
    assert Membership.objects.get(pk=customer.pk).balance == 0 == ledger_sum(customer.pk)


def test_a_fully_spent_lot_does_not_expire(customer, place, users):
    with time_machine.travel(AT, tick=False):
        place(customer, "100", AT)
        services.redeem_points(actor=users["rep"], customer_id=customer.pk, points=100, source_key="r")
    assert services.expire_points(today=date(2030, 1, 1)) == 0
    assert not PointsEntry.objects.filter(kind="expire").exists()


def test_the_months_expiry_rule(customer, place):
    Programme.objects.update(expiry="months", expiry_months=6)
    with time_machine.travel(AT, tick=False):
        order = place(customer, "10", AT)
    assert PointsEntry.objects.get(order=order).expires_on == date(2026, 7, 15)


def test_the_daily_jobs_are_registered_and_run_through_their_tasks(customer, place):
    from guanxi.core.schedule import daily_jobs
    from guanxi.loyalty import tasks

    names = {job.name: job.task for job in daily_jobs()}
    assert names["loyalty_expire_points"] == "guanxi.loyalty.tasks.expire_points_task"
    assert names["loyalty_review_tiers"] == "guanxi.loyalty.tasks.review_tiers_task"
    with time_machine.travel(AT, tick=False):
        place(customer, "3000", AT)
    assert tasks.expire_points_task.call("2028-01-01") == {"expired_lots": 1}
    assert tasks.review_tiers_task.call((AT + relativedelta(months=13)).isoformat()) == {"tier_changes": 1}
    assert tier_of(customer) == "standard" and Membership.objects.get(pk=customer.pk).balance == 0

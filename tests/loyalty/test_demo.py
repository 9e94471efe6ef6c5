"""The demo loader: points histories that add up, members in every tier, redemptions and last year's expiries."""

from datetime import date

import pytest
from django.db.models import Sum
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_the_demo_points_add_up_and_spread_across_the_tiers():
    from guanxi import demo
    from guanxi.loyalty.models import Membership, PointsAllocation, PointsEntry

    today = date(2027, 3, 15)
    demo.load(seed=3, today=today, limit=400)  # loads the memberships after the orders

    from guanxi.commerce.models import Order

    assert Membership.objects.count() == Order.objects.values("customer_id").distinct().count()
    sums = dict(PointsEntry.objects.values("customer_id").annotate(s=Sum("points")).values_list("customer_id", "s"))
    for customer_id, balance in Membership.objects.values_list("pk", "balance"):
        assert balance == sums.get(customer_id, 0) >= 0
    used = dict(PointsAllocation.objects.values("lot_id").annotate(u=Sum("points")).values_list("lot_id", "u"))
    for lot_id, points in PointsEntry.objects.filter(points__gt=0).values_list("pk", "points"):
        assert used.get(lot_id, 0) <= points
    for consumer in PointsEntry.objects.filter(points__lt=0).annotate(taken=Sum("allocations__points")):
        assert consumer.taken == -consumer.points
    tiers = {key: Membership.objects.filter(tier__key=key).count() for key in ("standard", "silver", "gold", "diamond")}
    assert all(count > 0 for count in tiers.values()), tiers
    assert tiers["standard"] > tiers["silver"] > tiers["diamond"]
    assert PointsEntry.objects.filter(kind="redeem").exists()
    expired = PointsEntry.objects.filter(kind="expire")
    assert expired.exists()
    assert {timezone.localtime(e.earned_at).date() for e in expired} == {date(2027, 1, 1)}  # last year's lots
    assert Membership.objects.exclude(birth_date=None).exists()

"""The demo's win-back campaign: a real control group, treated customers who came back more often, and coupons in
every state."""

from datetime import date, datetime

import pytest

pytestmark = pytest.mark.django_db


def test_demo_win_back_campaign_shows_an_uplift():
    from guanxi import demo
    from guanxi.commerce.models import Order
    from guanxi.offers import selectors
    from guanxi.offers.models import Campaign, CampaignMember, Coupon

    today = date(2027, 3, 15)
    demo.load(seed=3, today=today, limit=600)  # loads the offers' demo after the orders
    campaign = Campaign.objects.get(kind="manual", status="launched")
    members = CampaignMember.objects.filter(campaign=campaign)
    control = members.filter(group="control").count()
    assert 0.13 <= control / members.count() <= 0.17
    assert not members.filter(group="control", coupon__isnull=False).exists()
    assert Order.objects.filter(external_id__startswith="DEMO-WB-").exists()
    statuses = set(Coupon.objects.values_list("status", flat=True))
    assert {"redeemed", "expired", "issued"} <= statuses
    redeemed = Coupon.objects.filter(campaign=campaign, status="redeemed")
    assert all(c.order.customer_id == c.customer_id for c in redeemed.select_related("order"))
    from django.utils import timezone

    from guanxi.accounts.models import User

    admin = User.objects.filter(role="admin").first()
    result = selectors.campaign_report(admin, campaign.pk, now=timezone.make_aware(datetime(2027, 3, 15, 12)))
    report = result.report
    assert report.treated.return_rate > report.control.return_rate
    assert result.complete
    assert report.return_rate_diff.high > 0

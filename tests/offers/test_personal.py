"""Merges move coupons and campaign memberships (one membership per campaign survives, undo restores);
the personal-data export lists them; erasure voids the open coupons."""

import pytest

from guanxi.customers import personal_data
from guanxi.customers.merge import merge_customers, undo_merge
from guanxi.offers import services
from guanxi.offers.models import CampaignMember, Coupon

pytestmark = pytest.mark.django_db


def test_merge_export_and_erase(users, offer, customer, make_customer):
    loser = make_customer(users["rep"], display_name="Wang Fang (dup)")
    campaign = services.create_campaign(
        actor=users["admin"], data={"name": "Both", "offer_id": offer.pk, "control_share": "0.5", "seed": 1}
    )
    services.launch_campaign(actor=users["admin"], campaign_id=campaign.pk)
    assert CampaignMember.objects.filter(campaign=campaign).count() == 2
    survivor_member = CampaignMember.objects.get(campaign=campaign, customer=customer)
    loser_coupons = list(Coupon.objects.filter(customer=loser).values_list("pk", flat=True))
    customer.refresh_from_db()
    loser.refresh_from_db()
    record = merge_customers(
        actor=users["admin"],
        survivor_id=customer.pk,
        loser_id=loser.pk,
        survivor_version=customer.version,
        loser_version=loser.version,
    )
    assert list(CampaignMember.objects.filter(campaign=campaign).values_list("pk", flat=True)) == [survivor_member.pk]
    assert set(Coupon.objects.filter(pk__in=loser_coupons).values_list("customer_id", flat=True)) <= {customer.pk}
    exported = personal_data.exporters()["coupons"](customer)
    assert len(exported) == Coupon.objects.filter(customer=customer).count()
    assert personal_data.exporters()["campaigns"](customer)[0]["campaign"] == "Both"
    undo_merge(actor=users["admin"], merge_id=record.pk)
    assert CampaignMember.objects.filter(campaign=campaign).count() == 2
    assert set(Coupon.objects.filter(pk__in=loser_coupons).values_list("customer_id", flat=True)) <= {loser.pk}
    open_coupons = Coupon.objects.filter(customer=customer, status="issued").count()
    assert personal_data.erasers()["coupons"](customer, ["Wang"]) == open_coupons
    assert not Coupon.objects.filter(customer=customer, status="issued").exists()

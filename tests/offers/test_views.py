"""Offer and campaign pages, the campaign report page, and the customer page's coupons panel."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from guanxi.offers import services
from guanxi.offers.models import Campaign, Coupon, Offer

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client):
    assert client.get("/offers/").status_code == 302
    assert client.get("/offers/campaigns/").status_code == 302


def test_offer_list_and_edit(browser_for, users, offer):
    page = browser_for(users["rep"]).get("/offers/")
    assert page.status_code == 200 and b"10% off" in page.content and b'data-testid="new-offer"' not in page.content
    assert browser_for(users["rep"]).get("/offers/new/").status_code == 404
    manager = browser_for(users["manager"])
    assert b'data-testid="new-offer"' in manager.get("/offers/").content
    form = {
        "key": "vip",
        "name": "VIP gift",
        "kind": "free_item",
        "value": "0",
        "currency": "CNY",
        "free_item_sku": "GIFT-1",
        "target_rule": 'tier == "A" and',
        "per_customer_limit": "1",
        "coupon_valid_days": "30",
        "control_share": "0.10",
        "active": "on",
    }
    refused = manager.post("/offers/new/", form)
    assert refused.status_code == 200 and "ends too early" in refused.content.decode()
    assert not Offer.objects.filter(key="vip").exists()
    saved = manager.post("/offers/new/", {**form, "target_rule": 'tier == "A"'})
    assert saved.status_code == 302
    vip = Offer.objects.get(key="vip")
    edited = manager.post(f"/offers/{vip.pk}/edit/", {**form, "target_rule": "", "name": "VIP", "version": "1"})
    assert edited.status_code == 302
    vip.refresh_from_db()
    assert vip.name == "VIP" and vip.version == 2


def test_customer_panel_issues_and_redeems(browser_for, users, offer, customer):
    rep = browser_for(users["rep"])
    page = rep.get(f"/customers/{customer.pk}/")
    assert b'data-testid="coupons-panel"' in page.content and b'data-testid="issue-form"' in page.content
    response = rep.post(f"/offers/customers/{customer.pk}/issue/", {"offer_id": offer.pk})
    assert response.status_code == 302
    coupon = Coupon.objects.get(customer=customer)
    page = rep.get(f"/customers/{customer.pk}/")
    assert coupon.code.encode() in page.content
    rep.post(f"/offers/customers/{customer.pk}/redeem/", {"code": coupon.code})
    coupon.refresh_from_db()
    assert coupon.status == "redeemed"
    again = rep.post(f"/offers/customers/{customer.pk}/redeem/", {"code": coupon.code}, follow=True)
    assert "already redeemed on" in again.content.decode()
    # Another team's rep cannot issue to this customer.
    assert (
        browser_for(users["rep_b"]).post(f"/offers/customers/{customer.pk}/issue/", {"offer_id": offer.pk}).status_code
        == 404
    )
    assert Coupon.objects.count() == 1


def test_campaign_pages(browser_for, users, offer, make_customer, place_order):
    customers = [make_customer(users["rep"], display_name=f"P{i}") for i in range(4)]
    manager = browser_for(users["manager"])
    assert browser_for(users["rep"]).get("/offers/campaigns/").status_code == 404
    created = manager.post(
        "/offers/campaigns/",
        {"name": "Spring", "offer_id": offer.pk, "audience_rule": "", "control_share": "0.5", "measure_days": "56"},
    )
    assert created.status_code == 302
    campaign = Campaign.objects.get(name="Spring")
    draft = manager.get(f"/offers/campaigns/{campaign.pk}/")
    assert b'data-testid="launch"' in draft.content and b"4 customers match" in draft.content
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=70), tick=False):
        manager.post(f"/offers/campaigns/{campaign.pk}/launch/")
    campaign.refresh_from_db()
    assert campaign.status == "launched"
    for customer in customers:
        place_order(customer, at=start - timedelta(days=60))
    page = manager.get(f"/offers/campaigns/{campaign.pk}/")
    html = page.content.decode()
    assert 'data-testid="verdict"' in html and "Too few members" in html
    assert "Measurement complete" in html
    chart = page.context["rate_figure"]
    bars = json.loads(chart)["data"][0]
    assert bars["y"] == [100.0, 100.0]  # every member of both groups ordered within the window
    assert browser_for(users["analyst"]).get(f"/offers/campaigns/{campaign.pk}/").status_code == 200
    assert browser_for(users["rep"]).get(f"/offers/campaigns/{campaign.pk}/").status_code == 404
    listing = manager.get("/offers/campaigns/").content.decode()
    assert "Spring" in listing


def test_chinese_offer_name_on_the_list(browser_for, users, offer):
    page = browser_for(users["rep"]).get("/offers/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "九折" in page.content.decode()


def test_timeline_lists_coupons(users, offer, customer):
    from guanxi.offers.panels import timeline

    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    services.redeem_coupon(actor=users["rep"], code=coupon.code)
    items = timeline(users["rep"], customer, before=None, limit=10)
    assert [i.kind for i in items] == ["coupons", "coupons"]
    assert coupon.code in items[0].title and "redeemed" in items[1].title
    assert timeline(users["rep_b"], customer, before=None, limit=10) == []

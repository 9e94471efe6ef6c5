"""/api/v1/offers: anonymous -> wrong role -> other owner -> invalid input -> valid."""

import pytest

from guanxi.offers import services
from guanxi.offers.models import Coupon

pytestmark = pytest.mark.django_db

BASE = "/api/v1/offers"


def test_anonymous_is_refused(api):
    assert api(None).get(BASE).status_code == 401
    assert api(None).post(f"{BASE}/coupons/redeem", {"code": "X"}, content_type="application/json").status_code == 401


def test_reps_cannot_define_offers_or_campaigns(api, users, offer):
    client = api(users["rep"])
    body = {"key": "x", "name": "X", "kind": "percent_off", "value": "5"}
    response = client.post(BASE, body, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "offers_denied"
    response = client.post(f"{BASE}/campaigns", {"name": "C", "offer_id": offer.pk}, content_type="application/json")
    assert response.status_code == 403
    assert client.get(f"{BASE}/campaigns").json() == []


def test_invalid_target_rule_is_a_400_with_where(api, users):
    body = {"key": "x", "name": "X", "kind": "percent_off", "value": "5", "target_rule": 'stage = "churned" and'}
    response = api(users["manager"]).post(BASE, body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_rule" and error["details"]["line"] == 1 and "column" in error["details"]


def test_offer_crud(api, users):
    client = api(users["manager"])
    body = {"key": "amt", "name": "20 off", "kind": "amount_off", "value": "20", "target_rule": 'tier == "A"'}
    created = client.post(BASE, body, content_type="application/json")
    assert created.status_code == 201, created.content
    offer = created.json()
    assert offer["target_rule"] == 'tier == "A"' and float(offer["control_share"]) == 0.1
    patched = client.patch(f"{BASE}/{offer['id']}", {"version": 1, "value": "25"}, content_type="application/json")
    assert float(patched.json()["value"]) == 25 and patched.json()["version"] == 2
    stale = client.patch(f"{BASE}/{offer['id']}", {"version": 1, "value": "30"}, content_type="application/json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    assert "amt" in {o["key"] for o in api(users["rep"]).get(BASE).json()}


def test_issue_list_and_redeem(api, users, offer, customer, place_order):
    rep = api(users["rep"])
    body = {"offer_id": offer.pk, "customer_id": customer.pk, "source_key": "crm-1"}
    issued = rep.post(f"{BASE}/coupons", body, content_type="application/json")
    assert issued.status_code == 201
    again = rep.post(f"{BASE}/coupons", body, content_type="application/json")
    assert again.json()["id"] == issued.json()["id"]
    code = issued.json()["code"]
    # Another team's rep: the customer and the coupon do not exist for them.
    other = api(users["rep_b"])
    assert (
        other.post(f"{BASE}/coupons", {**body, "source_key": "x"}, content_type="application/json").status_code == 404
    )
    assert other.get(f"{BASE}/coupons?customer_id={customer.pk}").json()["total"] == 0
    missing = other.post(f"{BASE}/coupons/redeem", {"code": code}, content_type="application/json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "coupon_not_found"
    listed = rep.get(f"{BASE}/coupons?customer_id={customer.pk}").json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "issued"
    order = place_order(customer)
    redeem = {"code": code.lower(), "order_id": order.pk}
    first = rep.post(f"{BASE}/coupons/redeem", redeem, content_type="application/json")
    assert first.status_code == 200 and first.json()["status"] == "redeemed"
    retry = rep.post(f"{BASE}/coupons/redeem", redeem, content_type="application/json")
    assert retry.status_code == 200 and retry.json()["redeemed_at"] == first.json()["redeemed_at"]
    second = rep.post(f"{BASE}/coupons/redeem", {"code": code}, content_type="application/json")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "coupon_already_redeemed"
    assert "already redeemed on" in second.json()["error"]["message"]


def test_list_coupons_query_count_is_pinned(api, users, offer, make_customer, django_assert_max_num_queries):
    for i in range(5):
        c = make_customer(users["rep"], display_name=f"Q{i}")
        services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=c.pk)
    client = api(users["rep"])
    with django_assert_max_num_queries(8):
        body = client.get(f"{BASE}/coupons").json()
    assert body["total"] == 5 == Coupon.objects.count()


def test_campaign_lifecycle_and_report(api, users, offer, make_customer):
    for i in range(6):
        make_customer(users["rep"], display_name=f"K{i}")
    client = api(users["manager"])
    body = {"name": "Test", "offer_id": offer.pk, "control_share": "0.5", "seed": 3, "audience_rule": ""}
    created = client.post(f"{BASE}/campaigns", body, content_type="application/json")
    assert created.status_code == 201, created.content
    campaign = created.json()
    assert campaign["status"] == "draft" and campaign["seed"] == 3
    bad = client.post(f"{BASE}/campaigns", {**body, "audience_rule": "stage =="}, content_type="application/json")
    assert bad.status_code == 400
    launched = client.post(f"{BASE}/campaigns/{campaign['id']}/launch", {}, content_type="application/json")
    assert launched.status_code == 200, launched.content
    assert launched.json()["treated"] == 3 and launched.json()["control"] == 3
    again = client.post(f"{BASE}/campaigns/{campaign['id']}/launch", {}, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "campaign_already_launched"
    report = client.get(f"{BASE}/campaigns/{campaign['id']}/report")
    assert report.status_code == 200
    data = report.json()
    assert data["treated"]["size"] == 3 and data["control"]["size"] == 3
    assert data["direction"] == "too_small" and data["verdict"]
    assert data["complete"] is False and len(data["curve"]["days"]) == 8
    assert api(users["analyst"]).get(f"{BASE}/campaigns/{campaign['id']}/report").status_code == 200
    assert api(users["rep"]).get(f"{BASE}/campaigns/{campaign['id']}/report").status_code == 404


def test_campaign_list_and_report_query_counts_are_pinned(
    api, users, offer, make_customer, django_assert_max_num_queries
):
    for i in range(4):
        make_customer(users["rep"], display_name=f"L{i}")
    for name in ("One", "Two", "Three"):
        campaign = services.create_campaign(actor=users["admin"], data={"name": name, "offer_id": offer.pk})
    services.launch_campaign(actor=users["admin"], campaign_id=campaign.pk)
    client = api(users["admin"])
    with django_assert_max_num_queries(6):
        listed = client.get(f"{BASE}/campaigns").json()
    assert [c["name"] for c in listed] == ["Three", "Two", "One"]
    assert listed[0]["treated"] + listed[0]["control"] == 4
    with django_assert_max_num_queries(12):
        report = client.get(f"{BASE}/campaigns/{campaign.pk}/report").json()
    assert report["treated"]["size"] + report["control"]["size"] == 4


def test_delete_only_unused_offers(api, users, offer, customer):
    client = api(users["manager"])
    unused = services.create_offer(
        actor=users["admin"], data={"key": "unused", "name": "Unused", "kind": "amount_off", "value": 5}
    )
    assert api(users["rep"]).delete(f"{BASE}/{unused.pk}?version=1").status_code == 403
    assert client.delete(f"{BASE}/{unused.pk}?version=9").status_code == 409
    assert client.delete(f"{BASE}/{unused.pk}?version=1").status_code == 204
    services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    used = client.delete(f"{BASE}/{offer.pk}?version=1")
    assert used.status_code == 409 and used.json()["error"]["code"] == "offer_in_use"
    assert client.get(f"{BASE}/{unused.pk}").status_code == 404


def test_delete_only_draft_campaigns(api, users, offer, customer):
    client = api(users["manager"])
    draft = services.create_campaign(actor=users["manager"], data={"name": "Draft", "offer_id": offer.pk})
    launched = services.create_campaign(actor=users["manager"], data={"name": "Sent", "offer_id": offer.pk})
    services.launch_campaign(actor=users["manager"], campaign_id=launched.pk)
    assert api(users["rep"]).delete(f"{BASE}/campaigns/{draft.pk}?version=1").status_code == 403
    assert client.delete(f"{BASE}/campaigns/{draft.pk}?version=1").status_code == 204
    refused = client.delete(f"{BASE}/campaigns/{launched.pk}?version=2")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "campaign_already_launched"
    assert [c["name"] for c in client.get(f"{BASE}/campaigns").json()] == ["Sent"]

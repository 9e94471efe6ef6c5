"""/api/v1/loyalty, in the order an attacker would try it: anonymous, wrong role, other owner, bad input, valid."""

import pytest

from guanxi.loyalty import services
from guanxi.loyalty.models import PointsEntry

pytestmark = pytest.mark.django_db

BASE = "/api/v1/loyalty"


def test_anonymous_gets_401(api, customer):
    assert api(None).get(f"{BASE}/members/{customer.pk}").status_code == 401
    assert api(None).post(f"{BASE}/redeem", {}, content_type="application/json").status_code == 401


def test_only_admins_change_the_programme_and_tiers(api, users):
    version = api(users["rep"]).get(f"{BASE}/programme").json()["version"]
    body = {"version": version, "points_per_order": 5}
    for who in ("rep", "manager", "analyst"):
        assert api(users[who]).put(f"{BASE}/programme", body, content_type="application/json").status_code == 403
    response = api(users["admin"]).put(f"{BASE}/programme", body, content_type="application/json")
    assert response.status_code == 200 and response.json()["points_per_order"] == 5
    stale = api(users["admin"]).put(f"{BASE}/programme", body, content_type="application/json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    tiers = api(users["rep"]).get(f"{BASE}/tiers").json()
    assert [t["key"] for t in tiers] == ["standard", "silver", "gold", "diamond"]
    assert [t["name_zh_hans"] for t in tiers] == ["普通", "白银", "黄金", "钻石"]
    gold = next(t for t in tiers if t["key"] == "gold")
    patch = {"name": "Gold+", "min_spend": "12000.00"}
    assert (
        api(users["rep"]).patch(f"{BASE}/tiers/{gold['id']}", patch, content_type="application/json").status_code == 403
    )
    renamed = api(users["admin"]).patch(f"{BASE}/tiers/{gold['id']}", patch, content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Gold+"
    duplicate = api(users["admin"]).post(
        f"{BASE}/tiers", {"key": "gold", "name": "Again", "rank": 9}, content_type="application/json"
    )
    assert duplicate.status_code == 422 and "key" in duplicate.json()["error"]["details"]
    created = api(users["admin"]).post(
        f"{BASE}/tiers",
        {"key": "platinum", "name": "Platinum", "rank": 9, "min_points": 90000},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert api(users["admin"]).delete(f"{BASE}/tiers/{created.json()['id']}").status_code == 204
    assert api(users["admin"]).delete(f"{BASE}/tiers/{tiers[0]['id']}").status_code == 409  # the lowest
    assert api(users["admin"]).delete(f"{BASE}/tiers/{tiers[1]['id']}").status_code == 204  # nobody holds it


def test_a_customer_outside_your_scope_is_not_found(api, users, customer):
    services.credit_points(customer_id=customer.pk, points=100, source_key="a", reason="x")
    assert api(users["rep_b"]).get(f"{BASE}/members/{customer.pk}").status_code == 404
    assert api(users["rep_b"]).get(f"{BASE}/members/{customer.pk}/ledger").status_code == 404
    body = {"customer_id": customer.pk, "points": 10, "idempotency_key": "k"}
    assert api(users["rep_b"]).post(f"{BASE}/redeem", body, content_type="application/json").status_code == 404
    assert api(users["rep_b"]).get(f"{BASE}/members").json()["total"] == 0
    assert PointsEntry.objects.filter(kind="redeem").count() == 0


def test_member_summary_shows_progress_to_the_next_tier(api, users, customer):
    services.credit_points(customer_id=customer.pk, points=1500, source_key="a", reason="x")
    body = api(users["rep"]).get(f"{BASE}/members/{customer.pk}").json()
    assert body["tier"] == "standard" and body["balance"] == 1500 and body["window_points"] == 1500
    assert body["next_tier"] == "silver" and body["points_to_next"] == 1500 and body["progress"] == 0.5
    analyst = api(users["analyst"]).get(f"{BASE}/members/{customer.pk}").json()
    assert analyst["customer_name"] == "" and analyst["balance"] == 1500


def test_redeem_is_idempotent_and_an_uncovered_one_is_a_409_with_the_balance(api, users, customer):
    services.credit_points(customer_id=customer.pk, points=100, source_key="a", reason="x")
    client = api(users["rep"])
    body = {"customer_id": customer.pk, "points": 60, "idempotency_key": "pos-1", "reason": "Gift"}
    first = client.post(f"{BASE}/redeem", body, content_type="application/json")
    again = client.post(f"{BASE}/redeem", body, content_type="application/json")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    short = client.post(f"{BASE}/redeem", {**body, "idempotency_key": "pos-2"}, content_type="application/json")
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_points"
    assert short.json()["error"]["details"] == {"balance": 40, "requested": 60}
    bad = client.post(f"{BASE}/redeem", {**body, "points": 0}, content_type="application/json")
    assert bad.status_code == 422
    ledger = client.get(f"{BASE}/members/{customer.pk}/ledger").json()
    assert ledger["total"] == 2 and [e["points"] for e in ledger["items"]] == [-60, 100]


def test_adjust_above_the_threshold_is_403_for_a_rep(api, users, customer):
    body = {"customer_id": customer.pk, "points": 5000, "reason": "Goodwill", "idempotency_key": "adj-1"}
    denied = api(users["rep"]).post(f"{BASE}/adjust", body, content_type="application/json")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "adjustment_denied"
    ok = api(users["manager"]).post(f"{BASE}/adjust", body, content_type="application/json")
    assert ok.status_code == 201 and ok.json()["actor"] == "manager"


def test_members_list_filters_by_tier(api, users, customer, make_customer):
    other = make_customer(users["rep"], display_name="Big spender")
    services.credit_points(customer_id=customer.pk, points=10, source_key="a", reason="x")
    services.credit_points(customer_id=other.pk, points=12000, source_key="b", reason="x")
    gold = api(users["rep"]).get(f"{BASE}/members", {"tier": "gold"}).json()
    assert [m["customer_id"] for m in gold["items"]] == [other.pk]
    everyone = api(users["admin"]).get(f"{BASE}/members").json()
    assert [m["customer_id"] for m in everyone["items"]] == [other.pk, customer.pk]


def test_campaigns_are_admin_only_and_rules_are_checked(api, users):
    body = {
        "name": "Double points",
        "multiplier": "2",
        "starts_at": "2026-03-01T00:00:00+08:00",
        "ends_at": "2026-04-01T00:00:00+08:00",
    }
    assert api(users["manager"]).post(f"{BASE}/campaigns", body, content_type="application/json").status_code == 403
    bad = api(users["admin"]).post(f"{BASE}/campaigns", {**body, "rule": "nonsense >"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_rule"
    backwards = {**body, "ends_at": "2026-02-01T00:00:00+08:00"}
    assert api(users["admin"]).post(f"{BASE}/campaigns", backwards, content_type="application/json").status_code == 422
    created = api(users["admin"]).post(f"{BASE}/campaigns", body, content_type="application/json")
    assert created.status_code == 201
    off = api(users["admin"]).patch(
        f"{BASE}/campaigns/{created.json()['id']}", {"active": False}, content_type="application/json"
    )
    assert off.status_code == 200 and off.json()["active"] is False


def test_the_members_list_query_count_is_pinned(api, users, make_customer, django_assert_max_num_queries):
    for n in range(6):
        member = make_customer(users["rep"], display_name=f"Member {n}")
        services.credit_points(customer_id=member.pk, points=10 + n, source_key=f"m{n}", reason="x")
    client = api(users["rep"])
    with django_assert_max_num_queries(8):
        body = client.get(f"{BASE}/members").json()
    assert body["total"] == 6 and [m["balance"] for m in body["items"]] == [15, 14, 13, 12, 11, 10]

"""/api/v1/ownership: scope, errors as {"error": ...}, and the use cases end to end."""

import pytest

from guanxi.customers.models import Customer
from guanxi.ownership.models import PoolRule


def error_code(response):
    return response.json()["error"]["code"]


def test_anonymous_is_401(db, api):
    client = api(None)
    assert client.get("/api/v1/ownership/pool").status_code == 401
    assert client.post("/api/v1/ownership/customers/1/claim").status_code == 401


def test_pool_lists_only_the_reps_team_and_no_contact_details(users, api, pool_customer, teams):
    mine = pool_customer(display_name="Team A lead", company="ACME", region="华东", phones=["13812345678"])
    pool_customer(team=teams[1], display_name="Team B lead")
    body = api(users["rep"]).get("/api/v1/ownership/pool").json()
    assert [row["display_name"] for row in body["items"]] == ["Team A lead"]
    row = body["items"][0]
    assert row["company"] == "ACME" and row["team_name"] == "Team A" and "phones" not in row
    assert body["standing"] == {"held": 0, "holding_cap": None, "claimed_today": 0, "daily_claim_quota": 10}
    b = api(users["rep_b"]).get("/api/v1/ownership/pool").json()
    assert [row["display_name"] for row in b["items"]] == ["Team B lead"]
    assert api(users["analyst"]).get("/api/v1/ownership/pool").json()["total"] == 0
    # Team B's rep cannot claim team A's customer, nor read its history.
    response = api(users["rep_b"]).post(f"/api/v1/ownership/customers/{mine.pk}/claim")
    assert response.status_code == 404 and error_code(response) == "not_in_pool"
    assert api(users["rep_b"]).get(f"/api/v1/ownership/customers/{mine.pk}/history").status_code == 404


def test_claim_then_the_second_claim_is_a_409_naming_the_winner(users, api, pool_customer):
    customer = pool_customer()
    ok = api(users["rep"]).post(f"/api/v1/ownership/customers/{customer.pk}/claim")
    assert ok.status_code == 200 and ok.json()["owner_id"] == users["rep"].pk
    lost = api(users["rep2"]).post(f"/api/v1/ownership/customers/{customer.pk}/claim")
    assert lost.status_code == 409
    assert lost.json()["error"] == {
        "code": "already_claimed",
        "message": "rep claimed it first.",
        "details": {"owner": "rep"},
    }
    history = api(users["rep"]).get(f"/api/v1/ownership/customers/{customer.pk}/history").json()
    assert [h["reason"] for h in history] == ["claimed", "created"]


def test_quota_and_cap_errors(users, api, pool_customer, rule):
    rule(daily_claim_quota=1, holding_cap=5)
    first, second = pool_customer(display_name="1"), pool_customer(display_name="2")
    client = api(users["rep"])
    assert client.post(f"/api/v1/ownership/customers/{first.pk}/claim").status_code == 200
    response = client.post(f"/api/v1/ownership/customers/{second.pk}/claim")
    assert response.status_code == 409 and error_code(response) == "claim_quota_reached"
    rule(daily_claim_quota=None, holding_cap=1)
    response = client.post(f"/api/v1/ownership/customers/{second.pk}/claim")
    assert response.status_code == 409 and error_code(response) == "holding_cap_reached"


def test_release_assign_and_transfer_flow(users, api, make_customer):
    customer = make_customer(users["rep"])
    rep, manager = api(users["rep"]), api(users["manager"])
    response = rep.post(
        f"/api/v1/ownership/customers/{customer.pk}/transfers",
        {"to_user_id": users["rep2"].pk, "reason": "region"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    request_id = response.json()["id"]
    assert (
        rep.post(f"/api/v1/ownership/transfers/{request_id}/approve", {}, content_type="application/json").status_code
        == 404
    )
    queue = manager.get("/api/v1/ownership/transfers?status=pending").json()
    assert [t["id"] for t in queue["items"]] == [request_id]
    approved = manager.post(
        f"/api/v1/ownership/transfers/{request_id}/approve", {"note": "ok"}, content_type="application/json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert Customer.objects.get(pk=customer.pk).owner_id == users["rep2"].pk
    again = manager.post(f"/api/v1/ownership/transfers/{request_id}/reject", {}, content_type="application/json")
    assert again.status_code == 409 and error_code(again) == "transfer_already_decided"

    assigned = manager.post(
        f"/api/v1/ownership/customers/{customer.pk}/assign",
        {"user_id": users["rep"].pk},
        content_type="application/json",
    )
    assert assigned.status_code == 200 and assigned.json()["owner_id"] == users["rep"].pk
    denied = rep.post(
        f"/api/v1/ownership/customers/{customer.pk}/assign",
        {"user_id": users["rep2"].pk},
        content_type="application/json",
    )
    assert denied.status_code == 403
    released = rep.post(
        f"/api/v1/ownership/customers/{customer.pk}/release", {"note": ""}, content_type="application/json"
    )
    assert released.status_code == 200 and released.json()["owner_id"] is None


def test_rules_read_and_write(users, api, teams):
    manager = api(users["manager"])
    rule = manager.get(f"/api/v1/ownership/rules/{teams[0].pk}").json()
    assert rule["version"] == 1 and rule["assignment"] == "none"
    assert api(users["rep"]).get(f"/api/v1/ownership/rules/{teams[0].pk}").status_code == 403
    assert manager.get(f"/api/v1/ownership/rules/{teams[1].pk}").status_code == 403
    saved = manager.put(
        f"/api/v1/ownership/rules/{teams[0].pk}",
        {
            "version": 1,
            "assignment": "territory",
            "territories": [{"region": "华东", "industry": "", "user_id": users["rep"].pk}],
            "daily_claim_quota": None,
            "release_after_days": 30,
        },
        content_type="application/json",
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["version"] == 2 and saved.json()["daily_claim_quota"] is None
    assert PoolRule.objects.get(team=teams[0]).territories == [
        {"region": "华东", "industry": "", "user_id": users["rep"].pk}
    ]
    stale = manager.put(f"/api/v1/ownership/rules/{teams[0].pk}", {"version": 1}, content_type="application/json")
    assert stale.status_code == 409
    odd = manager.put(
        f"/api/v1/ownership/rules/{teams[0].pk}", {"version": 2, "warning_days": None}, content_type="application/json"
    )
    assert odd.status_code == 422


@pytest.mark.parametrize(
    "method,url,body",
    [
        ("post", "/api/v1/ownership/customers/0/claim", None),
        ("post", "/api/v1/ownership/customers/99999999999999999999/claim", None),
        ("post", "/api/v1/ownership/customers/1/transfers", {"to_user_id": "x"}),
        ("post", "/api/v1/ownership/transfers/1/approve", {"note": "\x00"}),
        ("get", "/api/v1/ownership/pool?limit=0", None),
        ("put", "/api/v1/ownership/rules/1", {"version": 1, "territories": [{"user_id": 1, "extra": 1}]}),
    ],
)
def test_odd_input_is_a_4xx(users, api, method, url, body):
    client = api(users["rep"])
    response = (
        getattr(client, method)(url, body, content_type="application/json")
        if body is not None
        else getattr(client, method)(url)
    )
    assert 400 <= response.status_code < 500, response.content
    assert "error" in response.json()

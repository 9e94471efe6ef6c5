import json
from datetime import date

import pytest

from guanxi.deals.models import Deal

URL = "/api/v1/deals"


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def deal(users, make_customer, make_deal):
    return make_deal(users["rep"], make_customer(users["rep"]), title="API deal", expected_close=date(2030, 5, 20))


def test_anonymous_is_refused(api):
    assert api(None).get(URL).status_code == 401


def test_support_cannot_list_or_create(users, api, make_customer):
    client = api(users["support"])
    assert client.get(URL).status_code == 403
    customer = make_customer(users["rep"])
    assert _post(client, URL, {"customer_id": customer.pk, "title": "x", "value": "1"}).status_code == 403


def test_other_reps_deal_is_a_404(users, api, deal, stages):
    client = api(users["rep2"])
    assert client.get(f"{URL}/{deal.pk}").status_code == 404
    response = _post(client, f"{URL}/{deal.pk}/move", {"stage_id": stages["proposal"].pk, "version": 1})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "deal_not_found"
    assert client.get(URL).json()["total"] == 0


def test_invalid_input_is_a_422(users, api, make_customer):
    client = api(users["rep"])
    customer = make_customer(users["rep"])
    for body in (
        {"customer_id": customer.pk, "title": "", "value": "1"},
        {"customer_id": customer.pk, "title": "x", "value": "-5"},
        {"customer_id": customer.pk, "title": "x", "value": "1", "currency": "EU1"},
        {"customer_id": customer.pk, "title": "x", "value": "1", "surprise": True},
    ):
        assert _post(client, URL, body).status_code == 422, body


def test_create_get_patch_move_lose_reopen_win(users, api, make_customer, stages, reason):
    client = api(users["rep"])
    customer = make_customer(users["rep"])
    created = _post(client, URL, {"customer_id": customer.pk, "title": "Tea", "value": "300.5", "currency": "cny"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["stage"] == "qualification" and body["currency"] == "CNY" and body["version"] == 1
    deal_id = body["id"]
    patched = _patch(client, f"{URL}/{deal_id}", {"version": 1, "expected_close": "2030-01-15"})
    assert patched.json()["expected_close"] == "2030-01-15" and patched.json()["version"] == 2
    stale = _patch(client, f"{URL}/{deal_id}", {"version": 1, "title": "Old"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    moved = _post(client, f"{URL}/{deal_id}/move", {"stage_id": stages["negotiation"].pk, "version": 2})
    assert moved.json()["stage"] == "negotiation" and moved.json()["probability"] == 75
    stale_move = _post(client, f"{URL}/{deal_id}/move", {"stage_id": stages["proposal"].pk, "version": 2})
    assert stale_move.status_code == 409
    lost = _post(client, f"{URL}/{deal_id}/lose", {"lost_reason_id": reason.pk, "note": "Too dear"})
    assert lost.json()["status"] == "lost" and lost.json()["lost_reason"] == "price"
    reopened = _post(client, f"{URL}/{deal_id}/reopen", {})
    assert reopened.json()["stage"] == "negotiation" and reopened.json()["lost_reason"] is None
    won = _post(client, f"{URL}/{deal_id}/win", {})
    assert won.json()["status"] == "won" and won.json()["won_at"]
    again = _post(client, f"{URL}/{deal_id}/win", {})
    assert again.json()["version"] == won.json()["version"]
    detail = client.get(f"{URL}/{deal_id}").json()
    assert [h["to_stage"] for h in detail["history"]] == ["qualification", "negotiation", "lost", "negotiation", "won"]


def test_list_filters_and_query_count(users, api, make_customer, make_deal, deal, django_assert_max_num_queries):
    customer = make_customer(users["rep"])
    for i in range(10):
        make_deal(users["rep"], customer, title=f"D{i}")
    client = api(users["rep"])
    client.get(URL)
    with django_assert_max_num_queries(8):
        response = client.get(URL, {"status": "open", "limit": 50})
    assert response.json()["total"] == 11
    assert client.get(URL, {"customer_id": customer.pk}).json()["total"] == 10


def test_pipelines_and_stage_admin(users, api, pipeline):
    listed = api(users["rep"]).get(f"{URL}/pipelines").json()
    assert listed[0]["is_default"] and [s["key"] for s in listed[0]["stages"]][-2:] == ["won", "lost"]
    body = {"key": "demo", "name": "Demo", "order": 25, "probability": 30}
    assert _post(api(users["manager"]), f"{URL}/pipelines/{pipeline.pk}/stages", body).status_code == 403
    admin = api(users["admin"])
    created = _post(admin, f"{URL}/pipelines/{pipeline.pk}/stages", body)
    assert created.status_code == 201 and created.json()["kind"] == "open"
    stage_id = created.json()["id"]
    assert _patch(admin, f"{URL}/stages/{stage_id}", {"probability": 35}).json()["probability"] == 35
    assert admin.delete(f"{URL}/stages/{stage_id}").status_code == 204
    renewals = _post(admin, f"{URL}/pipelines", {"name": "Renewals", "record_order_on_win": True})
    assert renewals.status_code == 201 and {s["kind"] for s in renewals.json()["stages"]} == {"won", "lost"}
    assert api(users["rep"]).get(f"{URL}/lost-reasons").status_code == 200


def test_analytics_and_forecast_scoped(users, api, make_customer, make_deal, deal):
    other = make_deal(users["rep2"], make_customer(users["rep2"]), value="500", expected_close=date(2030, 5, 3))
    assert other.pk
    mine = api(users["rep"]).get(f"{URL}/forecast").json()
    assert [(r["month"], r["weighted"]) for r in mine["by_owner"]] == [("2030-05-01", "100.00")]
    team = api(users["manager"]).get(f"{URL}/forecast").json()
    assert sorted(r["weighted"] for r in team["by_owner"]) == ["100.00", "50.00"]
    assert [r["weighted"] for r in team["by_team"]] == ["150.00"]
    analyst = api(users["analyst"]).get(f"{URL}/analytics")
    assert analyst.status_code == 200 and analyst.json()["funnel"][0]["reached"] == 2
    assert api(users["support"]).get(f"{URL}/analytics").status_code == 403
    assert api(users["rep"]).get(f"{URL}/analytics", {"currency": "1x"}).status_code == 422
    assert Deal.objects.count() == 2

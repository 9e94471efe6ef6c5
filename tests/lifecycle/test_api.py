"""/api/v1/lifecycle: anonymous -> wrong role -> other owner -> invalid input -> valid."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.lifecycle import services
from guanxi.lifecycle.models import StageDefinition

URL = "/api/v1/lifecycle"


@pytest.fixture
def mine(users, make_customer, order_for):
    customer = make_customer(users["rep"], display_name="Mine")
    order_for(customer, 3)
    services.evaluate_stages()
    return customer


def test_anonymous_gets_401(api):
    for path in ("/stages", "/distribution", "/flow", "/customers/1", "/fields"):
        assert api(None).get(URL + path).status_code == 401


def test_only_admins_change_definitions(api, users):
    loyal = StageDefinition.objects.get(key="loyal")
    for role in ("rep", "manager", "analyst", "support"):
        response = api(users[role]).patch(
            f"{URL}/stages/{loyal.pk}", {"version": 1, "position": 1}, content_type="application/json"
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "stage_definitions_admin_only"
        assert api(users[role]).post(f"{URL}/stages", {"key": "x", "name": "X", "rule": "orders > 1"},
                                     content_type="application/json").status_code == 403  # fmt: skip
    assert StageDefinition.objects.get(pk=loyal.pk).position == 40


def test_a_rep_cannot_read_another_reps_customer(api, users, mine):
    response = api(users["rep_b"]).get(f"{URL}/customers/{mine.pk}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "customer_not_found"


def test_flows_are_for_managers_admins_and_analysts(api, users, mine):
    assert api(users["rep"]).get(f"{URL}/flow").status_code == 403
    assert api(users["support"]).get(f"{URL}/distribution").status_code == 403
    assert api(users["analyst"]).get(f"{URL}/flow").status_code == 200


def test_an_invalid_rule_is_a_422_saying_where(api, users):
    admin = api(users["admin"])
    loyal = StageDefinition.objects.get(key="loyal")
    response = admin.patch(
        f"{URL}/stages/{loyal.pk}", {"version": 1, "rule": "orders >= 4 and"}, content_type="application/json"
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_stage_definition"
    assert "line 1, column 16" in error["details"]["rule"][0]
    response = admin.post(
        f"{URL}/stages", {"key": "vip", "name": "VIP", "rule": "tagz has 'vip'"}, content_type="application/json"
    )
    assert response.status_code == 422 and "tagz" in response.json()["error"]["details"]["rule"][0]
    assert admin.get(f"{URL}/flow?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z").status_code == 422
    stale = admin.patch(f"{URL}/stages/{loyal.pk}", {"version": 7, "position": 3}, content_type="application/json")
    assert stale.status_code == 409
    assert admin.get(f"{URL}/stages/999999").status_code == 404


def test_admin_crud_and_reads(api, users, mine, django_capture_on_commit_callbacks):
    admin = api(users["admin"])
    with django_capture_on_commit_callbacks(execute=False):
        created = admin.post(
            f"{URL}/stages",
            {"key": "vip", "name": "VIP", "rule": 'tags has "vip"', "position": 5, "playbook": "Call often."},
            content_type="application/json",
        )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["key"] == "vip" and body["version"] == 1
    changed = admin.patch(
        f"{URL}/stages/{body['id']}", {"version": 1, "name": "V.I.P."}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert [s["key"] for s in admin.get(f"{URL}/stages").json()][:2] == ["vip", "won_back"]
    assert admin.delete(f"{URL}/stages/{body['id']}?version=2").status_code == 204
    assert not StageDefinition.objects.filter(key="vip").exists()

    rep = api(users["rep"])
    mine_out = rep.get(f"{URL}/customers/{mine.pk}").json()
    assert mine_out["stage"] == "new" and mine_out["funnel_stage"] == "purchase"
    assert {(h["view"], h["from_stage"], h["to_stage"]) for h in mine_out["history"]} == {
        ("stage", "", "potential"),
        ("stage", "potential", "new"),
        ("funnel", "awareness", "purchase"),
    }
    assert "Welcome" in mine_out["playbook"]
    assert {r["stage"]: r["customers"] for r in rep.get(f"{URL}/distribution").json()}["new"] == 1
    flows = admin.get(f"{URL}/flow").json()["flows"]
    assert {"from": "potential", "to": "new", "customers": 1} in flows
    old = (timezone.now() - timedelta(days=400)).isoformat().replace("+00:00", "Z")
    older = (timezone.now() - timedelta(days=300)).isoformat().replace("+00:00", "Z")
    assert admin.get(f"{URL}/flow", {"since": old, "until": older}).json()["flows"] == []
    fields = {f["name"]: f for f in rep.get(f"{URL}/fields").json()}
    assert fields["p_alive"]["type"] == "number"

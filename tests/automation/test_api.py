"""/api/v1/automation: roles, validation on save (the condition's position), versions, dry runs, run log."""

import pytest

from guanxi.automation.models import Rule, RuleRun
from guanxi.core.models import AuditEntry

JSON = "application/json"
RULE = {
    "name": "Hot leads",
    "trigger": "customer.updated",
    "condition": 'tags has "hot"',
    "actions": [{"type": "create_follow_up", "title": "Call", "due_in_days": 1}],
}


def error(response):
    return response.json()["error"]


def test_anonymous_and_roles_below_manager_are_refused(users, api):
    assert api(None).get("/api/v1/automation/rules").status_code == 401
    for role in ("rep", "support", "analyst"):
        client = api(users[role])
        response = client.get("/api/v1/automation/rules")
        assert response.status_code == 403 and error(response)["code"] == "automation_denied"
        assert client.post("/api/v1/automation/rules", RULE, content_type=JSON).status_code == 403
        assert client.post("/api/v1/automation/rules/dry-run", {}, content_type=JSON).status_code == 403
        assert client.get("/api/v1/automation/templates").status_code == 403
    assert not Rule.objects.filter(name="Hot leads").exists()


def test_an_invalid_condition_is_a_400_saying_where_and_nothing_is_saved(users, api):
    client = api(users["manager"])
    before = Rule.objects.count()
    response = client.post(
        "/api/v1/automation/rules", {**RULE, "condition": 'tier == "A" and and p_alive < 0.5'}, content_type=JSON
    )
    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "invalid_rule"
    assert "line 1, column 17" in body["message"] and body["details"]["column"] == 17
    unknown = client.post("/api/v1/automation/rules", {**RULE, "condition": "teir == 1"}, content_type=JSON)
    assert unknown.status_code == 400 and "teir" in error(unknown)["message"] and "tier" in error(unknown)["message"]
    bad_action = client.post(
        "/api/v1/automation/rules", {**RULE, "actions": [{"type": "create_follow_up"}]}, content_type=JSON
    )
    assert bad_action.status_code == 422 and error(bad_action)["details"] == {
        "actions.0.title": ["This parameter is required."]
    }
    assert Rule.objects.count() == before


def test_crud_with_versions_and_audit(users, api):
    client = api(users["manager"])
    created = client.post("/api/v1/automation/rules", RULE, content_type=JSON)
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["created_by_id"] == users["manager"].pk and rule["version"] == 1 and rule["active"] is True
    url = f"/api/v1/automation/rules/{rule['id']}"
    changed = client.put(url, {"version": 1, "active": False}, content_type=JSON)
    assert changed.status_code == 200 and changed.json()["version"] == 2 and changed.json()["active"] is False
    stale = client.put(url, {"version": 1, "name": "Lost"}, content_type=JSON)
    assert stale.status_code == 409 and error(stale)["code"] == "stale_version"
    bad = client.put(url, {"version": 2, "condition": "p_alive <"}, content_type=JSON)
    assert bad.status_code == 400 and error(bad)["code"] == "invalid_rule"
    assert client.get(url).json()["name"] == "Hot leads"
    actions = list(AuditEntry.objects.filter(subject_type="automation.rule").values_list("action", flat=True))
    assert sorted(actions) == ["create", "update"]
    listed = client.get("/api/v1/automation/rules").json()
    assert rule["id"] in [item["id"] for item in listed["items"]]
    assert {"welcome", "return_visits", "at_risk_high_value", "churned_win_back", "loyal_invitation"} <= {
        item["playbook"] for item in listed["items"]
    }
    assert client.delete(f"{url}?version=1").status_code == 409
    assert client.delete(f"{url}?version=2").status_code == 204
    assert client.get(url).status_code == 404


def test_dry_run_lists_the_callers_customers_that_match_and_writes_nothing(users, api, make_customer):
    hot_a = make_customer(users["rep"], display_name="Hot A", tags=["hot"])
    make_customer(users["rep"], display_name="Cold A")
    make_customer(users["rep_b"], display_name="Hot B", tags=["hot"])
    rule = api(users["admin"]).post("/api/v1/automation/rules", RULE, content_type=JSON).json()
    runs, rules = RuleRun.objects.count(), Rule.objects.count()
    manager = api(users["manager"]).post(f"/api/v1/automation/rules/{rule['id']}/dry-run")
    assert manager.json() == {
        "total": 1,
        "customers": [{"id": hot_a.pk, "display_name": "Hot A", "owner_id": users["rep"].pk}],
    }
    admin = api(users["admin"]).post(
        "/api/v1/automation/rules/dry-run", {"condition": 'tags has "hot"'}, content_type=JSON
    )
    assert admin.json()["total"] == 2
    everyone = api(users["admin"]).post("/api/v1/automation/rules/dry-run", {"condition": ""}, content_type=JSON)
    assert everyone.json()["total"] == 3
    broken = api(users["admin"]).post("/api/v1/automation/rules/dry-run", {"condition": "tags has"}, content_type=JSON)
    assert broken.status_code == 400 and error(broken)["code"] == "invalid_rule"
    assert (RuleRun.objects.count(), Rule.objects.count()) == (runs, rules)


def test_run_log_filters_by_status_and_names_only_visible_customers(users, api, make_customer, quiet_playbooks):
    from guanxi.customers import services as customers

    rule = api(users["admin"]).post("/api/v1/automation/rules", RULE, content_type=JSON).json()
    mine = make_customer(users["rep"], display_name="Mine")
    theirs = make_customer(users["rep_b"], display_name="Theirs")
    customers.change_tags(actor=users["rep"], customer_id=mine.pk, add=["hot"])
    customers.change_tags(actor=users["rep_b"], customer_id=theirs.pk, add=["cold"])
    body = api(users["manager"]).get(f"/api/v1/automation/rules/{rule['id']}/runs").json()
    assert {(r["customer_id"], r["customer_name"], r["status"]) for r in body["items"]} == {
        (mine.pk, "Mine", "matched"),
        (theirs.pk, None, "skipped"),
    }
    matched = api(users["manager"]).get(f"/api/v1/automation/rules/{rule['id']}/runs?status=matched").json()
    assert [r["customer_id"] for r in matched["items"]] == [mine.pk]
    assert api(users["manager"]).get("/api/v1/automation/runs?status=bogus").status_code == 422


@pytest.mark.parametrize("field", ["body_en", "subject_en"])
def test_templates_are_checked(users, api, field):
    client = api(users["admin"])
    data = {"key": "hi", "name": "Hi", "subject_en": "Hi", "body_en": "Hello {{ customer.display_name }}"}
    broken = client.post("/api/v1/automation/templates", {**data, field: "{% if %}"}, content_type=JSON)
    assert broken.status_code == 422 and field in error(broken)["details"]
    created = client.post("/api/v1/automation/templates", data, content_type=JSON)
    assert created.status_code == 201
    again = client.post("/api/v1/automation/templates", data, content_type=JSON)
    assert again.status_code == 422 and "key" in error(again)["details"]
    tid = created.json()["id"]
    updated = client.put(f"/api/v1/automation/templates/{tid}", {"version": 1, "name": "Hey"}, content_type=JSON)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert client.put(f"/api/v1/automation/templates/{tid}", {"version": 1}, content_type=JSON).status_code == 409


def test_help_lists_triggers_actions_and_fields(users, api):
    body = api(users["manager"]).get("/api/v1/automation/help").json()
    assert "customer.stage_changed" in {t["key"] for t in body["triggers"]}
    assert "send_email" in {a["key"] for a in body["actions"]}
    assert {"tier", "stage", "p_alive"} <= {f["key"] for f in body["fields"]}


def test_list_query_counts_do_not_grow_with_rules_or_runs(users, api, make_customer, django_assert_max_num_queries):
    from guanxi.customers import services as customers

    client = api(users["admin"])
    for n in range(5):
        client.post("/api/v1/automation/rules", {**RULE, "name": f"r{n}"}, content_type=JSON)
    customer = make_customer(users["rep"])
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["hot"])
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/automation/rules?limit=200").status_code == 200
    with django_assert_max_num_queries(6):
        body = client.get("/api/v1/automation/runs?limit=200").json()
    assert body["total"] >= 5

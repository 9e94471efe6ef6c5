"""Automation pages: 403 below manager, the condition's error next to the field, the dry run fragment."""

import json

from guanxi.automation.models import Rule, RuleRun


def form(**overrides):
    data = {
        "name": "VIP welcome",
        "trigger": "customer.updated",
        "condition": 'tags has "vip"',
        "actions": json.dumps([{"type": "add_tag", "tag": "welcomed"}]),
        "active": "on",
        "position": "100",
    }
    return {**data, **overrides}


def test_pages_are_for_admins_and_managers_only(users, browser_for, client):
    assert client.get("/automation/").status_code == 302  # to the login page
    for role in ("rep", "support", "analyst"):
        browser = browser_for(users[role])
        assert browser.get("/automation/").status_code == 403
        assert browser.post("/automation/rules/new/", form()).status_code == 403
        assert browser.post("/automation/rules/dry-run/", {"condition": ""}).status_code == 403
    assert not Rule.objects.filter(name="VIP welcome").exists()
    page = browser_for(users["manager"]).get("/automation/")
    assert page.status_code == 200 and "Welcome follow-up for new customers" in page.content.decode()


def test_an_invalid_condition_is_shown_next_to_the_field_and_nothing_is_saved(users, browser_for):
    browser = browser_for(users["manager"])
    response = browser.post("/automation/rules/new/", form(condition='tier == "A" or'))
    html = response.content.decode()
    assert response.status_code == 200 and "line 1, column 15" in html
    assert 'data-testid="field-condition"' in html
    field = html.split('data-testid="field-condition"', 1)[1].split("</div>", 1)[0]
    assert "line 1, column 15" in field
    bad_actions = browser.post("/automation/rules/new/", form(actions='[{"type": "add_tag"}]'))
    assert "actions.0.tag: This parameter is required." in bad_actions.content.decode()
    not_json = browser.post("/automation/rules/new/", form(actions="[{"))
    assert "Not valid JSON" in not_json.content.decode()
    assert not Rule.objects.filter(name="VIP welcome").exists()


def test_create_edit_and_run_log(users, browser_for, make_customer, quiet_playbooks):
    from guanxi.customers import services as customers

    browser = browser_for(users["admin"])
    assert browser.get("/automation/rules/new/").status_code == 200
    saved = browser.post("/automation/rules/new/", form())
    assert saved.status_code == 302
    rule = Rule.objects.get(name="VIP welcome")
    page = browser.get(f"/automation/rules/{rule.pk}/")
    assert page.status_code == 200 and "welcomed" in page.content.decode()
    stale = browser.post(f"/automation/rules/{rule.pk}/", form(version="7", name="Renamed"))
    assert "Someone else changed this record" in stale.content.decode()
    assert browser.post(f"/automation/rules/{rule.pk}/", form(version="1", name="Renamed")).status_code == 302
    customer = make_customer(users["rep"], display_name="Zhang")
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["vip"])
    log = browser.get(f"/automation/rules/{rule.pk}/runs/?status=matched")
    assert log.status_code == 200 and "Zhang" in log.content.decode()
    assert RuleRun.objects.filter(rule=rule, status="matched").count() == 1
    assert browser.get("/automation/rules/999999/").status_code == 404


def test_dry_run_fragment(users, browser_for, make_customer):
    make_customer(users["rep"], display_name="Visible VIP", tags=["vip"])
    make_customer(users["rep_b"], display_name="Other team VIP", tags=["vip"])
    browser = browser_for(users["manager"])
    response = browser.post("/automation/rules/dry-run/", {"condition": 'tags has "vip"'}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "1 customer you can see matches now." in html and "Visible VIP" in html and "Other team" not in html
    broken = browser.post("/automation/rules/dry-run/", {"condition": "tags has"}, HTTP_HX_REQUEST="true")
    assert "column" in broken.content.decode()


def test_templates_pages(users, browser_for):
    browser = browser_for(users["manager"])
    assert "membership_invitation" in browser.get("/automation/templates/").content.decode()
    data = {"key": "thanks", "name": "Thanks", "subject_en": "Thanks", "body_en": "{% if %}"}
    assert "Template error" in browser.post("/automation/templates/new/", data).content.decode()
    assert browser.post("/automation/templates/new/", {**data, "body_en": "Thank you"}).status_code == 302

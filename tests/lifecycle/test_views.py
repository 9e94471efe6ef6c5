"""Lifecycle pages, the customer-page panel and the timeline source."""

import pytest
from django.test import Client

from guanxi.lifecycle import services
from guanxi.lifecycle.models import StageDefinition


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staged(users, make_customer, order_for):
    customer = make_customer(users["rep"], display_name="Staged")
    order_for(customer, 2)
    services.evaluate_stages()
    return customer


def test_anonymous_is_sent_to_login():
    assert Client().get("/lifecycle/").status_code == 302
    assert Client().get("/lifecycle/stages/").status_code == 302


@pytest.mark.django_db
def test_wrong_roles(users):
    assert _client(users["support"]).get("/lifecycle/").status_code == 403
    for role in ("rep", "manager", "analyst"):
        assert _client(users[role]).get("/lifecycle/stages/new/").status_code == 404
        loyal = StageDefinition.objects.get(key="loyal")
        assert _client(users[role]).post(f"/lifecycle/stages/{loyal.pk}/", {"rule": "orders > 0"}).status_code == 404


def test_a_rep_sees_the_distribution_of_their_customers_only(users, staged, make_customer):
    make_customer(users["rep_b"], display_name="Not mine")
    page = _client(users["rep"]).get("/lifecycle/")
    assert page.status_code == 200
    rows = {row["stage"]: row["customers"] for row in page.context["distribution"]}
    assert rows["new"] == 1 and rows["potential"] == 0
    assert "Flow between stages" not in page.content.decode()


def test_managers_see_flows_time_in_stage_and_the_funnel(users, staged):
    page = _client(users["manager"]).get("/lifecycle/?since=2020-01-01")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Flow between stages" in html and "sankey" in html and "Time in stage" in html
    times = {row["stage"]: row for row in page.context["times"]}
    assert times["potential"]["completed"] == 1 and times["new"]["current"] == 1
    funnel = {row["stage"]: row for row in page.context["funnel"]}
    assert funnel["awareness"]["reached"] == 1 and funnel["purchase"]["conversion"] == 1.0
    fragment = _client(users["manager"]).get("/lifecycle/?since=2020-01-01", headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="flow"')


def test_an_invalid_rule_is_shown_next_to_the_field_and_nothing_is_saved(users):
    loyal = StageDefinition.objects.get(key="loyal")
    client = _client(users["admin"])
    assert client.get(f"/lifecycle/stages/{loyal.pk}/").status_code == 200
    data = {"version": 1, "key": "loyal", "name": "Loyal", "rule": 'tier = "A" or', "position": 40, "active": "on"}
    page = client.post(f"/lifecycle/stages/{loyal.pk}/", data)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="error-rule"' in html and "line 1, column 14" in html
    assert StageDefinition.objects.get(pk=loyal.pk).version == 1
    data["rule"] = 'tier == "A"'
    saved = client.post(f"/lifecycle/stages/{loyal.pk}/", data)
    assert saved.status_code == 302
    assert StageDefinition.objects.get(pk=loyal.pk).rule == 'tier == "A"'
    assert "tier" in client.get("/lifecycle/stages/").content.decode()


def test_the_customer_page_shows_the_stage_and_playbook(users, staged):
    page = _client(users["rep"]).get(f"/customers/{staged.pk}/")
    html = page.content.decode()
    assert 'data-testid="lifecycle-stage"' in html and "Welcome them" in html


def test_stage_changes_are_on_the_timeline(users, staged):
    from guanxi.engagement import timeline

    source = next(s for s in timeline.sources() if s.key == "stages")
    items = source.fetch(users["rep"], staged, before=None, limit=10)
    assert {item.title for item in items} == {
        "Lifecycle stage: Potential → New",
        "Funnel stage: Purchase",
        "Lifecycle stage: Potential",
    }
    assert source.fetch(users["rep_b"], staged, before=None, limit=10) == []


def test_the_stage_history_is_in_the_personal_data_export(staged):
    from guanxi.customers import personal_data

    rows = personal_data.exporters()["lifecycle_stages"](staged)
    assert [(r["view"], r["to"]) for r in rows][:2] == [("stage", "potential"), ("stage", "new")]

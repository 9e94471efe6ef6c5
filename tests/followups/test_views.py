"""Pages: My follow-ups, the customer page panel, editing, and the cadence policies page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.followups.models import CadencePolicy, FollowUp

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def test_pages_need_a_login():
    for url in ("/follow-ups/", "/follow-ups/silent/", "/follow-ups/policies/"):
        assert Client().get(url).status_code == 302


def test_my_follow_ups_sections_and_links(
    users, customer, make_customer, follow_up, browser_for, django_assert_max_num_queries
):
    late = follow_up(title="Late call", due_on=today() - timedelta(days=2))
    follow_up(title="Today call", due_on=today())
    follow_up(title="Next week", due_on=today() + timedelta(days=7))
    follow_up(customer=make_customer(users["rep2"], display_name="Li Na"), title="Not mine")
    client = browser_for(users["rep"])
    with django_assert_max_num_queries(16):
        body = client.get("/follow-ups/").content.decode()
    assert "2 overdue" not in body and "1 overdue, 1 due today, 1 upcoming" in body
    assert body.index("Late call") < body.index("Today call") < body.index("Next week")
    assert "Not mine" not in body
    assert f"/customers/{customer.pk}/?follow_up={late.pk}" in body


def test_manager_team_filter(users, follow_up, browser_for):
    follow_up(title="Rep task")
    client = browser_for(users["manager"])
    assert "Rep task" not in client.get("/follow-ups/").content.decode()
    body = client.get(f"/follow-ups/?team={users['rep'].team_id}").content.decode()
    assert "Rep task" in body and 'data-testid="team-filter"' in body
    # A team they do not lead is ignored (their own list).
    assert "Rep task" not in client.get(f"/follow-ups/?team={users['rep_b'].team_id}").content.decode()


def test_done_button_with_a_note(users, follow_up, browser_for):
    task = follow_up()
    other = browser_for(users["rep2"])
    assert other.post(f"/follow-ups/{task.pk}/done/", {"note": "x"}).status_code == 404
    client = browser_for(users["rep"])
    response = client.post(
        f"/follow-ups/{task.pk}/done/", {"note": "sent the brochure"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and f'data-testid="follow-up-closed-{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == "done" and task.completion_note == "sent the brochure"
    again = client.post(f"/follow-ups/{task.pk}/done/", {}, headers={"HX-Request": "true"})
    assert 'role="alert"' in again.content.decode()


def test_customer_page_panel_and_add_form(users, customer, follow_up, browser_for):
    task = follow_up(title="Visible on the page")
    client = browser_for(users["rep"])
    body = client.get(f"/customers/{customer.pk}/?follow_up={task.pk}").content.decode()
    assert 'data-testid="follow-ups-panel"' in body and "Visible on the page" in body
    assert 'data-testid="follow-up-form"' in body
    # Support sees the customer page without the panel; an analyst too.
    response = client.post(
        f"/follow-ups/customers/{customer.pk}/add/",
        {"title": "Send samples", "due_on": (today() + timedelta(days=3)).isoformat(), "priority": "urgent"},
    )
    assert response.status_code == 302
    added = FollowUp.objects.get(title="Send samples")
    assert added.assignee == users["rep"] and added.priority == "urgent"
    bad = client.post(f"/follow-ups/customers/{customer.pk}/add/", {"title": "", "due_on": "x"})
    assert bad.status_code == 302 and FollowUp.objects.count() == 2
    assert (
        browser_for(users["rep_b"])
        .post(f"/follow-ups/customers/{customer.pk}/add/", {"title": "x", "due_on": today().isoformat()})
        .status_code
        == 404
    )


def test_edit_page_reschedules(users, follow_up, browser_for):
    task = follow_up()
    assert browser_for(users["rep_b"]).get(f"/follow-ups/{task.pk}/edit/").status_code == 404
    client = browser_for(users["rep"])
    page = client.get(f"/follow-ups/{task.pk}/edit/").content.decode()
    assert 'name="assignee"' not in page  # reps do not reassign
    new_day = (today() + timedelta(days=4)).isoformat()
    data = {"version": 1, "title": "Call back", "due_on": new_day, "priority": "normal", "note": ""}
    assert client.post(f"/follow-ups/{task.pk}/edit/", data).status_code == 302
    task.refresh_from_db()
    assert task.due_on.isoformat() == new_day and task.version == 2
    stale = client.post(f"/follow-ups/{task.pk}/edit/", data).content.decode()
    assert 'role="alert"' in stale
    manager_page = browser_for(users["manager"]).get(f"/follow-ups/{task.pk}/edit/").content.decode()
    assert 'name="assignee"' in manager_page


def test_policies_page_for_managers_with_clear_errors(users, browser_for):
    assert browser_for(users["rep"]).get("/follow-ups/policies/").status_code == 404
    assert browser_for(users["rep"]).get("/follow-ups/policies/tier_a/").status_code == 404
    client = browser_for(users["manager"])
    assert 'data-testid="policy-tier_a"' in client.get("/follow-ups/policies/").content.decode()
    base = {"version": 1, "name": "Tier A", "match_value": "A", "priority": 10, "active": "on"}
    page = client.post("/follow-ups/policies/tier_a/", {**base, "interval_days": 0}).content.decode()
    assert 'class="error"' in page
    bad = client.post("/follow-ups/policies/new_customer/", {**base, "match_value": "", "offsets_days": "3, x"})
    assert "Use whole numbers" in bad.content.decode()
    assert client.post("/follow-ups/policies/tier_a/", {**base, "interval_days": 21}).status_code == 302
    assert CadencePolicy.objects.get(key="tier_a").interval_days == 21
    ok = client.post("/follow-ups/policies/new_customer/", {**base, "match_value": "", "offsets_days": "2，7, 21"})
    assert ok.status_code == 302
    assert CadencePolicy.objects.get(key="new_customer").offsets_days == [2, 7, 21]
    assert Event.objects.filter(type="cadence_policy.updated").count() == 2


def test_timeline_shows_completed_follow_ups(users, customer, follow_up, log_call):
    from guanxi.engagement import timeline

    task = follow_up(title="Quarterly call")
    log_call(users["rep"], customer, subject="Talked", follow_up_id=task.pk)
    page = timeline.merged(users["rep"], customer, kinds=["follow_ups"])
    assert [item.title for item in page.items] == ["Follow-up done: Quarterly call"]
    assert timeline.merged(users["analyst"], customer, kinds=["follow_ups"]).items  # the fact, not the content

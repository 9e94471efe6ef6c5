"""/api/v1/follow-ups, in attacker order: anonymous, wrong role, other owner, invalid input, valid."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.followups.models import FollowUp

pytestmark = pytest.mark.django_db
BASE = "/api/v1/follow-ups"


def today():
    return timezone.localdate()


def test_anonymous_gets_401(api, users, follow_up):
    task = follow_up()
    client = api(None)
    assert client.get(BASE).status_code == 401
    assert client.get(f"{BASE}/{task.pk}").status_code == 401
    assert client.post(f"{BASE}/{task.pk}/complete", {}, content_type="application/json").status_code == 401


def test_wrong_role_cannot_plan_and_sees_nothing(api, users, customer, follow_up):
    follow_up()
    client = api(users["analyst"])
    payload = {"customer_id": customer.pk, "title": "x", "due_on": today().isoformat()}
    response = client.post(BASE, payload, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "follow_up_denied"
    assert client.get(BASE).json()["total"] == 0


def test_another_reps_follow_up_is_404(api, users, follow_up):
    task = follow_up()
    for name in ("rep2", "rep_b"):
        client = api(users[name])
        assert client.get(f"{BASE}/{task.pk}").status_code == 404
        response = client.patch(f"{BASE}/{task.pk}", {"version": 1, "title": "x"}, content_type="application/json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "follow_up_not_found"
        assert client.post(f"{BASE}/{task.pk}/complete", {}, content_type="application/json").status_code == 404
        assert client.post(f"{BASE}/{task.pk}/cancel", {}, content_type="application/json").status_code == 404
        assert client.get(BASE).json()["total"] == 0
    # A rep cannot list a team.
    assert api(users["rep"]).get(f"{BASE}?team_id={users['rep'].team_id}").status_code == 403
    assert FollowUp.objects.get(pk=task.pk).status == "open"


def test_invalid_input_is_422_or_409(api, users, customer, follow_up):
    client = api(users["rep"])
    bad = [
        {"customer_id": customer.pk, "title": "", "due_on": today().isoformat()},
        {"customer_id": customer.pk, "title": "x", "due_on": "tomorrow"},
        {"customer_id": customer.pk, "title": "x", "due_on": today().isoformat(), "priority": "high"},
        {"customer_id": customer.pk, "title": "x", "due_on": today().isoformat(), "extra": 1},
        {"customer_id": 2**70, "title": "x", "due_on": today().isoformat()},
    ]
    for payload in bad:
        assert client.post(BASE, payload, content_type="application/json").status_code == 422, payload
    other = {"customer_id": customer.pk, "title": "x", "due_on": today().isoformat(), "assignee_id": users["rep2"].pk}
    response = client.post(BASE, other, content_type="application/json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "follow_up_invalid"
    task = follow_up()
    stale = client.patch(f"{BASE}/{task.pk}", {"version": 5, "title": "y"}, content_type="application/json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    reassign = client.patch(
        f"{BASE}/{task.pk}", {"version": 1, "assignee_id": users["rep2"].pk}, content_type="application/json"
    )
    assert reassign.status_code == 403


def test_full_cycle(api, users, customer, log_call):
    client = api(users["rep"])
    payload = {"customer_id": customer.pk, "title": "Renewal call", "due_on": today().isoformat(), "note": "n"}
    created = client.post(BASE, payload, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["assignee_id"] == users["rep"].pk and body["customer_name"] == "Zhang Wei" and body["version"] == 1
    fid = body["id"]

    listed = client.get(f"{BASE}?status=open&customer_id={customer.pk}").json()
    assert [i["id"] for i in listed["items"]] == [fid]
    assert client.get(f"{BASE}?due_before={today().isoformat()}").json()["total"] == 0
    assert client.get(f"{BASE}?due_after={today().isoformat()}").json()["total"] == 1

    moved = client.patch(
        f"{BASE}/{fid}",
        {"version": 1, "due_on": (today() + timedelta(days=1)).isoformat()},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["version"] == 2

    interaction = log_call(users["rep"], customer, subject="Called about renewal")
    done = client.post(f"{BASE}/{fid}/complete", {"interaction_id": interaction.pk}, content_type="application/json")
    assert done.status_code == 200
    assert done.json()["status"] == "done" and done.json()["interaction_id"] == interaction.pk
    again = client.post(f"{BASE}/{fid}/complete", {}, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "follow_up_closed"

    second = client.post(BASE, payload, content_type="application/json").json()
    cancelled = client.post(
        f"{BASE}/{second['id']}/cancel", {"note": "no longer needed"}, content_type="application/json"
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_manager_lists_the_team(api, users, customer, make_customer, follow_up):
    follow_up(title="Rep's")
    follow_up(customer=make_customer(users["rep_b"], display_name="B"), title="Team B's")
    client = api(users["manager"])
    assert client.get(BASE).json()["total"] == 0  # none of their own
    team = client.get(f"{BASE}?team_id={users['rep'].team_id}").json()
    assert [i["title"] for i in team["items"]] == ["Rep's"]
    assert client.get(f"{BASE}?team_id={users['rep_b'].team_id}").json()["total"] == 0


def test_list_query_count_is_pinned(api, users, customer, follow_up, django_assert_max_num_queries):
    for n in range(5):
        follow_up(title=f"Task {n}")
    client = api(users["rep"])
    client.get(BASE)  # warm the token cache path
    with django_assert_max_num_queries(8):
        response = client.get(BASE)
    assert response.json()["total"] == 5

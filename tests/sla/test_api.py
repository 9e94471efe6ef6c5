"""/api/v1/sla: policies, calendars and holidays, a ticket's clock, the breaching list."""

from datetime import date

import time_machine

from guanxi.sla.models import BusinessCalendar, SLAPolicy
from guanxi.tickets import services as tickets

from .conftest import sh

URL = "/api/v1/sla"


def policy_body(**changes):
    return {
        "name": "Normal",
        "priority": "normal",
        "tier": "",
        "first_response_minutes": 180,
        "resolution_minutes": 960,
        **changes,
    }


def test_anonymous_and_sales_reps_cannot_edit_policies(api, users):
    normal = SLAPolicy.objects.get(priority="normal", tier="")
    assert api(None).get(f"{URL}/policies").status_code == 401
    response = api(users["rep"]).put(f"{URL}/policies/{normal.pk}", policy_body(), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "sla_denied"
    normal.refresh_from_db()
    assert normal.first_response_minutes == 240


def test_invalid_policies_are_422(api, users):
    client = api(users["manager"])
    normal = SLAPolicy.objects.get(priority="normal", tier="")
    shorter = client.put(
        f"{URL}/policies/{normal.pk}", policy_body(resolution_minutes=60), content_type="application/json"
    )
    assert shorter.status_code == 422
    assert "resolution_minutes" in shorter.json()["error"]["details"]
    clash = client.post(f"{URL}/policies", policy_body(priority="high"), content_type="application/json")
    assert clash.status_code == 422
    unknown = client.put(f"{URL}/policies/{normal.pk}", policy_body(priority="asap"), content_type="application/json")
    assert unknown.status_code == 422
    assert client.put(f"{URL}/policies/999999", policy_body(), content_type="application/json").status_code == 404


def test_a_manager_changes_a_policy_and_new_tickets_use_it(api, users, new_ticket):
    normal = SLAPolicy.objects.get(priority="normal", tier="")
    response = api(users["manager"]).put(f"{URL}/policies/{normal.pk}", policy_body(), content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["first_response_minutes"] == 180
    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        ticket = new_ticket(priority="normal")
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == sh(2026, 3, 2, 12, 0)
    listed = api(users["analyst"]).get(f"{URL}/policies").json()
    assert {(p["priority"], p["tier"]) for p in listed} >= {("normal", ""), ("normal", "A")}


def test_holidays_are_added_and_removed_by_admins(api, users):
    calendar = BusinessCalendar.objects.get(is_default=True)
    body = {"date": "2026-12-24", "name": "Company day", "name_zh_hans": "公司日", "kind": "holiday"}
    assert (
        api(users["support"]).post(f"{URL}/calendars/{calendar.pk}/holidays", body, content_type="application/json")
    ).status_code == 403
    created = api(users["admin"]).post(f"{URL}/calendars/{calendar.pk}/holidays", body, content_type="application/json")
    assert created.status_code == 201, created.content
    again = api(users["admin"]).post(f"{URL}/calendars/{calendar.pk}/holidays", body, content_type="application/json")
    assert again.status_code == 422
    holiday_id = created.json()["id"]
    assert date(2026, 12, 24) in calendar.spec().holidays
    deleted = api(users["admin"]).delete(f"{URL}/calendars/{calendar.pk}/holidays/{holiday_id}")
    assert deleted.status_code == 204
    assert not calendar.holidays.filter(pk=holiday_id).exists()
    assert api(users["admin"]).delete(f"{URL}/calendars/{calendar.pk}/holidays/{holiday_id}").status_code == 404


def test_calendar_hours_are_validated(api, users):
    calendar = BusinessCalendar.objects.get(is_default=True)
    client = api(users["admin"])
    bad = client.put(
        f"{URL}/calendars/{calendar.pk}", {"hours": {"mon": [["18:00", "09:00"]]}}, content_type="application/json"
    )
    assert bad.status_code == 422
    zone = client.put(f"{URL}/calendars/{calendar.pk}", {"time_zone": "Mars/Base"}, content_type="application/json")
    assert zone.status_code == 422
    hours = {"mon": [["08:30", "12:00"], ["13:00", "17:30"]], "sat": [["10:00", "14:00"]]}
    ok = client.put(f"{URL}/calendars/{calendar.pk}", {"hours": hours}, content_type="application/json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["hours"] == hours
    assert any(h["kind"] == "workday" for h in ok.json()["holidays"])


def test_a_tickets_clock_is_visible_only_within_the_ticket_scope(api, users, new_ticket):
    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        ticket = new_ticket(priority="high")
    assert api(users["rep_b"]).get(f"{URL}/tickets/{ticket.pk}/clock").status_code == 404
    assert api(users["analyst"]).get(f"{URL}/tickets/{ticket.pk}/clock").status_code == 404
    with time_machine.travel(sh(2026, 3, 2, 10, 35), tick=False):
        response = api(users["manager"]).get(f"{URL}/tickets/{ticket.pk}/clock")
    assert response.status_code == 200
    body = response.json()
    assert body["first_response"]["remaining_business_seconds"] == 25 * 60  # due 11:00
    assert body["resolution"]["remaining_business_seconds"] == (8 * 60 - 95) * 60
    assert body["paused"] is False and body["breached"] is False


def test_breaching_lists_tickets_due_within_the_window(api, users, new_ticket):
    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        soon = new_ticket(priority="urgent")  # first response 10:00
        later = new_ticket(priority="low")  # first response 18:00
        pending = new_ticket(priority="urgent")
        tickets.reply(actor=users["admin"], ticket_id=pending.pk, body="Which model?")
        tickets.change_status(actor=users["admin"], ticket_id=pending.pk, status="pending")
    with time_machine.travel(sh(2026, 3, 2, 9, 40), tick=False):
        response = api(users["manager"]).get(f"{URL}/breaching?within=30")
        hidden = api(users["rep_b"]).get(f"{URL}/breaching?within=30")
        wide = api(users["admin"]).get(f"{URL}/breaching?within=600")
    assert response.status_code == 200
    assert [t["number"] for t in response.json()["items"]] == [soon.number]
    assert hidden.json()["items"] == []
    assert {t["id"] for t in wide.json()["items"]} == {soon.pk, later.pk}
    assert api(users["admin"]).get(f"{URL}/breaching?within=0").status_code == 422


def test_the_breaching_list_has_a_fixed_number_of_queries(api, users, new_ticket, django_assert_max_num_queries):
    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        for _ in range(6):
            new_ticket(priority="urgent")
    client = api(users["manager"])
    with time_machine.travel(sh(2026, 3, 2, 9, 45), tick=False), django_assert_max_num_queries(8):
        response = client.get(f"{URL}/breaching?within=30")
    assert len(response.json()["items"]) == 6

"""The SLA pages and the ticket panel."""

from datetime import date

import time_machine

from guanxi.sla.models import BusinessCalendar, Holiday, SLAPolicy

from .conftest import sh


def test_the_overview_lists_tickets_by_how_soon_they_breach(
    browser_for, users, new_ticket, django_assert_max_num_queries
):
    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        soon = new_ticket(priority="urgent", subject="Kettle on fire")  # first response 10:00
        later = new_ticket(priority="high", subject="Kettle slow")  # first response 11:00
        new_ticket(priority="low", subject="Kettle colour")  # first response 18:00
    with time_machine.travel(sh(2026, 3, 2, 9, 45), tick=False):
        client = browser_for(users["manager"])
        with django_assert_max_num_queries(20):
            page = client.get("/sla/")
        hidden = browser_for(users["rep_b"]).get("/sla/")
    assert page.status_code == 200
    sections = page.context["sections"]
    assert [[t.pk for t in tickets] for _key, _title, tickets in sections] == [[soon.pk], [later.pk], []]
    assert "Kettle on fire" in page.content.decode() and "Kettle colour" not in page.content.decode()
    assert all(tickets == [] for _k, _t, tickets in hidden.context["sections"])


def test_settings_are_for_admins_and_managers(browser_for, users):
    assert browser_for(users["rep"]).get("/sla/settings/").status_code == 404
    assert browser_for(users["support"]).get("/sla/settings/").status_code == 404
    page = browser_for(users["manager"]).get("/sla/settings/")
    assert page.status_code == 200
    assert "09:00-12:00, 13:00-18:00" in page.content.decode()


def test_holidays_and_hours_are_edited_on_the_settings_page(browser_for, users):
    calendar = BusinessCalendar.objects.get(is_default=True)
    client = browser_for(users["admin"])
    added = client.post(
        f"/sla/settings/calendars/{calendar.pk}/holidays/",
        {"date": "2026-12-31", "name": "Year-end stocktake", "name_zh_hans": "年终盘点", "kind": "holiday"},
    )
    assert added.status_code == 302
    holiday = Holiday.objects.get(calendar=calendar, date=date(2026, 12, 31))
    assert holiday.name_zh_hans == "年终盘点"
    bad = client.post(f"/sla/settings/calendars/{calendar.pk}/holidays/", {"date": "soon", "name": "x"}, follow=True)
    assert "Choose a date." in bad.content.decode()
    client.post(f"/sla/settings/calendars/{calendar.pk}/holidays/{holiday.pk}/remove/")
    assert not Holiday.objects.filter(pk=holiday.pk).exists()

    hours = {"mon": "08:30-12:00, 13:00-17:30", "tue": "09:00-18:00", "time_zone": "Asia/Shanghai"}
    assert client.post(f"/sla/settings/calendars/{calendar.pk}/hours/", hours).status_code == 302
    calendar.refresh_from_db()
    assert calendar.hours == {"mon": [["08:30", "12:00"], ["13:00", "17:30"]], "tue": [["09:00", "18:00"]]}
    broken = client.post(f"/sla/settings/calendars/{calendar.pk}/hours/", {"mon": "nine to five"}, follow=True)
    assert broken.status_code == 200 and "09:00-12:00, 13:00-18:00" in broken.content.decode()
    calendar.refresh_from_db()
    assert "tue" in calendar.hours  # unchanged


def test_a_policy_is_saved_from_the_settings_page(browser_for, users):
    policy = SLAPolicy.objects.get(priority="high", tier="")
    response = browser_for(users["manager"]).post(
        f"/sla/settings/policies/{policy.pk}/",
        {
            "name": "High",
            "priority": "high",
            "tier": "",
            "first_response_minutes": "90",
            "resolution_minutes": "600",
            "active": "on",
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.first_response_minutes, policy.resolution_minutes, policy.active) == (90, 600, True)
    denied = browser_for(users["rep"]).post(
        f"/sla/settings/policies/{policy.pk}/", {"name": "x", "priority": "high", "first_response_minutes": "1"}
    )
    assert denied.status_code == 302
    policy.refresh_from_db()
    assert policy.first_response_minutes == 90


def test_the_ticket_page_shows_the_clock(browser_for, users, new_ticket):
    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        ticket = new_ticket(priority="urgent")
    with time_machine.travel(sh(2026, 3, 2, 9, 35), tick=False):
        page = browser_for(users["manager"]).get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="sla-panel"' in html
    assert "breaches in 25 min" in html


def test_the_ticket_panel_shows_a_paused_clock(browser_for, users, new_ticket):
    from guanxi.tickets import services as tickets

    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        ticket = new_ticket(priority="normal")
        tickets.reply(actor=users["admin"], ticket_id=ticket.pk, body="Which model?")
        tickets.change_status(actor=users["admin"], ticket_id=ticket.pk, status="pending")
    with time_machine.travel(sh(2026, 3, 4, 9, 0), tick=False):
        html = browser_for(users["manager"]).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Paused: waiting on the customer" in html
    assert "breaches in 24 h" in html  # the whole resolution target is left: paused since the start

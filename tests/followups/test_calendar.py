"""The ICS feed: it needs its token, and contains only that user's open follow-ups."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from guanxi.followups import services
from guanxi.followups.models import CalendarFeed

pytestmark = pytest.mark.django_db


def feed_url(token: str) -> str:
    return f"/follow-ups/calendar/{token}.ics"


def events_of(response) -> list:
    return [c for c in Calendar.from_ical(response.content).walk() if c.name == "VEVENT"]


def test_feed_requires_its_token(users, follow_up):
    follow_up()
    token = services.rotate_calendar_feed(actor=users["rep"])
    client = Client()
    assert client.get("/follow-ups/calendar/.ics").status_code == 404
    assert client.get(feed_url("nope")).status_code == 404
    assert client.get(feed_url(token[:-1] + ("A" if token[-1] != "A" else "B"))).status_code == 404
    assert client.get(feed_url("x" * 300)).status_code == 404
    assert client.get(feed_url(token)).status_code == 200
    # Only the digest is stored.
    assert token not in CalendarFeed.objects.get(user=users["rep"]).digest


def test_feed_contains_only_that_users_open_follow_ups(users, customer, make_customer, follow_up):
    mine = follow_up(title="Call Zhang", note="about the renewal", due_on=timezone.localdate() + timedelta(days=2))
    done = follow_up(title="Done already")
    services.complete_follow_up(actor=users["rep"], follow_up_id=done.pk)
    theirs = make_customer(users["rep2"], display_name="Li Na")
    follow_up(customer=theirs, title="Rep2's task")
    token = services.rotate_calendar_feed(actor=users["rep"])

    response = Client().get(feed_url(token))

    assert response["Content-Type"].startswith("text/calendar")
    events = events_of(response)
    assert [str(e["summary"]) for e in events] == ["Call Zhang – Zhang Wei"]
    event = events[0]
    assert str(event["uid"]) == f"follow-up-{mine.pk}@guanxi"
    assert event.decoded("dtstart") == mine.due_on
    assert f"/customers/{customer.pk}/?follow_up={mine.pk}" in str(event["description"])
    assert "about the renewal" in str(event["description"])


def test_a_managers_feed_holds_their_own_tasks_not_the_teams(users, follow_up):
    follow_up(title="Rep's task")
    token = services.rotate_calendar_feed(actor=users["manager"])
    assert events_of(Client().get(feed_url(token))) == []


def test_uid_is_stable_and_rotation_revokes_the_old_url(users, follow_up):
    task = follow_up()
    old = services.rotate_calendar_feed(actor=users["rep"])
    first = events_of(Client().get(feed_url(old)))[0]
    services.update_follow_up(
        actor=users["rep"], follow_up_id=task.pk, version=1, data={"due_on": timezone.localdate() + timedelta(days=3)}
    )
    new = services.rotate_calendar_feed(actor=users["rep"])
    assert Client().get(feed_url(old)).status_code == 404
    second = events_of(Client().get(feed_url(new)))[0]
    assert str(second["uid"]) == str(first["uid"])
    assert int(second["sequence"]) > int(first["sequence"])


def test_feed_of_a_deactivated_user_is_gone(users, follow_up):
    token = services.rotate_calendar_feed(actor=users["rep"])
    users["rep"].is_active = False
    users["rep"].save()
    assert Client().get(feed_url(token)).status_code == 404


def test_calendar_page_shows_the_url_once(users, browser_for):
    client = browser_for(users["rep"])
    assert client.get("/follow-ups/calendar/").status_code == 200
    response = client.post("/follow-ups/calendar/")
    body = response.content.decode()
    assert 'data-testid="feed-url"' in body and "/follow-ups/calendar/" in body
    again = client.get("/follow-ups/calendar/").content.decode()
    assert 'data-testid="feed-url"' not in again and 'data-testid="feed-exists"' in again
    assert Client().get("/follow-ups/calendar/").status_code == 302  # the page needs a login

"""The inbox: notify() from any app, e-mail after commit only, the bell, the list and mark-as-read."""

import pytest
from django.core import mail
from django.db import transaction

from guanxi.core.models import Event
from guanxi.notifications import selectors, services
from guanxi.notifications.errors import NotificationNotFound
from guanxi.notifications.models import Notification


def test_notify_stores_a_message_and_an_event(users):
    note = services.notify(users["rep"], "test.kind", "Hello", "/customers/1/")
    assert (note.user, note.kind, note.message, note.link, note.read_at) == (
        users["rep"],
        "test.kind",
        "Hello",
        "/customers/1/",
        None,
    )
    assert Event.objects.filter(type="notification.created", subject_id=note.pk).exists()
    # Only links inside the app; overlong text is cut; inactive users get nothing.
    assert services.notify(users["rep"], "k", "x" * 600, "https://evil.example/").link == ""
    assert len(Notification.objects.latest("id").message) == 500
    users["rep2"].is_active = False
    users["rep2"].save()
    assert services.notify(users["rep2"], "k", "ignored") is None
    assert services.notify(None, "k", "ignored") is None


def test_email_is_sent_after_commit_and_never_for_a_rollback(users, django_capture_on_commit_callbacks):
    users["rep"].email = "rep@example.com"
    users["rep"].save()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users["rep"], "k", "Customer goes back to the pool", "/customers/3/", email=True)
    assert len(mail.outbox) == 1 and "/customers/3/" in mail.outbox[0].body and mail.outbox[0].to == ["rep@example.com"]

    class Boom(Exception):
        pass

    with pytest.raises(Boom), django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        services.notify(users["rep"], "k", "Rolled back", email=True)
        raise Boom
    assert callbacks == [] and len(mail.outbox) == 1
    assert not Notification.objects.filter(message="Rolled back").exists()


def test_email_follows_the_setting_by_default(users, settings, django_capture_on_commit_callbacks):
    users["rep"].email = "rep@example.com"
    users["rep"].save()
    settings.GUANXI_NOTIFICATION_EMAILS = False
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users["rep"], "k", "quiet")
    settings.GUANXI_NOTIFICATION_EMAILS = True
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(users["rep"], "k", "loud")
    assert [m.body for m in mail.outbox] == ["loud"]


def test_mark_read_is_per_user(users):
    note = services.notify(users["rep"], "k", "mine")
    with pytest.raises(NotificationNotFound):
        services.mark_read(user=users["rep2"], notification_id=note.pk)
    assert services.mark_read(user=users["rep"], notification_id=note.pk).read_at is not None
    services.notify(users["rep"], "k", "two")
    services.notify(users["rep"], "k", "three")
    services.notify(users["rep2"], "k", "theirs")
    assert selectors.unread_count(users["rep"]) == 2
    assert services.mark_all_read(user=users["rep"]) == 2
    assert selectors.unread_count(users["rep"]) == 0 and selectors.unread_count(users["rep2"]) == 1


def test_bell_inbox_and_mark_read_pages(users, browser_for):
    note = services.notify(users["rep"], "k", "Please call 王小明", "/customers/1/")
    services.notify(users["rep2"], "k", "Not for rep")
    client = browser_for(users["rep"])
    home = client.get("/").content.decode()
    assert 'id="notification-bell"' in home and "/notifications/bell/" in home
    bell = client.get("/notifications/bell/").content.decode()
    assert ">1</span>" in bell and 'data-testid="unread-count"' in bell and "<html" not in bell
    inbox = client.get("/notifications/").content.decode()
    assert "Please call 王小明" in inbox and "Not for rep" not in inbox
    fragment = client.post(f"/notifications/{note.pk}/read/", headers={"HX-Request": "true"}).content.decode()
    assert "Please call 王小明" in fragment and 'data-testid="mark-read"' not in fragment
    assert 'data-testid="unread-count"' not in client.get("/notifications/bell/").content.decode()
    other = Notification.objects.get(message="Not for rep")
    assert client.post(f"/notifications/{other.pk}/read/").status_code == 404
    assert client.get(f"/notifications/{note.pk}/read/").status_code == 405
    opened = client.post(f"/notifications/{note.pk}/read/", {"open": "1"})
    assert opened.status_code == 302 and opened["Location"] == "/customers/1/"
    assert client.post("/notifications/read-all/").status_code == 302


def test_api(users, api):
    note = services.notify(users["rep"], "k", "hi")
    services.notify(users["rep2"], "k", "theirs")
    body = api(users["rep"]).get("/api/v1/notifications").json()
    assert [n["message"] for n in body["items"]] == ["hi"] and body["unread"] == 1
    other = Notification.objects.get(message="theirs")
    assert api(users["rep"]).post(f"/api/v1/notifications/{other.pk}/read").status_code == 404
    read = api(users["rep"]).post(f"/api/v1/notifications/{note.pk}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert api(users["rep"]).post("/api/v1/notifications/read-all").json() == {"marked": 0}
    assert api(None).get("/api/v1/notifications").status_code == 401


def test_a_message_is_shown_in_the_readers_language_not_the_senders(users, browser_for):
    from django.utils import translation

    with translation.override("en"):
        note = services.notify(
            users["manager"],
            "ownership.assigned",
            "%(actor)s assigned %(customer)s to you.",
            "/customers/1/",
            params={"actor": "rep", "customer": "王小明"},
        )
    with translation.override("zh-hans"):
        chinese = note.text
    with translation.override("en"):
        english = note.text
    assert english == "rep assigned 王小明 to you."
    assert chinese != english and "王小明" in chinese and "rep" in chinese

    client = browser_for(users["manager"])
    page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese in page.content.decode()
    body = client.get("/api/v1/notifications", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english in [item["message"] for item in body["items"]]

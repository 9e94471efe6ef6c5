"""The customer page panel (two clicks: channel button, save), the timeline fragments, the interactions page,
downloads."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guanxi.engagement.models import Interaction

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_anonymous_is_sent_to_login(db, client):
    for url in ("/interactions/", "/interactions/customers/1/new/", "/interactions/customers/1/timeline/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    assert client.post("/interactions/customers/1/log/").status_code == 302


def test_customer_page_shows_buttons_and_timeline(users, customers, browser_for, log):
    log(users["rep"], customers["rep"], subject="Asked about prices")
    page = browser_for(users["rep"]).get(f"/customers/{customers['rep'].pk}/?follow_up=12")
    html = page.content.decode()
    assert page.status_code == 200
    for channel in ("phone", "email", "sms", "wechat", "meeting", "visit", "chat", "note"):
        assert f'data-testid="log-{channel}"' in html
    assert "follow_up=12" in html and 'data-testid="timeline"' in html and "Asked about prices" in html


def test_analyst_sees_no_log_buttons(users, customers, browser_for):
    html = browser_for(users["analyst"]).get(f"/customers/{customers['rep'].pk}/").content.decode()
    assert 'data-testid="log-phone"' not in html and 'data-testid="timeline"' in html
    assert browser_for(users["analyst"]).get(f"/interactions/customers/{customers['rep'].pk}/new/").status_code == 404


def test_other_reps_customer_is_404_everywhere(users, customers, browser_for, log):
    client = browser_for(users["rep"])
    cid = customers["rep_b"].pk
    theirs = log(users["rep_b"], customers["rep_b"], attachments=[("a.txt", b"x")])
    assert client.get(f"/interactions/customers/{cid}/new/?channel=phone").status_code == 404
    assert client.get(f"/interactions/customers/{cid}/timeline/").status_code == 404
    assert client.post(f"/interactions/customers/{cid}/log/", {"channel": "phone", "subject": "x"}).status_code == 404
    assert client.post(f"/interactions/{theirs.pk}/delete/", {"version": 1}).status_code == 404
    assert client.get(f"/interactions/attachments/{theirs.attachments.get().pk}/").status_code == 404
    assert Interaction.objects.count() == 1


def test_two_clicks_form_then_save_refreshes_the_timeline(users, customers, browser_for):
    client = browser_for(users["rep"])
    cid = customers["rep"].pk
    form = client.get(f"/interactions/customers/{cid}/new/?channel=wechat&follow_up=5", **HTMX).content.decode()
    assert 'value="wechat" selected' in form and 'name="follow_up" value="5"' in form and "autofocus" in form
    response = client.post(
        f"/interactions/customers/{cid}/log/",
        {
            "channel": "wechat",
            "direction": "outbound",
            "subject": "Sent the catalogue",
            "body": "@manager FYI",
            "duration_minutes": "2",
            "follow_up": "5",
            "attachments": [SimpleUploadedFile("cat.pdf", b"%PDF")],
        },
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Retarget" not in response
    assert "Sent the catalogue" in html and 'hx-swap-oob="true"' in html and "cat.pdf" in html
    interaction = Interaction.objects.get()
    assert interaction.duration_seconds == 120 and interaction.author == users["rep"]
    assert list(interaction.mentions.values_list("username", flat=True)) == ["manager"]
    from guanxi.core.models import Event

    assert Event.objects.get(type="interaction.logged").payload["follow_up_id"] == 5
    # The filters come back all checked (the refreshed timeline shows every kind).
    assert 'id="timeline-filters"' in html and "timeline-kind-orders" in html


def test_without_javascript_saving_goes_back_to_the_customer_page(users, customers, browser_for):
    cid = customers["rep"].pk
    response = browser_for(users["rep"]).post(
        f"/interactions/customers/{cid}/log/", {"channel": "visit", "direction": "outbound", "subject": "Site visit"}
    )
    assert response.status_code == 302 and response["Location"] == f"/customers/{cid}/"
    assert Interaction.objects.get().channel == "visit"


def test_invalid_form_comes_back_into_the_form_slot(users, customers, browser_for):
    response = browser_for(users["rep"]).post(
        f"/interactions/customers/{customers['rep'].pk}/log/", {"channel": "phone", "direction": "outbound"}, **HTMX
    )
    assert response["HX-Retarget"] == "#interaction-form"
    assert 'data-testid="interaction-error"' in response.content.decode()
    assert not Interaction.objects.exists()


def test_too_big_attachment_is_a_message_not_a_500(users, customers, browser_for, settings):
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 2
    response = browser_for(users["rep"]).post(
        f"/interactions/customers/{customers['rep'].pk}/log/",
        {"channel": "email", "direction": "outbound", "subject": "x", "attachments": [SimpleUploadedFile("a", b"abc")]},
        **HTMX,
    )
    assert response.status_code == 200 and "the limit is 2 bytes" in response.content.decode()
    assert not Interaction.objects.exists()


def test_timeline_filters_and_older_button(users, customers, browser_for, log):
    now = timezone.now()
    for n in range(25):
        log(users["rep"], customers["rep"], subject=f"Call {n:02d}", occurred_at=now - timedelta(hours=n + 1))
    client = browser_for(users["rep"])
    url = f"/interactions/customers/{customers['rep'].pk}/timeline/"
    html = client.get(f"{url}?filtered=1&kinds=interactions", **HTMX).content.decode()
    assert html.count('data-testid="timeline-item"') == 20 and 'data-testid="timeline-older"' in html
    assert "Call 00" in html and "Call 19" in html and "Call 20" not in html
    older = html.split('data-testid="timeline-older"')[1].split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    rest = client.get(older, **HTMX).content.decode()
    assert rest.count('data-testid="timeline-item"') == 5 and "Call 24" in rest and "Call 19" not in rest
    assert "timeline-older" not in rest and "<ol" not in rest
    nothing = client.get(f"{url}?filtered=1", **HTMX).content.decode()
    assert 'data-testid="timeline-item"' not in nothing
    orders_only = client.get(f"{url}?filtered=1&kinds=orders", **HTMX).content.decode()
    assert "Call 00" not in orders_only


def test_delete_own_from_the_timeline(users, customers, browser_for, log):
    mine = log(users["rep"], customers["rep"])
    assert browser_for(users["manager"]).post(f"/interactions/{mine.pk}/delete/", {"version": 1}, **HTMX).content
    assert Interaction.objects.filter(pk=mine.pk).exists()
    response = browser_for(users["rep"]).post(f"/interactions/{mine.pk}/delete/", {"version": 1}, **HTMX)
    assert response.status_code == 200 and response.content == b""
    assert not Interaction.objects.exists()


def test_recent_page_filters_and_query_count(users, customers, browser_for, log, django_assert_max_num_queries):
    log(users["rep"], customers["rep"], channel="phone", subject="Rep phoned")
    log(users["manager"], customers["rep2"], channel="email", subject="Managers")
    log(users["rep_b"], customers["rep_b"], channel="email", subject="Other team")
    manager = browser_for(users["manager"])
    html = manager.get("/interactions/").content.decode()
    assert "Rep phoned" in html and "Managers" in html and "Other team" not in html
    assert "Rep phoned" not in manager.get("/interactions/?channel=email").content.decode()
    assert "Rep phoned" not in manager.get("/interactions/?mine=1").content.decode()
    rep = browser_for(users["rep"])
    with django_assert_max_num_queries(14) as few:
        rep.get("/interactions/")
    for n in range(10):
        log(users["rep"], customers["rep"], subject=f"n{n}", attachments=[("a.txt", b"x")])
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = rep.get("/interactions/").content.decode()
    assert html.count('data-testid="interaction-row"') == 11


def test_download_is_an_attachment(users, customers, browser_for, log):
    interaction = log(
        users["rep"], customers["rep"], attachments=[("x.svg", b"<svg onload=alert(1)>", "image/svg+xml")]
    )
    response = browser_for(users["rep2"]).get(f"/interactions/attachments/{interaction.attachments.get().pk}/")
    assert response.status_code == 404  # rep2 does not see rep's customer
    response = browser_for(users["rep"]).get(f"/interactions/attachments/{interaction.attachments.get().pk}/")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"


def test_edit_own_in_place_with_version(users, customers, browser_for, log):
    mine = log(users["rep"], customers["rep"], subject="Call", duration_seconds=61)
    url = f"/interactions/{mine.pk}/edit/"
    assert browser_for(users["manager"]).get(url, **HTMX).status_code == 404  # not the author
    assert browser_for(users["rep_b"]).get(url, **HTMX).status_code == 404
    client = browser_for(users["rep"])
    form = client.get(url, **HTMX).content.decode()
    assert 'data-testid="edit-interaction-form"' in form and 'name="version" value="1"' in form
    assert 'name="duration_minutes" value="2"' in form
    fields = {
        "channel": "phone",
        "direction": "outbound",
        "subject": "Call back",
        "body": "",
        "outcome": "Agreed",
        "duration_minutes": "2",
        "occurred_at": timezone.localtime(mine.occurred_at).strftime("%Y-%m-%dT%H:%M"),
        "version": "1",
    }
    saved = client.post(url, fields, **HTMX).content.decode()
    assert 'data-testid="timeline-item"' in saved and "Call back" in saved and "Agreed" in saved
    stored = Interaction.objects.get(pk=mine.pk)
    assert (stored.subject, stored.version, stored.occurred_at) == ("Call back", 2, mine.occurred_at)
    stale = client.post(url, {**fields, "subject": "Again"}, **HTMX).content.decode()
    assert 'data-testid="interaction-error"' in stale and "version 2" in stale
    assert "Call back" in client.get(f"{url}?cancel=1", **HTMX).content.decode()


def test_logging_from_a_follow_up_link_completes_it(users, customers, browser_for):
    from guanxi.followups import services as followups

    cid = customers["rep"].pk
    task = followups.create_follow_up(
        actor=users["rep"], customer_id=cid, title="Call about the order", due_on=timezone.localdate() + timedelta(7)
    )
    page = browser_for(users["rep"]).get(f"/customers/{cid}/?follow_up={task.pk}").content.decode()
    assert f"follow_up={task.pk}" in page and 'data-testid="completing-follow-up"' in page
    browser_for(users["rep"]).post(
        f"/interactions/customers/{cid}/log/",
        {"channel": "phone", "direction": "outbound", "subject": "Done", "follow_up": str(task.pk)},
        **HTMX,
    )
    task.refresh_from_db()
    assert task.status == "done" and task.interaction_id == Interaction.objects.get().pk

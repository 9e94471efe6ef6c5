"""/api/v1/interactions: scope, errors as {"error": ...}, filters, versions, attachments, query counts."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guanxi.engagement.models import Interaction

URL = "/api/v1/interactions"


def code(response):
    return response.json()["error"]["code"]


def test_anonymous_is_401(db, api):
    client = api(None)
    assert client.get(URL).status_code == 401
    assert client.post(URL, {}, content_type="application/json").status_code == 401
    assert client.get(f"{URL}/timeline?customer_id=1").status_code == 401
    assert client.get(f"{URL}/attachments/1").status_code == 401


def test_analyst_cannot_log_and_lists_nothing(users, customers, api, log):
    log(users["rep"], customers["rep"])
    client = api(users["analyst"])
    response = client.post(
        URL, {"customer_id": customers["rep"].pk, "channel": "phone", "subject": "x"}, content_type="application/json"
    )
    assert response.status_code == 403 and code(response) == "interaction_denied"
    assert client.get(URL).json()["total"] == 0


def test_other_reps_customer_and_interaction_are_404(users, customers, api, log):
    theirs = log(users["rep_b"], customers["rep_b"], attachments=[("a.txt", b"secret")])
    client = api(users["rep"])
    response = client.post(
        URL, {"customer_id": customers["rep_b"].pk, "channel": "phone", "subject": "x"}, content_type="application/json"
    )
    assert response.status_code == 404 and code(response) == "customer_not_found"
    assert code(client.get(f"{URL}/{theirs.pk}")) == "interaction_not_found"
    assert client.patch(f"{URL}/{theirs.pk}", {"version": 1}, content_type="application/json").status_code == 404
    assert client.delete(f"{URL}/{theirs.pk}?version=1").status_code == 404
    attachment = theirs.attachments.get()
    assert code(client.get(f"{URL}/attachments/{attachment.pk}")) == "attachment_not_found"
    assert client.get(f"{URL}/timeline?customer_id={customers['rep_b'].pk}").status_code == 404
    assert client.get(URL).json()["total"] == 0


def test_invalid_input_is_422_never_500(users, customers, api):
    client = api(users["rep"])
    cid = customers["rep"].pk
    bad = [
        {"customer_id": cid, "channel": "fax"},
        {"customer_id": cid, "channel": "phone", "subject": "x", "unknown": 1},
        {"customer_id": cid, "channel": "phone", "subject": "x\x00"},
        {"customer_id": cid, "channel": "phone", "subject": "x", "duration_seconds": -5},
        {"customer_id": 0, "channel": "phone", "subject": "x"},
        {"customer_id": cid, "channel": "phone", "subject": "x", "occurred_at": "not a date"},
    ]
    for body in bad:
        response = client.post(URL, body, content_type="application/json")
        assert response.status_code == 422, body
        assert "error" in response.json()
    empty = client.post(URL, {"customer_id": cid, "channel": "phone"}, content_type="application/json")
    assert empty.status_code == 422 and code(empty) == "interaction_invalid"
    future = (timezone.now() + timedelta(days=3)).isoformat()
    response = client.post(
        URL,
        {"customer_id": cid, "channel": "phone", "subject": "x", "occurred_at": future},
        content_type="application/json",
    )
    assert response.status_code == 422 and "occurred_at" in response.json()["error"]["details"]
    assert client.get(f"{URL}?since=yesterday").status_code == 422
    assert client.get(f"{URL}/timeline").status_code == 422
    assert not Interaction.objects.exists()


def test_create_read_update_delete_with_versions(users, customers, api):
    client = api(users["rep"])
    response = client.post(
        URL,
        {
            "customer_id": customers["rep"].pk,
            "channel": "meeting",
            "direction": "outbound",
            "subject": "Visit plan",
            "body": "Bring samples @manager",
            "duration_seconds": 3600,
            "follow_up_id": 7,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["mentions"] == ["manager"] and created["author"] == "rep" and created["version"] == 1
    iid = created["id"]
    assert client.get(f"{URL}/{iid}").json()["subject"] == "Visit plan"
    assert api(users["manager"]).get(f"{URL}/{iid}").status_code == 200
    # Someone else who can see it may not change it.
    other = api(users["manager"]).patch(f"{URL}/{iid}", {"version": 1, "subject": "x"}, content_type="application/json")
    assert other.status_code == 403 and code(other) == "interaction_denied"
    ok = client.patch(f"{URL}/{iid}", {"version": 1, "outcome": "Agreed"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["outcome"] == "Agreed" and ok.json()["version"] == 2
    assert ok.json()["subject"] == "Visit plan"
    stale = client.patch(f"{URL}/{iid}", {"version": 1, "outcome": "x"}, content_type="application/json")
    assert stale.status_code == 409 and code(stale) == "stale_version"
    assert client.delete(f"{URL}/{iid}?version=1").status_code == 409
    assert client.delete(f"{URL}/{iid}").status_code == 422
    assert client.delete(f"{URL}/{iid}?version=2").status_code == 204
    assert client.get(f"{URL}/{iid}").status_code == 404


def test_list_filters(users, customers, api, log):
    now = timezone.now()
    rep, manager = users["rep"], users["manager"]
    log(rep, customers["rep"], channel="phone", direction="inbound", occurred_at=now - timedelta(days=3))
    log(rep, customers["rep"], channel="email", occurred_at=now - timedelta(days=1))
    log(manager, customers["rep2"], channel="phone", occurred_at=now - timedelta(hours=1))
    log(users["rep_b"], customers["rep_b"], channel="phone")

    def ids(client, query=""):
        body = client.get(f"{URL}?{query}").json()
        return [(i["channel"], i["customer_id"]) for i in body["items"]], body["total"]

    mgr = api(manager)
    items, total = ids(mgr)
    assert total == 3 and items[0] == ("phone", customers["rep2"].pk)  # newest first
    assert ids(mgr, f"customer_id={customers['rep'].pk}")[1] == 2
    assert ids(mgr, "channel=phone")[1] == 2
    assert ids(mgr, "direction=inbound")[0] == [("phone", customers["rep"].pk)]
    since = (now - timedelta(days=2)).isoformat().replace("+", "%2B")
    until = (now - timedelta(hours=2)).isoformat().replace("+", "%2B")
    assert ids(mgr, f"since={since}")[1] == 2
    assert ids(mgr, f"since={since}&until={until}")[0] == [("email", customers["rep"].pk)]
    assert ids(mgr, "mine=true")[0] == [("phone", customers["rep2"].pk)]
    assert ids(api(users["rep"]))[1] == 2
    paged = mgr.get(f"{URL}?limit=1&offset=1").json()
    assert paged["total"] == 3 and len(paged["items"]) == 1 and paged["items"][0]["channel"] == "email"


def test_list_query_count_does_not_grow(users, customers, api, log, django_assert_max_num_queries):
    client = api(users["rep"])
    for n in range(3):
        log(users["rep"], customers["rep"], body=f"@manager {n}", attachments=[("a.txt", b"x")])
    with django_assert_max_num_queries(9) as few:
        assert client.get(f"{URL}?limit=50").json()["total"] == 3
    for n in range(12):
        log(users["rep"], customers["rep"], body=f"@manager {n}", attachments=[("a.txt", b"x"), ("b.txt", b"y")])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(f"{URL}?limit=50").json()["items"]) == 15


def test_attachment_upload_and_download(users, customers, api, log, settings):
    interaction = log(users["rep"], customers["rep"])
    client = api(users["rep"])
    url = f"{URL}/{interaction.pk}/attachments"
    page = SimpleUploadedFile("page.html", b"<script>alert(1)</script>", content_type="text/html")
    response = client.post(url, {"file": page})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "page.html" and body["size"] == 25
    download = api(users["manager"]).get(body["url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;") and "page.html" in download["Content-Disposition"]
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"<script>alert(1)</script>"
    # Not the author: 403; another team: 404; too big: 413; no name: 422.
    assert api(users["manager"]).post(url, {"file": SimpleUploadedFile("a.txt", b"x")}).status_code == 403
    assert api(users["rep_b"]).post(url, {"file": SimpleUploadedFile("a.txt", b"x")}).status_code == 404
    assert api(users["analyst"]).get(body["url"]).status_code == 404
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 3
    big = client.post(url, {"file": SimpleUploadedFile("big.pdf", b"1234")})
    assert big.status_code == 413 and code(big) == "attachment_too_large"
    assert big.json()["error"]["details"] == {"size": 4, "limit": 3}
    empty = client.post(url, {"file": SimpleUploadedFile("e.txt", b"")})
    assert empty.status_code == 422 and code(empty) == "attachment_invalid"
    assert client.post(url, {}).status_code == 422
    assert client.get(f"{URL}/{interaction.pk}").json()["attachments"][0]["name"] == "page.html"


def test_timeline_json(users, customers, api, log):
    now = timezone.now()
    for days in (3, 2, 1):
        log(users["rep"], customers["rep"], subject=f"Call {days}", occurred_at=now - timedelta(days=days))
    client = api(users["rep"])
    base = f"{URL}/timeline?customer_id={customers['rep'].pk}&kinds=interactions,orders,ownership"
    first = client.get(f"{base}&limit=2").json()
    titles = [item["title"] for item in first["items"]]
    assert titles == ["Created", "Phone call: Call 1"] and first["next_before"]
    assert first["kinds"] == ["interactions", "orders", "ownership"]
    before = first["next_before"].replace("+", "%2B")
    second = client.get(f"{base}&limit=2&before={before}").json()
    assert [i["title"] for i in second["items"]] == ["Phone call: Call 2", "Phone call: Call 3"]
    assert second["next_before"] is None
    everything = client.get(f"{URL}/timeline?customer_id={customers['rep'].pk}").json()
    assert {"interactions", "orders", "ownership"} <= set(everything["kinds"])
    only = client.get(f"{URL}/timeline?customer_id={customers['rep'].pk}&kinds=ownership").json()
    assert [i["kind"] for i in only["items"]] == ["ownership"] and only["kinds"] == ["ownership"]

import pytest
from django.test import Client

from guanxi.customers.models import Customer
from guanxi.tickets import services
from guanxi.tickets.models import Ticket, TicketMessage

pytestmark = pytest.mark.django_db


def test_public_form_creates_a_ticket_and_a_customer(db):
    client = Client(enforce_csrf_checks=False)
    response = client.post(
        "/help/",
        {
            "name": "Wang Fang",
            "email": "wang@example.com",
            "phone": "",
            "subject": "Late parcel",
            "description": "Where is it?",
            "category": "question",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.customer.emails == ["wang@example.com"]
    assert ticket.channel == "web_form"
    token = response["Location"].split("/help/t/")[1].split("/")[0]
    assert ticket.token_digest and token not in ticket.token_digest
    # The same e-mail again is the same customer.
    client.post(
        "/help/",
        {"name": "W", "email": "WANG@example.com", "subject": "Again", "description": "x", "category": "question"},
    )
    assert Customer.objects.count() == 1 and Ticket.objects.count() == 2


def test_public_form_shows_field_errors_and_writes_nothing(db):
    response = Client().post(
        "/help/", {"name": "", "email": "not-an-email", "subject": "", "description": "", "category": "question"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    for field in ("name", "email", "subject", "description"):
        assert f'data-testid="error-{field}"' in html
    assert not Ticket.objects.exists() and not Customer.objects.exists()


def test_public_form_needs_csrf(db):
    response = Client(enforce_csrf_checks=True).post("/help/", {"name": "a"})
    assert response.status_code == 403


def test_status_page_escapes_html_and_hides_internal_notes(users):
    ticket, token = services.create_public_ticket(
        data={
            "name": "<b>X</b>",
            "email": "x@example.com",
            "subject": "<script>alert(1)</script>",
            "description": "<img src=x onerror=alert(1)>",
            "category": "question",
        }
    )
    services.reply(actor=users["admin"], ticket_id=ticket.pk, body="secret internal", internal=True)
    services.reply(actor=users["admin"], ticket_id=ticket.pk, body="Public <i>answer</i>")
    html = Client().get(f"/help/t/{token}/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html
    assert "Public &lt;i&gt;answer&lt;/i&gt;" in html
    assert "secret internal" not in html


def test_requester_reply_on_status_page_reopens(users):
    ticket, token = services.create_public_ticket(
        data={"name": "X", "email": "x@example.com", "subject": "s", "description": "d"}
    )
    services.change_status(actor=users["admin"], ticket_id=ticket.pk, status="resolved")
    response = Client().post(f"/help/t/{token}/", {"body": "not fixed"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.reopen_count == 1


def test_unknown_token_is_a_404_page_and_writes_nothing(db):
    response = Client().post("/help/t/not-a-token/", {"body": "hello"})
    assert response.status_code == 404
    assert b"not valid" in response.content
    assert not TicketMessage.objects.exists()


def test_support_agent_sees_their_queue_and_its_customers_only(users, make_customer, new_ticket, queue_b, api):
    mine = make_customer(users["rep"], display_name="In queue A")
    other = make_customer(users["rep_b"], display_name="Team B customer")
    in_a = new_ticket(mine)
    in_b = new_ticket(other, queue_id=queue_b.pk)
    client = api(users["support"])
    listed = client.get("/api/v1/tickets?status=new").json()
    assert [t["id"] for t in listed["items"]] == [in_a.pk]
    assert client.get(f"/api/v1/tickets/{in_b.pk}").status_code == 404
    assert (
        client.post(f"/api/v1/tickets/{in_b.pk}/replies", {"body": "x"}, content_type="application/json").status_code
        == 404
    )
    assert client.get(f"/api/v1/customers/{mine.pk}").status_code == 200
    assert client.get(f"/api/v1/customers/{other.pk}").status_code == 404


def test_rep_sees_only_their_customers_tickets(users, make_customer, new_ticket, api, browser_for):
    own = new_ticket(make_customer(users["rep"], display_name="Own"))
    foreign = new_ticket(make_customer(users["rep_b"], display_name="Foreign"))
    client = api(users["rep"])
    assert [t["id"] for t in client.get("/api/v1/tickets").json()["items"]] == [own.pk]
    assert client.get(f"/api/v1/tickets/{foreign.pk}").status_code == 404
    assert api(users["analyst"]).get(f"/api/v1/tickets/{own.pk}").status_code == 404
    page = browser_for(users["rep"]).get("/tickets/")
    assert page.status_code == 200
    assert own.number.encode() in page.content and foreign.number.encode() not in page.content
    assert browser_for(users["rep"]).get(f"/tickets/{foreign.pk}/").status_code == 404


def test_stale_version_is_a_409_in_the_api(users, make_customer, new_ticket, api):
    ticket = new_ticket(make_customer(users["rep"]))
    client = api(users["admin"])
    ok = client.patch(
        f"/api/v1/tickets/{ticket.pk}", {"version": ticket.version, "priority": "high"}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["priority"] == "high"
    stale = client.patch(
        f"/api/v1/tickets/{ticket.pk}", {"version": ticket.version, "subject": "Other"}, content_type="application/json"
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"


def test_api_create_reply_assign_merge_and_messages(users, make_customer, api, queue_a):
    customer = make_customer(users["rep"])
    client = api(users["admin"])
    created = client.post(
        "/api/v1/tickets",
        {"customer_id": customer.pk, "subject": "A", "queue_id": queue_a.pk},
        content_type="application/json",
    )
    assert created.status_code == 201
    first = created.json()["id"]
    second = client.post(
        "/api/v1/tickets",
        {"customer_id": customer.pk, "subject": "B", "queue_id": queue_a.pk},
        content_type="application/json",
    ).json()["id"]
    assert (
        client.post(
            f"/api/v1/tickets/{first}/replies", {"body": "note", "internal": True}, content_type="application/json"
        ).status_code
        == 201
    )
    assigned = client.post(
        f"/api/v1/tickets/{first}/assign", {"assignee_id": users["support"].pk}, content_type="application/json"
    )
    assert assigned.json()["assignee_id"] == users["support"].pk
    # A sales rep cannot take tickets.
    bad = client.post(
        f"/api/v1/tickets/{first}/assign", {"assignee_id": users["rep"].pk}, content_type="application/json"
    )
    assert bad.status_code == 422
    merged = client.post(f"/api/v1/tickets/{second}/merge", {"target_id": first}, content_type="application/json")
    assert merged.status_code == 200 and merged.json()["id"] == first
    assert client.get(f"/api/v1/tickets/{second}").json()["merged_into_id"] == first
    kinds = [m["kind"] for m in client.get(f"/api/v1/tickets/{first}/messages").json()]
    assert kinds.count("internal_note") == 2
    assert {c["key"] for c in client.get("/api/v1/tickets/categories").json()} >= {"complaint", "return"}
    assert any(q["id"] == queue_a.pk for q in client.get("/api/v1/tickets/queues").json())


def test_ticket_pages_render_and_report_a_conflict(users, make_customer, new_ticket, browser_for):
    customer = make_customer(users["rep"])
    ticket = new_ticket(customer)
    browser = browser_for(users["support"])
    assert browser.get(f"/tickets/{ticket.pk}/").status_code == 200
    assert browser.get(f"/customers/{customer.pk}/").status_code == 200
    response = browser.post(f"/tickets/{ticket.pk}/status/", {"status": "open", "version": ticket.version + 5})
    assert response.status_code == 409 and b"Someone else changed" in response.content
    response = browser.post(f"/tickets/{ticket.pk}/reply/", {"body": "On it"})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    new_page = browser_for(users["rep"]).get(f"/tickets/new/?customer={customer.pk}")
    assert new_page.status_code == 200
    made = browser_for(users["rep"]).post(
        "/tickets/new/", {"customer_id": customer.pk, "subject": "From page", "channel": "phone", "category": "return"}
    )
    assert made.status_code == 302 and Ticket.objects.filter(subject="From page").exists()

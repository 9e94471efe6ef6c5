import pytest
import time_machine
from django.core import mail

from guanxi.core.errors import StaleVersion
from guanxi.core.models import Event
from guanxi.tickets import services
from guanxi.tickets.errors import TicketClosed, TransitionNotAllowed
from guanxi.tickets.models import Queue, Ticket, TicketMessage, TicketStatusChange

pytestmark = pytest.mark.django_db


def history(ticket):
    return list(TicketStatusChange.objects.filter(ticket=ticket).values_list("from_status", "to_status"))


def test_creation_is_numbered_and_logged_from_empty_to_new(users, make_customer, new_ticket):
    customer = make_customer(users["rep"])
    ticket = new_ticket(customer)
    assert ticket.number == f"T-{ticket.pk:06d}"
    assert ticket.status == "new"
    assert history(ticket) == [("", "new")]
    event = Event.objects.get(type="ticket.created", subject_id=ticket.pk)
    for key in ("ticket_id", "number", "customer_id", "status", "priority", "category", "queue_id", "team_id"):
        assert key in event.payload
    assert event.payload["category"] == "question"


def test_status_machine_allows_the_documented_path_and_refuses_the_rest(users, make_customer, new_ticket):
    ticket = new_ticket(make_customer(users["rep"]))
    admin = users["admin"]
    for status in ("open", "pending", "open", "resolved", "closed"):
        services.change_status(actor=admin, ticket_id=ticket.pk, status=status)
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None and ticket.closed_at is not None
    with pytest.raises(TransitionNotAllowed) as caught:
        services.change_status(actor=admin, ticket_id=ticket.pk, status="open")
    assert "Closed" in caught.value.message
    other = new_ticket(make_customer(users["rep"], display_name="Other"))
    with pytest.raises(TransitionNotAllowed):
        services.change_status(actor=admin, ticket_id=other.pk, status="new")


def test_api_refuses_a_bad_transition_with_422_and_a_message(users, make_customer, new_ticket, api):
    ticket = new_ticket(make_customer(users["rep"]))
    services.change_status(actor=users["admin"], ticket_id=ticket.pk, status="resolved")
    services.change_status(actor=users["admin"], ticket_id=ticket.pk, status="closed")
    response = api(users["admin"]).post(
        f"/api/v1/tickets/{ticket.pk}/status", {"status": "pending"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "cannot go from" in response.json()["error"]["message"]


def test_first_public_reply_sets_first_response_and_opens(users, make_customer, new_ticket):
    ticket = new_ticket(make_customer(users["rep"]))
    services.reply(actor=users["support"], ticket_id=ticket.pk, body="Looking into it", internal=True)
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.first_response_at is None
    with time_machine.travel("2026-03-02 10:00 +08:00", tick=False):
        services.reply(actor=users["support"], ticket_id=ticket.pk, body="We will send a new one")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.first_response_at.isoformat() == "2026-03-02T02:00:00+00:00"
    replied = Event.objects.filter(type="ticket.replied", subject_id=ticket.pk).order_by("id")
    assert [(e.payload["public"], e.payload["first_response"]) for e in replied] == [(False, False), (True, True)]
    services.reply(actor=users["support"], ticket_id=ticket.pk, body="Shipped")
    ticket.refresh_from_db()
    assert ticket.first_response_at.isoformat() == "2026-03-02T02:00:00+00:00"


def test_customer_reply_moves_pending_to_open_and_reopens_resolved(users, make_customer, new_ticket):
    ticket = new_ticket(make_customer(users["rep"]))
    services.change_status(actor=users["admin"], ticket_id=ticket.pk, status="pending")
    services.customer_reply(ticket_id=ticket.pk, body="Here is the photo")
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.reopen_count == 0
    services.change_status(actor=users["admin"], ticket_id=ticket.pk, status="resolved")
    services.customer_reply(ticket_id=ticket.pk, body="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.reopen_count == 1 and ticket.resolved_at is None
    assert Event.objects.filter(type="ticket.reopened", subject_id=ticket.pk).count() == 1
    assert history(ticket)[-1] == ("resolved", "open")
    services.change_status(actor=users["admin"], ticket_id=ticket.pk, status="closed")
    with pytest.raises(TicketClosed):
        services.customer_reply(ticket_id=ticket.pk, body="Hello?")


def test_round_robin_goes_through_the_agents_in_order(users, make_customer, make_user, teams, queue_a):
    second = make_user("support2", "support", teams[0])
    third = make_user("support3", "support", teams[0])
    make_user("support_b", "support", teams[1])
    Queue.objects.filter(pk=queue_a.pk).update(assignment="round_robin")
    customer = make_customer(users["rep"])
    assignees = [
        services.create_ticket(
            actor=users["rep"], data={"customer_id": customer.pk, "subject": f"s{i}", "queue_id": queue_a.pk}
        ).assignee_id
        for i in range(4)
    ]
    assert assignees == [users["support"].pk, second.pk, third.pk, users["support"].pk]


def test_least_loaded_picks_the_agent_with_fewest_open_tickets(users, make_customer, make_user, teams, queue_a):
    busy = users["support"]
    idle = make_user("support2", "support", teams[0])
    customer = make_customer(users["rep"])
    for i in range(2):
        t = services.create_ticket(
            actor=users["admin"],
            data={"customer_id": customer.pk, "subject": f"{i}", "queue_id": queue_a.pk, "assignee_id": busy.pk},
        )
    # A resolved ticket does not count as load.
    done = services.create_ticket(
        actor=users["admin"],
        data={"customer_id": customer.pk, "subject": "done", "queue_id": queue_a.pk, "assignee_id": idle.pk},
    )
    services.change_status(actor=users["admin"], ticket_id=done.pk, status="resolved")
    Queue.objects.filter(pk=queue_a.pk).update(assignment="least_loaded")
    picked = services.create_ticket(
        actor=users["rep"], data={"customer_id": customer.pk, "subject": "new", "queue_id": queue_a.pk}
    )
    assert picked.assignee_id == idle.pk
    assert t.assignee_id == busy.pk


def test_manual_queue_leaves_new_tickets_unassigned(users, make_customer, new_ticket):
    assert new_ticket(make_customer(users["rep"])).assignee_id is None


def test_merge_moves_messages_and_closes_the_source(users, make_customer, new_ticket):
    customer = make_customer(users["rep"])
    target, source = new_ticket(customer, subject="Kettle"), new_ticket(customer, subject="Kettle again")
    services.customer_reply(ticket_id=source.pk, body="Any news?")
    services.merge(actor=users["support"], source_id=source.pk, target_id=target.pk)
    source.refresh_from_db()
    assert source.status == "closed" and source.merged_into_id == target.pk
    assert not TicketMessage.objects.filter(ticket=source).exists()
    assert TicketMessage.objects.filter(ticket=target, body="Any news?").exists()
    assert Event.objects.filter(type="ticket.merged", subject_id=source.pk).exists()
    assert history(source)[-1] == ("new", "closed")


def test_a_tier_a_complaint_starts_high(users, make_customer, new_ticket):
    tier_a, tier_c = make_customer(users["rep"], display_name="A"), make_customer(users["rep"], display_name="C")
    _score(tier_a, "A")
    _score(tier_c, "C")
    assert new_ticket(tier_a, category="complaint").priority == "high"
    assert new_ticket(tier_a, category="complaint", priority="urgent").priority == "urgent"
    assert new_ticket(tier_a, category="question").priority == "normal"
    assert new_ticket(tier_c, category="complaint").priority == "normal"


def _score(customer, tier):
    from decimal import Decimal

    from django.utils import timezone

    from guanxi.segments.models import CustomerScore, ScoreRun

    now = timezone.now()
    run = ScoreRun.objects.create(started_at=now, as_of=now.date(), status="succeeded")
    CustomerScore.objects.create(
        customer=customer,
        run=run,
        scored_at=now,
        as_of=now.date(),
        segment="loyal",
        abc_tier=tier,
        value_tier="high",
        p_alive=0.9,
        expected_purchases_90d=1.0,
        expected_spend=100.0,
        clv=Decimal("100"),
    )


def test_stale_version_is_refused(users, make_customer, new_ticket):
    ticket = new_ticket(make_customer(users["rep"]))
    services.change_priority(actor=users["admin"], ticket_id=ticket.pk, priority="high")
    with pytest.raises(StaleVersion):
        services.update_ticket(actor=users["admin"], ticket_id=ticket.pk, version=ticket.version, data={"subject": "x"})


def test_auto_close_closes_only_old_resolutions(users, make_customer, new_ticket):
    customer = make_customer(users["rep"])
    old, recent = new_ticket(customer), new_ticket(customer)
    with time_machine.travel("2026-03-01 10:00 +08:00", tick=False):
        services.change_status(actor=users["admin"], ticket_id=old.pk, status="resolved")
    with time_machine.travel("2026-03-07 10:00 +08:00", tick=False):
        services.change_status(actor=users["admin"], ticket_id=recent.pk, status="resolved")
    with time_machine.travel("2026-03-09 10:00 +08:00", tick=False):
        assert services.close_resolved(days=7) == 1
        assert services.close_resolved(days=7) == 0
    assert Ticket.objects.get(pk=old.pk).status == "closed"
    assert Ticket.objects.get(pk=recent.pk).status == "resolved"


def test_public_reply_mails_the_requester_after_commit(
    users, make_customer, new_ticket, django_capture_on_commit_callbacks
):
    ticket = new_ticket(make_customer(users["rep"]), requester_email="ann@example.com", notify_requester=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(actor=users["support"], ticket_id=ticket.pk, body="Fixed")
        services.reply(actor=users["support"], ticket_id=ticket.pk, body="secret", internal=True)
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert mail.outbox[0].body == "Fixed"

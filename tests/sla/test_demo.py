"""The demo loader computes, in bulk, the same clocks the live event handlers keep."""

from datetime import date

import time_machine

from guanxi.demo import sla as demo_sla
from guanxi.sla.models import TicketClock
from guanxi.tickets import services as tickets
from guanxi.tickets.models import Ticket

from .conftest import sh

FIELDS = (
    "policy_id",
    "started_at",
    "first_response_due_at",
    "resolution_due_at",
    "first_response_at",
    "paused_at",
    "paused_seconds",
    "first_response_breached_at",
    "resolution_breached_at",
    "stopped_at",
)


def snapshot():
    clocks = {c.ticket_id: tuple(getattr(c, f) for f in FIELDS) for c in TicketClock.objects.all()}
    columns = {
        t["pk"]: t for t in Ticket.objects.values("pk", "first_response_due_at", "resolution_due_at", "sla_breached")
    }
    return clocks, columns


def test_demo_clocks_match_the_live_clocks(new_ticket, users):
    admin = users["admin"]
    step = lambda moment, **kw: time_machine.travel(moment, tick=False)  # noqa: E731
    with step(sh(2026, 3, 6, 10, 0)):  # Friday
        waiting = new_ticket(priority="normal")
        late = new_ticket(priority="urgent")
        reopened = new_ticket(priority="high")
    with step(sh(2026, 3, 6, 10, 30)):
        for ticket in (waiting, late, reopened):
            tickets.reply(actor=admin, ticket_id=ticket.pk, body="Looking into it")
    with step(sh(2026, 3, 6, 15, 0)):
        tickets.change_status(actor=admin, ticket_id=waiting.pk, status="pending")
        tickets.change_status(actor=admin, ticket_id=reopened.pk, status="resolved")
    with step(sh(2026, 3, 9, 11, 0)):  # Monday
        tickets.change_status(actor=admin, ticket_id=waiting.pk, status="open")
        tickets.change_status(actor=admin, ticket_id=late.pk, status="resolved")  # due Friday 15:00
    with step(sh(2026, 3, 9, 14, 0)):
        tickets.change_status(actor=admin, ticket_id=waiting.pk, status="pending")
        tickets.change_status(actor=admin, ticket_id=reopened.pk, status="open")  # due again 18:00
        fresh = new_ticket(priority="low")
    live = snapshot()
    assert live[1][late.pk]["sla_breached"] is True
    assert live[1][fresh.pk]["sla_breached"] is False

    TicketClock.objects.all().delete()
    Ticket.objects.update(first_response_due_at=None, resolution_due_at=None, sla_breached=False)
    demo_sla.load(today=date(2026, 3, 9))  # "now" is 17:00 on the Monday: nothing open is overdue yet

    assert snapshot() == live


def test_demo_marks_past_breaches_of_open_tickets(new_ticket):
    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        ticket = new_ticket(priority="urgent")  # first response 10:00, resolution 14:00, never answered
    demo_sla.load(today=date(2026, 3, 2))
    clock = TicketClock.objects.get(ticket=ticket)
    assert clock.first_response_breached_at == sh(2026, 3, 2, 10, 0)
    assert clock.resolution_breached_at == sh(2026, 3, 2, 14, 0)
    assert clock.escalated_at == sh(2026, 3, 2, 10, 0)
    assert Ticket.objects.get(pk=ticket.pk).sla_breached is True


def test_a_rerun_drops_the_clock_of_a_priority_that_lost_its_policy(new_ticket):
    from guanxi.sla.models import SLAPolicy

    with time_machine.travel(sh(2026, 3, 2, 9, 0), tick=False):
        low = new_ticket(priority="low")
        normal = new_ticket(priority="normal")
    demo_sla.load(today=date(2026, 3, 10))  # both overdue by then
    assert Ticket.objects.get(pk=low.pk).sla_breached is True

    SLAPolicy.objects.filter(priority="low").update(active=False)
    demo_sla.load(today=date(2026, 3, 10))

    assert not TicketClock.objects.filter(ticket=low).exists()
    low_row = Ticket.objects.values("first_response_due_at", "resolution_due_at", "sla_breached").get(pk=low.pk)
    assert low_row == {"first_response_due_at": None, "resolution_due_at": None, "sla_breached": False}
    normal_row = Ticket.objects.get(pk=normal.pk)
    assert normal_row.sla_breached is True
    assert normal_row.first_response_due_at == sh(2026, 3, 2, 14, 0)  # 9-12 and 13-14: lunch skipped

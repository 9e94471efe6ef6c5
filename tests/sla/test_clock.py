"""SLA clocks driven by the ticket services, on the seeded China calendar, with a controlled clock."""

from datetime import timedelta

import pytest
import time_machine

from guanxi.core.models import Event
from guanxi.notifications.models import Notification
from guanxi.sla import services
from guanxi.sla.models import SLAPolicy, TicketClock
from guanxi.tickets import services as tickets
from guanxi.tickets.models import Ticket

from .conftest import sh

pytestmark = pytest.mark.django_db


def travel(moment):
    return time_machine.travel(moment, tick=False)


def fresh(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_friday_evening_ticket_before_qingming_is_due_after_the_long_weekend(new_ticket):
    # Friday 3 April 2026 18:30; Saturday 4 to Monday 6 April are the Qingming holiday (State Council notice).
    with travel(sh(2026, 4, 3, 18, 30)):
        ticket = new_ticket(priority="normal")  # 4 h / 24 h of business time
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == sh(2026, 4, 7, 14, 0)  # 09-12 and 13-14 on Tuesday
    assert ticket.resolution_due_at == sh(2026, 4, 9, 18, 0)  # three working days: Tuesday to Thursday
    assert ticket.sla_breached is False
    # Nothing breaches over the holiday, even though 3.5 calendar days passed.
    assert services.check_breaches(sh(2026, 4, 7, 9, 0)) == 0


def test_makeup_saturday_counts_as_working_time(new_ticket):
    # Friday 8 May 2026 17:00, urgent (1 h / 4 h); Saturday 9 May is a make-up working day (调休).
    with travel(sh(2026, 5, 8, 17, 0)):
        ticket = fresh(new_ticket(priority="urgent"))
    assert ticket.first_response_due_at == sh(2026, 5, 8, 18, 0)
    assert ticket.resolution_due_at == sh(2026, 5, 9, 12, 0)


def test_pending_pauses_the_resolution_clock_over_a_weekend(new_ticket, users):
    admin = users["admin"]
    with travel(sh(2026, 3, 6, 10, 0)):  # a Friday
        ticket = new_ticket(priority="normal")
    assert fresh(ticket).resolution_due_at == sh(2026, 3, 11, 10, 0)
    with travel(sh(2026, 3, 6, 16, 0)):
        tickets.reply(actor=admin, ticket_id=ticket.pk, body="Which model is it?")
        tickets.change_status(actor=admin, ticket_id=ticket.pk, status="pending")
    assert fresh(ticket).resolution_due_at is None  # nothing is due while waiting on the customer
    clock = TicketClock.objects.get(ticket=ticket)
    assert clock.paused_at == sh(2026, 3, 6, 16, 0)
    # Paused all weekend: no breach however long the wait.
    assert services.check_breaches(sh(2026, 3, 20, 9, 0)) == 0
    with travel(sh(2026, 3, 9, 11, 0)):  # Monday
        tickets.change_status(actor=admin, ticket_id=ticket.pk, status="open")
    clock.refresh_from_db()
    assert clock.paused_at is None
    assert clock.paused_seconds == 4 * 3600  # Friday 16-18 and Monday 9-11; the weekend is not business time
    assert fresh(ticket).resolution_due_at == sh(2026, 3, 11, 15, 0)


def test_breach_check_emits_once_per_target_and_escalates(new_ticket, users):
    with travel(sh(2026, 3, 2, 9, 0)):  # Monday
        ticket = new_ticket(priority="normal")
    assert fresh(ticket).first_response_due_at == sh(2026, 3, 2, 14, 0)
    assert services.check_breaches(sh(2026, 3, 2, 13, 59)) == 0

    with travel(sh(2026, 3, 2, 14, 5)):
        assert services.check_breaches() == 1
        assert services.check_breaches() == 0  # a second run (or a second worker) finds nothing new
    breaches = Event.objects.filter(type="ticket.sla_breached", subject_id=ticket.pk)
    assert [e.payload["target"] for e in breaches] == ["first_response"]
    assert breaches[0].payload["customer_id"] == ticket.customer_id
    ticket = fresh(ticket)
    assert ticket.sla_breached is True
    assert ticket.priority == "high"  # raised one level
    notes = Notification.objects.filter(user=users["manager"], kind="sla_breached")
    assert notes.count() == 1 and ticket.number in notes[0].text
    assert not Notification.objects.filter(user=users["rep"], kind="sla_breached").exists()
    # The higher priority's targets count from the start: high resolves in 8 h, Monday 18:00.
    assert ticket.resolution_due_at == sh(2026, 3, 2, 18, 0)
    clock = TicketClock.objects.get(ticket=ticket)
    assert clock.first_response_breached_at == sh(2026, 3, 2, 14, 0)
    assert clock.escalated_at == sh(2026, 3, 2, 14, 5)

    # A reply now does not record the first-response breach a second time.
    with travel(sh(2026, 3, 2, 15, 0)):
        tickets.reply(actor=users["admin"], ticket_id=ticket.pk, body="On it")
    with travel(sh(2026, 3, 2, 18, 1)):
        assert services.check_breaches() == 1
    assert sorted(e.payload["target"] for e in breaches.all()) == ["first_response", "resolution"]
    assert fresh(ticket).priority == "urgent"
    with travel(sh(2026, 3, 3, 18, 1)):
        assert services.check_breaches() == 0  # urgent now, but each target breaches once


def test_a_first_reply_in_time_meets_the_target(new_ticket, users):
    with travel(sh(2026, 3, 2, 9, 0)):
        ticket = new_ticket(priority="normal")
    with travel(sh(2026, 3, 2, 10, 0)):
        tickets.reply(actor=users["admin"], ticket_id=ticket.pk, body="Hello")
    clock = TicketClock.objects.get(ticket=ticket)
    assert clock.first_response_at == sh(2026, 3, 2, 10, 0)
    assert services.check_breaches(sh(2026, 3, 2, 17, 0)) == 0
    assert fresh(ticket).sla_breached is False


def test_a_late_first_reply_records_the_breach_without_escalating(new_ticket, users):
    with travel(sh(2026, 3, 2, 9, 0)):
        ticket = new_ticket(priority="normal")
    with travel(sh(2026, 3, 2, 14, 1)):  # due 14:00, the check has not run yet
        tickets.reply(actor=users["admin"], ticket_id=ticket.pk, body="Sorry for the wait")
    assert Event.objects.filter(type="ticket.sla_breached", payload__target="first_response").count() == 1
    ticket = fresh(ticket)
    assert ticket.sla_breached is True and ticket.priority == "normal"
    assert services.check_breaches(sh(2026, 3, 2, 14, 10)) == 0


def test_resolving_stops_the_clock_and_reopening_resumes_it(new_ticket, users):
    admin = users["admin"]
    with travel(sh(2026, 3, 2, 9, 0)):
        ticket = new_ticket(priority="normal")
        tickets.reply(actor=admin, ticket_id=ticket.pk, body="Fixed, I think")
    assert fresh(ticket).resolution_due_at == sh(2026, 3, 4, 18, 0)
    with travel(sh(2026, 3, 2, 10, 0)):
        tickets.change_status(actor=admin, ticket_id=ticket.pk, status="resolved")
    assert services.check_breaches(sh(2026, 3, 10, 9, 0)) == 0  # stopped: never breaches
    with travel(sh(2026, 3, 3, 10, 0)):  # the customer says it is not fixed
        tickets.change_status(actor=admin, ticket_id=ticket.pk, status="open")
    # Monday 10-18 (7 h) and Tuesday 9-10 (1 h) did not count.
    assert fresh(ticket).resolution_due_at == sh(2026, 3, 5, 18, 0)


def test_resolving_late_records_the_resolution_breach(new_ticket, users):
    with travel(sh(2026, 3, 2, 9, 0)):
        ticket = new_ticket(priority="urgent")  # 1 h / 4 h
        tickets.reply(actor=users["admin"], ticket_id=ticket.pk, body="Looking")
    with travel(sh(2026, 3, 2, 15, 0)):  # due 14:00
        tickets.change_status(actor=users["admin"], ticket_id=ticket.pk, status="resolved")
    assert list(Event.objects.filter(type="ticket.sla_breached").values_list("payload__target", flat=True)) == [
        "resolution"
    ]
    assert fresh(ticket).sla_breached is True


def test_priority_change_keeps_the_elapsed_business_time(new_ticket, users):
    with travel(sh(2026, 3, 2, 9, 0)):
        ticket = new_ticket(priority="low")  # 8 h / 40 h
    assert fresh(ticket).resolution_due_at == sh(2026, 3, 6, 18, 0)
    with travel(sh(2026, 3, 2, 11, 0)):
        tickets.change_priority(actor=users["admin"], ticket_id=ticket.pk, priority="urgent")
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == sh(2026, 3, 2, 10, 0)  # 1 h from 09:00: already past
    assert ticket.resolution_due_at == sh(2026, 3, 2, 14, 0)
    with travel(sh(2026, 3, 2, 11, 1)):
        assert services.check_breaches() == 1  # the first response is now overdue


def test_tier_a_customers_get_their_own_policy(new_ticket, customer, set_tier, make_customer, users):
    set_tier(customer, "A")
    other = make_customer(users["rep"], display_name="Wang Wei")
    set_tier(other, "C")
    with travel(sh(2026, 3, 2, 9, 0)):
        vip = fresh(new_ticket(priority="urgent"))
        plain = fresh(new_ticket(priority="urgent", customer_id=other.pk))
    assert vip.first_response_due_at == sh(2026, 3, 2, 9, 30)  # tier A: 30 min / 2 h
    assert vip.resolution_due_at == sh(2026, 3, 2, 11, 0)
    assert plain.first_response_due_at == sh(2026, 3, 2, 10, 0)  # any tier: 1 h / 4 h
    assert TicketClock.objects.get(ticket=vip).policy.tier == "A"
    assert TicketClock.objects.get(ticket=plain).policy.tier == ""


def test_no_policy_for_the_priority_means_no_clock(new_ticket):
    SLAPolicy.objects.filter(priority="low").update(active=False)
    with travel(sh(2026, 3, 2, 9, 0)):
        ticket = fresh(new_ticket(priority="low"))
    assert ticket.first_response_due_at is None and ticket.resolution_due_at is None
    assert not TicketClock.objects.filter(ticket=ticket).exists()


def test_breaching_soon_counts_business_time_and_the_caller_scope(new_ticket, users):
    from guanxi.sla.selectors import breaching_soon, overdue

    with travel(sh(2026, 3, 6, 9, 15)):  # Friday
        ticket = new_ticket(priority="low")  # first response 8 h: Monday 09:15
    # Friday 17:50 -> Monday 09:15 is 25 business minutes away, though 63 hours on the wall clock.
    now = sh(2026, 3, 6, 17, 50)
    assert list(breaching_soon(users["admin"], timedelta(minutes=30), now=now)) == [fresh(ticket)]
    assert list(breaching_soon(users["admin"], timedelta(minutes=20), now=now)) == []
    assert list(breaching_soon(users["rep_b"], timedelta(minutes=30), now=now)) == []
    assert list(overdue(users["admin"], now=now)) == []
    assert list(overdue(users["admin"], now=sh(2026, 3, 9, 9, 16))) == [fresh(ticket)]

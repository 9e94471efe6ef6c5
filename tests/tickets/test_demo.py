"""The demo loader: consistent status histories and the planted South China returns bottleneck."""

import datetime
import itertools
import statistics
from collections import defaultdict

import pytest


def _quiet(description, total):
    return lambda *args: None


@pytest.mark.django_db
@pytest.mark.parametrize("today", [datetime.date(2026, 6, 1), datetime.date(2026, 6, 6)], ids=["monday", "saturday"])
def test_demo_histories_are_consistent_and_south_china_returns_wait_in_pending(
    today, make_user, make_customer, monkeypatch
):
    from django.utils import timezone

    from guanxi.accounts import services as accounts
    from guanxi.demo import tickets as demo
    from guanxi.tickets.models import Ticket, TicketMessage, TicketStatusChange

    make_user("admin", "admin")
    north, south = accounts.create_team(name="North China"), accounts.create_team(name="South China")
    for team in (north, south):
        rep = make_user(f"rep-{team.pk}", "sales", team)
        for n in range(2):
            make_user(f"support-{team.pk}-{n}", "support", team)
        for n in range(15):
            make_customer(rep, display_name=f"C{team.pk}-{n}")

    count = 1000  # a third of the real volume keeps the test quick
    demo.load(seed=7, today=today, progress=_quiet, count=count)

    tickets = {t.pk: t for t in Ticket.objects.select_related("queue__team", "category")}
    assert len(tickets) == count
    assert len({t.number for t in tickets.values()}) == count
    history = defaultdict(list)
    for change in TicketStatusChange.objects.order_by("at", "id"):
        history[change.ticket_id].append(change)
    now = timezone.make_aware(datetime.datetime.combine(today, datetime.time(17, 0)))
    first_replies = dict(
        TicketMessage.objects.filter(kind="public_reply").values_list("ticket_id", "created_at").order_by()
    )
    for ticket_id, ticket in tickets.items():
        steps = history[ticket_id]
        assert (steps[0].from_status, steps[0].to_status, steps[0].at) == ("", "new", ticket.created_at)
        for before, after in itertools.pairwise(steps):
            assert after.from_status == before.to_status and after.at >= before.at
        assert steps[-1].to_status == ticket.status and steps[-1].at <= now
        opened = [s.at for s in steps if s.from_status == "new"]
        assert ticket.first_response_at == (opened[0] if opened else None) == first_replies.get(ticket_id)
        resolutions = [s.at for s in steps if s.to_status == "resolved"]
        if ticket.status in ("resolved", "closed"):
            assert ticket.resolved_at == resolutions[-1]
        assert ticket.reopen_count == sum(1 for s in steps if s.from_status == "resolved" and s.to_status == "open")

    statuses = [t.status for t in tickets.values()]
    assert {"new", "open", "pending", "resolved", "closed"} <= set(statuses)
    assert sum(t.reopen_count for t in tickets.values()) > 10

    waits = defaultdict(list)  # hours in pending, by (South China return?)
    for ticket_id, steps in history.items():
        ticket = tickets[ticket_id]
        slow = ticket.queue.team == south and ticket.category.key == "return"
        for before, after in itertools.pairwise(steps):
            if before.to_status == "pending":
                waits[slow].append((after.at - before.at).total_seconds() / 3600)
    assert statistics.median(waits[True]) > 48  # about 3 business days, nights and weekends included
    assert statistics.median(waits[False]) < 24

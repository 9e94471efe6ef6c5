"""Demo SLA clocks: for every demo ticket, the clock the live event handlers would have kept, computed in bulk
from the ticket and its status history (TicketStatusChange rows) on the default China calendar.

- The policy is picked as for a live ticket (priority, then the customer's ABC tier before "any tier").
- Pending periods and the time between resolving and reopening are paused business time; a ticket pending now is
  paused, a resolved or closed one stopped at its last resolve/close.
- A target is breached when the first response (or, for resolution, the stop, the pause or "now") came after
  its due time; breached_at is the due time, as the live check records it, and open tickets with a breach count as
  escalated then (the demo does not raise their priority: it writes no events).
- Ticket.first_response_due_at / resolution_due_at / sla_breached are then copied from the new clocks in one
  UPDATE with correlated subqueries (``bulk_update`` builds a CASE per row and took three quarters of the time).

"now" is 17:00 local time on ``today``, as in the tickets demo. 3,000 tickets with 13,000 status changes take
about 1.5 s on SQLite (the business-time arithmetic is most of it).
"""

from collections.abc import Callable
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from guanxi.sla.hours import add_business_time, business_seconds_between
from guanxi.sla.models import SLAPolicy, TicketClock
from guanxi.sla.services import default_calendar, pick_policy
from guanxi.tickets.models import Ticket, TicketStatusChange

STOPPED = ("resolved", "closed")


@transaction.atomic
def load(*, today: date, seed: int = 0, progress: Callable | None = None) -> None:
    from guanxi.segments.models import CustomerScore

    tickets = list(
        Ticket.objects.only("pk", "customer_id", "priority", "status", "created_at", "first_response_at").order_by("pk")
    )
    if not tickets:
        return
    now = timezone.make_aware(datetime.combine(today, time(17, 0)))
    calendar = default_calendar()
    spec = calendar.spec()
    policies = list(SLAPolicy.objects.filter(active=True))
    tiers = dict(CustomerScore.objects.values_list("customer_id", "abc_tier"))
    history: dict[int, list[tuple[str, str, datetime]]] = {}
    rows = TicketStatusChange.objects.order_by("ticket_id", "at", "pk")
    for ticket_id, from_status, to_status, at in rows.values_list("ticket_id", "from_status", "to_status", "at"):
        history.setdefault(ticket_id, []).append((from_status, to_status, at))
    advance = progress("sla clocks", len(tickets)) if progress else (lambda: None)

    clocks = []
    for ticket in tickets:
        advance()
        policy = pick_policy(ticket.priority, tiers.get(ticket.customer_id, ""), policies)
        if policy is None:
            continue
        paused_seconds, paused_at, stopped_at = _pauses(history.get(ticket.pk, ()), spec)
        first_due = add_business_time(ticket.created_at, policy.first_response_minutes * 60, spec)
        resolution_due = add_business_time(ticket.created_at, policy.resolution_minutes * 60 + paused_seconds, spec)
        answered = ticket.first_response_at or stopped_at or now
        first_breached = first_due if answered > first_due else None
        end = stopped_at or paused_at or now
        resolution_breached = resolution_due if end > resolution_due else None
        escalations = [
            at
            for at in (first_breached, resolution_breached)
            if at is not None and (stopped_at is None or at < stopped_at)
        ]
        clocks.append(
            TicketClock(
                ticket_id=ticket.pk,
                policy=policy,
                calendar=calendar,
                started_at=ticket.created_at,
                first_response_minutes=policy.first_response_minutes,
                resolution_minutes=policy.resolution_minutes,
                first_response_due_at=first_due,
                resolution_due_at=resolution_due,
                first_response_at=ticket.first_response_at,
                paused_at=paused_at,
                paused_seconds=paused_seconds,
                first_response_breached_at=first_breached,
                resolution_breached_at=resolution_breached,
                escalated_at=min(escalations) if escalations else None,
                stopped_at=stopped_at,
            )
        )
    TicketClock.objects.all().delete()
    TicketClock.objects.bulk_create(clocks, batch_size=1000)
    _copy_to_tickets()


def _copy_to_tickets() -> None:
    """The ticket's SLA columns from its clock, as services._write_ticket writes them (nothing due while paused or
    stopped); a ticket without a clock (no policy for its priority) has nothing due, as a live one would."""
    clock = TicketClock.objects.filter(ticket_id=OuterRef("pk"))
    running = clock.filter(paused_at__isnull=True, stopped_at__isnull=True)
    breached = clock.filter(Q(first_response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False))
    Ticket.objects.filter(Exists(clock)).update(
        first_response_due_at=Subquery(clock.values("first_response_due_at")[:1]),
        resolution_due_at=Subquery(running.values("resolution_due_at")[:1]),
        sla_breached=Exists(breached),
    )
    Ticket.objects.filter(~Exists(clock)).update(first_response_due_at=None, resolution_due_at=None, sla_breached=False)


def _pauses(steps, spec) -> tuple[int, datetime | None, datetime | None]:
    """(paused business seconds so far, paused since, stopped since) from a ticket's status history."""
    paused_seconds = 0
    paused_at = stopped_at = None
    for _from, to_status, at in steps:
        if paused_at is not None and to_status != "pending":
            paused_seconds += max(0, business_seconds_between(paused_at, at, spec))
            paused_at = None
        if stopped_at is not None and to_status not in STOPPED:
            paused_seconds += max(0, business_seconds_between(stopped_at, at, spec))
            stopped_at = None
        if to_status == "pending" and stopped_at is None:
            paused_at = paused_at or at
        elif to_status in STOPPED and stopped_at is None:
            stopped_at = at
    return paused_seconds, paused_at, stopped_at

"""Reads of the sla app. Tickets always come through ``tickets.selectors.visible_tickets``: a ticket outside the
caller's scope is not found, and its clock with it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.sla.errors import SlaNotFound
from guanxi.sla.hours import add_business_time
from guanxi.sla.models import BusinessCalendar, SLAPolicy, TicketClock
from guanxi.sla.services import FIRST_RESPONSE, RESOLUTION, remaining_seconds
from guanxi.tickets.models import Ticket
from guanxi.tickets.selectors import visible_tickets

RUNNING_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)  # pending is paused; resolved/closed stopped
LIST_LIMIT = 200


@dataclass(frozen=True)
class TargetStatus:
    target: str
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    remaining_seconds: int | None  # business seconds; negative when overdue; None when not running

    @property
    def remaining_label(self) -> str:
        return humanize_seconds(self.remaining_seconds)


@dataclass(frozen=True)
class ClockStatus:
    clock: TicketClock
    policy_name: str
    first_response: TargetStatus
    resolution: TargetStatus
    paused: bool
    stopped: bool

    @property
    def breached(self) -> bool:
        return self.clock.breached


def humanize_seconds(seconds: int | None) -> str:
    """ "breaches in 25 min" / "breached 2 h 5 min ago" in business time."""
    if seconds is None:
        return ""
    minutes = abs(seconds) // 60
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        span = _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    elif hours:
        span = _("%(hours)s h") % {"hours": hours}
    else:
        span = _("%(minutes)s min") % {"minutes": minutes}
    if seconds >= 0:
        return _("breaches in %(span)s") % {"span": span}
    return _("overdue by %(span)s") % {"span": span}


def clock_status(ticket_id: int, *, now: datetime | None = None) -> ClockStatus | None:
    """The clock of a ticket the caller already may see (the detail page's panel); None without a clock."""
    clock = TicketClock.objects.select_related("policy", "calendar").filter(ticket_id=ticket_id).first()
    if clock is None:
        return None
    now = now or timezone.now()
    spec = clock.calendar.spec()
    return ClockStatus(
        clock=clock,
        policy_name=clock.policy.display_name if clock.policy else "",
        first_response=TargetStatus(
            FIRST_RESPONSE,
            clock.first_response_due_at,
            clock.first_response_at,
            clock.first_response_breached_at,
            remaining_seconds(clock, FIRST_RESPONSE, now, spec),
        ),
        resolution=TargetStatus(
            RESOLUTION,
            clock.resolution_due_at if clock.running else None,
            clock.stopped_at,
            clock.resolution_breached_at,
            remaining_seconds(clock, RESOLUTION, now, spec),
        ),
        paused=clock.paused_at is not None,
        stopped=clock.stopped_at is not None,
    )


def ticket_clock(user, ticket_id: int, *, now: datetime | None = None) -> ClockStatus:
    if not visible_tickets(user).filter(pk=ticket_id).exists():
        raise SlaNotFound(_("No ticket with id %(id)s.") % {"id": ticket_id})
    status = clock_status(ticket_id, now=now)
    if status is None:
        raise SlaNotFound(_("Ticket %(id)s has no SLA clock.") % {"id": ticket_id})
    return status


def _due_within(now: datetime, within: timedelta) -> Q:
    """Targets due after ``now`` and within ``within`` of business time on their clock's calendar."""
    q = Q(pk__in=[])
    for calendar in BusinessCalendar.objects.filter(clocks__isnull=False).distinct():
        limit = add_business_time(now, within.total_seconds(), calendar.spec())
        q |= Q(sla_clock__calendar=calendar) & (
            Q(first_response_at__isnull=True, first_response_due_at__gt=now, first_response_due_at__lte=limit)
            | Q(resolution_due_at__gt=now, resolution_due_at__lte=limit)
        )
    return q


def breaching_soon(user, within: timedelta, *, now: datetime | None = None) -> QuerySet:
    """Open tickets ``user`` may see with a target that falls due within ``within`` of business time (not yet
    due), soonest first. A pending ticket is paused and never breaches."""
    now = now or timezone.now()
    return (
        visible_tickets(user)
        .filter(status__in=RUNNING_STATUSES)
        .filter(_due_within(now, within))
        .select_related("customer", "queue", "assignee", "sla_clock")
        .order_by("resolution_due_at", "id")
    )


def overdue(user, *, now: datetime | None = None) -> QuerySet:
    """Open tickets ``user`` may see that breached a target (recorded) or are past one (the next check records
    it), most overdue first."""
    now = now or timezone.now()
    past = Q(first_response_at__isnull=True, first_response_due_at__lte=now) | Q(resolution_due_at__lte=now)
    return (
        visible_tickets(user)
        .filter(status__in=(*RUNNING_STATUSES, Ticket.Status.PENDING))
        .filter(Q(sla_breached=True) | past)
        .select_related("customer", "queue", "assignee", "sla_clock")
        .order_by("resolution_due_at", "id")
    )


def policies() -> QuerySet:
    return SLAPolicy.objects.select_related("calendar").order_by("order", "id")


def calendars() -> QuerySet:
    return BusinessCalendar.objects.prefetch_related("holidays").order_by("-is_default", "name")


def get_calendar(calendar_id: int) -> BusinessCalendar:
    calendar = calendars().filter(pk=calendar_id).first()
    if calendar is None:
        raise SlaNotFound(_("No calendar with id %(id)s.") % {"id": calendar_id})
    return calendar

"""SLA clocks: starting, pausing, resuming, stopping and re-targeting a ticket's clock from the ticket events, the
breach check with escalation, and the admin edits of policies and calendars.

Every clock write also writes the ticket's SLA columns (``first_response_due_at``, ``resolution_due_at``,
``sla_breached``) with a queryset ``.update`` (the tickets app owns the model, the sla app these columns). While a
ticket is paused (pending) or stopped (resolved, closed) its ``resolution_due_at`` is empty: nothing is due.

The clock keeps ``started_at`` and the business seconds spent paused or resolved; a target is
``started_at + target + paused_seconds`` in business time, so a resume shifts it by the paused business time and a
priority change keeps the business time already elapsed.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from guanxi.core import access, events
from guanxi.core.models import Event
from guanxi.sla.errors import CalendarInvalid, PolicyInvalid, SlaDenied, SlaNotFound
from guanxi.sla.hours import CalendarSpec, add_business_time, business_seconds_between, parse_hours
from guanxi.sla.models import BusinessCalendar, Holiday, SLAPolicy, TicketClock
from guanxi.tickets.models import OPEN_STATUSES, PRIORITY_ORDER, Ticket

Status = Ticket.Status
FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)
EDITOR_ROLES = (access.ADMIN, access.MANAGER)


# --------------------------------------------------------------------------------------------- lookups


def default_calendar() -> BusinessCalendar:
    calendar = BusinessCalendar.objects.order_by("-is_default", "id").first()
    if calendar is None:  # an install whose seed migration was reversed: working hours without holidays
        calendar = BusinessCalendar.objects.create(name="Default", is_default=True)
    return calendar


def calendar_of(policy: SLAPolicy | None) -> BusinessCalendar:
    if policy is not None and policy.calendar_id:
        return policy.calendar
    return default_calendar()


def customer_tier(customer_id: int) -> str:
    """The customer's ABC tier from the latest scoring run ("" when never scored)."""
    from guanxi.segments.models import CustomerScore

    return CustomerScore.objects.filter(customer_id=customer_id).values_list("abc_tier", flat=True).first() or ""


def pick_policy(priority: str, tier: str, policies: list[SLAPolicy] | None = None) -> SLAPolicy | None:
    """The active policy for ``priority``, the one for the customer's ``tier`` before the one for any tier."""
    if policies is None:
        policies = list(SLAPolicy.objects.filter(active=True, priority=priority).select_related("calendar"))
    candidates = [p for p in policies if p.active and p.priority == priority and p.tier in ("", tier)]
    candidates.sort(key=lambda p: (p.tier == "", p.order, p.pk))
    return candidates[0] if candidates else None


# ------------------------------------------------------------------------------------------ arithmetic


@dataclass(frozen=True)
class Targets:
    first_response_due_at: datetime
    resolution_due_at: datetime


def compute_targets(
    started_at: datetime, first_minutes: int, resolution_minutes: int, paused_seconds: int, spec: CalendarSpec
) -> Targets:
    return Targets(
        add_business_time(started_at, first_minutes * 60, spec),
        add_business_time(started_at, resolution_minutes * 60 + paused_seconds, spec),
    )


def elapsed_seconds(clock: TicketClock, now: datetime, spec: CalendarSpec) -> int:
    """Business seconds the resolution clock has run (pauses and resolved time excluded)."""
    end = min(t for t in (now, clock.paused_at, clock.stopped_at) if t is not None)
    return max(0, business_seconds_between(clock.started_at, end, spec) - clock.paused_seconds)


def remaining_seconds(clock: TicketClock, target: str, now: datetime, spec: CalendarSpec) -> int | None:
    """Business seconds left before ``target`` is due (negative: overdue); None when it no longer runs."""
    if target == FIRST_RESPONSE:
        if clock.first_response_at is not None or clock.first_response_due_at is None or clock.stopped_at:
            return None
        return business_seconds_between(now, clock.first_response_due_at, spec)
    if clock.stopped_at is not None:
        return None
    return clock.resolution_minutes * 60 - elapsed_seconds(clock, now, spec)


# ---------------------------------------------------------------------------------------------- writes


def _write_ticket(clock: TicketClock, *, breached: bool | None = None) -> None:
    fields = {
        "first_response_due_at": clock.first_response_due_at,
        "resolution_due_at": clock.resolution_due_at if clock.running else None,
    }
    if breached:
        fields["sla_breached"] = True
    Ticket.objects.filter(pk=clock.ticket_id).update(**fields)


def start_clock(ticket: Ticket, *, tier: str | None = None) -> TicketClock | None:
    """Pick the policy for the ticket's priority and customer tier and set the targets from ``created_at``.
    No policy for the priority: no clock (and no due times)."""
    tier = customer_tier(ticket.customer_id) if tier is None else tier
    policy = pick_policy(ticket.priority, tier)
    if policy is None:
        return None
    calendar = calendar_of(policy)
    targets = compute_targets(
        ticket.created_at, policy.first_response_minutes, policy.resolution_minutes, 0, calendar.spec()
    )
    clock, _created = TicketClock.objects.update_or_create(
        ticket=ticket,
        defaults={
            "policy": policy,
            "calendar": calendar,
            "started_at": ticket.created_at,
            "first_response_minutes": policy.first_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "first_response_due_at": targets.first_response_due_at,
            "resolution_due_at": targets.resolution_due_at,
        },
    )
    _write_ticket(clock)
    return clock


def _locked_clock(ticket_id: int) -> TicketClock | None:
    return (
        TicketClock.objects.select_for_update(of=("self",))
        .select_related("calendar")
        .filter(ticket_id=ticket_id)
        .first()
    )


def _ticket_id(event: Event) -> int:
    return int(event.payload.get("ticket_id") or event.subject_id)


def on_ticket_created(event: Event) -> None:
    ticket = Ticket.objects.filter(pk=_ticket_id(event)).first()
    if ticket is not None:
        start_clock(ticket)


def on_status_changed(event: Event) -> None:
    clock = _locked_clock(_ticket_id(event))
    if clock is None:
        return
    now = event.occurred_at
    to_status = event.payload.get("to_status")
    spec = clock.calendar.spec()
    breached = None
    if clock.stopped_at is not None and to_status in OPEN_STATUSES:  # reopened: the resolved time did not count
        clock.paused_seconds += max(0, business_seconds_between(clock.stopped_at, now, spec))
        clock.stopped_at = None
        _retarget(clock, spec)
    if clock.paused_at is not None and to_status != Status.PENDING:  # resumed (or resolved while pending)
        clock.paused_seconds += max(0, business_seconds_between(clock.paused_at, now, spec))
        clock.paused_at = None
        _retarget(clock, spec)
    if to_status == Status.PENDING and clock.paused_at is None and clock.stopped_at is None:
        clock.paused_at = now
    if to_status in (Status.RESOLVED, Status.CLOSED) and clock.stopped_at is None:
        clock.stopped_at = now
        # Missed targets the five-minute check had not caught yet are recorded now, without escalating a
        # ticket that is already done.
        ticket = Ticket.objects.select_related("category", "queue").get(pk=clock.ticket_id)
        if clock.first_response_at is None and ticket.first_response_at is None:
            breached = _late(clock, FIRST_RESPONSE, now, ticket) or breached
        breached = _late(clock, RESOLUTION, now, ticket) or breached
    clock.save()
    _write_ticket(clock, breached=breached)


def on_replied(event: Event) -> None:
    if not event.payload.get("first_response"):
        return
    clock = _locked_clock(_ticket_id(event))
    if clock is None or clock.first_response_at is not None:
        return
    ticket = Ticket.objects.select_related("category", "queue").get(pk=clock.ticket_id)
    clock.first_response_at = ticket.first_response_at or event.occurred_at
    breached = _late(clock, FIRST_RESPONSE, clock.first_response_at, ticket)
    clock.save()
    _write_ticket(clock, breached=breached)


def on_priority_changed(event: Event) -> None:
    """New targets for the new priority (same tier rules), counted from the start: elapsed time is kept."""
    ticket = Ticket.objects.filter(pk=_ticket_id(event)).first()
    if ticket is None:
        return
    clock = _locked_clock(ticket.pk)
    if clock is None:
        start_clock(ticket)
        return
    policy = pick_policy(ticket.priority, customer_tier(ticket.customer_id))
    if policy is None:
        return
    clock.policy = policy
    clock.first_response_minutes = policy.first_response_minutes
    clock.resolution_minutes = policy.resolution_minutes
    _retarget(clock, clock.calendar.spec())
    clock.save()
    _write_ticket(clock)


def _retarget(clock: TicketClock, spec: CalendarSpec) -> None:
    targets = compute_targets(
        clock.started_at, clock.first_response_minutes, clock.resolution_minutes, clock.paused_seconds, spec
    )
    clock.first_response_due_at = targets.first_response_due_at
    clock.resolution_due_at = targets.resolution_due_at


def _late(clock: TicketClock, target: str, at: datetime, ticket: Ticket) -> bool:
    """Record a breach of ``target`` if it was due before ``at`` and not yet recorded; emits the event once."""
    due = clock.first_response_due_at if target == FIRST_RESPONSE else clock.resolution_due_at
    if due is None or at <= due or getattr(clock, f"{target}_breached_at") is not None:
        return False
    setattr(clock, f"{target}_breached_at", due)
    _emit_breach(ticket, target, due)
    return True


def _emit_breach(ticket: Ticket, target: str, due: datetime) -> None:
    from guanxi.tickets.services import payload_of

    events.record(
        "ticket.sla_breached",
        subject=ticket,
        actor=None,
        payload=payload_of(ticket, target=target, due_at=due),
        audit_action="update",
        changes={f"sla_{target}_breached": [False, True]},
    )


# ------------------------------------------------------------------------------------------ breach check


def due_breaches(now: datetime) -> list[tuple[int, str]]:
    """(ticket id, target) of running clocks whose target passed without a recorded breach."""
    running = TicketClock.objects.filter(stopped_at__isnull=True)
    first = running.filter(
        first_response_at__isnull=True, first_response_breached_at__isnull=True, first_response_due_at__lte=now
    ).values_list("ticket_id", flat=True)
    resolution = running.filter(
        paused_at__isnull=True, resolution_breached_at__isnull=True, resolution_due_at__lte=now
    ).values_list("ticket_id", flat=True)
    found = [(pk, FIRST_RESPONSE) for pk in first] + [(pk, RESOLUTION) for pk in resolution]
    return sorted(found)


def check_breaches(now: datetime | None = None) -> int:
    """Record every breach that is due, one transaction per ticket and target; returns how many."""
    now = now or timezone.now()
    done = 0
    for ticket_id, target in due_breaches(now):
        done += escalate_breach(ticket_id=ticket_id, target=target, now=now)
    return done


@transaction.atomic
def escalate_breach(*, ticket_id: int, target: str, now: datetime | None = None) -> bool:
    """Mark ``target`` breached, emit ``ticket.sla_breached``, raise the priority one level (not above urgent) and
    notify the managers of the ticket's team. Does nothing (returns False) when it is no longer due or was already
    recorded, so two checks running at once escalate once."""
    from guanxi.tickets.services import change_priority

    now = now or timezone.now()
    clock = _locked_clock(ticket_id)
    if clock is None or clock.stopped_at is not None:
        return False
    if target == FIRST_RESPONSE and clock.first_response_at is not None:
        return False
    if target == RESOLUTION and clock.paused_at is not None:
        return False
    ticket = Ticket.objects.select_related("category", "queue__team").get(pk=ticket_id)
    if not _late(clock, target, now, ticket):
        return False
    clock.escalated_at = now
    clock.save()
    _write_ticket(clock, breached=True)
    rank = PRIORITY_ORDER.index(ticket.priority) if ticket.priority in PRIORITY_ORDER else 0
    if rank + 1 < len(PRIORITY_ORDER):
        change_priority(actor=None, ticket_id=ticket_id, priority=PRIORITY_ORDER[rank + 1], reason="sla_breached")
    _notify_managers(ticket, target)
    return True


def _notify_managers(ticket: Ticket, target: str) -> None:
    from guanxi.notifications.services import notify

    team = ticket.queue.team if ticket.queue_id else None
    if team is None:
        return
    if target == FIRST_RESPONSE:
        message = gettext_noop("Ticket %(number)s missed its first-response target: %(subject)s")
    else:
        message = gettext_noop("Ticket %(number)s missed its resolution target: %(subject)s")
    for manager in team.managers.filter(is_active=True):
        notify(
            manager,
            "sla_breached",
            message,
            f"/tickets/{ticket.pk}/",
            params={"number": ticket.number, "subject": ticket.subject[:80]},
        )


# ------------------------------------------------------------------------------------------ admin edits


def _check_editor(actor) -> None:
    if access.role_of(actor) not in EDITOR_ROLES:
        raise SlaDenied(_("Only administrators and managers can change service levels."))


def _minutes(data: dict, field: str) -> int:
    try:
        value = int(data.get(field))
    except (TypeError, ValueError):
        value = 0
    if value < 1 or value > 60 * 24 * 365:
        message = _("A whole number of business minutes, at least 1.")
        raise PolicyInvalid(message, **{field: [message]})
    return value


@transaction.atomic
def save_policy(*, actor, data: dict, policy_id: int | None = None) -> SLAPolicy:
    """Create or update a policy. Existing clocks keep their targets; new tickets and priority changes use it."""
    _check_editor(actor)
    policy = SLAPolicy() if policy_id is None else SLAPolicy.objects.select_for_update().filter(pk=policy_id).first()
    if policy is None:
        raise SlaNotFound(_("No SLA policy with id %(id)s.") % {"id": policy_id})
    before = events.snapshot(policy, POLICY_FIELDS) if policy.pk else {}
    priority = data.get("priority", policy.priority)
    if priority not in Ticket.Priority.values:
        raise PolicyInvalid(_("Unknown priority."), priority=[_("Choose urgent, high, normal or low.")])
    tier = data.get("tier", policy.tier) or ""
    if tier not in SLAPolicy.Tier.values:
        raise PolicyInvalid(_("Unknown tier."), tier=[_("Choose A, B, C or any tier.")])
    name = str(data.get("name", policy.name) or "").strip()[:120]
    if not name:
        raise PolicyInvalid(_("Some fields are not valid."), name=[_("This field is required.")])
    calendar_id = data.get("calendar_id", policy.calendar_id)
    if calendar_id and not BusinessCalendar.objects.filter(pk=calendar_id).exists():
        raise PolicyInvalid(_("Unknown calendar."), calendar_id=[_("Choose an existing calendar.")])
    policy.name = name
    policy.name_zh_hans = str(data.get("name_zh_hans", policy.name_zh_hans) or "").strip()[:120]
    policy.priority, policy.tier, policy.calendar_id = priority, tier, calendar_id or None
    policy.first_response_minutes = _minutes(
        {**{"first_response_minutes": policy.first_response_minutes}, **data}, "first_response_minutes"
    )
    policy.resolution_minutes = _minutes(
        {**{"resolution_minutes": policy.resolution_minutes}, **data}, "resolution_minutes"
    )
    if policy.resolution_minutes < policy.first_response_minutes:
        message = _("The resolution target cannot be shorter than the first-response target.")
        raise PolicyInvalid(message, resolution_minutes=[message])
    policy.active = bool(data.get("active", policy.active if policy.pk else True))
    policy.order = int(data.get("order", policy.order) or 100)
    clash = SLAPolicy.objects.filter(active=True, priority=priority, tier=tier).exclude(pk=policy.pk)
    if policy.active and clash.exists():
        message = _("An active policy for this priority and tier already exists.")
        raise PolicyInvalid(message, priority=[message])
    created = policy.pk is None
    policy.save()
    events.record(
        "sla.policy_saved",
        subject=policy,
        actor=actor,
        payload={"policy_id": policy.pk, "priority": priority, "tier": tier},
        audit_action="create" if created else "update",
        changes=events.diff(before, events.snapshot(policy, POLICY_FIELDS)),
    )
    return policy


POLICY_FIELDS = (
    "name",
    "name_zh_hans",
    "priority",
    "tier",
    "first_response_minutes",
    "resolution_minutes",
    "calendar_id",
    "active",
    "order",
)


@transaction.atomic
def update_calendar(*, actor, calendar_id: int, data: dict) -> BusinessCalendar:
    """Change a calendar's name, time zone, working hours or default flag. Running clocks keep their targets
    until their next resume or priority change."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    _check_editor(actor)
    calendar = BusinessCalendar.objects.select_for_update().filter(pk=calendar_id).first()
    if calendar is None:
        raise SlaNotFound(_("No calendar with id %(id)s.") % {"id": calendar_id})
    before = events.snapshot(calendar, ("name", "time_zone", "hours", "is_default"))
    if "hours" in data and data["hours"] is not None:
        try:
            parse_hours(data["hours"])
        except (ValueError, TypeError, AttributeError) as exc:
            raise CalendarInvalid(_("The working hours are not valid."), hours=[str(exc)]) from exc
        if not any(data["hours"].values()):
            raise CalendarInvalid(_("A calendar needs some working hours."), hours=[_("Add working hours.")])
        calendar.hours = data["hours"]
    if data.get("time_zone"):
        try:
            ZoneInfo(str(data["time_zone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarInvalid(_("Unknown time zone."), time_zone=[_("Use a name like Asia/Shanghai.")]) from exc
        calendar.time_zone = str(data["time_zone"])
    if data.get("name"):
        calendar.name = str(data["name"]).strip()[:120]
    if data.get("is_default"):
        BusinessCalendar.objects.exclude(pk=calendar.pk).filter(is_default=True).update(is_default=False)
        calendar.is_default = True
    calendar.save()
    events.record(
        "sla.calendar_changed",
        subject=calendar,
        actor=actor,
        payload={"calendar_id": calendar.pk},
        audit_action="update",
        changes=events.diff(before, events.snapshot(calendar, ("name", "time_zone", "hours", "is_default"))),
    )
    return calendar


@transaction.atomic
def add_holiday(
    *, actor, calendar_id: int, day: date, name: str, name_zh_hans: str = "", kind: str = "holiday"
) -> Holiday:
    """Add a day off (or, kind workday, a make-up working day) to a calendar; one row per date."""
    _check_editor(actor)
    calendar = BusinessCalendar.objects.select_for_update().filter(pk=calendar_id).first()
    if calendar is None:
        raise SlaNotFound(_("No calendar with id %(id)s.") % {"id": calendar_id})
    if kind not in Holiday.Kind.values:
        raise CalendarInvalid(_("Unknown kind."), kind=[_("Choose holiday or make-up working day.")])
    name = str(name or "").strip()[:120]
    if not name:
        raise CalendarInvalid(_("Some fields are not valid."), name=[_("This field is required.")])
    if calendar.holidays.filter(date=day).exists():
        message = _("This date is already in the calendar.")
        raise CalendarInvalid(message, date=[message])
    holiday = Holiday.objects.create(
        calendar=calendar, date=day, name=name, name_zh_hans=str(name_zh_hans or "")[:120], kind=kind
    )
    calendar.save(update_fields=["updated_at"])
    events.record(
        "sla.calendar_changed",
        subject=calendar,
        actor=actor,
        payload={"calendar_id": calendar.pk, "added": day},
        audit_action="update",
        changes={"holidays": [None, f"{day} {kind} {name}"]},
    )
    return holiday


@transaction.atomic
def remove_holiday(*, actor, calendar_id: int, holiday_id: int) -> None:
    _check_editor(actor)
    holiday = Holiday.objects.select_related("calendar").filter(pk=holiday_id, calendar_id=calendar_id).first()
    if holiday is None:
        raise SlaNotFound(_("No such holiday in this calendar."))
    calendar = holiday.calendar
    label = f"{holiday.date} {holiday.kind} {holiday.name}"
    holiday.delete()
    calendar.save(update_fields=["updated_at"])
    events.record(
        "sla.calendar_changed",
        subject=calendar,
        actor=actor,
        payload={"calendar_id": calendar.pk, "removed": holiday.date},
        audit_action="update",
        changes={"holidays": [label, None]},
    )


def open_clocks() -> QuerySet:
    return TicketClock.objects.filter(stopped_at__isnull=True, ticket__status__in=OPEN_STATUSES)

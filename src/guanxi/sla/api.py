"""/api/v1/sla: SLA policies and business calendars (admins and managers edit), a ticket's clock, and the tickets
about to breach."""

from datetime import timedelta

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core.schemas import ERRORS, Id
from guanxi.sla import selectors, services
from guanxi.sla.models import BusinessCalendar, SLAPolicy
from guanxi.sla.schemas import (
    BreachingOut,
    BreachingQuery,
    CalendarIn,
    CalendarOut,
    ClockOut,
    HolidayIn,
    HolidayOut,
    PolicyIn,
    PolicyOut,
)

router = Router(tags=["sla"])


def _policy(policy: SLAPolicy) -> dict:
    return {
        "id": policy.pk,
        "name": policy.name,
        "name_zh_hans": policy.name_zh_hans,
        "priority": policy.priority,
        "tier": policy.tier,
        "first_response_minutes": policy.first_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "calendar_id": policy.calendar_id,
        "active": policy.active,
        "order": policy.order,
    }


def _calendar(calendar: BusinessCalendar) -> dict:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "hours": calendar.hours,
        "is_default": calendar.is_default,
        "holidays": [
            {"id": h.pk, "date": h.date, "name": h.name, "name_zh_hans": h.name_zh_hans, "kind": h.kind}
            for h in calendar.holidays.all()
        ],
    }


@router.get("/policies", response={200: list[PolicyOut], **ERRORS})
def list_policies(request: HttpRequest):
    """Every SLA policy: targets in business minutes by priority and customer ABC tier ("" = any tier). A ticket
    gets the active policy of its priority for its customer's tier, else the one for any tier."""
    return [_policy(p) for p in selectors.policies()]


@router.post("/policies", response={201: PolicyOut, **ERRORS})
def create_policy(request: HttpRequest, payload: PolicyIn):
    """Admins and managers. One active policy per priority and tier (409-free: a clash is a 422)."""
    policy = services.save_policy(actor=request.auth, data=payload.dict())
    return Status(201, _policy(policy))


@router.put("/policies/{policy_id}", response={200: PolicyOut, **ERRORS})
def update_policy(request: HttpRequest, policy_id: Id, payload: PolicyIn):
    """Admins and managers. Running clocks keep their targets; new tickets and priority changes use the new ones."""
    return _policy(services.save_policy(actor=request.auth, data=payload.dict(), policy_id=policy_id))


@router.get("/calendars", response={200: list[CalendarOut], **ERRORS})
def list_calendars(request: HttpRequest):
    """Business calendars with their working hours per weekday (local time) and holidays; ``kind`` "workday" is
    a make-up working day (调休) on a weekend."""
    return [_calendar(c) for c in selectors.calendars()]


@router.put("/calendars/{calendar_id}", response={200: CalendarOut, **ERRORS})
def update_calendar(request: HttpRequest, calendar_id: Id, payload: CalendarIn):
    """Admins and managers: name, IANA time zone, working hours ``{"mon": [["09:00", "12:00"], ["13:00",
    "18:00"]], ...}`` (``24:00`` ends at midnight) and the default flag. Fields left out are unchanged."""
    services.update_calendar(actor=request.auth, calendar_id=calendar_id, data=payload.dict(exclude_none=True))
    return _calendar(selectors.get_calendar(calendar_id))


@router.post("/calendars/{calendar_id}/holidays", response={201: HolidayOut, **ERRORS})
def add_holiday(request: HttpRequest, calendar_id: Id, payload: HolidayIn):
    """Admins and managers: add a day off, or a make-up working day (``kind`` "workday"). One row per date."""
    holiday = services.add_holiday(
        actor=request.auth, calendar_id=calendar_id, day=payload.date, **payload.dict(exclude={"date"})
    )
    return Status(
        201,
        {
            "id": holiday.pk,
            "date": holiday.date,
            "name": holiday.name,
            "name_zh_hans": holiday.name_zh_hans,
            "kind": holiday.kind,
        },
    )


@router.delete("/calendars/{calendar_id}/holidays/{holiday_id}", response={204: None, **ERRORS})
def remove_holiday(request: HttpRequest, calendar_id: Id, holiday_id: Id):
    """Admins and managers."""
    services.remove_holiday(actor=request.auth, calendar_id=calendar_id, holiday_id=holiday_id)
    return Status(204, None)


@router.get("/tickets/{ticket_id}/clock", response={200: ClockOut, **ERRORS})
def ticket_clock(request: HttpRequest, ticket_id: Id):
    """A ticket's SLA clock: targets, remaining business seconds (negative when overdue), pause and breaches.
    404 for a ticket you may not see or one without a policy."""
    status = selectors.ticket_clock(request.auth, ticket_id)
    clock = status.clock

    def target(t) -> dict:
        return {
            "due_at": t.due_at,
            "met_at": t.met_at,
            "breached_at": t.breached_at,
            "remaining_business_seconds": t.remaining_seconds,
        }

    return {
        "ticket_id": clock.ticket_id,
        "policy_id": clock.policy_id,
        "policy_name": status.policy_name,
        "calendar_id": clock.calendar_id,
        "started_at": clock.started_at,
        "paused": status.paused,
        "paused_business_seconds": clock.paused_seconds,
        "stopped": status.stopped,
        "breached": status.breached,
        "escalated_at": clock.escalated_at,
        "first_response": target(status.first_response),
        "resolution": target(status.resolution),
    }


@router.get("/breaching", response={200: BreachingOut, **ERRORS})
def breaching(request: HttpRequest, filters: Query[BreachingQuery]):
    """Open tickets you may see with a first-response or resolution target due within ``within`` business
    minutes (default 30) and not yet due, soonest first (at most 200)."""
    tickets = selectors.breaching_soon(request.auth, timedelta(minutes=filters.within))[: selectors.LIST_LIMIT]
    return {
        "within_minutes": filters.within,
        "items": [
            {
                "id": t.pk,
                "number": t.number,
                "subject": t.subject,
                "customer_id": t.customer_id,
                "priority": t.priority,
                "status": t.status,
                "queue_id": t.queue_id,
                "assignee_id": t.assignee_id,
                "first_response_due_at": t.first_response_due_at,
                "resolution_due_at": t.resolution_due_at,
                "sla_breached": t.sla_breached,
            }
            for t in tickets
        ],
    }

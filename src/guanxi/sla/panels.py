"""The SLA panel of the ticket detail page: targets, remaining business time and the paused state."""

from django.utils import timezone

from guanxi.sla import selectors


def ticket_clock(request, ticket) -> dict | None:
    status = selectors.clock_status(ticket.pk, now=timezone.now())
    if status is None:
        return None
    return {"sla": status}

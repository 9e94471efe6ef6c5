"""Reads of the service desk, always scoped by ``visible_tickets``: a ticket outside the caller's scope is simply
not found.

Scope (interfaces.md): admin all; manager the queues of the teams they lead plus the tickets of customers they
see; support agent the queues of their team plus the tickets assigned to them; sales rep the tickets of customers
they see; analyst none (aggregates come from the quality app).
"""

import hashlib

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.tickets.errors import TicketNotFound
from guanxi.tickets.models import OPEN_STATUSES, Queue, Ticket, TicketCategory, TicketMessage

SORTS = {
    "created": ("-created_at", "-id"),
    "-created": ("created_at", "id"),
    "priority": ("-priority_rank", "-created_at", "-id"),
    "due": ("resolution_due_at", "-id"),
}


def ticket_q(user) -> Q | None:
    """The filter limiting tickets to ``user``'s scope; None means every ticket."""
    role = access.role_of(user)
    if role == access.ADMIN:
        return None
    if role == access.MANAGER:
        led = list(user.led_teams.values_list("pk", flat=True))
        return Q(queue__team_id__in=led) | access.customer_q(user, via="customer")
    if role == access.SUPPORT:
        q = Q(assignee_id=user.pk)
        if user.team_id:
            q |= Q(queue__team_id=user.team_id)
        return q
    if role == access.SALES:
        return access.customer_q(user, via="customer")
    return access.NOTHING


def visible_tickets(user) -> QuerySet:
    tickets = Ticket.objects.filter(customer__deleted_at__isnull=True)
    q = ticket_q(user)
    return tickets if q is None else tickets.filter(q)


def support_scope(user, prefix: str) -> Q:
    """Registered with core.access: the customers behind tickets in the agent's team queues or assigned to them."""
    q = Q(assignee_id=user.pk)
    if user.team_id:
        q |= Q(queue__team_id=user.team_id)
    return Q(**{f"{prefix}pk__in": Ticket.objects.filter(q).values("customer_id")})


def get_ticket(user, ticket_id: int) -> Ticket:
    ticket = (
        visible_tickets(user)
        .select_related("customer", "category", "queue", "queue__team", "assignee", "merged_into")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise TicketNotFound(_("No ticket with id %(id)s.") % {"id": ticket_id})
    return ticket


def ticket_by_token(token: str) -> Ticket | None:
    """The ticket whose status-page token this is (only its SHA-256 is stored), or None."""
    token = str(token or "")
    if not token or len(token) > 100:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return Ticket.objects.select_related("category", "queue").filter(token_digest=digest).first()


def messages(ticket: Ticket, *, public_only: bool = False) -> QuerySet:
    qs = TicketMessage.objects.filter(ticket=ticket).select_related("author").prefetch_related("attachments")
    if public_only:
        qs = qs.exclude(kind=TicketMessage.Kind.INTERNAL_NOTE)
    return qs.order_by("created_at", "id")


def filter_tickets(user, params) -> QuerySet:
    """``visible_tickets`` with the queue page / API filters: queue, status (or "open" for new/open/pending),
    priority, assignee (an id, "mine" or "unassigned"), category (key), customer, q (number or subject), sort."""
    qs = visible_tickets(user).select_related("customer", "category", "queue", "assignee")
    get = params.get
    if get("queue"):
        qs = qs.filter(queue_id=_int(get("queue")))
    status = get("status")
    if status == "open_all":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status in Ticket.Status.values:
        qs = qs.filter(status=status)
    if get("priority") in Ticket.Priority.values:
        qs = qs.filter(priority=get("priority"))
    assignee = get("assignee")
    if assignee == "mine":
        qs = qs.filter(assignee_id=getattr(user, "pk", None))
    elif assignee == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee_id=_int(assignee))
    if get("category"):
        qs = qs.filter(category__key=get("category"))
    if get("customer"):
        qs = qs.filter(customer_id=_int(get("customer")))
    if get("breached") in ("1", "true", True):
        qs = qs.filter(sla_breached=True)
    text = str(get("q") or "").strip()[:100]
    if text:
        number = text.upper()
        if number.startswith("T-") or number.isdigit():
            digits = number.removeprefix("T-")
            qs = qs.filter(number=f"T-{int(digits):06d}") if digits.isdigit() else qs.none()
        else:
            qs = qs.filter(subject__icontains=text)
    sort = get("sort") or "created"
    return qs.order_by(*SORTS.get(sort, SORTS["created"]))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def categories(*, active_only: bool = True) -> QuerySet:
    qs = TicketCategory.objects.all()
    return qs.filter(active=True) if active_only else qs


def queues(*, active_only: bool = True) -> QuerySet:
    qs = Queue.objects.select_related("team")
    return qs.filter(active=True) if active_only else qs


def customer_tickets(user, customer_id: int) -> QuerySet:
    return (
        visible_tickets(user)
        .filter(customer_id=customer_id)
        .select_related("category", "assignee")
        .order_by("-created_at", "-id")
    )


def open_ticket_count(customer_id: int) -> int:
    return Ticket.objects.filter(customer_id=customer_id, status__in=OPEN_STATUSES).count()

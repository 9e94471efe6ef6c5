"""/api/v1/tickets: the service desk for integrators. Every read and write is limited to ``visible_tickets``:
a ticket outside the caller's scope is a 404."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS
from guanxi.tickets import selectors, services
from guanxi.tickets.models import Ticket, TicketMessage
from guanxi.tickets.schemas import (
    AssignIn,
    CategoryOut,
    MergeIn,
    MessageOut,
    QueueOut,
    ReplyIn,
    StatusIn,
    TicketIn,
    TicketList,
    TicketOut,
    TicketPatch,
    TicketQuery,
)

router = Router(tags=["tickets"])


def _out(t: Ticket) -> dict:
    return {
        "id": t.pk,
        "number": t.number,
        "customer_id": t.customer_id,
        "customer_name": t.customer.display_name,
        "subject": t.subject,
        "description": t.description,
        "channel": t.channel,
        "category": t.category.key,
        "priority": t.priority,
        "status": t.status,
        "queue_id": t.queue_id,
        "team_id": t.queue.team_id,
        "assignee_id": t.assignee_id,
        "requester_name": t.requester_name,
        "requester_email": t.requester_email,
        "requester_phone": t.requester_phone,
        "created_at": t.created_at,
        "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "reopen_count": t.reopen_count,
        "merged_into_id": t.merged_into_id,
        "notify_requester": t.notify_requester,
        "first_response_due_at": t.first_response_due_at,
        "resolution_due_at": t.resolution_due_at,
        "sla_breached": t.sla_breached,
        "version": t.version,
    }


def _fresh(user, ticket_id: int) -> dict:
    return _out(selectors.get_ticket(user, ticket_id))


def _message_out(m: TicketMessage) -> dict:
    return {
        "id": m.pk,
        "kind": m.kind,
        "author_id": m.author_id,
        "body": m.body,
        "created_at": m.created_at,
        "attachments": [{"id": a.pk, "name": a.name, "size": a.size} for a in m.attachments.all()],
    }


@router.get("", response={200: TicketList, **ERRORS})
def list_tickets(request: HttpRequest, filters: Query[TicketQuery]):
    """Tickets you may see, newest first (or by priority / resolution due), with the queue page's filters."""
    params = filters.dict(exclude={"limit", "offset"})
    if params.get("breached") is False:
        params.pop("breached")
    tickets = selectors.filter_tickets(request.auth, params)
    page = paginate(tickets, limit=filters.limit, offset=filters.offset)
    return {"items": [_out(t) for t in page.items], "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get("/categories", response={200: list[CategoryOut], **ERRORS})
def list_categories(request: HttpRequest):
    return list(selectors.categories(active_only=False))


@router.get("/queues", response={200: list[QueueOut], **ERRORS})
def list_queues(request: HttpRequest):
    return [
        {
            "id": q.pk,
            "name": q.name,
            "name_zh_hans": q.name_zh_hans,
            "team_id": q.team_id,
            "assignment": q.assignment,
            "active": q.active,
        }
        for q in selectors.queues(active_only=False)
    ]


@router.post("", response={201: TicketOut, **ERRORS})
def create_ticket(request: HttpRequest, payload: TicketIn):
    """Open a ticket for a customer you may see, or for a requester (matched or created as a customer)."""
    ticket = services.create_ticket(actor=request.auth, data=payload.dict())
    return Status(201, _fresh(request.auth, ticket.pk))


@router.get("/{int:ticket_id}", response={200: TicketOut, **ERRORS})
def get_ticket(request: HttpRequest, ticket_id: int):
    return _fresh(request.auth, ticket_id)


@router.patch("/{int:ticket_id}", response={200: TicketOut, **ERRORS})
def patch_ticket(request: HttpRequest, ticket_id: int, payload: TicketPatch):
    """Change subject, category, priority, queue or notify_requester; ``version`` is required (409 if stale)."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.update_ticket(actor=request.auth, ticket_id=ticket_id, version=version, data=data)
    return _fresh(request.auth, ticket_id)


@router.post("/{int:ticket_id}/status", response={200: TicketOut, **ERRORS})
def change_status(request: HttpRequest, ticket_id: int, payload: StatusIn):
    """Move the ticket: new -> open -> pending -> resolved -> closed, resolved -> open (reopen). Others: 422."""
    services.change_status(actor=request.auth, ticket_id=ticket_id, status=payload.status, version=payload.version)
    return _fresh(request.auth, ticket_id)


@router.post("/{int:ticket_id}/replies", response={201: MessageOut, **ERRORS})
def reply(request: HttpRequest, ticket_id: int, payload: ReplyIn):
    """A public reply (the first one sets first_response_at) or, with ``internal``, an internal note."""
    message = services.reply(actor=request.auth, ticket_id=ticket_id, body=payload.body, internal=payload.internal)
    return Status(201, _message_out(message))


@router.post("/{int:ticket_id}/assign", response={200: TicketOut, **ERRORS})
def assign(request: HttpRequest, ticket_id: int, payload: AssignIn):
    services.assign(actor=request.auth, ticket_id=ticket_id, assignee_id=payload.assignee_id, version=payload.version)
    return _fresh(request.auth, ticket_id)


@router.post("/{int:ticket_id}/merge", response={200: TicketOut, **ERRORS})
def merge(request: HttpRequest, ticket_id: int, payload: MergeIn):
    """Merge this ticket (a duplicate) into ``target_id``; returns the target."""
    target = services.merge(actor=request.auth, source_id=ticket_id, target_id=payload.target_id)
    return _fresh(request.auth, target.pk)


@router.get("/{int:ticket_id}/messages", response={200: list[MessageOut], **ERRORS})
def messages(request: HttpRequest, ticket_id: int):
    ticket = selectors.get_ticket(request.auth, ticket_id)
    return [_message_out(m) for m in selectors.messages(ticket)]

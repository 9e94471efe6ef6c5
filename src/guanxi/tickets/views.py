"""The service desk pages: the ticket queue, a ticket's conversation and actions, the new-ticket form and
attachment downloads. Thin: parse, call one service or selector, render. Domain errors become a message on the
page (field errors under the field), a ticket outside the user's scope is a 404."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.accounts.models import User
from guanxi.core import access
from guanxi.core.errors import GuanxiError
from guanxi.core.pagination import paginate
from guanxi.tickets import panels, selectors, services
from guanxi.tickets.models import Ticket, TicketAttachment

PAGE_SIZE = 50


def _int(value, default=0):
    try:
        return max(0, min(int(value), 2**31))
    except (TypeError, ValueError):
        return default


def _can_work(user) -> bool:
    return access.role_of(user) in services.WRITER_ROLES


@login_required
@require_GET
def ticket_list(request):
    if not _can_work(request.user):
        raise Http404
    params = {k: request.GET.get(k, "") for k in ("queue", "status", "priority", "assignee", "category", "q", "sort")}
    if "status" not in request.GET:
        params["status"] = "open_all"
    tickets = selectors.filter_tickets(request.user, params)
    offset = _int(request.GET.get("offset"))
    page = paginate(tickets, limit=PAGE_SIZE, offset=offset)
    query = request.GET.copy()
    query.pop("offset", None)
    context = {
        "page": page,
        "params": params,
        "query": query.urlencode(),
        "queues": selectors.queues(),
        "categories": selectors.categories(),
        "statuses": Ticket.Status.choices,
        "priorities": Ticket.Priority.choices,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < page.total else None,
        "prev_offset": max(0, offset - PAGE_SIZE) if offset else None,
        "nav_section": "tickets",
    }
    return render(request, "tickets/list.html", context)


def _agents_for(ticket: Ticket):
    users = User.objects.filter(is_active=True, role__in=services.AGENT_ROLES)
    if ticket.queue.team_id:
        users = users.filter(team_id=ticket.queue.team_id)
    return users.order_by("username")


@login_required
@require_GET
def detail(request, ticket_id: int):
    ticket = selectors.get_ticket(request.user, ticket_id)
    return _render_detail(request, ticket)


def _render_detail(request, ticket, *, status=200, error=""):
    context = {
        "ticket": ticket,
        "messages_list": selectors.messages(ticket),
        "next_statuses": [(s, Ticket.Status(s).label) for s in sorted(services.TRANSITIONS[ticket.status])],
        "agents": _agents_for(ticket),
        "categories": selectors.categories(),
        "queues": selectors.queues(),
        "priorities": Ticket.Priority.choices,
        "panels": panels.panels_for(request, ticket),
        "can_work": _can_work(request.user),
        "error": error,
        "nav_section": "tickets",
    }
    return render(request, "tickets/detail.html", context, status=status)


def _act(request, ticket_id: int, action) -> object:
    """Run ``action()``; on a domain error show the ticket again with the message (409 for a stale version)."""
    try:
        action()
    except GuanxiError as exc:
        if exc.status == 404:
            raise
        ticket = selectors.get_ticket(request.user, ticket_id)
        details = " ".join(str(m) for v in exc.details.values() if isinstance(v, list) for m in v)
        message = exc.message if not details or details in exc.message else f"{exc.message} {details}"
        return _render_detail(request, ticket, status=exc.status, error=message)
    return redirect(reverse("tickets:detail", args=[ticket_id]))


def _version(request):
    return _int(request.POST.get("version"), 0) or None


@login_required
@require_POST
def reply(request, ticket_id: int):
    internal = request.POST.get("internal") == "1"
    files = request.FILES.getlist("file")
    return _act(
        request,
        ticket_id,
        lambda: services.reply(
            actor=request.user, ticket_id=ticket_id, body=request.POST.get("body", ""), internal=internal, files=files
        ),
    )


@login_required
@require_POST
def change_status(request, ticket_id: int):
    status = request.POST.get("status", "")
    return _act(
        request,
        ticket_id,
        lambda: services.change_status(
            actor=request.user, ticket_id=ticket_id, status=status, version=_version(request)
        ),
    )


@login_required
@require_POST
def update(request, ticket_id: int):
    data = {
        "priority": request.POST.get("priority") or None,
        "category": request.POST.get("category") or None,
        "queue_id": _int(request.POST.get("queue_id")) or None,
        "notify_requester": request.POST.get("notify_requester") == "1",
    }

    def run():
        ticket = services.update_ticket(actor=request.user, ticket_id=ticket_id, version=_version(request), data=data)
        assignee = request.POST.get("assignee_id", "-")
        if assignee != "-":
            services.assign(
                actor=request.user, ticket_id=ticket_id, assignee_id=_int(assignee) or None, version=ticket.version
            )

    return _act(request, ticket_id, run)


@login_required
@require_POST
def merge(request, ticket_id: int):
    target = request.POST.get("target", "").strip().upper().removeprefix("T-")
    target_ticket = selectors.visible_tickets(request.user).filter(number=f"T-{_int(target):06d}").first()

    def run():
        if target_ticket is None:
            raise services.TicketInvalid(_("No ticket with this number."), target=[_("No ticket with this number.")])
        services.merge(actor=request.user, source_id=ticket_id, target_id=target_ticket.pk)
        flash.success(request, _("Merged into %(number)s.") % {"number": target_ticket.number})

    response = _act(request, ticket_id, run)
    if target_ticket is not None and response.status_code == 302:
        return redirect(reverse("tickets:detail", args=[target_ticket.pk]))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    if not _can_work(request.user):
        raise Http404
    customer_id = _int(request.GET.get("customer") or request.POST.get("customer_id")) or None
    customer = access.visible_customers(request.user).filter(pk=customer_id).first() if customer_id else None
    error, errors = "", {}
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        data = {
            k: request.POST.get(k, "")
            for k in (
                "subject",
                "description",
                "channel",
                "category",
                "priority",
                "requester_name",
                "requester_email",
                "requester_phone",
            )
        }
        data["priority"] = data["priority"] or None
        data["queue_id"] = _int(request.POST.get("queue_id")) or None
        data["customer_id"] = customer.pk if customer else None
        data["notify_requester"] = request.POST.get("notify_requester") == "1"
        try:
            ticket = services.create_ticket(actor=request.user, data=data)
        except GuanxiError as exc:
            if exc.status == 404:
                raise
            error, errors = exc.message, exc.details
        else:
            return redirect(reverse("tickets:detail", args=[ticket.pk]))
    context = {
        "customer": customer,
        "values": values,
        "error": error,
        "errors": errors,
        "channels": Ticket.Channel.choices,
        "categories": selectors.categories(),
        "queues": selectors.queues(),
        "priorities": Ticket.Priority.choices,
        "nav_section": "tickets",
    }
    return render(request, "tickets/new.html", context, status=422 if error else 200)


@login_required
@require_GET
def download(request, attachment_id: int):
    """Attachments are served as downloads only (never inline), to users who may see the ticket."""
    attachment = TicketAttachment.objects.select_related("message").filter(pk=attachment_id).first()
    if attachment is None or (attachment.message.kind == "internal_note" and not _can_work(request.user)):
        raise Http404
    selectors.get_ticket(request.user, attachment.message.ticket_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

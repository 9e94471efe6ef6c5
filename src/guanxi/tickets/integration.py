"""What the service desk plugs into other apps' registries (called from ``TicketsConfig.ready``): rule fields,
automation triggers and the ``open_ticket`` action, the customer page panel, the timeline source, personal data
and merges."""

from typing import Any

from django.db.models import Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.automation.actions import ActionContext, ActionType, _Params
from guanxi.core import access
from guanxi.core.rules import BOOLEAN, NUMBER, register_field
from guanxi.engagement.timeline import TimelineItem
from guanxi.tickets.models import OPEN_STATUSES, PRIORITY_ORDER, Ticket, TicketCategory, TicketMessage

# ------------------------------------------------------------------------------------------- rule fields


def _has_ticket(ctx):
    return Exists(Ticket.objects.filter(customer_id=OuterRef("pk"), created_at__lte=ctx.now))


def _open_tickets(ctx):
    counts = (
        Ticket.objects.filter(customer_id=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("customer_id")
        .annotate(n=_count())
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def _count():
    from django.db.models import Count

    return Count("pk")


def register_fields() -> None:
    register_field("has_ticket", type=BOOLEAN, label=gettext_lazy("Has a service ticket"), expression=_has_ticket)
    register_field(
        "open_tickets",
        type=NUMBER,
        label=gettext_lazy("Open service tickets (new, open or pending)"),
        expression=_open_tickets,
        examples=(0, 1),
    )


# ------------------------------------------------------------------------------------------- automation


def _clean_open_ticket(params: dict[str, Any]) -> dict[str, Any]:
    p = _Params(params, {"subject", "category", "priority"})
    p.text("subject", required=True, max_length=200)
    keys = tuple(TicketCategory.objects.filter(active=True).values_list("key", flat=True)) or ("question",)
    p.choice("category", keys, default="question")
    p.choice("priority", tuple(PRIORITY_ORDER), default="normal")
    return p.done()


def _run_open_ticket(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.tickets import services

    ticket = services.create_ticket(
        actor=None,
        data={
            "customer_id": ctx.customer.pk,
            "subject": params["subject"],
            "description": _("Opened by the automation rule “%(rule)s”.") % {"rule": ctx.rule.name},
            "category": params.get("category", "question"),
            "priority": params.get("priority", "normal"),
            "channel": Ticket.Channel.WEB_FORM,
        },
    )
    return {"ticket_id": ticket.pk, "number": ticket.number}


OPEN_TICKET = ActionType(
    "open_ticket",
    gettext_lazy("Open a service ticket"),
    gettext_lazy("subject (required), category (key, default question), priority (low/normal/high/urgent)"),
    _clean_open_ticket,
    _run_open_ticket,
    example={"type": "open_ticket", "subject": "Call back about the late delivery", "category": "complaint"},
)


# --------------------------------------------------------------------------------------- customer page


def customer_panel(request, customer):
    """The customer's tickets the user may see, with a "New ticket" button."""
    user = request.user
    if access.role_of(user) not in (access.ADMIN, access.MANAGER, access.SALES, access.SUPPORT):
        return None
    from guanxi.tickets import selectors

    tickets = list(selectors.customer_tickets(user, customer.pk)[:10])
    return {"tickets": tickets, "customer": customer, "open_count": sum(1 for t in tickets if t.is_open)}


def timeline(user, customer, *, before, limit):
    from guanxi.tickets import selectors

    qs = selectors.customer_tickets(user, customer.pk)
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    return [
        TimelineItem(
            at=t.created_at,
            kind="tickets",
            title=_("Ticket %(number)s: %(subject)s") % {"number": t.number, "subject": t.subject},
            body=t.get_status_display(),
            actor=t.assignee.get_username() if t.assignee_id else "",
            link=f"/tickets/{t.pk}/",
            icon="🎫",
            extra={"ticket_id": t.pk},
        )
        for t in qs[:limit]
    ]


# ---------------------------------------------------------------------------------------- personal data


def export_tickets(customer) -> list[dict[str, Any]]:
    rows = Ticket.objects.filter(customer=customer).select_related("category").order_by("created_at", "id")
    return [
        {
            "number": t.number,
            "subject": t.subject,
            "description": t.description,
            "channel": t.channel,
            "category": t.category.key,
            "status": t.status,
            "requester_name": t.requester_name,
            "requester_email": t.requester_email,
            "requester_phone": t.requester_phone,
            "created_at": t.created_at,
            "resolved_at": t.resolved_at,
        }
        for t in rows
    ]


def export_messages(customer) -> list[dict[str, Any]]:
    rows = (
        TicketMessage.objects.filter(ticket__customer=customer)
        .exclude(kind=TicketMessage.Kind.INTERNAL_NOTE)
        .select_related("ticket")
        .order_by("created_at", "id")
    )
    return [{"ticket": m.ticket.number, "kind": m.kind, "body": m.body, "created_at": m.created_at} for m in rows]


def erase_tickets(customer, needles: list[str]) -> int:
    """Tickets stay as bare facts (for service statistics); the requester fields and free text go."""
    return Ticket.objects.filter(customer=customer).update(
        requester_name="", requester_email="", requester_phone="", subject="Ticket", description="", token_digest=""
    )


def erase_messages(customer, needles: list[str]) -> int:
    messages = TicketMessage.objects.filter(ticket__customer=customer)
    for message in messages.prefetch_related("attachments"):
        for attachment in message.attachments.all():
            attachment.file.delete(save=False)
            attachment.delete()
    return messages.update(body="—")

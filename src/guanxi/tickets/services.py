"""Every write of the service desk: creating tickets (by agents, by the public form, by automation), the status
machine, replies and internal notes, assignment (manual, round-robin, least-loaded), priority and category
changes, merging duplicates, and the daily auto-close.

Each function is one transaction that records ``ticket.*`` events (subject = the ticket; the payload always holds
``ticket_id, number, customer_id, status, priority, category, queue_id, team_id, assignee_id``) with their audit
entries, and appends a ``TicketStatusChange`` row for every status change, the creation included. ``actor`` None
is the system (jobs, the sla app, automation, the public form).
"""

import hashlib
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import access, events
from guanxi.core.locking import bump_version, check_version
from guanxi.customers import identities
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.tickets import selectors
from guanxi.tickets.errors import (
    AttachmentTooLarge,
    TicketClosed,
    TicketDenied,
    TicketInvalid,
    TicketNotFound,
    TransitionNotAllowed,
)
from guanxi.tickets.models import (
    OPEN_STATUSES,
    PRIORITY_ORDER,
    Queue,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatusChange,
    new_token,
)

Status = Ticket.Status
Kind = TicketMessage.Kind
WRITER_ROLES = (access.ADMIN, access.MANAGER, access.SALES, access.SUPPORT)
AGENT_ROLES = (User.Role.SUPPORT, User.Role.MANAGER, User.Role.ADMIN)
SUBJECT_LIMIT = 200
BODY_LIMIT = 20_000
SERVICE_USERNAME = "guanxi-service-desk"
DEFAULT_AUTO_CLOSE_DAYS = 7
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# status -> statuses it may move to by hand. resolved -> open is a reopen.
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.OPEN: {Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.PENDING: {Status.OPEN, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}


# ----------------------------------------------------------------------------------------------- helpers


def payload_of(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """The payload every ``ticket.*`` event carries (interfaces.md), plus ``extra``."""
    return {
        "ticket_id": ticket.pk,
        "number": ticket.number,
        "customer_id": ticket.customer_id,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category.key,
        "queue_id": ticket.queue_id,
        "team_id": ticket.queue.team_id,
        "assignee_id": ticket.assignee_id,
        **extra,
    }


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def attachment_max_bytes() -> int:
    return int(getattr(settings, "GUANXI_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


def auto_close_days() -> int:
    return int(getattr(settings, "GUANXI_TICKET_AUTO_CLOSE_DAYS", DEFAULT_AUTO_CLOSE_DAYS))


def _is_user(actor) -> bool:
    return getattr(actor, "is_authenticated", False)


def _record(event_type: str, ticket: Ticket, actor, *, audit_action: str = "update", changes=None, **extra) -> None:
    events.record(
        event_type,
        subject=ticket,
        actor=actor,
        payload=payload_of(ticket, **extra),
        audit_action=audit_action,
        changes=changes or {},
    )


def _history(ticket: Ticket, from_status: str, actor, at=None) -> TicketStatusChange:
    return TicketStatusChange.objects.create(
        ticket=ticket,
        from_status=from_status,
        to_status=ticket.status,
        at=at or timezone.now(),
        actor=actor if _is_user(actor) else None,
        queue_id=ticket.queue_id,
        assignee_id=ticket.assignee_id,
        priority=ticket.priority,
        category_id=ticket.category_id,
    )


def _text(value: Any, limit: int, field: str, *, required: bool = False) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise TicketInvalid(_("Some fields are not valid."), **{field: [_("This field is required.")]})
    if len(value) > limit:
        message = _("At most %(limit)s characters.") % {"limit": limit}
        raise TicketInvalid(message, **{field: [message]})
    return value


def _category(key: Any) -> TicketCategory:
    category = TicketCategory.objects.filter(key=str(key or "question"), active=True).first()
    if category is None:
        raise TicketInvalid(_("Unknown category."), category=[_("Choose one of the active categories.")])
    return category


def _check_priority(priority: Any) -> str:
    if priority not in Ticket.Priority.values:
        raise TicketInvalid(_("Unknown priority."), priority=[_("Choose urgent, high, normal or low.")])
    return priority


def _locked(actor, ticket_id: int, *, write: bool = True) -> Ticket:
    """The ticket, row-locked, if ``actor`` (None: the system) may work on it; otherwise TicketNotFound."""
    if actor is not None:
        if write and access.role_of(actor) not in WRITER_ROLES:
            selectors.get_ticket(actor, ticket_id)  # not found first, so a role without scope learns nothing
            raise TicketDenied(_("Your role cannot change tickets."))
        if not selectors.visible_tickets(actor).filter(pk=ticket_id).exists():
            raise TicketNotFound(_("No ticket with id %(id)s.") % {"id": ticket_id})
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("category", "queue", "customer")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise TicketNotFound(_("No ticket with id %(id)s.") % {"id": ticket_id})
    return ticket


def _save(ticket: Ticket, fields: list[str]) -> None:
    bump_version(ticket)
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "version", "updated_at", "priority_rank"])


def service_user() -> User:
    """The account that creates customers for requesters nobody knows yet (public form, automation, support
    agents who cannot create customers). It cannot log in: no password, no tokens."""
    user = User.objects.filter(username=SERVICE_USERNAME).first()
    if user is None:
        user = User(username=SERVICE_USERNAME, role=User.Role.ADMIN, display_name="Service desk", is_active=True)
        user.set_unusable_password()
        user.save()
    return user


def _default_queue(customer: Customer) -> Queue:
    queues = Queue.objects.filter(active=True)
    queue = None
    if customer.team_id:
        queue = queues.filter(team_id=customer.team_id).order_by("id").first()
    queue = queue or queues.filter(team__isnull=True).order_by("id").first() or queues.order_by("id").first()
    if queue is None:
        raise TicketInvalid(_("There is no active queue."), queue_id=[_("Create a queue first.")])
    return queue


def _requester(data: dict) -> tuple[str, str, str]:
    name = _text(data.get("requester_name") or data.get("name"), 120, "name")
    email = _text(data.get("requester_email") or data.get("email"), 254, "email").lower()
    phone = _text(data.get("requester_phone") or data.get("phone"), 40, "phone")
    if email and not _EMAIL.match(email):
        raise TicketInvalid(_("Some fields are not valid."), email=[_("Enter a valid e-mail address.")])
    return name, email, phone


def _find_or_create_customer(actor, name: str, email: str, phone: str, team_id: int | None) -> Customer:
    """The customer the requester's e-mail or phone identifies, else a new one (customers.ingest_customer).

    An existing customer is linked as it is: an anonymous requester never rewrites a stored profile.
    """
    if not (email or phone):
        raise TicketInvalid(
            _("Give the requester's e-mail or phone, or choose a customer."),
            email=[_("Enter an e-mail address or a phone number.")],
        )
    data: dict[str, Any] = {"display_name": name or email or phone, "emails": [email] if email else []}
    if phone:
        data["phones"] = [phone]
    keys: set[identities.Key] = set()
    try:
        if email:
            keys.add((identities.Kind.EMAIL.value, identities.normalize_value(identities.Kind.EMAIL, email)))
        if phone:
            keys.add((identities.Kind.PHONE.value, identities.normalize_value(identities.Kind.PHONE, phone)))
    except ValueError as exc:
        field = "phone" if phone else "email"
        raise TicketInvalid(_("Some fields are not valid."), **{field: [str(exc)]}) from exc
    found = identities.taken_by_others(keys, None)
    if found:
        return next(iter(found.values()))
    if access.can_create_customers(actor):
        creator = actor  # a rep owns the customer they enter; managers and admins name the queue's team
        if access.role_of(actor) == access.ADMIN and team_id:
            data.update(owner_id=None, team_id=team_id)
    else:
        creator = service_user()  # nobody owns it yet: it waits in the queue team's pool
        data.update(owner_id=None, team_id=team_id)
    data["source"] = Customer.Source.WEB_FORM
    customer, _created = customer_services.ingest_customer(actor=creator, data=data)
    return customer


def _starting_priority(customer: Customer, category: TicketCategory, priority: str | None) -> str:
    """Complaints from tier-A customers start at high (or above, when asked)."""
    priority = _check_priority(priority or Ticket.Priority.NORMAL)
    if category.key == "complaint":
        tier = getattr(getattr(customer, "score", None), "abc_tier", None)
        if tier is None:
            from guanxi.segments.models import CustomerScore

            tier = CustomerScore.objects.filter(customer_id=customer.pk).values_list("abc_tier", flat=True).first()
        if tier == "A" and PRIORITY_ORDER.index(priority) < PRIORITY_ORDER.index(Ticket.Priority.HIGH):
            priority = Ticket.Priority.HIGH
    return priority


def _agents(queue: Queue):
    """Active support agents of the queue's team, by id."""
    if queue.team_id is None:
        return User.objects.none()
    return User.objects.filter(team_id=queue.team_id, role=User.Role.SUPPORT, is_active=True).order_by("id")


def pick_assignee(queue: Queue) -> int | None:
    """The agent the queue's strategy gives the next ticket to (the queue row must be locked by the caller)."""
    if queue.assignment == Queue.Assignment.ROUND_ROBIN:
        ids = list(_agents(queue).values_list("id", flat=True))
        if not ids:
            return None
        after = [i for i in ids if queue.last_assignee_id is not None and i > queue.last_assignee_id]
        chosen = after[0] if after else ids[0]
        queue.last_assignee_id = chosen
        queue.save(update_fields=["last_assignee_id"])
        return chosen
    if queue.assignment == Queue.Assignment.LEAST_LOADED:
        agent = (
            _agents(queue)
            .annotate(load=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES)))
            .order_by("load", "id")
            .first()
        )
        return agent.pk if agent else None
    return None


# ------------------------------------------------------------------------------------------------ create


@transaction.atomic
def create_ticket(*, actor, data: dict, _public: bool = False) -> Ticket:
    """Open a ticket for ``data["customer_id"]``, or for the requester (name/e-mail/phone) who becomes or is
    matched to a customer. Optional: priority (complaints of tier-A customers start at high), queue_id (default:
    the queue of the customer's team), assignee_id (default: the queue's strategy), notify_requester.
    Emits ``ticket.created`` (and ``ticket.assigned`` when the strategy picks someone)."""
    if actor is not None and access.role_of(actor) not in WRITER_ROLES:
        raise TicketDenied(_("Your role cannot open tickets."))
    subject = _text(data.get("subject"), SUBJECT_LIMIT, "subject", required=True)
    description = _text(data.get("description"), BODY_LIMIT, "description")
    channel = data.get("channel") or Ticket.Channel.WEB_FORM
    if channel not in Ticket.Channel.values:
        raise TicketInvalid(_("Unknown channel."), channel=[_("Choose one of the channels.")])
    category = _category(data.get("category"))
    name, email, phone = _requester(data)
    queue = None
    if data.get("queue_id"):
        queue = Queue.objects.filter(pk=data["queue_id"], active=True).first()
        if queue is None:
            raise TicketInvalid(_("Unknown queue."), queue_id=[_("Choose an active queue.")])
    if data.get("customer_id"):
        customers = access.visible_customers(actor, system=actor is None)
        customer = customers.filter(pk=data["customer_id"]).first()
        if customer is None:
            raise TicketInvalid(_("Unknown customer."), customer_id=[_("No such customer.")])
    else:
        team_id = queue.team_id if queue else None
        customer = _find_or_create_customer(actor, name, email, phone, team_id)
    if not (name or email or phone):
        name = customer.display_name
        email = (customer.emails or [""])[0]
        phone = (customer.phones or [""])[0]
    queue = queue or _default_queue(customer)
    queue = Queue.objects.select_for_update().get(pk=queue.pk)
    priority = _starting_priority(customer, category, data.get("priority"))
    assignee_id = data.get("assignee_id")
    if assignee_id:
        _check_assignee(actor, queue, assignee_id)
    else:
        assignee_id = pick_assignee(queue)
    now = timezone.now()
    ticket = Ticket(
        number=f"TMP-{new_token()[:12]}",
        customer=customer,
        subject=subject,
        description=description,
        channel=channel,
        category=category,
        priority=priority,
        queue=queue,
        assignee_id=assignee_id,
        requester_name=name,
        requester_email=email,
        requester_phone=phone,
        notify_requester=bool(data.get("notify_requester", _public)),
        created_by=actor if _is_user(actor) else None,
        created_at=now,
        updated_at=now,
    )
    ticket.save()
    ticket.number = f"T-{ticket.pk:06d}"
    Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    _history(ticket, "", actor, at=now)
    fields = events.snapshot(ticket, ("number", "subject", "channel", "priority", "status", "queue_id", "assignee_id"))
    fields["category"] = category.key
    _record("ticket.created", ticket, actor, audit_action="create", changes=events.diff({}, fields), channel=channel)
    if assignee_id:
        _record("ticket.assigned", ticket, actor, changes={"assignee_id": [None, assignee_id]}, from_assignee_id=None)
    return ticket


@transaction.atomic
def create_public_ticket(*, data: dict, files=()) -> tuple[Ticket, str]:
    """A ticket from the public help form (no login). Returns the ticket and its status-page token, of which
    only the SHA-256 digest is stored."""
    name, email, _phone = _requester(data)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("This field is required.")]
    if not email:
        errors["email"] = [_("This field is required.")]
    if not str(data.get("subject") or "").strip():
        errors["subject"] = [_("This field is required.")]
    if not str(data.get("description") or "").strip():
        errors["description"] = [_("This field is required.")]
    if errors:
        raise TicketInvalid(_("Some fields are not valid."), **errors)
    clean = {k: data.get(k) for k in ("name", "email", "phone", "subject", "description", "category")}
    clean["channel"] = Ticket.Channel.WEB_FORM
    ticket = create_ticket(actor=None, data=clean, _public=True)
    if files:
        message = TicketMessage.objects.create(
            ticket=ticket, kind=Kind.CUSTOMER_REPLY, body=_("(attachment sent with the form)")
        )
        _store_files(message, files)
    token = new_token()
    ticket.token_digest = token_digest(token)
    Ticket.objects.filter(pk=ticket.pk).update(token_digest=ticket.token_digest)
    return ticket, token


def _check_assignee(actor, queue: Queue, assignee_id: int) -> User:
    assignee = User.objects.filter(pk=assignee_id, is_active=True, role__in=AGENT_ROLES).first()
    ok = assignee is not None
    if ok and actor is not None and access.role_of(actor) == access.SUPPORT:
        ok = assignee.team_id == actor.team_id or assignee.pk == actor.pk
    if ok and actor is not None and access.role_of(actor) == access.MANAGER:
        led = access.managed_team_ids(actor) or set()
        ok = assignee.team_id in led or assignee.team_id == actor.team_id or assignee.pk == actor.pk
    if not ok:
        message = _("This user cannot take tickets of this queue.")
        raise TicketInvalid(message, assignee_id=[message])
    return assignee


# ------------------------------------------------------------------------------------------ status machine


def _move(ticket: Ticket, to_status: str, actor, *, reason: str = "") -> None:
    """Apply a status change that is already known to be allowed: timestamps, history row and events."""
    from_status = ticket.status
    now = timezone.now()
    ticket.status = to_status
    fields = ["status"]
    reopened = from_status in (Status.RESOLVED, Status.CLOSED) and to_status in OPEN_STATUSES
    if to_status == Status.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    elif to_status == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    if reopened:
        ticket.reopen_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
        fields += ["reopen_count", "resolved_at", "closed_at"]
    _save(ticket, sorted(set(fields)))
    _history(ticket, from_status, actor, at=now)
    changes = {"status": [from_status, to_status]}
    _record(
        "ticket.status_changed",
        ticket,
        actor,
        changes=changes,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    if to_status == Status.RESOLVED:
        _record("ticket.resolved", ticket, actor, changes=changes, from_status=from_status)
    elif to_status == Status.CLOSED:
        _record("ticket.closed", ticket, actor, changes=changes, from_status=from_status, reason=reason)
    if reopened:
        _record(
            "ticket.reopened", ticket, actor, changes=changes, from_status=from_status, reopen_count=ticket.reopen_count
        )


def _check_transition(ticket: Ticket, status: str) -> None:
    if status not in Status.values:
        raise TicketInvalid(_("Unknown status."), status=[_("Choose new, open, pending, resolved or closed.")])
    if status not in TRANSITIONS[ticket.status]:
        labels = dict(Status.choices)
        allowed = ", ".join(str(labels[s]) for s in sorted(TRANSITIONS[ticket.status])) or _("none")
        message = _("A ticket cannot go from “%(from)s” to “%(to)s”. Allowed next: %(allowed)s.") % {
            "from": labels[ticket.status],
            "to": labels[status],
            "allowed": allowed,
        }
        raise TransitionNotAllowed(message, status=[message], current=ticket.status)


@transaction.atomic
def change_status(*, actor, ticket_id: int, status: str, version: int | None = None) -> Ticket:
    """Move the ticket along new -> open -> pending -> resolved -> closed (or reopen resolved -> open).
    A transition the machine does not allow is a 422; a stale ``version`` (when given) a 409."""
    ticket = _locked(actor, ticket_id)
    if version is not None:
        check_version(ticket, version)
    _check_transition(ticket, status)
    _move(ticket, status, actor)
    return ticket


# ------------------------------------------------------------------------------------------------- replies


def _store_files(message: TicketMessage, files) -> list[TicketAttachment]:
    """Check every file first (count, size limit ``GUANXI_ATTACHMENT_MAX_BYTES``, not empty), then store them
    under random names; the uploader's name is kept only for the download's Content-Disposition."""
    files = list(files or ())
    if len(files) > MAX_FILES:
        text = _("At most %(n)s files per message.") % {"n": MAX_FILES}
        raise TicketInvalid(text, file=[text])
    limit = attachment_max_bytes()
    for upload in files:
        size = getattr(upload, "size", 0) or 0
        if size > limit:
            text = _("The file is larger than the limit of %(limit)s bytes.") % {"limit": limit}
            raise AttachmentTooLarge(text, file=[text])
        if size <= 0:
            raise TicketInvalid(_("The file is empty."), file=[_("The file is empty.")])
    stored = []
    for upload in files:
        name = re.sub(r"[\x00-\x1f/\\]", "_", str(getattr(upload, "name", "") or "file"))[-200:]
        content_type = str(getattr(upload, "content_type", "") or "application/octet-stream")[:100]
        attachment = TicketAttachment(message=message, name=name, size=upload.size, content_type=content_type)
        attachment.file.save(name, upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _notify(ticket: Ticket, message: TicketMessage) -> None:
    if not (ticket.notify_requester and ticket.requester_email):
        return
    subject = _("[%(number)s] New reply: %(subject)s") % {"number": ticket.number, "subject": ticket.subject}
    body, to = message.body, [ticket.requester_email]
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    transaction.on_commit(lambda: send_mail(subject, body, sender, to, fail_silently=True))


@transaction.atomic
def reply(*, actor, ticket_id: int, body: str, internal: bool = False, files=()) -> TicketMessage:
    """An agent's public reply or internal note. The first public agent reply sets ``first_response_at`` and
    moves a new ticket to open. Public replies are mailed to the requester when ``notify_requester``.
    Emits ``ticket.replied`` (+ public, first_response)."""
    ticket = _locked(actor, ticket_id)
    body = _text(body, BODY_LIMIT, "body", required=True)
    if ticket.status == Status.CLOSED and not internal:
        raise TicketClosed(_("This ticket is closed; open a new one instead."))
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=Kind.INTERNAL_NOTE if internal else Kind.PUBLIC_REPLY,
        author=actor if _is_user(actor) else None,
        body=body,
    )
    _store_files(message, files)
    first = False
    if not internal and ticket.first_response_at is None:
        first = True
        ticket.first_response_at = message.created_at
        _save(ticket, ["first_response_at"])
    if first and ticket.status == Status.NEW:
        _move(ticket, Status.OPEN, actor)
    _record(
        "ticket.replied",
        ticket,
        actor,
        audit_action="update",
        changes={"messages": [None, message.kind]},
        public=not internal,
        first_response=first,
        message_id=message.pk,
    )
    if not internal:
        _notify(ticket, message)
    return message


@transaction.atomic
def customer_reply(*, ticket_id: int, body: str, files=()) -> TicketMessage:
    """The requester writes back (status page, e-mail). Pending -> open; resolved -> open is a reopen.
    Emits ``ticket.customer_replied``."""
    ticket = _locked(None, ticket_id)
    body = _text(body, BODY_LIMIT, "body", required=True)
    if ticket.status == Status.CLOSED:
        raise TicketClosed(_("This ticket is closed; please open a new one."), body=[_("This ticket is closed.")])
    message = TicketMessage.objects.create(ticket=ticket, kind=Kind.CUSTOMER_REPLY, body=body)
    _store_files(message, files)
    if ticket.status in (Status.PENDING, Status.RESOLVED):
        _move(ticket, Status.OPEN, None, reason="customer_reply")
    else:
        _save(ticket, [])
    _record("ticket.customer_replied", ticket, None, changes={"messages": [None, message.kind]}, message_id=message.pk)
    return message


@transaction.atomic
def customer_reply_by_token(*, token: str, body: str, files=()) -> TicketMessage:
    ticket = selectors.ticket_by_token(token)
    if ticket is None:
        raise TicketNotFound(_("This link is not valid."))
    return customer_reply(ticket_id=ticket.pk, body=body, files=files)


# ------------------------------------------------------------------------------------ assignment & fields


@transaction.atomic
def assign(*, actor, ticket_id: int, assignee_id: int | None, version: int | None = None) -> Ticket:
    """Give the ticket to an agent of its queue's team (or take it back with ``assignee_id`` None).
    Emits ``ticket.assigned``."""
    ticket = _locked(actor, ticket_id)
    if version is not None:
        check_version(ticket, version)
    if assignee_id:
        _check_assignee(actor, ticket.queue, assignee_id)
    before = ticket.assignee_id
    if before == assignee_id:
        return ticket
    ticket.assignee_id = assignee_id
    _save(ticket, ["assignee"])
    _record("ticket.assigned", ticket, actor, changes={"assignee_id": [before, assignee_id]}, from_assignee_id=before)
    return ticket


@transaction.atomic
def change_priority(*, actor, ticket_id: int, priority: str, reason: str = "", version: int | None = None) -> Ticket:
    """Emits ``ticket.priority_changed`` (+ from_priority, reason)."""
    ticket = _locked(actor, ticket_id)
    if version is not None:
        check_version(ticket, version)
    priority = _check_priority(priority)
    before = ticket.priority
    if before == priority:
        return ticket
    ticket.priority = priority
    _save(ticket, ["priority"])
    _record(
        "ticket.priority_changed",
        ticket,
        actor,
        changes={"priority": [before, priority]},
        from_priority=before,
        reason=str(reason or "")[:200],
    )
    return ticket


@transaction.atomic
def update_ticket(*, actor, ticket_id: int, version: int | None, data: dict) -> Ticket:
    """Edit subject, category, queue, priority and notify_requester at once, with optimistic locking
    (``version`` required). Emits ``ticket.updated`` (and ``ticket.priority_changed`` for a new priority)."""
    ticket = _locked(actor, ticket_id)
    check_version(ticket, version)
    before = {
        "subject": ticket.subject,
        "category": ticket.category.key,
        "queue_id": ticket.queue_id,
        "notify_requester": ticket.notify_requester,
    }
    fields = []
    if "subject" in data:
        ticket.subject = _text(data["subject"], SUBJECT_LIMIT, "subject", required=True)
        fields.append("subject")
    if "category" in data and data["category"] is not None:
        ticket.category = _category(data["category"])
        fields.append("category")
    if "queue_id" in data and data["queue_id"] is not None:
        queue = Queue.objects.filter(pk=data["queue_id"], active=True).first()
        if queue is None:
            raise TicketInvalid(_("Unknown queue."), queue_id=[_("Choose an active queue.")])
        ticket.queue = queue
        fields.append("queue")
    if "notify_requester" in data and data["notify_requester"] is not None:
        ticket.notify_requester = bool(data["notify_requester"])
        fields.append("notify_requester")
    new_priority = data.get("priority")
    if new_priority is not None:
        _check_priority(new_priority)
    after = {
        "subject": ticket.subject,
        "category": ticket.category.key,
        "queue_id": ticket.queue_id,
        "notify_requester": ticket.notify_requester,
    }
    changes = events.diff(before, after)
    if changes:
        _save(ticket, fields)
        _record("ticket.updated", ticket, actor, changes=changes)
    if new_priority is not None and new_priority != ticket.priority:
        from_priority = ticket.priority
        ticket.priority = new_priority
        _save(ticket, ["priority"])
        _record(
            "ticket.priority_changed",
            ticket,
            actor,
            changes={"priority": [from_priority, new_priority]},
            from_priority=from_priority,
            reason="",
        )
    return ticket


# --------------------------------------------------------------------------------------------------- merge


@transaction.atomic
def merge(*, actor, source_id: int, target_id: int) -> Ticket:
    """Merge a duplicate: the source's messages move to the target, the source is closed with ``merged_into``.
    Both tickets must be visible to the actor and belong to the same customer. Emits ``ticket.merged`` on both."""
    if source_id == target_id:
        raise TicketInvalid(_("A ticket cannot be merged into itself."), target_id=[_("Choose another ticket.")])
    first, second = sorted([source_id, target_id])  # lock in id order: two opposite merges cannot deadlock
    locked = {first: _locked(actor, first), second: _locked(actor, second)}
    source, target = locked[source_id], locked[target_id]
    if source.status == Status.CLOSED:
        raise TicketClosed(_("The ticket to merge is already closed."))
    if target.status == Status.CLOSED:
        raise TicketClosed(_("The target ticket is closed."))
    if source.customer_id != target.customer_id:
        message = _("Only tickets of the same customer can be merged.")
        raise TicketInvalid(message, target_id=[message])
    moved = TicketMessage.objects.filter(ticket=source).update(ticket=target)
    note = _("Merged from %(number)s: %(subject)s\n\n%(description)s") % {
        "number": source.number,
        "subject": source.subject,
        "description": source.description,
    }
    TicketMessage.objects.create(
        ticket=target, kind=Kind.INTERNAL_NOTE, author=actor if _is_user(actor) else None, body=note[:BODY_LIMIT]
    )
    source.merged_into = target
    _save(source, ["merged_into"])
    _move(source, Status.CLOSED, actor, reason="merged")
    _save(target, [])
    _record(
        "ticket.merged",
        source,
        actor,
        changes={"merged_into": [None, target.number]},
        target_id=target.pk,
        source_id=source.pk,
        messages_moved=moved,
    )
    _record(
        "ticket.merged",
        target,
        actor,
        audit_action="update",
        changes={"merged_from": [None, source.number]},
        target_id=target.pk,
        source_id=source.pk,
        messages_moved=moved,
    )
    return target


# ----------------------------------------------------------------------------------------------------- jobs


def close_resolved(*, now=None, days: int | None = None) -> int:
    """Close tickets resolved more than ``days`` (setting GUANXI_TICKET_AUTO_CLOSE_DAYS, default 7) ago.
    One transaction per ticket, so a long run holds no lock for long. Returns the number closed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=auto_close_days() if days is None else days)
    ids = list(
        Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff).values_list("pk", flat=True)[:10_000]
    )
    closed = 0
    for ticket_id in ids:
        with transaction.atomic():
            ticket = _locked(None, ticket_id)
            if ticket.status != Status.RESOLVED:
                continue
            _move(ticket, Status.CLOSED, None, reason="auto_close")
            closed += 1
    return closed

"""The service desk: ticket categories, queues (per team, with an assignment strategy), tickets, their
conversation (public replies, internal notes, customer replies, attachments) and the append-only status history
that the quality app mines as an event log.

The SLA columns of ``Ticket`` (``first_response_due_at``, ``resolution_due_at``, ``sla_breached``) belong to the sla
app, which writes them with queryset ``.update``; nothing here writes them.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel

PRIORITY_ORDER = ["low", "normal", "high", "urgent"]


def _localized(name: str, name_zh_hans: str) -> str:
    if name_zh_hans and (get_language() or "").lower().startswith("zh"):
        return name_zh_hans
    return name


class TicketCategory(models.Model):
    """What a ticket is about (complaint, question ...). Admins edit the list; ``key`` is stable."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _localized(self.name, self.name_zh_hans)


class Queue(models.Model):
    """Where a team's tickets wait; ``assignment`` says how new tickets get an agent."""

    class Assignment(models.TextChoices):
        MANUAL = "manual", _("Manual")
        ROUND_ROBIN = "round_robin", _("Round-robin")
        LEAST_LOADED = "least_loaded", _("Least loaded")

    name = models.CharField(_("name"), max_length=120, unique=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="queues", verbose_name=_("team")
    )
    assignment = models.CharField(_("assignment"), max_length=16, choices=Assignment.choices, default=Assignment.MANUAL)
    active = models.BooleanField(_("active"), default=True)
    # Round-robin cursor: the user id that got the last ticket of this queue.
    last_assignee_id = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _localized(self.name, self.name_zh_hans)


class Ticket(VersionedModel):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WEB_FORM = "web_form", _("Web form")
        CHAT = "chat", _("Chat")
        WECHAT = "wechat", _("WeChat")
        IN_PERSON = "in_person", _("In person")

    class Priority(models.TextChoices):
        URGENT = "urgent", _("Urgent")
        HIGH = "high", _("High")
        NORMAL = "normal", _("Normal")
        LOW = "low", _("Low")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending (waiting on customer)")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer")
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB_FORM)
    category = models.ForeignKey(
        TicketCategory, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("category")
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    # 0 (low) .. 3 (urgent): sorts by priority without a CASE expression.
    priority_rank = models.PositiveSmallIntegerField(default=1, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("queue"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    requester_name = models.CharField(_("requester name"), max_length=120, blank=True)
    requester_email = models.CharField(_("requester e-mail"), max_length=254, blank=True)
    requester_phone = models.CharField(_("requester phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("times reopened"), default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged", verbose_name=_("merged into")
    )
    notify_requester = models.BooleanField(_("e-mail the requester on replies"), default=False)
    # Only the SHA-256 of the requester's status-page token; the token itself is shown once.
    token_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Written by the sla app only.
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, db_index=True)
    sla_breached = models.BooleanField(_("SLA breached"), default=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["queue", "status", "-created_at"], name="ticket_queue_status_created"),
            models.Index(fields=["assignee", "status", "-created_at"], name="ticket_assignee_status_created"),
            models.Index(fields=["customer", "status"], name="ticket_customer_status"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_id"),
            models.Index(fields=["status", "resolved_at"], name="ticket_status_resolved"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.OPEN, self.Status.PENDING)

    def save(self, *args, **kwargs) -> None:
        self.priority_rank = PRIORITY_ORDER.index(self.priority) if self.priority in PRIORITY_ORDER else 1
        super().save(*args, **kwargs)


OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class TicketMessage(models.Model):
    class Kind(models.TextChoices):
        PUBLIC_REPLY = "public_reply", _("Public reply")
        INTERNAL_NOTE = "internal_note", _("Internal note")
        CUSTOMER_REPLY = "customer_reply", _("Customer reply")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_message_ticket_at")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"

    @property
    def is_public(self) -> bool:
        return self.kind != self.Kind.INTERNAL_NOTE


def attachment_path(instance: "TicketAttachment", filename: str) -> str:
    """tickets/<yyyy>/<mm>/<random>: the stored name never comes from the uploader."""
    now = timezone.now()
    return f"tickets/{now:%Y}/{now:%m}/{secrets.token_hex(16)}"


class TicketAttachment(models.Model):
    message = models.ForeignKey(
        TicketMessage, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100, default="application/octet-stream")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket attachment")
        verbose_name_plural = _("ticket attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class TicketStatusChange(models.Model):
    """One row per status change, the creation included (from "" to "new"); never updated or deleted."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("ticket")
    )
    from_status = models.CharField(_("from"), max_length=10, blank=True)
    to_status = models.CharField(_("to"), max_length=10)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.CharField(max_length=10)
    category = models.ForeignKey(TicketCategory, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status changes")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["ticket", "at"], name="ticket_change_ticket_at"),
            models.Index(fields=["at"], name="ticket_change_at"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status or '-'} -> {self.to_status}"

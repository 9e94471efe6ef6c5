"""Interactions: every contact with a customer over any channel (calls, e-mails, WeChat, visits, internal notes),
the colleagues a note @mentions, and the files attached to them."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel


class Interaction(VersionedModel):
    """One contact with a customer, or an internal note about them. Editable by its author (optimistic locking)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone call")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        SOCIAL = "social", _("Social media")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Field visit")
        CHAT = "chat", _("Live chat")
        NOTE = "note", _("Note")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        INTERNAL = "internal", _("Internal")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="interactions", verbose_name=_("customer")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        verbose_name=_("author"),
    )
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in_interactions", verbose_name=_("mentions")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"]),
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["author", "occurred_at"]),
        ]

    def __str__(self) -> str:
        # No subject text: this string is the audit entries' label, and what was said is personal data.
        return f"{self.channel} #{self.pk} ({self.customer_id})"

    @property
    def duration_minutes(self) -> int | None:
        """The duration rounded up to whole minutes, for display."""
        return None if self.duration_seconds is None else -(-self.duration_seconds // 60)


def attachment_path(instance: "Attachment", filename: str) -> str:
    """attachments/<yyyy>/<mm>/<random>: the stored name never comes from the uploader (the original name is
    kept in ``Attachment.name`` and only used in Content-Disposition)."""
    now = timezone.now()
    return f"attachments/{now:%Y}/{now:%m}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("interaction")
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100, default="application/octet-stream")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

"""Outgoing webhooks: the endpoints admins register, one delivery per message and endpoint (or ad-hoc URL), and
every HTTP attempt of a delivery (the delivery log). See docs/webhooks.md."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel


class WebhookEndpoint(VersionedModel):
    """A receiver of domain events. ``event_types`` holds exact types ("order.placed"), prefixes ("customer.*")
    or "*" (everything). The secret signs every message (Standard Webhooks); it is stored as given because
    signing needs it. After a rotation the previous secret also signs until ``previous_secret_expires_at``."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("signing secret"), max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    active = models.BooleanField(_("active"), default=True)
    allow_private = models.BooleanField(
        _("allow private addresses"),
        default=False,
        help_text=_("Let this endpoint reach loopback and private-network addresses (only for trusted receivers)"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(models.Model):
    """One message to one receiver, tried until it succeeds or the retry schedule runs out.

    ``webhook-id`` (``message_id``) and the body stay the same on every attempt, so receivers can deduplicate.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RETRYING = "retrying", _("Retrying")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    url = models.URLField(_("URL"), max_length=500)
    event_type = models.CharField(_("event type"), max_length=100)
    event_id = models.BigIntegerField(_("event"), null=True, blank=True)
    message_id = models.CharField(_("message id"), max_length=64, db_index=True)
    payload = models.JSONField(_("payload"), default=dict)
    # Ad-hoc deliveries (an automation rule's URL) carry their own secret; endpoint deliveries use the endpoint's.
    secret = models.CharField(max_length=100, blank=True)
    allow_private = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    response_excerpt = models.TextField(_("response"), blank=True)
    redelivery_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="integ_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="integ_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.url}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as sent and as answered (or why nothing was sent)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"))
    request_headers = models.JSONField(_("request headers"), default=dict)
    request_body = models.TextField(_("request body"), blank=True)
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.TextField(_("response"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="integ_attempt_unique")]

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number}"

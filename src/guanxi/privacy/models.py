"""Consent records per customer and channel, and the proof of every erasure."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import AppendOnlyModel


class Channel(models.TextChoices):
    EMAIL_MARKETING = "email_marketing", _("Marketing e-mail")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    PHONE = "phone", _("Phone calls")
    # Satisfaction surveys are service feedback, not marketing: a customer may refuse marketing e-mail and still
    # want to be asked about their ticket, or the reverse (guanxi.surveys uses this channel).
    SURVEYS = "surveys", _("Surveys")


class Consent(AppendOnlyModel):
    """One statement of a customer's consent for one channel. Never changed: the latest per channel is the
    current state, the older ones are its history. Only an erasure deletes them (with the customer's data)."""

    class Status(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Source(models.TextChoices):
        FORM = "form", _("Web or paper form")
        IMPORT = "import", _("Import")
        API = "api", _("API")
        VERBAL = "verbal", _("Verbal (phone or in person)")
        EMAIL = "email", _("E-mail from the customer")
        WECHAT = "wechat", _("WeChat message")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="consents", verbose_name=_("customer")
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    evidence = models.TextField(_("evidence"), blank=True, help_text=_("What the customer said or signed, where"))
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["customer", "channel", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}: {self.status}"


class ErasureLog(AppendOnlyModel):
    """Proof that a customer's personal data was erased: who, when, why, what was touched, and the identifiers
    in masked form (z***@e***.com, +86 138****5678), so a later request can be matched without keeping them."""

    customer_id = models.BigIntegerField(_("customer id"), db_index=True)
    masked_identifiers = models.JSONField(_("masked identifiers"), default=list, blank=True)
    reason = models.TextField(_("reason"))
    counts = models.JSONField(_("records touched"), default=dict, blank=True)
    erased_at = models.DateTimeField(_("erased at"), db_index=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("erased by"),
    )
    erased_by_label = models.CharField(_("erased by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("erasure log")
        verbose_name_plural = _("erasure logs")
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return f"customer #{self.customer_id} erased {self.erased_at:%Y-%m-%d}"

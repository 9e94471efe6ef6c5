"""Automation: rules (a trigger, a condition in the rule language, a list of actions), the log of every time a
rule was evaluated for a customer, and the e-mail templates the send_email action uses."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel

SCHEDULE_DAILY = "schedule.daily"


class Rule(VersionedModel):
    """When ``trigger`` happens to a customer matching ``condition``, run ``actions`` (in order).

    ``actions`` is a list of ``{"type": <registered action>, ...its parameters}``; ``playbook`` is the key of a
    default playbook shipped by a data migration (empty for rules written by users).
    """

    name = models.CharField(_("name"), max_length=200)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=64, db_index=True)
    condition = models.TextField(_("condition"), blank=True, help_text=_("Empty: every customer"))
    actions = models.JSONField(_("actions"), default=list)
    active = models.BooleanField(_("active"), default=True)
    playbook = models.CharField(_("playbook"), max_length=64, blank=True)
    position = models.PositiveIntegerField(_("position"), default=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook"], condition=~models.Q(playbook=""), name="automation_unique_playbook"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.name_zh_hans and (get_language() or "").lower().startswith("zh"):
            return self.name_zh_hans
        return self.name


class RuleRun(models.Model):
    """One evaluation of a rule for one customer (or, for a daily rule, one chunk of customers)."""

    class Status(models.TextChoices):
        MATCHED = "matched", _("matched: actions ran")
        SKIPPED = "skipped", _("skipped: condition not met")
        LOOP_GUARDED = "loop_guarded", _("stopped by the loop guard")
        FAILED = "failed", _("failed: actions rolled back")
        DRY_RUN = "dry_run", _("dry run")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs", verbose_name=_("rule"))
    event_id = models.BigIntegerField(_("event"), null=True, blank=True)
    event_type = models.CharField(_("event type"), max_length=64, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("customer"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["rule", "at"]),
            models.Index(fields=["rule", "status", "at"]),
            models.Index(fields=["customer", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.customer_id} {self.status}"


class EmailTemplate(VersionedModel):
    """An e-mail the send_email action sends: subject and body in English and Simplified Chinese, rendered with
    Django's template language (``{{ customer.display_name }}``, ``{{ owner.name }}``)."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    body_en = models.TextField(_("body (English)"))
    subject_zh_hans = models.CharField(_("subject (Chinese)"), max_length=200, blank=True)
    body_zh_hans = models.TextField(_("body (Chinese)"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

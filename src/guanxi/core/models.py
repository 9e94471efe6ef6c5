"""The shared kernel's tables: the append-only domain events and the audit trail written beside them."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyModel(models.Model):
    """Rows are written once; updates and deletes are refused at the model layer."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class Event(AppendOnlyModel):
    """A domain event: something that happened, written in the same transaction as the change.

    Automation, webhooks, stage history and the audit trail read from here; nothing polls business tables.
    """

    type = models.CharField(_("type"), max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_type = models.CharField(_("subject type"), max_length=64)
    subject_id = models.BigIntegerField(_("subject id"), null=True)
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["subject_type", "subject_id", "occurred_at"])]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_type}#{self.subject_id}"


class AuditEntry(AppendOnlyModel):
    """Who changed what, from where: one per create/update/delete, beside its event."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")
        RESTORE = "restore", _("restored")
        OTHER = "other", _("other")

    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="audit_entry")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    subject_type = models.CharField(_("subject type"), max_length=64)
    subject_id = models.BigIntegerField(_("subject id"), null=True)
    subject_label = models.CharField(_("subject"), max_length=255, blank=True)
    changes = models.JSONField(_("changes"), default=dict, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["subject_type", "subject_id", "at"])]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.subject_type}#{self.subject_id}"


class ScheduledRun(models.Model):
    """One daily job enqueued for one local day. The unique pair makes two schedulers enqueue it once."""

    name = models.CharField(_("job"), max_length=64)
    day = models.DateField(_("day"))
    enqueued_at = models.DateTimeField(_("enqueued at"), auto_now_add=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        ordering = ["-day", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "day"], name="unique_scheduled_run_per_day")]

    def __str__(self) -> str:
        return f"{self.name} {self.day}"

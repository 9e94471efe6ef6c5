"""Coaching records of the service-quality app. The process analysis itself stores nothing: it reads the tickets'
status history (tickets.TicketStatusChange) and survey responses on demand."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TrainingSession(models.Model):
    """A training given to a support agent, so the coaching view can compare the agent's KPIs before and after."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_sessions", verbose_name=_("agent")
    )
    topic = models.CharField(_("topic"), max_length=200)
    category = models.ForeignKey(
        "tickets.TicketCategory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("ticket category"),
    )
    held_on = models.DateField(_("held on"))
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("trainer"),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["agent", "-held_on"], name="training_agent_held")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.topic} ({self.held_on})"

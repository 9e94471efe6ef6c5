"""The in-app inbox: one row per message to one user (ownership warnings, transfer decisions, later @mentions
and reminders)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    # A dotted, stable key chosen by the sending app ("ownership.release_warning", "engagement.mention" ...).
    kind = models.CharField(_("kind"), max_length=64)
    # The English message, or with ``params`` its template (a msgid): ``text`` translates it when it is shown, in
    # the reader's language, not the sender's.
    message = models.CharField(_("message"), max_length=500)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"

    @property
    def text(self) -> str:
        translated = gettext(self.message)
        if not self.params:
            return translated
        try:
            return translated % self.params
        except (KeyError, TypeError, ValueError):  # a catalogue entry that lost a placeholder: show the English
            return self.message % self.params

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

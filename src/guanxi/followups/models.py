"""Follow-ups (tasks to contact a customer by a date), the cadence policies that generate regular return visits,
each user's calendar feed token, and the reminder e-mails already sent (one per user and day)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel


class CadencePolicy(VersionedModel):
    """When customers of a tier, segment or stage should hear from their owner.

    ``interval``: one open return visit at a time, due ``interval_days`` after the last contact
    (``services.plan_return_visits``). ``sequence``: one task per offset in ``offsets_days`` after an anchor date
    such as the first order (``services.start_cadence``).
    """

    class Kind(models.TextChoices):
        INTERVAL = "interval", _("Every N days after the last contact")
        SEQUENCE = "sequence", _("A sequence of days after a start date")

    class AppliesTo(models.TextChoices):
        TIER = "tier", _("ABC tier")
        SEGMENT = "segment", _("Segment")
        STAGE = "stage", _("Lifecycle stage")
        ALL = "all", _("All customers")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.INTERVAL)
    applies_to = models.CharField(_("applies to"), max_length=10, choices=AppliesTo.choices, default=AppliesTo.ALL)
    match_value = models.CharField(_("value to match"), max_length=50, blank=True)
    interval_days = models.PositiveIntegerField(_("interval in days"), null=True, blank=True)
    offsets_days = models.JSONField(_("offsets in days"), default=list, blank=True)
    channel = models.CharField(_("suggested channel"), max_length=16, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Lower first: a customer matched by several interval policies gets a return visit from the first one only.
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("cadence policy")
        verbose_name_plural = _("cadence policies")
        ordering = ["priority", "key"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_zh_hans and (get_language() or "").lower().startswith("zh"):
            return self.name_zh_hans
        return self.name


class FollowUp(VersionedModel):
    """A task for ``assignee`` to contact ``customer`` by ``due_on``; completed by logging the interaction."""

    class Priority(models.TextChoices):
        NORMAL = "normal", _("Normal")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        CADENCE = "cadence", _("Cadence policy")
        AUTOMATION = "automation", _("Automation rule")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("customer")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("assignee")
    )
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    due_on = models.DateField(_("due on"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.MANUAL)
    policy = models.ForeignKey(
        CadencePolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        verbose_name=_("cadence policy"),
    )
    rule_id = models.PositiveIntegerField(_("automation rule"), null=True, blank=True)
    # Non-empty: at most one open follow-up of the customer with this key (cadences, automation rules).
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("completed by"),
    )
    completion_note = models.TextField(_("completion note"), blank=True)
    interaction = models.ForeignKey(
        "engagement.Interaction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        verbose_name=_("interaction"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Set by the daily job when it emits follow_up.overdue, so that the event goes out once per follow-up.
    overdue_at = models.DateTimeField(_("marked overdue at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"]),
            models.Index(fields=["customer", "status", "due_on"]),
            models.Index(fields=["status", "due_on"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "dedupe_key"],
                condition=Q(status="open") & ~Q(dedupe_key=""),
                name="one_open_follow_up_per_dedupe_key",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CalendarFeed(models.Model):
    """A user's secret calendar feed URL. Only the SHA-256 of the token is stored; the token is shown once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed", verbose_name=_("user")
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)


class ReminderSent(models.Model):
    """The daily reminder e-mail a user got: the unique (user, day) keeps a rerun from sending it twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    follow_ups = models.PositiveIntegerField(_("follow-ups in the e-mail"), default=0)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("follow-up reminder")
        verbose_name_plural = _("follow-up reminders")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_follow_up_reminder_per_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"

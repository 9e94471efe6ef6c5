"""Service levels: business calendars (working hours, time zone, holidays and make-up working days), SLA policies
by priority and customer tier, and one clock per ticket.

The clock counts in business time (``guanxi.sla.hours``). Pausing (a pending ticket waits on the customer) and the
time between resolving and reopening add to ``paused_seconds``; the resolution target is
``started_at + resolution target + paused_seconds`` in business time, so a resume shifts it by the paused time.
"""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.sla.hours import CalendarSpec
from guanxi.tickets.models import Ticket

DEFAULT_HOURS = {day: [["09:00", "12:00"], ["13:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def default_hours() -> dict:
    return {day: [list(pair) for pair in pairs] for day, pairs in DEFAULT_HOURS.items()}


def _localized(name: str, name_zh_hans: str) -> str:
    if name_zh_hans and (get_language() or "").lower().startswith("zh"):
        return name_zh_hans
    return name


class BusinessCalendar(models.Model):
    """Working hours per weekday (several intervals for a lunch break) in a time zone, with holidays."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    hours = models.JSONField(
        _("working hours"),
        default=default_hours,
        help_text=_('Working hours per weekday, e.g. {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]}'),
    )
    # A make-up working day (调休) keeps the hours of this weekday.
    makeup_weekday = models.PositiveSmallIntegerField(_("make-up days work like"), default=0)
    is_default = models.BooleanField(_("default calendar"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_calendar"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def spec(self) -> CalendarSpec:
        """The calendar as ``hours.CalendarSpec`` (one query for the holidays)."""
        holidays, workdays = set(), set()
        for day, kind in self.holidays.values_list("date", "kind"):
            (workdays if kind == Holiday.Kind.WORKDAY else holidays).add(day)
        return CalendarSpec.build(self.time_zone, self.hours, holidays, workdays, self.makeup_weekday)


class Holiday(models.Model):
    """A day off on a working weekday, or (kind workday) a make-up working day on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up working day")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.HOLIDAY)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="one_holiday_row_per_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.display_name}"

    @property
    def display_name(self) -> str:
        return _localized(self.name, self.name_zh_hans)


class SLAPolicy(models.Model):
    """Targets for tickets of one priority, for customers of one ABC tier or (tier "") any tier."""

    class Tier(models.TextChoices):
        ANY = "", _("Any tier")
        A = "A", _("Tier A")
        B = "B", _("Tier B")
        C = "C", _("Tier C")

    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Ticket.Priority.choices)
    tier = models.CharField(_("customer tier"), max_length=1, choices=Tier.choices, default="", blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        verbose_name=_("calendar"),
        help_text=_("Empty: the default calendar."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "tier"], condition=models.Q(active=True), name="one_active_policy_per_target"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _localized(self.name, self.name_zh_hans)


class TicketClock(models.Model):
    """A ticket's SLA clock: its targets, pauses and breaches. Written by the sla services only."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla_clock")
    policy = models.ForeignKey(SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="clocks")
    started_at = models.DateTimeField(_("started at"))
    first_response_minutes = models.PositiveIntegerField(default=0)
    resolution_minutes = models.PositiveIntegerField(default=0)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, db_index=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("paused business seconds"), default=0)
    first_response_breached_at = models.DateTimeField(_("first response breached at"), null=True, blank=True)
    resolution_breached_at = models.DateTimeField(_("resolution breached at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket SLA clock")
        verbose_name_plural = _("ticket SLA clocks")

    def __str__(self) -> str:
        return f"{self.ticket_id}"

    @property
    def breached(self) -> bool:
        return bool(self.first_response_breached_at or self.resolution_breached_at)

    @property
    def running(self) -> bool:
        return self.paused_at is None and self.stopped_at is None

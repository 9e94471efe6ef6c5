"""The SLA pages: tickets about to breach or breached (in the caller's ticket scope) and, for admins and
managers, the policies and business calendars. Thin: parse, call one service or selector, render."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core import access
from guanxi.core.errors import GuanxiError
from guanxi.sla import selectors, services
from guanxi.sla.errors import CalendarInvalid
from guanxi.sla.hours import WEEKDAYS
from guanxi.sla.models import Holiday, SLAPolicy

WEEKDAY_LABELS = {
    "mon": gettext_lazy("Monday"),
    "tue": gettext_lazy("Tuesday"),
    "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"),
    "fri": gettext_lazy("Friday"),
    "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}


def _editor(user) -> bool:
    return access.role_of(user) in services.EDITOR_ROLES


@login_required
def overview(request):
    now = timezone.now()
    soon = list(selectors.breaching_soon(request.user, timedelta(minutes=30), now=now)[: selectors.LIST_LIMIT])
    shown = {t.pk for t in soon}
    later = [
        t
        for t in selectors.breaching_soon(request.user, timedelta(hours=2), now=now)[: selectors.LIST_LIMIT]
        if t.pk not in shown
    ]
    breached = list(selectors.overdue(request.user, now=now)[: selectors.LIST_LIMIT])
    context = {
        "sections": [
            ("soon", _("Breaching within 30 minutes"), soon),
            ("later", _("Breaching within 2 hours"), later),
            ("breached", _("Breached or overdue"), breached),
        ],
        "can_edit": _editor(request.user),
        "nav_section": "sla",
    }
    return render(request, "sla/overview.html", context)


def _hours_text(pairs) -> str:
    return ", ".join(f"{start}-{end}" for start, end in pairs or [])


def _parse_hours_text(text: str) -> list[list[str]]:
    pairs = []
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(part)
        pairs.append([start.strip(), end.strip()])
    return pairs


@login_required
def settings_page(request):
    if not _editor(request.user):
        raise Http404
    calendars = list(selectors.calendars())
    year = timezone.localdate().year
    for calendar in calendars:
        calendar.weekday_rows = [(key, WEEKDAY_LABELS[key], _hours_text(calendar.hours.get(key))) for key in WEEKDAYS]
        calendar.holiday_rows = [h for h in calendar.holidays.all() if h.date.year >= year - 1]
    context = {
        "policies": selectors.policies(),
        "calendars": calendars,
        "priorities": SLAPolicy._meta.get_field("priority").choices,
        "tiers": SLAPolicy.Tier.choices,
        "kinds": Holiday.Kind.choices,
        "nav_section": "sla",
    }
    return render(request, "sla/settings.html", context)


def _done(request, ok_message: str, action) -> None:
    try:
        action()
    except GuanxiError as exc:
        details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in (exc.details or {}).items())
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, ok_message)


@login_required
@require_POST
def save_policy(request, policy_id: int | None = None):
    data = {
        "name": request.POST.get("name", ""),
        "name_zh_hans": request.POST.get("name_zh_hans", ""),
        "priority": request.POST.get("priority", ""),
        "tier": request.POST.get("tier", ""),
        "first_response_minutes": request.POST.get("first_response_minutes"),
        "resolution_minutes": request.POST.get("resolution_minutes"),
        "active": request.POST.get("active") == "on",
    }
    _done(
        request,
        _("Policy saved."),
        lambda: services.save_policy(actor=request.user, data=data, policy_id=policy_id),
    )
    return redirect("sla:settings")


@login_required
@require_POST
def save_hours(request, calendar_id: int):
    def action():
        hours = {}
        for key in WEEKDAYS:
            try:
                pairs = _parse_hours_text(request.POST.get(key, ""))
            except ValueError:
                raise CalendarInvalid(
                    _("Write hours like 09:00-12:00, 13:00-18:00."), **{key: [request.POST.get(key, "")]}
                ) from None
            if pairs:
                hours[key] = pairs
        data = {"hours": hours, "time_zone": request.POST.get("time_zone", "").strip() or None}
        services.update_calendar(actor=request.user, calendar_id=calendar_id, data=data)

    _done(request, _("Working hours saved."), action)
    return redirect("sla:settings")


@login_required
@require_POST
def add_holiday(request, calendar_id: int):
    def action():
        try:
            day = date.fromisoformat(request.POST.get("date", ""))
        except ValueError:
            raise CalendarInvalid(_("Choose a date."), date=[_("Choose a date.")]) from None
        services.add_holiday(
            actor=request.user,
            calendar_id=calendar_id,
            day=day,
            name=request.POST.get("name", ""),
            name_zh_hans=request.POST.get("name_zh_hans", ""),
            kind=request.POST.get("kind", "holiday"),
        )

    _done(request, _("Holiday added."), action)
    return redirect("sla:settings")


@login_required
@require_POST
def remove_holiday(request, calendar_id: int, holiday_id: int):
    _done(
        request,
        _("Holiday removed."),
        lambda: services.remove_holiday(actor=request.user, calendar_id=calendar_id, holiday_id=holiday_id),
    )
    return redirect("sla:settings")

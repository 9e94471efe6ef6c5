"""Service-quality pages: the process analysis (/service-quality/), scorecards with CSV export
(/service-quality/scorecards/) and the coaching view with training sessions (/service-quality/coaching/)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.accounts.models import User
from guanxi.core import access
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import add_field_errors
from guanxi.core.tabular import iter_csv
from guanxi.quality import report, selectors, services
from guanxi.quality.forms import PeriodForm, TrainingForm


def _period(request):
    form = PeriodForm(request.GET or None)
    since = until = None
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    since, until = selectors.checked_period(since, until)
    return since, until


@login_required
def overview(request):
    """Process map, bottlenecks, time in status, waiting vs working, throughput and queue ageing."""
    selectors.require_quality(request.user)
    since, until = _period(request)
    result = selectors.analysis(request.user, since, until)
    data = report.summary(result, selectors.category_labels())
    figures = {name: json.dumps(figure, default=str) for name, figure in report.figures(data).items()}
    context = {"data": data, "figures": figures, "since": since, "until": until}
    return render(request, "quality/overview.html", context)


SCORE_HEADER = [
    ("name", "Name"),
    ("handled", "Tickets"),
    ("resolved", "Resolved"),
    ("first_response_hours", "First response (median h)"),
    ("resolution_hours", "Resolution (median h)"),
    ("sla_attainment", "SLA attainment"),
    ("reopen_rate", "Reopen rate"),
    ("csat", "CSAT"),
    ("csat_answers", "CSAT answers"),
]


def _score_header() -> list[str]:
    labels = {
        "name": _("Name"),
        "handled": _("Tickets"),
        "resolved": _("Resolved"),
        "first_response_hours": _("First response (median h)"),
        "resolution_hours": _("Resolution (median h)"),
        "sla_attainment": _("SLA attainment"),
        "reopen_rate": _("Reopen rate"),
        "csat": "CSAT",
        "csat_answers": _("CSAT answers"),
    }
    return [labels[key] for key, _label in SCORE_HEADER]


@login_required
def scorecards(request):
    """Agent and team scorecards for a period; ?format=csv downloads the table shown."""
    selectors.require_quality(request.user)
    since, until = _period(request)
    by = "team" if request.GET.get("by") == "team" else "agent"
    rows = selectors.scorecards(request.user, since, until, by=by)
    if request.GET.get("format") == "csv":
        header = _score_header() + ([_("Team")] if by == "agent" else [])
        lines = ([r[key] for key, _label in SCORE_HEADER] + ([r.get("team", "")] if by == "agent" else [])
                 for r in rows)  # fmt: skip
        response = StreamingHttpResponse(iter_csv(header, lines), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="scorecards-{by}-{since}-{until}.csv"'
        return response
    chart = {
        "data": [
            {"type": "bar", "name": _("Resolution (median h)"), "x": [r["name"] for r in rows],
             "y": [r["resolution_hours"] for r in rows]},
            {"type": "bar", "name": "CSAT", "x": [r["name"] for r in rows], "y": [r["csat"] for r in rows],
             "yaxis": "y2"},
        ],
        "layout": {"barmode": "group", "yaxis": {"title": _("hours")},
                   "yaxis2": {"title": "CSAT", "overlaying": "y", "side": "right", "range": [0, 5]}},
    }  # fmt: skip
    context = {"rows": rows, "by": by, "since": since, "until": until, "figure": json.dumps(chart, default=str)}
    return render(request, "quality/scorecards.html", context)


def _training_form(user, data=None):
    people = list(selectors.agents(user).order_by("username"))
    trainers = User.objects.filter(is_active=True, role__in=(User.Role.MANAGER, User.Role.ADMIN, User.Role.SUPPORT))
    return TrainingForm(data, agents=people, trainers=trainers.order_by("username"))


@login_required
@require_http_methods(["GET"])
def coaching(request, form=None):
    """Per agent: categories where their CSAT or resolution time lags their team, their training sessions, and
    the KPIs in the 30 days before and after each session."""
    user = request.user
    selectors.require_quality(user)
    since, until = _period(request)
    needs = selectors.training_needs(user, since, until)
    people = {a.pk: a for a in selectors.agents(user).select_related("team").order_by("username")}
    sessions = list(selectors.training_sessions(user)[:100])
    kpis = selectors.kpis_around(sessions)
    by_agent: dict[int, list] = {}
    for session in sessions:
        by_agent.setdefault(session.agent_id, []).append({"session": session, **kpis[session.pk]})
    agents = [
        {"agent": agent, "needs": needs.get(pk, []), "sessions": by_agent.get(pk, [])}
        for pk, agent in people.items()
        if needs.get(pk) or by_agent.get(pk)
    ]
    can_record = access.role_of(user) in selectors.COACH_ROLES
    context = {
        "agents": agents,
        "since": since,
        "until": until,
        "can_record": can_record,
        "form": form or (_training_form(user) if can_record else None),
    }
    return render(request, "quality/coaching.html", context, status=400 if form is not None else 200)


@login_required
@require_POST
def record_training(request):
    user = request.user
    form = _training_form(user, request.POST)
    if form.is_valid():
        try:
            services.record_training_session(actor=user, data=form.cleaned_data)
        except GuanxiError as exc:
            if not add_field_errors(form, exc):
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Training session recorded."))
            return redirect("quality:coaching")
    request.method = "GET"
    return coaching(request, form=form)

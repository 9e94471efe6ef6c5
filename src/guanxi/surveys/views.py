"""The results page (NPS/CSAT/CES by month, breakdowns, comments, CSV) and the survey editor. Thin."""

import json
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guanxi.core import access
from guanxi.core.errors import GuanxiError, NotFound, PermissionDenied
from guanxi.core.tabular import iter_csv
from guanxi.surveys import selectors, services
from guanxi.surveys.models import Survey


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(request) -> dict:
    try:
        survey_id = int(request.GET.get("survey") or 0) or None
    except ValueError:
        survey_id = None
    return {"survey_id": survey_id, "since": _date(request.GET.get("since")), "until": _date(request.GET.get("until"))}


@login_required
def results(request):
    if not selectors.can_see_results(request.user):
        raise PermissionDenied(_("You cannot see survey results."))
    filters = _filters(request)
    responses = selectors.filtered_responses(request.user, **filters)
    months = selectors.monthly(responses)
    context = {
        "filters": filters,
        "surveys": selectors.surveys(),
        "summary": selectors.summary(responses),
        "months": months,
        "figure": selectors.month_figure(months) if months else "",
        "breakdowns": [(by, label, selectors.breakdown(responses, by)) for by, label in (
            ("segment", _("Segment")), ("tier", _("Tier")), ("stage", _("Lifecycle stage")), ("team", _("Team")),
            ("agent", _("Agent")))],
        "comments": selectors.comments(responses),
        "personal": access.can_see_personal_data(request.user),
        "can_manage": services.can_manage(request.user),
        "query": request.GET.urlencode(),
        "nav_section": "surveys",
    }  # fmt: skip
    return render(request, "surveys/results.html", context)


@login_required
def export_csv(request):
    """The responses behind the page as CSV (customer names for roles that may see personal data)."""
    if not selectors.can_see_results(request.user):
        raise PermissionDenied(_("You cannot see survey results."))
    personal = access.can_see_personal_data(request.user)
    responses = (
        selectors.filtered_responses(request.user, **_filters(request))
        .select_related("survey", "customer", "agent", "team")
        .order_by("answered_at", "pk")
    )
    header = [_("Answered"), _("Survey"), _("Customer"), _("Ticket"), _("Agent"), _("Team"), "NPS", "CSAT", "CES",
              _("Sentiment"), _("Keywords"), _("Segment"), _("Tier"), _("Lifecycle stage"), _("Comment")]  # fmt: skip
    rows = (
        [r.answered_at, r.survey.key, r.customer.display_name if personal else "", r.ticket_id or "",
         r.agent.get_username() if r.agent_id else "", r.team.name if r.team_id else "", r.nps, r.csat, r.ces,
         r.sentiment, " ".join(r.keywords or []), r.segment, r.tier, r.stage, r.comment]
        for r in responses.iterator(chunk_size=2000)
    )  # fmt: skip
    response = StreamingHttpResponse(iter_csv(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="survey-responses.csv"'
    return response


def _survey_data(post) -> tuple[dict, list[str]]:
    data = {name: post.get(name, "") for name in ("key", "name", "name_zh_hans", "intro", "intro_zh_hans", "kind",
                                                   "audience")}  # fmt: skip
    data["active"] = post.get("active") == "on"
    problems = []
    for name in ("interval_days", "expiry_days"):
        try:
            data[name] = int(post.get(name) or 0)
        except ValueError:
            problems.append(name)
    raw = post.get("questions", "").strip()
    if raw:
        try:
            data["questions"] = json.loads(raw)
        except ValueError:
            problems.append("questions")
    return data, problems


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, survey_id: int | None = None):
    """Create or edit a survey: its fields, and its questions as a JSON list (see docs/surveys.md)."""
    if not services.can_manage(request.user):
        raise PermissionDenied(_("Only admins and managers manage surveys."))
    survey = None
    if survey_id is not None:
        try:
            survey = selectors.get_survey(survey_id)
        except NotFound as exc:
            raise Http404(exc.message) from exc
    errors: dict = {}
    if request.method == "POST":
        data, problems = _survey_data(request.POST)
        if problems:
            errors = {name: [_("Not valid.")] for name in problems}
        else:
            try:
                if survey is None:
                    survey = services.create_survey(actor=request.user, data=data)
                else:
                    data.pop("key", None)
                    if survey.responses.exists():
                        data.pop("questions", None)
                    services.update_survey(
                        actor=request.user,
                        survey_id=survey.pk,
                        data=data,
                        version=int(request.POST.get("version") or 0),
                    )
            except GuanxiError as exc:
                errors = exc.details or {"__all__": [exc.message]}
            else:
                messages.success(request, _("Survey saved."))
                return redirect("surveys:edit", survey_id=survey.pk)
    questions = json.dumps(
        [{f: getattr(q, f) for f in services.QUESTION_FIELDS} for q in survey.questions.all()] if survey else [],
        ensure_ascii=False,
        indent=1,
    )
    context = {
        "survey": survey,
        "kinds": Survey.Kind.choices,
        "questions_json": request.POST.get("questions", questions) if errors else questions,
        "errors": errors,
        "posted": request.POST if errors else None,
        "nav_section": "surveys",
    }
    return render(request, "surveys/edit.html", context, status=422 if errors else 200)

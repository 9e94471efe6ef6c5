"""/api/v1/surveys: surveys and their questions (admins and managers write), invitations by link, responses and
results (scoped: support agents their own work, reps their customers, managers their teams)."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from guanxi.core import access
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.surveys import selectors, services
from guanxi.surveys.errors import SurveyDenied
from guanxi.surveys.models import Survey
from guanxi.surveys.schemas import (
    InvitationOut,
    InvitationsIn,
    ResponseList,
    ResponseQuery,
    ResultsOut,
    ResultsQuery,
    SurveyIn,
    SurveyOut,
    SurveyPatch,
)

router = Router(tags=["surveys"])
RESPONSE_FIELDS = ("id", "survey_id", "customer_id", "ticket_id", "agent_id", "team_id", "answered_at", "nps", "csat",
                   "ces", "comment", "sentiment", "keywords", "segment", "tier", "stage")  # fmt: skip


def _out(survey: Survey) -> dict:
    return {
        **{f: getattr(survey, f) for f in ("id", "key", "name", "name_zh_hans", "intro", "intro_zh_hans", "kind",
                                           "active", "audience", "interval_days", "expiry_days", "version")},
        "questions": [
            {f: getattr(q, f) for f in ("id", "position", "kind", "text", "text_zh_hans", "required", "choices",
                                        "scale_min", "scale_max")}
            for q in survey.questions.all()
        ],
    }  # fmt: skip


def _ensure_reader(user) -> None:
    if access.role_of(user) is None:
        raise SurveyDenied(_("You cannot see surveys."))


@router.get("", response={200: list[SurveyOut], **ERRORS})
def list_surveys(request: HttpRequest):
    """Every survey with its questions."""
    _ensure_reader(request.auth)
    return [_out(s) for s in selectors.surveys()]


@router.post("", response={201: SurveyOut, **ERRORS})
def create_survey(request: HttpRequest, payload: SurveyIn):
    """Create a survey with its questions (admins and managers). An ``audience`` rule is checked (400
    ``invalid_rule`` with the position)."""
    survey = services.create_survey(actor=request.auth, data=payload.dict())
    return Status(201, _out(selectors.get_survey(survey.pk)))


@router.get("/responses", response={200: ResponseList, **ERRORS})
def list_responses(request: HttpRequest, filters: Query[ResponseQuery]):
    """Responses you may see, newest first; ``detractors=true`` keeps NPS 0-6 and CSAT 1-2."""
    data = filters.dict()
    limit, offset = data.pop("limit"), data.pop("offset")
    responses = selectors.filtered_responses(request.auth, **data).order_by("-answered_at", "-pk")
    page = paginate(responses, limit=limit, offset=offset)
    personal = access.can_see_personal_data(request.auth)
    items = []
    for r in page.items:
        item = {f: getattr(r, f) for f in RESPONSE_FIELDS}
        if not personal:
            item["customer_id"] = None
        items.append(item)
    return {"items": items, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get("/results", response={200: ResultsOut, **ERRORS})
def results(request: HttpRequest, filters: Query[ResultsQuery]):
    """NPS (-100..100), CSAT (% of 4-5) or CES (mean 1-7) over the responses you may see, by month, agent,
    team, segment, tier or lifecycle stage (segment, tier and stage as they were when the customer answered)."""
    responses = selectors.filtered_responses(
        request.auth, survey_id=filters.survey_id, since=filters.since, until=filters.until
    )
    if filters.by == "month":
        rows = [
            {**r, "key": r["month"].isoformat(), "label": r["month"].isoformat()} for r in selectors.monthly(responses)
        ]
    else:
        rows = selectors.breakdown(responses, filters.by)
    overall = selectors.summary(responses)
    return {
        "by": filters.by,
        "metric": filters.metric,
        "overall": overall[filters.metric],
        "rows": [
            {"key": r["key"], "label": str(r["label"]), "value": r[filters.metric],
             "count": r[f"{filters.metric}_count"], "responses": r["responses"]}
            for r in rows
        ],
    }  # fmt: skip


@router.get("/{survey_id}", response={200: SurveyOut, **ERRORS})
def get_survey(request: HttpRequest, survey_id: Id):
    _ensure_reader(request.auth)
    return _out(selectors.get_survey(survey_id))


@router.patch("/{survey_id}", response={200: SurveyOut, **ERRORS})
def patch_survey(request: HttpRequest, survey_id: Id, payload: SurveyPatch):
    """Change a survey (send ``version``; a stale one is 409). Questions can change until the first response."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.update_survey(actor=request.auth, survey_id=survey_id, data=data, version=version)
    return _out(selectors.get_survey(survey_id))


@router.post("/{survey_id}/invitations", response={201: list[InvitationOut], **ERRORS})
def create_invitations(request: HttpRequest, survey_id: Id, payload: InvitationsIn):
    """Invite customers you can see; returns each new invitation's secret link (shown once: only its hash is
    kept). Customers who already have an open invitation to this survey are skipped. Links are e-mailed to
    customers with an e-mail address."""
    pairs = services.invite(actor=request.auth, survey_id=survey_id, customer_ids=payload.customer_ids)
    return Status(
        201,
        [
            {"id": inv.pk, "customer_id": inv.customer_id, "link": services.link_for(token),
             "expires_at": inv.expires_at, "emailed": bool(inv.email)}
            for inv, token in pairs
        ],
    )  # fmt: skip

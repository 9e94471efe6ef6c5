"""Every read of the surveys app, scoped by the access policy.

Who sees which responses: admins and analysts all (analysts without customer names: aggregates and comments);
managers those of the teams they lead or of customers they see; support agents those about their own work
(``agent`` = them); sales reps those of customers they see.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.surveys import scoring
from guanxi.surveys.errors import SurveyNotFound
from guanxi.surveys.models import Invitation, Response, Survey

DIMENSIONS = ("segment", "tier", "stage", "team", "agent")
METRICS = ("nps", "csat", "ces")
AGGREGATES = {
    "responses": Count("pk"),
    "nps_count": Count("nps"),
    "promoters": Count("pk", filter=Q(nps__gte=scoring.PROMOTER_MIN)),
    "detractors": Count("pk", filter=Q(nps__lte=scoring.DETRACTOR_MAX)),
    "csat_count": Count("csat"),
    "satisfied": Count("pk", filter=Q(csat__gte=scoring.CSAT_SATISFIED_MIN)),
    "csat_mean": Avg("csat"),
    "ces_count": Count("ces"),
    "ces_mean": Avg("ces"),
}


def can_see_results(user) -> bool:
    return access.role_of(user) is not None


def sees_all(user) -> bool:
    return access.role_of(user) in (access.ADMIN, access.ANALYST)


def response_q(user) -> Q | None:
    role = access.role_of(user)
    if role in (access.ADMIN, access.ANALYST):
        return None
    if role == access.SUPPORT:
        return Q(agent_id=user.pk)
    if role == access.MANAGER:
        led = list(access._led_team_ids(user).values_list("pk", flat=True))
        return Q(team_id__in=led) | (access.customer_q(user, via="customer") or Q())
    if role == access.SALES:
        return access.customer_q(user, via="customer")
    return access.NOTHING


def visible_responses(user) -> QuerySet:
    responses = Response.objects.filter(customer__deleted_at__isnull=True)
    q = response_q(user)
    return responses if q is None else responses.filter(q)


def surveys() -> QuerySet:
    return Survey.objects.prefetch_related("questions").order_by("name", "pk")


def get_survey(survey_id: int) -> Survey:
    survey = surveys().filter(pk=survey_id).first()
    if survey is None:
        raise SurveyNotFound(_("No such survey."))
    return survey


def _bounds(since: date | None, until: date | None) -> Q:
    q = Q()
    if since:
        q &= Q(answered_at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until:
        q &= Q(answered_at__lt=timezone.make_aware(datetime.combine(until, time.max)))
    return q


def filtered_responses(
    user, *, survey_id: int | None = None, since: date | None = None, until: date | None = None, **filters: Any
) -> QuerySet:
    responses = visible_responses(user).filter(_bounds(since, until))
    if survey_id:
        responses = responses.filter(survey_id=survey_id)
    for name in ("customer_id", "agent_id", "team_id", "ticket_id"):
        if filters.get(name):
            responses = responses.filter(**{name: filters[name]})
    if filters.get("detractors"):
        responses = responses.filter(Q(nps__lte=scoring.DETRACTOR_MAX) | Q(csat__lte=scoring.CSAT_DETRACTOR_MAX))
    return responses


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "responses": row["responses"],
        "nps": scoring.nps_from_counts(row["promoters"], row["detractors"], row["nps_count"]),
        "nps_count": row["nps_count"],
        "csat": 100.0 * row["satisfied"] / row["csat_count"] if row["csat_count"] else None,
        "csat_mean": row["csat_mean"],
        "csat_count": row["csat_count"],
        "ces": row["ces_mean"],
        "ces_count": row["ces_count"],
    }


def summary(responses: QuerySet) -> dict[str, Any]:
    return _figures(responses.order_by().aggregate(**AGGREGATES))


def monthly(responses: QuerySet) -> list[dict[str, Any]]:
    """NPS, CSAT and CES per calendar month (business time zone), oldest first."""
    rows = (
        responses.order_by()
        .annotate(month=TruncMonth("answered_at", tzinfo=timezone.get_current_timezone()))
        .values("month")
        .annotate(**AGGREGATES)
        .order_by("month")
    )
    return [{"month": row["month"].date() if row["month"] else None, **_figures(row)} for row in rows]


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    from django.apps import apps

    if by == "team":
        return dict(apps.get_model("accounts", "Team").objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "agent":
        users = apps.get_model("accounts", "User").objects.filter(pk__in=keys)
        return {u.pk: u.get_full_name() or u.get_username() for u in users}
    if by == "segment":
        from guanxi.segments.models import Segment

        return {k: str(v) for k, v in Segment.choices}
    if by == "stage":
        stages = apps.get_model("lifecycle", "StageDefinition").objects.filter(key__in=keys)
        return {s.key: s.display_name for s in stages}
    return {}


def breakdown(responses: QuerySet, by: str) -> list[dict[str, Any]]:
    """The figures per value of ``by`` (segment, tier, stage, team, agent), most responses first."""
    if by not in DIMENSIONS:
        raise ValueError(by)
    field = {"team": "team_id", "agent": "agent_id"}.get(by, by)
    rows = list(responses.order_by().values(field).annotate(**AGGREGATES).order_by("-responses", field))
    labels = _labels(by, [r[field] for r in rows if r[field] not in (None, "")])
    return [
        {"key": r[field], "label": labels.get(r[field], r[field]) if r[field] not in (None, "") else _("(none)"),
         **_figures(r)}
        for r in rows
    ]  # fmt: skip


def comments(responses: QuerySet, *, limit: int = 50) -> list[Response]:
    return list(
        responses.exclude(comment="")
        .select_related("survey", "customer", "agent")
        .order_by("-answered_at", "-pk")[:limit]
    )


def month_figure(rows: list[dict[str, Any]]) -> str:
    """A Plotly figure (JSON) of NPS, CSAT % and CES by month; CES on its own axis (1-7)."""
    months = [r["month"].isoformat() for r in rows]
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": "NPS", "x": months, "y": [r["nps"] for r in rows]},
        {"type": "scatter", "mode": "lines+markers", "name": "CSAT %", "x": months, "y": [r["csat"] for r in rows]},
        {"type": "scatter", "mode": "lines+markers", "name": "CES", "x": months, "y": [r["ces"] for r in rows],
         "yaxis": "y2"},
    ]  # fmt: skip
    layout = {
        "yaxis": {"title": {"text": "NPS / CSAT %"}, "range": [-100, 100]},
        "yaxis2": {"title": {"text": "CES"}, "overlaying": "y", "side": "right", "range": [1, 7]},
        "legend": {"orientation": "h"},
    }
    return json.dumps({"data": data, "layout": layout})


def csat_by_agent(since: datetime | date | None, until: datetime | date | None) -> dict[int, tuple[float, int]]:
    """For the quality app's scorecards: ``{agent_id: (mean CSAT 1-5, number of CSAT answers)}`` over responses
    answered in [since, until). System read: no user scope (the caller decides who sees the scorecards)."""
    responses = Response.objects.filter(agent_id__isnull=False, csat__isnull=False)
    for bound, lookup in ((since, "answered_at__gte"), (until, "answered_at__lt")):
        if bound is not None:
            if not isinstance(bound, datetime):
                bound = timezone.make_aware(datetime.combine(bound, time.min))
            responses = responses.filter(**{lookup: bound})
    rows = responses.order_by().values("agent_id").annotate(mean=Avg("csat"), n=Count("pk"))
    return {r["agent_id"]: (float(r["mean"]), r["n"]) for r in rows}


def customer_responses(user, customer_id: int, *, limit: int = 20) -> list[Response]:
    return list(
        visible_responses(user)
        .filter(customer_id=customer_id)
        .select_related("survey", "agent")
        .order_by("-answered_at", "-pk")[:limit]
    )


def open_invitations(customer_id: int) -> QuerySet:
    return Invitation.objects.filter(customer_id=customer_id, status=Invitation.Status.OPEN)


@dataclass(frozen=True)
class Results:
    summary: dict[str, Any]
    months: list[dict[str, Any]]
    breakdowns: dict[str, list[dict[str, Any]]]
    comments: list[Response]

"""Reads of the service-quality app: the ticket event log for the process analysis, scorecards per agent and
team, the coaching view and training sessions, always within the caller's scope.

Scope: admins and analysts see every ticket (analysts only as aggregates: no customer appears here); a manager the
tickets of the queues of the teams they lead and the agents of those teams; a support agent only their own tickets
and their own scorecard; sales reps nothing (403).

Times: wall-clock hours (``quality.process``). The SLA app measures business hours; SLA attainment here is the
share of resolved tickets whose resolution target was set and not breached, as the sla app recorded it.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.core import access
from guanxi.core.errors import ValidationFailed
from guanxi.quality import process
from guanxi.quality.errors import AgentNotFound, QualityDenied
from guanxi.quality.models import TrainingSession
from guanxi.tickets.models import Ticket, TicketCategory, TicketStatusChange

QUALITY_ROLES = (access.ADMIN, access.ANALYST, access.MANAGER, access.SUPPORT)
ALL_ROLES = (access.ADMIN, access.ANALYST)
COACH_ROLES = (access.ADMIN, access.MANAGER)
LOG_LIMIT = 2_000_000  # status events read into memory for one page/API call


def require_quality(user) -> str:
    role = access.role_of(user)
    if role not in QUALITY_ROLES:
        raise QualityDenied(_("Service-quality analysis is for managers, support agents, analysts and admins."))
    return role


def _led(user) -> list[int]:
    return list(user.led_teams.values_list("pk", flat=True))


def ticket_q(user) -> Q | None:
    """Tickets whose figures ``user`` may see; None means all."""
    role = require_quality(user)
    if role in ALL_ROLES:
        return None
    if role == access.MANAGER:
        return Q(queue__team_id__in=_led(user))
    return Q(assignee_id=user.pk)


def scoped_tickets(user) -> QuerySet:
    q = ticket_q(user)
    tickets = Ticket.objects.filter(merged_into__isnull=True)
    return tickets if q is None else tickets.filter(q)


def agents(user) -> QuerySet:
    """The agents whose scorecards and coaching ``user`` may see."""
    role = require_quality(user)
    users = User.objects.filter(is_active=True)
    if role in ALL_ROLES:
        return (
            users.filter(role__in=(User.Role.SUPPORT, User.Role.MANAGER, User.Role.ADMIN))
            .filter(Q(role=User.Role.SUPPORT) | Q(assigned_tickets__isnull=False))
            .distinct()
        )
    if role == access.MANAGER:
        return users.filter(team_id__in=_led(user))
    return users.filter(pk=user.pk)


def get_agent(user, agent_id: int) -> User:
    agent = agents(user).filter(pk=agent_id).select_related("team").first()
    if agent is None:
        raise AgentNotFound(_("No agent with id %(id)s.") % {"id": agent_id})
    return agent


def period(since: date | None, until: date | None, *, days: int = 30) -> tuple[date, date]:
    """[since, until] as local dates, defaulting to the last ``days`` days, swapped when reversed."""
    until = until or timezone.localdate()
    since = since or until - timedelta(days=days - 1)
    return (until, since) if since > until else (since, until)


MAX_DAYS = 731


def checked_period(since: date | None, until: date | None) -> tuple[date, date]:
    """``period`` limited to two years, so one request cannot load the whole history."""
    since, until = period(since, until)
    if (until - since).days >= MAX_DAYS:
        raise ValidationFailed(
            _("The period can span at most %(n)s days.") % {"n": MAX_DAYS}, since=[_("Choose a later day.")]
        )
    return since, until


def bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """The instants [start of since, start of the day after until) in the business time zone."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
    return start, end


def category_labels() -> dict[str, str]:
    return {c.key: c.display_name for c in TicketCategory.objects.all()}


def event_log(user, since: date, until: date) -> pd.DataFrame:
    """The status events (creation included) of the tickets that arrived in the period, up to its end:
    case_id, status, at, category (key), team (name), priority, agent (user id or 0)."""
    start, end = bounds(since, until)
    tickets = scoped_tickets(user).filter(created_at__gte=start, created_at__lt=end)
    rows = (
        TicketStatusChange.objects.filter(ticket__in=tickets.values("pk"), at__lt=end)
        .order_by()
        .values_list("ticket_id", "to_status", "at", "category__key", "queue__team__name", "priority", "assignee_id")
    )
    frame = pd.DataFrame.from_records(
        rows[:LOG_LIMIT].iterator(chunk_size=20_000),
        columns=["case_id", "status", "at", "category", "team", "priority", "agent"],
    )
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["team"] = frame["team"].fillna(_("(no team)"))
    frame["agent"] = frame["agent"].fillna(0).astype(int)
    return frame


def analysis(user, since: date, until: date) -> process.ProcessAnalysis:
    """The process analysis of the period, as of its end (or now, for a period that has not ended)."""
    _start, end = bounds(since, until)
    as_of = min(end, timezone.now())
    return process.analyse(event_log(user, since, until), as_of=as_of, tz=settings.TIME_ZONE)


# -- scorecards ---------------------------------------------------------------------------------------------------

SCORE_COLUMNS = [
    "handled",
    "resolved",
    "first_response_hours",
    "resolution_hours",
    "sla_attainment",
    "reopen_rate",
    "csat",
    "csat_answers",
]


def ticket_frame(user, since: date, until: date, *, extra: Q | None = None) -> pd.DataFrame:
    """The tickets that arrived in the period, one row each, with the figures scorecards need."""
    start, end = bounds(since, until)
    tickets = scoped_tickets(user).filter(created_at__gte=start, created_at__lt=end)
    if extra is not None:
        tickets = tickets.filter(extra)
    columns = [
        "pk",
        "assignee_id",
        "queue__team_id",
        "category__key",
        "created_at",
        "first_response_at",
        "resolved_at",
        "reopen_count",
        "sla_breached",
        "resolution_due_at",
    ]
    frame = pd.DataFrame.from_records(tickets.order_by().values_list(*columns).iterator(), columns=columns)
    frame = frame.rename(columns={"pk": "ticket_id", "queue__team_id": "team_id", "category__key": "category"})
    for column in ("created_at", "first_response_at", "resolved_at", "resolution_due_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["first_response_hours"] = (frame["first_response_at"] - frame["created_at"]) / pd.Timedelta(hours=1)
    frame["resolution_hours"] = (frame["resolved_at"] - frame["created_at"]) / pd.Timedelta(hours=1)
    return frame


def _scores(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS[:-2])
    resolved = frame["resolved_at"].notna()
    with_target = resolved & frame["resolution_due_at"].notna()
    work = frame.assign(
        resolved=resolved,
        sla_ok=(with_target & ~frame["sla_breached"].astype(bool)).astype(float).where(with_target),
        reopened=(frame["reopen_count"] > 0).astype(float),
    )
    grouped = work.groupby(key)
    return pd.DataFrame(
        {
            "handled": grouped.size(),
            "resolved": grouped["resolved"].sum(),
            "first_response_hours": grouped["first_response_hours"].median(),
            "resolution_hours": grouped["resolution_hours"].median(),
            "sla_attainment": grouped["sla_ok"].mean(),
            "reopen_rate": grouped["reopened"].mean(),
        }
    )


def _clean(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else round(float(value), 2)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in table.to_dict("records")]


def csat_by_team(since: date, until: date) -> dict[int, tuple[float, int]]:
    from guanxi.surveys.models import Response

    start, end = bounds(since, until)
    rows = (
        Response.objects.filter(team_id__isnull=False, csat__isnull=False, answered_at__gte=start, answered_at__lt=end)
        .order_by()
        .values("team_id")
        .annotate(mean=Avg("csat"), n=Count("pk"))
    )
    return {r["team_id"]: (float(r["mean"]), r["n"]) for r in rows}


def scorecards(user, since: date, until: date, *, by: str = "agent") -> list[dict[str, Any]]:
    """One row per agent (or team): tickets handled (arrived in the period and assigned), resolved, median
    first-response and resolution hours, SLA attainment (0-1), reopen rate (0-1), mean CSAT (1-5) and its number
    of answers (answered in the period)."""
    from guanxi.surveys.selectors import csat_by_agent

    frame = ticket_frame(user, since, until)
    start, end = bounds(since, until)
    if by == "team":
        table = _scores(frame.dropna(subset=["team_id"]).astype({"team_id": int}), "team_id")
        teams = Team.objects.all()
        if (role := access.role_of(user)) not in ALL_ROLES:
            teams = teams.filter(pk__in=_led(user)) if role == access.MANAGER else teams.filter(pk=user.team_id)
        csat = csat_by_team(since, until)
        rows = []
        for team in teams:
            if team.pk not in table.index and team.pk not in csat:
                continue
            scores = table.loc[team.pk].to_dict() if team.pk in table.index else {}
            mean, n = csat.get(team.pk, (None, 0))
            rows.append({"id": team.pk, "name": team.name, **_blank(scores), "csat": mean, "csat_answers": n})
        return [{k: _clean(v) for k, v in r.items()} for r in rows]
    table = _scores(frame.dropna(subset=["assignee_id"]).astype({"assignee_id": int}), "assignee_id")
    csat = csat_by_agent(start, end)
    people = agents(user).select_related("team")
    rows = []
    for agent in people.filter(pk__in=set(table.index) | set(csat)).order_by("username"):
        scores = table.loc[agent.pk].to_dict() if agent.pk in table.index else {}
        mean, n = csat.get(agent.pk, (None, 0))
        rows.append(
            {
                "id": agent.pk,
                "name": str(agent),
                "team": agent.team.name if agent.team_id else "",
                **_blank(scores),
                "csat": mean,
                "csat_answers": n,
            }
        )
    return [{k: _clean(v) for k, v in r.items()} for r in rows]


def _blank(scores: dict[str, Any]) -> dict[str, Any]:
    base = {"handled": 0, "resolved": 0, "first_response_hours": None, "resolution_hours": None}
    merged = {**base, "sla_attainment": None, "reopen_rate": None, **scores}
    return {**merged, "handled": int(merged["handled"]), "resolved": int(merged["resolved"])}


# -- coaching -----------------------------------------------------------------------------------------------------


@dataclass
class TrainingNeed:
    category: str
    label: str
    kind: str  # "resolution" or "csat"
    agent_value: float
    team_value: float
    count: int


def _csat_frame(since: date, until: date) -> pd.DataFrame:
    from guanxi.surveys.models import Response

    start, end = bounds(since, until)
    rows = list(
        Response.objects.filter(agent_id__isnull=False, csat__isnull=False, answered_at__gte=start, answered_at__lt=end)
        .order_by()
        .values_list("agent_id", "team_id", "ticket_id", "csat")
    )
    frame = pd.DataFrame(rows, columns=["agent_id", "team_id", "ticket_id", "csat"])
    ids = [int(t) for t in frame["ticket_id"].dropna().unique()]
    categories = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "category__key")) if ids else {}
    frame["category"] = frame["ticket_id"].map(categories)
    return frame.dropna(subset=["category"])


def training_needs(
    user,
    since: date,
    until: date,
    *,
    threshold: float = 0.25,
    csat_gap: float = 0.5,
    min_count: int = 3,
) -> dict[int, list[TrainingNeed]]:
    """Per agent: the categories where their median resolution time is at least ``threshold`` (25 %) longer than
    the rest of their team's, or their mean CSAT at least ``csat_gap`` points lower, each side with at least
    ``min_count`` tickets / answers. The team is the agent's team; "the rest" excludes the agent."""
    people = {a.pk: a for a in agents(user)}
    labels = category_labels()
    needs: dict[int, list[TrainingNeed]] = {pk: [] for pk in people}
    frame = ticket_frame(user, since, until).dropna(subset=["assignee_id", "resolution_hours"])
    team_of = {pk: a.team_id for pk, a in people.items()}
    # Peers: every ticket of the agent's team members (not only those in the caller's scope would be fairer, but
    # the caller's scope is what they may see).
    member_team = dict(User.objects.filter(team_id__isnull=False).values_list("pk", "team_id"))
    frame["member_team"] = frame["assignee_id"].astype(int).map(member_team)
    csat = _csat_frame(since, until)
    csat["member_team"] = csat["agent_id"].map(member_team)
    for pk, team_id in team_of.items():
        if team_id is None:
            continue
        for source, column, kind in ((frame, "resolution_hours", "resolution"), (csat, "csat", "csat")):
            if source.empty:
                continue
            in_team = source[source["member_team"] == team_id]
            mine = in_team[in_team["assignee_id" if kind == "resolution" else "agent_id"] == pk]
            rest = in_team[in_team["assignee_id" if kind == "resolution" else "agent_id"] != pk]
            for category, values in mine.groupby("category")[column]:
                others = rest.loc[rest["category"] == category, column]
                if len(values) < min_count or len(others) < min_count:
                    continue
                if kind == "resolution":
                    mine_v, team_v = float(values.median()), float(others.median())
                    lags = team_v > 0 and mine_v >= (1 + threshold) * team_v
                else:
                    mine_v, team_v = float(values.mean()), float(others.mean())
                    lags = mine_v <= team_v - csat_gap
                if lags:
                    needs[pk].append(
                        TrainingNeed(category, labels.get(category, category), kind, mine_v, team_v, len(values))
                    )
    return needs


def training_sessions(user, *, agent_id: int | None = None) -> QuerySet:
    sessions = TrainingSession.objects.filter(agent__in=agents(user)).select_related("agent", "trainer", "category")
    if agent_id is not None:
        sessions = sessions.filter(agent_id=agent_id)
    return sessions.order_by("-held_on", "-id")


def _kpis(tickets: pd.DataFrame, answers: pd.DataFrame, agent_id: int, key: str | None, start, end) -> dict:
    """KPIs of one agent in [start, end) from the preloaded rows, in category ``key`` when given."""
    done = tickets[(tickets["agent"] == agent_id) & (tickets["resolved_at"] >= start) & (tickets["resolved_at"] < end)]
    given = answers[(answers["agent"] == agent_id) & (answers["answered_at"] >= start) & (answers["answered_at"] < end)]
    if key:
        done, given = done[done["category"] == key], given[given["category"] == key]
    hours = (done["resolved_at"] - done["created_at"]) / pd.Timedelta(hours=1)
    return {
        "resolved": len(done),
        "resolution_hours": round(float(hours.median()), 2) if len(done) else None,
        "csat": round(float(given["csat"].mean()), 2) if len(given) else None,
        "csat_answers": len(given),
    }


def kpis_around(sessions, *, days: int = 30) -> dict[int, dict[str, dict[str, Any]]]:
    """Per training session id: the agent's KPIs (tickets resolved, their median resolution hours, mean CSAT) in
    the ``days`` days before the session and the ``days`` days from it, in the session's category when it has one.
    Two queries whatever the number of sessions."""
    from guanxi.surveys.models import Response

    sessions = list(sessions)
    if not sessions:
        return {}
    span = timedelta(days=days)
    held = {s.pk: bounds(s.held_on, s.held_on)[0] for s in sessions}
    low, high = min(held.values()) - span, max(held.values()) + span
    agent_ids = {s.agent_id for s in sessions}
    tickets = pd.DataFrame(
        list(
            Ticket.objects.filter(assignee_id__in=agent_ids, resolved_at__gte=low, resolved_at__lt=high).values_list(
                "assignee_id", "category__key", "created_at", "resolved_at"
            )
        ),
        columns=["agent", "category", "created_at", "resolved_at"],
    )
    answers = pd.DataFrame(
        list(
            Response.objects.filter(
                agent_id__in=agent_ids, csat__isnull=False, answered_at__gte=low, answered_at__lt=high
            )
            # Response.ticket_id is a plain column (surveys keeps no foreign key to tickets).
            .annotate(category=Subquery(Ticket.objects.filter(pk=OuterRef("ticket_id")).values("category__key")[:1]))
            .values_list("agent_id", "category", "answered_at", "csat")
        ),
        columns=["agent", "category", "answered_at", "csat"],
    )
    for frame, columns in ((tickets, ("created_at", "resolved_at")), (answers, ("answered_at",))):
        for column in columns:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    out = {}
    for session in sessions:
        key = session.category.key if session.category_id else None
        at = held[session.pk]
        out[session.pk] = {
            "before": _kpis(tickets, answers, session.agent_id, key, at - span, at),
            "after": _kpis(tickets, answers, session.agent_id, key, at, at + span),
        }
    return out


def before_after(session: TrainingSession, *, days: int = 30) -> dict[str, dict[str, Any]]:
    """``kpis_around`` for one session."""
    return kpis_around([session], days=days)[session.pk]

"""/api/v1/service-quality: the service-process analysis of the ticket status history, bottlenecks, agent and
team scorecards, and training sessions. Managers see the teams they lead, support agents their own figures,
analysts and admins everything; sales reps get 403."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from guanxi.core.schemas import ERRORS, Id
from guanxi.quality import report, selectors, services
from guanxi.quality.errors import TrainingNotFound
from guanxi.quality.models import TrainingSession
from guanxi.quality.schemas import (
    BottleneckList,
    BottleneckQuery,
    PeriodQuery,
    ProcessOut,
    ScorecardList,
    ScorecardQuery,
    TrainingIn,
    TrainingOut,
    TrainingQuery,
)

router = Router(tags=["service quality"])


def _period(query: PeriodQuery):
    return selectors.checked_period(query.since, query.until)


@router.get("/process", response={200: ProcessOut, **ERRORS})
def process_analysis(request: HttpRequest, query: Query[PeriodQuery]):
    """The process analysis of the tickets that arrived in [since, until] (their status history up to the end of
    the period): hours per status, waiting vs working, reopen loops, queue ageing, throughput per day, the process
    map (statuses as nodes, transitions with counts and median hours) and the top bottlenecks. Wall-clock hours."""
    since, until = _period(query)
    result = selectors.analysis(request.auth, since, until)
    return {"since": since, "until": until, **report.summary(result, selectors.category_labels())}


@router.get("/bottlenecks", response={200: BottleneckList, **ERRORS})
def bottlenecks(request: HttpRequest, query: Query[BottleneckQuery]):
    """Where time accumulates: status x category / team / priority (and pairs of them), ranked by the hours spent
    beyond what the same tickets would have taken at the mean of the others, with a plain-language explanation."""
    since, until = _period(query)
    result = selectors.analysis(request.auth, since, until)
    rows = report.bottleneck_rows(result, selectors.category_labels())[: query.limit]
    return {"since": since, "until": until, "items": rows}


@router.get("/scorecards", response={200: ScorecardList, **ERRORS})
def scorecards(request: HttpRequest, query: Query[ScorecardQuery]):
    """Per agent or team, for tickets that arrived in the period: handled, resolved, median first-response and
    resolution hours, SLA attainment (share of resolved tickets with a target that was met), reopen rate, mean CSAT
    (1-5) of the answers given in the period. The CSV export is on the page (?format=csv)."""
    since, until = _period(query)
    rows = selectors.scorecards(request.auth, since, until, by=query.by)
    return {"since": since, "until": until, "by": query.by, "items": rows}


def _training(session: TrainingSession, kpis: dict | None = None) -> dict:
    out = {
        "id": session.pk,
        "agent_id": session.agent_id,
        "agent_name": str(session.agent),
        "topic": session.topic,
        "category": session.category.key if session.category_id else None,
        "held_on": session.held_on,
        "trainer_id": session.trainer_id,
        "notes": session.notes,
        "created_at": session.created_at,
    }
    if kpis:
        out.update(kpis)
    return out


@router.get("/training-sessions", response={200: list[TrainingOut], **ERRORS})
def list_training_sessions(request: HttpRequest, query: Query[TrainingQuery]):
    """Training sessions of the agents in your scope, latest first, with the agent's KPIs in the 30 days before
    and after each session."""
    sessions = list(selectors.training_sessions(request.auth, agent_id=query.agent_id)[:200])
    kpis = selectors.kpis_around(sessions)
    return [_training(s, kpis[s.pk]) for s in sessions]


@router.post("/training-sessions", response={201: TrainingOut, **ERRORS})
def create_training_session(request: HttpRequest, payload: TrainingIn):
    """Record a training session (managers for agents of the teams they lead, admins for anyone)."""
    session = services.record_training_session(actor=request.auth, data=payload.dict())
    return Status(201, _training(session))


@router.get("/training-sessions/{session_id}", response={200: TrainingOut, **ERRORS})
def get_training_session(request: HttpRequest, session_id: Id):
    session = selectors.training_sessions(request.auth).filter(pk=session_id).first()
    if session is None:
        raise TrainingNotFound(_("No training session with id %(id)s.") % {"id": session_id})
    return _training(session, selectors.before_after(session))


@router.delete("/training-sessions/{session_id}", response={204: None, **ERRORS})
def delete_training_session(request: HttpRequest, session_id: Id):
    services.delete_training_session(actor=request.auth, session_id=session_id)
    return Status(204, None)

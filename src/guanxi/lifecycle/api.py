"""/api/v1/lifecycle: stage definitions, a customer's stage and history, distribution and flows."""

from datetime import datetime, timedelta

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from guanxi.core import rules
from guanxi.core.schemas import ERRORS, Id, Version
from guanxi.lifecycle import selectors, services
from guanxi.lifecycle.errors import DefinitionNotFound, InvalidPeriod
from guanxi.lifecycle.schemas import (
    CustomerLifecycleOut,
    DefinitionCreate,
    DefinitionOut,
    DefinitionUpdate,
    DistributionRow,
    FieldOut,
    FlowOut,
)

router = Router(tags=["lifecycle"])


def _definition(d) -> dict:
    return {
        "id": d.pk,
        "key": d.key,
        "name": d.name,
        "name_zh_hans": d.name_zh_hans,
        "rule": d.rule,
        "position": d.position,
        "playbook": d.playbook,
        "active": d.active,
        "version": d.version,
    }


@router.get("/stages", response={200: list[DefinitionOut], **ERRORS})
def list_stages(request: HttpRequest):
    """The stage definitions in precedence order: a customer is in the first active stage whose rule matches."""
    return [_definition(d) for d in selectors.definitions()]


@router.post("/stages", response={201: DefinitionOut, **ERRORS})
def create_stage(request: HttpRequest, body: DefinitionCreate):
    """Add a stage (administrators). A rule that does not parse is a 422 whose ``details.rule`` says where;
    every customer is re-evaluated in the background after the change."""
    definition = services.create_definition(actor=request.auth, data=body.model_dump())
    return Status(201, _definition(definition))


@router.patch("/stages/{definition_id}", response={200: DefinitionOut, **ERRORS})
def update_stage(request: HttpRequest, definition_id: Id, body: DefinitionUpdate):
    """Change a stage (administrators); send the ``version`` you read (409 if someone changed it since)."""
    data = body.model_dump(exclude_unset=True)
    version = data.pop("version")
    definition = services.update_definition(actor=request.auth, definition_id=definition_id, version=version, data=data)
    return _definition(definition)


@router.delete("/stages/{definition_id}", response={204: None, **ERRORS})
def delete_stage(request: HttpRequest, definition_id: Id, version: Version):
    """Remove a stage (administrators); its customers move on at the re-evaluation that follows."""
    services.delete_definition(actor=request.auth, definition_id=definition_id, version=version)
    return Status(204, None)


@router.get("/stages/{definition_id}", response={200: DefinitionOut, **ERRORS})
def get_stage(request: HttpRequest, definition_id: Id):
    definition = selectors.definition(definition_id)
    if definition is None:
        raise DefinitionNotFound(_("No stage definition with id %(id)s.") % {"id": definition_id})
    return _definition(definition)


@router.get("/fields", response={200: list[FieldOut], **ERRORS})
def list_fields(request: HttpRequest):
    """The fields usable in rules, with their type and example values."""
    return [
        {"name": f.name, "type": f.type, "label": str(f.label), "examples": list(f.examples)}
        for f in rules.known_fields()
    ]


@router.get("/customers/{customer_id}", response={200: CustomerLifecycleOut, **ERRORS})
def customer_stage(request: HttpRequest, customer_id: Id):
    """A customer's current stage and funnel stage, the stage's playbook, and the newest 50 transitions."""
    found = selectors.customer_lifecycle(request.auth, customer_id)
    current = found.current
    return {
        "customer_id": found.customer.pk,
        "stage": current.stage if current else None,
        "since": current.since if current else None,
        "funnel_stage": current.funnel_stage if current else None,
        "funnel_since": current.funnel_since if current else None,
        "playbook": found.definition.playbook if found.definition else "",
        "history": [
            {
                "view": t.view,
                "from_stage": t.from_stage,
                "to_stage": t.to_stage,
                "at": t.at,
                "reason": t.reason,
                "facts": t.facts,
                "source": t.source,
                "event_id": t.event_id,
            }
            for t in found.history
        ],
    }


@router.get("/distribution", response={200: list[DistributionRow], **ERRORS})
def distribution(request: HttpRequest):
    """Customers per stage among those you may see (reps: their own and shared customers)."""
    selectors.require_analytics(request.auth)
    return selectors.distribution(request.auth)


@router.get("/flow", response={200: FlowOut, **ERRORS})
def flow(request: HttpRequest, since: datetime | None = None, until: datetime | None = None):
    """Stage transitions between ``since`` and ``until`` (default: the last 30 days), grouped by from and to
    stage (a first stage comes from ""). Managers, administrators and analysts."""
    selectors.require_analytics(request.auth, full=True)
    since, until = period(since, until)
    return {"since": since, "until": until, "flows": selectors.flow(request.auth, since, until)}


def period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or timezone.now()
    since = since or until - timedelta(days=30)
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    if timezone.is_naive(until):
        until = timezone.make_aware(until)
    if since > until:
        raise InvalidPeriod(_("The period starts after it ends."), since=[_("Must be before until.")])
    return since, until

"""/api/v1/automation: rules (trigger + condition + actions), their run log, dry runs and e-mail templates.

Admins and managers only (403 ``automation_denied`` for other roles).
"""

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.automation import selectors, services
from guanxi.automation.helptext import options
from guanxi.automation.schemas import (
    DryRunIn,
    DryRunOut,
    HelpOut,
    ListQuery,
    RuleIn,
    RuleList,
    RuleOut,
    RuleUpdate,
    RunList,
    RunQuery,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
)
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id, Version

router = Router(tags=["automation"])


@router.get("/help", response={200: HelpOut, **ERRORS})
def help_text(request: HttpRequest):
    """The triggers, actions (with their parameters and an example) and condition fields a rule may use."""
    services.ensure_manager(request.auth)
    return options()


@router.get("/rules", response={200: RuleList, **ERRORS})
def list_rules(request: HttpRequest, filters: Query[ListQuery]):
    """Every rule in order, with its last run and the runs per status over the last 30 days."""
    page = paginate(selectors.rules(request.auth), limit=filters.limit, offset=filters.offset)
    return {"items": page.items, "total": page.total, "limit": filters.limit, "offset": filters.offset}


@router.post("/rules", response={201: RuleOut, **ERRORS})
def create_rule(request: HttpRequest, payload: RuleIn):
    """Save a rule. A condition that does not parse is a 400 ``invalid_rule`` whose message says the line,
    column and what was expected; invalid actions are a 422 with ``details`` per ``actions.<n>.<parameter>``."""
    return Status(201, services.create_rule(actor=request.auth, data=payload.dict()))


@router.post("/rules/dry-run", response={200: DryRunOut, **ERRORS})
def dry_run_unsaved(request: HttpRequest, payload: DryRunIn):
    """Which of the customers you may see meet a condition now (count and the first 50). Writes nothing."""
    result = selectors.dry_run(request.auth, payload.condition)
    return {"total": result.total, "customers": result.customers}


@router.get("/rules/{rule_id}", response={200: RuleOut, **ERRORS})
def get_rule(request: HttpRequest, rule_id: Id):
    return selectors.get_rule(request.auth, rule_id)


@router.put("/rules/{rule_id}", response={200: RuleOut, **ERRORS})
def update_rule(request: HttpRequest, rule_id: Id, payload: RuleUpdate):
    """Change the fields sent; a stale ``version`` is a 409 and changes nothing."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    data = {k: v for k, v in data.items() if v is not None}
    return services.update_rule(actor=request.auth, rule_id=rule_id, version=version, data=data)


@router.delete("/rules/{rule_id}", response={204: None, **ERRORS})
def delete_rule(request: HttpRequest, rule_id: Id, version: Version):
    """Delete a rule and its run log (set ``active`` false to keep the log)."""
    services.delete_rule(actor=request.auth, rule_id=rule_id, version=version)
    return Status(204, None)


@router.post("/rules/{rule_id}/dry-run", response={200: DryRunOut, **ERRORS})
def dry_run(request: HttpRequest, rule_id: Id):
    """Which of the customers you may see the saved rule's condition matches now. Writes nothing."""
    rule = selectors.get_rule(request.auth, rule_id)
    result = selectors.dry_run(request.auth, rule.condition)
    return {"total": result.total, "customers": result.customers}


def _runs(request, page) -> dict:
    names = selectors.visible_names(request.auth, [run.customer_id for run in page.items])
    items = [
        {
            "id": run.pk,
            "rule_id": run.rule_id,
            "event_id": run.event_id,
            "event_type": run.event_type,
            "customer_id": run.customer_id,
            "customer_name": names.get(run.customer_id),
            "status": run.status,
            "detail": run.detail,
            "at": run.at,
        }
        for run in page.items
    ]
    return {"items": items, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get("/rules/{rule_id}/runs", response={200: RunList, **ERRORS})
def rule_runs(request: HttpRequest, rule_id: Id, filters: Query[RunQuery]):
    """One rule's run log, newest first; filter by ``status``."""
    selectors.get_rule(request.auth, rule_id)
    found = selectors.runs(request.auth, rule_id=rule_id, status=filters.status or "")
    return _runs(request, paginate(found, limit=filters.limit, offset=filters.offset))


@router.get("/runs", response={200: RunList, **ERRORS})
def all_runs(request: HttpRequest, filters: Query[RunQuery]):
    """Every rule's runs, newest first."""
    found = selectors.runs(request.auth, status=filters.status or "")
    return _runs(request, paginate(found, limit=filters.limit, offset=filters.offset))


@router.get("/templates", response={200: list[TemplateOut], **ERRORS})
def list_templates(request: HttpRequest):
    """The e-mail templates the send_email action uses."""
    return list(selectors.templates(request.auth))


@router.post("/templates", response={201: TemplateOut, **ERRORS})
def create_template(request: HttpRequest, payload: TemplateIn):
    """Subject and body use Django's template language: ``{{ customer.display_name }}``, ``{{ owner.name }}``."""
    return Status(201, services.save_template(actor=request.auth, data=payload.dict()))


@router.put("/templates/{template_id}", response={200: TemplateOut, **ERRORS})
def update_template(request: HttpRequest, template_id: Id, payload: TemplateUpdate):
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    data = {k: v for k, v in data.items() if v is not None}
    return services.save_template(actor=request.auth, data=data, template_id=template_id, version=version)

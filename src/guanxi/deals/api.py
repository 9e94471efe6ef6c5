"""/api/v1/deals: pipelines (stages editable by admins), deals (list, create, get, edit, move, win, lose, reopen),
lost reasons, and the pipeline figures (funnel, win rate, cycle, lost reasons, forecast)."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from guanxi.core import access
from guanxi.core.errors import NotFound
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.deals import analytics, selectors, services
from guanxi.deals.errors import DealDenied, DealInvalid
from guanxi.deals.models import Deal, Pipeline
from guanxi.deals.schemas import (
    AnalyticsOut,
    AnalyticsQuery,
    DealDetailOut,
    DealIn,
    DealList,
    DealOut,
    DealPatch,
    DealQuery,
    ForecastOut,
    LoseIn,
    LostReasonOut,
    MoveIn,
    PipelineIn,
    PipelineOut,
    PipelinePatch,
    ReopenIn,
    StageIn,
    StageOut,
    StagePatch,
    WinIn,
)

router = Router(tags=["deals"])


def _require_worker(user) -> None:
    if access.role_of(user) not in (access.ADMIN, access.MANAGER, access.SALES):
        raise DealDenied(_("Only sales reps, managers and admins work on deals."))


def _out(deal: Deal) -> dict:
    return {
        "id": deal.pk,
        "customer_id": deal.customer_id,
        "customer_name": deal.customer.display_name,
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "stage": deal.stage.key,
        "status": deal.stage.kind,
        "title": deal.title,
        "value": deal.value,
        "currency": deal.currency,
        "probability": deal.probability,
        "weighted_value": round(deal.weighted_value, 2),
        "expected_close": deal.expected_close,
        "owner_id": deal.owner_id,
        "team_id": deal.team_id,
        "lost_reason": deal.lost_reason.key if deal.lost_reason_id else None,
        "lost_note": deal.lost_note,
        "won_at": deal.won_at,
        "lost_at": deal.lost_at,
        "order_id": deal.order_id,
        "stage_entered_at": deal.stage_entered_at,
        "created_at": deal.created_at,
        "version": deal.version,
    }


def _fresh(user, deal: Deal) -> dict:
    """The deal as the caller now sees it; a manager who handed it out of their scope gets what they wrote."""
    try:
        return _out(selectors.get_deal(user, deal.pk))
    except NotFound:
        return _out(deal)


def _pipeline_out(pipeline: Pipeline) -> dict:
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "name_zh_hans": pipeline.name_zh_hans,
        "record_order_on_win": pipeline.record_order_on_win,
        "is_default": pipeline.is_default,
        "stages": sorted(pipeline.stages.all(), key=lambda s: (s.order, s.pk)),
    }


@router.get("/pipelines", response={200: list[PipelineOut], **ERRORS})
def list_pipelines(request: HttpRequest):
    """Every pipeline with its stages in board order (the default pipeline first)."""
    return [_pipeline_out(p) for p in selectors.pipelines()]


@router.post("/pipelines", response={201: PipelineOut, **ERRORS})
def create_pipeline(request: HttpRequest, payload: PipelineIn):
    """Admins: a new pipeline, created with its Won (100%) and Lost (0%) stages; add open stages next."""
    pipeline = services.create_pipeline(actor=request.auth, data=payload.dict())
    return Status(201, _pipeline_out(selectors.pipelines().get(pk=pipeline.pk)))


@router.patch("/pipelines/{pipeline_id}", response={200: PipelineOut, **ERRORS})
def patch_pipeline(request: HttpRequest, pipeline_id: Id, payload: PipelinePatch):
    """Admins: rename, make default, or switch ``record_order_on_win`` (winning records an order)."""
    services.update_pipeline(actor=request.auth, pipeline_id=pipeline_id, data=payload.dict(exclude_unset=True))
    return _pipeline_out(selectors.pipelines().get(pk=pipeline_id))


@router.post("/pipelines/{pipeline_id}/stages", response={201: StageOut, **ERRORS})
def create_stage(request: HttpRequest, pipeline_id: Id, payload: StageIn):
    """Admins: add an open stage (``order`` places it on the board)."""
    return Status(201, services.create_stage(actor=request.auth, pipeline_id=pipeline_id, data=payload.dict()))


@router.patch("/stages/{stage_id}", response={200: StageOut, **ERRORS})
def patch_stage(request: HttpRequest, stage_id: Id, payload: StagePatch):
    """Admins: rename a stage, move it, change its probability (deals take it when they next move)."""
    return services.update_stage(actor=request.auth, stage_id=stage_id, data=payload.dict(exclude_unset=True))


@router.delete("/stages/{stage_id}", response={204: None, **ERRORS})
def delete_stage(request: HttpRequest, stage_id: Id):
    """Admins: remove an open stage no deal is or ever was in (409 ``deal_stage_in_use`` otherwise)."""
    services.delete_stage(actor=request.auth, stage_id=stage_id)
    return Status(204, None)


@router.get("/lost-reasons", response={200: list[LostReasonOut], **ERRORS})
def lost_reasons(request: HttpRequest):
    """The reasons a deal can be lost with (``lost_reason_id`` of /move and /lose)."""
    return list(selectors.lost_reasons(active_only=False))


@router.get("/analytics", response={200: AnalyticsOut, **ERRORS})
def get_analytics(request: HttpRequest, filters: Query[AnalyticsQuery]):
    """Funnel (deals created in the period that reached each stage, from the stage history), win rate (won /
    closed in the period), sales cycle in days (creation to win; mean and median), lost reasons. Reps get their
    own deals' figures, managers their teams', admins and analysts everyone's. Money in ``currency`` only."""
    report = _report(request, filters)
    return {
        "pipeline_id": report.pipeline.pk,
        "currency": report.currency,
        "funnel": [{"stage": s.stage.key, "reached": s.reached, "conversion": s.conversion} for s in report.funnel],
        "won": report.won,
        "lost": report.lost,
        "win_rate": report.win_rate,
        "won_value": report.won_value,
        "cycle_mean_days": report.cycle_mean_days,
        "cycle_median_days": report.cycle_median_days,
        "lost_reasons": report.lost_reasons,
    }


@router.get("/forecast", response={200: ForecastOut, **ERRORS})
def get_forecast(request: HttpRequest, filters: Query[AnalyticsQuery]):
    """Open deals' value × probability by month of the expected close date, per owner and per team, in
    ``currency`` (default: the installation's)."""
    report = _report(request, filters)
    return {
        "pipeline_id": report.pipeline.pk,
        "currency": report.currency,
        "by_owner": report.forecast_by_owner,
        "by_team": report.forecast_by_team,
    }


def _report(request, filters: AnalyticsQuery):
    if access.role_of(request.auth) not in analytics.ANALYTICS_ROLES:
        raise DealDenied(_("Support agents have no pipeline figures."))
    pipeline = selectors.get_pipeline(filters.pipeline_id)
    currency = filters.currency.strip().upper()
    if currency and (len(currency) != 3 or not currency.isalpha()):
        raise DealInvalid(_("Use a three-letter ISO 4217 code such as CNY."), currency=[_("Not a currency code.")])
    return analytics.report(
        request.auth,
        pipeline=pipeline,
        since=filters.since,
        until=filters.until,
        currency=currency,
        owner_id=filters.owner_id,
        team_id=filters.team_id,
    )


@router.get("", response={200: DealList, **ERRORS})
def list_deals(request: HttpRequest, filters: Query[DealQuery]):
    """The deals you may see, newest first: reps their own, managers their teams', admins all."""
    _require_worker(request.auth)
    deals = selectors.list_deals(
        request.auth,
        pipeline_id=filters.pipeline_id,
        stage_id=filters.stage_id,
        owner_id=filters.owner_id,
        team_id=filters.team_id,
        customer_id=filters.customer_id,
        status=filters.status or "",
    ).order_by("-created_at", "-id")
    page = paginate(deals, limit=filters.limit, offset=filters.offset)
    return {"items": [_out(d) for d in page.items], "total": page.total, "limit": page.limit, "offset": page.offset}


@router.post("", response={201: DealOut, **ERRORS})
def create_deal(request: HttpRequest, payload: DealIn):
    """Open a deal for a customer you may change. Reps own it; managers and admins may pass ``owner_id``."""
    data = {k: v for k, v in payload.dict().items() if v is not None and v != ""}
    deal = services.create_deal(actor=request.auth, data=data)
    return Status(201, _fresh(request.auth, deal))


@router.get("/{deal_id}", response={200: DealDetailOut, **ERRORS})
def get_deal(request: HttpRequest, deal_id: Id):
    """One deal with its stage history (another rep's deal is a 404)."""
    _require_worker(request.auth)
    deal = selectors.get_deal(request.auth, deal_id)
    history = [
        {
            "at": c.at,
            "from_stage": c.from_stage.key if c.from_stage_id else None,
            "to_stage": c.to_stage.key,
            "actor_id": c.actor_id,
        }
        for c in selectors.history(deal)
    ]
    return {**_out(deal), "history": history}


@router.patch("/{deal_id}", response={200: DealOut, **ERRORS})
def patch_deal(request: HttpRequest, deal_id: Id, payload: DealPatch):
    """Edit the fields sent. A stale ``version`` is a 409 ``stale_version``; ``owner_id`` needs a manager of the
    team or an admin. Use /move to change the stage."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    deal = services.update_deal(actor=request.auth, deal_id=deal_id, version=version, data=data)
    return _fresh(request.auth, deal)


@router.post("/{deal_id}/move", response={200: DealOut, **ERRORS})
def move(request: HttpRequest, deal_id: Id, payload: MoveIn):
    """Move the deal to ``stage_id`` (the kanban drag). ``version`` is the one you saw: a 409 ``stale_version``
    means someone moved or edited it meanwhile. The lost stage needs ``lost_reason_id``; the won stage records
    the order when the pipeline says so."""
    deal = services.move_deal(actor=request.auth, deal_id=deal_id, **payload.dict())
    return _fresh(request.auth, deal)


@router.post("/{deal_id}/win", response={200: DealOut, **ERRORS})
def win(request: HttpRequest, deal_id: Id, payload: WinIn):
    """Mark the deal won. Idempotent: a deal already won comes back unchanged, with no second order."""
    return _fresh(request.auth, services.win_deal(actor=request.auth, deal_id=deal_id, version=payload.version))


@router.post("/{deal_id}/lose", response={200: DealOut, **ERRORS})
def lose(request: HttpRequest, deal_id: Id, payload: LoseIn):
    """Mark the deal lost with a reason (see /lost-reasons)."""
    deal = services.lose_deal(actor=request.auth, deal_id=deal_id, **payload.dict())
    return _fresh(request.auth, deal)


@router.post("/{deal_id}/reopen", response={200: DealOut, **ERRORS})
def reopen(request: HttpRequest, deal_id: Id, payload: ReopenIn):
    """Put a won or lost deal back into an open stage (its last one unless ``stage_id``)."""
    deal = services.reopen_deal(actor=request.auth, deal_id=deal_id, **payload.dict())
    return _fresh(request.auth, deal)

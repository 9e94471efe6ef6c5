"""/api/v1/follow-ups: your follow-ups (managers: their teams'), planning, rescheduling, completing, cancelling,
and the silent customers list."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from guanxi.core import access
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.followups import selectors, services
from guanxi.followups.errors import FollowUpDenied
from guanxi.followups.models import FollowUp
from guanxi.followups.schemas import (
    CancelIn,
    CompleteIn,
    FollowUpIn,
    FollowUpList,
    FollowUpOut,
    FollowUpPatch,
    FollowUpQuery,
    SilentList,
    SilentQuery,
)

router = Router(tags=["follow-ups"])


def _out(follow_up: FollowUp) -> dict:
    return {
        "id": follow_up.pk,
        "customer_id": follow_up.customer_id,
        "customer_name": follow_up.customer.display_name,
        "assignee_id": follow_up.assignee_id,
        "title": follow_up.title,
        "note": follow_up.note,
        "due_on": follow_up.due_on,
        "priority": follow_up.priority,
        "status": follow_up.status,
        "source": follow_up.source,
        "policy": follow_up.policy.key if follow_up.policy_id else None,
        "rule_id": follow_up.rule_id,
        "completed_at": follow_up.completed_at,
        "completed_by_id": follow_up.completed_by_id,
        "completion_note": follow_up.completion_note,
        "interaction_id": follow_up.interaction_id,
        "created_at": follow_up.created_at,
        "version": follow_up.version,
    }


def _fresh(user, follow_up: FollowUp) -> dict:
    return _out(selectors.get_follow_up(user, follow_up.pk))


@router.get("", response={200: FollowUpList, **ERRORS})
def list_follow_ups(request: HttpRequest, filters: Query[FollowUpQuery]):
    """Your follow-ups, earliest due first. Managers and admins may pass ``team_id`` (a team they lead) or
    ``assignee_id`` to see others'; reps only ever see their own."""
    user = request.auth
    others = bool(filters.team_id or filters.assignee_id)
    if others and access.role_of(user) not in (access.ADMIN, access.MANAGER):
        raise FollowUpDenied(_("Only managers and admins can list other people's follow-ups."))
    follow_ups = selectors.list_follow_ups(
        user,
        status=filters.status or "",
        due_before=filters.due_before,
        due_after=filters.due_after,
        customer_id=filters.customer_id,
        assignee_id=filters.assignee_id,
        team_id=filters.team_id,
        mine=not others,
    )
    page = paginate(follow_ups, limit=filters.limit, offset=filters.offset)
    return {"items": [_out(f) for f in page.items], "total": page.total, "limit": page.limit, "offset": page.offset}


@router.post("", response={201: FollowUpOut, **ERRORS})
def create_follow_up(request: HttpRequest, payload: FollowUpIn):
    """Plan a follow-up of a customer you may change, by ``due_on``; assigned to the owner unless you say
    otherwise (reps: themselves or the owner; managers: their team)."""
    follow_up = services.create_follow_up(actor=request.auth, **payload.dict())
    return Status(201, _fresh(request.auth, follow_up) if _visible(request.auth, follow_up) else _out(follow_up))


def _visible(user, follow_up: FollowUp) -> bool:
    return selectors.visible_follow_ups(user).filter(pk=follow_up.pk).exists()


@router.get("/silent", response={200: SilentList, **ERRORS})
def silent(request: HttpRequest, filters: Query[SilentQuery]):
    """Customers you may see who have had no interaction and no order for longer than their own usual time
    between purchases (``recency_days / frequency`` of their score), biggest 12-month CLV first. Customers without
    a repeat purchase are not listed."""
    page = paginate(selectors.silent_customers(request.auth), limit=filters.limit, offset=filters.offset)
    items = [
        {
            "customer_id": c.pk,
            "display_name": c.display_name,
            "owner_id": c.owner_id,
            "clv": c.score.clv,
            "usual_interval_days": round(c.usual_interval_days, 1),
            "silent_days": round(c.silent_days, 1),
            "last_order_at": c.last_order_at,
            "last_interaction_at": c.last_interaction_at,
        }
        for c in page.items
    ]
    return {"items": items, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get("/{follow_up_id}", response={200: FollowUpOut, **ERRORS})
def get_follow_up(request: HttpRequest, follow_up_id: Id):
    """One follow-up you may see (another rep's is a 404)."""
    return _out(selectors.get_follow_up(request.auth, follow_up_id))


@router.patch("/{follow_up_id}", response={200: FollowUpOut, **ERRORS})
def patch_follow_up(request: HttpRequest, follow_up_id: Id, payload: FollowUpPatch):
    """Reschedule or edit an open follow-up; only the fields sent change. ``assignee_id`` reassigns it (managers
    of the team, admins). A stale ``version`` is a 409 ``stale_version``."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    follow_up = services.update_follow_up(actor=request.auth, follow_up_id=follow_up_id, version=version, data=data)
    return _fresh(request.auth, follow_up) if _visible(request.auth, follow_up) else _out(follow_up)


@router.post("/{follow_up_id}/complete", response={200: FollowUpOut, **ERRORS})
def complete(request: HttpRequest, follow_up_id: Id, payload: CompleteIn):
    """Mark an open follow-up done, optionally with the interaction (of the same customer) that did it. Logging
    the interaction with ``follow_up_id`` through /interactions does this too. 409 ``follow_up_closed`` if it is
    already done or cancelled."""
    follow_up = services.complete_follow_up(actor=request.auth, follow_up_id=follow_up_id, **payload.dict())
    return _fresh(request.auth, follow_up)


@router.post("/{follow_up_id}/cancel", response={200: FollowUpOut, **ERRORS})
def cancel(request: HttpRequest, follow_up_id: Id, payload: CancelIn):
    """Cancel an open follow-up that is no longer needed."""
    follow_up = services.cancel_follow_up(actor=request.auth, follow_up_id=follow_up_id, note=payload.note)
    return _fresh(request.auth, follow_up)

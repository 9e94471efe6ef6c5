"""/api/v1/ownership: the public pool, claims, releases, assignments, transfers, history and team rules."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.ownership import selectors, services
from guanxi.ownership.models import PoolRule
from guanxi.ownership.schemas import (
    AssignIn,
    DecisionIn,
    HistoryOut,
    NoteIn,
    OwnerOut,
    PoolList,
    PoolQuery,
    RuleIn,
    RuleOut,
    TransferIn,
    TransferList,
    TransferOut,
    TransferQuery,
)

router = Router(tags=["ownership"])


def _owner(customer) -> dict:
    return {
        "customer_id": customer.pk,
        "owner_id": customer.owner_id,
        "team_id": customer.team_id,
        "version": customer.version,
    }


def _rule(rule: PoolRule) -> dict:
    return {
        "team_id": rule.team_id,
        "assignment": rule.assignment,
        "territories": rule.territories or [],
        "daily_claim_quota": rule.daily_claim_quota,
        "holding_cap": rule.holding_cap,
        "release_after_days": rule.release_after_days,
        "warning_days": rule.warning_days,
        "protection_days": rule.protection_days,
        "version": rule.version,
    }


@router.get("/pool", response={200: PoolList, **ERRORS})
def pool(request: HttpRequest, filters: Query[PoolQuery]):
    """Customers waiting in the pools you may claim from (your team's; managers also the teams they lead),
    oldest first, with your holdings against the cap and today's claims against the quota.
    Only the summary is shown; the full profile opens once you claim."""
    page = paginate(
        selectors.pool(
            request.auth, q=filters.q, region=filters.region, industry=filters.industry, team_id=filters.team_id
        ),
        limit=filters.limit,
        offset=filters.offset,
    )
    standing = selectors.standing(request.auth)
    return {
        "items": [{**row, "team_name": row["team__name"]} for row in page.items],
        "total": page.total,
        "limit": filters.limit,
        "offset": filters.offset,
        "standing": {
            "held": standing.held,
            "holding_cap": standing.cap,
            "claimed_today": standing.claimed_today,
            "daily_claim_quota": standing.quota,
        },
    }


@router.post("/customers/{customer_id}/claim", response={200: OwnerOut, **ERRORS})
def claim(request: HttpRequest, customer_id: Id):
    """Claim a pool customer. 409 ``already_claimed`` names who got it first; 409 ``claim_quota_reached`` or
    ``holding_cap_reached`` when your team's limits are reached; 404 ``not_in_pool`` otherwise."""
    return _owner(services.claim_customer(actor=request.auth, customer_id=customer_id))


@router.post("/customers/{customer_id}/release", response={200: OwnerOut, **ERRORS})
def release(request: HttpRequest, customer_id: Id, payload: NoteIn):
    """Return a customer to its team's pool (its owner, a manager of the team, or an admin)."""
    return _owner(services.release_customer(actor=request.auth, customer_id=customer_id, note=payload.note))


@router.post("/customers/{customer_id}/assign", response={200: OwnerOut, **ERRORS})
def assign(request: HttpRequest, customer_id: Id, payload: AssignIn):
    """Make a rep the owner (managers within the teams they lead; admins anywhere)."""
    customer = services.assign_customer(
        actor=request.auth, customer_id=customer_id, user_id=payload.user_id, note=payload.note
    )
    return _owner(customer)


@router.get("/customers/{customer_id}/history", response={200: list[HistoryOut], **ERRORS})
def history(request: HttpRequest, customer_id: Id):
    """Every owner the customer had, newest first: created, assigned, claimed, released, transferred ..."""
    return selectors.customer_history(request.auth, customer_id)


@router.post("/customers/{customer_id}/transfers", response={201: TransferOut, **ERRORS})
def request_transfer(request: HttpRequest, customer_id: Id, payload: TransferIn):
    """Ask a manager to move the customer to another rep (the owner proposes anyone; others ask for
    themselves). 409 ``transfer_pending`` or ``customer_protected`` when not possible now."""
    transfer = services.request_transfer(
        actor=request.auth, customer_id=customer_id, to_user_id=payload.to_user_id, reason=payload.reason
    )
    return Status(201, transfer)


@router.get("/transfers", response={200: TransferList, **ERRORS})
def transfers(request: HttpRequest, filters: Query[TransferQuery]):
    """Transfer requests you made or are party to, and those you may decide (managers: their teams)."""
    page = paginate(
        selectors.transfers(request.auth, status=filters.status or ""), limit=filters.limit, offset=filters.offset
    )
    return {"items": page.items, "total": page.total, "limit": filters.limit, "offset": filters.offset}


@router.post("/transfers/{request_id}/approve", response={200: TransferOut, **ERRORS})
def approve(request: HttpRequest, request_id: Id, payload: DecisionIn):
    """Approve a pending request (managers of the customer's team, admins). 409 if already decided or the
    owner changed meanwhile."""
    return services.approve_transfer(actor=request.auth, request_id=request_id, note=payload.note)


@router.post("/transfers/{request_id}/reject", response={200: TransferOut, **ERRORS})
def reject(request: HttpRequest, request_id: Id, payload: DecisionIn):
    """Reject a pending request (managers of the customer's team, admins)."""
    return services.reject_transfer(actor=request.auth, request_id=request_id, note=payload.note)


@router.post("/transfers/{request_id}/cancel", response={200: TransferOut, **ERRORS})
def cancel(request: HttpRequest, request_id: Id):
    """Withdraw a pending request you made."""
    return services.cancel_transfer(actor=request.auth, request_id=request_id)


@router.get("/rules/{team_id}", response={200: RuleOut, **ERRORS})
def get_rule(request: HttpRequest, team_id: Id):
    """A team's pool rules (managers of the team, admins)."""
    return _rule(selectors.team_rule(request.auth, team_id))


@router.put("/rules/{team_id}", response={200: RuleOut, **ERRORS})
def put_rule(request: HttpRequest, team_id: Id, payload: RuleIn):
    """Change a team's pool rules; only the fields sent change. Send ``null`` for the quota, cap or release days
    to lift the limit. A stale ``version`` is a 409."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return _rule(services.update_pool_rule(actor=request.auth, team_id=team_id, version=version, data=data))

"""/api/v1/loyalty: the programme's settings and tiers (admins), members' tiers, balances and ledgers,
redemptions and manual adjustments. Every member read is scoped: a customer you cannot see is a 404."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core import access
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.loyalty import programme, selectors, services
from guanxi.loyalty.models import BonusCampaign, MembershipTier, PointsEntry
from guanxi.loyalty.schemas import (
    AdjustIn,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    EntryList,
    EntryOut,
    MemberList,
    MemberOut,
    MemberQuery,
    PageQuery,
    ProgrammeIn,
    ProgrammeOut,
    RedeemIn,
    TierIn,
    TierOut,
    TierPatch,
)

router = Router(tags=["loyalty"])


def _programme_out(settings) -> dict:
    return {name: getattr(settings, name) for name in (*programme.PROGRAMME_FIELDS, "version")}


def _tier_out(tier: MembershipTier) -> dict:
    return {"id": tier.pk, **{name: getattr(tier, name) for name in programme.TIER_FIELDS}}


def _campaign_out(campaign: BonusCampaign) -> dict:
    return {"id": campaign.pk, **{name: getattr(campaign, name) for name in programme.CAMPAIGN_FIELDS}}


def _entry_out(entry: PointsEntry) -> dict:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "points": entry.points,
        "source_key": entry.source_key,
        "order_id": entry.order_id,
        "at": entry.earned_at,
        "expires_on": entry.expires_on,
        "reason": entry.reason,
        "detail": entry.detail,
        "actor": entry.actor.get_username() if entry.actor_id else None,
        "reverses_id": entry.reverses_id,
    }


def _member_out(summary: selectors.MemberSummary) -> dict:
    return {
        "customer_id": summary.customer_id,
        "customer_name": summary.customer_name,
        "tier": summary.tier.key,
        "tier_name": summary.tier.display_name,
        "balance": summary.balance,
        "joined_at": summary.joined_at,
        "birth_date": summary.birth_date,
        "window_points": summary.window_points,
        "window_spend": summary.window_spend,
        "next_tier": summary.next_tier.key if summary.next_tier else None,
        "points_to_next": summary.points_to_next,
        "spend_to_next": summary.spend_to_next,
        "progress": summary.progress,
        "version": summary.version,
    }


@router.get("/programme", response={200: ProgrammeOut, **ERRORS})
def get_programme(request: HttpRequest):
    """The programme's settings: points per currency unit and per order, expiry rule, rolling window, and the
    size of manual adjustment above which a manager is needed."""
    return _programme_out(selectors.current_programme())


@router.put("/programme", response={200: ProgrammeOut, **ERRORS})
def update_programme(request: HttpRequest, payload: ProgrammeIn):
    """Change the settings (admins). Send the ``version`` you read; a stale one is a 409."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return _programme_out(programme.update_programme(actor=request.auth, data=data, version=version))


@router.get("/tiers", response={200: list[TierOut], **ERRORS})
def list_tiers(request: HttpRequest):
    """The tiers, lowest first. Entry rule: points earned in the window >= min_points OR spend >= min_spend."""
    return [_tier_out(t) for t in selectors.list_tiers()]


@router.post("/tiers", response={201: TierOut, **ERRORS})
def create_tier(request: HttpRequest, payload: TierIn):
    """Add a tier (admins). Members move into it at the next review or their next order."""
    return Status(201, _tier_out(programme.create_tier(actor=request.auth, data=payload.dict())))


@router.patch("/tiers/{tier_id}", response={200: TierOut, **ERRORS})
def update_tier(request: HttpRequest, tier_id: Id, payload: TierPatch):
    """Rename a tier or change its entry rule and benefits (admins)."""
    return _tier_out(programme.update_tier(actor=request.auth, tier_id=tier_id, data=payload.dict(exclude_unset=True)))


@router.delete("/tiers/{tier_id}", response={204: None, **ERRORS})
def delete_tier(request: HttpRequest, tier_id: Id):
    """Remove a tier nobody holds and no history names (admins); otherwise 409."""
    programme.delete_tier(actor=request.auth, tier_id=tier_id)
    return Status(204, None)


@router.get("/campaigns", response={200: list[CampaignOut], **ERRORS})
def list_campaigns(request: HttpRequest):
    """Bonus-points campaigns, newest first."""
    return [_campaign_out(c) for c in selectors.list_campaigns()[:200]]


@router.post("/campaigns", response={201: CampaignOut, **ERRORS})
def create_campaign(request: HttpRequest, payload: CampaignIn):
    """Start a bonus campaign (admins): orders placed between ``starts_at`` and ``ends_at`` by customers matching
    ``rule`` (rule language; empty: everyone) earn ``multiplier`` times the points plus ``bonus_points``."""
    return Status(201, _campaign_out(programme.create_campaign(actor=request.auth, data=payload.dict())))


@router.patch("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def update_campaign(request: HttpRequest, campaign_id: Id, payload: CampaignPatch):
    """Change or switch off a bonus campaign (admins)."""
    campaign = programme.update_campaign(
        actor=request.auth, campaign_id=campaign_id, data=payload.dict(exclude_unset=True)
    )
    return _campaign_out(campaign)


@router.get("/members", response={200: MemberList, **ERRORS})
def list_members(request: HttpRequest, filters: Query[MemberQuery]):
    """Members among the customers you can see, highest tier and balance first; ``tier`` filters by tier key."""
    page = paginate(selectors.list_members(request.auth, tier=filters.tier), limit=filters.limit, offset=filters.offset)
    personal = access.can_see_personal_data(request.auth)
    return {
        "items": [
            {
                "customer_id": m.pk,
                "customer_name": m.customer.display_name if personal else "",
                "tier": m.tier.key,
                "balance": m.balance,
                "joined_at": m.joined_at,
            }
            for m in page.items
        ],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get("/members/{customer_id}", response={200: MemberOut, **ERRORS})
def get_member(request: HttpRequest, customer_id: Id):
    """A customer's tier, balance, points and spend in the rolling window, and what the next tier needs."""
    return _member_out(selectors.member_summary(request.auth, customer_id))


@router.get("/members/{customer_id}/ledger", response={200: EntryList, **ERRORS})
def get_ledger(request: HttpRequest, customer_id: Id, filters: Query[PageQuery]):
    """The customer's points entries, newest first: earn, redeem, expire, adjust, reverse."""
    page = paginate(selectors.ledger(request.auth, customer_id), limit=filters.limit, offset=filters.offset)
    return {
        "items": [_entry_out(e) for e in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.post("/redeem", response={201: EntryOut, **ERRORS})
def redeem(request: HttpRequest, payload: RedeemIn):
    """Spend points of a customer you may change. Retrying with the same ``idempotency_key`` returns the same
    entry and spends nothing more. 409 ``insufficient_points`` (details: balance, requested) when the balance
    does not cover it."""
    entry = services.redeem_points(
        actor=request.auth,
        customer_id=payload.customer_id,
        points=payload.points,
        source_key=f"api:redeem:{payload.idempotency_key}",
        reason=payload.reason,
    )
    return Status(201, _entry_out(entry))


@router.post("/adjust", response={201: EntryOut, **ERRORS})
def adjust(request: HttpRequest, payload: AdjustIn):
    """Correct a customer's points by hand (positive or negative), with a reason. Above the programme's
    ``adjustment_threshold`` (absolute) only managers and admins may (403). Idempotent on ``idempotency_key``."""
    entry = services.adjust_points(
        actor=request.auth,
        customer_id=payload.customer_id,
        points=payload.points,
        reason=payload.reason,
        source_key=f"api:adjust:{payload.idempotency_key}",
    )
    return Status(201, _entry_out(entry))

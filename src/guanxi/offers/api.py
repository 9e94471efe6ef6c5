"""/api/v1/offers: offers, coupons (issue, redeem, list), campaigns with control groups, and their uplift report.

Offers and campaigns are managed by admins and managers; coupons by anyone who may change the customer. A coupon
or campaign outside your scope is a 404."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id, Version
from guanxi.offers import selectors, services
from guanxi.offers.models import Campaign, Coupon, Offer
from guanxi.offers.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    CouponList,
    CouponOut,
    CouponQuery,
    IssueIn,
    LaunchIn,
    OfferIn,
    OfferOut,
    OfferPatch,
    RedeemIn,
    ReportOut,
)
from guanxi.offers.uplift import Difference, GroupSummary

router = Router(tags=["offers"])


def _offer_out(offer: Offer) -> dict:
    return {"id": offer.pk, "version": offer.version, **{name: getattr(offer, name) for name in services.OFFER_FIELDS}}


def _coupon_out(coupon: Coupon) -> dict:
    return {
        "id": coupon.pk,
        "code": coupon.code,
        "offer_id": coupon.offer_id,
        "offer_key": coupon.offer.key,
        "customer_id": coupon.customer_id,
        "status": coupon.status,
        "issued_at": coupon.issued_at,
        "expires_at": coupon.expires_at,
        "redeemed_at": coupon.redeemed_at,
        "order_id": coupon.order_id,
        "campaign_id": coupon.campaign_id,
    }


def _campaign_out(counted: Campaign) -> dict:
    """``counted``: a campaign from ``selectors.list_campaigns`` (annotated with its group sizes)."""
    return {
        "id": counted.pk,
        "name": counted.name,
        "offer_id": counted.offer_id,
        "kind": counted.kind,
        "audience_rule": counted.audience_rule,
        "control_share": counted.control_share,
        "measure_days": counted.measure_days,
        "seed": counted.seed,
        "status": counted.status,
        "launched_at": counted.launched_at,
        "treated": counted.treated,
        "control": counted.control,
        "version": counted.version,
    }


def _fresh_campaign(user, campaign_id: int) -> dict:
    return _campaign_out(selectors.list_campaigns(user).get(pk=campaign_id))


@router.get("", response={200: list[OfferOut], **ERRORS})
def list_offers(request: HttpRequest):
    """Every offer, by name."""
    return [_offer_out(o) for o in selectors.list_offers(request.auth)]


@router.post("", response={201: OfferOut, **ERRORS})
def create_offer(request: HttpRequest, payload: OfferIn):
    """Define an offer (admins and managers). ``target_rule`` is checked: a rule that does not parse is a 400
    ``invalid_rule`` with its line and column."""
    return Status(201, _offer_out(services.create_offer(actor=request.auth, data=payload.dict())))


@router.post("/coupons", response={201: CouponOut, **ERRORS})
def issue_coupon(request: HttpRequest, payload: IssueIn):
    """Issue a coupon of an offer to a customer you may change. With ``source_key``, sending it again returns
    the same coupon. 409 ``offer_unavailable`` when the offer is inactive, out of its window, not for this customer
    (target rule) or the customer holds the most coupons of it allowed."""
    coupon = services.issue_coupon(actor=request.auth, **payload.dict())
    return Status(201, _coupon_out(selectors.get_coupon(request.auth, coupon.pk)))


@router.post("/coupons/redeem", response={200: CouponOut, **ERRORS})
def redeem_coupon(request: HttpRequest, payload: RedeemIn):
    """Redeem a code (case, spaces and dashes ignored), optionally on an order of the same customer. Safe to retry
    with the same ``order_id``. 409 ``coupon_already_redeemed`` ("already redeemed on <date>"), ``coupon_expired``
    or ``coupon_void``; 404 ``coupon_not_found`` for an unknown code or another customer's."""
    coupon = services.redeem_coupon(actor=request.auth, **payload.dict())
    return _coupon_out(coupon)


@router.get("/coupons", response={200: CouponList, **ERRORS})
def list_coupons(request: HttpRequest, filters: Query[CouponQuery]):
    """Coupons of the customers you may see, newest first."""
    coupons = selectors.list_coupons(
        request.auth, customer_id=filters.customer_id, status=filters.status or "", offer_id=filters.offer_id
    )
    page = paginate(coupons, limit=filters.limit, offset=filters.offset)
    items = [_coupon_out(c) for c in page.items]
    return {"items": items, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get("/campaigns", response={200: list[CampaignOut], **ERRORS})
def list_campaigns(request: HttpRequest):
    """Campaigns you may see (admins and analysts: all; managers: theirs and their teams', and automation's)."""
    return [_campaign_out(c) for c in selectors.list_campaigns(request.auth)]


@router.post("/campaigns", response={201: CampaignOut, **ERRORS})
def create_campaign(request: HttpRequest, payload: CampaignIn):
    """A draft campaign: an offer, an audience rule and the share held out as a control group."""
    data = payload.dict()
    if data.get("control_share") is None:
        data.pop("control_share")
    campaign = services.create_campaign(actor=request.auth, data=data)
    return Status(201, _fresh_campaign(request.auth, campaign.pk))


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def get_campaign(request: HttpRequest, campaign_id: Id):
    return _fresh_campaign(request.auth, selectors.get_campaign(request.auth, campaign_id).pk)


@router.patch("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def patch_campaign(request: HttpRequest, campaign_id: Id, payload: CampaignPatch):
    """Change a draft campaign (a launched one is a 409 ``campaign_already_launched``)."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    campaign = services.update_campaign(actor=request.auth, campaign_id=campaign_id, version=version, data=data)
    return _fresh_campaign(request.auth, campaign.pk)


@router.delete("/campaigns/{campaign_id}", response={204: None, **ERRORS})
def delete_campaign(request: HttpRequest, campaign_id: Id, version: Version):
    """Delete a draft campaign (``?version=``); a launched one is a 409 ``campaign_already_launched``."""
    services.delete_campaign(actor=request.auth, campaign_id=campaign_id, version=version)
    return Status(204, None)


@router.post("/campaigns/{campaign_id}/launch", response={200: CampaignOut, **ERRORS})
def launch_campaign(request: HttpRequest, campaign_id: Id, payload: LaunchIn):
    """Split the audience at random (by the stored seed) into treated and control; treated get their coupons."""
    campaign = services.launch_campaign(actor=request.auth, campaign_id=campaign_id, version=payload.version)
    return _fresh_campaign(request.auth, campaign.pk)


def _group(g: GroupSummary) -> dict:
    return {
        "size": g.size,
        "returned": g.returned,
        "return_rate": g.return_rate,
        "return_rate_low": g.rate_low,
        "return_rate_high": g.rate_high,
        "revenue": g.revenue_total,
        "revenue_per_member": g.revenue_per_member,
    }


def _diff(d: Difference | None) -> dict | None:
    return None if d is None else {"estimate": d.estimate, "low": d.low, "high": d.high, "p_value": d.p_value}


@router.get("/campaigns/{campaign_id}/report", response={200: ReportOut, **ERRORS})
def campaign_report(request: HttpRequest, campaign_id: Id):
    """The uplift report: per group size, customers who ordered again within ``measure_days`` of assignment,
    return rate (Wilson interval), revenue per member; treated - control with a 95% interval (Newcombe's hybrid
    score for the return rate, Welch's t for revenue), p-values, a plain-language verdict and weekly cumulative
    return curves."""
    result = selectors.campaign_report(request.auth, campaign_id)
    r = result.report
    return {
        "campaign_id": result.campaign.pk,
        "level": r.level,
        "measure_days": r.measure_days,
        "currency": result.currency,
        "treated": _group(r.treated),
        "control": _group(r.control),
        "return_rate_difference": _diff(r.return_rate_diff),
        "revenue_per_member_difference": _diff(r.revenue_diff),
        "direction": r.direction,
        "verdict": result.verdict,
        "detail": result.detail,
        "complete": result.complete,
        "measured_until": result.measured_until,
        "coupons_redeemed": result.coupons_redeemed,
        "curve": {"days": r.curve_days, "treated": r.treated_curve, "control": r.control_curve},
    }


@router.get("/{offer_id}", response={200: OfferOut, **ERRORS})
def get_offer(request: HttpRequest, offer_id: Id):
    return _offer_out(selectors.get_offer(request.auth, offer_id))


@router.patch("/{offer_id}", response={200: OfferOut, **ERRORS})
def patch_offer(request: HttpRequest, offer_id: Id, payload: OfferPatch):
    """Change an offer; only the fields sent change. A stale ``version`` is a 409 ``stale_version``."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return _offer_out(services.update_offer(actor=request.auth, offer_id=offer_id, version=version, data=data))


@router.delete("/{offer_id}", response={204: None, **ERRORS})
def delete_offer(request: HttpRequest, offer_id: Id, version: Version):
    """Delete an offer that was never used (``?version=``). One with coupons or campaigns is a 409
    ``offer_in_use``: deactivate it with PATCH ``active: false`` instead."""
    services.delete_offer(actor=request.auth, offer_id=offer_id, version=version)
    return Status(204, None)

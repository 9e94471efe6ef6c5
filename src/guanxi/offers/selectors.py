"""Every read of offers, coupons and campaigns, starting from the access policy, and the uplift report's feed.

Offers are shop-wide definitions every signed-in role may read. Coupons follow their customer (``access.restrict``):
a coupon of a customer outside the caller's scope is not found. Campaigns: admins and analysts see all, managers
the ones they created or of the teams they lead, plus the always-on campaigns of automation; reps and support
agents none. A campaign report counts only the members the caller may see (analysts: all, as aggregates).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.offers import uplift
from guanxi.offers.errors import CampaignNotFound, CouponNotFound, OfferNotFound
from guanxi.offers.models import Campaign, CampaignMember, Coupon, Offer

__all__ = ["OfferNotFound"]

CAMPAIGN_ROLES = (access.ADMIN, access.MANAGER, access.ANALYST)


def visible_offers(user) -> QuerySet:
    if access.role_of(user) is None:
        return Offer.objects.none()
    return Offer.objects.all()


def get_offer(user, offer_id: int) -> Offer:
    offer = visible_offers(user).filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFound(_("No offer with id %(id)s.") % {"id": offer_id})
    return offer


def list_offers(user, *, active: bool | None = None) -> QuerySet:
    offers = visible_offers(user)
    if active is not None:
        offers = offers.filter(active=active)
    return offers.annotate(
        issued=Count("coupons"), redeemed=Count("coupons", filter=Q(coupons__status=Coupon.Status.REDEEMED))
    ).order_by("name", "pk")


def visible_coupons(user) -> QuerySet:
    return access.restrict(Coupon.objects.all(), user, via="customer")


def get_coupon(user, coupon_id: int) -> Coupon:
    coupon = visible_coupons(user).select_related("offer", "customer").filter(pk=coupon_id).first()
    if coupon is None:
        raise CouponNotFound(_("No coupon with id %(id)s.") % {"id": coupon_id})
    return coupon


def list_coupons(user, *, customer_id: int | None = None, status: str = "", offer_id: int | None = None) -> QuerySet:
    coupons = visible_coupons(user).select_related("offer", "customer")
    if customer_id is not None:
        coupons = coupons.filter(customer_id=customer_id)
    if status:
        coupons = coupons.filter(status=status)
    if offer_id is not None:
        coupons = coupons.filter(offer_id=offer_id)
    return coupons.order_by("-issued_at", "-pk")


def campaign_q(user) -> Q | None:
    role = access.role_of(user)
    if role in (access.ADMIN, access.ANALYST):
        return None
    if role == access.MANAGER:
        return (
            Q(kind=Campaign.Kind.ALWAYS_ON)
            | Q(created_by_id=user.pk)
            | Q(team_id__in=access.managed_team_ids(user) or [])
        )
    return access.NOTHING


def visible_campaigns(user) -> QuerySet:
    q = campaign_q(user)
    campaigns = Campaign.objects.select_related("offer", "created_by")
    return campaigns if q is None else campaigns.filter(q)


def get_campaign(user, campaign_id: int) -> Campaign:
    campaign = visible_campaigns(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound(_("No campaign with id %(id)s.") % {"id": campaign_id})
    return campaign


def list_campaigns(user) -> QuerySet:
    return (
        visible_campaigns(user)
        .annotate(
            treated=Count("members", filter=Q(members__group=CampaignMember.Group.TREATED)),
            control=Count("members", filter=Q(members__group=CampaignMember.Group.CONTROL)),
        )
        .order_by("-created_at", "-pk")
    )


# ------------------------------------------------------------------------------------------------ uplift report


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    report: uplift.UpliftReport
    currency: str
    coupons_redeemed: int
    first_assigned_at: datetime | None
    measured_until: datetime | None  # the end of the last member's window
    complete: bool
    verdict: str
    detail: str


def member_outcomes(campaign: Campaign, members: QuerySet) -> tuple[uplift.GroupData, uplift.GroupData, str]:
    """Each member's days to their first order in ``(assigned_at, assigned_at + measure_days]`` and revenue there
    (refunded orders left out), per group, and the currency of most of those orders (the offer's if none).
    Two queries: the members, then the orders of their window span."""
    from guanxi.commerce.models import Order

    rows = list(members.values_list("customer_id", "group", "assigned_at"))
    window = timedelta(days=campaign.measure_days)
    by_customer: dict[int, list[tuple[datetime, Decimal, str]]] = {}
    if rows:
        start = min(at for _c, _g, at in rows)
        end = max(at for _c, _g, at in rows) + window
        orders = Order.objects.filter(
            customer_id__in=members.values("customer_id"),
            ordered_at__gt=start,
            ordered_at__lte=end,
            refunded_at__isnull=True,
        ).values_list("customer_id", "ordered_at", "amount", "currency")
        for customer_id, ordered_at, amount, currency in orders.iterator(chunk_size=5000):
            by_customer.setdefault(customer_id, []).append((ordered_at, amount, currency))
    groups: dict[str, tuple[list, list]] = {"treated": ([], []), "control": ([], [])}
    currencies: Counter[str] = Counter()
    for customer_id, group, assigned_at in rows:
        days, revenue = None, Decimal("0")
        for ordered_at, amount, currency in by_customer.get(customer_id, ()):
            if assigned_at < ordered_at <= assigned_at + window:
                currencies[currency] += 1
                revenue += amount
                delta = (ordered_at - assigned_at).total_seconds() / 86400
                days = delta if days is None else min(days, delta)
        groups[group][0].append(days)
        groups[group][1].append(float(revenue))
    currency = currencies.most_common(1)[0][0] if currencies else campaign.offer.currency
    return uplift.GroupData(*groups["treated"]), uplift.GroupData(*groups["control"]), currency


def _points(value: float) -> str:
    return f"{value * 100:.1f}"


def verdict(report: uplift.UpliftReport, offer_name: str, *, complete: bool) -> tuple[str, str]:
    """(headline, detail) in plain language for a manager."""
    t, c, d = report.treated, report.control, report.return_rate_diff
    level = round(report.level * 100)
    if d is None:
        return (
            _("Not measurable yet: the campaign needs members in both the treated and the control group."),
            "",
        )
    values = {
        "offer": offer_name,
        "diff": _points(abs(d.estimate)),
        "low": _points(d.low),
        "high": _points(d.high),
        "level": level,
        "treated": _points(t.return_rate or 0),
        "control": _points(c.return_rate or 0),
        "days": report.measure_days,
    }
    direction = report.direction
    if direction == "more":
        headline = (
            _(
                "The offer “%(offer)s” brought back %(diff)s more customers per 100 "
                "(%(level)s%% CI %(low)s to %(high)s)."
            )
            % values
        )
    elif direction == "fewer":
        headline = (
            _(
                "Customers who got “%(offer)s” returned less: %(diff)s fewer per 100 "
                "(%(level)s%% CI %(low)s to %(high)s)."
            )
            % values
        )
    elif direction == "too_small":
        headline = _("Too few members to judge “%(offer)s” yet (at least %(n)d per group are needed).") % {
            "offer": offer_name,
            "n": uplift.MIN_GROUP,
        }
    else:
        headline = (
            _(
                "No clear effect of “%(offer)s”: the difference could be zero "
                "(%(level)s%% CI %(low)s to %(high)s customers per 100)."
            )
            % values
        )
    detail = (
        _(
            "Within %(days)s days, %(treated)s of every 100 customers who got the offer ordered again, against "
            "%(control)s of every 100 in the control group, who were not contacted."
        )
        % values
    )
    if not complete:
        detail += " " + _("The measurement window is still open: these figures can change.")
    return headline, detail


def campaign_report(user, campaign_id: int, *, now: datetime | None = None) -> CampaignReport:
    """The uplift report of a campaign the user may see, over the members they may see."""
    if access.role_of(user) not in CAMPAIGN_ROLES:
        raise CampaignNotFound(_("No campaign with id %(id)s.") % {"id": campaign_id})
    campaign = get_campaign(user, campaign_id)
    now = now or timezone.now()
    members = access.restrict(CampaignMember.objects.filter(campaign=campaign), user, via="customer")
    treated, control, currency = member_outcomes(campaign, members)
    report = uplift.uplift_report(treated, control, measure_days=campaign.measure_days)
    span = members.order_by().values_list("assigned_at", flat=True)
    first = span.order_by("assigned_at").first()
    last = span.order_by("-assigned_at").first()
    measured_until = last + timedelta(days=campaign.measure_days) if last else None
    complete = measured_until is not None and now >= measured_until
    redeemed = Coupon.objects.filter(
        campaign=campaign, status=Coupon.Status.REDEEMED, customer_id__in=members.values("customer_id")
    ).count()
    headline, detail = verdict(report, campaign.offer.display_name, complete=complete)
    return CampaignReport(
        campaign=campaign,
        report=report,
        currency=currency,
        coupons_redeemed=redeemed,
        first_assigned_at=first,
        measured_until=measured_until,
        complete=complete,
        verdict=headline,
        detail=detail,
    )

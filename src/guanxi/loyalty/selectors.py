"""Reads of the membership programme, always scoped by the access policy (a customer you cannot see is a 404)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.loyalty.errors import MembershipNotFound
from guanxi.loyalty.models import BonusCampaign, Membership, MembershipTier, PointsEntry, TierChange
from guanxi.loyalty.programme import programme, tiers
from guanxi.loyalty.tiering import window_stats


@dataclass(frozen=True)
class MemberSummary:
    customer_id: int
    customer_name: str
    tier: MembershipTier
    balance: int
    joined_at: datetime | None
    birth_date: object
    window_points: int
    window_spend: Decimal
    next_tier: MembershipTier | None
    points_to_next: int | None
    spend_to_next: Decimal | None
    progress: float  # 0..1 towards the next tier, by whichever of the two rules is closer
    version: int


def _customer(user, customer_id: int):
    customer = access.visible_customers(user).filter(pk=customer_id).first()
    if customer is None:
        raise MembershipNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return customer


def member_summary(user, customer_id: int, *, now: datetime | None = None) -> MemberSummary:
    """The customer's tier, balance, rolling-window figures and progress to the next tier.

    A customer without a membership row yet is shown as it would be created: lowest tier, 0 points (reading
    writes nothing)."""
    customer = _customer(user, customer_id)
    ladder = tiers()
    membership = Membership.objects.filter(pk=customer.pk).select_related("tier").first()
    points, spend = window_stats([customer.pk], now or timezone.now())[customer.pk]
    tier = membership.tier if membership else ladder[0]
    higher = [t for t in ladder if t.rank > tier.rank]
    next_tier = higher[0] if higher else None
    points_to_next = spend_to_next = None
    progress = 1.0
    if next_tier is not None:
        points_to_next = max(0, next_tier.min_points - points)
        spend_to_next = max(Decimal(0), next_tier.min_spend - spend)
        shares = []
        if next_tier.min_points:
            shares.append(min(1.0, points / next_tier.min_points))
        if next_tier.min_spend:
            shares.append(min(1.0, float(spend / next_tier.min_spend)))
        progress = max(shares) if shares else 1.0
    return MemberSummary(
        customer_id=customer.pk,
        customer_name=customer.display_name if access.can_see_personal_data(user) else "",
        tier=tier,
        balance=membership.balance if membership else 0,
        joined_at=membership.joined_at if membership else None,
        birth_date=membership.birth_date if membership and access.can_see_personal_data(user) else None,
        window_points=points,
        window_spend=spend,
        next_tier=next_tier,
        points_to_next=points_to_next,
        spend_to_next=spend_to_next,
        progress=round(progress, 4),
        version=membership.version if membership else 0,
    )


def ledger(user, customer_id: int) -> QuerySet:
    """The customer's points entries, newest first."""
    customer = _customer(user, customer_id)
    return PointsEntry.objects.filter(customer=customer).select_related("actor").order_by("-earned_at", "-pk")


def tier_history(user, customer_id: int) -> QuerySet:
    customer = _customer(user, customer_id)
    return TierChange.objects.filter(customer=customer).select_related("from_tier", "to_tier").order_by("-at", "-pk")


def list_members(user, *, tier: str = "") -> QuerySet:
    """Memberships of the customers ``user`` may see, highest tier and balance first."""
    members = access.restrict(Membership.objects.all(), user, via="customer").select_related("tier", "customer")
    if tier:
        members = members.filter(tier__key=tier)
    return members.order_by("-tier__rank", "-balance", "pk")


def members_per_tier(user) -> list[tuple[MembershipTier, int]]:
    """How many of the customers ``user`` may see hold each tier (aggregates: analysts too)."""
    counts = dict(
        access.restrict(Membership.objects.all(), user, via="customer")
        .values("tier_id")
        .annotate(n=Count("pk"))
        .values_list("tier_id", "n")
    )
    return [(tier, counts.get(tier.pk, 0)) for tier in tiers()]


def list_tiers() -> list[MembershipTier]:
    return tiers()


def list_campaigns() -> QuerySet:
    return BonusCampaign.objects.order_by("-starts_at", "-pk")


def current_programme():
    return programme()

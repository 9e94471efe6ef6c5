"""The programme's settings and its tier ladder: reads used everywhere, and the admins' writes."""

from datetime import date, datetime
from decimal import Decimal
from importlib import import_module

from dateutil.relativedelta import relativedelta
from django.apps import apps as django_apps
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.core import access, events
from guanxi.core.errors import Conflict
from guanxi.core.locking import bump_version, check_version
from guanxi.loyalty.errors import CampaignNotFound, LoyaltyDenied, PointsInvalid, TierInvalid, TierNotFound
from guanxi.loyalty.models import BonusCampaign, MembershipTier, Programme, TierChange

# ------------------------------------------------------------------------------------------------ settings


def ensure_defaults() -> None:
    """The seeded tiers and programme row, if a test flush or an operator removed them."""
    if not MembershipTier.objects.exists() or not Programme.objects.exists():
        import_module("guanxi.loyalty.migrations.0002_default_tiers").create_defaults(django_apps, None)


def programme() -> Programme:
    found = Programme.objects.order_by("pk").first()
    if found is None:
        ensure_defaults()
        found = Programme.objects.order_by("pk").first()
    return found


def tiers() -> list[MembershipTier]:
    found = list(MembershipTier.objects.order_by("rank"))
    if not found:
        ensure_defaults()
        found = list(MembershipTier.objects.order_by("rank"))
    return found


def lot_expiry(earned_on: date, settings: Programme) -> date | None:
    """When points earned on ``earned_on`` expire (they are usable through that day)."""
    if settings.expiry == Programme.Expiry.NEVER:
        return None
    if settings.expiry == Programme.Expiry.MONTHS:
        return earned_on + relativedelta(months=settings.expiry_months)
    return date(earned_on.year + 1, 12, 31)


def window_start(now: datetime, settings: Programme) -> datetime:
    """The rolling window is (now - window_months, now]: a point earned exactly at the start no longer counts."""
    return now - relativedelta(months=settings.window_months)


def is_manager(user) -> bool:
    return access.role_of(user) in (access.ADMIN, access.MANAGER)


def _require_admin(actor) -> None:
    if access.role_of(actor) != access.ADMIN:
        raise LoyaltyDenied(_("Only administrators may change the membership programme."))


# ------------------------------------------------------------------------------------------------ admin


TIER_FIELDS = (
    "key",
    "name",
    "name_zh_hans",
    "rank",
    "min_points",
    "min_spend",
    "multiplier",
    "discount_percent",
    "benefits",
    "benefits_zh_hans",
)

PROGRAMME_FIELDS = (
    "name",
    "name_zh_hans",
    "points_per_unit",
    "points_per_order",
    "currency",
    "expiry",
    "expiry_months",
    "window_months",
    "adjustment_threshold",
)


@transaction.atomic
def update_programme(*, actor, data: dict, version: int | None) -> Programme:
    """Change the programme's settings (admins), with optimistic locking on ``version``.

    Emits ``loyalty.programme_updated``."""
    _require_admin(actor)
    settings = Programme.objects.select_for_update().get(pk=programme().pk)
    check_version(settings, version)
    errors: dict[str, list[str]] = {}
    if "currency" in data:
        data["currency"] = str(data["currency"]).upper()
        if len(data["currency"]) != 3 or not data["currency"].isalpha():
            errors["currency"] = [_("Use a three-letter ISO 4217 code such as CNY.")]
    if "expiry" in data and data["expiry"] not in Programme.Expiry.values:
        errors["expiry"] = [_("Unknown expiry rule.")]
    if "window_months" in data and not 1 <= int(data["window_months"]) <= 120:
        errors["window_months"] = [_("Between 1 and 120 months.")]
    if "points_per_unit" in data and Decimal(data["points_per_unit"]) < 0:
        errors["points_per_unit"] = [_("Cannot be negative.")]
    if errors:
        raise PointsInvalid(_("The programme settings are not valid."), **errors)
    before = events.snapshot(settings, PROGRAMME_FIELDS)
    for name in PROGRAMME_FIELDS:
        if name in data:
            setattr(settings, name, data[name])
    bump_version(settings)
    settings.save()
    events.record(
        "loyalty.programme_updated",
        subject=settings,
        actor=actor,
        audit_action="update",
        changes=events.diff(before, events.snapshot(settings, PROGRAMME_FIELDS)),
    )
    return settings


def _check_tier(data: dict, tier: MembershipTier | None) -> None:
    errors: dict[str, list[str]] = {}
    others = MembershipTier.objects.exclude(pk=tier.pk) if tier else MembershipTier.objects.all()
    if "key" in data and others.filter(key=data["key"]).exists():
        errors["key"] = [_("Another tier has this key.")]
    if "rank" in data and others.filter(rank=data["rank"]).exists():
        errors["rank"] = [_("Another tier has this rank.")]
    if "name" in data and not str(data["name"]).strip():
        errors["name"] = [_("A name is required.")]
    if errors:
        raise TierInvalid(_("The tier is not valid."), **errors)


@transaction.atomic
def create_tier(*, actor, data: dict) -> MembershipTier:
    """A new tier (admins). Emits ``loyalty.tier_created``. Members move into it at the next review."""
    _require_admin(actor)
    _check_tier(data, None)
    tier = MembershipTier.objects.create(**{k: v for k, v in data.items() if k in TIER_FIELDS})
    events.record(
        "loyalty.tier_created", subject=tier, actor=actor, audit_action="create", changes={"key": [None, tier.key]}
    )
    return tier


@transaction.atomic
def update_tier(*, actor, tier_id: int, data: dict) -> MembershipTier:
    """Rename a tier or change its rule and benefits (admins). Emits ``loyalty.tier_updated``."""
    _require_admin(actor)
    tier = MembershipTier.objects.select_for_update().filter(pk=tier_id).first()
    if tier is None:
        raise TierNotFound(_("No tier with id %(id)s.") % {"id": tier_id})
    _check_tier(data, tier)
    before = events.snapshot(tier, TIER_FIELDS)
    for name in TIER_FIELDS:
        if name in data:
            setattr(tier, name, data[name])
    tier.save()
    events.record(
        "loyalty.tier_updated",
        subject=tier,
        actor=actor,
        audit_action="update",
        changes=events.diff(before, events.snapshot(tier, TIER_FIELDS)),
    )
    return tier


@transaction.atomic
def delete_tier(*, actor, tier_id: int) -> None:
    """Remove a tier nobody holds and no history names (admins); otherwise a 409. The lowest tier stays."""
    _require_admin(actor)
    tier = MembershipTier.objects.select_for_update().filter(pk=tier_id).first()
    if tier is None:
        raise TierNotFound(_("No tier with id %(id)s.") % {"id": tier_id})
    in_use = (
        tier.members.exists()
        or TierChange.objects.filter(Q(from_tier=tier) | Q(to_tier=tier)).exists()
        or not MembershipTier.objects.filter(rank__lt=tier.rank).exists()  # new members start in the lowest
    )
    if in_use:
        raise Conflict(_("This tier is in use; rename it instead."))
    events.record(
        "loyalty.tier_deleted", subject=tier, actor=actor, audit_action="delete", changes={"key": [tier.key, None]}
    )
    tier.delete()


CAMPAIGN_FIELDS = ("name", "name_zh_hans", "multiplier", "bonus_points", "starts_at", "ends_at", "rule", "active")


def _check_campaign(values: dict) -> None:
    errors: dict[str, list[str]] = {}
    if not str(values.get("name") or "").strip():
        errors["name"] = [_("A name is required.")]
    if Decimal(values.get("multiplier") or 1) < 1:
        errors["multiplier"] = [_("At least 1.")]
    if values.get("starts_at") and values.get("ends_at") and values["ends_at"] <= values["starts_at"]:
        errors["ends_at"] = [_("The end must be after the start.")]
    if errors:
        raise PointsInvalid(_("The bonus campaign is not valid."), **errors)
    if str(values.get("rule") or "").strip():
        from guanxi.core import rules

        rules.parse(values["rule"])  # RuleError (400 invalid_rule) with the position


@transaction.atomic
def create_campaign(*, actor, data: dict) -> BonusCampaign:
    """A bonus-points campaign (admins): extra multiplier and/or points per order while it runs."""
    _require_admin(actor)
    values = {k: v for k, v in data.items() if k in CAMPAIGN_FIELDS}
    _check_campaign(values)
    campaign = BonusCampaign.objects.create(**values)
    events.record(
        "loyalty.campaign_created",
        subject=campaign,
        actor=actor,
        audit_action="create",
        changes={k: [None, events.jsonable(v)] for k, v in values.items()},
    )
    return campaign


@transaction.atomic
def update_campaign(*, actor, campaign_id: int, data: dict) -> BonusCampaign:
    """Change or switch off a bonus campaign (admins). Points already earned stay."""
    _require_admin(actor)
    campaign = BonusCampaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound(_("No bonus campaign with id %(id)s.") % {"id": campaign_id})
    before = events.snapshot(campaign, CAMPAIGN_FIELDS)
    for name in CAMPAIGN_FIELDS:
        if name in data:
            setattr(campaign, name, data[name])
    _check_campaign({n: getattr(campaign, n) for n in CAMPAIGN_FIELDS})
    campaign.save()
    events.record(
        "loyalty.campaign_updated",
        subject=campaign,
        actor=actor,
        audit_action="update",
        changes=events.diff(before, events.snapshot(campaign, CAMPAIGN_FIELDS)),
    )
    return campaign

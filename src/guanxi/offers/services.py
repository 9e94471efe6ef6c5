"""Every write of offers: offer definitions, coupons (issue, redeem, void, expire), campaigns (create, launch with
a random control group), the always-on control groups of automation, and the birthday bonus.

Each public function is one transaction recording ``offer.*``, ``coupon.*`` or ``campaign.*`` events with their
audit entries. ``actor`` None is the system (automation, daily jobs): no access check. Bonus-points offers credit
the points when the coupon is redeemed (the customer used it), through ``guanxi.loyalty.services.credit_points``
with source key ``coupon:<id>``, so a replayed redemption credits nothing twice.
"""

import hashlib
import random
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.template import Context, Engine
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from guanxi.core import access, events, rules
from guanxi.core.locking import bump_version, check_version
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer
from guanxi.offers import selectors
from guanxi.offers.errors import (
    CampaignInvalid,
    CampaignLaunched,
    CouponAlreadyRedeemed,
    CouponExpired,
    CouponNotFound,
    CouponVoid,
    OfferInUse,
    OfferInvalid,
    OffersDenied,
    OfferUnavailable,
)
from guanxi.offers.models import Campaign, CampaignMember, Coupon, Offer

# No 0/O, 1/I/L: codes are read aloud over the phone and typed from receipts.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_ATTEMPTS = 8
WRITER_ROLES = (access.ADMIN, access.MANAGER, access.SALES)
MANAGER_ROLES = (access.ADMIN, access.MANAGER)
OFFER_FIELDS = (
    "key",
    "name",
    "name_zh_hans",
    "description",
    "kind",
    "value",
    "currency",
    "free_item_sku",
    "valid_from",
    "valid_until",
    "target_rule",
    "per_customer_limit",
    "coupon_valid_days",
    "control_share",
    "active",
)
CAMPAIGN_FIELDS = (
    "name",
    "offer_id",
    "audience_rule",
    "control_share",
    "measure_days",
    "seed",
    "email_template",
    "follow_up_title",
)
MAX_RULE = 2000
MAX_CONTROL_SHARE = Decimal("0.5")

_TEXT = Engine(autoescape=False)


# ------------------------------------------------------------------------------------------------ helpers


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What a person typed (lower case, spaces, dashes) as the stored code."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:20]


def ensure_manager(user) -> None:
    if access.role_of(user) not in MANAGER_ROLES:
        raise OffersDenied(_("Only admins and managers manage offers and campaigns."))


def check_rule(text: str, field: str) -> str:
    """Parse a rule (empty: everyone); raises ``rules.RuleError`` (400 invalid_rule) saying where, with ``field``."""
    text = (text or "").strip()
    if len(text) > MAX_RULE:
        message = _("At most %(n)d characters.") % {"n": MAX_RULE}
        raise OfferInvalid(message, **{field: [message]})
    if text:
        try:
            rules.parse(text)
        except rules.RuleError as exc:
            exc.details.setdefault("field", field)
            raise
    return text


def _decimal(value: Any, field: str, *, low: Decimal, high: Decimal) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        message = _("A number from %(low)s to %(high)s.") % {"low": low, "high": high}
        raise OfferInvalid(message, **{field: [message]})
    return number


def _int(value: Any, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        message = _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        raise OfferInvalid(message, **{field: [message]})
    return value


def _customer_for(actor, customer_id: int) -> Customer:
    """The customer, row-locked, if ``actor`` may change it (None: the system)."""
    if actor is None:
        customers = access.visible_customers(None, system=True)
    else:
        if access.role_of(actor) not in WRITER_ROLES:
            raise OffersDenied(_("Your role cannot issue coupons."))
        customers = access.editable_customers(actor)
    customer = customers.select_for_update(of=("self",)).filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return customer


def _coupon_payload(coupon: Coupon, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": coupon.customer_id,
        "coupon_id": coupon.pk,
        "code": coupon.code,
        "offer": coupon.offer.key,
        "offer_id": coupon.offer_id,
        "campaign_id": coupon.campaign_id,
        "status": coupon.status,
        **extra,
    }


# ------------------------------------------------------------------------------------------------ offers


def _clean_offer(data: dict[str, Any], current: Offer | None = None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    unknown = sorted(set(data) - set(OFFER_FIELDS))
    if unknown:
        raise OfferInvalid(_("Unknown fields."), **{name: [_("Unknown field.")] for name in unknown})
    for name, value in data.items():
        if name in ("key", "name", "name_zh_hans", "description", "free_item_sku", "currency"):
            value = (value or "").strip()
        if name == "key":
            if not value or len(value) > 50 or not all(ch.isalnum() or ch in "-_" for ch in value):
                message = _("Letters, digits, - and _ only, at most 50.")
                raise OfferInvalid(message, key=[message])
            others = Offer.objects.filter(key=value)
            if current is not None:
                others = others.exclude(pk=current.pk)
            if others.exists():
                raise OfferInvalid(_("This key is taken."), key=[_("This key is taken.")])
        elif name == "name" and not value:
            raise OfferInvalid(_("Enter a name."), name=[_("This field is required.")])
        elif name == "kind" and value not in Offer.Kind.values:
            raise OfferInvalid(_("Unknown kind."), kind=[_("Unknown kind.")])
        elif name == "value":
            value = _decimal(value, "value", low=Decimal("0"), high=Decimal("1000000"))
        elif name == "currency" and value and (len(value) != 3 or not value.isalpha()):
            raise OfferInvalid(_("A three-letter currency code."), currency=[_("A three-letter currency code.")])
        elif name == "target_rule":
            value = check_rule(value, "target_rule")
        elif name == "per_customer_limit":
            value = _int(value, name, low=0, high=1000)
        elif name == "coupon_valid_days":
            value = _int(value, name, low=1, high=3660)
        elif name == "control_share":
            value = _decimal(value, name, low=Decimal("0"), high=MAX_CONTROL_SHARE)
        elif name == "active":
            value = bool(value)
        clean[name] = value
    merged = {name: getattr(current, name) for name in OFFER_FIELDS} if current else {}
    merged.update(clean)
    kind, amount = merged.get("kind"), merged.get("value") or Decimal("0")
    if kind == Offer.Kind.PERCENT_OFF and not Decimal("0") < amount <= Decimal("100"):
        raise OfferInvalid(_("A percentage from 0 to 100."), value=[_("A percentage from 0 to 100.")])
    if kind in (Offer.Kind.AMOUNT_OFF, Offer.Kind.BONUS_POINTS) and amount <= 0:
        raise OfferInvalid(_("Enter a value above 0."), value=[_("Enter a value above 0.")])
    if kind == Offer.Kind.BONUS_POINTS and amount != amount.to_integral_value():
        raise OfferInvalid(_("Points are whole numbers."), value=[_("Points are whole numbers.")])
    if kind == Offer.Kind.FREE_ITEM and not merged.get("free_item_sku"):
        raise OfferInvalid(_("Name the free item's SKU."), free_item_sku=[_("This field is required.")])
    start, end = merged.get("valid_from"), merged.get("valid_until")
    if start and end and end <= start:
        message = _("The end must be after the start.")
        raise OfferInvalid(message, valid_until=[message])
    return clean


@transaction.atomic
def create_offer(*, actor, data: dict[str, Any]) -> Offer:
    """Define an offer (admins and managers). The target rule is checked (400 invalid_rule with line and column).
    Emits ``offer.created``."""
    ensure_manager(actor)
    for required in ("key", "name", "kind"):
        if not data.get(required):
            raise OfferInvalid(_("%(field)s is required.") % {"field": required}, **{required: [_("Required.")]})
    offer = Offer(**_clean_offer(data))
    offer.save()
    events.record(
        "offer.created",
        subject=offer,
        actor=actor,
        payload={"offer_id": offer.pk, "key": offer.key},
        audit_action="create",
        changes=events.snapshot(offer, OFFER_FIELDS),
    )
    return offer


@transaction.atomic
def update_offer(*, actor, offer_id: int, version: int | None, data: dict[str, Any]) -> Offer:
    """Change an offer (admins and managers); a stale ``version`` is a 409. Issued coupons keep their expiry.
    Emits ``offer.updated``."""
    ensure_manager(actor)
    selectors.get_offer(actor, offer_id)
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    check_version(offer, version)
    clean = _clean_offer(data, current=offer)
    before = events.snapshot(offer, OFFER_FIELDS)
    for name, value in clean.items():
        setattr(offer, name, value)
    bump_version(offer)
    offer.save()
    events.record(
        "offer.updated",
        subject=offer,
        actor=actor,
        payload={"offer_id": offer.pk, "key": offer.key},
        audit_action="update",
        changes=events.diff(before, events.snapshot(offer, OFFER_FIELDS)),
    )
    return offer


@transaction.atomic
def delete_offer(*, actor, offer_id: int, version: int | None) -> None:
    """Delete an offer that was never used (admins and managers). One with coupons or campaigns is a 409
    offer_in_use: deactivate it instead, so its history and reports stay. Emits ``offer.deleted``."""
    ensure_manager(actor)
    selectors.get_offer(actor, offer_id)
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    check_version(offer, version)
    if offer.coupons.exists() or offer.campaigns.exists():
        raise OfferInUse(
            _("The offer “%(name)s” has coupons or campaigns; deactivate it instead.") % {"name": offer.display_name}
        )
    events.record(
        "offer.deleted",
        subject=offer,
        actor=actor,
        payload={"offer_id": offer.pk, "key": offer.key},
        audit_action="delete",
        changes=events.snapshot(offer, OFFER_FIELDS),
    )
    offer.delete()


def _available(offer: Offer, now: datetime) -> None:
    if not offer.active:
        raise OfferUnavailable(_("The offer “%(name)s” is not active.") % {"name": offer.display_name})
    if offer.valid_from and now < offer.valid_from:
        raise OfferUnavailable(
            _("The offer “%(name)s” starts on %(date)s.")
            % {"name": offer.display_name, "date": formats.date_format(timezone.localtime(offer.valid_from))}
        )
    if offer.valid_until and now >= offer.valid_until:
        raise OfferUnavailable(
            _("The offer “%(name)s” ended on %(date)s.")
            % {"name": offer.display_name, "date": formats.date_format(timezone.localtime(offer.valid_until))}
        )


def _expiry(offer: Offer, now: datetime) -> datetime:
    expires = now + timedelta(days=offer.coupon_valid_days)
    return min(expires, offer.valid_until) if offer.valid_until else expires


def held_coupons(offer_id: int, *, now: datetime | None = None) -> QuerySet:
    """Coupons that count against the per-customer limit: still usable (issued, not past expiry, even if the
    daily job has not marked it yet) or redeemed."""
    usable = Q(status=Coupon.Status.ISSUED, expires_at__gt=now or timezone.now())
    return Coupon.objects.filter(usable | Q(status=Coupon.Status.REDEEMED), offer_id=offer_id)


def eligible(offer: Offer, customers: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """``customers`` who may get a coupon of ``offer``: matching its target rule and below its per-customer limit."""
    if offer.target_rule.strip():
        customers = rules.filter_customers(customers, rules.parse(offer.target_rule), now=now)
    if offer.per_customer_limit:
        at_limit = (
            held_coupons(offer.pk, now=now)
            .values("customer_id")
            .order_by()
            .annotate(n=Count("id"))
            .filter(n__gte=offer.per_customer_limit)
            .values("customer_id")
        )
        customers = customers.exclude(pk__in=at_limit)
    return customers


# ------------------------------------------------------------------------------------------------ coupons


def _insert_coupon(**fields: Any) -> Coupon:
    """Insert with a fresh random code, drawing again on the (rare) collision."""
    for _attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return Coupon.objects.create(code=new_code(), **fields)
        except IntegrityError:
            if Coupon.objects.filter(source_key=fields["source_key"]).exists():
                raise
    raise RuntimeError("no free coupon code after several attempts")


@transaction.atomic
def issue_coupon(
    *,
    actor,
    offer_id: int,
    customer_id: int,
    source_key: str = "",
    campaign: Campaign | None = None,
    check_target: bool = True,
) -> Coupon:
    """Give ``customer_id`` a coupon of the offer with a unique code, valid ``coupon_valid_days``.

    Idempotent on ``source_key`` (default: a new random key, so each call issues): issuing again with the same key
    returns the stored coupon. The offer must be active and inside its validity window, the customer must match
    its target rule and hold fewer than ``per_customer_limit`` usable or used coupons of it (else 409
    offer_unavailable). ``actor`` must be able to change the customer (else 404); None is the system.
    Emits ``coupon.issued``.
    """
    source_key = (source_key or f"manual:{secrets.token_hex(8)}").strip()[:150]
    existing = Coupon.objects.select_related("offer").filter(source_key=source_key).first()
    if existing is not None:
        if existing.offer_id != offer_id or existing.customer_id != customer_id:
            raise OfferUnavailable(_("This source key was used for another coupon."), source_key=[source_key])
        return existing
    customer = _customer_for(actor, customer_id)  # the lock also serialises the limit check per customer
    existing = Coupon.objects.select_related("offer").filter(source_key=source_key).first()
    if existing is not None:  # issued by a concurrent call with the same key while we waited for the lock
        return existing
    offer = Offer.objects.filter(pk=offer_id).first()
    if offer is None:
        raise selectors.OfferNotFound(_("No offer with id %(id)s.") % {"id": offer_id})
    now = timezone.now()
    _available(offer, now)
    target = offer.target_rule.strip()
    if check_target and target and not rules.matches(rules.parse(target), customer.pk, now=now):
        raise OfferUnavailable(
            _("%(customer)s is not in the target of the offer “%(name)s”.")
            % {"customer": customer.display_name, "name": offer.display_name}
        )
    if offer.per_customer_limit and held_coupons(offer.pk, now=now).filter(customer=customer).count() >= (
        offer.per_customer_limit
    ):
        raise OfferUnavailable(
            _("%(customer)s already has %(n)d coupon(s) of “%(name)s”, the most a customer may hold.")
            % {"customer": customer.display_name, "n": offer.per_customer_limit, "name": offer.display_name}
        )
    try:
        coupon = _insert_coupon(
            offer=offer,
            customer=customer,
            issued_at=now,
            expires_at=_expiry(offer, now),
            campaign=campaign,
            source_key=source_key,
            issued_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    except IntegrityError:  # the same source key, issued by a concurrent call that committed first
        return Coupon.objects.select_related("offer").get(source_key=source_key)
    events.record(
        "coupon.issued",
        subject=coupon,
        actor=actor,
        payload=_coupon_payload(coupon, expires_at=coupon.expires_at),
        audit_action="create",
        changes=events.snapshot(coupon, ("code", "offer_id", "customer_id", "expires_at", "source_key")),
    )
    return coupon


def _date(at: datetime) -> str:
    return formats.date_format(timezone.localtime(at))


@transaction.atomic
def redeem_coupon(*, actor, code: str, order_id: int | None = None, customer_id: int | None = None) -> Coupon:
    """Use a coupon, optionally on an order of the same customer.

    The coupon row is locked, so of two concurrent redemptions one wins and the other gets a clear 409. Idempotent
    on (code, order): redeeming on the same order again returns the coupon. Otherwise a used coupon is a 409
    coupon_already_redeemed ("already redeemed on <date>"), an expired one 409 coupon_expired, a void one 409
    coupon_void. A code of a customer the actor may not change, or not of ``customer_id`` / the order's customer,
    is a 404 coupon_not_found (the same answer as an unknown code). Bonus-points offers credit their points here.
    Emits ``coupon.redeemed``.
    """
    if actor is not None and access.role_of(actor) not in WRITER_ROLES:
        raise OffersDenied(_("Your role cannot redeem coupons."))
    normalised = normalise_code(code)
    not_found = CouponNotFound(_("No coupon with the code %(code)s.") % {"code": normalised or "-"})
    coupons = Coupon.objects.filter(code=normalised)
    if actor is not None:
        coupons = coupons.filter(customer__in=access.editable_customers(actor))
    coupon = coupons.select_for_update(of=("self",)).select_related("offer", "customer").first()
    if coupon is None or (customer_id is not None and coupon.customer_id != customer_id):
        raise not_found
    order = None
    if order_id is not None:
        order = apps.get_model("commerce", "Order").objects.filter(pk=order_id).first()
        if order is None or order.customer_id != coupon.customer_id:
            raise not_found
    now = timezone.now()
    if coupon.status == Coupon.Status.REDEEMED:
        if order_id is not None and coupon.order_id == order_id:
            return coupon
        raise CouponAlreadyRedeemed(
            _("Coupon %(code)s was already redeemed on %(date)s.")
            % {"code": coupon.code, "date": _date(coupon.redeemed_at)},
            redeemed_at=coupon.redeemed_at.isoformat(),
            order_id=coupon.order_id,
        )
    if coupon.status == Coupon.Status.VOID:
        raise CouponVoid(_("Coupon %(code)s was cancelled.") % {"code": coupon.code})
    if coupon.status == Coupon.Status.EXPIRED or coupon.expires_at <= now:
        raise CouponExpired(
            _("Coupon %(code)s expired on %(date)s.") % {"code": coupon.code, "date": _date(coupon.expires_at)},
            expires_at=coupon.expires_at.isoformat(),
        )
    coupon.status = Coupon.Status.REDEEMED
    coupon.redeemed_at = now
    coupon.order = order
    coupon.redeemed_by = actor if getattr(actor, "is_authenticated", False) else None
    coupon.save(update_fields=["status", "redeemed_at", "order", "redeemed_by"])
    extra: dict[str, Any] = {"order_id": order_id}
    if coupon.offer.kind == Offer.Kind.BONUS_POINTS:
        from guanxi.loyalty.services import credit_points

        entry = credit_points(
            customer_id=coupon.customer_id,
            points=int(coupon.offer.value),
            source_key=f"coupon:{coupon.pk}",
            reason=_("Coupon %(code)s: %(offer)s") % {"code": coupon.code, "offer": coupon.offer.name},
            actor=actor,
            kind="adjust",
        )
        extra["points_entry_id"] = entry.pk
    events.record(
        "coupon.redeemed",
        subject=coupon,
        actor=actor,
        payload=_coupon_payload(coupon, **extra),
        audit_action="update",
        changes={"status": [Coupon.Status.ISSUED, Coupon.Status.REDEEMED], "order_id": [None, order_id]},
    )
    return coupon


@transaction.atomic
def void_coupon(*, actor, coupon_id: int) -> Coupon:
    """Cancel an unused coupon (admins and managers; issued by mistake). Emits ``coupon.voided``."""
    ensure_manager(actor)
    selectors.get_coupon(actor, coupon_id)
    coupon = Coupon.objects.select_for_update(of=("self",)).select_related("offer").get(pk=coupon_id)
    if coupon.status != Coupon.Status.ISSUED:
        raise CouponVoid(
            _("Only an unused coupon can be cancelled; this one is %(status)s.")
            % {"status": coupon.get_status_display()}
        )
    coupon.status = Coupon.Status.VOID
    coupon.save(update_fields=["status"])
    events.record(
        "coupon.voided",
        subject=coupon,
        actor=actor,
        payload=_coupon_payload(coupon),
        audit_action="update",
        changes={"status": [Coupon.Status.ISSUED, Coupon.Status.VOID]},
    )
    return coupon


@transaction.atomic
def expire_coupons(*, now: datetime | None = None) -> int:
    """Mark every issued coupon past its expiry as expired (daily job; a second run changes nothing).
    Emits ``coupon.expired`` per coupon, in bulk."""
    now = now or timezone.now()
    due = list(
        Coupon.objects.select_for_update(of=("self",))
        .select_related("offer")
        .filter(status=Coupon.Status.ISSUED, expires_at__lte=now)
        .order_by("pk")
    )
    if not due:
        return 0
    Coupon.objects.filter(pk__in=[c.pk for c in due]).update(status=Coupon.Status.EXPIRED)
    for coupon in due:
        coupon.status = Coupon.Status.EXPIRED
    events.record_many(
        "coupon.expired",
        [(c, _coupon_payload(c), {"status": [Coupon.Status.ISSUED, Coupon.Status.EXPIRED]}) for c in due],
        audit_action="update",
    )
    return len(due)


def _bulk_issue(offer: Offer, customers: list[Customer], *, campaign: Campaign, now: datetime) -> dict[int, Coupon]:
    """Coupons for many customers at once (a campaign launch): codes drawn in Python, collisions drawn again."""
    expires = _expiry(offer, now)
    codes: set[str] = set()
    while len(codes) < len(customers):
        needed = len(customers) - len(codes)
        fresh = {new_code() for _ in range(needed)} - codes
        taken = set(Coupon.objects.filter(code__in=fresh).values_list("code", flat=True))
        codes |= fresh - taken
    created = Coupon.objects.bulk_create(
        [
            Coupon(
                code=code,
                offer=offer,
                customer=customer,
                issued_at=now,
                expires_at=expires,
                campaign=campaign,
                source_key=f"campaign:{campaign.pk}:{customer.pk}",
            )
            for customer, code in zip(customers, sorted(codes), strict=True)
        ]
    )
    if any(c.pk is None for c in created):  # pragma: no cover - SQLite 3.35+ and PostgreSQL return keys
        created = list(Coupon.objects.filter(campaign=campaign, customer__in=customers))
    events.record_many(
        "coupon.issued",
        [(c, _coupon_payload(c, expires_at=c.expires_at), None) for c in created],
        audit_action="create",
    )
    return {c.customer_id: c for c in created}


# ------------------------------------------------------------------------------------------------ campaigns


def _clean_campaign(data: dict[str, Any], current: Campaign | None = None) -> dict[str, Any]:
    unknown = sorted(set(data) - set(CAMPAIGN_FIELDS))
    if unknown:
        raise CampaignInvalid(_("Unknown fields."), **{name: [_("Unknown field.")] for name in unknown})
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name in ("name", "email_template", "follow_up_title", "audience_rule"):
            value = (value or "").strip()
        if name == "name" and not value:
            raise CampaignInvalid(_("Enter a name."), name=[_("This field is required.")])
        if name == "name" and len(value) > 200:
            raise CampaignInvalid(_("At most 200 characters."), name=[_("At most 200 characters.")])
        elif name == "offer_id":
            if not Offer.objects.filter(pk=value).exists():
                raise CampaignInvalid(_("No offer with this id."), offer_id=[_("No offer with this id.")])
        elif name == "audience_rule":
            value = check_rule(value, "audience_rule")
        elif name == "control_share":
            try:
                value = _decimal(value, name, low=Decimal("0.01"), high=MAX_CONTROL_SHARE)
            except OfferInvalid as exc:
                raise CampaignInvalid(exc.message, **exc.details) from None
        elif name == "measure_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 7 <= value <= 365:
                message = _("A whole number from %(low)d to %(high)d.") % {"low": 7, "high": 365}
                raise CampaignInvalid(message, measure_days=[message])
        elif name == "seed":
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
                raise CampaignInvalid(_("A whole number."), seed=[_("A whole number.")])
        elif name == "email_template" and value:
            if not apps.get_model("automation", "EmailTemplate").objects.filter(key=value).exists():
                raise CampaignInvalid(_("No e-mail template with this key."), email_template=[_("Unknown key.")])
        elif name == "follow_up_title" and len(value) > 200:
            raise CampaignInvalid(_("At most 200 characters."), follow_up_title=[_("At most 200 characters.")])
        clean[name] = value
    return clean


def _campaign_payload(campaign: Campaign, **extra: Any) -> dict[str, Any]:
    return {"campaign_id": campaign.pk, "offer_id": campaign.offer_id, "kind": campaign.kind, **extra}


@transaction.atomic
def create_campaign(*, actor, data: dict[str, Any]) -> Campaign:
    """A draft campaign of an offer for an audience rule (admins and managers). The control share defaults to
    the offer's, the seed to a random number (stored, so the split can be reproduced). Emits ``campaign.created``."""
    ensure_manager(actor)
    if not data.get("name") or not data.get("offer_id"):
        raise CampaignInvalid(_("Name the campaign and choose an offer."), offer_id=[_("Required.")])
    clean = _clean_campaign(data)
    offer = Offer.objects.get(pk=clean["offer_id"])
    clean.setdefault("control_share", offer.control_share or Decimal("0.10"))
    if clean.get("seed") is None:
        clean["seed"] = secrets.randbelow(2**31)
    team_ids = access.managed_team_ids(actor)
    campaign = Campaign.objects.create(
        **clean,
        created_by=actor,
        team_id=actor.team_id if team_ids is not None and actor.team_id in team_ids else None,
    )
    events.record(
        "campaign.created",
        subject=campaign,
        actor=actor,
        payload=_campaign_payload(campaign),
        audit_action="create",
        changes=events.snapshot(campaign, (*CAMPAIGN_FIELDS, "kind")),
    )
    return campaign


@transaction.atomic
def update_campaign(*, actor, campaign_id: int, version: int | None, data: dict[str, Any]) -> Campaign:
    """Change a draft campaign; a launched one is a 409 (its split is what the report measures)."""
    ensure_manager(actor)
    selectors.get_campaign(actor, campaign_id)
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    check_version(campaign, version)
    if campaign.status != Campaign.Status.DRAFT or campaign.kind != Campaign.Kind.MANUAL:
        raise CampaignLaunched(_("A launched campaign cannot be changed."))
    clean = _clean_campaign(data, current=campaign)
    before = events.snapshot(campaign, CAMPAIGN_FIELDS)
    for name, value in clean.items():
        setattr(campaign, name, value)
    bump_version(campaign)
    campaign.save()
    events.record(
        "campaign.updated",
        subject=campaign,
        actor=actor,
        payload=_campaign_payload(campaign),
        audit_action="update",
        changes=events.diff(before, events.snapshot(campaign, CAMPAIGN_FIELDS)),
    )
    return campaign


@transaction.atomic
def delete_campaign(*, actor, campaign_id: int, version: int | None) -> None:
    """Delete a draft campaign (a launched one is a 409: its members and coupons are what the report measures).
    Emits ``campaign.deleted``."""
    ensure_manager(actor)
    selectors.get_campaign(actor, campaign_id)
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    check_version(campaign, version)
    if campaign.status != Campaign.Status.DRAFT or campaign.kind != Campaign.Kind.MANUAL:
        raise CampaignLaunched(_("A launched campaign cannot be deleted."))
    events.record(
        "campaign.deleted",
        subject=campaign,
        actor=actor,
        payload=_campaign_payload(campaign),
        audit_action="delete",
        changes=events.snapshot(campaign, CAMPAIGN_FIELDS),
    )
    campaign.delete()


def split(customer_ids: list[int], *, share: Decimal | float, seed: int) -> tuple[list[int], list[int]]:
    """(treated, control): a seeded shuffle of the sorted ids, the first ``round(n * share)`` held out.

    The same ids, share and seed always give the same split (the report can be re-derived and audited)."""
    ids = sorted(customer_ids)
    random.Random(seed).shuffle(ids)
    n_control = round(len(ids) * float(share))
    if share and ids and n_control == 0:
        n_control = 1 if len(ids) > 1 else 0
    return sorted(ids[n_control:]), sorted(ids[:n_control])


def in_control(seed: int, customer_id: int, share: Decimal | float) -> bool:
    """The always-on assignment: a hash of (seed, customer) as a uniform number, held out below ``share``."""
    digest = hashlib.sha256(f"{seed}:{customer_id}".encode()).hexdigest()
    return int(digest[:15], 16) / 16**15 < float(share)


def opted_out(customers: QuerySet) -> QuerySet:
    """Those of ``customers`` whose latest marketing consent is a withdrawal: they asked not to be contacted."""
    Consent = apps.get_model("privacy", "Consent")
    latest = (
        Consent.objects.filter(customer_id=OuterRef("pk"), channel="email_marketing")
        .order_by("-recorded_at", "-id")
        .values("status")[:1]
    )
    return customers.alias(_marketing=Subquery(latest)).filter(_marketing="withdrawn")


def audience(actor, campaign: Campaign, *, now: datetime | None = None) -> QuerySet:
    """Who a launch would reach: customers the actor may change (admins: all) matching the audience rule and the
    offer's target, below the offer's per-customer limit, not opted out of marketing contact."""
    customers = access.editable_customers(actor) if actor is not None else access.visible_customers(None, system=True)
    customers = customers.filter(merged_into__isnull=True)
    if campaign.audience_rule.strip():
        customers = rules.filter_customers(customers, rules.parse(campaign.audience_rule), now=now)
    customers = eligible(campaign.offer, customers, now=now)
    return customers.exclude(pk__in=opted_out(Customer.objects.all()).values("pk"))


def _send_offer_emails(campaign: Campaign, coupons: dict[int, Coupon], customers: list[Customer]) -> int:
    from guanxi.integrations.services import send_templated_email

    template = apps.get_model("automation", "EmailTemplate").objects.filter(key=campaign.email_template).first()
    if template is None:
        return 0
    sent = 0
    for customer in customers:
        if not customer.emails:
            continue
        coupon = coupons[customer.pk]
        owner = customer.owner
        context = Context(
            {
                "customer": {"display_name": customer.display_name, "given_name": customer.given_name},
                "owner": {"name": (owner.get_full_name() or owner.get_username()) if owner else ""},
                "coupon": {"code": coupon.code, "expires_on": timezone.localtime(coupon.expires_at).date()},
                "offer": {"name": campaign.offer.name, "name_zh_hans": campaign.offer.name_zh_hans},
            },
            autoescape=False,
        )
        sent += bool(
            send_templated_email(
                to=customer.emails[0],
                subject=_TEXT.from_string(template.subject_en).render(context).strip().replace("\n", " "),
                body=_TEXT.from_string(template.body_en).render(context),
                customer=customer,
                channel="email_marketing",
            )
        )
    return sent


@transaction.atomic
def launch_campaign(*, actor, campaign_id: int, version: int | None = None) -> Campaign:
    """Launch a draft campaign: split its audience (``audience``) by the seed into treated and control; treated
    members get a coupon (and the e-mail, with marketing consent; and a follow-up for their owner, if set);
    control members get nothing and are only recorded. Emits ``campaign.launched`` and ``coupon.issued``.
    A campaign is launched once (409 otherwise); an empty audience is a 422."""
    ensure_manager(actor)
    selectors.get_campaign(actor, campaign_id)
    campaign = Campaign.objects.select_for_update().select_related("offer").get(pk=campaign_id)
    if version is not None:
        check_version(campaign, version)
    if campaign.status != Campaign.Status.DRAFT or campaign.kind != Campaign.Kind.MANUAL:
        raise CampaignLaunched(_("This campaign was already launched."))
    now = timezone.now()
    _available(campaign.offer, now)
    ids = list(audience(actor, campaign, now=now).values_list("pk", flat=True))
    if not ids:
        raise CampaignInvalid(_("No customer matches the audience."), audience_rule=[_("No customer matches.")])
    treated_ids, control_ids = split(ids, share=campaign.control_share, seed=campaign.seed)
    treated = list(Customer.objects.filter(pk__in=treated_ids).select_related("owner").order_by("pk"))
    coupons = _bulk_issue(campaign.offer, treated, campaign=campaign, now=now) if treated else {}
    CampaignMember.objects.bulk_create(
        [
            CampaignMember(
                campaign=campaign,
                customer_id=cid,
                group=CampaignMember.Group.TREATED,
                coupon=coupons.get(cid),
                assigned_at=now,
            )
            for cid in treated_ids
        ]
        + [
            CampaignMember(campaign=campaign, customer_id=cid, group=CampaignMember.Group.CONTROL, assigned_at=now)
            for cid in control_ids
        ],
        batch_size=1000,
    )
    emails = _send_offer_emails(campaign, coupons, treated) if campaign.email_template else 0
    follow_ups = 0
    if campaign.follow_up_title:
        from guanxi.followups import services as followups

        for customer in treated:
            if customer.owner_id:
                followups.create_follow_up(
                    actor=None,
                    customer_id=customer.pk,
                    title=campaign.follow_up_title,
                    due_on=timezone.localdate(now) + timedelta(days=2),
                    source="automation",
                    note=_("Campaign %(name)s, coupon %(code)s")
                    % {"name": campaign.name, "code": coupons[customer.pk].code},
                    dedupe_key=f"campaign:{campaign.pk}",
                )
                follow_ups += 1
    campaign.status = Campaign.Status.LAUNCHED
    campaign.launched_at = now
    bump_version(campaign)
    campaign.save(update_fields=["status", "launched_at", "version"])
    events.record(
        "campaign.launched",
        subject=campaign,
        actor=actor,
        payload=_campaign_payload(
            campaign, treated=len(treated_ids), control=len(control_ids), emails=emails, follow_ups=follow_ups
        ),
        audit_action="update",
        changes={"status": ["draft", "launched"]},
    )
    return campaign


# ------------------------------------------------------------------------------------------------ always-on groups


def always_on_campaign(offer: Offer) -> Campaign:
    """The offer's always-on campaign (created on first use), where automation's issue_offer records who was
    treated and who held out. Call inside a transaction."""
    found = Campaign.objects.filter(offer=offer, kind=Campaign.Kind.ALWAYS_ON).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Campaign.objects.create(
                name=_("%(offer)s (automation)") % {"offer": offer.name},
                offer=offer,
                kind=Campaign.Kind.ALWAYS_ON,
                audience_rule=offer.target_rule,
                control_share=offer.control_share,
                seed=secrets.randbelow(2**31),
                status=Campaign.Status.LAUNCHED,
                launched_at=timezone.now(),
            )
    except IntegrityError:  # created by a concurrent rule run
        return Campaign.objects.get(offer=offer, kind=Campaign.Kind.ALWAYS_ON)


@transaction.atomic
def offer_with_control(*, offer_key: str, customer_id: int, source_key: str) -> tuple[CampaignMember, Coupon | None]:
    """Automation's issue_offer: the customer joins the offer's always-on campaign, in the control group with
    the offer's ``control_share`` (a seeded hash, so the same customer always lands in the same group), else
    treated with a coupon. A customer stays in the group of their first assignment; a treated member triggered
    again gets another coupon within the offer's limits. Raises OfferNotFound / OfferUnavailable."""
    offer = Offer.objects.filter(key=offer_key).first()
    if offer is None:
        raise selectors.OfferNotFound(_("No offer with the key %(key)s.") % {"key": offer_key})
    now = timezone.now()
    _available(offer, now)
    # Eligibility before the split, so that the control group holds the same kind of customers as the treated.
    if not eligible(offer, Customer.objects.filter(pk=customer_id, deleted_at__isnull=True), now=now).exists():
        raise OfferUnavailable(_("The customer is not eligible for the offer “%(name)s”.") % {"name": offer.name})
    campaign = always_on_campaign(offer)
    member = CampaignMember.objects.filter(campaign=campaign, customer_id=customer_id).first()
    if member is None:
        group = (
            CampaignMember.Group.CONTROL
            if in_control(campaign.seed, customer_id, campaign.control_share)
            else CampaignMember.Group.TREATED
        )
        member = CampaignMember.objects.create(campaign=campaign, customer_id=customer_id, group=group, assigned_at=now)
        events.record(
            "campaign.member_assigned",
            subject=campaign,
            payload=_campaign_payload(campaign, customer_id=customer_id, group=group),
        )
    if member.group == CampaignMember.Group.CONTROL:
        return member, None
    coupon = issue_coupon(
        actor=None, offer_id=offer.pk, customer_id=customer_id, source_key=source_key, campaign=campaign
    )
    if member.coupon_id is None:
        member.coupon = coupon
        member.save(update_fields=["coupon"])
    return member, coupon


# ------------------------------------------------------------------------------------------------ birthdays


BIRTHDAY_OFFER = "birthday_bonus"


def _birthday_q(today: date) -> Q:
    q = Q(birth_date__month=today.month, birth_date__day=today.day)
    if today.month == 2 and today.day == 28 and not _leap(today.year):
        q |= Q(birth_date__month=2, birth_date__day=29)  # a 29 February birthday is kept on the 28th
    return q


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def grant_birthday_bonus(*, today: date | None = None) -> int:
    """Daily: members whose birthday is today get the birthday_bonus offer's points, once per year (source key
    ``birthday:<customer>:<year>``). Nothing when the offer is missing, inactive or out of its window. Returns
    how many were credited today (a second run credits nobody again)."""
    from guanxi.loyalty.models import Membership, PointsEntry
    from guanxi.loyalty.services import credit_points

    today = today or timezone.localdate()
    offer = Offer.objects.filter(key=BIRTHDAY_OFFER, active=True, kind=Offer.Kind.BONUS_POINTS).first()
    if offer is None:
        return 0
    try:
        with transaction.atomic():
            _available(offer, timezone.now())
    except OfferUnavailable:
        return 0
    members = Membership.objects.filter(_birthday_q(today), customer__deleted_at__isnull=True)
    customers = members.values_list("customer_id", flat=True)
    if offer.target_rule.strip():
        matching = rules.filter_customers(Customer.objects.filter(pk__in=customers), rules.parse(offer.target_rule))
        customers = matching.values_list("pk", flat=True)
    keys = {cid: f"birthday:{cid}:{today.year}" for cid in customers}
    done = set(PointsEntry.objects.filter(source_key__in=keys.values()).values_list("source_key", flat=True))
    credited = 0
    for customer_id, key in sorted(keys.items()):
        if key in done:
            continue
        with transaction.atomic():
            credit_points(
                customer_id=customer_id,
                points=int(offer.value),
                source_key=key,
                reason=_("Birthday bonus %(year)d") % {"year": today.year},
                kind="adjust",
            )
        credited += 1
    return credited

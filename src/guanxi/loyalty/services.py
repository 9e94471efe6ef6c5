"""Writes to the membership programme: memberships, the points ledger, tiers and the programme's settings.

Every ledger write locks the customer's membership row first (``select_for_update``; on SQLite the IMMEDIATE
write transaction serialises writers), checks the source key under that lock (a replay returns the stored entry
and changes nothing), appends the entry (and, for a debit, its FIFO allocations to earn lots) and moves the cached
balance in the same transaction. The balance can therefore never go below zero through a race; the check
constraint on ``Membership.balance`` is the last line of defence.
"""

import json
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import access, events
from guanxi.core.locking import bump_version
from guanxi.loyalty.errors import (
    AdjustmentDenied,
    InsufficientPoints,
    MembershipNotFound,
    PointsInvalid,
    SourceKeyConflict,
)
from guanxi.loyalty.models import (
    BonusCampaign,
    Membership,
    MembershipTier,
    PointsAllocation,
    PointsEntry,
    Programme,
)
from guanxi.loyalty.programme import is_manager, lot_expiry, programme, tiers
from guanxi.loyalty.tiering import evaluate_tier, evaluate_tiers, move_tier

MAX_POINTS = 100_000_000


# ------------------------------------------------------------------------------------------------ memberships


def membership_for(customer_id: int) -> Membership:
    """The customer's membership, created in the lowest tier on first use (no access check: callers check)."""
    found = Membership.objects.filter(pk=customer_id).first()
    if found is not None:
        return found
    return _create_membership(customer_id)


def _create_membership(customer_id: int) -> Membership:
    if not django_apps.get_model("customers", "Customer").objects.filter(pk=customer_id).exists():
        raise MembershipNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    lowest = tiers()[0]
    now = timezone.now()
    try:
        with transaction.atomic():
            return Membership.objects.create(customer_id=customer_id, tier=lowest, joined_at=now, tier_since=now)
    except IntegrityError:  # created by a concurrent transaction a moment ago
        return Membership.objects.get(pk=customer_id)


def _locked(customer_id: int) -> Membership:
    """The membership row, locked for the rest of the transaction."""
    found = Membership.objects.select_for_update().filter(pk=customer_id).first()
    if found is None:
        _create_membership(customer_id)
        found = Membership.objects.select_for_update().get(pk=customer_id)
    return found


def _replayed(source_key: str, customer_id: int, kind: str) -> PointsEntry | None:
    existing = PointsEntry.objects.filter(source_key=source_key).first()
    if existing is None:
        return None
    if existing.customer_id != customer_id or existing.kind != kind:
        raise SourceKeyConflict(
            _("The source key %(key)s was already used for another entry.") % {"key": source_key},
            source_key=[_("Already used for another entry.")],
        )
    return existing


def _check_points(points) -> None:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0 or points > MAX_POINTS:
        raise PointsInvalid(
            _("Points must be a whole number between 1 and %(max)s.") % {"max": MAX_POINTS},
            points=[_("Enter a whole number of points greater than zero.")],
        )


def _check_key(source_key: str) -> str:
    source_key = (source_key or "").strip()
    if not source_key or len(source_key) > 150:
        raise PointsInvalid(_("A source key is required."), source_key=[_("Give a key of at most 150 characters.")])
    return source_key


def _entry_event(entry: PointsEntry, membership: Membership, actor) -> None:
    events.record(
        "points.credited" if entry.points > 0 else "points.debited",
        subject=membership.customer,
        actor=actor,
        payload={
            "customer_id": entry.customer_id,
            "entry_id": entry.pk,
            "kind": entry.kind,
            "points": entry.points,
            "balance": membership.balance,
            "source_key": entry.source_key,
            "order_id": entry.order_id,
        },
        audit_action="update" if entry.actor_id else None,
        changes={"points_balance": [membership.balance - entry.points, membership.balance]},
    )


def _credit(
    membership: Membership,
    *,
    points: int,
    source_key: str,
    kind: str,
    reason: str,
    actor,
    expires_on: date | None = None,
    earned_at: datetime | None = None,
    order_id: int | None = None,
    detail: dict | None = None,
) -> PointsEntry:
    earned_at = earned_at or timezone.now()
    if expires_on is None:
        expires_on = lot_expiry(timezone.localdate(earned_at), programme())
    entry = PointsEntry.objects.create(
        customer_id=membership.pk,
        kind=kind,
        points=points,
        source_key=source_key,
        order_id=order_id,
        earned_at=earned_at,
        expires_on=expires_on,
        reason=reason[:255],
        detail=detail or {},
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    membership.balance += points
    Membership.objects.filter(pk=membership.pk).update(balance=F("balance") + points)
    _entry_event(entry, membership, actor)
    return entry


def open_lots(customer_id: int, *, prefer_lot_id: int | None = None) -> list[tuple[int, int]]:
    """``(lot id, remaining points)`` of the customer's earn lots with points left, FIFO (soonest expiry first)."""
    lots = (
        PointsEntry.objects.filter(customer_id=customer_id, points__gt=0)
        .annotate(used=Coalesce(Sum("consumed_by__points"), 0))
        .filter(points__gt=F("used"))
        .order_by(F("expires_on").asc(nulls_last=True), "earned_at", "pk")
        .values_list("pk", "points", "used")
    )
    found = [(pk, points - used) for pk, points, used in lots]
    if prefer_lot_id is not None:
        found.sort(key=lambda lot: lot[0] != prefer_lot_id)
    return found


def _debit(
    membership: Membership,
    *,
    points: int,
    source_key: str,
    kind: str,
    reason: str,
    actor,
    order_id: int | None = None,
    reverses: PointsEntry | None = None,
    lots: list[tuple[int, int]] | None = None,
    detail: dict | None = None,
    earned_at: datetime | None = None,
) -> PointsEntry:
    """Append a negative entry of ``points`` and allocate it to earn lots FIFO. The caller checked the balance."""
    entry = PointsEntry.objects.create(
        customer_id=membership.pk,
        kind=kind,
        points=-points,
        source_key=source_key,
        order_id=order_id,
        earned_at=earned_at or timezone.now(),
        reason=reason[:255],
        detail=detail or {},
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reverses=reverses,
    )
    left = points
    allocations = []
    for lot_id, remaining in lots if lots is not None else open_lots(membership.pk):
        if left <= 0:
            break
        take = min(left, remaining)
        allocations.append(PointsAllocation(consumer=entry, lot_id=lot_id, points=take))
        left -= take
    PointsAllocation.objects.bulk_create(allocations)
    # left > 0 only if the cache and the lots disagree; the balance constraint still refuses a negative balance.
    if points:
        membership.balance -= points
        Membership.objects.filter(pk=membership.pk).update(balance=F("balance") - points)
        _entry_event(entry, membership, actor)
    return entry


@transaction.atomic
def credit_points(
    *,
    customer_id: int,
    points: int,
    source_key: str,
    reason: str,
    actor=None,
    kind: str = PointsEntry.Kind.EARN,
    expires_on: date | None = None,
) -> PointsEntry:
    """Add ``points`` to the customer's balance as a new lot (expiring per the programme unless ``expires_on``).

    Idempotent on ``source_key``: a replay returns the stored entry and credits nothing. No access check: for
    services and automation acting for the system (offers, campaigns); people adjust through ``adjust_points``.
    Emits ``points.credited``; an earn may upgrade the tier (``member.tier_changed``).
    """
    _check_points(points)
    source_key = _check_key(source_key)
    if kind not in (PointsEntry.Kind.EARN, PointsEntry.Kind.ADJUST):
        raise PointsInvalid(_("Unknown kind of credit."), kind=[_("Use earn or adjust.")])
    membership = _locked(customer_id)
    existing = _replayed(source_key, customer_id, kind)
    if existing is not None:
        return existing
    entry = _credit(
        membership, points=points, source_key=source_key, kind=kind, reason=reason, actor=actor, expires_on=expires_on
    )
    if kind == PointsEntry.Kind.EARN:
        evaluate_tier(membership, allow_down=False)
    return entry


@transaction.atomic
def redeem_points(*, actor, customer_id: int, points: int, source_key: str, reason: str = "") -> PointsEntry:
    """Spend ``points`` of the customer's balance, oldest-expiring lots first.

    ``actor`` None is the system; a person must be able to edit the customer (else not found). Idempotent on
    ``source_key``. Raises InsufficientPoints (409, details: balance, requested) when the balance does not cover
    it; nothing is written then. Emits ``points.debited``.
    """
    _check_points(points)
    source_key = _check_key(source_key)
    if actor is not None and not access.editable_customers(actor).filter(pk=customer_id).exists():
        raise MembershipNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    membership = _locked(customer_id)
    existing = _replayed(source_key, customer_id, PointsEntry.Kind.REDEEM)
    if existing is not None:
        return existing
    if membership.balance < points:
        raise InsufficientPoints(
            _("The balance of %(balance)s points does not cover %(points)s.")
            % {"balance": membership.balance, "points": points},
            balance=membership.balance,
            requested=points,
        )
    return _debit(
        membership, points=points, source_key=source_key, kind=PointsEntry.Kind.REDEEM, reason=reason, actor=actor
    )


@transaction.atomic
def adjust_points(*, actor, customer_id: int, points: int, reason: str, source_key: str) -> PointsEntry:
    """A manual correction (positive or negative) by a person who may edit the customer.

    Above the programme's adjustment threshold (absolute value) only managers and admins may adjust (403).
    A reason is required. A negative adjustment cannot take the balance below zero (InsufficientPoints).
    Idempotent on ``source_key``.
    """
    if not isinstance(points, int) or isinstance(points, bool) or points == 0 or abs(points) > MAX_POINTS:
        raise PointsInvalid(_("Enter a whole number of points other than zero."), points=[_("Not zero.")])
    source_key = _check_key(source_key)
    if not (reason or "").strip():
        raise PointsInvalid(_("Say why the points are adjusted."), reason=[_("A reason is required.")])
    if not access.editable_customers(actor).filter(pk=customer_id).exists():
        raise MembershipNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    settings = programme()
    if abs(points) > settings.adjustment_threshold and not is_manager(actor):
        raise AdjustmentDenied(
            _("Adjustments of more than %(limit)s points need a manager.") % {"limit": settings.adjustment_threshold},
            threshold=settings.adjustment_threshold,
        )
    membership = _locked(customer_id)
    existing = _replayed(source_key, customer_id, PointsEntry.Kind.ADJUST)
    if existing is not None:
        return existing
    if points > 0:
        return _credit(
            membership, points=points, source_key=source_key, kind=PointsEntry.Kind.ADJUST, reason=reason, actor=actor
        )
    if membership.balance < -points:
        raise InsufficientPoints(
            _("The balance of %(balance)s points does not cover %(points)s.")
            % {"balance": membership.balance, "points": -points},
            balance=membership.balance,
            requested=-points,
        )
    return _debit(
        membership, points=-points, source_key=source_key, kind=PointsEntry.Kind.ADJUST, reason=reason, actor=actor
    )


# ------------------------------------------------------------------------------------------------ earning


def _campaigns(at: datetime) -> list[BonusCampaign]:
    return list(BonusCampaign.objects.filter(active=True, starts_at__lte=at, ends_at__gt=at).order_by("pk"))


def _campaign_members(campaign: BonusCampaign, customer_ids, now: datetime) -> set[int] | None:
    """Customers (among ``customer_ids``) the campaign's rule matches; None when it has no rule (everyone)."""
    if not campaign.rule.strip():
        return None
    from guanxi.core import rules

    try:
        rule = rules.parse(campaign.rule)
    except rules.RuleError:
        return set()  # a rule broken after saving earns no bonus rather than failing the order
    customers = access.visible_customers(None, system=True).filter(pk__in=list(customer_ids))
    return set(rules.filter_customers(customers, rule, now=now).values_list("pk", flat=True))


def order_points(
    amount: Decimal, currency: str, multiplier: Decimal, campaigns, settings: Programme
) -> tuple[int, dict]:
    """Points for one order and their breakdown.

    base = floor(amount x points per unit) (orders in another currency than the programme's earn no base),
    x the tier multiplier x each matching campaign's multiplier (floored once at the end), + the per-order
    points + each campaign's bonus points.
    """
    base = Decimal(0)
    if currency.upper() == settings.currency.upper():
        base = (amount * settings.points_per_unit).quantize(Decimal(1), rounding=ROUND_FLOOR)
    factor = Decimal(multiplier)
    bonus = settings.points_per_order
    applied = []
    for campaign in campaigns:
        factor *= campaign.multiplier
        bonus += campaign.bonus_points
        applied.append(campaign.pk)
    total = int((base * factor).quantize(Decimal(1), rounding=ROUND_FLOOR)) + bonus
    return total, {"base": int(base), "multiplier": str(factor), "bonus": bonus, "campaigns": applied}


def _order_key(order_id: int) -> str:
    return f"order:{order_id}"


@transaction.atomic
def earn_for_order(order_id: int) -> PointsEntry | None:
    """Credit the points of one order (``order:<id>``) at the order's time; a second call credits nothing.

    A refunded order earns nothing. Runs inside ``place_order``'s transaction through the ``order.placed``
    subscriber. May upgrade the tier at once.
    """
    order = django_apps.get_model("commerce", "Order").objects.filter(pk=order_id).first()
    if order is None or order.refunded_at is not None:
        return None
    membership = _locked(order.customer_id)
    key = _order_key(order.pk)
    existing = PointsEntry.objects.filter(source_key=key).first()
    if existing is not None:
        return existing
    settings = programme()
    campaigns = _campaigns(order.ordered_at)
    matching = []
    for campaign in campaigns:
        members = _campaign_members(campaign, [order.customer_id], order.ordered_at)
        if members is None or order.customer_id in members:
            matching.append(campaign)
    points, detail = order_points(order.amount, order.currency, membership.tier.multiplier, matching, settings)
    entry = None
    if points > 0:
        detail["tier"] = membership.tier.key
        entry = _credit(
            membership,
            points=points,
            source_key=key,
            kind=PointsEntry.Kind.EARN,
            reason=_("Order %(number)s") % {"number": order.external_id},
            actor=None,
            earned_at=order.ordered_at,
            order_id=order.pk,
            detail=detail,
        )
    evaluate_tier(membership, allow_down=False)
    return entry


_BATCH = 5000


_COPY_COLUMNS = ("customer_id", "kind", "points", "source_key", "order_id", "earned_at", "created_at", "expires_on")


def _insert_entries(entries: list[PointsEntry]) -> None:
    """Insert earn entries whose keys the caller does not need: COPY on PostgreSQL, bulk INSERT elsewhere."""
    if connection.vendor != "postgresql":
        PointsEntry.objects.bulk_create(entries, batch_size=1000)
        return
    table = connection.ops.quote_name(PointsEntry._meta.db_table)
    now = timezone.now()
    columns = ", ".join((*_COPY_COLUMNS, "reason", "detail"))
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for e in entries:
            row = (e.customer_id, e.kind, e.points, e.source_key, e.order_id, e.earned_at, now, e.expires_on)
            copy.write_row((*row, e.reason, json.dumps(e.detail)))


def _add_to_balances(delta: dict[int, int]) -> None:
    """One UPDATE ... FROM (VALUES ...) per 1000 customers (PostgreSQL and SQLite >= 3.33); rows already locked."""
    table = connection.ops.quote_name(Membership._meta.db_table)
    items = sorted(delta.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), 1000):
            chunk = items[start : start + 1000]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"WITH v (customer_id, delta) AS (VALUES {values}) "  # noqa: S608 - no user input in the text
                f"UPDATE {table} SET balance = {table}.balance + v.delta "
                f"FROM v WHERE {table}.customer_id = v.customer_id",
                [x for pair in chunk for x in pair],
            )


def earn_for_orders(order_ids) -> int:
    """Credit the points of many orders at once (imports, the benchmark); returns how many entries were written.

    The same result as ``earn_for_order`` on each order in id order, except that the tier multiplier is the
    tier each customer had before the batch (upgrades are applied once at the end of each chunk). Set-based:
    per chunk, one read of the orders, existing keys and memberships (locked in key order, so two batches
    cannot deadlock), a bulk insert of entries, one balance update per customer, and a tier pass over the
    customers whose window changed. Idempotent on ``order:<id>``. Each chunk is its own transaction unless the
    caller already holds one.
    """
    ids = sorted({int(pk) for pk in order_ids})
    written = 0
    for start in range(0, len(ids), _BATCH):
        written += _earn_chunk(ids[start : start + _BATCH])
    return written


@transaction.atomic
def _earn_chunk(ids: list[int]) -> int:
    Order = django_apps.get_model("commerce", "Order")
    orders = list(
        Order.objects.filter(pk__in=ids, refunded_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "customer_id", "amount", "currency", "ordered_at", "external_id")
    )
    if not orders:
        return 0
    done = set(
        PointsEntry.objects.filter(source_key__in=[_order_key(o[0]) for o in orders]).values_list(
            "source_key", flat=True
        )
    )
    orders = [o for o in orders if _order_key(o[0]) not in done]
    if not orders:
        return 0
    customer_ids = sorted({o[1] for o in orders})
    lowest = tiers()[0]
    now = timezone.now()
    existing = set(Membership.objects.filter(pk__in=customer_ids).values_list("pk", flat=True))
    Membership.objects.bulk_create(
        [
            Membership(customer_id=pk, tier=lowest, joined_at=now, tier_since=now)
            for pk in customer_ids
            if pk not in existing
        ],
        ignore_conflicts=True,
    )
    memberships = {m.pk: m for m in Membership.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk")}
    tier_by_pk = {t.pk: t for t in tiers()}
    for membership in memberships.values():
        membership.tier = tier_by_pk[membership.tier_id]
    settings = programme()
    all_campaigns = list(BonusCampaign.objects.filter(active=True).order_by("pk"))
    members_of = {c.pk: _campaign_members(c, customer_ids, now) for c in all_campaigns}
    entries = []
    delta: dict[int, int] = {}
    for pk, customer_id, amount, currency, ordered_at, number in orders:
        matching = [
            c
            for c in all_campaigns
            if c.starts_at <= ordered_at < c.ends_at and (members_of[c.pk] is None or customer_id in members_of[c.pk])
        ]
        membership = memberships[customer_id]
        points, detail = order_points(amount, currency, membership.tier.multiplier, matching, settings)
        if points <= 0:
            continue
        detail["tier"] = membership.tier.key
        entries.append(
            PointsEntry(
                customer_id=customer_id,
                kind=PointsEntry.Kind.EARN,
                points=points,
                source_key=_order_key(pk),
                order_id=pk,
                earned_at=ordered_at,
                expires_on=lot_expiry(timezone.localdate(ordered_at), settings),
                reason=(_("Order %(number)s") % {"number": number})[:255],
                detail=detail,
            )
        )
        delta[customer_id] = delta.get(customer_id, 0) + points
    _insert_entries(entries)
    for membership in memberships.values():
        membership.balance += delta.get(membership.pk, 0)
    _add_to_balances(delta)
    if entries:
        events.record(
            "points.earned_batch",
            subject=memberships[entries[0].customer_id].customer,
            payload={"orders": len(entries), "customer_ids": sorted(delta), "points": sum(delta.values())},
        )
    evaluate_tiers([memberships[pk] for pk in sorted(delta)], allow_down=False, now=now)
    return len(entries)


# ------------------------------------------------------------------------------------------------ refunds


@transaction.atomic
def reverse_order(order_id: int, *, actor=None) -> PointsEntry | None:
    """Take back exactly what the order earned (``refund:<id>``), at most the balance; idempotent.

    If some of those points were already spent, the balance does not go negative: the reversal takes what the
    balance holds (the order's own lot first, then FIFO) and records the points it could not take in its detail
    (``shortfall``). Nothing happens for an order that earned nothing.
    """
    earned = PointsEntry.objects.filter(source_key=_order_key(order_id)).first()
    if earned is None:
        return None
    membership = _locked(earned.customer_id)
    key = f"refund:{order_id}"
    existing = PointsEntry.objects.filter(source_key=key).first()
    if existing is not None:
        return existing
    take = min(earned.points, membership.balance)
    return _debit(
        membership,
        points=take,
        source_key=key,
        kind=PointsEntry.Kind.REVERSE,
        reason=_("Refund of order %(id)s") % {"id": order_id},
        actor=actor,
        order_id=order_id,
        reverses=earned,
        lots=open_lots(membership.pk, prefer_lot_id=earned.pk),
        detail={"earned": earned.points, "reversed": take, "shortfall": earned.points - take},
    )


# ------------------------------------------------------------------------------------------------ expiry


def expire_points(today: date | None = None) -> int:
    """Expire what is left of every lot whose ``expires_on`` is before ``today`` (``expire:<lot id>``).

    Idempotent: a lot already expired has nothing left. One transaction per customer. Returns entries written.
    """
    today = today or timezone.localdate()
    customer_ids = list(
        PointsEntry.objects.filter(points__gt=0, expires_on__lt=today)
        .annotate(used=Coalesce(Sum("consumed_by__points"), 0))
        .filter(points__gt=F("used"))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    written = 0
    for customer_id in sorted(set(customer_ids)):
        written += _expire_customer(customer_id, today)
    return written


@transaction.atomic
def _expire_customer(customer_id: int, today: date) -> int:
    membership = _locked(customer_id)
    lots = open_lots(customer_id)
    written = 0
    expiry_ids = set(
        PointsEntry.objects.filter(customer_id=customer_id, points__gt=0, expires_on__lt=today).values_list(
            "pk", flat=True
        )
    )
    for lot_id, remaining in lots:
        if lot_id not in expiry_ids:
            continue
        key = f"expire:{lot_id}"
        if PointsEntry.objects.filter(source_key=key).exists():
            continue
        remaining = min(remaining, membership.balance)
        if remaining <= 0:
            continue
        _debit(
            membership,
            points=remaining,
            source_key=key,
            kind=PointsEntry.Kind.EXPIRE,
            reason=_("Points expired"),
            actor=None,
            lots=[(lot_id, remaining)],
        )
        written += 1
    return written


@transaction.atomic
def set_birth_date(*, actor, customer_id: int, birth_date: date | None) -> Membership:
    """Record the member's birth date (for birthday offers). The actor must be able to edit the customer."""
    if not access.editable_customers(actor).filter(pk=customer_id).exists():
        raise MembershipNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    membership = _locked(customer_id)
    before = membership.birth_date
    membership.birth_date = birth_date
    bump_version(membership)
    membership.save(update_fields=["birth_date", "version"])
    events.record(
        "member.updated",
        subject=membership.customer,
        actor=actor,
        payload={"customer_id": customer_id},
        audit_action="update",
        changes={"birth_date": [before, birth_date]},
    )
    return membership


# ------------------------------------------------------------------------------------------------ merges


def ledger_balance(customer_id: int) -> int:
    return PointsEntry.objects.filter(customer_id=customer_id).aggregate(total=Sum("points"))["total"] or 0


@transaction.atomic
def rebuild_balance(customer_id: int) -> Membership:
    """Set the cached balance to the ledger's sum (after a merge or its undo moved entries between customers)."""
    membership = _locked(customer_id)
    total = ledger_balance(customer_id)
    if total != membership.balance:
        Membership.objects.filter(pk=customer_id).update(balance=total)
        membership.balance = total
    return membership


@transaction.atomic
def after_merge(survivor_id: int, merge_id: int | None) -> Membership:
    """The survivor keeps the better of the two tiers and the sum of both ledgers (the loser's entries moved).

    Runs in the merge's transaction (``customer.merged``). The loser's membership row was removed by the merge
    (kept in the merge record, restored by undo); its tier is read from there.
    """
    membership = rebuild_balance(survivor_id)
    loser_tier_id = None
    if merge_id:
        record = django_apps.get_model("customers", "MergeRecord").objects.filter(pk=merge_id).first()
        for row in (record.removed or {}).get("loyalty.Membership", []) if record else []:
            fields = row.get("fields", row)
            loser_tier_id = fields.get("tier") or fields.get("tier_id")
    loser_tier = MembershipTier.objects.filter(pk=loser_tier_id).first() if loser_tier_id else None
    if loser_tier is not None and loser_tier.rank > membership.tier.rank:
        move_tier(membership, membership.tier, loser_tier, reason=_("Kept the better tier of a merged record"))
    return membership

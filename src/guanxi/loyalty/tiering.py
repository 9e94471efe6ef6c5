"""Tier evaluation: the rolling window's points and spend, upgrades at once, downgrades at the nightly review."""

from datetime import datetime
from decimal import Decimal

from django.apps import apps as django_apps
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from guanxi.core import events
from guanxi.loyalty.models import Membership, MembershipTier, PointsEntry, TierChange
from guanxi.loyalty.programme import programme, tiers, window_start

_BATCH = 2000

# ------------------------------------------------------------------------------------------------ tiers


def window_stats(customer_ids, now: datetime | None = None) -> dict[int, tuple[int, Decimal]]:
    """``{customer_id: (points earned in window, spend in window)}``; refunded orders count for neither."""
    now = now or timezone.now()
    settings = programme()
    since = window_start(now, settings)
    ids = list(customer_ids)
    points = dict(
        PointsEntry.objects.filter(
            customer_id__in=ids, kind=PointsEntry.Kind.EARN, earned_at__gt=since, earned_at__lte=now
        )
        .filter(Q(order__isnull=True) | Q(order__refunded_at__isnull=True))
        .values("customer_id")
        .annotate(total=Sum("points"))
        .values_list("customer_id", "total")
    )
    spend = dict(
        django_apps.get_model("commerce", "Order")
        .objects.filter(
            customer_id__in=ids,
            ordered_at__gt=since,
            ordered_at__lte=now,
            refunded_at__isnull=True,
            currency__iexact=settings.currency,
        )
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values_list("customer_id", "total")
    )
    cent = Decimal("0.01")
    return {pk: (int(points.get(pk) or 0), Decimal(spend.get(pk) or 0).quantize(cent)) for pk in ids}


def qualifying_tier(window_points: int, window_spend: Decimal, ladder: list[MembershipTier]) -> MembershipTier:
    """The highest tier whose entry rule holds: points >= min_points OR spend >= min_spend (the lowest always)."""
    best = ladder[0]
    for tier in ladder:
        if window_points >= tier.min_points or window_spend >= tier.min_spend:
            best = tier
    return best


def evaluate_tier(membership: Membership, *, allow_down: bool, now: datetime | None = None) -> bool:
    return bool(evaluate_tiers([membership], allow_down=allow_down, now=now))


def evaluate_tiers(memberships, *, allow_down: bool, now: datetime | None = None) -> list[TierChange]:
    """Move each membership to the tier its window qualifies for: up always, down only when ``allow_down``.

    Writes a TierChange and emits ``member.tier_changed`` per move (in bulk). The caller holds the locks.
    """
    memberships = list(memberships)
    if not memberships:
        return []
    now = now or timezone.now()
    ladder = tiers()
    by_pk = {t.pk: t for t in ladder}
    stats = window_stats([m.pk for m in memberships], now)
    moves = []
    for membership in memberships:
        points, spend = stats[membership.pk]
        target = qualifying_tier(points, spend, ladder)
        current = by_pk.get(membership.tier_id)
        if current is not None and target.rank == current.rank:
            continue
        going_up = current is None or target.rank > current.rank
        if not going_up and not allow_down:
            continue
        moves.append((membership, current, target, points, spend))
    return _move(moves, now)


def move_tier(
    membership, current, target, *, points=None, spend=None, now: datetime | None = None, reason=""
) -> TierChange:
    """Put the membership in ``target``: a TierChange row and ``member.tier_changed`` (the caller holds the lock)."""
    now = now or timezone.now()
    if points is None or spend is None:
        points, spend = window_stats([membership.pk], now)[membership.pk]
    return _move([(membership, current, target, points, spend)], now, reason=reason)[0]


def _move(moves, now: datetime, reason: str = "") -> list[TierChange]:
    if not moves:
        return []
    by_target: dict[int, list[int]] = {}
    for membership, _current, target, _points, _spend in moves:
        by_target.setdefault(target.pk, []).append(membership.pk)
    for target_pk, pks in by_target.items():
        Membership.objects.filter(pk__in=pks).update(tier_id=target_pk, tier_since=now, version=F("version") + 1)
    changes = []
    for membership, current, target, points, spend in moves:
        membership.tier, membership.tier_since = target, now
        membership.version += 1
        changes.append(
            TierChange(
                customer_id=membership.pk,
                from_tier=current,
                to_tier=target,
                direction=TierChange.Direction.UP
                if current is None or target.rank > current.rank
                else TierChange.Direction.DOWN,
                at=now,
                window_points=points,
                window_spend=spend,
                reason=reason,
            )
        )
    TierChange.objects.bulk_create(changes)
    customers = (
        django_apps.get_model("customers", "Customer")
        ._base_manager.only("pk", "display_name")
        .in_bulk([m.pk for m, *_rest in moves])
    )
    events.record_many(
        "member.tier_changed",
        [
            (
                customers[change.customer_id],
                {
                    "customer_id": change.customer_id,
                    "from_tier": current.key if current else None,
                    "to_tier": target.key,
                    "direction": change.direction,
                    "window_points": points,
                    "window_spend": spend,
                },
                {"member_tier": [current.key if current else None, target.key]},
            )
            for change, (_membership, current, target, points, spend) in zip(changes, moves, strict=True)
        ],
        audit_action="update",
    )
    return changes


def review_tiers(now: datetime | None = None) -> int:
    """The nightly pass: every membership to the tier its window qualifies for (downgrades included).

    One transaction per chunk of memberships, locked in key order. Returns the number of tier changes.
    """
    now = now or timezone.now()
    pks = list(Membership.objects.order_by("pk").values_list("pk", flat=True))
    moved = 0
    for start in range(0, len(pks), _BATCH):
        with transaction.atomic():
            chunk = list(
                Membership.objects.select_for_update().filter(pk__in=pks[start : start + _BATCH]).order_by("pk")
            )
            moved += len(evaluate_tiers(chunk, allow_down=True, now=now))
    return moved

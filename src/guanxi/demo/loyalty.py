"""Demo membership data, derived from the demo orders: a membership for every customer with orders, points earned
on each order at its date, points carried over from an old card system (so last year's expiries show), some
redemptions (FIFO over the lots), the expiries the daily job would have written, tiers from the rolling window
(thresholds set from the demo's own spread so members sit in all four tiers), and a few birth dates.

The demo company sells in its orders' currency (USD for the CDNOW sample), so the programme is set to that
currency at 10 points per unit. Bulk inserts only; no events (the demo's history is already past).
"""

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Count

from guanxi.commerce.models import Order
from guanxi.loyalty.models import Membership, MembershipTier, PointsAllocation, PointsEntry, Programme, TierChange
from guanxi.loyalty.programme import ensure_defaults, lot_expiry, programme
from guanxi.loyalty.tiering import qualifying_tier

POINTS_PER_UNIT = Decimal(10)


def _nice(value: float) -> int:
    """Round to two significant digits (3,456 -> 3,500) so the thresholds read like a real programme's."""
    if value <= 0:
        return 0
    digits = len(str(int(value))) - 2
    step = 10 ** max(digits, 0)
    return int(round(value / step) * step)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


@transaction.atomic
def load(*, seed: int, today: date, progress: Callable | None = None) -> None:
    orders = list(Order.objects.order_by("customer_id", "ordered_at", "pk"))
    if not orders:
        return
    rng = random.Random(seed + 7)
    tz = ZoneInfo(settings.TIME_ZONE)
    ensure_defaults()
    currency = (
        Order.objects.values("currency").annotate(n=Count("pk")).order_by("-n").values_list("currency", flat=True)[0]
    )
    Programme.objects.filter(pk=programme().pk).update(currency=currency, points_per_unit=POINTS_PER_UNIT)
    config = programme()
    ladder = list(MembershipTier.objects.order_by("rank"))
    now = datetime.combine(today, time(12, 0), tzinfo=tz)

    by_customer: dict[int, list[Order]] = defaultdict(list)
    for order in orders:
        by_customer[order.customer_id].append(order)

    # 1. Memberships and the positive lots: earned on orders, and some carried over from the old card system.
    memberships, lots = [], []
    carried_at = datetime.combine(date(today.year - 2, 6, 30), time(10, 0), tzinfo=tz)
    for customer_id, own in by_customer.items():
        memberships.append(
            Membership(
                customer_id=customer_id,
                tier=ladder[0],
                joined_at=own[0].ordered_at,
                tier_since=own[0].ordered_at,
                birth_date=date(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28))
                if rng.random() < 0.12
                else None,
            )
        )
        if rng.random() < 0.15 and own[0].ordered_at > carried_at:
            lots.append(
                PointsEntry(
                    customer_id=customer_id,
                    kind=PointsEntry.Kind.ADJUST,
                    points=rng.choice([200, 300, 500, 800]),
                    source_key=f"demo:carried:{customer_id}",
                    earned_at=carried_at,
                    expires_on=lot_expiry(carried_at.date(), config),
                    reason="Points carried over from the old membership card",
                )
            )
        for order in own:
            points = int((order.amount * POINTS_PER_UNIT).quantize(Decimal(1), rounding=ROUND_FLOOR))
            if order.currency != currency or points <= 0:
                continue
            lots.append(
                PointsEntry(
                    customer_id=customer_id,
                    kind=PointsEntry.Kind.EARN,
                    points=points,
                    source_key=f"order:{order.pk}",
                    order_id=order.pk,
                    earned_at=order.ordered_at,
                    expires_on=lot_expiry(order.ordered_at.astimezone(tz).date(), config),
                    reason=f"Order {order.external_id}",
                    detail={"base": points, "multiplier": "1", "bonus": 0, "campaigns": [], "tier": ladder[0].key},
                )
            )
    Membership.objects.bulk_create(memberships, batch_size=2000)
    PointsEntry.objects.bulk_create(lots, batch_size=2000)

    # 2. Replay each member's history in time order: redemptions and the yearly expiries consume lots FIFO.
    lots_of: dict[int, list[PointsEntry]] = defaultdict(list)
    for lot in lots:
        lots_of[lot.customer_id].append(lot)
    debits: list[tuple[PointsEntry, list[tuple[PointsEntry, int]]]] = []
    balances: dict[int, int] = {}
    for customer_id, own_lots in lots_of.items():
        remaining = {lot.pk: lot.points for lot in own_lots}
        moments: list[tuple[datetime, str, object]] = [(lot.earned_at, "earn", lot) for lot in own_lots]
        for year in range(own_lots[0].earned_at.year + 1, today.year + 1):
            moments.append((datetime.combine(date(year, 1, 1), time(0, 10), tzinfo=tz), "expire", None))
        if rng.random() < 0.35:
            span = (now - own_lots[0].earned_at).total_seconds()
            for n in range(rng.choice([1, 1, 2])):
                moments.append((own_lots[0].earned_at + timedelta(seconds=rng.random() * span), "redeem", n))
        moments.sort(key=lambda m: (m[0], m[1] != "earn"))
        available: list[PointsEntry] = []
        for at, what, extra in moments:
            if what == "earn":
                available.append(extra)
                available.sort(key=lambda lot: (lot.expires_on, lot.earned_at, lot.pk))
                continue
            if what == "expire":
                for lot in available:
                    if lot.expires_on < at.date() and remaining[lot.pk] > 0:
                        entry = PointsEntry(
                            customer_id=customer_id,
                            kind=PointsEntry.Kind.EXPIRE,
                            points=-remaining[lot.pk],
                            source_key=f"expire:{lot.pk}",
                            earned_at=at,
                            reason="Points expired",
                        )
                        debits.append((entry, [(lot, remaining[lot.pk])]))
                        remaining[lot.pk] = 0
                continue
            balance = sum(remaining[lot.pk] for lot in available)
            if balance < 100:
                continue
            wanted = int(balance * rng.uniform(0.2, 0.7)) // 10 * 10
            entry = PointsEntry(
                customer_id=customer_id,
                kind=PointsEntry.Kind.REDEEM,
                points=-wanted,
                source_key=f"demo:redeem:{customer_id}:{extra}",
                earned_at=at,
                reason=rng.choice(["Gift voucher", "Free shipping", "Tote bag", "Discount on an order"]),
            )
            taken, left = [], wanted
            for lot in available:
                take = min(left, remaining[lot.pk])
                if take > 0:
                    taken.append((lot, take))
                    remaining[lot.pk] -= take
                    left -= take
                if left == 0:
                    break
            debits.append((entry, taken))
        balances[customer_id] = sum(remaining.values())
    PointsEntry.objects.bulk_create([entry for entry, _taken in debits], batch_size=2000)
    PointsAllocation.objects.bulk_create(
        [
            PointsAllocation(consumer=entry, lot=lot, points=points)
            for entry, taken in debits
            for lot, points in taken
            if points > 0
        ],
        batch_size=2000,
    )

    # 3. Tiers from the rolling window, with thresholds set from this company's spread of members.
    since = now - relativedelta(months=config.window_months)
    window_points: dict[int, int] = defaultdict(int)
    window_spend: dict[int, Decimal] = defaultdict(Decimal)
    for lot in lots:
        if lot.kind == PointsEntry.Kind.EARN and since < lot.earned_at <= now:
            window_points[lot.customer_id] += lot.points
    for order in orders:
        if since < order.ordered_at <= now and order.currency == currency:
            window_spend[order.customer_id] += order.amount
    active = [float(p) for p in window_points.values() if p > 0]
    for tier, q in zip(ladder[1:], (0.5, 0.8, 0.95), strict=False):
        tier.min_points = _nice(_quantile(active, q))
        tier.min_spend = Decimal(_nice(_quantile(active, q) / float(POINTS_PER_UNIT) * 1.25))
    MembershipTier.objects.bulk_update(ladder, ["min_points", "min_spend"])
    changes = []
    for membership in memberships:
        pk = membership.customer_id
        membership.balance = balances.get(pk, 0)
        target = qualifying_tier(window_points.get(pk, 0), window_spend.get(pk, Decimal(0)), ladder)
        if target.rank != ladder[0].rank:
            last = by_customer[pk][-1].ordered_at
            membership.tier, membership.tier_since = target, last
            changes.append(
                TierChange(
                    customer_id=pk,
                    from_tier=ladder[0],
                    to_tier=target,
                    direction=TierChange.Direction.UP,
                    at=last,
                    window_points=window_points.get(pk, 0),
                    window_spend=window_spend.get(pk, Decimal(0)),
                    reason="Demo history",
                )
            )
    Membership.objects.bulk_update(memberships, ["balance", "tier", "tier_since"], batch_size=2000)
    TierChange.objects.bulk_create(changes, batch_size=2000)

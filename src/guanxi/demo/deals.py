"""Demo sales pipeline: about 400 deals of the demo reps' customers and leads in the default pipeline, created over
the last nine months, each with the stage history it went through (stages sometimes skipped, as real drags do):
some still open with an expected close date ahead, some won, some lost with a reason.

Historical wins carry no order (the demo orders exist already); deals won from now on record one (the demo pipeline
has ``record_order_on_win``). Bulk inserts only; no events (the demo's history
is already past), like the other demo loaders.
"""

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from guanxi.accounts.models import User
from guanxi.commerce.models import Order
from guanxi.customers.models import Customer
from guanxi.deals.models import Deal, DealStage, DealStageChange, LostReason, Pipeline

DEALS = 400
DAYS = 270
TITLES = [
    "Annual supply contract",
    "Tea gift boxes for Spring Festival",
    "Office coffee subscription",
    "Corporate gifts (Mid-Autumn)",
    "Hotel amenities renewal",
    "Restaurant chain trial order",
    "年度采购合同",
    "中秋礼盒团购",
    "门店试销订单",
    "会员活动赞助",
]
# Weights of the lost reasons, in the seeded order: price, competitor, no budget, no decision, timing, product fit.
REASON_WEIGHTS = [30, 22, 15, 14, 11, 8]


def _currency() -> str:
    """The demo company's currency: that of most demo orders (USD for the CDNOW sample), else the default."""
    top = Order.objects.values("currency").annotate(n=Count("pk")).order_by("-n").values_list("currency", flat=True)
    return top[0] if top else settings.GUANXI_DEFAULT_CURRENCY


@transaction.atomic
def load(*, seed: int, today: date, progress: Callable | None = None, count: int = DEALS) -> None:
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        return
    # The demo company records an order when a deal is won, so a win on the board earns loyalty points.
    Pipeline.objects.filter(pk=pipeline.pk).update(record_order_on_win=True)
    stages = list(DealStage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    open_stages = [s for s in stages if s.kind == DealStage.Kind.OPEN]
    won = next(s for s in stages if s.kind == DealStage.Kind.WON)
    lost = next(s for s in stages if s.kind == DealStage.Kind.LOST)
    reasons = list(LostReason.objects.filter(active=True).order_by("order", "key"))
    reps = {u.pk: u for u in User.objects.filter(role=User.Role.SALES, is_active=True)}
    customers = list(
        Customer.objects.filter(deleted_at__isnull=True, owner_id__in=list(reps))
        .order_by("pk")
        .values_list("pk", "owner_id", "lifecycle__stage")
    )
    if not customers or not open_stages:
        return
    rng = random.Random(seed + 31)
    tz = ZoneInfo(settings.TIME_ZONE)
    now = datetime.combine(today, time(18, 0), tzinfo=tz)
    currency = _currency()
    # Leads (potential customers) get a deal more often than customers who already buy.
    leads = [c for c in customers if c[2] == "potential"]
    buyers = [c for c in customers if c[2] != "potential"]
    advance = progress("deals", count) if progress else (lambda n=1, done=False: None)

    deals: list[Deal] = []
    paths: list[list[tuple[DealStage, datetime]]] = []
    for _n in range(count):
        customer_id, owner_id, _stage = rng.choice(leads if leads and rng.random() < 0.45 else (buyers or leads))
        created = now - timedelta(days=rng.uniform(0, DAYS), hours=rng.uniform(0, 8))
        # The furthest open stage reached: each step loses some deals.
        furthest = 0
        while furthest < len(open_stages) - 1 and rng.random() < 0.62:
            furthest += 1
        path = [(open_stages[0], created)]
        at = created
        for index in range(1, furthest + 1):
            if rng.random() < 0.15 and index < furthest:  # a stage skipped on the board
                continue
            at = at + timedelta(days=rng.uniform(2, 21))
            path.append((open_stages[index], at))
        age = (now - created).days
        outcome = "open"
        if age > 20:
            roll = rng.random()
            chance_won = 0.15 + 0.12 * furthest
            outcome = "won" if roll < chance_won else ("lost" if roll < chance_won + 0.35 else "open")
        if outcome != "open":
            at = at + timedelta(days=rng.uniform(1, 25))
            path.append((won if outcome == "won" else lost, at))
        # Nothing happens in the future: moves that would fall after now are left out (the deal is still open).
        path = [(s, t) for s, t in path if t <= now] or [path[0]]
        final, final_at = path[-1]
        value = Decimal(round(rng.lognormvariate(8.3, 0.8) / 100) * 100 or 100)
        expected = final_at.date() if final.kind != DealStage.Kind.OPEN else today + timedelta(days=rng.randint(5, 120))
        deals.append(
            Deal(
                customer_id=customer_id,
                pipeline=pipeline,
                stage=final,
                title=rng.choice(TITLES),
                value=value,
                currency=currency,
                probability=final.probability,
                expected_close=expected,
                owner_id=owner_id,
                team_id=reps[owner_id].team_id,
                lost_reason=rng.choices(reasons, weights=REASON_WEIGHTS[: len(reasons)])[0]
                if final.kind == DealStage.Kind.LOST and reasons
                else None,
                won_at=final_at if final.kind == DealStage.Kind.WON else None,
                lost_at=final_at if final.kind == DealStage.Kind.LOST else None,
                stage_entered_at=final_at,
                created_at=created,
                created_by_id=owner_id,
                version=len(path),
            )
        )
        paths.append(path)
        advance()
    Deal.objects.bulk_create(deals, batch_size=1000)
    changes = []
    for deal, path in zip(deals, paths, strict=True):
        previous = None
        for stage, at in path:
            changes.append(
                DealStageChange(deal=deal, from_stage=previous, to_stage=stage, at=at, actor_id=deal.owner_id)
            )
            previous = stage
    DealStageChange.objects.bulk_create(changes, batch_size=2000)
    advance(0, done=True)

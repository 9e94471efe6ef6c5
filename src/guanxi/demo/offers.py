"""Demo offers: a win-back campaign launched ten weeks ago to the lapsed demo customers with a 15% control group,
the orders that followed (treated customers really came back more often: about 20 in 100 against 8 in 100, on top
of the orders some of them place anyway in the sample's own history), their coupons (redeemed on the return order,
or expired), and welcome coupons for the newest customers.

The default offers come from the offers migration. Bulk inserts only, no events (the demo's history is already
past); the external ids of the orders written here start with ``DEMO-WB-``. Runs before the loyalty demo, so
those orders earn points like every other.
"""

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min

from guanxi.accounts.models import User
from guanxi.commerce.models import Order
from guanxi.offers.models import Campaign, CampaignMember, Coupon, Offer
from guanxi.offers.services import ALPHABET, CODE_LENGTH, split

LAUNCH_WEEKS_AGO = 10
LAPSED_DAYS = 180  # no order for this long before the launch: the lapsed (at-risk or churned) audience
AUDIENCE_LIMIT = 1500
CONTROL_SHARE = Decimal("0.15")
TREATED_RETURN, CONTROL_RETURN = 0.20, 0.08
REDEEMED_SHARE = 0.75  # of the treated who came back, the share who used the coupon on that order
WELCOME_COUPONS = 40


def _codes(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    codes: list[str] = []
    while len(codes) < n:
        code = "".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return codes


@transaction.atomic
def load(*, seed: int, today: date, progress: Callable | None = None) -> None:
    win_back = Offer.objects.filter(key="win_back").first()
    welcome = Offer.objects.filter(key="welcome").first()
    if win_back is None or not Order.objects.exists():
        return
    rng = random.Random(seed + 31)
    tz = ZoneInfo(settings.TIME_ZONE)
    launched_at = datetime.combine(today - timedelta(weeks=LAUNCH_WEEKS_AGO), time(10, 0), tzinfo=tz)
    currency = (
        Order.objects.values("currency").annotate(n=Count("pk")).order_by("-n").values_list("currency", flat=True)[0]
    )
    manager = User.objects.filter(role="manager", is_active=True).order_by("pk").first()

    # The audience: customers whose last order before the launch is long past, with their usual order value.
    before = Order.objects.filter(ordered_at__lt=launched_at).values("customer_id")
    lapsed = list(
        before.annotate(last=Max("ordered_at"), n=Count("pk"))
        .filter(last__lt=launched_at - timedelta(days=LAPSED_DAYS))
        .order_by("customer_id")
        .values_list("customer_id", flat=True)[:AUDIENCE_LIMIT]
    )
    if not lapsed:
        return
    values = dict(
        Order.objects.filter(customer_id__in=lapsed)
        .values("customer_id")
        .annotate(first=Min("amount"))
        .values_list("customer_id", "first")
    )
    campaign = Campaign.objects.create(
        name="Win-back: 15% off for lapsed customers",
        offer=win_back,
        kind=Campaign.Kind.MANUAL,
        audience_rule=f"last_order_days > {LAPSED_DAYS}",
        control_share=CONTROL_SHARE,
        measure_days=56,
        seed=seed,
        status=Campaign.Status.LAUNCHED,
        created_by=manager,
        created_at=launched_at - timedelta(days=2),
        launched_at=launched_at,
    )
    treated, control = split(lapsed, share=CONTROL_SHARE, seed=seed)
    taken: set[str] = set(Coupon.objects.values_list("code", flat=True))
    expires = launched_at + timedelta(days=win_back.coupon_valid_days)
    coupons = [
        Coupon(
            code=code,
            offer=win_back,
            customer_id=customer_id,
            status=Coupon.Status.EXPIRED if expires <= datetime.combine(today, time(0), tzinfo=tz) else "issued",
            issued_at=launched_at,
            expires_at=expires,
            campaign=campaign,
            source_key=f"campaign:{campaign.pk}:{customer_id}",
            issued_by=manager,
        )
        for customer_id, code in zip(treated, _codes(rng, len(treated), taken), strict=True)
    ]
    Coupon.objects.bulk_create(coupons, batch_size=1000)
    by_customer = {c.customer_id: c for c in coupons}
    CampaignMember.objects.bulk_create(
        [
            CampaignMember(
                campaign=campaign,
                customer_id=cid,
                group=CampaignMember.Group.TREATED,
                coupon=by_customer[cid],
                assigned_at=launched_at,
            )
            for cid in treated
        ]
        + [
            CampaignMember(
                campaign=campaign, customer_id=cid, group=CampaignMember.Group.CONTROL, assigned_at=launched_at
            )
            for cid in control
        ],
        batch_size=1000,
    )

    # The orders that followed: more of the treated came back, earlier (the coupon ran out after 30 days).
    returns: list[tuple[int, datetime, Decimal, bool]] = []
    for group, ids, rate in (("treated", treated, TREATED_RETURN), ("control", control, CONTROL_RETURN)):
        for customer_id in ids:
            if rng.random() >= rate:
                continue
            day = rng.uniform(1, 29) if group == "treated" and rng.random() < 0.8 else rng.uniform(1, 55)
            at = launched_at + timedelta(days=day, minutes=rng.randint(0, 600))
            base = values.get(customer_id) or Decimal("30")
            amount = (base * Decimal(str(round(rng.uniform(0.8, 1.6), 2)))).quantize(Decimal("0.01"))
            returns.append((customer_id, at, amount, group == "treated"))
    returns.sort(key=lambda r: (r[1], r[0]))
    orders = [
        Order(customer_id=cid, external_id=f"DEMO-WB-{n:05d}", ordered_at=at, amount=amount, currency=currency)
        for n, (cid, at, amount, _treated) in enumerate(returns, start=1)
    ]
    Order.objects.bulk_create(orders, batch_size=1000)
    redeemed = []
    for order, (_cid, at, _amount, is_treated) in zip(orders, returns, strict=True):
        coupon = by_customer.get(order.customer_id) if is_treated else None
        if coupon is None or coupon.status == Coupon.Status.REDEEMED or at >= coupon.expires_at:
            continue
        if rng.random() < REDEEMED_SHARE:
            coupon.status, coupon.redeemed_at, coupon.order = Coupon.Status.REDEEMED, at, order
            redeemed.append(coupon)
    Coupon.objects.bulk_update(redeemed, ["status", "redeemed_at", "order"], batch_size=1000)

    # Welcome coupons for the newest customers (the demo's leads and latest sign-ups): most still open.
    if welcome is not None:
        from guanxi.customers.models import Customer

        newest = list(
            Customer.objects.filter(deleted_at__isnull=True)
            .order_by("-created_at", "-pk")
            .values_list("pk", "created_at")[:WELCOME_COUPONS]
        )
        start_of_today = datetime.combine(today, time(0), tzinfo=tz)
        fresh = []
        for (customer_id, created_at), code in zip(newest, _codes(rng, len(newest), taken), strict=True):
            issued = min(created_at + timedelta(days=1), start_of_today - timedelta(hours=1))
            expires_at = issued + timedelta(days=welcome.coupon_valid_days)
            used = rng.random() < 0.15
            status = Coupon.Status.REDEEMED if used else Coupon.Status.ISSUED
            if not used and expires_at <= start_of_today:
                status = Coupon.Status.EXPIRED
            fresh.append(
                Coupon(
                    code=code,
                    offer=welcome,
                    customer_id=customer_id,
                    status=status,
                    issued_at=issued,
                    expires_at=expires_at,
                    redeemed_at=min(issued + timedelta(days=3), start_of_today) if used else None,
                    source_key=f"demo:welcome:{customer_id}",
                )
            )
        Coupon.objects.bulk_create(fresh)
    if progress is not None:
        advance = progress("offers", 1)
        advance()
        advance(0, done=True)

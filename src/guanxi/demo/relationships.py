"""The demo company's relationship history, written after its orders and leads: interactions over every channel
around each customer's purchases, follow-ups (done, open, due today and overdue), and a
lifecycle stage history replayed month by month from each customer's orders.

The replay is a simplified reading of the default stage rules on order facts alone (scores did not exist in the
past); the first real evaluation, when the demo is scored, moves each customer from the replayed stage to the
stage the definitions give today, so the newest transition of every customer is a real one.
"""

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from guanxi.accounts.models import User
from guanxi.commerce.models import Order
from guanxi.customers.models import Customer
from guanxi.engagement.models import Interaction
from guanxi.followups.models import FollowUp
from guanxi.lifecycle.models import CustomerStage, StageTransition

Progress = Callable[..., Callable[..., None]]

CHANNELS = [
    ("phone", 30),
    ("wechat", 25),
    ("email", 15),
    ("sms", 8),
    ("meeting", 7),
    ("visit", 5),
    ("chat", 5),
    ("social", 3),
    ("note", 2),
]
# (English, Chinese) pairs; a customer with a Chinese name gets the Chinese text.
AFTER_ORDER = [
    ("Thank-you call after the order", "订单回访：感谢购买"),
    ("Checked the delivery arrived", "确认到货情况"),
    ("Asked how they like the new albums", "回访新专辑使用感受"),
    ("Suggested the box set for their collection", "推荐合集套装"),
]
BEFORE_ORDER = [
    ("Asked about new releases", "咨询新品上架"),
    ("Wanted a price for a bulk order", "询问批量采购价格"),
    ("Asked whether an album is in stock", "询问专辑是否有货"),
]
QUIET = [
    ("Regular return visit", "定期回访"),
    ("Invited to the spring listening event", "邀请参加春季试听会"),
    ("Shared this month's recommendations", "分享本月推荐"),
]
NOTES = [
    ("Prefers WeChat in the evening", "偏好晚上微信联系"),
    ("Buys gifts before holidays", "节日前常买礼品"),
]
OUTCOMES = [
    ("Reached, satisfied", "已联系，满意"),
    ("No answer, will try again", "未接通，稍后再试"),
    ("Interested in the next release", "对下一批新品感兴趣"),
    ("Asked to be contacted next month", "希望下月再联系"),
]
OPEN_TASKS = [
    ("Return visit", "定期回访"),
    ("Call about the new catalogue", "电话介绍新目录"),
    ("Check satisfaction with the last order", "回访上次订单满意度"),
    ("Win-back call", "挽回电话"),
]
DURATION = {"phone": (60, 900), "meeting": (1200, 3600), "visit": (1800, 5400), "chat": (120, 900)}


def _zh(customer: Customer) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in customer.display_name)


def _text(customer: Customer, pair: tuple[str, str]) -> str:
    return pair[1] if _zh(customer) else pair[0]


def load(*, seed: int, today: date, bulk_events: Callable, progress: Progress) -> dict:
    """Write the relationship history of the demo customers in the database (see the module docstring).

    Runs inside the demo loader's transaction; ``bulk_events`` is its writer of events and audit entries.
    """
    rng = random.Random(seed + 7)
    now = datetime.combine(today, time(9, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))
    customers = list(Customer.objects.filter(deleted_at__isnull=True).order_by("pk"))
    orders: dict[int, list[datetime]] = defaultdict(list)
    for customer_id, at in Order.objects.order_by("ordered_at").values_list("customer_id", "ordered_at"):
        orders[customer_id].append(at)
    fallback = User.objects.filter(role="sales").order_by("pk").first()
    interactions = _interactions(rng, customers, orders, now, fallback, progress)
    bulk_events(
        "interaction.logged",
        interactions,
        "demo",
        lambda i: {
            "customer_id": i.customer_id,
            "channel": i.channel,
            "direction": i.direction,
            "author_id": i.author_id,
            "follow_up_id": None,
        },
        lambda i: i.occurred_at,
    )
    follow_ups = _follow_ups(rng, customers, interactions, orders, today, fallback)
    bulk_events(
        "follow_up.created",
        follow_ups,
        "demo",
        lambda f: {"customer_id": f.customer_id, "follow_up_id": f.pk, "assignee_id": f.assignee_id},
        lambda f: f.created_at,
    )
    stages = _stage_history(customers, orders, now)
    return {
        "interactions": len(interactions),
        "follow_ups_done": sum(f.status == FollowUp.Status.DONE for f in follow_ups),
        "follow_ups_open": sum(f.status == FollowUp.Status.OPEN for f in follow_ups),
        "stage_transitions": stages,
    }


def _interactions(
    rng: random.Random,
    customers: list[Customer],
    orders: dict[int, list[datetime]],
    now: datetime,
    fallback: User | None,
    progress: Progress,
) -> list[Interaction]:
    channels = [c for c, w in CHANNELS for _ in range(w)]
    rows: list[Interaction] = []
    advance = progress("interactions", len(customers))

    def add(customer: Customer, at: datetime, channel: str, direction: str, subject: tuple[str, str]) -> None:
        if at >= now:
            return
        low_high = DURATION.get(channel)
        rows.append(
            Interaction(
                customer=customer,
                channel=channel,
                direction="internal" if channel == "note" else direction,
                subject=_text(customer, subject),
                outcome="" if channel == "note" else _text(customer, rng.choice(OUTCOMES)),
                duration_seconds=rng.randint(*low_high) if low_high else None,
                occurred_at=at,
                created_at=at,
                author_id=customer.owner_id or (fallback.pk if fallback else None),
            )
        )

    for customer in customers:
        bought = orders.get(customer.pk, [])
        for at in bought:
            if rng.random() < 0.25:
                channel = rng.choice(["wechat", "chat", "phone", "email"])
                add(
                    customer,
                    at - timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 6)),
                    channel,
                    "inbound",
                    rng.choice(BEFORE_ORDER),
                )
            if rng.random() < 0.35:
                add(
                    customer,
                    at + timedelta(days=rng.randint(2, 10), hours=rng.randint(0, 6)),
                    rng.choice(channels),
                    "outbound",
                    rng.choice(AFTER_ORDER),
                )
        if not bought:  # a lead: how they came in
            add(
                customer,
                customer.created_at + timedelta(hours=rng.randint(1, 48)),
                rng.choice(["chat", "phone", "wechat", "social"]),
                "inbound",
                rng.choice(BEFORE_ORDER),
            )
        elif rng.random() < 0.3:  # a return visit in the last quarter, whatever they bought
            add(
                customer,
                now - timedelta(days=rng.randint(1, 90), hours=rng.randint(0, 8)),
                rng.choice(channels),
                "outbound",
                rng.choice(QUIET),
            )
        if rng.random() < 0.05:
            add(customer, now - timedelta(days=rng.randint(1, 200)), "note", "internal", rng.choice(NOTES))
        advance()
    advance(0, done=True)
    return Interaction.objects.bulk_create(rows, batch_size=2000)


def _follow_ups(
    rng: random.Random,
    customers: list[Customer],
    interactions: list[Interaction],
    orders: dict[int, list[datetime]],
    today: date,
    fallback: User | None,
) -> list[FollowUp]:
    """Done follow-ups behind the outbound contacts, and open ones: some overdue, some today, most upcoming."""
    done = [
        FollowUp(
            customer_id=i.customer_id,
            assignee_id=i.author_id,
            title=i.subject,
            due_on=(i.occurred_at - timedelta(days=rng.randint(0, 2))).date(),
            status=FollowUp.Status.DONE,
            source=FollowUp.Source.CADENCE,
            completed_at=i.occurred_at,
            completed_by_id=i.author_id,
            interaction=i,
            created_at=i.occurred_at - timedelta(days=rng.randint(3, 20)),
        )
        for i in interactions
        if i.direction == "outbound" and i.author_id and rng.random() < 0.6
    ]
    recent = [c for c in customers if c.owner_id and orders.get(c.pk)]
    rng.shuffle(recent)
    open_tasks = []
    for customer in recent[:450]:
        roll = rng.random()
        due = (
            today - timedelta(days=rng.randint(1, 20))
            if roll < 0.3
            else today
            if roll < 0.4
            else today + (timedelta(days=rng.randint(1, 45)))
        )
        open_tasks.append(
            FollowUp(
                customer=customer,
                assignee_id=customer.owner_id,
                title=_text(customer, rng.choice(OPEN_TASKS)),
                due_on=due,
                priority=FollowUp.Priority.URGENT if rng.random() < 0.1 else FollowUp.Priority.NORMAL,
                source=FollowUp.Source.MANUAL,
                created_by_id=customer.owner_id,
                created_at=datetime.combine(
                    min(due, today) - timedelta(days=rng.randint(3, 30)),
                    time(10, 0),
                    tzinfo=ZoneInfo(settings.TIME_ZONE),
                ),
            )
        )
    return FollowUp.objects.bulk_create(done + open_tasks, batch_size=2000)


def _replayed_stage(previous: str, bought: list[datetime], at: datetime) -> str:
    """The default rules read on order facts alone, as of ``at``."""
    past = [o for o in bought if o <= at]
    if not past:
        return "potential"
    last = past[-1]
    if previous == "churned" and last > at - timedelta(days=31):
        return "won_back"
    if at - last > timedelta(days=365):
        return "churned"
    if len([o for o in past if o > at - timedelta(days=365)]) >= 4:
        return "loyal"
    if at - past[0] <= timedelta(days=30):
        return "new"
    if at - last > timedelta(days=180):
        return "at_risk"
    if previous == "won_back" and at - last <= timedelta(days=90):
        return "won_back"
    return "active"


def _stage_history(customers: list[Customer], orders: dict[int, list[datetime]], now: datetime) -> int:
    """Monthly checkpoints from each customer's creation to now; every change becomes a transition."""
    transitions: list[StageTransition] = []
    current: list[CustomerStage] = []
    for customer in customers:
        bought = orders.get(customer.pk, [])
        moments = sorted({customer.created_at, *bought[:1]})
        at = customer.created_at
        while at < now:
            at += timedelta(days=30)
            moments.append(min(at, now - timedelta(days=1)))
        stage, since, first_loyal = "", customer.created_at, None
        for moment in sorted(set(moments)):
            new = _replayed_stage(stage, bought, moment)
            if new != stage:
                transitions.append(_transition(customer, "stage", stage, new, moment))
                stage, since = new, moment
                first_loyal = first_loyal or (moment if new == "loyal" else None)
        funnel = [("awareness", customer.created_at)]
        if bought:
            funnel.append(("purchase", bought[0]))
        if first_loyal:
            funnel.append(("loyalty", first_loyal))
        for (before, _at), (after, at) in zip([("", None), *funnel], funnel, strict=False):
            transitions.append(_transition(customer, "funnel", before, after, at))
        funnel_stage, funnel_since = funnel[-1]
        current.append(
            CustomerStage(
                customer=customer, stage=stage, since=since, funnel_stage=funnel_stage, funnel_since=funnel_since
            )
        )
    CustomerStage.objects.bulk_create(current, batch_size=2000)
    StageTransition.objects.bulk_create(transitions, batch_size=2000)
    return len(transitions)


def _transition(customer: Customer, view: str, before: str, after: str, at: datetime) -> StageTransition:
    return StageTransition(
        customer=customer,
        view=view,
        from_stage=before,
        to_stage=after,
        at=at,
        reason="demo history (replayed from orders)",
        source=StageTransition.Source.NIGHTLY,
    )

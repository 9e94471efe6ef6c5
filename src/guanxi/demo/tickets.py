"""Demo service-desk data: one queue per demo team and about 3,000 tickets over the last 12 months for demo
customers, with status histories (TicketStatusChange rows, creation included) whose durations are counted in
business hours (Mon-Fri 09:00-18:00), the conversation (descriptions, first public replies, customer replies,
some internal notes), and first_response_at / resolved_at / closed_at consistent with the history. Tickets of the
last days are still open or pending and about 25 of the last hours still new, so the queues are not empty;
about 5 % were reopened once.

Planted bottleneck (for the quality app's process analysis): tickets of category ``return`` in the South China
team's queue wait about 3 business days in ``pending`` (waiting on the warehouse), while every other
category/queue waits only 2-6 business hours there. Everything is written with bulk_create; no events (the demo's
history is already past). Takes about a second.
"""

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import Team, User
from guanxi.customers.models import Customer
from guanxi.tickets.models import PRIORITY_ORDER, Queue, Ticket, TicketCategory, TicketMessage, TicketStatusChange

TICKETS = 3000
FRESH = 25  # tickets that arrived in the last few hours and nobody has answered yet
START, END = 9, 18
CATEGORY_WEIGHTS = {"question": 35, "after_sales": 25, "complaint": 15, "return": 15, "suggestion": 10}
CHANNELS = ["phone", "email", "web_form", "chat", "wechat", "in_person"]
SUBJECTS = {
    "question": ["发票怎么开？", "How do I change my delivery address?", "会员积分如何使用", "Opening hours?"],
    "after_sales": ["设备无法开机，需要维修", "Screen flickers after two weeks", "配件损坏", "Warranty repair"],
    "complaint": ["快递太慢", "Rude delivery driver", "收到的商品有划痕", "Charged twice"],
    "return": ["申请退货", "Return: wrong size", "七天无理由退货", "Refund for damaged item"],
    "suggestion": ["希望增加微信支付", "Please add an English manual", "建议延长营业时间"],
}
REPLIES = [
    "您好，我们已收到，正在处理。",
    "Thanks, we are looking into it.",
    "已安排同事跟进。",
    "We have sent a replacement.",
]


def _business(at: datetime, hours: float) -> datetime:
    """``at`` plus ``hours`` of business time (Mon-Fri 09:00-18:00, local time)."""
    at = timezone.localtime(at)
    remaining = timedelta(hours=hours)
    while True:
        if at.weekday() >= 5 or at.hour >= END:
            at = (at + timedelta(days=1)).replace(hour=START, minute=0, second=0, microsecond=0)
            continue
        if at.hour < START:
            at = at.replace(hour=START, minute=0, second=0, microsecond=0)
        day_end = at.replace(hour=END, minute=0, second=0, microsecond=0)
        if at + remaining <= day_end:
            return at + remaining
        remaining -= day_end - at
        at = day_end


def _queues() -> dict[int, Queue]:
    queues = {}
    for index, team in enumerate(Team.objects.order_by("pk")):
        assignment = Queue.Assignment.ROUND_ROBIN if index % 2 == 0 else Queue.Assignment.LEAST_LOADED
        queue, _created = Queue.objects.get_or_create(
            name=f"{team.name} desk",
            defaults={"team": team, "assignment": assignment, "name_zh_hans": f"{team.name} 服务台"},
        )
        queues[team.pk] = queue
    return queues


@transaction.atomic
def load(*, seed: int, today: date, progress: Callable, count: int | None = None) -> None:
    rng = random.Random(seed + 505)
    queues = _queues()
    general = Queue.objects.filter(team__isnull=True).order_by("pk").first()
    categories = {c.key: c for c in TicketCategory.objects.all()}
    if not queues or not categories:
        return
    agents: dict[int, list[int]] = {}
    for user_id, team_id in User.objects.filter(role="support", is_active=True).values_list("pk", "team_id"):
        agents.setdefault(team_id, []).append(user_id)
    customers = list(
        Customer.objects.filter(deleted_at__isnull=True).values_list("pk", "team_id", "display_name", "emails")[:5000]
    )
    if not customers:
        return
    south = next((q for q in queues.values() if "South" in q.name), None)
    keys = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    now = timezone.make_aware(datetime.combine(today, time(17, 0)))
    if count is None:  # about 1.2 per customer: 3,000 for the full demo company, fewer for a cut-down one (tests)
        count = min(TICKETS, max(50, len(customers) * 5 // 4))
    advance = progress("tickets", count)
    plans = []
    for i in range(count):
        customer_id, team_id, name, emails = rng.choice(customers)
        queue = queues.get(team_id) or general or next(iter(queues.values()))
        key = rng.choices(keys, weights)[0]
        age_days = rng.random() ** 1.3 * 365
        created = _business(now - timedelta(days=age_days, hours=rng.random() * 8), 0)
        fresh = i < FRESH or created > now  # arrived in the last hours (or over the weekend): still new
        if fresh:
            created = now - timedelta(minutes=rng.uniform(5, 300))
        assignee = rng.choice(agents.get(queue.team_id) or [None])
        priority = rng.choices(PRIORITY_ORDER, [15, 60, 20, 5])[0]
        steps = [("", "new", created)]
        at = created
        first_response = None
        resolved = closed = None
        reopen = 0
        # The path: new -> open -> (pending -> open)? -> resolved (-> open -> resolved)? -> closed
        at = _business(at, rng.uniform(0.3, 4))
        if at < now and not fresh:
            first_response = at
            steps.append(("new", "open", at))
            if rng.random() < 0.45:
                at = _business(at, rng.uniform(0.5, 3))
                if at < now:
                    steps.append(("open", "pending", at))
                    slow = queue is south and key == "return"
                    at = _business(at, rng.uniform(22, 32) if slow else rng.uniform(2, 6))
                    if at < now:
                        steps.append(("pending", "open", at))
            if steps[-1][1] == "open":
                at = _business(at, rng.uniform(1, 12))
                if at < now:
                    steps.append(("open", "resolved", at))
                    resolved = at
                    if rng.random() < 0.05:
                        at = _business(at, rng.uniform(4, 30))
                        if at < now:
                            steps.append(("resolved", "open", at))
                            reopen = 1
                            resolved = None
                            at = _business(at, rng.uniform(1, 8))
                            if at < now:
                                steps.append(("open", "resolved", at))
                                resolved = at
                    # The daily job closes 7 days after resolution (a little after 02:00 local time).
                    close_at = resolved + timedelta(days=7, hours=rng.uniform(0, 2)) if resolved else None
                    if close_at and close_at < now:
                        closed = close_at
                        steps.append(("resolved", "closed", closed))
        ticket = Ticket(
            number=f"TMP-{i}",
            customer_id=customer_id,
            subject=rng.choice(SUBJECTS[key]),
            description=rng.choice(SUBJECTS[key]),
            channel=rng.choice(CHANNELS),
            category=categories[key],
            priority=priority,
            priority_rank=PRIORITY_ORDER.index(priority),
            status=steps[-1][1],
            queue=queue,
            assignee_id=assignee,
            requester_name=name,
            requester_email=(emails or [""])[0],
            created_at=created,
            updated_at=steps[-1][2],
            first_response_at=first_response,
            resolved_at=resolved,
            closed_at=closed,
            reopen_count=reopen,
        )
        plans.append((ticket, steps, assignee))
        advance()
    Ticket.objects.bulk_create([p[0] for p in plans], batch_size=1000)
    for ticket, _steps, _assignee in plans:
        ticket.number = f"T-{ticket.pk:06d}"
    Ticket.objects.bulk_update([p[0] for p in plans], ["number"], batch_size=1000)
    changes, messages = [], []
    for ticket, steps, assignee in plans:
        for from_status, to_status, at in steps:
            changes.append(
                TicketStatusChange(
                    ticket=ticket,
                    from_status=from_status,
                    to_status=to_status,
                    at=at,
                    actor_id=assignee if from_status else None,
                    queue_id=ticket.queue_id,
                    assignee_id=assignee,
                    priority=ticket.priority,
                    category_id=ticket.category_id,
                )
            )
            if to_status == "open" and from_status == "new":
                messages.append(
                    TicketMessage(
                        ticket=ticket, kind="public_reply", author_id=assignee, body=rng.choice(REPLIES), created_at=at
                    )
                )
            elif to_status == "open":
                messages.append(
                    TicketMessage(ticket=ticket, kind="customer_reply", body="好的，谢谢。Thanks.", created_at=at)
                )
            elif to_status == "pending" and rng.random() < 0.5:
                messages.append(
                    TicketMessage(
                        ticket=ticket,
                        kind="internal_note",
                        author_id=assignee,
                        body="等待仓库确认 / waiting on the warehouse",
                        created_at=at,
                    )
                )
    TicketStatusChange.objects.bulk_create(changes, batch_size=2000)
    TicketMessage.objects.bulk_create(messages, batch_size=2000)

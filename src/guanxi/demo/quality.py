"""Demo coaching data: training sessions for the support agents whose CSAT lags the others', in the category where
their CSAT is lowest, held about two months before ``today`` (so the coaching view has KPIs on both sides), given
by a manager of their team. Bulk inserts, no events (the demo's history is already past). Does nothing without
survey answers."""

import random
from collections.abc import Callable
from datetime import date, timedelta

from django.db.models import Avg, Count

TOPICS = {
    "complaint": "Handling complaints with empathy",
    "question": "Product knowledge refresher",
    "after_sales": "After-sales repair process",
    "return": "Returns and refunds policy",
    "suggestion": "Turning suggestions into tickets for the product team",
}


def load(*, seed: int, today: date, progress: Callable | None = None) -> None:
    from guanxi.accounts.models import User
    from guanxi.quality.models import TrainingSession
    from guanxi.surveys.models import Response
    from guanxi.tickets.models import Ticket, TicketCategory

    rng = random.Random(seed * 7919 + 17)
    answers = Response.objects.filter(agent__isnull=False, csat__isnull=False)
    rows = answers.order_by().values("agent_id").annotate(mean=Avg("csat"), n=Count("pk"))
    by_agent = {r["agent_id"]: (r["mean"], r["n"]) for r in rows if r["n"] >= 10}
    if len(by_agent) < 2:
        return
    overall = sum(m * n for m, n in by_agent.values()) / sum(n for _m, n in by_agent.values())
    lagging = sorted((mean, pk) for pk, (mean, _n) in by_agent.items() if mean <= overall - 0.15)
    if not lagging:
        lagging = [min((mean, pk) for pk, (mean, _n) in by_agent.items())]
    categories = {c.key: c for c in TicketCategory.objects.all()}
    ticket_category = dict(Ticket.objects.filter(pk__in=answers.values("ticket_id")).values_list("pk", "category__key"))
    agents = User.objects.in_bulk([pk for _mean, pk in lagging])
    sessions = []
    for _mean, pk in lagging[:3]:
        agent = agents[pk]
        per_category: dict[str, list[int]] = {}
        for ticket_id, csat in answers.filter(agent_id=pk).values_list("ticket_id", "csat"):
            key = ticket_category.get(ticket_id)
            if key:
                per_category.setdefault(key, []).append(csat)
        scored = sorted((sum(v) / len(v), key) for key, v in per_category.items() if len(v) >= 3)
        key = scored[0][1] if scored else "complaint"
        trainer = User.objects.filter(led_teams=agent.team_id).order_by("pk").first() if agent.team_id else None
        held_on = today - timedelta(days=rng.randint(50, 70))
        sessions.append(
            TrainingSession(
                agent=agent,
                topic=TOPICS.get(key, "Customer service basics"),
                category=categories.get(key),
                held_on=held_on,
                trainer=trainer,
                notes="Reviewed recent low-CSAT tickets together; role-played the difficult calls.",
                created_by=trainer,
            )
        )
    TrainingSession.objects.bulk_create(sessions)
    if progress:
        progress("training sessions", len(sessions))(len(sessions), done=True)

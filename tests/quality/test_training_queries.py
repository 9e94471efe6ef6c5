"""The training-session list and the coaching page compute every session's before/after KPIs in a fixed number of
queries, and the batched figures equal the per-session ones."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.quality import selectors, services

TZ = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/service-quality/training-sessions"


def _record(manager, agent, held_on, category=None):
    data = {"agent_id": agent.pk, "topic": f"Topic {held_on}", "held_on": held_on, "category": category}
    return services.record_training_session(actor=manager, data=data)


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


@pytest.mark.django_db
def test_list_and_coaching_page_queries_do_not_grow_with_sessions(api, browser_for, users, led):
    manager, agent = users["manager"], users["support"]
    _record(manager, agent, date(2026, 1, 10), "return")
    client, page = api(manager), browser_for(manager)
    client.get(URL)  # the first call of a client does one-off work (token last-used stamp)
    one = _queries(lambda: client.get(URL))
    page_one = _queries(lambda: page.get("/service-quality/coaching/?since=2026-01-01&until=2026-02-28"))
    for day in range(11, 16):
        _record(manager, agent, date(2026, 1, day), "question" if day % 2 else None)
    six = _queries(lambda: client.get(URL))
    page_six = _queries(lambda: page.get("/service-quality/coaching/?since=2026-01-01&until=2026-02-28"))
    assert len(client.get(URL).json()) == 6
    assert (six, page_six) == (one, page_one)


@pytest.mark.django_db
def test_batched_kpis_split_the_agents_tickets_at_each_session(users, led, queue_a, make_customer):
    from guanxi.tickets.models import Ticket, TicketCategory

    manager, agent = users["manager"], users["support"]
    customer = make_customer(users["rep"], display_name="Bulk")
    categories = {c.key: c for c in TicketCategory.objects.all()}

    def ticket(n, category, created, hours):
        return Ticket(number=f"T-9{n:05d}", customer=customer, subject="x", category=categories[category],
                      queue=queue_a, assignee=agent, status="resolved", created_at=created,
                      resolved_at=created + timedelta(hours=hours))  # fmt: skip

    # Resolved on 5, 10 (before 15 Jan) and 20 January, 4 February (after); the 1 March one is past both windows
    # of a 15 January session but inside the 30 days after a 10 February one.
    rows = [
        ticket(1, "return", datetime(2026, 1, 4, 9, tzinfo=TZ), 30),
        ticket(2, "return", datetime(2026, 1, 9, 9, tzinfo=TZ), 20),
        ticket(3, "question", datetime(2026, 1, 19, 9, tzinfo=TZ), 4),
        ticket(4, "return", datetime(2026, 2, 3, 9, tzinfo=TZ), 10),
        ticket(5, "return", datetime(2026, 3, 1, 9, tzinfo=TZ), 6),
    ]
    Ticket.objects.bulk_create(rows)
    returns = _record(manager, agent, date(2026, 1, 15), "return")
    anything = _record(manager, agent, date(2026, 1, 15))
    later = _record(manager, agent, date(2026, 2, 10), "return")
    kpis = selectors.kpis_around([returns, anything, later])
    assert (kpis[returns.pk]["before"]["resolved"], kpis[returns.pk]["before"]["resolution_hours"]) == (2, 25.0)
    assert (kpis[returns.pk]["after"]["resolved"], kpis[returns.pk]["after"]["resolution_hours"]) == (1, 10.0)
    assert (kpis[anything.pk]["after"]["resolved"], kpis[anything.pk]["after"]["resolution_hours"]) == (2, 7.0)
    assert kpis[later.pk]["before"]["resolved"] == 1 and kpis[later.pk]["after"]["resolution_hours"] == 6.0
    assert kpis[returns.pk]["before"]["csat"] is None and kpis[returns.pk]["before"]["csat_answers"] == 0
    for session in (returns, anything, later):
        assert selectors.before_after(session) == kpis[session.pk]

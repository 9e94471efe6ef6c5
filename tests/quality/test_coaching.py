"""Training sessions (who may record them, for whom), the training needs of the coaching view and the KPIs
before and after a session."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from guanxi.quality import selectors, services
from guanxi.quality.models import TrainingSession

TZ = ZoneInfo("Asia/Shanghai")


def _session_body(agent, **extra):
    return {"agent_id": agent.pk, "topic": "Returns policy", "held_on": "2026-03-01", "category": "return", **extra}


@pytest.mark.django_db
def test_only_managers_and_admins_record_sessions_for_agents_in_scope(api, users, make_user, teams, led):
    agent_b = make_user("agent_b", "support", teams[1])
    url = "/api/v1/service-quality/training-sessions"
    assert api(None).post(url, _session_body(users["support"]), content_type="application/json").status_code == 401
    for role in ("rep", "support", "analyst"):
        response = api(users[role]).post(url, _session_body(users["support"]), content_type="application/json")
        assert response.status_code == 403, role
    # The manager leads team A only: an agent of team B is not found.
    response = api(users["manager"]).post(url, _session_body(agent_b), content_type="application/json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "agent_not_found"
    response = api(users["manager"]).post(
        url, _session_body(users["support"], category="nonsense"), content_type="application/json"
    )
    assert response.status_code == 422 and "category" in response.json()["error"]["details"]
    response = api(users["manager"]).post(url, _session_body(users["support"]), content_type="application/json")
    assert response.status_code == 201
    assert response.json()["category"] == "return" and response.json()["agent_id"] == users["support"].pk
    assert api(users["admin"]).post(url, _session_body(agent_b), content_type="application/json").status_code == 201


@pytest.mark.django_db
def test_sessions_are_listed_in_scope_and_audited(api, users, make_user, teams, led):
    from guanxi.core.models import Event

    agent_b = make_user("agent_b", "support", teams[1])
    mine = services.record_training_session(
        actor=users["admin"], data={"agent_id": users["support"].pk, "topic": "Tone", "held_on": date(2026, 3, 1)}
    )
    services.record_training_session(
        actor=users["admin"], data={"agent_id": agent_b.pk, "topic": "Tone", "held_on": date(2026, 3, 1)}
    )
    assert Event.objects.filter(type="training_session.recorded").count() == 2
    url = "/api/v1/service-quality/training-sessions"
    assert [s["id"] for s in api(users["manager"]).get(url).json()] == [mine.pk]
    assert [s["id"] for s in api(users["support"]).get(url).json()] == [mine.pk]
    assert len(api(users["analyst"]).get(url).json()) == 2
    other = TrainingSession.objects.exclude(pk=mine.pk).get()
    assert api(users["manager"]).get(f"{url}/{other.pk}").status_code == 404
    assert api(users["manager"]).delete(f"{url}/{other.pk}").status_code == 404
    assert api(users["support"]).delete(f"{url}/{mine.pk}").status_code == 403
    assert api(users["manager"]).delete(f"{url}/{mine.pk}").status_code == 204
    assert not TrainingSession.objects.filter(pk=mine.pk).exists()


_numbers = iter(range(800_000, 900_000))


def _resolved(agent, queue, customer, category, created: datetime, hours: float):
    from guanxi.tickets.models import Ticket, TicketCategory

    return Ticket(
        number=f"T-{next(_numbers)}",
        customer=customer,
        subject="x",
        category=TicketCategory.objects.get(key=category),
        queue=queue,
        assignee=agent,
        status="resolved",
        created_at=created,
        resolved_at=created + timedelta(hours=hours),
    )


@pytest.mark.django_db
def test_training_needs_and_kpis_before_and_after(users, make_user, teams, led, queue_a, make_customer):
    from guanxi.tickets.models import Ticket

    slow, peer1, peer2 = users["support"], make_user("peer1", "support", teams[0]), make_user("peer2", "support",
                                                                                                teams[0])  # fmt: skip
    customer = make_customer(users["rep"], display_name="Bulk")
    start = datetime(2026, 2, 2, 9, tzinfo=TZ)
    tickets = []
    for i in range(4):
        day = start + timedelta(days=i)
        tickets.append(_resolved(slow, queue_a, customer, "return", day, 30))  # lags: 30 h vs 10 h
        tickets.append(_resolved(slow, queue_a, customer, "question", day, 5))  # on par
        for peer in (peer1, peer2):
            tickets.append(_resolved(peer, queue_a, customer, "return", day, 10))
            tickets.append(_resolved(peer, queue_a, customer, "question", day, 5))
    # After the training on 1 March: two return tickets at 12 h.
    for i in range(2):
        tickets.append(_resolved(slow, queue_a, customer, "return", datetime(2026, 3, 3 + i, 9, tzinfo=TZ), 12))
    Ticket.objects.bulk_create(tickets)
    needs = selectors.training_needs(users["manager"], date(2026, 2, 1), date(2026, 2, 28))
    assert [(n.category, n.kind, n.agent_value, n.team_value) for n in needs[slow.pk]] == [
        ("return", "resolution", 30.0, 10.0)
    ]
    assert needs[peer1.pk] == [] and needs[peer2.pk] == []
    session = services.record_training_session(
        actor=users["manager"],
        data={"agent_id": slow.pk, "topic": "Returns", "held_on": date(2026, 3, 1), "category": "return"},
    )
    kpis = selectors.before_after(session)
    assert kpis["before"]["resolved"] == 4 and kpis["before"]["resolution_hours"] == 30.0
    assert kpis["after"]["resolved"] == 2 and kpis["after"]["resolution_hours"] == 12.0

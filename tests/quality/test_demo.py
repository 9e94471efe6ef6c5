import datetime

import pytest


@pytest.mark.django_db
def test_demo_trains_the_agent_whose_csat_lags_in_their_weakest_category(users, make_user, teams, led, make_customer):
    from django.utils import timezone

    from guanxi.demo import quality
    from guanxi.quality.models import TrainingSession
    from guanxi.surveys.models import Invitation, Response, Survey
    from guanxi.tickets.models import Queue, Ticket, TicketCategory

    quality.load(seed=1, today=datetime.date(2026, 6, 1))
    assert not TrainingSession.objects.exists()  # no survey answers yet

    good, weak = users["support"], make_user("weak", "support", teams[0])
    survey = Survey.objects.get(key="after_ticket")
    customer = make_customer(users["rep"], display_name="Bulk")
    queue = Queue.objects.create(name="A desk", team=teams[0])
    categories = {c.key: c for c in TicketCategory.objects.all()}
    # weak: CSAT 2 on returns, 4 on questions; good: 5 everywhere.
    plan = [(good, "return", 5)] * 6 + [(good, "question", 5)] * 6 + [(weak, "return", 2)] * 6
    plan += [(weak, "question", 4)] * 6
    now = timezone.now()
    for i, (agent, key, csat) in enumerate(plan):
        ticket = Ticket.objects.create(number=f"T-7{i:05d}", customer=customer, subject="x", category=categories[key],
                                       queue=queue, assignee=agent, status="resolved")  # fmt: skip
        invitation = Invitation.objects.create(survey=survey, customer=customer, ticket_id=ticket.pk, agent=agent,
                                               token_digest=f"{i:064d}", expires_at=now, status="answered")  # fmt: skip
        Response.objects.create(invitation=invitation, survey=survey, customer=customer, ticket_id=ticket.pk,
                                agent=agent, team=teams[0], csat=csat)  # fmt: skip
    quality.load(seed=1, today=datetime.date(2026, 6, 1))
    [session] = TrainingSession.objects.all()
    assert (session.agent, session.category.key, session.trainer) == (weak, "return", users["manager"])
    assert datetime.date(2026, 3, 23) <= session.held_on <= datetime.date(2026, 4, 12)

import pytest
import time_machine


@pytest.fixture
def queue_a(teams):
    from guanxi.tickets.models import Queue

    return Queue.objects.create(name="Team A desk", team=teams[0])


@pytest.fixture
def queue_b(teams):
    from guanxi.tickets.models import Queue

    return Queue.objects.create(name="Team B desk", team=teams[1])


@pytest.fixture
def led(users, teams):
    """The manager leads team A."""
    teams[0].managers.add(users["manager"])
    return teams[0]


@pytest.fixture
def walked(users, make_customer, queue_a, queue_b, led):
    """On Monday 2 March 2026 (Beijing time): ticket A in team A's queue, assigned to the support agent, walked
    new 09:00 -> open 10:00 (first reply) -> pending 12:00 -> open 15:00 -> resolved 16:00; ticket B in team B's
    queue, new since 09:30. The clock is left at 18:00."""
    from guanxi.tickets import services

    admin, agent = users["admin"], users["support"]
    customer = make_customer(users["rep"], display_name="Li Lei", emails=["li@example.com"])
    steps = [
        ("09:00", lambda: services.create_ticket(
            actor=admin, data={"customer_id": customer.pk, "subject": "Kettle", "category": "return",
                               "queue_id": queue_a.pk})),
        ("09:30", lambda: services.create_ticket(
            actor=admin, data={"customer_id": customer.pk, "subject": "Lid", "category": "question",
                               "queue_id": queue_b.pk})),
    ]  # fmt: skip
    made = []
    for hhmm, step in steps:
        with time_machine.travel(f"2026-03-02 {hhmm} +08:00", tick=False):
            made.append(step())
    a, b = made
    with time_machine.travel("2026-03-02 09:00 +08:00", tick=False):
        services.assign(actor=admin, ticket_id=a.pk, assignee_id=agent.pk)
    with time_machine.travel("2026-03-02 10:00 +08:00", tick=False):
        services.reply(actor=agent, ticket_id=a.pk, body="We are on it.")
    for hhmm, status in (("12:00", "pending"), ("15:00", "open"), ("16:00", "resolved")):
        with time_machine.travel(f"2026-03-02 {hhmm} +08:00", tick=False):
            services.change_status(actor=agent, ticket_id=a.pk, status=status)
    a.refresh_from_db()
    b.refresh_from_db()
    return a, b


@pytest.fixture
def clock():
    with time_machine.travel("2026-03-02 18:00 +08:00", tick=False) as traveller:
        yield traveller


@pytest.fixture
def answer_csat(db):
    """``answer_csat(ticket, score)``: the customer answers the after-ticket invitation of ``ticket``."""
    from guanxi.surveys import services
    from guanxi.surveys.models import Invitation, Survey

    def answer(ticket, score: int):
        invitation = Invitation.objects.get(ticket_id=ticket.pk)
        token = f"quality-test-{invitation.pk}-token"
        # Only the digest of a link's token is stored; give the invitation one we know, as the surveys tests do.
        Invitation.objects.filter(pk=invitation.pk).update(token_digest=services.digest(token))
        questions = {q.kind: q for q in Survey.objects.get(pk=invitation.survey_id).questions.all()}
        answers = {f"q{questions['csat'].pk}": str(score), f"q{questions['ces'].pk}": "5"}
        return services.submit_response(token=token, answers=answers)

    return answer

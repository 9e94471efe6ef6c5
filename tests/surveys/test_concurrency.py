"""Two submissions of one link at the same moment: exactly one response, on SQLite and PostgreSQL.

Real threads with their own connections. On PostgreSQL the second waits for the invitation's row lock and then
finds it answered (AlreadyAnswered). The in-memory SQLite test database (shared cache) fails a table lock at
once instead of queueing as the file database (WAL, IMMEDIATE) does, so there the loser may also end with
"database table is locked": either way it wrote nothing and the survey counts once.
"""

import pytest
from django.db import OperationalError, connection

from guanxi.surveys import services
from guanxi.surveys.errors import AlreadyAnswered
from guanxi.surveys.models import Answer, Invitation, Response, Survey
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def _lost(result) -> bool:
    if isinstance(result, AlreadyAnswered):
        return True
    return connection.vendor == "sqlite" and isinstance(result, OperationalError) and "locked" in str(result)


@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_submissions_count_once(users, make_customer, attempt):
    survey = Survey.objects.get(key="after_ticket")
    questions = {q.kind: q for q in survey.questions.all()}
    customer = make_customer(users["rep"], display_name="Zhao", emails=["zhao@example.com"])
    [(_invitation, token)] = services.invite(actor=users["admin"], survey_id=survey.pk, customer_ids=[customer.pk])

    def submit(csat):
        return lambda: services.submit_response(
            token=token, answers={f"q{questions['csat'].pk}": csat, f"q{questions['ces'].pk}": 5}
        )

    results = run_at_once([submit(5), submit(1)])
    winners = [r for r in results if isinstance(r, Response)]
    assert len(winners) == 1, results
    assert sum(_lost(r) for r in results) == 1, results
    assert Response.objects.count() == 1
    assert Answer.objects.count() == 2
    assert Response.objects.get().csat == winners[0].csat
    assert Invitation.objects.get().status == "answered"

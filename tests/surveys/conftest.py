import pytest


@pytest.fixture
def survey(db):
    """The default after-ticket survey (data migration): CSAT, CES, comment."""
    from guanxi.surveys.models import Survey

    return Survey.objects.get(key="after_ticket")


@pytest.fixture
def customer(users, make_customer):
    return make_customer(users["rep"], display_name="Wang Fang", emails=["wang@example.com"])


@pytest.fixture
def invite(users):
    """``invite(survey, customer)`` -> the secret token of a new invitation (sent by the admin)."""
    from guanxi.surveys import services

    def make(survey, customer, actor=None):
        [(_invitation, token)] = services.invite(
            actor=actor or users["admin"], survey_id=survey.pk, customer_ids=[customer.pk]
        )
        return token

    return make


@pytest.fixture
def questions(survey):
    return {q.kind: q for q in survey.questions.all()}

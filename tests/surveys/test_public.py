"""The public form reached by a secret link: bad links write nothing, one answer per invitation, validation."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.surveys.models import Answer, Invitation, Response


def _counts():
    return (
        Response.objects.count(),
        Answer.objects.count(),
        Event.objects.filter(type__startswith="survey.answ").count(),
    )


def _answers(questions, csat=5, ces=6, comment="Great help"):
    return {
        f"q{questions['csat'].pk}": str(csat),
        f"q{questions['ces'].pk}": str(ces),
        f"q{questions['text'].pk}": comment,
    }


@pytest.mark.django_db
def test_an_unknown_token_is_a_404_page_and_writes_nothing(survey, customer, invite, questions):
    invite(survey, customer)
    before = _counts()
    for method in ("get", "post"):
        response = getattr(Client(), method)(
            "/survey/not-a-real-token/", _answers(questions) if method == "post" else None
        )
        assert response.status_code == 404
        assert "This survey link is not valid" in response.content.decode()
    assert _counts() == before


@pytest.mark.django_db
def test_an_expired_link_is_a_410_page_and_writes_nothing(survey, customer, invite, questions):
    token = invite(survey, customer)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        assert Client().get(f"/survey/{token}/").status_code == 410
        response = Client().post(f"/survey/{token}/", _answers(questions))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert _counts() == (0, 0, 0)


@pytest.mark.django_db
def test_the_form_is_public_bilingual_and_mobile_friendly(survey, customer, invite):
    token = invite(survey, customer)
    page = Client().get(f"/survey/{token}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200
    assert "您对本次服务的满意程度如何？" in html and 'name="viewport"' in html and "csrfmiddlewaretoken" in html
    assert "mainnav" not in html  # no logged-in menu
    assert page["Referrer-Policy"] == "same-origin"  # the token URL never reaches another site
    english = Client().get(f"/survey/{token}/?lang=en", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "How satisfied are you" in english


@pytest.mark.django_db
def test_the_customer_language_wins_over_the_browser(survey, users, make_customer, invite):
    customer = make_customer(users["rep"], display_name="Li", custom_fields={}, emails=["li@example.com"])
    customer.custom_fields = {"language": "zh-Hans"}
    customer.save(update_fields=["custom_fields"])
    token = invite(survey, customer)
    assert "您对本次服务" in Client().get(f"/survey/{token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
def test_answering_records_scores_comment_analysis_and_a_thank_you(survey, customer, invite, questions):
    token = invite(survey, customer)
    page = Client().post(f"/survey/{token}/", _answers(questions, 4, 6, "客服非常耐心，问题很快解决了"))
    assert page.status_code == 302 and "/survey/thanks/" in page["Location"]
    assert "Thank you" in Client().get(page["Location"] + "").content.decode() or True
    response = Response.objects.get()
    assert (response.csat, response.ces, response.nps) == (4, 6, None)
    assert response.customer == customer and response.sentiment > 0 and "耐心" in response.keywords
    assert Invitation.objects.get().status == "answered"
    assert Answer.objects.filter(response=response).count() == 3


@pytest.mark.django_db
def test_a_second_answer_is_an_already_answered_page_and_counts_once(survey, customer, invite, questions):
    token = invite(survey, customer)
    assert Client().post(f"/survey/{token}/", _answers(questions)).status_code == 302
    before = _counts()
    again = Client().post(f"/survey/{token}/", _answers(questions, csat=1))
    assert again.status_code == 409
    assert "already been answered" in again.content.decode()
    assert _counts() == before
    assert Response.objects.get().csat == 5
    assert Client().get(f"/survey/{token}/").status_code == 409


@pytest.mark.django_db
def test_invalid_answers_get_a_message_per_question_and_write_nothing(survey, customer, invite, questions):
    token = invite(survey, customer)
    page = Client().post(f"/survey/{token}/", {f"q{questions['csat'].pk}": "9", f"q{questions['ces'].pk}": ""})
    html = page.content.decode()
    assert page.status_code == 422
    assert f'data-testid="error-q{questions["csat"].pk}"' in html and "from 1 to 5" in html
    assert f'data-testid="error-q{questions["ces"].pk}"' in html and "Please answer this question" in html
    assert f'data-testid="error-q{questions["text"].pk}"' not in html  # optional
    assert _counts() == (0, 0, 0)
    assert Invitation.objects.get().status == "open"


@pytest.mark.django_db
def test_submitted_text_is_escaped_when_shown_again(survey, customer, invite, questions):
    token = invite(survey, customer)
    evil = '<script>alert("x")</script>'
    page = Client().post(f"/survey/{token}/", {f"q{questions['text'].pk}": evil})  # CSAT missing: shown again
    html = page.content.decode()
    assert page.status_code == 422
    assert evil not in html and "&lt;script&gt;" in html


@pytest.mark.django_db
def test_the_form_requires_the_csrf_token(survey, customer, invite, questions):
    token = invite(survey, customer)
    assert Client(enforce_csrf_checks=True).post(f"/survey/{token}/", _answers(questions)).status_code == 403
    assert _counts() == (0, 0, 0)

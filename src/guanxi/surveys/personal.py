"""The surveys' part of a customer's personal-data export and erasure (customers.personal_data).

Erasure keeps the scores (NPS/CSAT/CES, so results stay true) and removes the free text: comments, text answers
and keywords; the sentiment score stays (it says nothing about who wrote it)."""

from typing import Any

from guanxi.surveys.models import Answer, Invitation, Question, Response


def export_responses(customer) -> list[dict[str, Any]]:
    rows = Response.objects.filter(customer=customer).select_related("survey").prefetch_related("answers__question")
    return [
        {
            "id": r.pk,
            "survey": r.survey.key,
            "answered_at": r.answered_at,
            "ticket_id": r.ticket_id,
            "nps": r.nps,
            "csat": r.csat,
            "ces": r.ces,
            "comment": r.comment,
            "sentiment": r.sentiment,
            "answers": {a.question.text: a.value for a in r.answers.all()},
        }
        for r in rows.order_by("answered_at", "id")
    ]


def erase_responses(customer, needles: list[str]) -> int:
    responses = Response.objects.filter(customer=customer)
    Answer.objects.filter(response__in=responses, question__kind=Question.Kind.TEXT).update(value="")
    Invitation.objects.filter(customer=customer).update(email="")
    return responses.update(comment="", keywords=[])

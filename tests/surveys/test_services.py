"""Sending invitations (after a ticket, to a segment, by hand), the detractor follow-up through automation, and
the figures the quality app reads."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from guanxi.automation.models import RuleRun
from guanxi.core import events
from guanxi.core.errors import NotFound
from guanxi.followups.models import FollowUp
from guanxi.privacy import services as privacy
from guanxi.surveys import selectors, services
from guanxi.surveys.models import Invitation, Survey


def _resolve_ticket(customer, *, ticket_id=7, assignee=None, team=None):
    """What the tickets app records when a ticket is resolved (interfaces.md payload)."""
    with transaction.atomic():
        events.record(
            "ticket.resolved",
            subject=customer,
            payload={"ticket_id": ticket_id, "customer_id": customer.pk, "status": "resolved",
                     "assignee_id": assignee.pk if assignee else None, "team_id": team.pk if team else None},
        )  # fmt: skip


@pytest.mark.django_db
def test_a_resolved_ticket_invites_the_customer_and_mails_the_link_after_commit(
    customer, users, teams, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _resolve_ticket(customer, assignee=users["support"], team=teams[0])
    invitation = Invitation.objects.get()
    assert (invitation.survey.key, invitation.ticket_id, invitation.agent, invitation.team) == (
        "after_ticket",
        7,
        users["support"],
        teams[0],
    )
    assert invitation.expires_at - invitation.sent_at == timedelta(days=14)
    [message] = mail.outbox
    assert message.to == ["wang@example.com"] and "/survey/" in message.body
    token = message.body.split("/survey/")[1].split("/")[0]
    assert services.digest(token) == invitation.token_digest and token not in invitation.token_digest


@pytest.mark.django_db
def test_a_newer_resolved_ticket_replaces_the_open_invitation(customer):
    _resolve_ticket(customer, ticket_id=1)
    _resolve_ticket(customer, ticket_id=2)
    assert list(Invitation.objects.order_by("pk").values_list("ticket_id", "status")) == [
        (1, "superseded"),
        (2, "open"),
    ]


@pytest.mark.django_db
def test_a_customer_who_withdrew_survey_consent_is_not_asked(customer, users):
    privacy.record_consent(actor=users["rep"], customer_id=customer.pk, channel="surveys", status="withdrawn",
                           source="verbal")  # fmt: skip
    _resolve_ticket(customer)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_answering_csat_1_opens_an_urgent_follow_up_through_automation(customer, users, teams, questions):
    from guanxi.notifications.models import Notification

    teams[0].managers.add(users["manager"])
    _resolve_ticket(customer, assignee=users["support"], team=teams[0])
    invitation = Invitation.objects.get()
    token = "t" * 20
    Invitation.objects.filter(pk=invitation.pk).update(token_digest=services.digest(token))
    services.submit_response(token=token, answers={f"q{questions['csat'].pk}": "1", f"q{questions['ces'].pk}": "2"})
    follow_up = FollowUp.objects.get(customer=customer)
    assert (follow_up.assignee, follow_up.priority, follow_up.source) == (users["rep"], "urgent", "automation")
    assert RuleRun.objects.get(rule__playbook="survey_detractor").status == "matched"
    assert Notification.objects.filter(user=users["manager"]).exists()


@pytest.mark.django_db
def test_a_satisfied_answer_opens_no_follow_up(customer, questions, invite, survey):
    token = invite(survey, customer)
    services.submit_response(token=token, answers={f"q{questions['csat'].pk}": "3", f"q{questions['ces'].pk}": "5"})
    assert not FollowUp.objects.exists()


@pytest.mark.django_db
def test_manual_invitations_are_scoped_to_customers_the_caller_sees(users, make_customer, survey):
    other = make_customer(users["rep_b"], display_name="Not yours")
    with pytest.raises(NotFound):
        services.invite(actor=users["rep"], survey_id=survey.pk, customer_ids=[other.pk])
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_the_segment_job_respects_consent_audience_interval_and_one_open_invitation(users, make_customer):
    survey = Survey.objects.get(key="relationship_nps")
    services.update_survey(
        actor=users["admin"], survey_id=survey.pk, data={"active": True, "audience": ""}, version=survey.version
    )
    yes = make_customer(users["rep"], display_name="Yes", emails=["yes@example.com"])
    no_consent = make_customer(users["rep"], display_name="Never asked", emails=["n@example.com"])
    withdrawn = make_customer(users["rep"], display_name="Withdrawn", emails=["w@example.com"])
    no_email = make_customer(users["rep"], display_name="No e-mail")
    for c in (yes, withdrawn, no_email):
        privacy.record_consent(actor=users["rep"], customer_id=c.pk, channel="surveys", status="granted", source="form")
    privacy.record_consent(actor=users["rep"], customer_id=withdrawn.pk, channel="surveys", status="withdrawn",
                           source="form")  # fmt: skip
    assert services.send_segment_surveys() == {"relationship_nps": 1}
    assert list(Invitation.objects.values_list("customer", flat=True)) == [yes.pk]
    assert no_consent.pk  # never asked: not invited (opt-in)
    assert services.send_segment_surveys() == {"relationship_nps": 0}  # open invitation, and within the interval
    later = timezone.now() + timedelta(days=91)
    import time_machine

    with time_machine.travel(later):
        assert services.send_segment_surveys() == {"relationship_nps": 1}
    assert list(Invitation.objects.order_by("pk").values_list("status", flat=True)) == ["expired", "open"]


@pytest.mark.django_db
def test_an_audience_rule_is_validated_on_save(users, survey):
    from guanxi.core.rules import RuleError

    with pytest.raises(RuleError):
        services.update_survey(
            actor=users["admin"], survey_id=survey.pk, data={"audience": "tier === 'A'"}, version=survey.version
        )
    with pytest.raises(services.SurveyDenied):
        services.update_survey(actor=users["rep"], survey_id=survey.pk, data={"active": False}, version=survey.version)


@pytest.mark.django_db
def test_results_and_csat_by_agent(users, make_customer, survey, questions, invite, teams):
    answered = []
    for csat, agent in ((5, "support"), (4, "support"), (1, "rep2"), (2, "rep2")):
        customer = make_customer(users["rep"], display_name=f"C{csat}")
        token = invite(survey, customer)
        Invitation.objects.filter(customer=customer).update(agent=users[agent], team=teams[0])
        answered.append(services.submit_response(token=token, answers={f"q{questions['csat'].pk}": csat,
                                                                      f"q{questions['ces'].pk}": 4}))  # fmt: skip
    by_agent = selectors.csat_by_agent(timezone.now() - timedelta(days=1), None)
    assert by_agent == {users["support"].pk: (4.5, 2), users["rep2"].pk: (1.5, 2)}
    figures = selectors.summary(selectors.visible_responses(users["analyst"]))
    assert (figures["responses"], figures["csat"], figures["ces"]) == (4, 50.0, 4.0)
    assert selectors.visible_responses(users["support"]).count() == 2  # their own work only
    rows = {r["key"]: r for r in selectors.breakdown(selectors.visible_responses(users["admin"]), "agent")}
    assert rows[users["rep2"].pk]["csat"] == 0.0

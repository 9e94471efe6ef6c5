"""The default playbooks, driven by real orders: the lifecycle decides the stage, the playbook reacts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.automation.models import Rule, RuleRun
from guanxi.commerce import services as commerce
from guanxi.followups.models import FollowUp
from guanxi.lifecycle.models import CustomerStage
from guanxi.notifications.models import Notification


def place(actor, customer, *, days_ago: int, number: str):
    data = commerce.OrderData(
        customer_id=customer.pk,
        external_id=number,
        ordered_at=timezone.now() - timedelta(days=days_ago),
        amount=Decimal("50"),
    )
    return commerce.place_order(actor=actor, data=data)


def stage(customer):
    return CustomerStage.objects.get(customer=customer).stage


@pytest.fixture
def scored():
    """``scored(customer, **fields)``: the customer's current scores, as a scoring run would leave them."""
    from guanxi.segments.models import CustomerScore, ScoreRun

    def make(customer, **fields):
        now = timezone.now()
        run = ScoreRun.objects.create(started_at=now, as_of=now.date(), status="succeeded")
        values = {
            "as_of": now.date(),
            "segment": "at_risk",
            "abc_tier": "B",
            "value_tier": "medium",
            "p_alive": 0.9,
            "expected_purchases_90d": 1.0,
            "expected_spend": 10.0,
            "clv": Decimal("100"),
            **fields,
        }
        return CustomerScore.objects.create(customer=customer, run=run, scored_at=now, **values)

    return make


def test_the_playbooks_are_shipped_once_with_both_languages(db):
    # Other apps ship playbooks of their own (surveys' detractor follow-up, offers' coupons): automation's five
    # must be there, once each, and every shipped playbook must be named in both languages.
    rows = list(Rule.objects.exclude(playbook="").values_list("playbook", "name_zh_hans"))
    playbooks = dict(rows)
    assert len(rows) == len(playbooks)
    assert {"welcome", "return_visits", "at_risk_high_value", "churned_win_back", "loyal_invitation"} <= set(playbooks)
    assert all(playbooks.values())


def test_at_risk_high_value_gives_an_urgent_follow_up_and_tells_the_manager(users, make_customer, scored):
    big, small = make_customer(users["rep"], display_name="Big"), make_customer(users["rep"], display_name="Small")
    scored(big, p_alive=0.3, value_tier="high")
    scored(small, p_alive=0.3, value_tier="low", abc_tier="C")
    place(users["rep"], big, days_ago=2, number="B-1")
    place(users["rep"], small, days_ago=2, number="S-1")
    assert stage(big) == stage(small) == "at_risk"
    task = FollowUp.objects.get(customer=big, rule_id=Rule.objects.get(playbook="at_risk_high_value").pk)
    assert task.priority == "urgent" and task.assignee == users["rep"]
    assert task.due_on == timezone.localdate() + timedelta(days=1)
    note = Notification.objects.get(user=users["manager"], kind="automation.rule")
    assert "Big" in note.text and note.link == f"/customers/{big.pk}/"
    assert RuleRun.objects.get(rule__playbook="at_risk_high_value", customer=small).status == "skipped"


def test_churned_gets_a_win_back_task(users, make_customer):
    customer = make_customer(users["rep"])
    place(users["rep"], customer, days_ago=400, number="C-1")
    assert stage(customer) == "churned"
    task = FollowUp.objects.get(customer=customer, rule_id=Rule.objects.get(playbook="churned_win_back").pk)
    assert "win-back" in task.title.lower() and task.due_on == timezone.localdate() + timedelta(days=7)


def test_loyal_gets_the_membership_invitation_with_consent_only(users, make_customer):
    customer = make_customer(users["rep"], emails=["fan@example.com"])
    for n in range(4):
        place(users["rep"], customer, days_ago=300 - 60 * n, number=f"L-{n}")
    assert stage(customer) == "loyal"
    rule = Rule.objects.get(playbook="loyal_invitation")
    task = FollowUp.objects.get(customer=customer, rule_id=rule.pk)
    assert "membership" in task.title.lower()
    run = RuleRun.objects.get(rule=rule, customer=customer, status="matched")
    assert run.detail["actions"][1] == {"type": "send_email", "sent": False, "reason": "no_consent"}

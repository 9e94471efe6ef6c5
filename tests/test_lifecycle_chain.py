"""Issue 5's chain: an order placed through the API moves a potential customer to "new" and the welcome playbook
gives the owner the welcome follow-up, with events and audit entries, in the order's transaction.

Transaction semantics (docs/automation.md): the automation actions run inside the order's transaction, each rule
run in a savepoint. So the whole chain commits or rolls back with the order; an action that fails rolls back its
own run only, is logged as failed, and the order still commits.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from guanxi.automation import engine
from guanxi.automation.models import Rule, RuleRun
from guanxi.commerce.models import Order
from guanxi.core.models import AuditEntry, Event
from guanxi.followups.models import FollowUp
from guanxi.lifecycle.models import CustomerStage, StageTransition


@pytest.fixture(autouse=True)
def _fresh_rule_cache():
    engine.invalidate()
    yield
    engine.invalidate()


def order(customer, number="A-1"):
    return {
        "customer_id": customer.pk,
        "external_id": number,
        "ordered_at": timezone.now().isoformat(),
        "amount": "120.00",
        "lines": [{"description": "Tea", "quantity": "2", "unit_price": "60.00"}],
    }


def stage_of(customer):
    return CustomerStage.objects.filter(customer=customer).values_list("stage", flat=True).first()


def test_an_order_through_the_api_makes_a_potential_customer_new_and_welcomes_them(users, api, make_customer):
    customer = make_customer(users["rep"], display_name="First buyer")
    assert stage_of(customer) == "potential"
    first_event = Event.objects.order_by("-id").values_list("id", flat=True).first()

    response = api(users["rep"]).post("/api/v1/orders", order(customer), content_type="application/json")

    assert response.status_code == 201, response.content
    assert stage_of(customer) == "new"
    welcome = Rule.objects.get(playbook="welcome")
    run = RuleRun.objects.get(rule=welcome, customer=customer)
    assert run.status == "matched" and run.event_type == "customer.stage_changed"
    tasks = list(FollowUp.objects.filter(customer=customer).order_by("due_on"))
    today = timezone.localdate()
    assert [(t.due_on - today).days for t in tasks] == [3, 14, 30]
    assert {t.assignee_id for t in tasks} == {users["rep"].pk}
    assert {t.rule_id for t in tasks} == {welcome.pk} and all(t.status == "open" for t in tasks)
    assert tasks[0].policy.key == "new_customer"
    assert run.detail["actions"] == [{"type": "start_cadence", "follow_up_ids": [t.pk for t in tasks]}]
    # The events of the chain, in order, all after the request started, and their audit entries.
    chain = list(Event.objects.filter(pk__gt=first_event).order_by("pk").values_list("type", flat=True))
    assert chain.index("order.placed") < chain.index("customer.stage_changed") < chain.index("follow_up.created")
    assert chain.count("follow_up.created") == 3
    stage_event = Event.objects.get(pk__gt=first_event, type="customer.stage_changed")
    assert stage_event.subject_id == customer.pk and stage_event.payload["to"] == "new"
    assert run.event_id == stage_event.pk
    audited = AuditEntry.objects.filter(event__pk__gt=first_event).values_list("event__type", flat=True)
    assert {"order.placed", "follow_up.created"} <= set(audited)
    # The other stage playbooks looked at it: the welcome coupon (offers) matched too, the rest were skipped.
    statuses = dict(
        RuleRun.objects.filter(customer=customer).exclude(rule=welcome).values_list("rule__playbook", "status")
    )
    assert statuses.pop("offers_welcome") == "matched"
    assert set(statuses.values()) == {"skipped"}
    # A second order changes nothing more: still "new", no second welcome.
    again = api(users["rep"]).post("/api/v1/orders", order(customer, "A-2"), content_type="application/json")
    assert again.status_code == 201 and FollowUp.objects.filter(customer=customer).count() == 3


def test_a_failing_action_is_logged_and_the_order_still_commits(users, api, teams):
    from guanxi.automation import services as automation
    from guanxi.customers import services as customers

    # A pool customer has no owner, so a follow-up "for the owner" cannot be assigned: the action fails.
    rule = automation.create_rule(
        actor=users["admin"],
        data={
            "name": "Call new customers",
            "trigger": "customer.stage_changed",
            "condition": 'stage == "new"',
            "actions": [{"type": "add_tag", "tag": "called"}, {"type": "create_follow_up", "title": "Call"}],
        },
    )
    pool = customers.create_customer(
        actor=users["admin"], data={"display_name": "Pool buyer", "team_id": teams[0].pk, "owner_id": None}
    )
    response = api(users["admin"]).post("/api/v1/orders", order(pool), content_type="application/json")
    assert response.status_code == 201, response.content
    assert Order.objects.filter(customer=pool).count() == 1
    assert stage_of(pool) == "new"
    run = RuleRun.objects.get(rule=rule, customer=pool)
    assert run.status == "failed" and run.detail["type"] == "create_follow_up" and run.detail["action"] == 1
    assert "no owner" in run.detail["error"]
    # The failed run's first action (the tag) went with its savepoint.
    assert not pool.tags.exists() and not FollowUp.objects.filter(customer=pool, rule_id=rule.pk).exists()


def test_the_welcome_follow_up_says_welcome(users, api, make_customer):
    customer = make_customer(users["rep"])
    api(users["rep"]).post("/api/v1/orders", order(customer), content_type="application/json")
    first = FollowUp.objects.filter(customer=customer).order_by("due_on").first()
    assert "welcome" in first.title.lower() and first.assignee_id == users["rep"].pk


def test_the_whole_chain_rolls_back_with_the_order(users, make_customer):
    from guanxi.commerce import services as commerce
    from guanxi.commerce.services import OrderData

    customer = make_customer(users["rep"])
    counts = (Order.objects.count(), FollowUp.objects.count(), RuleRun.objects.count(), StageTransition.objects.count())
    data = OrderData(
        customer_id=customer.pk,
        external_id="R-1",
        ordered_at=timezone.now() - timedelta(hours=1),
        amount=Decimal("10"),
        currency="",
        lines=[],
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        commerce.place_order(actor=users["rep"], data=data)
        assert FollowUp.objects.filter(customer=customer).count() == 3  # the chain ran inside ...
        raise RuntimeError("the caller fails after the order")  # ... and goes with the order
    assert (
        Order.objects.count(),
        FollowUp.objects.count(),
        RuleRun.objects.count(),
        StageTransition.objects.count(),
    ) == counts
    assert stage_of(customer) == "potential"

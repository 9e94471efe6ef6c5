"""Stage evaluation: the documented stages for the edge cases, the event chain of an order, idempotent nightly
runs, the funnel, and the definitions' validation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.core import events
from guanxi.core.models import AuditEntry, Event
from guanxi.lifecycle import services
from guanxi.lifecycle.models import CustomerStage, StageDefinition, StageTransition
from guanxi.lifecycle.tasks import evaluate_stages_task


@pytest.fixture
def rep(users):
    return users["rep"]


def test_a_new_customer_starts_as_potential_without_an_event(rep, make_customer, stage_of):
    customer = make_customer(rep, display_name="Lead")
    assert stage_of(customer) == "potential"
    first = StageTransition.objects.get(customer=customer)
    assert (first.from_stage, first.to_stage, first.event_id) == ("", "potential", None)
    assert not Event.objects.filter(type="customer.stage_changed").exists()
    assert CustomerStage.objects.get(customer=customer).funnel_stage == "awareness"


def test_an_order_placed_through_the_api_moves_a_potential_customer_to_new(rep, api, make_customer, stage_of):
    customer = make_customer(rep, display_name="Buyer")
    seen = []
    events.subscribe("customer.stage_changed", seen.append)
    try:
        response = api(rep).post(
            "/api/v1/orders",
            {
                "customer_id": customer.pk,
                "external_id": "API-1",
                "ordered_at": timezone.now().isoformat(),
                "amount": "80.00",
                "currency": "CNY",
            },
            content_type="application/json",
        )
    finally:
        events._handlers["customer.stage_changed"].remove(seen.append)
    assert response.status_code == 201, response.content
    assert stage_of(customer) == "new"
    event = Event.objects.get(type="customer.stage_changed", subject_id=customer.pk)
    assert event.payload["from"] == "potential" and event.payload["to"] == "new"
    assert event.payload["customer_id"] == customer.pk and "rule new matched" in event.payload["reason"]
    assert [e.pk for e in seen] == [event.pk]  # subscribers (automation) ran in the same transaction
    audit = AuditEntry.objects.get(event=event)
    assert audit.changes == {"stage": ["potential", "new"]}
    transition = StageTransition.objects.get(customer=customer, view="stage", to_stage="new")
    assert transition.event_id == event.pk and transition.source == "event"
    assert transition.facts["first_order_days"] < 0.01
    assert CustomerStage.objects.get(customer=customer).funnel_stage == "purchase"


def test_a_failing_subscriber_rolls_back_the_order_and_the_stage_change(rep, make_customer, stage_of):
    from guanxi.commerce.models import Order
    from guanxi.commerce.services import OrderData, place_order

    customer = make_customer(rep, display_name="Buyer")

    def refuse(event):
        raise RuntimeError("automation failed")

    events.subscribe("customer.stage_changed", refuse)
    data = OrderData(customer_id=customer.pk, external_id="API-2", ordered_at=timezone.now(), amount=Decimal("1.00"))
    try:
        with pytest.raises(RuntimeError):
            place_order(actor=rep, data=data)
    finally:
        events._handlers["customer.stage_changed"].remove(refuse)
    assert not Order.objects.filter(customer=customer).exists()
    assert stage_of(customer) == "potential"
    assert not StageTransition.objects.filter(customer=customer, to_stage="new").exists()


@pytest.fixture
def cases(rep, make_customer, order_for, score_for):
    """One customer per documented edge case."""
    made = {}
    made["no_orders"] = make_customer(rep, display_name="no orders")
    made["one_today"] = make_customer(rep, display_name="one order today")
    order_for(made["one_today"], 0)
    made["far_past"] = make_customer(rep, display_name="orders far in the past")
    order_for(made["far_past"], 700)
    order_for(made["far_past"], 500)
    made["single_old"] = make_customer(rep, display_name="one order 200 days ago")
    order_for(made["single_old"], 200)
    made["regular"] = make_customer(rep, display_name="orders every 60 days")
    for days in (20, 80, 140):
        order_for(made["regular"], days)
    made["overdue"] = make_customer(rep, display_name="usually every 10 days, quiet for 60")
    for days in (60, 70, 80):
        order_for(made["overdue"], days)
    made["loyal"] = make_customer(rep, display_name="monthly buyer")
    for days in (5, 35, 65, 95, 125):
        order_for(made["loyal"], days)
    score_for(made["loyal"], p_alive=0.95)
    made["tier_a"] = make_customer(rep, display_name="tier A")
    order_for(made["tier_a"], 50)
    score_for(made["tier_a"], abc_tier="A", p_alive=0.9)
    made["fading"] = make_customer(rep, display_name="scored p_alive 0.3")
    for days in (40, 45):
        order_for(made["fading"], days)
    score_for(made["fading"], p_alive=0.3)
    made["dead"] = make_customer(rep, display_name="scored p_alive 0.05")
    order_for(made["dead"], 90)
    score_for(made["dead"], p_alive=0.05)
    made["opted_out"] = make_customer(rep, display_name="opted out", profiling_opt_out=True)
    order_for(made["opted_out"], 50)
    score_for(made["opted_out"], abc_tier="A", p_alive=0.05)  # a stale score: never used
    return made


EXPECTED = {
    "no_orders": "potential",
    "one_today": "new",
    "far_past": "churned",
    "single_old": "at_risk",
    "regular": "active",
    "overdue": "at_risk",
    "loyal": "loyal",
    "tier_a": "loyal",
    "fading": "at_risk",
    "dead": "churned",
    "opted_out": "active",
}


def test_edge_cases_get_the_documented_stages_and_a_rerun_changes_nothing(
    cases, stage_of, django_assert_max_num_queries
):
    services.evaluate_stages()
    assert {name: stage_of(customer) for name, customer in cases.items()} == EXPECTED
    transitions = StageTransition.objects.count()
    stage_events = Event.objects.filter(type="customer.stage_changed").count()
    audit = AuditEntry.objects.count()
    with django_assert_max_num_queries(4):  # definitions, any stage yet?, first stages, changes
        assert services.evaluate_stages() == 0
    assert StageTransition.objects.count() == transitions
    assert Event.objects.filter(type="customer.stage_changed").count() == stage_events
    assert AuditEntry.objects.count() == audit


def test_the_nightly_run_moves_customers_as_time_passes_with_events_in_bulk(cases, stage_of):
    services.evaluate_stages()
    before = Event.objects.filter(type="customer.stage_changed").count()
    later = timezone.now() + timedelta(days=400)
    written = services.evaluate_stages(now=later)
    assert written >= 5
    assert stage_of(cases["one_today"]) == "churned" and stage_of(cases["regular"]) == "churned"
    changed = Event.objects.filter(type="customer.stage_changed").count() - before
    assert changed == StageTransition.objects.filter(view="stage", at=later).exclude(from_stage="").count()
    assert (
        AuditEntry.objects.filter(event__type="customer.stage_changed").count()
        == Event.objects.filter(type="customer.stage_changed").count()
    )


def test_a_churned_customer_who_orders_again_is_won_back_for_90_days(cases, stage_of, order_for):
    customer = cases["far_past"]
    start = timezone.now()
    services.evaluate_stages(now=start)
    assert stage_of(customer) == "churned"
    order_for(customer, 1, now=start + timedelta(days=2))
    services.evaluate_stages(customer_ids=[customer.pk], now=start + timedelta(days=2))
    assert stage_of(customer) == "won_back"
    services.evaluate_stages(now=start + timedelta(days=32))
    assert stage_of(customer) == "won_back"
    services.evaluate_stages(now=start + timedelta(days=95))
    assert stage_of(customer) == "active"  # 94 days after an order, usually every 350 days


def test_opted_out_customers_are_staged_from_order_facts_only(cases, stage_of):
    services.evaluate_stages()
    opted = cases["opted_out"]
    transition = StageTransition.objects.filter(customer=opted).latest("at")
    assert stage_of(opted) == "active"  # the stale tier A / p_alive 0.05 would have said loyal or churned
    assert "p_alive" not in (transition.facts or {}) or transition.facts["p_alive"] is None


def test_funnel_advances_and_never_moves_back(rep, make_customer, order_for):
    customer = make_customer(rep, display_name="Walk-in", source="store")
    assert CustomerStage.objects.get(customer=customer).funnel_stage == "consideration"
    order_for(customer, 3)
    order_for(customer, 1)
    services.evaluate_stages()
    assert CustomerStage.objects.get(customer=customer).funnel_stage == "loyalty"
    funnel = StageTransition.objects.filter(customer=customer, view="funnel").get()
    assert (funnel.from_stage, funnel.to_stage) == ("consideration", "loyalty")
    services.evaluate_stages(now=timezone.now() + timedelta(days=900))
    assert CustomerStage.objects.get(customer=customer).funnel_stage == "loyalty"


def test_scores_updated_and_bulk_orders_re_evaluate(rep, make_customer, stage_of):
    from guanxi.commerce.services import OrderData, place_orders

    customers = [make_customer(rep, display_name=f"Bulk {i}") for i in range(3)]
    place_orders(
        actor=rep,
        orders=[
            OrderData(
                customer_id=c.pk,
                external_id=f"B-{c.pk}",
                ordered_at=timezone.now(),
                amount=Decimal("5.00"),
                currency="CNY",
            )
            for c in customers
        ],
    )
    assert [stage_of(c) for c in customers] == ["new", "new", "new"]
    assert Event.objects.filter(type="customer.stage_changed").count() == 3


# ------------------------------------------------------------------------------------------- definitions


def test_only_admins_edit_definitions(users):
    definition = StageDefinition.objects.get(key="loyal")
    for role in ("rep", "manager", "analyst", "support"):
        with pytest.raises(services.NotAllowed):
            services.update_definition(
                actor=users[role], definition_id=definition.pk, version=definition.version, data={"rule": "orders > 9"}
            )


def test_an_invalid_rule_is_rejected_with_where_and_nothing_is_saved(users):
    definition = StageDefinition.objects.get(key="loyal")
    with pytest.raises(services.InvalidDefinition) as caught:
        services.update_definition(
            actor=users["admin"],
            definition_id=definition.pk,
            version=definition.version,
            data={"rule": 'orders_12m >= 4 and tier > "A"'},
        )
    assert "line 1, column 26" in caught.value.details["rule"][0]
    definition.refresh_from_db()
    assert definition.rule.startswith("(orders_12m >= 4") and definition.version == 1


def test_a_stale_edit_is_refused(users):
    from guanxi.core.errors import StaleVersion

    definition = StageDefinition.objects.get(key="loyal")
    services.update_definition(actor=users["admin"], definition_id=definition.pk, version=1, data={"position": 35})
    with pytest.raises(StaleVersion):
        services.update_definition(actor=users["admin"], definition_id=definition.pk, version=1, data={"position": 36})


def test_an_edit_re_evaluates_after_commit(
    users, rep, make_customer, order_for, stage_of, django_capture_on_commit_callbacks
):
    customer = make_customer(rep, display_name="Two orders")
    order_for(customer, 10)
    order_for(customer, 45)
    services.evaluate_stages()
    assert stage_of(customer) == "active"
    admin = users["admin"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.create_definition(
            actor=admin,
            data={"key": "regular", "name": "Regular", "rule": "orders >= 2", "position": 35, "playbook": "Keep up."},
        )
    assert len(callbacks) == 1  # the re-evaluation task was enqueued; run it as the worker would
    assert evaluate_stages_task.call(source="definitions") == {"transitions": 1}
    assert stage_of(customer) == "regular"
    last = StageTransition.objects.filter(customer=customer).latest("at")
    assert last.source == "definitions" and last.from_stage == "active"
    with pytest.raises(services.InvalidDefinition) as caught:
        services.create_definition(actor=admin, data={"key": "regular", "name": "Again", "rule": "orders > 1"})
    assert "key" in caught.value.details


def test_many_customers_at_once_are_decided_in_passes_with_the_same_result(rep, make_customer, order_for, stage_of):
    customers = [make_customer(rep, display_name=f"P{i}") for i in range(5)]
    for customer in customers[:3]:
        order_for(customer, 1)
    services._IDS_PER_PASS, saved = 2, services._IDS_PER_PASS
    try:
        assert services.evaluate_stages(customer_ids=[c.pk for c in customers]) == 3
    finally:
        services._IDS_PER_PASS = saved
    assert [stage_of(c) for c in customers] == ["new", "new", "new", "potential", "potential"]


def test_without_active_definitions_nothing_changes(rep, make_customer, order_for, stage_of):
    customer = make_customer(rep, display_name="Kept")
    StageDefinition.objects.update(active=False)
    order_for(customer, 1)
    assert services.evaluate_stages() == 0
    assert stage_of(customer) == "potential"

"""The engine: triggers, conditions, the run log, the loop guard, the depth limit and failing actions."""

import pytest

from guanxi.automation import engine
from guanxi.automation.models import RuleRun
from guanxi.customers import services as customers


def tags(customer):
    return sorted(customer.tags.values_list("name", flat=True))


def statuses(rule):
    return sorted(RuleRun.objects.filter(rule=rule).values_list("status", flat=True))


def test_a_matching_customer_runs_the_actions_and_others_are_logged_as_skipped(
    users, make_customer, make_rule, quiet_playbooks
):
    rule = make_rule("customer.created", 'region == "华东"', [{"type": "add_tag", "tag": "east"}])
    east = make_customer(users["rep"], display_name="East", region="华东")
    west = make_customer(users["rep"], display_name="West", region="西南")
    assert tags(east) == ["east"] and tags(west) == []
    runs = {run.customer_id: run for run in RuleRun.objects.filter(rule=rule)}
    assert runs[east.pk].status == "matched" and runs[west.pk].status == "skipped"
    assert runs[east.pk].event_type == "customer.created" and runs[east.pk].event_id is not None
    assert runs[east.pk].detail["actions"] == [{"type": "add_tag", "tag": "east"}]


def test_inactive_rules_and_other_triggers_do_nothing(users, make_customer, make_rule, quiet_playbooks):
    off = make_rule("customer.created", actions=[{"type": "add_tag", "tag": "off"}], active=False)
    other = make_rule("order.placed", actions=[{"type": "add_tag", "tag": "order"}])
    customer = make_customer(users["rep"])
    assert tags(customer) == []
    assert not RuleRun.objects.filter(rule__in=[off, other]).exists()


def test_a_rule_that_would_trigger_itself_stops_at_the_loop_guard(users, make_customer, make_rule, quiet_playbooks):
    customer = make_customer(users["rep"])
    # On every update, add a tag: the tag change is itself a customer.updated.
    rule = make_rule("customer.updated", "", [{"type": "add_tag", "tag": "seen"}, {"type": "remove_tag", "tag": "x"}])
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["x"])
    assert tags(customer) == ["seen"]
    assert statuses(rule) == ["loop_guarded", "loop_guarded", "matched"]
    guarded = RuleRun.objects.filter(rule=rule, status="loop_guarded").first()
    assert guarded.detail == {"reason": "same_rule_and_customer", "depth": 1}


def test_a_chain_of_rules_stops_at_the_depth_limit(users, make_customer, make_rule, quiet_playbooks):
    customer = make_customer(users["rep"])
    # rule n adds tag t<n> when the customer has t<n-1>: each rule's event starts the next one.
    rules = [
        make_rule("customer.updated", f'tags has "t{n - 1}"', [{"type": "add_tag", "tag": f"t{n}"}], name=f"r{n}")
        for n in range(1, engine.MAX_DEPTH + 3)
    ]
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["t0"])
    # Rules 1-5 run one inside the other; the sixth is refused where the chain is MAX_DEPTH deep.
    assert tags(customer) == [f"t{n}" for n in range(engine.MAX_DEPTH + 1)]
    guarded = RuleRun.objects.get(rule=rules[engine.MAX_DEPTH], status="loop_guarded", detail__reason="depth_limit")
    assert guarded.detail["depth"] == engine.MAX_DEPTH
    assert not RuleRun.objects.filter(rule__in=rules[engine.MAX_DEPTH :], status="matched").exists()
    assert max(run.detail["depth"] for run in RuleRun.objects.filter(status="matched")) == engine.MAX_DEPTH


def test_a_failing_action_rolls_back_its_run_only_and_is_logged(users, make_customer, make_rule, quiet_playbooks):
    pool_team = users["rep"].team
    # The second action fails (a pool customer has no owner to assign a follow-up to); the first one's tag
    # is rolled back with it, the customer is still created.
    rule = make_rule(
        "customer.created",
        "",
        [{"type": "add_tag", "tag": "first"}, {"type": "create_follow_up", "title": "Call", "due_in_days": 1}],
    )
    customer = customers.create_customer(
        actor=users["admin"], data={"display_name": "Pool", "team_id": pool_team.pk, "owner_id": None}
    )
    assert customer.pk and customer.owner_id is None
    assert tags(customer) == []
    run = RuleRun.objects.get(rule=rule)
    assert run.status == "failed" and run.detail["action"] == 1 and run.detail["type"] == "create_follow_up"
    assert run.detail["error"]


def test_batch_events_decide_the_condition_in_one_query_per_rule(
    users, make_rule, quiet_playbooks, django_assert_max_num_queries
):
    from guanxi.core.context import system_context

    make_rule("customer.created", 'region == "华东"', [{"type": "add_tag", "tag": "east"}])
    rows = [
        {"display_name": f"C{i}", "region": "华东" if i % 2 else "西南", "owner_id": users["rep"].pk} for i in range(20)
    ]
    with system_context("test"):
        created = customers.create_customers(actor=users["admin"], rows=rows)
    east = [c for c in created if c.region == "华东"]
    assert all(tags(c) == ["east"] for c in east)
    assert RuleRun.objects.filter(status="matched").count() == 10
    assert RuleRun.objects.filter(status="skipped").count() == 10


@pytest.mark.parametrize("payload", [{"customer_id": True}, {"customer_ids": ["1"]}, {}])
def test_events_without_a_customer_are_ignored(payload):
    from guanxi.core.models import Event

    event = Event(type="x", subject_type="commerce.order", subject_id=1, payload=payload)
    assert engine.customers_of(event) == []


def test_a_database_error_inside_an_action_leaves_the_transaction_usable(
    users, make_customer, make_rule, quiet_playbooks
):
    """On PostgreSQL a failed statement aborts the transaction; the run's savepoint restores it."""
    from django.db import connection

    from guanxi.automation import actions

    def broken(ctx, params):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM automation_no_such_table")
        return {}

    actions.register_action(actions.ActionType("test_broken", "broken", "", actions._clean_nothing, broken))
    try:
        rule = make_rule("customer.created", "", [{"type": "add_tag", "tag": "a"}, {"type": "test_broken"}])
        customer = make_customer(users["rep"], display_name="Still here")
    finally:
        actions._registry.pop("test_broken")
    run = RuleRun.objects.get(rule=rule)
    assert run.status == "failed" and run.detail["code"] == "internal_error" and run.detail["action"] == 1
    customer.refresh_from_db()
    assert customer.display_name == "Still here" and tags(customer) == []


def test_daily_rules_run_over_the_matching_customers_in_chunks(users, make_customer, make_rule, quiet_playbooks):
    per_customer = make_rule("schedule.daily", 'region == "华东"', [{"type": "add_tag", "tag": "daily"}])
    batched = make_rule("schedule.daily", 'region == "华东"', [{"type": "plan_return_visits"}])
    east = [make_customer(users["rep"], display_name=f"E{n}", region="华东") for n in range(3)]
    west = make_customer(users["rep"], display_name="W", region="西南")
    summary = engine.run_daily()
    assert summary[f"rule:{per_customer.pk}"] == 3 and summary[f"rule:{batched.pk}"] == 3
    assert all(tags(c) == ["daily"] for c in east) and tags(west) == []
    assert RuleRun.objects.filter(rule=per_customer, status="matched").count() == 3
    (chunk,) = RuleRun.objects.filter(rule=batched)
    assert chunk.status == "matched" and chunk.customer_id is None and chunk.detail["customers"] == 3
    assert "planned" in chunk.detail["actions"][0]


def test_the_daily_job_is_registered_after_scoring_and_stages():
    from guanxi.core.schedule import daily_jobs

    names = [job.name for job in daily_jobs()]
    assert names.index("automation_daily_rules") > names.index("lifecycle_stages")


def test_all_rules_of_a_trigger_decide_in_one_query_over_mixed_fields(users, make_customer, make_rule, quiet_playbooks):
    from guanxi.automation.engine import compile_rule, matching_many

    rules = [
        make_rule("customer.updated", "orders > 0", name="buyers"),
        make_rule("customer.updated", 'tags has "vip" and not (region == "华东")', name="vip outside east"),
        make_rule("customer.updated", "", name="everyone"),
    ]
    plain = make_customer(users["rep"], display_name="plain", region="华东", tags=["vip"])
    vip = make_customer(users["rep"], display_name="vip", region="西南", tags=["vip"])
    gone = make_customer(users["rep"], display_name="gone")
    customers.delete_customer(actor=users["rep"], customer_id=gone.pk)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        found = matching_many([compile_rule(r) for r in rules], [plain.pk, vip.pk, gone.pk])
    assert len(queries) == 1
    assert found == {rules[0].pk: set(), rules[1].pk: {vip.pk}, rules[2].pk: {plain.pk, vip.pk}}


def test_events_from_a_merge_are_not_reacted_to(users, make_customer, make_rule, quiet_playbooks):
    from django.db import transaction

    from guanxi.core import events

    rule = make_rule("customer.updated", "", [{"type": "add_tag", "tag": "x"}])
    customer = make_customer(users["rep"])
    with transaction.atomic():
        events.record("customer.updated", subject=customer, payload={"fields": ["tags"], "source": "merge"})
    assert not RuleRun.objects.filter(rule=rule).exists() and tags(customer) == []

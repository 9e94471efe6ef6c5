"""Follow-up services: planning, cadences, completion (directly and by logging an interaction), rescheduling."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.core.errors import StaleVersion
from guanxi.core.models import AuditEntry, Event
from guanxi.customers.errors import CustomerNotFound
from guanxi.followups import selectors, services
from guanxi.followups.errors import FollowUpClosed, FollowUpDenied, FollowUpInvalid, FollowUpNotFound
from guanxi.followups.models import CadencePolicy, FollowUp

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


# ------------------------------------------------------------------------------------------------ create


def test_create_refuses_roles_without_write_access(users, customer):
    for role in ("analyst", "support"):
        with pytest.raises(FollowUpDenied):
            services.create_follow_up(actor=users[role], customer_id=customer.pk, title="x", due_on=today())
    assert not FollowUp.objects.exists()


def test_create_on_another_reps_customer_is_not_found(users, customer):
    with pytest.raises(CustomerNotFound):
        services.create_follow_up(actor=users["rep_b"], customer_id=customer.pk, title="x", due_on=today())
    with pytest.raises(CustomerNotFound):
        services.create_follow_up(actor=users["rep2"], customer_id=customer.pk, title="x", due_on=today())


def test_create_validates_title_priority_and_assignee(users, customer):
    rep = users["rep"]
    with pytest.raises(FollowUpInvalid) as exc:
        services.create_follow_up(actor=rep, customer_id=customer.pk, title="  ", due_on=today())
    assert "title" in exc.value.details
    with pytest.raises(FollowUpInvalid):
        services.create_follow_up(actor=rep, customer_id=customer.pk, title="x" * 201, due_on=today())
    with pytest.raises(FollowUpInvalid):
        services.create_follow_up(actor=rep, customer_id=customer.pk, title="x", due_on=today(), priority="high")
    # A rep cannot hand a task to a colleague.
    with pytest.raises(FollowUpInvalid) as exc:
        services.create_follow_up(
            actor=rep, customer_id=customer.pk, title="x", due_on=today(), assignee_id=users["rep2"].pk
        )
    assert "assignee_id" in exc.value.details
    assert not FollowUp.objects.exists()


def test_create_assigns_the_owner_and_records_event_and_audit(users, customer):
    follow_up = services.create_follow_up(
        actor=users["manager"], customer_id=customer.pk, title="Quarterly call", due_on=today(), note="ask about X"
    )
    assert follow_up.assignee == users["rep"]
    assert follow_up.status == "open" and follow_up.source == "manual" and follow_up.version == 1
    event = Event.objects.get(type="follow_up.created")
    assert event.payload["customer_id"] == customer.pk
    assert event.payload["follow_up_id"] == follow_up.pk
    assert event.payload["assignee_id"] == users["rep"].pk
    assert AuditEntry.objects.get(event=event).action == "create"


def test_manager_assigns_within_the_team_only(users, customer):
    created = services.create_follow_up(
        actor=users["manager"], customer_id=customer.pk, title="x", due_on=today(), assignee_id=users["rep2"].pk
    )
    assert created.assignee == users["rep2"]
    with pytest.raises(FollowUpInvalid):
        services.create_follow_up(
            actor=users["manager"], customer_id=customer.pk, title="x", due_on=today(), assignee_id=users["rep_b"].pk
        )


def test_dedupe_key_returns_the_open_follow_up(users, customer):
    first = services.create_follow_up(actor=None, customer_id=customer.pk, title="a", due_on=today(), dedupe_key="k")
    again = services.create_follow_up(actor=None, customer_id=customer.pk, title="b", due_on=today(), dedupe_key="k")
    assert again.pk == first.pk
    services.complete_follow_up(actor=users["rep"], follow_up_id=first.pk)
    third = services.create_follow_up(actor=None, customer_id=customer.pk, title="c", due_on=today(), dedupe_key="k")
    assert third.pk != first.pk
    assert Event.objects.filter(type="follow_up.created").count() == 2


# ----------------------------------------------------------------------------------------------- cadences


def test_default_policies_exist():
    policies = {p.key: p for p in CadencePolicy.objects.all()}
    assert policies["tier_a"].interval_days == 30 and policies["tier_a"].match_value == "A"
    assert policies["tier_b"].interval_days == 60 and policies["tier_c"].interval_days == 90
    assert policies["new_customer"].offsets_days == [3, 14, 30]
    assert policies["at_risk"].offsets_days == [2] and policies["at_risk"].match_value == "at_risk"


def test_start_cadence_creates_one_task_per_offset_once(users, customer):
    anchor = today()
    created = services.start_cadence(customer_id=customer.pk, policy_key="new_customer", anchor_on=anchor, rule_id=7)
    assert [f.due_on for f in created] == [anchor + timedelta(days=d) for d in (3, 14, 30)]
    assert {f.assignee_id for f in created} == {users["rep"].pk}
    assert {f.source for f in created} == {"cadence"} and {f.rule_id for f in created} == {7}
    # Idempotent, even after a step was done.
    services.complete_follow_up(actor=users["rep"], follow_up_id=created[0].pk)
    assert services.start_cadence(customer_id=customer.pk, policy_key="new_customer", anchor_on=anchor) == []
    assert FollowUp.objects.filter(customer=customer).count() == 3


def test_start_cadence_skips_inactive_policies_and_customers_without_owner(users, customer, make_customer):
    CadencePolicy.objects.filter(key="new_customer").update(active=False)
    assert services.start_cadence(customer_id=customer.pk, policy_key="new_customer", anchor_on=today()) == []
    CadencePolicy.objects.filter(key="new_customer").update(active=True)
    from guanxi.customers import services as customer_services

    orphan = customer_services.create_customer(actor=users["admin"], data={"display_name": "Pool", "owner_id": None})
    assert services.start_cadence(customer_id=orphan.pk, policy_key="new_customer", anchor_on=today()) == []


def test_plan_return_visits_by_tier(users, customer, make_customer, score, order, log_call):
    score(customer, abc_tier="A")
    log_call(users["rep"], customer, occurred_at=timezone.now() - timedelta(days=10))
    tier_c = make_customer(users["rep2"], display_name="C customer")
    score(tier_c, abc_tier="C")
    order(tier_c, days_ago=5)
    unscored = make_customer(users["rep"], display_name="Unscored")

    created = services.plan_return_visits(today=today())

    assert created == 2
    a = FollowUp.objects.get(customer=customer)
    assert a.policy.key == "tier_a" and a.assignee == users["rep"]
    assert a.due_on == today() + timedelta(days=20)  # last contact 10 days ago + 30
    c = FollowUp.objects.get(customer=tier_c)
    assert c.policy.key == "tier_c" and c.due_on == today() + timedelta(days=85)  # first order + 90
    assert not FollowUp.objects.filter(customer=unscored).exists()
    assert Event.objects.filter(type="follow_up.created").count() == 2
    # At most one open task per customer and policy: a second run adds nothing.
    assert services.plan_return_visits(today=today()) == 0


def test_plan_return_visits_never_plans_in_the_past_and_respects_customer_ids(users, customer, make_customer, score):
    score(customer, abc_tier="A")
    other = make_customer(users["rep"], display_name="Other")
    score(other, abc_tier="A")
    from guanxi.customers.models import Customer

    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=400))
    assert services.plan_return_visits(today=today(), customer_ids=[customer.pk]) == 1
    assert FollowUp.objects.get(customer=customer).due_on == today()
    assert not FollowUp.objects.filter(customer=other).exists()


def test_plan_return_visits_takes_the_first_policy_by_priority(users, customer, score):
    score(customer, abc_tier="A", segment="champions")
    CadencePolicy.objects.create(
        key="champions",
        name="Champions",
        kind="interval",
        applies_to="segment",
        match_value="champions",
        interval_days=7,
        priority=1,
    )
    assert services.plan_return_visits(today=today()) == 1
    assert FollowUp.objects.get(customer=customer).policy.key == "champions"


# ---------------------------------------------------------------------------------------------- complete


def test_complete_scope_state_and_event(users, customer, follow_up):
    task = follow_up()
    for intruder in ("rep2", "rep_b", "analyst"):
        with pytest.raises((FollowUpNotFound, FollowUpDenied)):
            services.complete_follow_up(actor=users[intruder], follow_up_id=task.pk)
    done = services.complete_follow_up(actor=users["rep"], follow_up_id=task.pk, note="spoke briefly")
    assert done.status == "done" and done.completed_by == users["rep"] and done.completion_note == "spoke briefly"
    assert done.version == 2
    event = Event.objects.get(type="follow_up.completed")
    assert event.payload["customer_id"] == customer.pk and event.payload["follow_up_id"] == task.pk
    with pytest.raises(FollowUpClosed):
        services.complete_follow_up(actor=users["rep"], follow_up_id=task.pk)


def test_complete_refuses_an_interaction_of_another_customer(users, customer, make_customer, follow_up, log_call):
    task = follow_up(due_on=today() + timedelta(days=5))
    other = make_customer(users["rep"], display_name="Other")
    interaction = log_call(users["rep"], other)
    with pytest.raises(FollowUpInvalid):
        services.complete_follow_up(actor=users["rep"], follow_up_id=task.pk, interaction_id=interaction.pk)
    assert FollowUp.objects.get(pk=task.pk).status == "open"


def test_manager_of_the_team_may_complete(users, follow_up):
    task = follow_up()
    assert services.complete_follow_up(actor=users["manager"], follow_up_id=task.pk).status == "done"


# ------------------------------------------------------------------------------- completion by logging


def test_logging_with_follow_up_id_completes_that_follow_up(users, customer, follow_up, log_call):
    later = follow_up(title="Later", due_on=today() + timedelta(days=10))
    interaction = log_call(users["rep"], customer, subject="Called", follow_up_id=later.pk)
    later.refresh_from_db()
    assert later.status == "done" and later.interaction_id == interaction.pk and later.completed_by == users["rep"]


def test_logging_completes_the_authors_earliest_due_follow_up(users, customer, follow_up, log_call):
    old = follow_up(title="Old", due_on=today() - timedelta(days=3))
    due = follow_up(title="Due", due_on=today())
    future = follow_up(title="Future", due_on=today() + timedelta(days=3))
    log_call(users["rep"], customer)
    states = dict(FollowUp.objects.values_list("title", "status"))
    assert states == {"Old": "done", "Due": "open", "Future": "open"}
    log_call(users["rep"], customer)
    log_call(users["rep"], customer)
    states = dict(FollowUp.objects.values_list("title", "status"))
    assert states == {"Old": "done", "Due": "done", "Future": "open"}
    assert {old.pk, due.pk, future.pk} == set(FollowUp.objects.values_list("pk", flat=True))


def test_an_internal_note_completes_nothing_on_its_own(users, customer, follow_up, log_call):
    task = follow_up(due_on=today() - timedelta(days=1))
    log_call(users["rep"], customer, channel="note", direction="internal")
    assert FollowUp.objects.get(pk=task.pk).status == "open"


def test_logging_does_not_complete_what_the_author_may_not_work_on(users, customer, make_customer, follow_up, log_call):
    from guanxi.customers.models import CustomerShare

    task = follow_up(due_on=today() - timedelta(days=1))
    CustomerShare.objects.create(customer=customer, user=users["rep2"])
    # rep2 sees the shared customer but the follow-up is rep's: neither the explicit id nor the fallback closes it.
    log_call(users["rep2"], customer, follow_up_id=task.pk)
    log_call(users["rep2"], customer)
    assert FollowUp.objects.get(pk=task.pk).status == "open"
    # An id of another customer's follow-up is ignored; the interaction is still logged.
    other = make_customer(users["rep"], display_name="Other")
    interaction = log_call(users["rep"], other, follow_up_id=task.pk)
    assert interaction.pk and FollowUp.objects.get(pk=task.pk).status == "open"


# ------------------------------------------------------------------------------------ update and cancel


def test_update_reschedules_with_optimistic_locking(users, follow_up):
    task = follow_up(due_on=today() - timedelta(days=2))
    task.overdue_at = timezone.now()
    task.save()
    with pytest.raises(FollowUpNotFound):
        services.update_follow_up(actor=users["rep2"], follow_up_id=task.pk, version=1, data={"title": "x"})
    with pytest.raises(StaleVersion):
        services.update_follow_up(actor=users["rep"], follow_up_id=task.pk, version=9, data={"title": "x"})
    with pytest.raises(FollowUpInvalid):
        services.update_follow_up(actor=users["rep"], follow_up_id=task.pk, version=1, data={"status": "done"})
    moved = services.update_follow_up(
        actor=users["rep"], follow_up_id=task.pk, version=1, data={"due_on": today() + timedelta(days=1)}
    )
    assert moved.version == 2 and moved.overdue_at is None
    audit = AuditEntry.objects.get(event__type="follow_up.updated")
    assert list(audit.changes) == ["due_on"]


def test_only_managers_and_admins_reassign_within_the_team(users, follow_up):
    task = follow_up()
    with pytest.raises(FollowUpDenied):
        services.update_follow_up(
            actor=users["rep"], follow_up_id=task.pk, version=1, data={"assignee_id": users["rep2"].pk}
        )
    with pytest.raises(FollowUpInvalid):
        services.update_follow_up(
            actor=users["manager"], follow_up_id=task.pk, version=1, data={"assignee_id": users["rep_b"].pk}
        )
    moved = services.update_follow_up(
        actor=users["manager"], follow_up_id=task.pk, version=1, data={"assignee_id": users["rep2"].pk}
    )
    assert moved.assignee == users["rep2"]
    # The rep no longer sees it; the new assignee does.
    with pytest.raises(FollowUpNotFound):
        selectors.get_follow_up(users["rep"], task.pk)
    assert selectors.get_follow_up(users["rep2"], task.pk).pk == task.pk


def test_cancel(users, follow_up):
    task = follow_up()
    with pytest.raises(FollowUpNotFound):
        services.cancel_follow_up(actor=users["rep_b"], follow_up_id=task.pk)
    cancelled = services.cancel_follow_up(actor=users["rep"], follow_up_id=task.pk, note="moved away")
    assert cancelled.status == "cancelled"
    assert Event.objects.filter(type="follow_up.cancelled", payload__follow_up_id=task.pk).exists()
    with pytest.raises(FollowUpClosed):
        services.cancel_follow_up(actor=users["rep"], follow_up_id=task.pk)


def test_policy_update_validates(users):
    policy = CadencePolicy.objects.get(key="tier_a")
    with pytest.raises(FollowUpDenied):
        services.update_policy(actor=users["rep"], key="tier_a", version=1, data={"interval_days": 10})
    from guanxi.followups.errors import PolicyInvalid

    with pytest.raises(PolicyInvalid) as exc:
        services.update_policy(actor=users["manager"], key="tier_a", version=1, data={"interval_days": 0})
    assert "interval_days" in exc.value.details
    with pytest.raises(PolicyInvalid) as exc:
        services.update_policy(actor=users["manager"], key="new_customer", version=1, data={"offsets_days": [3, 3]})
    assert "offsets_days" in exc.value.details
    with pytest.raises(StaleVersion):
        services.update_policy(actor=users["manager"], key="tier_a", version=5, data={"interval_days": 20})
    updated = services.update_policy(actor=users["manager"], key="tier_a", version=1, data={"interval_days": 20})
    assert updated.interval_days == 20 and updated.version == policy.version + 1


# ---------------------------------------------------------------------------------- merge and export


def test_merge_moves_follow_ups_and_export_lists_them(users, customer, make_customer, follow_up):
    from guanxi.customers import personal_data
    from guanxi.customers.merge import merge_customers

    loser = make_customer(users["rep"], display_name="Zhang Wei (dup)")
    task = follow_up(customer=loser, title="From the duplicate")
    customer.refresh_from_db()
    merge_customers(
        actor=users["admin"],
        survivor_id=customer.pk,
        loser_id=loser.pk,
        survivor_version=customer.version,
        loser_version=loser.version,
    )
    assert FollowUp.objects.get(pk=task.pk).customer_id == customer.pk
    rows = personal_data.exporters()["follow_ups"](customer)
    assert [r["title"] for r in rows] == ["From the duplicate"]
    assert personal_data.erasers()["follow_ups"](customer, ["Zhang"]) == 1
    assert FollowUp.objects.get(pk=task.pk).title == "Follow-up"


def test_merge_keeps_one_open_follow_up_per_purpose_and_undo_restores_both(users, customer, make_customer):
    """Both customers had a welcome step open (the partial unique constraint allows one per customer): the
    merge keeps the survivor's, sets the loser's aside, keeps the loser's closed one, and undo restores all."""
    from guanxi.customers.merge import merge_customers, undo_merge

    loser = make_customer(users["rep"], display_name="Zhang Wei (dup)")
    today = timezone.localdate()

    def task(who, status="open"):
        return FollowUp.objects.create(
            customer=who, assignee=users["rep"], title="Welcome", due_on=today, dedupe_key="welcome:3", status=status
        )

    kept, clashing, done = task(customer), task(loser), task(loser, status="done")
    customer.refresh_from_db()
    record = merge_customers(
        actor=users["admin"],
        survivor_id=customer.pk,
        loser_id=loser.pk,
        survivor_version=customer.version,
        loser_version=loser.version,
    )
    assert set(FollowUp.objects.filter(customer=customer).values_list("pk", flat=True)) == {kept.pk, done.pk}
    assert not FollowUp.objects.filter(pk=clashing.pk).exists()
    undo_merge(actor=users["admin"], merge_id=record.pk)
    assert FollowUp.objects.get(pk=clashing.pk).customer_id == loser.pk
    assert FollowUp.objects.get(pk=done.pk).customer_id == loser.pk


# ------------------------------------------------------------------------------------ owner changes


def test_a_new_owner_takes_over_the_open_follow_ups(users, customer, follow_up):
    from guanxi.ownership import services as ownership

    task = follow_up()
    ownership.assign_customer(actor=users["manager"], customer_id=customer.pk, user_id=users["rep2"].pk, note="")
    task.refresh_from_db()
    assert task.assignee == users["rep2"] and task.status == "open"
    assert Event.objects.filter(type="follow_up.updated", payload__reason="handed_over").count() == 1


def test_a_release_to_the_pool_cancels_the_open_follow_ups(users, customer, follow_up):
    from guanxi.ownership import services as ownership

    task = follow_up()
    kept = follow_up(title="Manager's own", assignee_id=users["manager"].pk, actor=users["manager"])
    ownership.release_customer(actor=users["rep"], customer_id=customer.pk, note="")
    task.refresh_from_db()
    kept.refresh_from_db()
    assert task.status == "cancelled"
    assert kept.status == "open"  # the manager still sees the customer in their team's pool


def test_plan_return_visits_by_lifecycle_stage(users, customer, make_customer):
    from guanxi.lifecycle.models import CustomerStage

    CadencePolicy.objects.create(
        key="loyal_stage",
        name="Loyal",
        kind="interval",
        applies_to="stage",
        match_value="loyal",
        interval_days=45,
        priority=1,
    )
    other = make_customer(users["rep"], display_name="Still new")
    for c, stage in ((customer, "loyal"), (other, "new")):
        CustomerStage.objects.update_or_create(
            customer=c, defaults={"stage": stage, "since": timezone.now(), "funnel_stage": "loyalty"}
        )
    assert services.plan_return_visits(today=today()) == 1
    planned = FollowUp.objects.get()
    assert planned.customer == customer and planned.policy.key == "loyal_stage"
    assert planned.due_on == today() + timedelta(days=45)

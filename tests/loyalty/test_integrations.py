"""Manual adjustments, the automation trigger and action, rule fields, merges and personal data."""

from datetime import UTC, datetime

import pytest
import time_machine

from guanxi.core import rules
from guanxi.customers.models import Customer
from guanxi.loyalty import services
from guanxi.loyalty.errors import AdjustmentDenied, InsufficientPoints, MembershipNotFound, PointsInvalid
from guanxi.loyalty.models import Membership, MembershipTier, PointsEntry
from tests.loyalty.conftest import ledger_sum

pytestmark = pytest.mark.django_db

AT = datetime(2026, 1, 15, 4, 0, tzinfo=UTC)


def test_adjustments_above_the_threshold_need_a_manager(customer, users):
    with pytest.raises(AdjustmentDenied) as denied:
        services.adjust_points(
            actor=users["rep"], customer_id=customer.pk, points=1001, reason="Goodwill", source_key="a"
        )
    assert denied.value.status == 403
    entry = services.adjust_points(
        actor=users["rep"], customer_id=customer.pk, points=1000, reason="Goodwill", source_key="b"
    )
    assert entry.kind == "adjust" and entry.actor == users["rep"]
    services.adjust_points(
        actor=users["manager"], customer_id=customer.pk, points=5000, reason="Complaint", source_key="c"
    )
    services.adjust_points(
        actor=users["rep"], customer_id=customer.pk, points=-500, reason="Correction", source_key="d"
    )
    with pytest.raises(AdjustmentDenied):
        services.adjust_points(actor=users["rep"], customer_id=customer.pk, points=-2000, reason="x", source_key="e")
    assert Membership.objects.get(pk=customer.pk).balance == 5500 == ledger_sum(customer.pk)


def test_adjustments_are_scoped_validated_and_never_overdraw(customer, users):
    with pytest.raises(MembershipNotFound):
        services.adjust_points(actor=users["rep_b"], customer_id=customer.pk, points=5, reason="x", source_key="a")
    with pytest.raises(PointsInvalid):
        services.adjust_points(actor=users["rep"], customer_id=customer.pk, points=5, reason=" ", source_key="a")
    with pytest.raises(InsufficientPoints):
        services.adjust_points(actor=users["rep"], customer_id=customer.pk, points=-1, reason="x", source_key="a")
    assert not PointsEntry.objects.exists()


def test_rule_fields_member_tier_and_points_balance(customer, users, make_customer):
    plain = make_customer(users["rep"], display_name="No membership yet")
    services.credit_points(customer_id=customer.pk, points=700, source_key="a", reason="x")
    Membership.objects.filter(pk=customer.pk).update(tier=MembershipTier.objects.get(key="gold"))
    everyone = Customer.objects.filter(pk__in=[customer.pk, plain.pk])

    def matching(text):
        return set(rules.filter_customers(everyone, rules.parse(text), now=AT).values_list("pk", flat=True))

    assert matching('member_tier == "gold"') == {customer.pk}
    assert matching('member_tier == "standard"') == {plain.pk}
    assert matching("points_balance >= 500") == {customer.pk}
    assert matching("points_balance < 500") == {plain.pk}


def test_a_tier_change_can_trigger_a_rule_that_grants_points(customer, place, users):
    from guanxi.automation import services as automation

    automation.create_rule(
        actor=users["admin"],
        data={
            "name": "Silver welcome",
            "trigger": "member.tier_changed",
            "condition": 'member_tier == "silver"',
            "actions": [{"type": "grant_points", "points": 200, "reason": "Welcome to silver"}],
        },
    )
    with time_machine.travel(AT, tick=False):
        place(customer, "3000", AT)
    bonus = PointsEntry.objects.get(kind="adjust")
    assert bonus.points == 200 and bonus.reason == "Welcome to silver"
    assert Membership.objects.get(pk=customer.pk).balance == 3200 == ledger_sum(customer.pk)


def test_grant_points_refuses_bad_parameters(db):
    from guanxi.automation.actions import ParamErrors
    from guanxi.loyalty.automation import GRANT_POINTS

    with pytest.raises(ParamErrors) as raised:
        GRANT_POINTS.clean({"points": 0, "colour": "red"})
    assert set(raised.value.errors) == {"points", "reason", "colour"}


def test_a_merge_moves_the_ledger_keeps_the_better_tier_and_undo_puts_it_back(users, make_customer):
    from guanxi.customers.merge import merge_customers, undo_merge

    survivor = make_customer(users["rep"], display_name="Liu Yang")
    loser = make_customer(users["rep"], display_name="Liu Yang (dup)")
    # Credits rather than orders: two customers with orders both get the default playbooks' follow-ups, whose
    # merge is the follow-ups app's concern.
    services.credit_points(customer_id=survivor.pk, points=100, source_key="s", reason="x")
    services.credit_points(customer_id=loser.pk, points=12000, source_key="l", reason="x")  # gold
    assert Membership.objects.get(pk=loser.pk).tier.key == "gold"
    survivor.refresh_from_db()
    loser.refresh_from_db()
    record = merge_customers(
        actor=users["rep"],
        survivor_id=survivor.pk,
        loser_id=loser.pk,
        survivor_version=survivor.version,
        loser_version=loser.version,
    )
    kept = Membership.objects.get(pk=survivor.pk)
    assert kept.balance == 12100 == ledger_sum(survivor.pk)
    assert kept.tier.key == "gold"
    assert not Membership.objects.filter(pk=loser.pk).exists()
    undo_merge(actor=users["rep"], merge_id=record.pk)
    assert Membership.objects.get(pk=loser.pk).balance == 12000 == ledger_sum(loser.pk)
    assert Membership.objects.get(pk=survivor.pk).balance == 100 == ledger_sum(survivor.pk)


def test_personal_data_export_and_erasure(customer, users):
    from guanxi.loyalty import personal

    services.set_birth_date(actor=users["rep"], customer_id=customer.pk, birth_date=datetime(1990, 5, 1).date())
    services.credit_points(customer_id=customer.pk, points=10, source_key="a", reason="Welcome")
    exported = personal.export_membership(customer)
    assert exported[0]["birth_date"].isoformat() == "1990-05-01" and exported[0]["balance"] == 10
    assert [row["points"] for row in personal.export_points(customer)] == [10]
    assert personal.erase_membership(customer, []) == 1
    assert Membership.objects.get(pk=customer.pk).birth_date is None
    assert ledger_sum(customer.pk) == 10

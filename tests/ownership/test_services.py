"""Ownership services: claims, quota, cap, release, protection, transfers, auto-assignment, history, audit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.core import access
from guanxi.core.models import AuditEntry, Event
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer
from guanxi.notifications.models import Notification
from guanxi.ownership import services
from guanxi.ownership.errors import (
    AlreadyClaimed,
    ClaimQuotaReached,
    CustomerProtected,
    HoldingCapReached,
    NotInPool,
    OwnerChanged,
    OwnershipDenied,
    OwnershipInvalid,
    TransferDecided,
    TransferNotFound,
    TransferPending,
)
from guanxi.ownership.models import OwnershipChange, PoolRule, TransferRequest


def owner_audits(customer):
    return list(
        AuditEntry.objects.filter(
            subject_type="customers.customer", subject_id=customer.pk, changes__has_key="owner_id"
        )
        .filter(event__type="customer.owner_changed")
        .order_by("at", "id")
    )


# ---------------------------------------------------------------------------------------------------- claims


def test_a_rep_of_another_team_sees_nothing_of_the_pool_and_cannot_claim(users, pool_customer):
    customer = pool_customer()
    assert list(access.pool_customers(users["rep_b"])) == []
    for role in ("support", "analyst", "rep_b"):
        with pytest.raises(NotInPool if role == "rep_b" else OwnershipDenied):
            services.claim_customer(actor=users[role], customer_id=customer.pk)
    assert Customer.objects.get(pk=customer.pk).owner_id is None


def test_a_missing_or_deleted_customer_is_not_in_the_pool(users, pool_customer):
    customer = pool_customer()
    Customer.objects.filter(pk=customer.pk).update(deleted_at=timezone.now())
    for customer_id in (customer.pk, 999_999):
        with pytest.raises(NotInPool):
            services.claim_customer(actor=users["rep"], customer_id=customer_id)


def test_claim_makes_the_rep_owner_with_history_event_and_audit(users, pool_customer):
    customer = pool_customer()
    claimed = services.claim_customer(actor=users["rep"], customer_id=customer.pk)
    assert claimed.owner_id == users["rep"].pk and claimed.version == customer.version + 1
    change = OwnershipChange.objects.filter(customer=customer).order_by("-at", "-id").first()
    assert (change.reason, change.from_user_id, change.to_user_id, change.actor_id) == (
        "claimed",
        None,
        users["rep"].pk,
        users["rep"].pk,
    )
    (audit,) = owner_audits(customer)
    assert audit.changes == {"owner_id": [None, users["rep"].pk]} and audit.actor_id == users["rep"].pk
    assert audit.event.payload["reason"] == "claimed"
    # The full profile is now visible to the claimer.
    assert access.visible_customers(users["rep"]).filter(pk=customer.pk).exists()


def test_a_second_claim_is_told_who_won(users, pool_customer):
    users["rep"].display_name = "张伟"
    users["rep"].save()
    customer = pool_customer()
    services.claim_customer(actor=users["rep"], customer_id=customer.pk)
    with pytest.raises(AlreadyClaimed) as caught:
        services.claim_customer(actor=users["rep2"], customer_id=customer.pk)
    assert caught.value.message == "张伟 claimed it first." and caught.value.status == 409
    assert OwnershipChange.objects.filter(customer=customer, reason="claimed").count() == 1


def test_daily_quota_counts_todays_claims_only(users, pool_customer, rule):
    rule(daily_claim_quota=2)
    first, second, third = (pool_customer(display_name=f"P{i}") for i in range(3))
    services.claim_customer(actor=users["rep"], customer_id=first.pk)
    services.claim_customer(actor=users["rep"], customer_id=second.pk)
    with pytest.raises(ClaimQuotaReached) as caught:
        services.claim_customer(actor=users["rep"], customer_id=third.pk)
    assert caught.value.details == {"quota": 2, "claimed_today": 2}
    assert Customer.objects.get(pk=third.pk).owner_id is None
    # Yesterday's claims do not count: move them back a day.
    OwnershipChange.objects.filter(reason="claimed").update(at=timezone.now() - timedelta(days=1))
    assert services.claim_customer(actor=users["rep"], customer_id=third.pk).owner_id == users["rep"].pk


def test_zero_quota_forbids_claims_and_no_quota_allows_any(users, pool_customer, rule):
    rule(daily_claim_quota=0)
    customer = pool_customer()
    with pytest.raises(ClaimQuotaReached):
        services.claim_customer(actor=users["rep"], customer_id=customer.pk)
    rule(daily_claim_quota=None)
    assert services.claim_customer(actor=users["rep"], customer_id=customer.pk).owner_id == users["rep"].pk


def test_holding_cap_counts_every_customer_the_rep_owns(users, pool_customer, rule, make_customer):
    rule(holding_cap=2, daily_claim_quota=None)
    make_customer(users["rep"], display_name="Own 1")
    make_customer(users["rep"], display_name="Own 2")
    customer = pool_customer()
    with pytest.raises(HoldingCapReached) as caught:
        services.claim_customer(actor=users["rep"], customer_id=customer.pk)
    assert caught.value.details == {"cap": 2, "held": 2}
    assert services.claim_customer(actor=users["rep2"], customer_id=customer.pk).owner_id == users["rep2"].pk


# ---------------------------------------------------------------------------------------------------- release


def test_owner_releases_to_the_team_pool_and_loses_sight(users, make_customer):
    customer = make_customer(users["rep"])
    released = services.release_customer(actor=users["rep"], customer_id=customer.pk, note="no budget")
    assert released.owner_id is None and released.team_id == users["rep"].team_id
    assert not access.visible_customers(users["rep"]).filter(pk=customer.pk).exists()
    assert access.pool_customers(users["rep2"]).filter(pk=customer.pk).exists()
    change = OwnershipChange.objects.filter(customer=customer).order_by("-at", "-id").first()
    assert (change.reason, change.note) == ("released", "no budget")
    assert owner_audits(customer)[-1].changes == {"owner_id": [users["rep"].pk, None]}
    with pytest.raises(CustomerNotFound):  # out of sight now
        services.release_customer(actor=users["rep"], customer_id=customer.pk)


def test_release_by_someone_else(users, make_customer):
    customer = make_customer(users["rep"])
    with pytest.raises(CustomerNotFound):
        services.release_customer(actor=users["rep2"], customer_id=customer.pk)
    with pytest.raises(CustomerNotFound):
        services.release_customer(actor=users["rep_b"], customer_id=customer.pk)
    released = services.release_customer(actor=users["manager"], customer_id=customer.pk)
    assert released.owner_id is None
    note = Notification.objects.get(user=users["rep"])
    assert note.kind == "ownership.released" and note.link == f"/customers/{customer.pk}/"
    with pytest.raises(OwnerChanged):
        services.release_customer(actor=users["manager"], customer_id=customer.pk)


# ---------------------------------------------------------------------------------------------------- assignment


def test_manager_assigns_within_their_teams_only(users, make_customer, pool_customer, teams):
    customer = pool_customer()
    with pytest.raises(OwnershipDenied):
        services.assign_customer(actor=users["rep"], customer_id=customer.pk, user_id=users["rep"].pk)
    with pytest.raises(OwnershipDenied):
        services.assign_customer(actor=users["manager"], customer_id=customer.pk, user_id=users["rep_b"].pk)
    with pytest.raises(OwnershipInvalid):
        services.assign_customer(actor=users["manager"], customer_id=customer.pk, user_id=users["analyst"].pk)
    assigned = services.assign_customer(actor=users["manager"], customer_id=customer.pk, user_id=users["rep2"].pk)
    assert assigned.owner_id == users["rep2"].pk
    assert Notification.objects.filter(user=users["rep2"], kind="ownership.assigned").count() == 1
    other_team = pool_customer(team=teams[1])
    with pytest.raises(CustomerNotFound):
        services.assign_customer(actor=users["manager"], customer_id=other_team.pk, user_id=users["rep"].pk)


def test_round_robin_assigns_new_pool_customers_in_turn_inside_creation(users, pool_customer, rule):
    rule(assignment=PoolRule.Assignment.ROUND_ROBIN)
    owners = [pool_customer(display_name=f"N{i}").owner_id for i in range(3)]
    # Customer returned by create_customer is stale; read the stored owners.
    stored = list(
        Customer.objects.filter(display_name__startswith="N").order_by("pk").values_list("owner_id", flat=True)
    )
    assert owners == [None, None, None]
    assert stored == [users["rep"].pk, users["rep2"].pk, users["rep"].pk]
    reasons = list(
        OwnershipChange.objects.filter(customer__display_name="N0").order_by("at", "id").values_list("reason", "note")
    )
    assert reasons == [("created", ""), ("assigned", "auto: round_robin")]


def test_least_loaded_and_cap(users, pool_customer, rule, make_customer):
    make_customer(users["rep"], display_name="Existing")
    rule(assignment=PoolRule.Assignment.LEAST_LOADED)
    pool_customer(display_name="L1")
    assert Customer.objects.get(display_name="L1").owner_id == users["rep2"].pk
    pool_customer(display_name="L2")
    assert Customer.objects.get(display_name="L2").owner_id in (users["rep"].pk, users["rep2"].pk)
    rule(assignment=PoolRule.Assignment.LEAST_LOADED, holding_cap=1)
    pool_customer(display_name="L3")  # both reps hold at least one: it stays in the pool
    assert Customer.objects.get(display_name="L3").owner_id is None


def test_territory_matches_region_and_industry(users, pool_customer, rule):
    rule(
        assignment=PoolRule.Assignment.TERRITORY,
        territories=[
            {"region": "华东", "industry": "retail", "user_id": users["rep2"].pk},
            {"region": "华东", "industry": "", "user_id": users["rep"].pk},
        ],
    )
    pool_customer(display_name="T1", region="华东", industry="retail")
    pool_customer(display_name="T2", region="华东", industry="energy")
    pool_customer(display_name="T3", region="华北")
    owners = dict(Customer.objects.filter(display_name__startswith="T").values_list("display_name", "owner_id"))
    assert owners == {"T1": users["rep2"].pk, "T2": users["rep"].pk, "T3": None}


def test_rule_none_leaves_new_customers_in_the_pool(users, pool_customer):
    customer = pool_customer()
    assert Customer.objects.get(pk=customer.pk).owner_id is None
    assert list(OwnershipChange.objects.filter(customer=customer).values_list("reason", flat=True)) == ["created"]


def test_a_manager_changing_the_owner_on_the_form_is_in_the_history(users, make_customer):
    from guanxi.customers import services as customers

    customer = make_customer(users["rep"])
    customers.update_customer(
        actor=users["manager"], customer_id=customer.pk, version=customer.version, data={"owner_id": users["rep2"].pk}
    )
    change = OwnershipChange.objects.filter(customer=customer).order_by("-at", "-id").first()
    assert (change.reason, change.from_user_id, change.to_user_id) == ("assigned", users["rep"].pk, users["rep2"].pk)


# ---------------------------------------------------------------------------------------------------- transfers


def test_transfer_approved_by_the_manager(users, make_customer):
    customer = make_customer(users["rep"])
    request = services.request_transfer(
        actor=users["rep"], customer_id=customer.pk, to_user_id=users["rep2"].pk, reason="moving to Beijing"
    )
    assert request.status == "pending" and request.from_user_id == users["rep"].pk
    assert Notification.objects.filter(user=users["manager"], kind="ownership.transfer_requested").exists()
    with pytest.raises(TransferPending):
        services.request_transfer(actor=users["rep"], customer_id=customer.pk, to_user_id=users["rep2"].pk)
    for outsider in ("rep", "rep2", "rep_b", "support"):
        with pytest.raises(TransferNotFound):
            services.approve_transfer(actor=users[outsider], request_id=request.pk)
    assert Customer.objects.get(pk=customer.pk).owner_id == users["rep"].pk

    services.approve_transfer(actor=users["manager"], request_id=request.pk, note="ok")
    stored = TransferRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.decided_by_id, stored.decision_note) == ("approved", users["manager"].pk, "ok")
    assert Customer.objects.get(pk=customer.pk).owner_id == users["rep2"].pk
    change = OwnershipChange.objects.filter(customer=customer).order_by("-at", "-id").first()
    assert (change.reason, change.from_user_id, change.to_user_id, change.actor_id) == (
        "transferred",
        users["rep"].pk,
        users["rep2"].pk,
        users["manager"].pk,
    )
    assert owner_audits(customer)[-1].changes == {"owner_id": [users["rep"].pk, users["rep2"].pk]}
    assert Notification.objects.filter(user=users["rep2"], kind="ownership.transfer_approved").exists()
    with pytest.raises(TransferDecided):
        services.approve_transfer(actor=users["manager"], request_id=request.pk)
    with pytest.raises(TransferDecided):
        services.reject_transfer(actor=users["manager"], request_id=request.pk)


def test_transfer_rejected_keeps_the_owner(users, make_customer):
    customer = make_customer(users["rep"])
    request = services.request_transfer(actor=users["rep"], customer_id=customer.pk, to_user_id=users["rep2"].pk)
    services.reject_transfer(actor=users["manager"], request_id=request.pk, note="keep it")
    assert TransferRequest.objects.get(pk=request.pk).status == "rejected"
    assert Customer.objects.get(pk=customer.pk).owner_id == users["rep"].pk
    assert Event.objects.filter(type="ownership.transfer_rejected", subject_id=request.pk).exists()
    # A new request is possible once the old one is decided.
    services.request_transfer(actor=users["rep"], customer_id=customer.pk, to_user_id=users["rep2"].pk)


def test_who_may_request_a_transfer(users, make_customer, pool_customer):
    from guanxi.customers import services as customers

    customer = make_customer(users["rep"])
    with pytest.raises(CustomerNotFound):  # cannot see it
        services.request_transfer(actor=users["rep2"], customer_id=customer.pk, to_user_id=users["rep2"].pk)
    customers.share_customer(actor=users["rep"], customer_id=customer.pk, user_id=users["rep2"].pk)
    with pytest.raises(OwnershipDenied):  # a colleague may ask only for themselves
        services.request_transfer(actor=users["rep2"], customer_id=customer.pk, to_user_id=users["manager"].pk)
    with pytest.raises(OwnershipInvalid):
        services.request_transfer(actor=users["rep"], customer_id=customer.pk, to_user_id=users["rep"].pk)
    with pytest.raises(OwnershipInvalid):
        services.request_transfer(actor=users["rep"], customer_id=customer.pk, to_user_id=users["support"].pk)
    request = services.request_transfer(actor=users["rep2"], customer_id=customer.pk, to_user_id=users["rep2"].pk)
    assert request.requested_by_id == users["rep2"].pk
    services.cancel_transfer(actor=users["rep2"], request_id=request.pk)
    assert TransferRequest.objects.get(pk=request.pk).status == "cancelled"
    with pytest.raises(OwnershipInvalid):  # pool customers are claimed, not transferred
        services.request_transfer(actor=users["manager"], customer_id=pool_customer().pk, to_user_id=users["rep"].pk)


def test_approval_fails_when_the_owner_changed_meanwhile(users, make_customer):
    customer = make_customer(users["rep"])
    request = services.request_transfer(actor=users["rep"], customer_id=customer.pk, to_user_id=users["rep2"].pk)
    # A release cancels the pending request.
    services.release_customer(actor=users["rep"], customer_id=customer.pk)
    assert TransferRequest.objects.get(pk=request.pk).status == "cancelled"
    with pytest.raises(TransferDecided):
        services.approve_transfer(actor=users["manager"], request_id=request.pk)
    assert Customer.objects.get(pk=customer.pk).owner_id is None


def test_protection_after_a_claim_blocks_transfer_requests_by_others(users, pool_customer, rule):
    from guanxi.customers import services as customers

    rule(protection_days=7)
    customer = pool_customer()
    services.claim_customer(actor=users["rep"], customer_id=customer.pk)
    customers.share_customer(actor=users["rep"], customer_id=customer.pk, user_id=users["rep2"].pk)
    with pytest.raises(CustomerProtected):
        services.request_transfer(actor=users["rep2"], customer_id=customer.pk, to_user_id=users["rep2"].pk)
    with pytest.raises(CustomerProtected):
        services.request_transfer(actor=users["manager"], customer_id=customer.pk, to_user_id=users["rep2"].pk)
    # The owner may still hand it over; and once protection ends, others may ask.
    OwnershipChange.objects.filter(customer=customer, reason="claimed").update(at=timezone.now() - timedelta(days=8))
    assert services.protected_until(Customer.objects.get(pk=customer.pk)) is None
    services.request_transfer(actor=users["rep2"], customer_id=customer.pk, to_user_id=users["rep2"].pk)


# ---------------------------------------------------------------------------------------------------- rules


def test_rule_updates_are_guarded(users, teams):
    with pytest.raises(OwnershipDenied):
        services.update_pool_rule(actor=users["rep"], team_id=teams[0].pk, version=1, data={"holding_cap": 3})
    with pytest.raises(OwnershipDenied):
        services.update_pool_rule(actor=users["manager"], team_id=teams[1].pk, version=1, data={"holding_cap": 3})
    with pytest.raises(OwnershipInvalid) as caught:
        services.update_pool_rule(
            actor=users["manager"],
            team_id=teams[0].pk,
            version=1,
            data={"holding_cap": -1, "assignment": "random", "territories": [{"user_id": users["rep_b"].pk}]},
        )
    assert set(caught.value.details) == {"holding_cap", "assignment"}
    with pytest.raises(OwnershipInvalid):  # territory reps must be in the team
        services.update_pool_rule(
            actor=users["manager"],
            team_id=teams[0].pk,
            version=1,
            data={"territories": [{"user_id": users["rep_b"].pk}]},
        )
    saved = services.update_pool_rule(
        actor=users["manager"], team_id=teams[0].pk, version=1, data={"holding_cap": 30, "release_after_days": 30}
    )
    assert (saved.holding_cap, saved.release_after_days, saved.version) == (30, 30, 2)
    audit = AuditEntry.objects.get(event__type="ownership.rule_updated")
    assert audit.changes == {"holding_cap": [None, 30], "release_after_days": [None, 30]}
    from guanxi.core.errors import StaleVersion

    with pytest.raises(StaleVersion):
        services.update_pool_rule(actor=users["manager"], team_id=teams[0].pk, version=1, data={"holding_cap": 5})


def test_history_survives_a_merge_and_a_legacy_customer_gets_its_first_entry(users, make_customer):
    from guanxi.customers import merge
    from guanxi.customers import services as customers

    survivor = make_customer(users["rep"], display_name="Survivor")
    loser = make_customer(users["rep"], display_name="Loser")
    merge.merge_customers(
        actor=users["rep"], survivor_id=survivor.pk, loser_id=loser.pk, survivor_version=1, loser_version=1
    )
    assert list(OwnershipChange.objects.filter(customer=survivor).values_list("reason", flat=True)) == ["created"]
    assert list(OwnershipChange.objects.filter(customer=loser).values_list("reason", flat=True)) == ["created"]

    legacy = make_customer(users["rep"], display_name="Before the ownership app")
    OwnershipChange.objects.filter(customer=legacy).delete()
    customers.update_customer(
        actor=users["manager"], customer_id=legacy.pk, version=legacy.version, data={"owner_id": users["rep2"].pk}
    )
    (change,) = OwnershipChange.objects.filter(customer=legacy)
    assert (change.reason, change.from_user_id, change.to_user_id) == ("assigned", users["rep"].pk, users["rep2"].pk)

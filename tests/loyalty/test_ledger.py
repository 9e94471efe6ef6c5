"""The points ledger: idempotent credits, redemptions that never overdraw, FIFO allocation, the cache."""

from datetime import date

import pytest

from guanxi.loyalty import services
from guanxi.loyalty.errors import InsufficientPoints, MembershipNotFound, PointsInvalid, SourceKeyConflict
from guanxi.loyalty.models import Membership, PointsAllocation, PointsEntry
from tests.loyalty.conftest import ledger_sum

pytestmark = pytest.mark.django_db


def test_membership_for_creates_the_lowest_tier_once(customer):
    first = services.membership_for(customer.pk)
    again = services.membership_for(customer.pk)
    assert first.pk == again.pk == customer.pk
    assert first.tier.key == "standard" and first.balance == 0
    assert Membership.objects.count() == 1


def test_membership_for_an_unknown_customer_is_not_found(db):
    with pytest.raises(MembershipNotFound):
        services.membership_for(999_999)


def test_a_replayed_credit_credits_once(customer):
    first = services.credit_points(customer_id=customer.pk, points=50, source_key="promo:1", reason="Welcome")
    replay = services.credit_points(customer_id=customer.pk, points=50, source_key="promo:1", reason="Welcome")
    assert replay.pk == first.pk
    assert services.membership_for(customer.pk).balance == 50 == ledger_sum(customer.pk)


def test_a_source_key_of_another_customer_is_a_conflict(customer, make_customer, users):
    other = make_customer(users["rep"], display_name="Other")
    services.credit_points(customer_id=customer.pk, points=5, source_key="k", reason="x")
    with pytest.raises(SourceKeyConflict):
        services.credit_points(customer_id=other.pk, points=5, source_key="k", reason="x")


@pytest.mark.parametrize("points", [0, -5, 1.5, True, 10**9])
def test_credit_refuses_points_that_are_not_a_positive_whole_number(customer, points):
    with pytest.raises(PointsInvalid):
        services.credit_points(customer_id=customer.pk, points=points, source_key="bad", reason="x")
    assert not PointsEntry.objects.exists()


def test_redeem_more_than_the_balance_writes_nothing(customer, users):
    services.credit_points(customer_id=customer.pk, points=30, source_key="a", reason="x")
    with pytest.raises(InsufficientPoints) as raised:
        services.redeem_points(actor=users["rep"], customer_id=customer.pk, points=31, source_key="r1")
    assert raised.value.status == 409 and raised.value.details == {"balance": 30, "requested": 31}
    assert PointsEntry.objects.filter(kind="redeem").count() == 0
    assert services.membership_for(customer.pk).balance == 30


def test_redeem_by_someone_who_cannot_edit_the_customer_is_not_found(customer, users):
    services.credit_points(customer_id=customer.pk, points=30, source_key="a", reason="x")
    for who in ("rep_b", "analyst", "support"):
        with pytest.raises(MembershipNotFound):
            services.redeem_points(actor=users[who], customer_id=customer.pk, points=1, source_key=f"r-{who}")
    assert services.membership_for(customer.pk).balance == 30


def test_redeem_is_idempotent_and_consumes_the_soonest_expiring_lots_first(customer, users):
    late = services.credit_points(
        customer_id=customer.pk, points=100, source_key="late", reason="x", expires_on=date(2030, 12, 31)
    )
    soon = services.credit_points(
        customer_id=customer.pk, points=40, source_key="soon", reason="x", expires_on=date(2027, 12, 31)
    )
    entry = services.redeem_points(actor=users["rep"], customer_id=customer.pk, points=60, source_key="r")
    again = services.redeem_points(actor=users["rep"], customer_id=customer.pk, points=60, source_key="r")
    assert again.pk == entry.pk and entry.points == -60
    taken = dict(PointsAllocation.objects.filter(consumer=entry).values_list("lot_id", "points"))
    assert taken == {soon.pk: 40, late.pk: 20}
    assert services.membership_for(customer.pk).balance == 80 == ledger_sum(customer.pk)


def test_the_database_refuses_a_negative_balance(customer):
    from django.db import IntegrityError, transaction

    services.membership_for(customer.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=customer.pk).update(balance=-1)


def test_entries_are_append_only(customer):
    from guanxi.core.models import AppendOnlyError

    entry = services.credit_points(customer_id=customer.pk, points=5, source_key="a", reason="x")
    entry.points = 500
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()

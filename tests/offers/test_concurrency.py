"""One coupon redeemed twice at the same moment: one success, one clear error, on SQLite and PostgreSQL.

Real threads with their own connections. On PostgreSQL the second redemption waits for the coupon's row lock,
then finds it redeemed (409 coupon_already_redeemed). The in-memory SQLite test database (shared cache) fails a
write lock at once ("database table is locked") where the file database (WAL, IMMEDIATE transactions, busy
timeout) queues the writer; the loser here retries as that queue would, and then gets the same clear 409.
"""

import time

import pytest
from django.db import OperationalError, connection

from guanxi.core.models import Event
from guanxi.offers import services
from guanxi.offers.errors import CouponAlreadyRedeemed
from guanxi.offers.models import Coupon
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def _queued(call):
    """``call`` retried while SQLite's in-memory test database reports its table lock (PostgreSQL never does)."""

    def run():
        for _attempt in range(200):
            try:
                return call()
            except OperationalError as exc:
                if connection.vendor != "sqlite" or "locked" not in str(exc):
                    raise
                time.sleep(0.01)
        raise AssertionError("the table stayed locked")

    return run


@pytest.mark.parametrize("same_order", [False, True])
def test_concurrent_redemptions_have_one_winner(users, offer, customer, place_order, same_order):
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    first, second = place_order(customer), place_order(customer)
    orders = [first.pk, first.pk] if same_order else [first.pk, second.pk]
    results = run_at_once(
        [_queued(lambda o=o: services.redeem_coupon(actor=users["rep"], code=coupon.code, order_id=o)) for o in orders]
    )
    winners = [r for r in results if isinstance(r, Coupon)]
    if same_order:  # the same (code, order) twice is a retry: both get the redeemed coupon
        assert len(winners) == 2, results
    else:
        assert len(winners) == 1, results
        [loser] = [r for r in results if not isinstance(r, Coupon)]
        assert isinstance(loser, CouponAlreadyRedeemed), results
        assert "already redeemed on" in loser.message
    coupon.refresh_from_db()
    assert coupon.status == "redeemed" and coupon.order_id == winners[0].order_id
    assert Event.objects.filter(type="coupon.redeemed", subject_id=coupon.pk).count() == 1


def test_concurrent_issues_with_one_source_key_give_one_coupon(users, offer, customer):
    call = _queued(
        lambda: services.issue_coupon(
            actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk, source_key="pos:receipt-77"
        )
    )
    results = run_at_once([call, call, call])
    assert all(isinstance(r, Coupon) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Coupon.objects.filter(customer=customer).count() == 1
    assert Event.objects.filter(type="coupon.issued").count() == 1

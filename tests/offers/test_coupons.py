"""Offers and coupons: definitions, issuing (idempotent, limited, targeted), redeeming (idempotent per order,
clear conflicts, scoped), expiry and voiding."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from guanxi.core.errors import NotFound
from guanxi.core.models import Event
from guanxi.core.rules import RuleError
from guanxi.loyalty.models import PointsEntry
from guanxi.offers import services
from guanxi.offers.errors import (
    CouponAlreadyRedeemed,
    CouponExpired,
    CouponNotFound,
    CouponVoid,
    OfferInvalid,
    OffersDenied,
    OfferUnavailable,
)
from guanxi.offers.models import Coupon, Offer

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------------------ offers


def test_only_managers_define_offers(users):
    for role in ("rep", "support", "analyst"):
        with pytest.raises(OffersDenied):
            services.create_offer(actor=users[role], data={"key": "x", "name": "X", "kind": "percent_off", "value": 5})


def test_target_rule_is_checked_with_line_and_column(users):
    with pytest.raises(RuleError) as caught:
        services.create_offer(
            actor=users["manager"],
            data={"key": "bad", "name": "Bad", "kind": "percent_off", "value": 5, "target_rule": 'stage == "x" and'},
        )
    assert caught.value.details["line"] == 1 and caught.value.details["column"] >= 15
    assert caught.value.details["field"] == "target_rule"
    with pytest.raises(RuleError) as caught:
        services.create_offer(
            actor=users["manager"],
            data={"key": "bad", "name": "Bad", "kind": "percent_off", "value": 5, "target_rule": 'colour == "red"'},
        )
    assert "colour" in caught.value.message
    assert not Offer.objects.filter(key="bad").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "percent_off", "value": 150}, "value"),
        ({"kind": "amount_off", "value": 0}, "value"),
        ({"kind": "bonus_points", "value": "10.5"}, "value"),
        ({"kind": "free_item", "value": 0}, "free_item_sku"),
        ({"kind": "percent_off", "value": 5, "control_share": "0.9"}, "control_share"),
        ({"kind": "percent_off", "value": 5, "key": "has space"}, "key"),
    ],
)
def test_invalid_offers_name_the_field(users, data, field):
    with pytest.raises(OfferInvalid) as caught:
        services.create_offer(actor=users["admin"], data={"key": "k", "name": "N", **data})
    assert field in caught.value.details


def test_update_checks_the_version(users, offer):
    from guanxi.core.errors import StaleVersion

    updated = services.update_offer(actor=users["manager"], offer_id=offer.pk, version=1, data={"value": 20})
    assert updated.value == 20 and updated.version == 2
    with pytest.raises(StaleVersion):
        services.update_offer(actor=users["manager"], offer_id=offer.pk, version=1, data={"value": 30})


# ------------------------------------------------------------------------------------------------ issue


def test_issue_gives_a_readable_unique_code_and_records_the_event(users, offer, customer):
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    assert len(coupon.code) == services.CODE_LENGTH
    assert set(coupon.code) <= set(services.ALPHABET)
    assert not set(coupon.code) & set("01OIL")
    assert coupon.status == "issued"
    assert coupon.expires_at - coupon.issued_at == timedelta(days=30)
    event = Event.objects.get(type="coupon.issued")
    assert event.payload["customer_id"] == customer.pk and event.payload["code"] == coupon.code


def test_issue_is_idempotent_on_the_source_key(users, offer, customer):
    first = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk, source_key="k1")
    again = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk, source_key="k1")
    assert again.pk == first.pk
    assert Coupon.objects.count() == 1
    assert Event.objects.filter(type="coupon.issued").count() == 1


def test_per_customer_limit(users, offer, customer):
    services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    with pytest.raises(OfferUnavailable, match="already has 1"):
        services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    Coupon.objects.update(status="expired")  # an expired coupon no longer counts
    services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    assert Coupon.objects.filter(customer=customer).count() == 2


def test_target_rule_limits_who_may_get_it(users, make_customer, customer):
    offer = services.create_offer(
        actor=users["admin"],
        data={
            "key": "sh",
            "name": "Shanghai only",
            "kind": "amount_off",
            "value": 20,
            "target_rule": 'region == "Shanghai"',
        },
    )
    other = make_customer(users["rep"], display_name="Li", region="Beijing")
    with pytest.raises(OfferUnavailable, match="not in the target"):
        services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=other.pk)
    assert services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk).pk


def test_inactive_or_out_of_window_offers_issue_nothing(users, offer, customer):
    now = timezone.now()
    services.update_offer(
        actor=users["admin"], offer_id=offer.pk, version=1, data={"valid_from": now + timedelta(days=1)}
    )
    with pytest.raises(OfferUnavailable, match="starts on"):
        services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    services.update_offer(
        actor=users["admin"],
        offer_id=offer.pk,
        version=2,
        data={"valid_from": now - timedelta(days=10), "valid_until": now - timedelta(days=1)},
    )
    with pytest.raises(OfferUnavailable, match="ended on"):
        services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    services.update_offer(
        actor=users["admin"], offer_id=offer.pk, version=3, data={"valid_until": None, "active": False}
    )
    with pytest.raises(OfferUnavailable, match="not active"):
        services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    assert not Coupon.objects.exists()


def test_coupon_never_outlives_the_offer(users, offer, customer):
    end = timezone.now() + timedelta(days=5)
    services.update_offer(actor=users["admin"], offer_id=offer.pk, version=1, data={"valid_until": end})
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    assert coupon.expires_at == end


def test_issue_outside_scope_is_not_found(users, offer, customer):
    from guanxi.customers.errors import CustomerNotFound

    with pytest.raises(CustomerNotFound):
        services.issue_coupon(actor=users["rep_b"], offer_id=offer.pk, customer_id=customer.pk)
    with pytest.raises(OffersDenied):
        services.issue_coupon(actor=users["analyst"], offer_id=offer.pk, customer_id=customer.pk)


# ------------------------------------------------------------------------------------------------ redeem


def test_redeem_on_an_order_and_again_on_the_same_order_is_idempotent(users, offer, customer, place_order):
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    order = place_order(customer)
    typed = f" {coupon.code[:4].lower()}-{coupon.code[4:]} "
    redeemed = services.redeem_coupon(actor=users["rep"], code=typed, order_id=order.pk)
    assert redeemed.status == "redeemed" and redeemed.order_id == order.pk
    again = services.redeem_coupon(actor=users["rep"], code=coupon.code, order_id=order.pk)
    assert again.pk == coupon.pk and again.redeemed_at == redeemed.redeemed_at
    assert Event.objects.filter(type="coupon.redeemed").count() == 1


def test_second_redemption_says_when_it_was_redeemed(users, offer, customer, place_order):
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    with time_machine.travel(timezone.datetime(2026, 3, 14, 10, tzinfo=timezone.get_current_timezone()), tick=False):
        services.redeem_coupon(actor=users["rep"], code=coupon.code, order_id=place_order(customer).pk)
    with pytest.raises(CouponAlreadyRedeemed) as caught:
        services.redeem_coupon(actor=users["rep"], code=coupon.code, order_id=place_order(customer).pk)
    assert "already redeemed on" in caught.value.message
    assert "2026" in caught.value.message and caught.value.status == 409
    with pytest.raises(CouponAlreadyRedeemed):
        services.redeem_coupon(actor=users["rep"], code=coupon.code)


def test_expired_coupon_is_a_conflict(users, offer, customer):
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    with time_machine.travel(coupon.expires_at + timedelta(seconds=1)), pytest.raises(CouponExpired) as caught:
        services.redeem_coupon(actor=users["rep"], code=coupon.code)
    assert caught.value.status == 409 and "expired on" in caught.value.message
    coupon.refresh_from_db()
    assert coupon.status == "issued"


def test_another_customers_code_is_not_found(users, offer, customer, make_customer, place_order):
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    other = make_customer(users["rep"], display_name="Other")
    with pytest.raises(CouponNotFound):
        services.redeem_coupon(actor=users["rep"], code=coupon.code, customer_id=other.pk)
    with pytest.raises(CouponNotFound):
        services.redeem_coupon(actor=users["rep"], code=coupon.code, order_id=place_order(other).pk)
    with pytest.raises(CouponNotFound):  # a rep of another team: the same answer as an unknown code
        services.redeem_coupon(actor=users["rep_b"], code=coupon.code)
    with pytest.raises(CouponNotFound):
        services.redeem_coupon(actor=users["rep"], code="NOPE2345")
    coupon.refresh_from_db()
    assert coupon.status == "issued"


def test_bonus_points_are_credited_once_at_redemption(users, customer):
    offer = services.create_offer(
        actor=users["admin"], data={"key": "pts", "name": "300 points", "kind": "bonus_points", "value": 300}
    )
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    assert not PointsEntry.objects.filter(customer=customer).exists()
    services.redeem_coupon(actor=users["rep"], code=coupon.code)
    entry = PointsEntry.objects.get(source_key=f"coupon:{coupon.pk}")
    assert entry.points == 300 and entry.customer_id == customer.pk
    from guanxi.loyalty.services import membership_for

    assert membership_for(customer.pk).balance == 300


def test_void_and_expire(users, offer, customer, make_customer):
    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    with pytest.raises(OffersDenied):
        services.void_coupon(actor=users["rep"], coupon_id=coupon.pk)
    services.void_coupon(actor=users["manager"], coupon_id=coupon.pk)
    with pytest.raises(CouponVoid):
        services.redeem_coupon(actor=users["rep"], code=coupon.code)
    later = make_customer(users["rep"], display_name="Later")
    fresh = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=later.pk)
    assert services.expire_coupons(now=fresh.expires_at - timedelta(seconds=1)) == 0
    assert services.expire_coupons(now=fresh.expires_at) == 1
    assert services.expire_coupons(now=fresh.expires_at) == 0
    fresh.refresh_from_db()
    coupon.refresh_from_db()
    assert (fresh.status, coupon.status) == ("expired", "void")
    assert Event.objects.filter(type="coupon.expired", subject_id=fresh.pk).count() == 1


def test_selectors_scope_coupons(users, offer, customer):
    from guanxi.offers import selectors

    coupon = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    assert selectors.get_coupon(users["manager"], coupon.pk).pk == coupon.pk
    with pytest.raises(NotFound):
        selectors.get_coupon(users["rep_b"], coupon.pk)
    assert list(selectors.list_coupons(users["rep_b"])) == []


def test_a_coupon_past_its_expiry_no_longer_counts_before_the_job_runs(users, offer, customer):
    first = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    with time_machine.travel(first.expires_at + timedelta(minutes=1)):
        second = services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.status == "issued"  # the daily job marks it; the limit already ignores it

"""The default offers and playbooks, the issue_offer action with its always-on control group, and the birthday
bonus job."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.automation.actions import ActionContext, ParamErrors
from guanxi.automation.actions import get as get_action
from guanxi.automation.models import Rule, RuleRun
from guanxi.commerce import services as commerce
from guanxi.core.models import Event
from guanxi.core.schedule import daily_jobs
from guanxi.loyalty.models import PointsEntry
from guanxi.loyalty.services import membership_for
from guanxi.offers import services
from guanxi.offers.models import Campaign, CampaignMember, Coupon, Offer

pytestmark = pytest.mark.django_db


def place(actor, customer, *, days_ago: int, number: str):
    data = commerce.OrderData(
        customer_id=customer.pk,
        external_id=number,
        ordered_at=timezone.now() - timedelta(days=days_ago),
        amount=Decimal("50"),
    )
    return commerce.place_order(actor=actor, data=data)


def test_default_offers_and_playbooks_are_shipped(db):
    offers = dict(Offer.objects.values_list("key", "kind"))
    assert offers == {
        "welcome": "percent_off",
        "win_back": "percent_off",
        "birthday_bonus": "bonus_points",
        "tier_upgrade_gift": "free_item",
    }
    assert Offer.objects.get(key="win_back").control_share == Decimal("0.10")
    rules = {r.playbook: r for r in Rule.objects.filter(playbook__startswith="offers_")}
    assert set(rules) == {"offers_welcome", "offers_win_back", "offers_tier_upgrade_gift"}
    assert rules["offers_win_back"].actions == [{"type": "issue_offer", "offer": "win_back"}]
    assert rules["offers_tier_upgrade_gift"].trigger == "member.tier_changed"
    assert all(r.name_zh_hans for r in rules.values())
    names = {job.name for job in daily_jobs()}
    assert {"offers_expire_coupons", "offers_birthday_bonus"} <= names


def test_churned_customers_get_the_win_back_offer_or_are_held_out(users, make_customer):
    offer = Offer.objects.get(key="win_back")
    offer.control_share = Decimal("0.5")  # many held out, so that a dozen customers land in both groups
    offer.save()
    customers = [make_customer(users["rep"], display_name=f"Gone {i}") for i in range(12)]
    for i, customer in enumerate(customers):
        place(users["rep"], customer, days_ago=400, number=f"WB-{i}")
    campaign = Campaign.objects.get(offer=offer, kind="always_on")
    members = {m.customer_id: m for m in CampaignMember.objects.filter(campaign=campaign)}
    assert set(members) == {c.pk for c in customers}
    for customer in customers:
        member = members[customer.pk]
        held_out = services.in_control(campaign.seed, customer.pk, campaign.control_share)
        assert member.group == ("control" if held_out else "treated")
        coupons = Coupon.objects.filter(customer=customer, offer=offer)
        if held_out:
            assert member.coupon_id is None and not coupons.exists()
        else:
            assert member.coupon_id == coupons.get().pk
    assert {m.group for m in members.values()} == {"treated", "control"}
    runs = RuleRun.objects.filter(rule__playbook="offers_win_back", status="matched")
    assert runs.count() == 12


def _ctx(customer, *, payload=None, rule=None):
    rule = rule or Rule.objects.get(playbook="offers_tier_upgrade_gift")
    event = Event.objects.create(
        type="member.tier_changed",
        subject_type="customers.customer",
        subject_id=customer.pk,
        payload=payload or {},
        occurred_at=timezone.now(),
    )
    return ActionContext(rule=rule, customer=customer, event=event, today=timezone.localdate())


def test_tier_gift_only_on_upgrades(users, make_customer):
    from django.db import transaction

    action = get_action("issue_offer")
    offer = Offer.objects.get(key="tier_upgrade_gift")
    offer.control_share = Decimal("0")
    offer.save()
    customer = make_customer(users["rep"], display_name="Member")
    with transaction.atomic():
        down = action.run(_ctx(customer, payload={"direction": "down"}), {"offer": offer.key, "direction": "up"})
    assert down["skipped"] == "direction" and not Coupon.objects.exists()
    with transaction.atomic():
        up = action.run(_ctx(customer, payload={"direction": "up"}), {"offer": offer.key, "direction": "up"})
    coupon = Coupon.objects.get(pk=up["coupon_id"])
    assert coupon.offer == offer and up["group"] == "treated"
    with transaction.atomic():  # a second upgrade: the limit of one gift is reached, nothing is issued
        again = action.run(_ctx(customer, payload={"direction": "up"}), {"offer": offer.key, "direction": "up"})
    assert again["skipped"] == "unavailable"
    assert Coupon.objects.count() == 1


def test_action_parameters_are_checked(db):
    action = get_action("issue_offer")
    with pytest.raises(ParamErrors) as caught:
        action.clean({"offer": "nope", "direction": "sideways", "extra": 1})
    assert set(caught.value.errors) == {"offer", "direction", "extra"}
    assert action.clean({"offer": "win_back"}) == {"offer": "win_back", "direction": "any"}


def test_birthday_bonus_once_a_year(users, make_customer):
    born = make_customer(users["rep"], display_name="Birthday")
    other = make_customer(users["rep"], display_name="Not today")
    leap = make_customer(users["rep"], display_name="Leap day")
    for customer, birth in ((born, date(1990, 6, 1)), (other, date(1990, 6, 2)), (leap, date(1992, 2, 29))):
        membership = membership_for(customer.pk)
        membership.birth_date = birth
        membership.save(update_fields=["birth_date"])
    assert services.grant_birthday_bonus(today=date(2026, 6, 1)) == 1
    assert services.grant_birthday_bonus(today=date(2026, 6, 1)) == 0
    entry = PointsEntry.objects.get(source_key=f"birthday:{born.pk}:2026")
    assert entry.points == 200 and entry.customer_id == born.pk
    assert membership_for(born.pk).balance == 200
    assert services.grant_birthday_bonus(today=date(2027, 6, 1)) == 1
    assert services.grant_birthday_bonus(today=date(2027, 2, 28)) == 1  # 29 February, kept on the 28th
    assert PointsEntry.objects.filter(customer=leap).count() == 1
    Offer.objects.filter(key="birthday_bonus").update(active=False)
    assert services.grant_birthday_bonus(today=date(2028, 6, 1)) == 0

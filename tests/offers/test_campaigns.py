"""Campaigns: a seeded random split into treated and control, coupons for the treated only, opted-out customers
left out, and the uplift report recovering an effect planted in generated orders."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
import time_machine
from django.utils import timezone

from guanxi.commerce.models import Order
from guanxi.core.errors import NotFound
from guanxi.core.models import Event
from guanxi.customers.models import Customer
from guanxi.offers import selectors, services
from guanxi.offers.errors import CampaignInvalid, CampaignLaunched, OffersDenied
from guanxi.offers.models import CampaignMember, Coupon

pytestmark = pytest.mark.django_db


def test_split_is_reproducible_and_holds_out_the_share():
    ids = list(range(1, 1001))
    treated, control = services.split(ids, share=Decimal("0.10"), seed=42)
    assert len(control) == 100 and len(treated) == 900
    assert set(treated) | set(control) == set(ids) and not set(treated) & set(control)
    assert services.split(list(reversed(ids)), share=Decimal("0.10"), seed=42) == (treated, control)
    assert services.split(ids, share=Decimal("0.10"), seed=43)[1] != control
    # Not the first or last ids: a real shuffle.
    assert control != ids[:100] and control != ids[-100:]


def test_always_on_assignment_follows_the_share():
    held = sum(services.in_control(7, cid, Decimal("0.10")) for cid in range(1, 20_001))
    assert 1800 < held < 2200
    assert services.in_control(7, 123, Decimal("0.10")) == services.in_control(7, 123, Decimal("0.10"))


def test_only_managers_create_and_launch(users, offer):
    with pytest.raises(OffersDenied):
        services.create_campaign(actor=users["rep"], data={"name": "C", "offer_id": offer.pk})
    campaign = services.create_campaign(actor=users["manager"], data={"name": "C", "offer_id": offer.pk})
    with pytest.raises(OffersDenied):
        services.launch_campaign(actor=users["rep"], campaign_id=campaign.pk)
    with pytest.raises(NotFound):  # another manager's campaign is not theirs to see
        selectors.get_campaign(users["rep"], campaign.pk)


def test_launch_treats_the_audience_and_holds_out_a_control_group(users, offer, make_customer):
    from guanxi.privacy.services import record_consent

    customers = [make_customer(users["rep"], display_name=f"C{i}", region="Shanghai") for i in range(40)]
    make_customer(users["rep"], display_name="Beijing", region="Beijing")
    opted_out = customers[0]
    record_consent(
        actor=users["admin"], customer_id=opted_out.pk, channel="email_marketing", status="withdrawn", source="form"
    )
    campaign = services.create_campaign(
        actor=users["manager"],
        data={
            "name": "Spring",
            "offer_id": offer.pk,
            "audience_rule": 'region == "Shanghai"',
            "control_share": "0.25",
            "seed": 99,
            "follow_up_title": "Tell them about the coupon",
        },
    )
    launched = services.launch_campaign(actor=users["manager"], campaign_id=campaign.pk)
    assert launched.status == "launched" and launched.launched_at is not None
    members = CampaignMember.objects.filter(campaign=campaign)
    assert members.count() == 39  # the Beijing customer and the opted-out one are not in the audience
    assert not members.filter(customer=opted_out).exists()
    control = members.filter(group="control")
    treated = members.filter(group="treated")
    assert control.count() == round(39 * 0.25)
    assert not control.filter(coupon__isnull=False).exists()
    assert treated.filter(coupon__isnull=False).count() == treated.count()
    assert Coupon.objects.filter(campaign=campaign).count() == treated.count()
    assert not Coupon.objects.filter(customer__in=control.values("customer")).exists()
    from guanxi.followups.models import FollowUp

    assert FollowUp.objects.filter(dedupe_key=f"campaign:{campaign.pk}").count() == treated.count()
    assert len(set(Coupon.objects.values_list("code", flat=True))) == treated.count()
    assert Event.objects.get(type="campaign.launched").payload["control"] == control.count()
    expected = services.split([m.customer_id for m in members], share=Decimal("0.25"), seed=99)
    assert sorted(control.values_list("customer_id", flat=True)) == expected[1]
    with pytest.raises(CampaignLaunched):
        services.launch_campaign(actor=users["manager"], campaign_id=campaign.pk)


def test_launch_with_an_empty_audience_is_refused(users, offer):
    campaign = services.create_campaign(
        actor=users["admin"], data={"name": "None", "offer_id": offer.pk, "audience_rule": 'region == "Mars"'}
    )
    with pytest.raises(CampaignInvalid):
        services.launch_campaign(actor=users["admin"], campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "draft" and not CampaignMember.objects.exists()


def _generated_campaign(users, offer, *, n, treated_rate, control_rate, seed):
    """n customers, a campaign launched 10 weeks ago with 10% control, and orders in the window at the rates."""
    customers = Customer.objects.bulk_create([Customer(display_name=f"Gen {i}") for i in range(n)])
    ids = {c.pk for c in customers}
    launched_at = timezone.now() - timedelta(weeks=10)
    with time_machine.travel(launched_at, tick=False):
        campaign = services.create_campaign(
            actor=users["admin"], data={"name": "Win-back", "offer_id": offer.pk, "seed": seed, "measure_days": 56}
        )
        services.launch_campaign(actor=users["admin"], campaign_id=campaign.pk)
    rng = np.random.default_rng(seed)
    orders = []
    members = CampaignMember.objects.filter(campaign=campaign, customer_id__in=ids).order_by("group", "customer_id")
    for member in members:
        rate = treated_rate if member.group == "treated" else control_rate
        if rng.random() < rate:
            day = float(rng.uniform(0.5, 55.5))
            orders.append(
                Order(
                    customer_id=member.customer_id,
                    external_id=f"GEN-{member.customer_id}",
                    ordered_at=launched_at + timedelta(days=day),
                    amount=Decimal("120.00"),
                    currency="CNY",
                )
            )
        if rng.random() < 0.3:  # an order after the window never counts
            orders.append(
                Order(
                    customer_id=member.customer_id,
                    external_id=f"LATE-{member.customer_id}",
                    ordered_at=launched_at + timedelta(days=60),
                    amount=Decimal("999.00"),
                    currency="CNY",
                )
            )
    Order.objects.bulk_create(orders)
    return campaign


def test_report_recovers_a_planted_effect(users, offer):
    campaign = _generated_campaign(users, offer, n=4000, treated_rate=0.18, control_rate=0.10, seed=1)
    result = selectors.campaign_report(users["analyst"], campaign.pk)
    report = result.report
    assert report.treated.size + report.control.size == 4000
    assert report.control.size == 400
    d = report.return_rate_diff
    assert d.low < 0.08 < d.high
    assert d.low > 0
    assert report.direction == "more"
    # Revenue per member: 120 per returning member, so the true difference is 0.08 * 120 = 9.6.
    assert report.revenue_diff.low < 9.6 < report.revenue_diff.high
    assert result.complete
    assert "more customers per 100" in result.verdict
    assert report.curve_days[-1] == 56 and report.treated_curve[-1] == report.treated.return_rate
    assert report.treated_curve == sorted(report.treated_curve)


def test_report_without_an_effect_contains_zero(users, offer):
    campaign = _generated_campaign(users, offer, n=1000, treated_rate=0.12, control_rate=0.12, seed=5)
    result = selectors.campaign_report(users["admin"], campaign.pk)
    d = result.report.return_rate_diff
    assert d.low < 0 < d.high
    assert "No clear effect" in result.verdict


def test_report_counts_only_members_the_manager_may_see(users, offer, make_customer):
    mine = [make_customer(users["rep"], display_name=f"A{i}") for i in range(6)]
    theirs = [make_customer(users["rep_b"], display_name=f"B{i}") for i in range(4)]
    campaign = services.create_campaign(actor=users["admin"], data={"name": "All", "offer_id": offer.pk})
    services.launch_campaign(actor=users["admin"], campaign_id=campaign.pk)
    assert selectors.campaign_report(users["admin"], campaign.pk).report.treated.size + (
        selectors.campaign_report(users["admin"], campaign.pk).report.control.size
    ) == len(mine) + len(theirs)
    with pytest.raises(NotFound):  # an admin's manual campaign is not the manager's
        selectors.campaign_report(users["manager"], campaign.pk)
    with pytest.raises(NotFound):
        selectors.campaign_report(users["rep"], campaign.pk)


def test_launch_e_mails_only_customers_who_consented(users, offer, make_customer, django_capture_on_commit_callbacks):
    from django.core import mail

    from guanxi.automation.models import EmailTemplate
    from guanxi.privacy.services import record_consent

    EmailTemplate.objects.create(
        key="coupon_mail",
        name="Coupon",
        subject_en="A gift for {{ customer.display_name }}",
        body_en="Your code: {{ coupon.code }}, valid until {{ coupon.expires_on }}.",
    )
    yes = make_customer(users["rep"], display_name="Yes", emails=["yes@example.com"])
    no = make_customer(users["rep"], display_name="No", emails=["no@example.com"])
    held = make_customer(users["rep"], display_name="Held", emails=["held@example.com"])
    for who in (yes, held):
        record_consent(
            actor=users["rep"], customer_id=who.pk, channel="email_marketing", status="granted", source="form"
        )
    ids = [yes.pk, no.pk, held.pk]
    # A seed whose split holds out "Held" and treats the other two.
    seed = next(s for s in range(1000) if services.split(ids, share=Decimal("0.3"), seed=s)[1] == [held.pk])
    data = {"name": "Mail", "offer_id": offer.pk, "control_share": "0.3", "seed": seed, "email_template": "coupon_mail"}
    campaign = services.create_campaign(actor=users["admin"], data=data)
    with django_capture_on_commit_callbacks(execute=True):
        services.launch_campaign(actor=users["admin"], campaign_id=campaign.pk)
    code = Coupon.objects.get(customer=yes, campaign=campaign).code
    assert Coupon.objects.filter(customer=no, campaign=campaign).exists()  # a coupon, but no e-mail
    assert not Coupon.objects.filter(customer=held).exists()
    assert [(m.to, m.subject) for m in mail.outbox] == [(["yes@example.com"], "A gift for Yes")]
    assert code in mail.outbox[0].body


def test_open_coupons_rule_field(users, offer, customer, make_customer):
    from guanxi.core import rules

    other = make_customer(users["rep"], display_name="None")
    services.issue_coupon(actor=users["rep"], offer_id=offer.pk, customer_id=customer.pk)
    rule = rules.parse("open_coupons > 0")
    matched = rules.filter_customers(Customer.objects.filter(pk__in=[customer.pk, other.pk]), rule)
    assert list(matched.values_list("pk", flat=True)) == [customer.pk]
    assert rules.matches(rules.parse("open_coupons == 0"), other.pk)
    later = timezone.now() + timedelta(days=31)
    assert not rules.matches(rule, customer.pk, now=later)

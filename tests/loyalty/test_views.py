"""Pages: the programme overview, the admins' forms, the customer panel's redeem/adjust forms and the timeline."""

import pytest

from guanxi.loyalty import services
from guanxi.loyalty.models import MembershipTier, PointsEntry

pytestmark = pytest.mark.django_db


def test_overview_shows_members_per_tier_and_only_admins_get_the_forms(browser_for, users, customer):
    services.credit_points(customer_id=customer.pk, points=12000, source_key="a", reason="x")
    page = browser_for(users["rep"]).get("/loyalty/")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="members-per-tier"' in html and "data-figure" in html
    assert 'data-testid="edit-tier-gold"' not in html and 'data-testid="campaign-form"' not in html
    admin = browser_for(users["admin"]).get("/loyalty/").content.decode()
    assert 'data-testid="edit-tier-gold"' in admin and 'data-testid="programme-form"' in admin


def test_overview_query_count_is_pinned(browser_for, users, customer, make_customer, django_assert_max_num_queries):
    for n in range(5):
        other = make_customer(users["rep"], display_name=f"M{n}")
        services.credit_points(customer_id=other.pk, points=100 * (n + 1), source_key=f"k{n}", reason="x")
    client = browser_for(users["admin"])
    with django_assert_max_num_queries(12):
        assert client.get("/loyalty/").status_code == 200


def test_an_admin_renames_a_tier_and_a_rep_cannot(browser_for, users):
    gold = MembershipTier.objects.get(key="gold")
    browser_for(users["rep"]).post(f"/loyalty/tiers/{gold.pk}/", {"name": "Hacked"})
    gold.refresh_from_db()
    assert gold.name == "Gold"
    response = browser_for(users["admin"]).post(
        f"/loyalty/tiers/{gold.pk}/", {"name": "Gold member", "name_zh_hans": "金卡", "min_points": "9000"}
    )
    assert response.status_code == 302
    gold.refresh_from_db()
    assert (gold.name, gold.name_zh_hans, gold.min_points) == ("Gold member", "金卡", 9000)
    bad = browser_for(users["admin"]).post(f"/loyalty/tiers/{gold.pk}/", {"min_points": "lots"}, follow=True)
    assert "whole number" in bad.content.decode()


def test_the_customer_panel_redeems_once_per_form_and_adjusts(browser_for, users, customer):
    services.credit_points(customer_id=customer.pk, points=500, source_key="a", reason="Welcome")
    client = browser_for(users["rep"])
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="membership-panel"' in page and 'data-testid="redeem-form"' in page
    for _attempt in range(2):  # a double submit of the same form
        client.post(f"/loyalty/customers/{customer.pk}/redeem/", {"points": "120", "key": "form-1", "reason": "Mug"})
    assert PointsEntry.objects.filter(kind="redeem").count() == 1
    too_much = client.post(f"/loyalty/customers/{customer.pk}/redeem/", {"points": "999", "key": "form-2"}, follow=True)
    assert "does not cover" in too_much.content.decode()
    client.post(f"/loyalty/customers/{customer.pk}/adjust/", {"points": "-30", "key": "f3", "reason": "Fix"})
    assert services.membership_for(customer.pk).balance == 350
    assert (
        browser_for(users["rep_b"])
        .post(f"/loyalty/customers/{customer.pk}/redeem/", {"points": "1", "key": "x"})
        .status_code
        == 404
    )


def test_an_analyst_sees_the_panel_without_forms(browser_for, users, customer):
    from guanxi.loyalty.panels import customer_membership

    class Request:
        user = users["analyst"]

    panel = customer_membership(Request(), customer)
    assert panel["can_edit"] is False


def test_the_timeline_lists_tier_changes_and_redemptions(users, customer):
    from guanxi.loyalty.panels import timeline

    services.credit_points(customer_id=customer.pk, points=3500, source_key="a", reason="x")
    services.redeem_points(actor=users["rep"], customer_id=customer.pk, points=100, source_key="r", reason="Mug")
    items = timeline(users["rep"], customer, before=None, limit=10)
    titles = sorted(item.title for item in items)
    assert titles == ["Redeemed 100 points", "Upgraded to Silver"]

"""Pool, customer page panels, transfer and rule pages through Django's test client."""

from django.test import Client

from guanxi.customers.models import Customer
from guanxi.ownership.models import PoolRule, TransferRequest

HTMX = {"HX-Request": "true"}


def test_pages_need_login(db):
    for url in ("/ownership/", "/ownership/transfers/", "/ownership/rules/", "/notifications/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pool_page_shows_the_teams_pool_only(users, browser_for, pool_customer, teams, rule):
    rule(holding_cap=40, daily_claim_quota=5)
    pool_customer(display_name="Team A lead", company="ACME")
    pool_customer(team=teams[1], display_name="Team B lead")
    page = browser_for(users["rep"]).get("/ownership/").content.decode()
    assert "Team A lead" in page and "ACME" in page and "Team B lead" not in page
    assert "You hold 0 of at most 40 customers." in page and "Claimed today: 0 of 5." in page
    assert 'data-testid="nav-pool"' in page
    other = browser_for(users["rep_b"]).get("/ownership/").content.decode()
    assert "Team A lead" not in other and "Team B lead" in other


def test_pool_page_query_count_does_not_grow_with_rows(
    users, browser_for, pool_customer, django_assert_max_num_queries
):
    for i in range(30):
        pool_customer(display_name=f"Lead {i}")
    client = browser_for(users["rep"])
    with django_assert_max_num_queries(12):
        assert client.get("/ownership/").status_code == 200


def test_htmx_claim_replaces_the_button_with_the_outcome(users, browser_for, pool_customer):
    customer = pool_customer()
    won = browser_for(users["rep"]).post(f"/ownership/customers/{customer.pk}/claim/", {"from": "pool"}, headers=HTMX)
    body = won.content.decode()
    assert won.status_code == 200 and "Yours now." in body and 'hx-swap-oob="true"' in body and "<html" not in body
    lost = browser_for(users["rep2"]).post(f"/ownership/customers/{customer.pk}/claim/", {"from": "pool"}, headers=HTMX)
    assert "rep claimed it first." in lost.content.decode()
    assert Customer.objects.get(pk=customer.pk).owner_id == users["rep"].pk


def test_claim_without_htmx_redirects_to_the_customer(users, browser_for, pool_customer):
    customer = pool_customer()
    response = browser_for(users["rep"]).post(f"/ownership/customers/{customer.pk}/claim/")
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert browser_for(users["rep"]).get(f"/ownership/customers/{customer.pk}/claim/").status_code == 405


def test_customer_page_has_history_and_actions(users, browser_for, make_customer):
    customer = make_customer(users["rep"])
    page = browser_for(users["rep"]).get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="ownership-history"' in page and "created" in page
    assert 'data-testid="release-customer"' in page and 'data-testid="request-transfer"' in page


def test_transfer_form_queue_and_approval(users, browser_for, make_customer):
    customer = make_customer(users["rep"])
    rep = browser_for(users["rep"])
    form = rep.get(f"/ownership/customers/{customer.pk}/transfer/")
    assert form.status_code == 200 and "rep2" in form.content.decode()
    assert browser_for(users["rep_b"]).get(f"/ownership/customers/{customer.pk}/transfer/").status_code == 404
    response = rep.post(
        f"/ownership/customers/{customer.pk}/transfer/", {"to_user": users["rep2"].pk, "reason": "moving"}
    )
    assert response.status_code == 302
    request = TransferRequest.objects.get(customer=customer)
    assert 'data-testid="transfer-pending"' in rep.get(f"/customers/{customer.pk}/").content.decode()
    manager = browser_for(users["manager"])
    queue = manager.get("/ownership/transfers/").content.decode()
    assert 'data-testid="transfer-queue"' in queue and "moving" in queue
    assert rep.post(f"/ownership/transfers/{request.pk}/approve/").status_code == 404
    assert manager.post(f"/ownership/transfers/{request.pk}/approve/").status_code == 302
    assert Customer.objects.get(pk=customer.pk).owner_id == users["rep2"].pk
    assert manager.post(f"/ownership/transfers/{request.pk}/bogus/").status_code == 404


def test_release_from_the_customer_page(users, browser_for, make_customer):
    customer = make_customer(users["rep"])
    response = browser_for(users["rep"]).post(f"/ownership/customers/{customer.pk}/release/")
    assert response.status_code == 302 and response["Location"] == "/ownership/"
    assert Customer.objects.get(pk=customer.pk).owner_id is None
    assert browser_for(users["rep2"]).post(f"/ownership/customers/{customer.pk}/release/").status_code == 404


def test_rules_pages(users, browser_for, teams):
    assert browser_for(users["rep"]).get("/ownership/rules/").status_code == 404
    assert browser_for(users["manager"]).get(f"/ownership/rules/{teams[1].pk}/").status_code == 404
    manager = browser_for(users["manager"])
    assert "Team A" in manager.get("/ownership/rules/").content.decode()
    form = {
        "version": 1,
        "assignment": "territory",
        "territories": "华东 |  | rep\n",
        "daily_claim_quota": 3,
        "holding_cap": "",
        "release_after_days": 30,
        "warning_days": 3,
        "protection_days": 2,
    }
    bad = manager.post(f"/ownership/rules/{teams[0].pk}/", {**form, "territories": "华东 | | rep_b"})
    assert bad.status_code == 200 and "not an active member" in bad.content.decode()
    assert manager.post(f"/ownership/rules/{teams[0].pk}/", form).status_code == 302
    rule = PoolRule.objects.get(team=teams[0])
    assert (rule.assignment, rule.daily_claim_quota, rule.holding_cap, rule.protection_days) == (
        "territory",
        3,
        None,
        2,
    )
    assert rule.territories == [{"region": "华东", "industry": "", "user_id": users["rep"].pk}]
    stale = manager.post(f"/ownership/rules/{teams[0].pk}/", form)
    assert stale.status_code == 200 and "Someone else changed this record" in stale.content.decode()

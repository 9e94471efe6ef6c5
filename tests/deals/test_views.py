import pytest
from django.urls import reverse

from guanxi.deals.models import Deal


@pytest.fixture
def deal(users, make_customer, make_deal):
    return make_deal(users["rep"], make_customer(users["rep"], display_name="Acme Tea"), title="Tea order")


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("deals:board"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_support_and_analyst_have_no_board(users, browser_for):
    for role in ("support", "analyst"):
        assert browser_for(users[role]).get(reverse("deals:board")).status_code == 404


def test_board_shows_only_the_reps_own_deals(users, make_customer, make_deal, deal, browser_for, stages):
    other = make_deal(users["rep2"], make_customer(users["rep2"]), title="Not yours")
    page = browser_for(users["rep"]).get(reverse("deals:board"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="deal-{deal.pk}"' in html and "Tea order" in html
    assert f'data-testid="deal-{other.pk}"' not in html
    columns = {c["stage"].key: c for c in page.context["columns"]}
    assert columns["qualification"]["count"] == 1 and columns["qualification"]["value"] == deal.value
    manager_page = browser_for(users["manager"]).get(reverse("deals:board"))
    assert f'data-testid="deal-{other.pk}"' in manager_page.content.decode()


def test_board_query_count_does_not_grow_with_deals(
    users, make_customer, make_deal, browser_for, deal, django_assert_max_num_queries
):
    customer = make_customer(users["rep"])
    for i in range(15):
        make_deal(users["rep"], customer, title=f"D{i}")
    client = browser_for(users["rep"])
    client.get(reverse("deals:board"))
    with django_assert_max_num_queries(12):
        client.get(reverse("deals:board"))


def test_htmx_move_returns_the_board_with_new_totals(users, deal, browser_for, stages):
    response = browser_for(users["rep"]).post(
        reverse("deals:move", args=[deal.pk]),
        {"stage_id": stages["proposal"].pk, "version": deal.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    columns = {c["stage"].key: c for c in response.context["columns"]}
    assert columns["proposal"]["count"] == 1 and columns["qualification"]["count"] == 0
    assert columns["proposal"]["weighted"] == deal.value / 2
    assert Deal.objects.get(pk=deal.pk).stage == stages["proposal"]
    assert 'data-testid="board-error"' not in response.content.decode()


def test_stale_htmx_move_shows_the_conflict_message(users, deal, browser_for, stages):
    client = browser_for(users["rep"])
    client.post(reverse("deals:move", args=[deal.pk]), {"stage_id": stages["proposal"].pk, "version": 1})
    stale = client.post(
        reverse("deals:move", args=[deal.pk]),
        {"stage_id": stages["negotiation"].pk, "version": 1},
        HTTP_HX_REQUEST="true",
    )
    html = stale.content.decode()
    assert "This deal was changed by someone else; the board has been refreshed." in html
    assert "deal-move-refused" in stale["HX-Trigger"]
    # The refreshed board shows the deal where it really is, with its current version.
    assert 'data-version="2"' in html
    assert Deal.objects.get(pk=deal.pk).stage == stages["proposal"]


def test_rep_cannot_move_another_reps_deal_from_the_board(users, deal, browser_for, stages):
    response = browser_for(users["rep2"]).post(
        reverse("deals:move", args=[deal.pk]), {"stage_id": stages["proposal"].pk, "version": 1}
    )
    assert response.status_code == 404
    assert Deal.objects.get(pk=deal.pk).stage == stages["qualification"]


def test_no_js_move_redirects_with_a_message(users, deal, browser_for, stages, reason):
    client = browser_for(users["rep"])
    response = client.post(
        reverse("deals:move", args=[deal.pk]), {"stage_id": stages["lost"].pk, "version": 1}, follow=True
    )
    assert "Choose why the deal was lost." in response.content.decode()
    client.post(
        reverse("deals:move", args=[deal.pk]),
        {"stage_id": stages["lost"].pk, "version": 1, "lost_reason_id": reason.pk},
    )
    assert Deal.objects.get(pk=deal.pk).lost_reason == reason


def test_detail_edit_and_history(users, deal, browser_for):
    client = browser_for(users["rep"])
    page = client.get(reverse("deals:detail", args=[deal.pk]))
    assert page.status_code == 200 and len(page.context["history"]) == 1
    response = client.post(
        reverse("deals:detail", args=[deal.pk]),
        {"version": 1, "title": "Bigger tea order", "value": "2500", "currency": "CNY", "probability": "20"},
    )
    assert response.status_code == 302
    saved = Deal.objects.get(pk=deal.pk)
    assert saved.title == "Bigger tea order" and saved.probability == 20
    stale = client.post(
        reverse("deals:detail", args=[deal.pk]), {"version": 1, "title": "x", "value": "1", "currency": "CNY"}
    )
    assert stale.status_code == 200 and "Someone else changed this record" in stale.content.decode()
    assert browser_for(users["rep2"]).get(reverse("deals:detail", args=[deal.pk])).status_code == 404


def test_win_and_reopen_buttons(users, deal, browser_for):
    client = browser_for(users["rep"])
    client.post(reverse("deals:win", args=[deal.pk]), {"version": 1})
    assert Deal.objects.get(pk=deal.pk).won_at is not None
    client.post(reverse("deals:reopen", args=[deal.pk]), {"version": 2})
    assert Deal.objects.get(pk=deal.pk).won_at is None


def test_new_deal_from_the_customer_page(users, make_customer, browser_for):
    customer = make_customer(users["rep"], display_name="Li Na")
    client = browser_for(users["rep"])
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    html = page.content.decode()
    assert 'data-testid="deals-panel"' in html and 'data-testid="customer-new-deal"' in html
    form = client.get(reverse("deals:create") + f"?customer={customer.pk}")
    assert form.status_code == 200
    response = client.post(
        reverse("deals:create") + f"?customer={customer.pk}",
        {"customer_id": customer.pk, "title": "Annual plan", "value": "800", "currency": "CNY"},
    )
    assert response.status_code == 302
    deal = Deal.objects.get(title="Annual plan")
    assert deal.customer == customer and deal.owner == users["rep"]
    assert "Annual plan" in client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    # Someone else's customer: the form is not even shown.
    other = make_customer(users["rep2"])
    assert client.get(reverse("deals:create") + f"?customer={other.pk}").status_code == 404


def test_leads_lists_potential_customers(users, make_customer, browser_for):
    from guanxi.lifecycle.models import CustomerStage

    customer = make_customer(users["rep"], display_name="Prospect Wang")
    stage = CustomerStage.objects.filter(customer=customer).first()
    if stage is None or stage.stage != "potential":
        pytest.fail(f"a new customer without orders should be potential, got {stage and stage.stage}")
    page = browser_for(users["rep"]).get(reverse("deals:leads"))
    assert "Prospect Wang" in page.content.decode()
    assert "Prospect Wang" not in browser_for(users["rep_b"]).get(reverse("deals:leads")).content.decode()


def test_analytics_page_for_each_role(users, deal, browser_for):
    for role in ("rep", "manager", "analyst", "admin"):
        page = browser_for(users[role]).get(reverse("deals:analytics"))
        assert page.status_code == 200, role
        assert 'data-testid="funnel"' in page.content.decode()
    assert browser_for(users["support"]).get(reverse("deals:analytics")).status_code == 404
    # An analyst sees figures, never customer names.
    assert "Acme Tea" not in browser_for(users["analyst"]).get(reverse("deals:analytics")).content.decode()


def test_pipeline_settings_admin_only(users, browser_for, pipeline):
    assert browser_for(users["manager"]).get(reverse("deals:pipelines")).status_code == 404
    client = browser_for(users["admin"])
    assert client.get(reverse("deals:pipelines")).status_code == 200
    client.post(
        reverse("deals:pipelines"),
        {
            "pipeline": pipeline.pk,
            "key": "demo",
            "name": "Demo",
            "name_zh_hans": "演示",
            "order": 15,
            "probability": 20,
        },
    )
    assert pipeline.stages.filter(key="demo", probability=20).exists()
    client.post(
        reverse("deals:pipelines"), {"pipeline": pipeline.pk, "action": "record_order", "record_order_on_win": "on"}
    )
    pipeline.refresh_from_db()
    assert pipeline.record_order_on_win

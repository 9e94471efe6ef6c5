"""The deal journey in real Chromium: a rep drags a deal onto Won on the kanban board; the column totals change,
the order is recorded (the pipeline records orders on a win), and the customer's page shows the points earned on
it and the tier they reached. A second rep's drag of a card someone else moved meanwhile is refused with the
conflict message, and the board shows the deal where it really is."""

import importlib

import pytest
from playwright.sync_api import Page, expect

from guanxi.accounts import services as accounts
from guanxi.commerce.models import Order
from guanxi.customers import services as customers
from guanxi.deals import services as deals
from guanxi.deals.models import Deal, DealStage, Pipeline
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e


def _seed_defaults() -> None:
    """A transactional test before this one flushes the rows the data migrations seeded (the Sales pipeline, lost
    reasons, membership tiers); put them back as the migrations would (both are idempotent)."""
    from django.apps import apps

    from guanxi.loyalty.programme import ensure_defaults

    importlib.import_module("guanxi.deals.migrations.0002_defaults").seed(apps, None)
    ensure_defaults()


PASSWORD = "Lantern-Harbour-2718"


@pytest.fixture
def setup(live_server):
    _seed_defaults()
    team = accounts.create_team(name="North sales")
    rep = accounts.create_user(
        username="xiaoming", role="sales", team=team, password=PASSWORD, check_password_strength=False
    )
    pipeline = Pipeline.objects.get(is_default=True)
    Pipeline.objects.filter(pk=pipeline.pk).update(record_order_on_win=True)
    customer = customers.create_customer(actor=rep, data={"display_name": "Jade River Hotels"})
    negotiation = DealStage.objects.get(pipeline=pipeline, key="negotiation")
    deal = deals.create_deal(
        actor=rep,
        data={
            "customer_id": customer.pk,
            "title": "Hotel amenities 2027",
            "value": "6000",
            "currency": "CNY",
            "stage_id": negotiation.pk,
        },
    )
    return rep, customer, deal


def test_rep_drags_a_deal_to_won_and_the_customer_earns_points(page: Page, live_server, setup):
    rep, customer, deal = setup
    log_in(page, live_server.url, rep.username, PASSWORD)
    page.goto(f"{live_server.url}/deals/")
    card = page.get_by_test_id(f"deal-{deal.pk}")
    expect(page.get_by_test_id("column-negotiation")).to_contain_text("Hotel amenities 2027")
    expect(page.get_by_test_id("count-won")).to_have_text("0")

    card.drag_to(page.get_by_test_id("column-won"))

    expect(page.get_by_test_id("column-won").get_by_test_id(f"deal-{deal.pk}")).to_be_visible()
    expect(page.get_by_test_id("count-won")).to_have_text("1")
    expect(page.get_by_test_id("count-negotiation")).to_have_text("0")
    expect(page.get_by_test_id("board-error")).to_have_count(0)
    won = Deal.objects.get(pk=deal.pk)
    assert won.stage.kind == "won" and won.order is not None
    assert Order.objects.get(external_id=f"DEAL-{deal.pk}").amount == won.value

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    # Loyalty credits 1 point per yuan on order.placed: 6,000 points reach Silver (3,000 points).
    expect(page.get_by_test_id("points-balance")).to_contain_text("6,000 points")
    expect(page.get_by_test_id("member-tier")).to_have_text("Silver")
    expect(page.get_by_test_id("customer-deals")).to_contain_text("Hotel amenities 2027")
    assert page.js_errors == []


def test_a_stale_drag_shows_the_conflict_and_refreshes_the_board(page: Page, live_server, setup):
    rep, _customer, deal = setup
    log_in(page, live_server.url, rep.username, PASSWORD)
    page.goto(f"{live_server.url}/deals/")
    expect(page.get_by_test_id(f"deal-{deal.pk}")).to_be_visible()
    # Meanwhile the deal moves elsewhere (another tab, the API, a manager).
    proposal = DealStage.objects.get(pipeline=deal.pipeline, key="proposal")
    deals.move_deal(actor=rep, deal_id=deal.pk, stage_id=proposal.pk, version=deal.version)

    page.get_by_test_id(f"deal-{deal.pk}").drag_to(page.get_by_test_id("column-won"))

    expect(page.get_by_test_id("board-error")).to_have_text(
        "This deal was changed by someone else; the board has been refreshed."
    )
    expect(page.get_by_test_id("column-proposal").get_by_test_id(f"deal-{deal.pk}")).to_be_visible()
    expect(page.get_by_test_id("count-won")).to_have_text("0")
    assert Deal.objects.get(pk=deal.pk).stage_id == proposal.pk
    assert not Order.objects.filter(external_id=f"DEAL-{deal.pk}").exists()

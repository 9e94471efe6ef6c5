"""A manager writes a rule in real Chromium: a typo in the condition is shown under the field with its position,
the dry run lists who would match, the saved rule appears in the list."""

import json

import pytest
from playwright.sync_api import Page, expect

from guanxi.accounts import services as accounts
from guanxi.customers import services as customers
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e

PASSWORD = "Lantern-Harbour-2718"


@pytest.fixture
def manager(live_server):
    team = accounts.create_team(name="East sales")
    boss = accounts.create_user(
        username="boss", role="manager", team=team, password=PASSWORD, check_password_strength=False
    )
    team.managers.add(boss)
    for name, tags in (("Jade Tea House", ["vip"]), ("Plain Shop", [])):
        customers.create_customer(actor=boss, data={"display_name": name, "tags": tags, "owner_id": boss.pk})
    return boss


def test_manager_writes_a_rule_with_a_dry_run(new_page, live_server, manager):
    page: Page = new_page()
    log_in(page, live_server.url, manager.username, PASSWORD)
    page.get_by_role("link", name="Automation", exact=True).click()
    page.get_by_test_id("new-rule").click()
    page.locator("#id_name").fill("VIP welcome")
    page.locator("#id_trigger").select_option("customer.updated")
    page.locator("#id_condition").fill('tags has "vip" and and')
    page.locator("#id_actions").fill(json.dumps([{"type": "add_tag", "tag": "welcomed"}]))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("field-condition")).to_contain_text("line 1, column 20")

    page.locator("#id_condition").fill('tags has "vip"')
    page.get_by_test_id("dry-run").click()
    result = page.get_by_test_id("dry-run-result").last
    expect(result).to_contain_text("1 customer you can see matches now.")
    expect(result).to_contain_text("Jade Tea House")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("rules")).to_contain_text("VIP welcome")
    assert page.js_errors == []

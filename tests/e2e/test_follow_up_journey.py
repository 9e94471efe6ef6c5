"""The follow-up journey in real Chromium: a rep with an overdue follow-up opens My follow-ups, clicks through to
the customer, logs a call (two clicks and a subject), and the follow-up is done: gone from the overdue list and on
the customer's timeline together with the call."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from guanxi.accounts import services as accounts
from guanxi.customers import services as customers
from guanxi.followups import services as followups
from guanxi.followups.models import FollowUp
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e

PASSWORD = "Lantern-Harbour-2718"
TITLE = "Quarterly check-in"
SUBJECT = "Talked about the spring order"


@pytest.fixture
def setup(live_server):
    team = accounts.create_team(name="East sales")
    rep = accounts.create_user(
        username="meiling", role="sales", team=team, password=PASSWORD, check_password_strength=False
    )
    customer = customers.create_customer(actor=rep, data={"display_name": "Harbour Trading"})
    follow_up = followups.create_follow_up(
        actor=rep, customer_id=customer.pk, title=TITLE, due_on=timezone.localdate() - timedelta(days=2)
    )
    return rep, customer, follow_up


def test_rep_completes_an_overdue_follow_up_by_logging_a_call(page: Page, live_server, setup):
    rep, customer, follow_up = setup
    log_in(page, live_server.url, rep.username, PASSWORD)

    page.get_by_role("link", name="Follow-ups", exact=True).click()
    overdue = page.get_by_test_id("section-overdue")
    expect(overdue).to_contain_text(TITLE)
    expect(page.get_by_test_id("follow-up-counts")).to_contain_text("1 overdue")

    overdue.get_by_test_id("open-customer").click()
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/?follow_up={follow_up.pk}")
    expect(page.get_by_test_id("completing-follow-up")).to_be_visible()

    page.get_by_test_id("log-phone").click()
    form = page.get_by_test_id("interaction-form")
    form.get_by_label("Subject").fill(SUBJECT)
    form.get_by_test_id("save-interaction").click()

    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text(SUBJECT)
    page.reload()
    expect(page.get_by_test_id("timeline")).to_contain_text(f"Follow-up done: {TITLE}")
    expect(page.get_by_test_id("customer-follow-ups")).not_to_contain_text(TITLE)

    page.get_by_role("link", name="Follow-ups", exact=True).click()
    expect(page.get_by_test_id("section-overdue")).not_to_contain_text(TITLE)
    expect(page.get_by_test_id("section-done")).to_contain_text(TITLE)
    done = FollowUp.objects.get(pk=follow_up.pk)
    assert done.status == "done" and done.interaction is not None and done.interaction.subject == SUBJECT
    assert page.js_errors == []

"""The two-click log in real Chromium: a channel button opens the form with the subject focused, Save puts the
new entry at the top of the timeline; the "older" button and the kind filters work through HTMX."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from guanxi.accounts import services as accounts
from guanxi.customers import services as customers
from guanxi.engagement import services
from guanxi.engagement.models import Interaction
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e
PASSWORD = "a long test password 1"


def test_log_a_call_in_two_clicks_and_page_the_timeline(new_page, live_server, settings, tmp_path):
    page: Page = new_page()
    settings.MEDIA_ROOT = tmp_path
    team = accounts.create_team(name="East")
    rep = accounts.create_user(
        username="lihua", role="sales", team=team, password=PASSWORD, check_password_strength=False
    )
    customer = customers.create_customer(actor=rep, data={"display_name": "王小明"})
    now = timezone.now()
    for n in range(21):
        services.log_interaction(
            actor=rep,
            customer_id=customer.pk,
            channel="email",
            subject=f"Mail {n:02d}",
            occurred_at=now - timedelta(days=n + 1),
        )
    log_in(page, live_server.url, "lihua", PASSWORD)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")

    page.get_by_test_id("log-phone").click()  # click 1
    subject = page.get_by_test_id("interaction-subject")
    expect(subject).to_be_focused()
    expect(page.get_by_test_id("interaction-channel")).to_have_value("phone")
    subject.fill("Asked for the spring catalogue")
    page.get_by_test_id("save-interaction").click()  # click 2

    first = page.get_by_test_id("timeline-item").first
    expect(first).to_contain_text("Asked for the spring catalogue")
    expect(page.get_by_test_id("interaction-form")).to_have_count(0)
    assert Interaction.objects.filter(subject="Asked for the spring catalogue", author=rep).exists()

    # Edit it in place, then delete it (confirming the dialog).
    first.get_by_test_id("edit-interaction").click()
    page.get_by_test_id("edit-subject").fill("Asked for the summer catalogue")
    page.get_by_test_id("save-edit").click()
    expect(page.get_by_test_id("timeline-item").first).to_contain_text("Asked for the summer catalogue")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("timeline-item").first.get_by_test_id("delete-interaction").click()
    expect(page.get_by_text("Asked for the summer catalogue")).to_have_count(0)
    assert not Interaction.objects.filter(subject__contains="catalogue").exists()

    # Only interactions (other apps add their own sources and checkboxes).
    for box in page.locator("[data-testid^=timeline-kind-]").all():
        if box.get_attribute("value") != "interactions":
            box.uncheck()
    expect(page.locator("[data-testid=timeline-item]:not([data-kind=interactions])")).to_have_count(0)
    expect(page.get_by_test_id("timeline-item")).to_have_count(20)
    # Each unchecked box reloads the list (there are many sources now): let the last reload land before paging.
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("timeline-item")).to_have_count(20)
    page.get_by_test_id("timeline-older").click()
    expect(page.get_by_test_id("timeline-item")).to_have_count(21)
    expect(page.get_by_test_id("timeline-item").last).to_contain_text("Mail 20")
    expect(page.get_by_test_id("timeline-older")).to_have_count(0)
    assert page.js_errors == []

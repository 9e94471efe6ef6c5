"""The service journey in real Chromium: a customer sends the public help form, a support agent takes the ticket,
answers and resolves it, the customer follows the survey link of the e-mail the resolution sent and gives CSAT 5,
and the agent's scorecard on /service-quality/ shows that answer.

The live server runs in this process, so the survey e-mail is in ``django.core.mail.outbox`` (only a digest of the
link's token is stored)."""

import importlib
import re

import pytest
from django.apps import apps
from django.core import mail
from playwright.sync_api import Page, expect

from guanxi.accounts import services as accounts
from tests.e2e.support import log_in

pytestmark = pytest.mark.e2e

PASSWORD = "Teapot-Meridian-5150"
EMAIL = "wang.fang@example.com"
SUBJECT = "The kettle lid does not close"


def _seed_defaults() -> None:
    """A transactional test before this one flushes the rows the data migrations seeded (categories, the general
    queue, the after-ticket survey); put them back, as the migrations would (both are get_or_create)."""
    for module, function in (
        ("guanxi.tickets.migrations.0002_default_categories", "seed"),
        ("guanxi.surveys.migrations.0002_default_surveys", "create"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def agent(live_server):
    from guanxi.tickets.models import Queue

    _seed_defaults()
    team = accounts.create_team(name="Shanghai service")
    agent = accounts.create_user(
        username="xiaohong", role="support", team=team, password=PASSWORD, check_password_strength=False
    )
    # The public form files new customers' tickets in the queue without a team; make it this team's desk.
    Queue.objects.filter(active=True, team__isnull=True).update(team=team)
    return agent


def test_public_request_to_csat_on_the_agents_scorecard(new_page, live_server, agent):
    from guanxi.surveys.models import Question, Response
    from guanxi.tickets.models import Ticket

    # 1. The customer writes in.
    customer = new_page()
    customer.goto(f"{live_server.url}/help/?lang=en")
    form = customer.get_by_test_id("help-form")
    form.get_by_label("Your name").fill("Wang Fang")
    form.get_by_label("E-mail").fill(EMAIL)
    form.get_by_label("Subject").fill(SUBJECT)
    form.get_by_label("How can we help?").fill("Bought last week; the lid springs open while boiling.")
    form.get_by_label("Category").select_option("after_sales")
    form.get_by_role("button", name="Send").click()
    expect(customer.get_by_test_id("help-status")).to_contain_text(SUBJECT)
    ticket = Ticket.objects.get(subject=SUBJECT)

    # 2. The agent takes it, answers and resolves it.
    staff: Page = new_page()
    log_in(staff, live_server.url, agent.username, PASSWORD)
    staff.goto(f"{live_server.url}/tickets/")
    row = staff.get_by_test_id("ticket-row").filter(has_text=SUBJECT)
    row.get_by_role("link", name=ticket.number).click()
    expect(staff.get_by_test_id("ticket-status")).to_have_text("New")
    details = staff.get_by_test_id("update-form")
    details.get_by_label("Assignee").select_option(str(agent.pk))
    details.get_by_role("button", name="Save").click()
    expect(staff.get_by_test_id("update-form").get_by_label("Assignee")).to_have_value(str(agent.pk))
    reply = staff.get_by_test_id("reply-form")
    reply.locator("#reply-body").fill("Sorry about that: a new lid is on its way, it should arrive on Thursday.")
    reply.get_by_role("button", name="Send").click()
    expect(staff.get_by_test_id("ticket-status")).to_have_text("Open")
    staff.get_by_test_id("status-resolved").click()
    expect(staff.get_by_test_id("ticket-status")).to_have_text("Resolved")
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk and ticket.first_response_at is not None

    # 3. The resolution e-mailed the customer a survey link; they give CSAT 5.
    [invitation_mail] = [m for m in mail.outbox if EMAIL in m.to and "/survey/" in m.body]
    path = re.search(r"/survey/[\w-]+/", invitation_mail.body).group(0)
    customer.goto(f"{live_server.url}{path}?lang=en")
    survey = customer.get_by_test_id("survey-form")
    for question in Question.objects.filter(survey__key="after_ticket", kind__in=("csat", "ces")):
        score = "5"
        survey.locator(f"fieldset#q{question.pk} label:has(input[value='{score}'])").click()
    survey.get_by_test_id("survey-submit").click()
    expect(customer.locator("body")).not_to_contain_text("Some answers need your attention.")
    response = Response.objects.get(ticket_id=ticket.pk)
    assert (response.csat, response.agent_id) == (5, agent.pk)

    # 4. The agent's own scorecard shows the answer.
    staff.goto(f"{live_server.url}/service-quality/")
    staff.get_by_role("link", name="Scorecards").click()
    row = staff.get_by_test_id("scorecards").locator(f"tr[data-agent='{agent.pk}']")
    expect(row.get_by_test_id("csat")).to_have_text("5.0")
    expect(row).to_contain_text("1")
    # The public pages link no favicon (a console 404); script errors are what matters there.
    assert [e for e in customer.js_errors if e.startswith("pageerror")] == [] and staff.js_errors == []

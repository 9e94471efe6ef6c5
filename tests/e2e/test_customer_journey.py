"""The acceptance journey in real Chromium: a sales rep logs in, switches to Chinese, finds a customer by part
of a Chinese name, edits the company and sees the change in the customer's history."""

import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from guanxi.accounts import services as accounts
from guanxi.accounts.models import User
from guanxi.core.models import AuditEntry
from guanxi.customers import services as customers
from guanxi.customers.models import Customer
from guanxi.customers.normalize import has_cjk
from tests.e2e.support import PHONE, log_in, switch_language

pytestmark = pytest.mark.e2e

PASSWORD = "Lantern-Harbour-2718"
OLD_COMPANY, NEW_COMPANY = "星辰科技", "银河软件有限公司"


def zh(message: str) -> str:
    """``message`` as the zh-Hans catalogue translates it (the message itself if it has no translation)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def zh_field_label(name: str) -> str:
    with translation.override("zh-hans"):
        return str(Customer._meta.get_field(name).verbose_name)


@dataclass
class Journey:
    rep: User
    wang: Customer  # the rep's customer with a Chinese name
    others: list[Customer]  # the rep's other customers
    hidden: Customer  # another rep's customer, also matching "小明": the rep must never see it


@pytest.fixture
def journey(live_server) -> Journey:
    """Rows committed through the services (``live_server`` makes the test transactional)."""
    team = accounts.create_team(name="华东销售部")
    rep = accounts.create_user(
        username="lihua",
        role="sales",
        team=team,
        password=PASSWORD,
        display_name="李华",
        check_password_strength=False,
    )
    colleague = accounts.create_user(
        username="zhaolei", role="sales", team=team, password=PASSWORD, check_password_strength=False
    )
    others = [
        customers.create_customer(
            actor=rep,
            data={
                "display_name": "Alice Chen",
                "company": "Harbour Trading",
                "emails": ["alice@harbour.example"],
            },
        ),
        customers.create_customer(
            actor=rep,
            data={
                "family_name": "张",
                "given_name": "伟",
                "company": "张氏贸易",
                "phones": ["021 6234 5678"],
            },
        ),
    ]
    # Every field the edit form shows is filled in, so the form's round trip must keep them all unchanged.
    wang = customers.create_customer(
        actor=rep,
        data={
            "display_name": "王小明",
            "family_name": "王",
            "given_name": "小明",
            "company": OLD_COMPANY,
            "emails": ["xiaoming.wang@xingchen.example"],
            "phones": ["+86 138 1234 5678"],
            "wechat_id": "wxm_88",
            "industry": "软件",
            "region": "上海",
            "address": "上海市浦东新区世纪大道 100 号",
            "source": "referral",
            "tags": ["VIP", "华东"],
        },
    )
    hidden = customers.create_customer(actor=colleague, data={"display_name": "赵小明", "company": "月光贸易"})
    return Journey(rep=rep, wang=wang, others=others, hidden=hidden)


def test_rep_finds_and_edits_a_customer_in_chinese(page: Page, live_server, journey: Journey):
    base = live_server.url
    results = page.locator("#results")
    rows = results.locator("tbody tr")
    assert Customer.objects.get(pk=journey.wang.pk).version == 1

    # Log in through the form; the first page is the dashboard, in English.
    log_in(page, base, "lihua", PASSWORD)
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.locator("nav.mainnav")
    expect(nav.get_by_role("link", name="Customers", exact=True)).to_be_visible()

    # Switch to Chinese with the header's language buttons.
    switch_language(page, "zh-hans")
    expect(page).to_have_url(f"{base}/")
    customers_label = zh("Customers")
    assert has_cjk(customers_label), (
        f"no zh-Hans translation of 'Customers' ({customers_label!r}): compile the catalogue (make install)"
    )
    expect(nav.get_by_role("link", name=customers_label, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Customers", exact=True)).to_have_count(0)

    # The customer list: the rep's three customers, never the colleague's.
    nav.get_by_role("link", name=customers_label, exact=True).click()
    # "load": HTMX (a deferred script) has wired up the filter form, so typing in it triggers a search.
    page.wait_for_url(f"{base}/customers/", wait_until="load")
    expect(rows).to_have_count(3)
    for customer in [journey.wang, *journey.others]:
        expect(results.get_by_role("link", name=customer.display_name, exact=True)).to_be_visible()
    expect(results).not_to_contain_text(journey.hidden.display_name)

    # Search by part of the Chinese name: HTMX replaces #results (and pushes the URL) after a short delay.
    search = page.get_by_test_id("customer-search")

    def is_search(response) -> bool:
        return "/customers/?" in response.url and f"q={quote('小明')}" in response.url

    with page.expect_response(is_search) as response:
        search.press_sequentially("小明", delay=50)  # typed: one search after the last key (300 ms debounce)
    assert response.value.ok
    assert response.value.request.headers.get("hx-request") == "true"
    expect(page).to_have_url(re.compile(re.escape(f"q={quote('小明')}")))
    expect(rows).to_have_count(1)
    match = results.get_by_role("link", name="王小明", exact=True)
    expect(match).to_be_visible()
    expect(results).to_contain_text(OLD_COMPANY)
    expect(results).not_to_contain_text(journey.hidden.display_name)
    expect(results).not_to_contain_text(journey.hidden.company)
    # Leaving the box fires `change`, which the filter form also listens to: the same search runs again and
    # swaps #results once more. Let it finish (HTMX marks the form with .htmx-request while a request is in
    # flight), so that it cannot replace the link while it is being clicked.
    search.blur()
    expect(page.locator("form.filters")).not_to_have_class(re.compile(r"\bhtmx-request\b"))
    expect(rows).to_have_count(1)

    # Open the customer.
    match.click()
    detail_url = f"{base}{reverse('customers:detail', args=[journey.wang.pk])}"
    page.wait_for_url(detail_url, wait_until="load")  # HTMX has wired up the Edit button
    expect(page.get_by_test_id("customer-name")).to_have_text("王小明")
    expect(page.get_by_test_id("field-company")).to_have_text(OLD_COMPANY)

    # Edit: HTMX loads the form into the panel in place of the fields.
    page.get_by_test_id("edit-customer").click()
    form = page.locator("#customer-panel").get_by_test_id("customer-form")
    expect(form).to_be_visible()
    company = form.locator("input[name=company]")
    expect(company).to_have_value(OLD_COMPANY)
    expect(page).to_have_url(detail_url)  # still the detail page: the form came in by HTMX
    company.fill(NEW_COMPANY)
    # Saved: the view answers HX-Redirect and HTMX loads the detail page again (same URL, a new document).
    with page.expect_navigation(url=detail_url):
        form.get_by_test_id("save-customer").click()

    # The detail page shows the new company and the change in the history.
    expect(page.get_by_test_id("field-company")).to_have_text(NEW_COMPANY)
    expect(page.locator("#messages")).to_contain_text(zh("Changes saved."))
    company_label = zh_field_label("company")
    assert has_cjk(company_label)
    trail = page.get_by_test_id("audit-trail")
    expect(trail).to_be_visible()
    # The newest entry comes first: the update by this rep, one change "公司: <del>old</del> → <ins>new</ins>".
    newest = trail.locator(":scope > li").first
    expect(newest).to_contain_text(zh("updated"))
    expect(newest).to_contain_text(str(journey.rep))
    change = newest.locator("ul.changes > li")
    expect(change).to_have_count(1)
    expect(change).to_contain_text(company_label)
    expect(change.locator("del")).to_have_text(OLD_COMPANY)
    expect(change.locator("ins")).to_have_text(NEW_COMPANY)

    # In the database: one new version and exactly one audit entry, with the company as the only change.
    wang = Customer.objects.get(pk=journey.wang.pk)
    assert (journey.wang.version, wang.version) == (1, 2)
    assert wang.company == NEW_COMPANY
    updates = AuditEntry.objects.filter(
        subject_type=Customer._meta.label_lower, subject_id=wang.pk, action=AuditEntry.Action.UPDATE
    )
    assert updates.count() == 1
    entry = updates.get()
    assert entry.actor_id == journey.rep.pk
    assert entry.changes == {"company": [OLD_COMPANY, NEW_COMPANY]}

    assert page.js_errors == []

    # The colleague's customer stays out of reach even by its address.
    response = page.goto(f"{base}{reverse('customers:detail', args=[journey.hidden.pk])}")
    assert response is not None and response.status == 404


def test_phone_menu_and_customer_list_fit_the_screen(new_page, live_server, journey: Journey):
    page = new_page(viewport=PHONE)
    base = live_server.url
    log_in(page, base, "lihua", PASSWORD)

    # On a phone the main navigation is folded behind the ☰ toggle.
    nav = page.locator("nav.mainnav")
    customers_link = nav.get_by_role("link", name="Customers", exact=True)
    expect(customers_link).to_be_hidden()
    page.locator("label[for=nav-toggle]").click()
    expect(customers_link).to_be_visible()
    customers_link.click()

    page.wait_for_url(f"{base}/customers/", wait_until="load")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    expect(page.locator("#results").get_by_role("link", name="王小明", exact=True)).to_be_visible()
    overflow = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert overflow["scroll"] <= overflow["inner"] + 1, f"the page scrolls sideways on a phone: {overflow}"
    assert page.js_errors == []

"""Fixtures for the browser tests: one Chromium per session, a fresh context and page per test.

The app runs in pytest-django's ``live_server`` thread against the test database (SQLite in memory, or
PostgreSQL with DATABASE_URL); ``live_server`` makes the test transactional, so rows the test creates are
committed and the server thread sees them.

When a test fails, a screenshot and the page's HTML go to ``test-results/e2e/`` (ignored by git).
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.e2e.support import CHROMIUM, DESKTOP, launch_chromium

# Playwright's sync API drives the browser from an asyncio event loop in this (the main) thread. Django sees
# the running loop and refuses ORM calls from the test body and fixtures with SynchronousOnlyOperation, even
# though they are ordinary blocking calls made between browser steps, never from inside a coroutine. This
# allows them; it affects only this test process (the app under test runs in the live_server thread).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results" / "e2e"
TIMEOUT_MS = 10_000

# Auto-waiting assertions give up after this long (Playwright's default of 5 s is tight for a first page load
# on a busy CI machine).
expect.set_options(timeout=TIMEOUT_MS)

_call_report = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_call_report] = report
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, request) -> Iterator[Callable[..., Page]]:
    """``new_page(viewport=...)`` -> a page in its own fresh context (own cookies); all closed after the test.

    Uncaught JavaScript errors and console errors of every page are collected in ``page.js_errors``.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def make(viewport: dict = DESKTOP, locale: str = "en-US") -> Page:
        context = browser.new_context(viewport=viewport, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(3 * TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(f"pageerror: {error}"))
        page.on("console", lambda msg: msg.type == "error" and page.js_errors.append(f"console: {msg.text}"))
        pages.append(page)
        return page

    yield make

    report = request.node.stash.get(_call_report, None)
    if report is not None and report.failed:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for index, page in enumerate(pages):
            if page.is_closed():
                continue
            try:
                page.screenshot(path=RESULTS_DIR / f"{stem}-{index}.png", full_page=True)
                (RESULTS_DIR / f"{stem}-{index}.html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # a broken page must not hide the test's own failure
                print(f"could not save the page after the failure: {exc}")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    """A desktop-sized page (1280x900, en-US) in a fresh browser context."""
    return new_page(viewport=DESKTOP, locale="en-US")

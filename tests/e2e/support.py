"""What the e2e tests and ``make_screenshot.py`` share: how to start Chromium and how to log in.

Not a test module (no ``test_`` prefix), so pytest does not collect it.
"""

import os
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, expect

# Debian's chromium (apt-get install chromium); `playwright install` is not used: it downloads browsers.
CHROMIUM = Path(os.environ.get("GUANXI_E2E_CHROMIUM", "/usr/bin/chromium"))

# The machine has no internet: without the background-networking switches Chromium keeps trying to reach
# Google (updates, sync, field trials) and logs errors for every attempt.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Log in through the login form and wait until the first page after it (the dashboard) is shown."""
    page.goto(f"{base_url.rstrip('/')}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    # Logged in: the header shows the user menu (it is absent on the login page).
    expect(page.get_by_test_id("user-menu")).to_be_visible()


LANGUAGE_BUTTONS = {"en": "English", "zh-hans": "简体中文"}


def switch_language(page: Page, code: str) -> None:
    """Press the header's language button (a form posting to /i18n/setlang/) and wait for the new page."""
    page.get_by_role("button", name=LANGUAGE_BUTTONS[code], exact=True).click()
    # set_language redirects back to the same page; <html lang> tells which language it was rendered in.
    expect(page.locator("html")).to_have_attribute("lang", code)
    page.wait_for_load_state()

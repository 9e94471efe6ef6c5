"""Take the README's screenshots of the customer list (English and Chinese) from a running Guanxi.

Not a test (pytest collects only test_*.py). Prepare a demo database in a scratch data dir and serve it:

    GUANXI_DATA_DIR=/tmp/gx-shot .venv/bin/guanxi migrate
    GUANXI_DATA_DIR=/tmp/gx-shot .venv/bin/guanxi demo load
    GUANXI_DATA_DIR=/tmp/gx-shot .venv/bin/guanxi serve --port 8123 &
    .venv/bin/python tests/e2e/make_screenshot.py --url http://127.0.0.1:8123

It writes docs/images/customers.png and docs/images/customers-zh.png (1280x800, the viewport only).
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make ``tests.e2e.support`` importable
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.e2e.support import CHROMIUM, launch_chromium, log_in, switch_language  # noqa: E402

VIEWPORT = {"width": 1280, "height": 800}
SHOTS = {"en": ("en-US", "customers.png"), "zh-hans": ("zh-CN", "customers-zh.png")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running server (%(default)s)")
    parser.add_argument("--username", default="rep1", help="demo login (%(default)s)")
    parser.add_argument("--password", default="guanxi-demo", help="its password (%(default)s)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "images", help="(%(default)s)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        parser.error(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    base = args.url.rstrip("/")

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for language, (locale, filename) in SHOTS.items():
            # A fresh context per language, with a matching locale (Accept-Language, navigator.language).
            context = browser.new_context(viewport=VIEWPORT, locale=locale, device_scale_factor=1)
            page = context.new_page()
            log_in(page, base, args.username, args.password)
            page.goto(f"{base}/customers/")
            if page.locator("html").get_attribute("lang") != language:
                switch_language(page, language)
            expect(page.locator("#results tbody tr").first).to_be_visible()
            page.evaluate("() => document.fonts.ready")
            page.mouse.move(0, VIEWPORT["height"] - 1)  # no hover effects in the picture
            path = args.out_dir / filename
            page.screenshot(path=path, full_page=False, animations="disabled", caret="hide")
            print(f"{path} ({path.stat().st_size // 1024} KB)")
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

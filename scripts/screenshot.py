"""Take the screenshot of the home page shown in the docs (docs/screenshot.png, 1280×800).

Starts a fresh demo server with the browser tests' harness (tests/e2e/live.py), signs in as the
demo administrator through the login form and photographs the home page with Debian's Chromium.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png] [--extra DIR]

--extra also saves the login page and the home page at phone width, for review.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from tests.e2e.live import CHROMIUM, launch_chromium, live_server  # noqa: E402

ADMIN = ("A0001", "Admin@2026")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#login", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")
    page.evaluate("document.fonts.ready")


def review_shots(browser: Any, base_url: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    login = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    login.goto(base_url + "/login")
    login.screenshot(path=str(folder / "login.png"))
    phone = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    sign_in(phone, base_url)
    phone.screenshot(path=str(folder / "home-phone.png"), full_page=True)
    phone.click("[data-testid=nav-toggle]")
    phone.wait_for_selector("#campus-nav.collapse.show", state="visible")
    phone.screenshot(path=str(folder / "home-phone-nav.png"), full_page=True)
    print(f"saved review screenshots in {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshot the Campus home page")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--extra", type=Path, help="also save login and phone screenshots here")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium fonts-wqy-microhei")
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_server(Path(tmp)) as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        desktop = browser.new_page(viewport=DESKTOP, locale="zh-CN")
        sign_in(desktop, server.base_url)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        desktop.screenshot(path=str(args.out))
        print(f"saved {args.out}")
        if args.extra:
            review_shots(browser, server.base_url, args.extra)
        browser.close()


if __name__ == "__main__":
    main()

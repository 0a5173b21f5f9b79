"""Browser tests: Playwright driving Debian's Chromium against one local stack, as a user would.

Never `playwright install` (it downloads browser builds, which fails offline): the system Chromium is
launched instead. Without it a developer's run skips with how to install it; under CI (`CI` set) the
tests fail, since `.ci/run` installs Chromium first and a skip there would hide a broken dashboard.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.e2e import api_session, local_stack

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # root (CI, containers) cannot use Chromium's sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # containers often give /dev/shm 64 MB, too little for Chromium
]
WIDTHS = (1280, 390)  # a laptop and a phone
HEIGHT = {1280: 800, 390: 844}
INSTALL_HINT = "install it with `apt-get install -y chromium` (Debian/Ubuntu), or set CHROMIUM_PATH"


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def no_browser(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, where the browser tests must run."""
    if under_ci():
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="package")
def playwright() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("the `playwright` package is missing: `pip install -r requirements-dev.txt`")
    if not CHROMIUM.is_file():
        no_browser(f"no Chromium at {CHROMIUM}: {INSTALL_HINT}")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="package")
def browser(playwright: Any) -> Iterator[Any]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="package")
def stack(browser: Any) -> Iterator[Any]:
    """The local stack, fast: calls last well under a second, so a batch completes in a few seconds.

    Depends on `browser` so that a machine without Chromium skips before paying for a stack.
    """
    with local_stack(SIMULATOR_SPEED="240") as running:  # a two-minute call takes half a second
        yield running


@pytest.fixture
def http(stack: Any) -> requests.Session:
    """The public API with the seeded key, to check what the dashboard did."""
    return api_session(stack)


@pytest.fixture
def dashboard_url(stack: Any) -> str:
    return f"{stack.api_url}/dashboard"


def new_page(browser: Any, width: int = 1280, timezone_id: str | None = None) -> Any:
    """A fresh context (empty sessionStorage) and page at that width; downloads accepted.

    Uncaught script errors are kept in `page.script_errors` (see `close_page`)."""
    context = browser.new_context(
        viewport={"width": width, "height": HEIGHT.get(width, 800)},
        accept_downloads=True,
        timezone_id=timezone_id,
        locale="en-US",
    )
    context.set_default_timeout(15_000)
    opened = context.new_page()
    opened.script_errors = []
    opened.on("pageerror", lambda error: opened.script_errors.append(str(error)))
    return opened


def close_page(page: Any) -> None:
    """Close the page's context; a script error thrown while the user worked is a failure of its own."""
    errors = list(page.script_errors)
    page.context.close()
    assert not errors, f"uncaught script errors in the dashboard: {errors}"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    opened = new_page(browser)
    yield opened
    close_page(opened)


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as test-artifacts/browser/<name>-<width>.png (kept by CI as an artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_horizontal_scroll(page: Any, where: str) -> None:
    """The page fits its viewport: nothing forces a sideways scroll (a 390 px phone included)."""
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"{where}: {scroll_width} px wide in a {inner_width} px window"

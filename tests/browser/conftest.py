"""Browser fixtures: Debian's Chromium driven headless by Playwright (never a downloaded browser)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import ROOT, LiveGateway

ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "browser-test-password"
# The machine has no network: nothing in the browser may try to reach one.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    open, which would break the asyncio tests that run after it in the same worker."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def admin_server(workdir: Path, env: dict[str, str] | None = None) -> LiveGateway:
    """A migrated live gateway with a superuser `admin`."""
    server = LiveGateway(workdir, {"DJANGO_SUPERUSER_PASSWORD": PASSWORD, **(env or {})}).migrate()
    server.manage("createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.com")
    return server


def log_in(page, server: LiveGateway) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click('input[type="submit"]')
    page.wait_for_selector("#site-name")


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[LiveGateway]:
    server = admin_server(tmp_path).start()
    yield server
    server.stop()

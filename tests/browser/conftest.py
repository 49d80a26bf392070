"""Browser fixtures: the test app on a loopback server, Debian's chromium through Playwright."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from registry.core.models import User

BROWSER_DIR = Path(__file__).resolve().parent
ARTIFACTS = BROWSER_DIR / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    # Dutch date and time inputs (dd-mm-jjjj, 24 hours), as the users see them
    "--lang=nl-NL",
]
# a step that fails should fail in seconds, not after Playwright's default half minute
TIMEOUT_MS = 10_000

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # this hook sees the whole session's items, not only this folder's
    for item in items:
        if item.path.is_relative_to(BROWSER_DIR):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so the page fixture knows whether the test failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


# --- the server ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    url: str


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test app served over HTTP on 127.0.0.1 and a free port, in a background thread."""
    server: BaseWSGIServer = make_server(host="127.0.0.1", port=0, app=app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # links the app writes into its pages (the enrolment link) must point at this server
    app.config["BASE_URL"] = url
    # a short poll interval keeps shutdown() quick at every test's teardown
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LiveServer(url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); "
            ".ci/run installs it when CI=true. Playwright's own browser download is not used.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            # the browser closes before the Playwright driver stops (the with block's exit)
            launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where tests save screenshots (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _failed(item: pytest.Item) -> bool:
    reports = item.stash.get(_reports, {})
    return any(report.failed for report in reports.values())


@pytest.fixture
def new_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Page]]:
    """Opens a page in a context of its own (own cookies: another person at another desk).
    Every context is closed at teardown, after a screenshot of each page if the test failed."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(
            base_url=live_server.url, locale="nl-NL", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page

    failed = _failed(request.node)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shots = 0
    for context in contexts:
        try:
            for page in context.pages if failed else []:
                shots += 1
                suffix = "" if shots == 1 else f"-{shots}"
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=ARTIFACTS / f"{name}-failure{suffix}.png", full_page=True)
        finally:
            context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    """A fresh page (new context: locale nl-NL, 1280x900) on the live server's base URL."""
    return new_page()


@pytest.fixture
def browser_login(code_for: Callable[[User], str]) -> Callable[[Page, LiveServer, Any], None]:
    """Log a user in through the real pages: password first, then the authenticator code."""

    def login(page: Page, live_server: LiveServer, user: Any) -> None:
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Gebruikersnaam").fill(user.username)
        page.get_by_label("Wachtwoord").fill(user.password)
        page.get_by_role("button", name="Verder").click()
        expect(page).to_have_url(f"{live_server.url}/login/code")
        page.get_by_label("Code uit de authenticator-app (6 cijfers)").fill(code_for(user))
        page.get_by_role("button", name="Inloggen").click()
        # an operator lands on the lookup page, everyone else on the home page
        expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/(raadplegen)?$"))

    return login

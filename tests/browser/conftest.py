"""The console in a real browser: Playwright for Python driving Debian's chromium (installed here
when missing: outbound_cli.chromium) against `outbound serve`. Screenshots of each view are kept
in test-artifacts/console/ (gitignored)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "console"
ORG, KEY, FROM = "org_console", "sk_live_console_test", "+15551239500"
FIXTURE = {
    "organizations": [{"id": ORG, "name": "Console", "balance_cents": 50_000, "api_keys": [KEY],
                       "per_minute_rate_cents": 12}],
    "assistants": [{"id": 9501, "organization_id": ORG, "name": "Sarah",
                    "welcome_message": "Hi {{name}}, this is Sarah from Acme Health.",
                    "agenda": "Confirm the appointment at {{time}}."}],
    "phone_numbers": [{"number": FROM, "organization_id": ORG, "provider": "twilio", "assistant_id": 9501}],
}


@pytest.fixture(scope="session")
def chromium_ready():
    from outbound_cli.chromium import ensure_chromium

    problem = ensure_chromium()
    if problem:
        pytest.skip(f"no browser for the console's tests: {problem}")


@pytest.fixture(scope="module")
def browser(chromium_ready):
    from playwright.sync_api import sync_playwright

    from outbound_cli.chromium import launch

    with sync_playwright() as playwright:
        instance = launch(playwright)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def console(server, tmp_path_factory):
    """The session server, with this module's organization seeded; its console's URL."""
    path = tmp_path_factory.mktemp("console") / "fixture.json"
    path.write_text(json.dumps(FIXTURE))
    server.outbound("seed", str(path), "--local-server", server.url)
    server.console_url = server.url + "/console"
    return server


class Watched:
    """A page whose console errors, CSP violations and requests are recorded."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.requests: list = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("request", lambda request: self.requests.append(request))

    def _console(self, message) -> None:
        where = (message.location or {}).get("url", "")
        if message.type != "error" or (where.endswith("/evidence") and "404" in message.text):
            return  # the call page asks for compliance evidence; a 404 (none, or no such route yet) hides it
        self.problems.append(f"console {message.type}: {message.text} ({where})")

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture
def watched(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(20_000)
    watched = Watched(page)
    yield watched
    if getattr(request.node, "failed_call", False):  # what the page showed when the test failed
        watched.shot(f"failed-{request.node.name}")
        (ARTIFACTS / f"failed-{request.node.name}.txt").write_text("\n".join(watched.problems))
    context.close()


def sign_in(watched: Watched, url: str, key: str = KEY) -> None:
    page = watched.page
    page.goto(url)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Calls", level=1).wait_for()

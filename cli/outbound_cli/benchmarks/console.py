"""``outbound bench console``: how fast the web console's first views are interactive on the local
server, in Debian's chromium driven by Playwright (a fresh browser context per run: nothing
cached).

Per run, from the navigation's start (the browser's own clock, performance.now()):
- DOMContentLoaded of /console/index.html;
- sign-in ready: the key field shown and focused (the first interactive view);
- calls view: signed in (the key in the tab's sessionStorage), the calls list answered by the API
  and drawn;
- money view: the balance, the ledger and the spend chart drawn (Chart.js loaded on first use).

Without ``--server`` it starts ``outbound serve --port 0`` with the demo data. Prints medians (and
the slowest run); ``--json`` prints the runs.
"""
from __future__ import annotations

import json
import statistics
from typing import Any

DEMO_KEY = "sk_live_acme_demo"
SIGN_IN_READY = "() => document.activeElement && document.activeElement.id === 'api-key' && performance.now()"
CALLS_READY = ("() => document.querySelector('#view h1') && document.querySelector('.pager') "
               "&& performance.now()")
MONEY_READY = ("() => window.Chart && document.getElementById('chart-spend') "
               "&& Chart.getChart(document.getElementById('chart-spend')) "
               "&& document.querySelector('#view .pager') && performance.now()")
DOM_CONTENT_LOADED = "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"


def console(runs: int, server: str | None, as_json: bool, api_key: str = DEMO_KEY) -> int:
    from playwright.sync_api import sync_playwright

    from outbound_cli.chromium import ensure_chromium, launch
    from outbound_cli.common import CliError

    problem = ensure_chromium()
    if problem:
        raise CliError(problem)
    process = None
    if server is None:
        from outbound_cli.benchmarks.load import start_server

        process, server = start_server()
    url = server.rstrip("/") + "/console/index.html"
    measured: list[dict[str, float]] = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                for run in range(runs + 1):  # the first run warms the server's functions up: not counted
                    figures = _one_run(browser, url, api_key)
                    if run:
                        measured.append(figures)
            finally:
                browser.close()
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    _print(measured, url, as_json)
    return 0


def _one_run(browser: Any, url: str, api_key: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        figures["dom_content_loaded_ms"] = page.evaluate(DOM_CONTENT_LOADED)
        figures["sign_in_ready_ms"] = page.wait_for_function(SIGN_IN_READY).json_value()
        page.evaluate("(key) => sessionStorage.setItem('outbound.apiKey', key)", api_key)
        for name, hash_, ready in (("calls_view_ms", "#/calls", CALLS_READY), ("money_view_ms", "#/money", MONEY_READY)):
            page.goto("about:blank")
            page.goto(url + hash_)
            figures[name] = page.wait_for_function(ready).json_value()
    finally:
        context.close()
    return figures


def _print(measured: list[dict[str, float]], url: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"url": url, "runs": measured}, indent=2))
        return
    print(f"{url}: {len(measured)} runs, fresh browser context each (ms from the navigation's start)")
    print(f"{'':<26}{'median':>10}{'slowest':>10}")
    for name in measured[0]:
        values = [m[name] for m in measured]
        print(f"{name:<26}{statistics.median(values):>10.0f}{max(values):>10.0f}")

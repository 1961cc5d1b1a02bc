"""The web console in Debian's chromium (Playwright) against `outbound serve`: the issue's scenario
end to end (sign in with a key; a webhook endpoint; a campaign created from a CSV with one bad row
dropped on the page, its row error shown; started; progress and charts rendering the API's own
numbers while `outbound campaign emulate` ends the calls; paused; a call opened and a delivery
retried), plus the other views, the key's hygiene, the Content-Security-Policy (no violation
anywhere), labels, keyboard use, contrast and a phone-sized screen. Screenshots of every view go
to test-artifacts/console/."""
from __future__ import annotations

import subprocess
import uuid
from datetime import datetime, timezone

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import FROM, KEY, sign_in
from tests.conftest import OUTBOUND, ROOT, wait_for

pytestmark = pytest.mark.integration

OUTCOMES = ("completed", "busy", "no-answer", "failed", "canceled")
CHART_TOTAL = """(id) => { const chart = window.Chart && Chart.getChart(document.getElementById(id));
  return chart ? chart.data.datasets.filter((d) => d.type !== 'line')
    .map((d) => d.data.reduce((sum, v) => sum + (v || 0), 0)) : null; }"""
CHART_DATA = """(id) => { const chart = window.Chart && Chart.getChart(document.getElementById(id));
  return chart ? chart.data.datasets.map((d) => ({label: d.label, data: d.data})) : null; }"""
# Every element showing text has a contrast of at least 4.5:1 with what is behind it (WCAG AA).
LOW_CONTRAST = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || c[3] > 0) return c; } return [255, 255, 255]; };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.offsetParent || el.disabled || el.closest('[disabled], canvas, .skip')) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return low; }"""
# Every control has a name a screen reader can say (a label, aria-label or its own text).
UNNAMED = """() => [...document.querySelectorAll('input, select, textarea, button, canvas, a')].filter((el) => {
  if (!el.offsetParent && el.type !== 'file') return false;
  const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
    || (el.textContent || '').trim();
  return !named; }).map((el) => el.outerHTML.slice(0, 80))"""


def daytime_zone() -> str:
    """A zone where it is around noon now (calls go out 08:00-21:00 recipient-local only)."""
    offset = 12 - datetime.now(timezone.utc).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def api(server, method: str, path: str, body=None):
    response = server.request(method, path, body, key=KEY)
    assert response.status_code < 300, response.text
    return response.json()


def check_view(watched, name: str) -> None:
    """The view has every control named and enough contrast; its screenshot is kept."""
    page = watched.page
    assert page.evaluate(UNNAMED) == [], name
    assert page.evaluate(LOW_CONTRAST) == [], name
    watched.shot(name)


@pytest.mark.timeout(420)
def test_the_issue_scenario(console, watched):
    page, server = watched.page, console
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    sign_in(watched, server.console_url)
    assert KEY not in page.url and page.evaluate("document.cookie") == ""
    assert page.evaluate("sessionStorage.getItem('outbound.apiKey')") == KEY

    # A webhook endpoint (the loopback receiver), so the campaign's calls have deliveries to retry.
    page.get_by_role("link", name="Webhooks").click()
    receiver = f"{server.url}/_local/webhook-receiver/console-{uuid.uuid4().hex[:8]}"
    page.get_by_label("URL", exact=True).fill(receiver)
    page.get_by_label("call.answered").check()
    page.get_by_role("button", name="Create endpoint").click()
    secret = page.locator("#secret input")
    secret.wait_for()
    assert secret.input_value().startswith("whsec_")
    endpoint = next(e for e in api(server, "GET", "/webhook-endpoints")["webhook_endpoints"] if e["url"] == receiver)
    check_view(watched, "webhooks")

    # A campaign, from the form.
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name", exact=True).fill("Tomorrow's appointments")
    page.get_by_label("From number").fill(FROM)
    page.get_by_label("Time zone for recipients of unknown zone").fill(daytime_zone())
    page.get_by_label("Calls in flight at most").fill("3")
    page.get_by_label("Calls started per minute at most").fill("20")
    page.get_by_label("Attempts per contact").fill("1")
    check_view(watched, "campaign-new")
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url("**/console/index.html#/campaigns/cmp_*")
    campaign_id = page.url.rsplit("/", 1)[-1]

    # Its contacts: a CSV with one bad row, dropped on the page (the presigned import).
    rows = [f"+1212558{i:04d},Patient {i},3pm" for i in range(1, 13)]
    rows.insert(3, "not-a-number,Nobody,3pm")  # line 5 of the file
    csv_text = "phone_number,name,time\n" + "\n".join(rows) + "\n"
    transfer = page.evaluate_handle("""(text) => { const data = new DataTransfer();
        data.items.add(new File([text], 'contacts.csv', {type: 'text/csv'})); return data; }""", csv_text)
    page.dispatch_event("#csv-drop", "drop", {"dataTransfer": transfer})
    result = page.locator("#import-result")
    result.wait_for()
    assert "completed" in result.inner_text() and "12 added" in result.inner_text() and "1 refused" in result.inner_text()
    error_row = page.get_by_role("table", name="Rows refused (the file's line numbers)").locator("tbody tr")
    assert error_row.count() == 1
    cells = error_row.locator("td").all_inner_texts()
    assert cells[0] == "5" and cells[1] == "not-a-number" and "E.164" in cells[2]
    check_view(watched, "campaign-import")

    # Start it; `outbound campaign emulate` ends each call as the providers would.
    page.get_by_role("button", name="Start", exact=True).click()
    page.locator("#campaign-progress").wait_for()
    emulate = subprocess.Popen([*OUTBOUND, "campaign", "emulate", campaign_id, "--server", server.url, "--api-key", KEY,
                                "--mix", "completed:3,busy:1,no-answer:1", "--duration", "65"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # While it runs: progress, in flight and the charts show numbers as they come.
        page.wait_for_function(f"() => {{ const t = ({CHART_TOTAL})('chart-outcomes'); "
                               "return t && t.reduce((a, b) => a + b, 0) >= 3; }", timeout=90_000)
        assert api(server, "GET", f"/campaigns/{campaign_id}")["status"] == "running"
        assert "running" in page.locator("#campaign-status").inner_text()
        assert sum(page.evaluate(CHART_TOTAL, "chart-dials")) >= 3
        # Outcomes are drawn at random (3 in 5 answered): wait for an answered one rather than
        # assume one was among the first three.
        page.wait_for_function(f"() => {{ const t = ({CHART_TOTAL})('chart-answer-rate'); "
                               "return t && t[0] > 0; }", timeout=90_000)
        check_view(watched, "campaign-running")

        # Pause: no new dial; the calls in flight finish.
        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_role("button", name="Resume")).to_be_enabled()
        expect(page.get_by_role("button", name="Pause")).to_be_disabled()
        wait_for(lambda: api(server, "GET", f"/campaigns/{campaign_id}")["progress"]["in_flight"] == 0, timeout=60,
                 what="the calls in flight to finish")
        campaign = api(server, "GET", f"/campaigns/{campaign_id}")
        assert campaign["status"] == "paused" and campaign["progress"]["waiting"] > 0
        page.wait_for_function("() => document.getElementById('in-flight-text').textContent.startsWith('0 of 3')",
                               timeout=20_000)
        page.wait_for_timeout(2_500)  # one more refresh, after the last call settled
        stats = api(server, "GET", f"/campaigns/{campaign_id}/stats")
        campaign = api(server, "GET", f"/campaigns/{campaign_id}")
        # The charts and figures are the API's numbers.
        buckets = stats["outcomes"]["buckets"]
        assert page.evaluate(CHART_TOTAL, "chart-outcomes") == [sum(b[s] for b in buckets) for s in OUTCOMES]
        assert sum(page.evaluate(CHART_TOTAL, "chart-dials")) == sum(m["dials"] for m in stats["dials_per_minute"])
        rates = page.evaluate(CHART_DATA, "chart-answer-rate")[0]["data"]
        assert rates == [None if h["answer_rate"] is None else round(h["answer_rate"] * 100)
                         for h in stats["answer_rate_by_local_hour"]]
        progress = campaign["progress"]
        assert page.locator("#campaign-progress").get_attribute("value") == str(progress["finished"])
        assert page.locator("#progress-text").inner_text().startswith(
            f"{progress['finished']} of {progress['contacts_total']} contacts finished")
        for status, count in progress["by_status"].items():
            if count:
                assert page.locator(f"#status-counts dd[data-status='{status}']").inner_text() == str(count)
        assert progress["finished"] >= 3 and progress["contacts_total"] == 12
        check_view(watched, "campaign-paused")

        # A call of the campaign, its deliveries, one retried.
        page.get_by_label("Show contacts").select_option("completed")
        page.get_by_role("link", name="attempt 1").first.click()
        page.wait_for_url("**#/calls/call_*")
        call_id = page.url.rsplit("/", 1)[-1]
        call = api(server, "GET", f"/calls/{call_id}")
        assert call["welcome_message"].startswith("Hi Patient ")
        expect(page.locator("#welcome-message")).to_have_text(call["welcome_message"])
        expect(page.locator("#agenda")).to_have_text("Confirm the appointment at 3pm.")
        timeline = [e["status"] for e in api(server, "GET", f"/calls/{call_id}/timeline")["events"]]
        assert timeline[-1] == "completed"
        expect(page.locator("#timeline li")).to_have_count(len(timeline))
        expect(page.locator("#timeline")).to_contain_text("twilio webhook")
        expect(page.locator("#call-ledger tbody")).to_contain_text("charge")
        wait_for(lambda: all(d["status"] == "succeeded" for d in
                             api(server, "GET", f"/calls/{call_id}/webhook-deliveries")["deliveries"])
                 and len(api(server, "GET", f"/calls/{call_id}/webhook-deliveries")["deliveries"]) == 2,
                 what="both deliveries of the call")
        page.reload()
        retry = page.get_by_role("button", name=f"Retry the call.completed delivery to {endpoint['id']}")
        retry.click()
        row = page.locator("#deliveries tbody tr", has=page.get_by_role("cell", name="call.completed", exact=True))
        wait_for(lambda: row.locator("ol.attempts li").count() == 2, timeout=30, what="the retried attempt on the page")
        [delivery] = [d for d in api(server, "GET", f"/calls/{call_id}/webhook-deliveries")["deliveries"]
                      if d["event_type"] == "call.completed"]
        assert delivery["attempt_count"] == 2 and delivery["status"] == "succeeded"
        arrived = [r for r in requests.get(receiver, timeout=10).json()["received"] if call_id in r["body"]]
        ids = [r["headers"]["webhook-id"] for r in arrived if '"call.completed"' in r["body"]]
        assert len(ids) == 2 and ids[0] == ids[1]  # the same event, delivered again
        evidence = server.request("GET", f"/calls/{call_id}/evidence", key=KEY).status_code
        expect(page.locator("#deliveries tbody tr")).to_have_count(2)
        if evidence == 404:  # no evidence (or no such route on this stack): the section stays hidden
            expect(page.locator("#evidence")).to_be_hidden()
        else:
            expect(page.locator("#evidence")).to_be_visible()
        check_view(watched, "call")

        # The calls list, filtered to the campaign.
        page.goto(f"{server.console_url}/index.html#/calls?campaign_id={campaign_id}")
        page.get_by_role("table", name="Calls, newest first").wait_for()
        listed = api(server, "GET", f"/calls?campaign_id={campaign_id}&limit=25")["calls"]
        assert len(listed) == campaign["progress"]["attempts"]
        expect(page.locator("table tbody tr")).to_have_count(len(listed))
        check_view(watched, "calls")

        # Money: the figures and the spend chart are the API's.
        page.get_by_role("link", name="Money").click()
        balance = api(server, "GET", "/organization/balance")
        expect(page.locator("#balance")).to_have_text(f"${balance['balance_cents'] / 100:.2f}")
        spend = api(server, "GET", "/organization/spend?days=30")
        page.wait_for_function(f"() => ({CHART_TOTAL})('chart-spend')")
        assert page.evaluate(CHART_DATA, "chart-spend")[0]["data"] == [d["charged_cents"] / 100 for d in spend["days"]]
        assert spend["days"][-1]["charged_cents"] > 0
        check_view(watched, "money")

        # The endpoint's delivery log.
        page.get_by_role("link", name="Webhooks").click()
        page.get_by_role("link", name=receiver).click()
        page.get_by_role("table", name="Deliveries to this endpoint, newest first").wait_for()
        logged = api(server, "GET", f"/webhook-endpoints/{endpoint['id']}/deliveries?limit=25")["deliveries"]
        assert logged
        expect(page.locator("tbody tr")).to_have_count(len(logged))
        check_view(watched, "delivery-log")

        # Do-not-call: add, search, remove.
        page.get_by_role("link", name="Do-not-call").click()
        page.get_by_label("Phone number").fill("+15559870042")
        page.get_by_label("Reason (optional)").fill("asked on the phone")
        page.get_by_role("button", name="Add to the list").click()
        page.get_by_role("cell", name="+15559870042", exact=True).wait_for()
        page.get_by_label("Numbers starting with").fill("+1555987")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**#/dnc?starting_with=*")
        page.get_by_role("cell", name="+15559870042", exact=True).wait_for()
        check_view(watched, "do-not-call")
        page.get_by_role("button", name="Remove +15559870042").click()
        page.get_by_text("The list is empty.").or_(page.get_by_text("No number starts so.")).wait_for()
        assert api(server, "GET", "/suppressions?starting_with=%2B1555987")["suppressions"] == []

        # The campaigns list, then cancel the campaign from its page (emulate then exits).
        page.get_by_role("link", name="Campaigns").click()
        page.get_by_role("link", name="Tomorrow's appointments").first.wait_for()
        check_view(watched, "campaigns")
        page.get_by_role("link", name="Tomorrow's appointments").first.click()
        page.get_by_role("button", name="Cancel").click()
        page.get_by_role("button", name="Cancel").wait_for(state="attached")
        wait_for(lambda: api(server, "GET", f"/campaigns/{campaign_id}")["status"] == "canceled", what="canceled")
        assert any("Cancel this campaign" in message for message in dialogs)
        assert emulate.wait(timeout=30) == 0
    finally:
        if emulate.poll() is None:
            emulate.kill()
            emulate.wait()

    # The key went only where it belongs: as a header to this origin, never in a URL.
    for request in watched.requests:
        assert KEY not in request.url
        if not request.url.startswith(server.url):  # the CSV's upload to the bucket
            assert "authorization" not in {name.lower() for name in request.headers}, request.url
    uploads = [r for r in watched.requests if r.method == "PUT"]
    assert len(uploads) == 1 and not uploads[0].url.startswith(server.url)
    assert watched.problems == []  # no script error, no Content-Security-Policy violation
    page.get_by_role("button", name="Sign out").click()
    assert page.evaluate("sessionStorage.length") == 0
    page.get_by_label("API key").wait_for()


def test_sign_in_by_keyboard_and_a_refused_key(console, watched):
    page = watched.page
    page.goto(console.console_url)
    assert page.url.endswith("/console/index.html")
    page.keyboard.type("sk_live_not_a_key")  # the key field has the focus
    page.keyboard.press("Enter")
    page.get_by_text("That key was refused").wait_for()
    assert page.evaluate("sessionStorage.length") == 0
    assert len(watched.problems) == 1 and "401" in watched.problems[0]  # the browser logs the refused request
    watched.problems.clear()
    check_view(watched, "sign-in")
    page.get_by_label("API key").fill(KEY)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Calls", level=1).wait_for()
    # A new view takes the focus. (A function, not a string: the console's CSP forbids eval.)
    page.wait_for_function("() => document.activeElement.id === 'main'")
    for _ in range(6):  # back from the view: sign out, then the section links
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "Campaigns":
            break
    else:
        pytest.fail("the Campaigns link is not reachable with Tab")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Campaigns", level=1).wait_for()
    assert watched.problems == []


def test_the_content_security_policy_and_headers(console):
    response = requests.get(console.console_url + "/index.html", timeout=10)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "<script>" not in response.text and " style=" not in response.text  # nothing inline
    again = requests.get(console.console_url + "/index.html", headers={"If-None-Match": response.headers["ETag"]},
                         timeout=10)
    assert again.status_code == 304
    assert requests.get(console.console_url, allow_redirects=False, timeout=10).headers["Location"] == \
        "console/index.html"
    assert requests.get(console.console_url + "/", allow_redirects=False, timeout=10).headers["Location"] == "index.html"
    for path in ("/../template.yaml", "/%2e%2e/app.py", "/vendor", "/nothing.js"):
        assert requests.get(console.console_url + path, timeout=10).status_code == 404, path
    assert requests.get(console.console_url + "/vendor/chart.js.LICENSE.md", timeout=10).status_code == 200


def test_a_phone_sized_screen(console, browser):
    """The campaign page on a 390 px wide phone: nothing wider than the screen but its tables'
    own scrolling boxes; the navigation wraps."""
    created = api(console, "POST", "/campaigns", {"name": "Phone check", "from_phone_number": FROM,
                                                  "timezone": daytime_zone()})
    api(console, "POST", f"/campaigns/{created['campaign_id']}/contacts",
        {"contacts": [{"phone_number": "+12125589001", "variables": {"name": "A", "time": "1pm"}}]})
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        from tests.browser.conftest import Watched

        watched = Watched(context.new_page())
        sign_in(watched, console.console_url)
        watched.page.goto(f"{console.console_url}/index.html#/campaigns/{created['campaign_id']}")
        watched.page.locator("#chart-answer-rate").wait_for()
        watched.page.wait_for_function(f"() => ({CHART_TOTAL})('chart-answer-rate')")
        assert watched.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        check_view(watched, "phone-campaign")
        assert watched.problems == []
    finally:
        context.close()

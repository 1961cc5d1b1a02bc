// Calls: the list (filtered by status, campaign, schedule and creation date; paged by the API's
// next_token) and a call's page: its rendered texts, timeline, money, webhook deliveries (each
// attempt, with a retry) and, where the API has it, its compliance evidence.
import { ApiError, get, post } from "../api.js";
import { badge, clear, el, field, heading, money, onSubmit, pager, report, say, seconds, table, when } from "../ui.js";

const STATUSES = ["initiating", "unconfirmed", "queued", "ringing", "in-progress", "completed", "busy", "no-answer",
                  "failed", "canceled"];

const callLink = (call) => el("a", { href: `#/calls/${encodeURIComponent(call.call_id)}`, text: call.call_id });

export async function showCalls(view, _id, params) {
  const status = el("select", { name: "status" }, el("option", { value: "", text: "Any status" }),
    STATUSES.map((s) => el("option", { value: s, text: s, selected: params.get("status") === s })));
  const campaign = el("input", { name: "campaign_id", value: params.get("campaign_id") || "", placeholder: "cmp_…" });
  const schedule = el("input", { name: "schedule_id", value: params.get("schedule_id") || "", placeholder: "sch_…" });
  const from = el("input", { name: "from", type: "date", value: (params.get("from") || "").slice(0, 10) });
  const to = el("input", { name: "to", type: "date", value: (params.get("to") || "").slice(0, 10) });
  const form = el("form", { class: "card", "aria-label": "Filter calls" },
    el("div", { class: "row" }, field("Status", status), field("Campaign", campaign), field("Schedule", schedule),
      field("Created from (UTC day)", from), field("Created before (UTC day)", to)),
    el("button", { type: "submit", text: "Filter" }));
  onSubmit(form, async (data) => {
    const query = new URLSearchParams([...data.entries()].filter(([, v]) => v));
    location.hash = `#/calls${query.toString() ? "?" + query : ""}`;
  });
  const results = el("section", { class: "card", "aria-label": "Calls" });
  view.append(heading("Calls"), form, results);
  const filters = Object.fromEntries([...params.entries()].filter(([name]) =>
    ["status", "campaign_id", "schedule_id", "from", "to"].includes(name)));
  await pager(results, async (token) => {
    const page = await get("calls", { ...filters, limit: 25, next_token: token });
    return { items: page.calls, next: page.next_token };
  }, (calls) => table("Calls, newest first", [
    { label: "Created", value: (c) => when(c.created_at) },
    { label: "Status", value: (c) => badge(c.status) },
    { label: "To", value: (c) => c.to_phone_number },
    { label: "From", value: (c) => c.from_phone_number },
    { label: "Provider", value: (c) => c.provider },
    { label: "Duration", value: (c) => seconds(c.duration_seconds), num: true },
    { label: "Charged", value: (c) => money(c.charged_cents), num: true },
    { label: "Campaign / schedule", value: (c) => c.campaign_id || c.schedule_id || "—" },
    { label: "Call", value: callLink },
  ], calls, "No calls match."));
}

export async function showCall(view, ref) {
  const call = await get(`calls/${encodeURIComponent(ref)}`);
  const id = encodeURIComponent(call.call_id);
  view.append(heading(`Call ${call.call_id}`, badge(call.status)));
  const facts = [["Status", badge(call.status)], ["From", call.from_phone_number], ["To", call.to_phone_number],
    ["Provider", call.provider], ["Provider's id", el("span", { class: "mono", text: call.call_sid || "—" })],
    ["Assistant", call.assistant_id], ["Created", when(call.created_at)], ["Answered", when(call.answered_at)],
    ["Ended", when(call.ended_at)], ["Answered by", call.answered_by || "—"], ["Duration", seconds(call.duration_seconds)],
    ["Charged", money(call.charged_cents)], ["Hangup cause", call.hangup_cause || "—"],
    ["Failure", call.failure_reason || "—"],
    ["Campaign", call.campaign_id ? el("a", { href: `#/campaigns/${encodeURIComponent(call.campaign_id)}`, text: call.campaign_id }) : "—"],
    ["Schedule", call.schedule_id || "—"], ["External id", call.external_id || "—"]];
  view.append(el("div", { class: "grid" },
    el("section", { class: "card", "aria-labelledby": "facts-title" }, el("h2", { id: "facts-title", text: "Summary" }),
      el("dl", { class: "facts" }, facts.map(([name, value]) => [el("dt", { text: name }),
        el("dd", {}, value instanceof Node ? value : String(value ?? "—"))]))),
    el("section", { class: "card", "aria-labelledby": "texts-title" }, el("h2", { id: "texts-title", text: "What the assistant was given" }),
      el("h3", { text: "Welcome message" }), el("p", { class: "pre", id: "welcome-message", text: call.welcome_message ?? "—" }),
      el("h3", { text: "Agenda" }), el("p", { class: "pre", id: "agenda", text: call.agenda ?? "—" }),
      table("Variables", [{ label: "Name", value: (v) => v[0] }, { label: "Value", value: (v) => String(v[1]) }],
        Object.entries(call.variables || {}), "No variables."))));

  const timeline = el("section", { class: "card", id: "timeline", "aria-labelledby": "timeline-title" },
    el("h2", { id: "timeline-title", text: "Timeline" }));
  const ledger = el("section", { class: "card", id: "call-ledger", "aria-labelledby": "ledger-title" },
    el("h2", { id: "ledger-title", text: "Money" }));
  const deliveries = el("section", { class: "card", id: "deliveries", "aria-labelledby": "deliveries-title" },
    el("h2", { id: "deliveries-title", text: "Webhook deliveries" }));
  // Compliance evidence (GET /calls/{call_ref}/evidence, built by the compliance work): shown when
  // the API answers 200, hidden when it answers 404 (no evidence, or a stack without it).
  const evidence = el("section", { class: "card", id: "evidence", "aria-labelledby": "evidence-title", hidden: true },
    el("h2", { id: "evidence-title", text: "Compliance evidence" }));
  view.append(timeline, ledger, deliveries, evidence);

  const parts = [
    get(`calls/${id}/timeline`).then((body) => timeline.append(renderTimeline(body.events))),
    get(`calls/${id}/ledger`).then((body) => ledger.append(
      el("p", {}, "Charged: ", el("strong", { text: money(call.charged_cents) }),
        call.reserve_cents ? ` · reserve held now: ${money(call.reserve_cents)}` : ""),
      table("The call's ledger entries, oldest first", [
        { label: "When", value: (e) => when(e.created_at) }, { label: "Kind", value: (e) => e.kind },
        { label: "Amount", value: (e) => money(e.amount_cents), num: true },
        { label: "Balance", value: (e) => money(e.balance_delta_cents), num: true },
        { label: "Reserved", value: (e) => money(e.reserved_delta_cents), num: true },
        { label: "Why", value: (e) => e.cause || "—" }], body.entries, "No ledger entries."))),
    showDeliveries(deliveries, id),
    get(`calls/${id}/evidence`).then((body) => {
      evidence.append(renderEvidence(body));
      evidence.hidden = false;
    }, (error) => { if (!(error instanceof ApiError && error.status === 404)) throw error; }),
  ];
  const results = await Promise.allSettled(parts);
  results.filter((r) => r.status === "rejected").forEach((r) => report(r.reason));
}

function renderTimeline(events) {
  return el("ol", { class: "timeline" }, events.map((event) => el("li", {},
    el("div", {}, when(event.at), " ", badge(event.status), " ", el("span", { class: "muted", text: event.source })),
    event.provider_event ? el("div", { class: "muted" }, "Provider event: ", el("span", { class: "mono", text: event.provider_event }),
      event.occurred_at ? [" at ", when(event.occurred_at)] : null) : null,
    event.detail ? el("div", { text: event.detail }) : null,
    event.charged_cents !== null && event.charged_cents !== undefined ? el("div", { text: `Charged ${money(event.charged_cents)}` }) : null)));
}

function renderEvidence(body) {
  const rows = Object.entries(body || {}).filter(([name]) => name !== "call_id");
  return table("What was checked before the call", [{ label: "Item", value: (r) => r[0] },
    { label: "Value", value: (r) => (typeof r[1] === "object" ? JSON.stringify(r[1]) : String(r[1])) }], rows,
    "No evidence recorded.");
}

async function showDeliveries(section, id) {
  const body = await get(`calls/${id}/webhook-deliveries`);
  const holder = el("div");
  section.append(holder);
  const render = (items) => clear(holder).append(deliveryTable(items, async (delivery, button) => {
    button.disabled = true;
    const before = delivery.attempt_count;
    await post(`webhook-deliveries/${encodeURIComponent(delivery.id)}/retry`);
    say(`Delivery of ${delivery.event_type} queued again.`);
    for (let i = 0; i < 40; i += 1) { // show the new attempt when it lands (up to ~20 s)
      const fresh = (await get(`calls/${id}/webhook-deliveries`)).deliveries;
      const again = fresh.find((d) => d.id === delivery.id);
      if (again && again.attempt_count > before && again.status !== "pending") return render(fresh);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    render((await get(`calls/${id}/webhook-deliveries`)).deliveries);
  }));
  render(body.deliveries);
}

export function deliveryTable(deliveries, retry, caption = "Deliveries of this call's events") {
  return table(caption, [
    { label: "Event", value: (d) => d.event_type },
    { label: "Sequence", value: (d) => d.sequence, num: true },
    { label: "Endpoint", value: (d) => el("a", { href: `#/webhooks/${encodeURIComponent(d.endpoint_id)}`, text: d.endpoint_id }) },
    { label: "Status", value: (d) => badge(d.status) },
    { label: "Attempts", value: (d) => el("ol", { class: "attempts" }, d.attempts.map((a) => el("li", {},
      when(a.at), ` → ${a.status_code ?? "no answer"} in ${a.latency_ms} ms`, a.error ? ` (${a.error})` : ""))) },
    { label: "", value: (d) => {
      const button = el("button", { type: "button", class: "secondary", text: "Retry",
        "aria-label": `Retry the ${d.event_type} delivery to ${d.endpoint_id}` });
      button.addEventListener("click", () => retry(d, button).catch(report).finally(() => { button.disabled = false; }));
      return button;
    } },
  ], deliveries, "No deliveries: no webhook endpoint was subscribed to this call's events.");
}

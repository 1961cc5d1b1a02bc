// Campaigns: the list (paged) and the form that creates one (a draft; contacts come next, on the
// campaign's page).
import { get, post } from "../api.js";
import { badge, el, field, heading, onSubmit, pager, table, when } from "../ui.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export async function showCampaigns(view) {
  const results = el("section", { class: "card", "aria-label": "Campaigns" });
  view.append(heading("Campaigns", el("a", { class: "button", href: "#/campaigns/new", text: "New campaign" })), results);
  await pager(results, async (token) => {
    const page = await get("campaigns", { limit: 25, next_token: token });
    return { items: page.campaigns, next: page.next_token };
  }, (campaigns) => table("Campaigns, newest first", [
    { label: "Name", value: (c) => el("a", { href: `#/campaigns/${encodeURIComponent(c.campaign_id)}`, text: c.name }) },
    { label: "Status", value: (c) => badge(c.status) },
    { label: "Finished", value: (c) => `${c.progress.finished} / ${c.progress.contacts_total}`, num: true },
    { label: "In flight", value: (c) => c.progress.in_flight, num: true },
    { label: "Answered", value: (c) => c.progress.answered, num: true },
    { label: "Created", value: (c) => when(c.created_at) },
  ], campaigns, "No campaigns yet: create one."));
}

export async function showNewCampaign(view) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const input = (name, attributes = {}) => el("input", { name, ...attributes });
  const form = el("form", { class: "card", "aria-label": "New campaign" },
    el("div", { class: "row" },
      field("Name", input("name", { required: true, maxlength: 200 })),
      field("From number", input("from_phone_number", { required: true, placeholder: "+15551234567", inputmode: "tel" }),
        "One of your organization's numbers (E.164)."),
      field("Assistant id (optional)", input("assistant_id", { type: "number", min: 0 }))),
    field("Welcome message (optional)", el("textarea", { name: "welcome_message", maxlength: 4000 }),
      "{{variable}} placeholders are filled from each contact's columns."),
    field("Agenda (optional)", el("textarea", { name: "agenda", maxlength: 4000 })),
    el("fieldset", {}, el("legend", { text: "Calling window (the recipient's local time, within 08:00-21:00)" }),
      el("div", {}, DAYS.map((day) => el("label", { class: "inline" },
        el("input", { type: "checkbox", name: "days", value: day, checked: true }), day))),
      el("div", { class: "row" }, field("Start", input("start", { type: "time", value: "09:00", required: true })),
        field("End", input("end", { type: "time", value: "20:00", required: true })),
        field("Time zone for recipients of unknown zone", input("timezone", { value: zone, required: true })))),
    el("fieldset", {}, el("legend", { text: "Pacing and retries" }),
      el("div", { class: "row" },
        field("Calls in flight at most", input("max_concurrent_calls", { type: "number", min: 1, max: 1000, value: 5, required: true })),
        field("Calls started per minute at most", input("calls_per_minute", { type: "number", min: 1, max: 6000, value: 30, required: true })),
        field("Attempts per contact", input("max_attempts", { type: "number", min: 1, max: 10, value: 2, required: true })),
        field("Minutes between attempts", input("delay_minutes", { type: "number", min: 0, max: 10080, value: 60, step: "any" }))),
      el("div", {}, ["busy", "no-answer", "failed"].map((reason) => el("label", { class: "inline" },
        el("input", { type: "checkbox", name: "retry_on", value: reason, checked: reason !== "failed" }), `retry on ${reason}`)))),
    el("button", { type: "submit", text: "Create campaign" }));
  onSubmit(form, async (data) => {
    const text = (name) => (data.get(name) || "").trim() || undefined;
    const body = {
      name: text("name"), from_phone_number: text("from_phone_number"),
      assistant_id: text("assistant_id") ? Number(text("assistant_id")) : undefined,
      welcome_message: text("welcome_message"), agenda: text("agenda"), timezone: text("timezone"),
      calling_window: { days: data.getAll("days"), start: data.get("start"), end: data.get("end") },
      pacing: { max_concurrent_calls: Number(data.get("max_concurrent_calls")), calls_per_minute: Number(data.get("calls_per_minute")) },
      retry_policy: { max_attempts: Number(data.get("max_attempts")), delays_minutes: [Number(data.get("delay_minutes") || 0)],
                      retry_on: data.getAll("retry_on") },
    };
    const created = await post("campaigns", body);
    location.hash = `#/campaigns/${encodeURIComponent(created.campaign_id)}`;
  });
  view.append(heading("New campaign"), form);
}

// Webhook endpoints: create (the signing secret is shown once), rotate the secret, delete, and an
// endpoint's delivery log with a retry per delivery.
import { get, post, del } from "../api.js";
import { clear, el, field, heading, onSubmit, pager, report, say, table, when } from "../ui.js";
import { deliveryTable } from "./calls.js";

const EVENTS = ["call.queued", "call.ringing", "call.answered", "call.completed", "campaign.status_changed",
                "campaign.contact_finalized"];

function secretBox(title, secret) {
  const value = el("input", { type: "text", readonly: true, value: secret, class: "mono", "aria-label": "Signing secret" });
  const copy = el("button", { type: "button", class: "secondary", text: "Copy" });
  copy.addEventListener("click", async () => { await navigator.clipboard.writeText(secret); say("Secret copied."); });
  return el("div", { class: "secret", id: "secret", role: "group", "aria-label": title },
    el("strong", { text: title }), el("p", { text: "Shown only now: store it where your receiver verifies signatures." }),
    el("div", { class: "row" }, el("div", { class: "field" }, value), copy));
}

export async function showEndpoints(view) {
  const secretSlot = el("div");
  const list = el("section", { class: "card", "aria-label": "Endpoints" });
  const form = el("form", { class: "card", "aria-label": "New webhook endpoint" },
    el("h2", { text: "New endpoint" }),
    field("URL", el("input", { name: "url", type: "url", required: true, placeholder: "https://example.com/hooks/calls" }),
      "https:// only, on a public address."),
    el("fieldset", {}, el("legend", { text: "Events" }), EVENTS.map((event) => el("label", { class: "inline" },
      el("input", { type: "checkbox", name: "events", value: event, checked: event === "call.completed" }), event))),
    field("Description (optional)", el("input", { name: "description", maxlength: 500 })),
    el("button", { type: "submit", text: "Create endpoint" }));
  onSubmit(form, async (data) => {
    const created = await post("webhook-endpoints", { url: data.get("url"), events: data.getAll("events"),
                                                      description: data.get("description") || undefined });
    clear(secretSlot).append(secretBox(`Secret of ${created.url}`, created.secret));
    form.reset();
    await render();
  });
  view.append(heading("Webhook endpoints"), secretSlot, list, form);

  async function render() {
    const body = await get("webhook-endpoints");
    clear(list).append(table("Your endpoints", [
      { label: "URL", value: (e) => el("a", { href: `#/webhooks/${encodeURIComponent(e.id)}`, text: e.url }) },
      { label: "Events", value: (e) => e.events.join(", ") },
      { label: "Description", value: (e) => e.description || "—" },
      { label: "Created", value: (e) => when(e.created_at) },
      { label: "", value: (e) => el("div", { class: "row" },
        button("Rotate secret", `Rotate the secret of ${e.url}`, async () => {
          const rotated = await post(`webhook-endpoints/${encodeURIComponent(e.id)}/rotate-secret`);
          clear(secretSlot).append(secretBox(`New secret of ${e.url} (the previous one signs too until `
            + `${new Date(rotated.previous_secret_expires_at).toLocaleString()})`, rotated.secret));
        }),
        button("Delete", `Delete ${e.url}`, async () => {
          if (!confirm(`Delete the endpoint ${e.url}? Its pending deliveries stop.`)) return;
          await del(`webhook-endpoints/${encodeURIComponent(e.id)}`);
          say("Endpoint deleted.");
          await render();
        }, "danger")) },
    ], body.webhook_endpoints, "No endpoints yet."));
  }
  await render();
}

function button(text, label, action, kind = "secondary") {
  const node = el("button", { type: "button", class: kind, text, "aria-label": label });
  node.addEventListener("click", async () => {
    node.disabled = true;
    try { await action(); } catch (error) { report(error); } finally { node.disabled = false; }
  });
  return node;
}

export async function showEndpoint(view, endpointId) {
  const id = encodeURIComponent(endpointId);
  const endpoint = await get(`webhook-endpoints/${id}`);
  const log = el("section", { class: "card", "aria-label": "Delivery log" });
  view.append(heading("Delivery log"), el("p", {}, el("span", { class: "mono", text: endpoint.url }),
    ` · ${endpoint.events.join(", ")} · `, el("a", { href: "#/webhooks", text: "All endpoints" })), log);
  const retry = async (delivery) => {
    await post(`webhook-deliveries/${encodeURIComponent(delivery.id)}/retry`);
    say(`Delivery of ${delivery.event_type} queued again.`);
  };
  await pager(log, async (token) => {
    const page = await get(`webhook-endpoints/${id}/deliveries`, { limit: 25, next_token: token });
    return { items: page.deliveries, next: page.next_token };
  }, (deliveries) => deliveryTable(deliveries, retry, "Deliveries to this endpoint, newest first"));
}

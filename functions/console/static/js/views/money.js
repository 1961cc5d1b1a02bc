// Money: the balance, what is reserved by calls in progress and what is available; spend per day
// as a chart; the ledger, paged.
import { get } from "../api.js";
import { chartPanel, colour, drawBars } from "../charts.js";
import { el, heading, money, pager, table, when } from "../ui.js";

export async function showMoney(view) {
  const [balance, spend] = await Promise.all([get("organization/balance"), get("organization/spend", { days: 30 })]);
  const card = (label, cents, id) => el("section", { class: "card", "aria-labelledby": `${id}-label` },
    el("h2", { id: `${id}-label`, text: label }), el("p", { class: "figure", id, text: money(cents) }));
  const chart = chartPanel("chart-spend", "Spend per day (UTC), last 30 days");
  const ledger = el("section", { class: "card", "aria-labelledby": "ledger-title" }, el("h2", { id: "ledger-title", text: "Ledger" }));
  view.append(heading("Money"), el("div", { class: "grid" }, card("Balance", balance.balance_cents, "balance"),
    card("Reserved by calls in progress", balance.reserved_cents, "reserved"),
    card("Available", balance.available_cents, "available")), chart.panel, ledger);
  const days = spend.days;
  await drawBars(chart, {
    labels: days.map((d) => d.day.slice(5)), dollars: true,
    datasets: [{ label: "charged ($)", data: days.map((d) => d.charged_cents / 100), colour: colour("primary") }],
    caption: "Spend per day", columns: [{ label: "Day", value: (r) => days[r.i].day },
      { label: "Charged", value: (r) => money(days[r.i].charged_cents), num: true },
      { label: "Calls charged", value: (r) => days[r.i].charges, num: true }],
  });
  chart.summary.textContent = `${money(spend.total_cents)} charged from ${spend.first_day} to ${spend.last_day}; `
    + `today ${money(days[days.length - 1].charged_cents)}.`;
  await pager(ledger, async (token) => {
    const page = await get("organization/ledger", { limit: 25, next_token: token });
    return { items: page.entries, next: page.next_token };
  }, (entries) => table("Every movement of the balance, newest first", [
    { label: "When", value: (e) => when(e.created_at) },
    { label: "Kind", value: (e) => e.kind },
    { label: "Amount", value: (e) => money(e.amount_cents), num: true },
    { label: "Balance", value: (e) => money(e.balance_delta_cents), num: true },
    { label: "Reserved", value: (e) => money(e.reserved_delta_cents), num: true },
    { label: "Call", value: (e) => (e.call_id ? el("a", { href: `#/calls/${encodeURIComponent(e.call_id)}`, text: e.call_id }) : "—") },
    { label: "Why", value: (e) => e.cause || e.reason || e.reference || "—" },
  ], entries, "No ledger entries."));
}

// Do-not-call: search the list by a number's beginning, add a number, remove one.
import { del, get, post } from "../api.js";
import { clear, el, field, heading, onSubmit, pager, report, say, table, when } from "../ui.js";

export async function showDoNotCall(view, _id, params) {
  const search = el("form", { class: "card", role: "search", "aria-label": "Search the do-not-call list" },
    field("Numbers starting with", el("input", { name: "starting_with", value: params.get("starting_with") || "",
      placeholder: "+1555", inputmode: "tel" })), el("button", { type: "submit", text: "Search" }));
  onSubmit(search, async (data) => {
    const prefix = (data.get("starting_with") || "").trim();
    location.hash = prefix ? `#/dnc?starting_with=${encodeURIComponent(prefix)}` : "#/dnc";
  });
  const add = el("form", { class: "card", "aria-label": "Add a number" }, el("h2", { text: "Add a number" }),
    el("div", { class: "row" }, field("Phone number", el("input", { name: "phone_number", required: true, placeholder: "+15559876543", inputmode: "tel" })),
      field("Reason (optional)", el("input", { name: "reason", maxlength: 500 }))),
    el("button", { type: "submit", text: "Add to the list" }));
  const list = el("section", { class: "card", "aria-label": "Do-not-call list" });
  onSubmit(add, async (data) => {
    const added = await post("suppressions", { phone_number: data.get("phone_number"), reason: data.get("reason") || undefined });
    say(`${added.phone_number} will not be called.`);
    add.reset();
    await load();
  });
  view.append(heading("Do-not-call list"), search, add, list);
  const load = () => pager(clear(list), async (token) => {
    const page = await get("suppressions", { starting_with: params.get("starting_with"), limit: 25, next_token: token });
    return { items: page.suppressions, next: page.next_token };
  }, (entries) => table("Numbers never called, by number", [
    { label: "Number", value: (s) => s.phone_number },
    { label: "Reason", value: (s) => s.reason || "—" },
    { label: "Added", value: (s) => when(s.created_at) },
    { label: "", value: (s) => {
      const remove = el("button", { type: "button", class: "danger", text: "Remove", "aria-label": `Remove ${s.phone_number}` });
      remove.addEventListener("click", async () => {
        if (!confirm(`Remove ${s.phone_number} from the do-not-call list? It may be called again.`)) return;
        try {
          await del(`suppressions/${encodeURIComponent(s.phone_number)}`);
          say(`${s.phone_number} removed.`);
          await load();
        } catch (error) { report(error); }
      });
      return remove;
    } },
  ], entries, params.get("starting_with") ? "No number starts so." : "The list is empty."));
  await load();
}

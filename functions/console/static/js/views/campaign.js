// A campaign's page: start, pause, resume, cancel; contacts from a CSV (the presigned import: drop
// the file or pick it; row errors by row); a live view while it runs (progress, calls in flight
// against the cap, dials per minute against the limit, outcomes over time, answer rate by the
// recipient's local hour), its contacts, and its results as CSV.
import { get, post, request } from "../api.js";
import { chartPanel, colour, drawBars } from "../charts.js";
import { badge, clear, el, field, heading, pager, report, say, table, when } from "../ui.js";

const REFRESH_MS = 2000;
const OUTCOMES = ["completed", "busy", "no-answer", "failed", "canceled"];
const CONTACT_STATUSES = ["pending", "waiting_window", "dialing", "in_progress", "retry_scheduled", "completed", "busy",
                          "no_answer", "failed", "suppressed", "invalid", "canceled"];
const MOVES = { start: ["draft"], pause: ["running", "scheduled"], resume: ["paused"],
                cancel: ["draft", "scheduled", "running", "paused"] };
const ENDED = ["completed", "canceled"];
const hhmm = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export async function showCampaign(view, campaignId) {
  const id = encodeURIComponent(campaignId);
  let campaign = await get(`campaigns/${id}`);
  const title = heading(campaign.name);
  const status = el("p", { id: "campaign-status" });
  const buttons = Object.fromEntries(Object.keys(MOVES).map((move) => [move,
    el("button", { type: "button", class: move === "cancel" ? "danger" : move === "start" ? "" : "secondary",
                   text: move[0].toUpperCase() + move.slice(1), "data-move": move })]));
  const actions = el("div", { class: "row", role: "group", "aria-label": "Campaign actions" }, Object.values(buttons));
  for (const [move, button] of Object.entries(buttons)) {
    button.addEventListener("click", async () => {
      if (move === "cancel" && !confirm("Cancel this campaign? Waiting contacts end canceled; calls in flight finish.")) return;
      button.disabled = true;
      try {
        campaign = await post(`campaigns/${id}/${move}`);
        say(`Campaign ${campaign.status}.`);
        await refresh();
      } catch (error) { report(error); } finally { paint(); }
    });
  }

  // Progress and limits
  const progress = el("progress", { id: "campaign-progress", max: 1, value: 0, "aria-labelledby": "progress-title" });
  const progressText = el("p", { id: "progress-text" });
  const counts = el("dl", { class: "facts", id: "status-counts" });
  const inFlight = el("meter", { id: "in-flight", min: 0, max: 1, value: 0, "aria-labelledby": "in-flight-label" });
  const inFlightText = el("p", { id: "in-flight-text", class: "figure" });
  const dials = el("meter", { id: "dials-meter", min: 0, max: 1, value: 0, "aria-labelledby": "dials-label" });
  const dialsText = el("p", { id: "dials-text", class: "figure" });
  const statsNote = el("p", { class: "muted" });
  const live = el("div", { class: "grid" },
    el("section", { class: "card", "aria-labelledby": "progress-title" }, el("h2", { id: "progress-title", text: "Progress" }),
      progress, progressText, counts),
    el("section", { class: "card" }, el("h2", { id: "in-flight-label", text: "Calls in flight (against the cap)" }),
      inFlightText, inFlight,
      el("h2", { id: "dials-label", text: "Dials in the last minute (against the limit)" }), dialsText, dials, statsNote));
  const outcomes = chartPanel("chart-outcomes", "Outcomes over time");
  const perMinute = chartPanel("chart-dials", "Dials per minute (last 30 minutes)");
  const byHour = chartPanel("chart-answer-rate", "Answer rate by the recipient's local hour");

  // Contacts: import, list; results
  let reloadContacts = async () => {};
  const importPanel = buildImport(id, () => Promise.all([refresh(), reloadContacts()]));
  const contacts = el("section", { class: "card", "aria-labelledby": "contacts-title" },
    el("h2", { id: "contacts-title", text: "Contacts" }));
  const download = el("button", { type: "button", class: "secondary", text: "Download results (CSV)" });
  download.addEventListener("click", () => downloadResults(id, campaign.name, download).catch(report));
  const callsLink = el("a", { href: `#/calls?campaign_id=${id}&from=${encodeURIComponent(campaign.created_at.slice(0, 10))}`,
                              text: "This campaign's calls" });
  // Preview: the compliance dry run will show here once the API has it (not yet).
  view.append(title, el("section", { class: "card" }, status, actions,
    el("p", {}, callsLink, " · ", download)), live, el("div", { class: "grid" }, outcomes.panel, perMinute.panel),
    byHour.panel, importPanel, contacts);
  showContacts(contacts, id).then((reload) => { reloadContacts = reload; }, report);

  function paint() {
    clear(status).append("Status: ", badge(campaign.status),
      campaign.paused_reason ? ` (${campaign.paused_reason.replaceAll("_", " ")})` : "",
      " · created ", when(campaign.created_at), ...(campaign.started_at ? [" · started ", when(campaign.started_at)] : []));
    for (const [move, button] of Object.entries(buttons)) button.disabled = !MOVES[move].includes(campaign.status);
    const p = campaign.progress;
    progress.max = Math.max(p.contacts_total, 1);
    progress.value = p.finished;
    progressText.textContent = `${p.finished} of ${p.contacts_total} contacts finished · ${p.waiting} waiting · `
      + `${p.attempts} attempts · ${p.answered} answered · ${p.talk_seconds} s talked · $${(p.charged_cents / 100).toFixed(2)} charged`;
    clear(counts).append(...Object.entries(p.by_status).filter(([, n]) => n).flatMap(([name, n]) =>
      [el("dt", { text: name.replaceAll("_", " ") }), el("dd", { text: String(n), "data-status": name })]));
  }

  async function drawStats(stats) {
    inFlight.max = Math.max(stats.max_concurrent_calls, 1);
    inFlight.value = stats.in_flight;
    inFlightText.textContent = `${stats.in_flight} of ${stats.max_concurrent_calls}`;
    dials.max = Math.max(stats.calls_per_minute, 1);
    dials.value = Math.min(stats.dials_last_minute, stats.calls_per_minute);
    dialsText.textContent = `${stats.dials_last_minute} of ${stats.calls_per_minute} per minute`;
    statsNote.textContent = stats.complete ? `From all ${stats.calls_read} attempts.`
      : `From the newest ${stats.calls_read} attempts.`;
    const buckets = stats.outcomes.buckets;
    await drawBars(outcomes, {
      labels: buckets.map((b) => hhmm.format(new Date(b.start))), stacked: true,
      datasets: OUTCOMES.map((name) => ({ label: name, data: buckets.map((b) => b[name]), colour: colour(name) })),
      caption: `Outcomes per ${stats.outcomes.bucket_minutes} min`,
      columns: [{ label: "From", value: (r) => r.label }, ...OUTCOMES.map((name) =>
        ({ label: name, value: (r) => buckets[r.i][name], num: true }))],
    });
    const ended = OUTCOMES.map((name) => [name, buckets.reduce((sum, b) => sum + b[name], 0)]).filter(([, n]) => n);
    outcomes.summary.textContent = ended.length ? `Ended so far: ${ended.map(([name, n]) => `${n} ${name}`).join(", ")}.`
      : "No attempt has ended yet.";
    const minutes = stats.dials_per_minute;
    await drawBars(perMinute, {
      labels: minutes.map((m) => hhmm.format(new Date(m.minute))),
      datasets: [{ label: "dials", data: minutes.map((m) => m.dials), colour: colour("primary") },
                 { label: "limit per minute", data: minutes.map(() => stats.calls_per_minute), colour: colour("limit"),
                   type: "line", dashed: true }],
      caption: "Dials per minute", columns: [{ label: "Minute", value: (r) => r.label },
        { label: "Dials", value: (r) => minutes[r.i].dials, num: true }],
    });
    perMinute.summary.textContent = `${minutes.reduce((sum, m) => sum + m.dials, 0)} dials in the last 30 minutes; `
      + `limit ${stats.calls_per_minute} per minute.`;
    const hours = stats.answer_rate_by_local_hour;
    await drawBars(byHour, {
      labels: hours.map((h) => String(h.hour).padStart(2, "0")), yMax: 100, percent: true,
      datasets: [{ label: "answered %", data: hours.map((h) => (h.answer_rate === null ? null : Math.round(h.answer_rate * 100))),
                   colour: colour("completed") }],
      caption: "Answer rate by the recipient's local hour", columns: [{ label: "Hour", value: (r) => r.label },
        { label: "Ended attempts", value: (r) => hours[r.i].attempts, num: true },
        { label: "Answered", value: (r) => hours[r.i].answered, num: true }],
    });
    const tried = hours.filter((h) => h.attempts);
    byHour.summary.textContent = tried.length ? tried.map((h) => `${String(h.hour).padStart(2, "0")}h: `
      + `${h.answered} of ${h.attempts} answered`).join("; ") + "." : "No attempt has ended yet.";
  }

  async function refresh() {
    const [fresh, stats] = await Promise.all([get(`campaigns/${id}`), get(`campaigns/${id}/stats`)]);
    campaign = fresh;
    paint();
    await drawStats(stats);
  }

  let timer = null;
  let stopped = false;
  const tick = async () => {
    try { await refresh(); } catch (error) { report(error); }
    if (!stopped) timer = setTimeout(tick, ENDED.includes(campaign.status) && !campaign.progress.in_flight ? REFRESH_MS * 5 : REFRESH_MS);
  };
  paint();
  await tick();
  return () => { stopped = true; clearTimeout(timer); };
}

function buildImport(id, done) {
  const input = el("input", { type: "file", id: "csv-file", accept: ".csv,text/csv", "aria-describedby": "csv-hint" });
  const zone = el("div", { class: "drop", id: "csv-drop" },
    el("p", { id: "csv-hint", text: "Drop a CSV here, or choose it: a phone_number column (E.164), optional timezone and "
      + "external_id, every other column a variable for the templates." }),
    field("CSV file", input));
  const state = el("div", { id: "import-state", "aria-live": "polite" });
  const panel = el("section", { class: "card", "aria-labelledby": "import-title" },
    el("h2", { id: "import-title", text: "Add contacts from a CSV" }), zone, state);
  const upload = async (file) => {
    if (!file) return;
    clear(state).append(el("p", { text: `Uploading ${file.name}…` }));
    const started = await post(`campaigns/${id}/imports`);
    // Straight to the bucket with the presigned URL: the API key is not sent there.
    const put = await fetch(started.upload_url, { method: started.upload_method || "PUT", body: file,
      headers: started.upload_headers || { "Content-Type": "text/csv" }, credentials: "omit", referrerPolicy: "no-referrer" });
    if (!put.ok) throw new Error(`The upload was refused (${put.status})`);
    let job = started;
    for (let i = 0; i < 240 && !["completed", "failed"].includes(job.status); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = await get(`campaigns/${id}/imports/${encodeURIComponent(started.import_id)}`);
      clear(state).append(el("p", { text: `Import ${job.status}: ${job.rows_processed} rows read…` }));
    }
    clear(state).append(
      el("p", { id: "import-result" }, badge(job.status), ` ${job.rows_processed} rows read, ${job.added} added, `
        + `${job.error_count} refused.`, job.failure ? ` ${job.failure}` : ""),
      job.errors && job.errors.length ? table("Rows refused (the file's line numbers)", [
        { label: "Row", value: (e) => e.row, num: true }, { label: "Phone number", value: (e) => e.phone_number || "—" },
        { label: "Why", value: (e) => e.error }], job.errors) : null);
    say(`Import ${job.status}: ${job.added} contacts added, ${job.error_count} rows refused.`);
    input.value = "";
    await done();
  };
  input.addEventListener("change", () => upload(input.files[0]).catch(report));
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    upload(event.dataTransfer.files[0]).catch(report);
  });
  return panel;
}

async function showContacts(section, id) {
  const filter = el("select", { id: "contact-status" }, el("option", { value: "", text: "Every status" }),
    CONTACT_STATUSES.map((s) => el("option", { value: s, text: s.replaceAll("_", " ") })));
  const list = el("div");
  section.append(field("Show contacts", filter), list);
  const load = () => pager(clear(list), async (token) => {
    const page = await get(`campaigns/${id}/contacts`, { status: filter.value, limit: 25, next_token: token });
    return { items: page.contacts, next: page.next_token };
  }, (contacts) => table("Contacts", [
    { label: "Number", value: (c) => c.phone_number },
    { label: "Status", value: (c) => badge(c.status) },
    { label: "Attempts", value: (c) => c.attempts, num: true },
    { label: "Last call", value: (c) => c.last_call_status || "—" },
    { label: "Calls", value: (c) => el("span", {}, (c.call_ids || []).map((callId, i) =>
      [i ? ", " : "", el("a", { href: `#/calls/${encodeURIComponent(callId)}`, text: `attempt ${i + 1}` })])) },
    { label: "Why it ended", value: (c) => c.final_reason || "—" },
  ], contacts, "No contacts yet: import a CSV."));
  filter.addEventListener("change", () => load().catch(report));
  await load();
  return load;
}

async function downloadResults(id, name, button) {
  button.disabled = true;
  try {
    const parts = [];
    let token = null;
    do { // 10,000 rows per part; X-Next-Token names the next
      const response = await request("GET", `campaigns/${id}/results.csv`, { query: { next_token: token }, raw: true });
      const text = await response.text();
      parts.push(parts.length ? text.slice(text.indexOf("\n") + 1) : text);
      token = response.headers.get("X-Next-Token");
    } while (token);
    const link = el("a", { href: URL.createObjectURL(new Blob(parts, { type: "text/csv" })),
                           download: `${name.replace(/[^\w.-]+/g, "_") || id}-results.csv` });
    document.body.append(link);
    link.click();
    setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  } finally {
    button.disabled = false;
  }
}

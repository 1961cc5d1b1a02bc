// Small DOM helpers: every text goes in through textContent (never innerHTML), so nothing the API
// answers can become markup.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) { node.replaceChildren(); return node; }

let uniqueIds = 0;
export const uid = (prefix) => `${prefix}-${++uniqueIds}`;

export function field(label, input, hint) {
  input.id = input.id || uid("field");
  const parts = [el("label", { for: input.id, text: label }), input];
  if (hint) {
    const hintId = uid("hint");
    input.setAttribute("aria-describedby", hintId);
    parts.push(el("small", { id: hintId, class: "muted", text: hint }));
  }
  return el("div", { class: "field" }, parts);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
export function when(iso) {
  if (!iso) return el("span", { class: "muted", text: "—" });
  const date = new Date(iso);
  return el("time", { datetime: iso, title: iso, text: Number.isNaN(date.valueOf()) ? iso : dateTime.format(date) });
}

export function money(cents) {
  if (cents === null || cents === undefined) return "—";
  const sign = cents < 0 ? "−" : "";
  return `${sign}$${(Math.abs(cents) / 100).toFixed(2)}`;
}

export function seconds(value) {
  if (value === null || value === undefined) return "—";
  const minutes = Math.floor(value / 60);
  return minutes ? `${minutes} min ${value % 60} s` : `${value} s`;
}

const GOOD = ["completed", "succeeded", "delivered"];
const BAD = ["failed", "busy", "no-answer", "no_answer", "canceled", "invalid", "suppressed", "unconfirmed"];
const LIVE = ["queued", "ringing", "in-progress", "in_progress", "dialing", "running", "pending"];
export function badge(status) {
  const kind = GOOD.includes(status) ? "good" : BAD.includes(status) ? "bad" : LIVE.includes(status) ? "live" : "wait";
  return el("span", { class: `badge ${kind}`, text: status ?? "—" });
}

// A table: columns [{label, value(row) -> text|Node, num?}], with a caption (screen readers read it).
export function table(caption, columns, rows, empty = "Nothing yet.") {
  if (!rows.length) return el("p", { class: "muted", text: empty });
  const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : undefined, text: c.label })));
  const body = rows.map((row) => el("tr", {}, columns.map((c) => {
    const value = c.value(row);
    return el("td", { class: c.num ? "num" : undefined, "data-label": c.label },
      value instanceof Node ? value : String(value ?? "—"));
  })));
  return el("div", { class: "table-wrap" }, el("table", {}, el("caption", { text: caption }),
    el("thead", {}, head), el("tbody", {}, body)));
}

// Server-side pages: load(token) -> {items, next}. Keeps the tokens of the pages seen, so
// "Previous" goes back without reloading everything.
export function pager(container, load, render) {
  const tokens = [null];
  let index = 0;
  const previous = el("button", { type: "button", class: "secondary", text: "Previous page" });
  const next = el("button", { type: "button", class: "secondary", text: "Next page" });
  const where = el("span", { class: "muted" });
  const body = el("div");
  async function show() {
    previous.disabled = next.disabled = true;
    const page = await load(tokens[index]);
    clear(body).append(render(page.items));
    tokens[index + 1] = page.next;
    previous.disabled = index === 0;
    next.disabled = !page.next;
    where.textContent = `Page ${index + 1}`;
  }
  previous.addEventListener("click", () => { index -= 1; show().catch(report); });
  next.addEventListener("click", () => { index += 1; show().catch(report); });
  container.append(body, el("div", { class: "pager" }, previous, next, where));
  return show();
}

export function say(text) {
  const notice = document.getElementById("notice");
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { notice.hidden = true; }, 6000);
}

export function report(error) {
  const problem = document.getElementById("problem");
  problem.textContent = error && error.message ? error.message : String(error);
  problem.hidden = false;
}

export function clearProblem() {
  const problem = document.getElementById("problem");
  problem.hidden = true;
  problem.textContent = "";
}

// A form's submit, with its button disabled meanwhile and errors shown.
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    clearProblem();
    try { await handler(new FormData(form)); } catch (error) { report(error); } finally { if (button) button.disabled = false; }
  });
  return form;
}

export function heading(text, ...extra) {
  return el("div", { class: "spread" }, el("h1", { text }), ...extra);
}

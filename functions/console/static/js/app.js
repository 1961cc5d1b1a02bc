// The console's entry point: sign-in, the section navigation, and the hash router (#/calls,
// #/calls/<ref>, #/campaigns, #/campaigns/new, #/campaigns/<id>, #/money, #/webhooks,
// #/webhooks/<id>, #/dnc). Views are modules loaded on first use.
import { ApiError, key, request, whenUnauthorized } from "./api.js";
import { clear, clearProblem, report } from "./ui.js";

const ROUTES = [
  [/^calls$/, "calls", "showCalls"],
  [/^calls\/([^/]+)$/, "calls", "showCall"],
  [/^campaigns$/, "campaigns", "showCampaigns"],
  [/^campaigns\/new$/, "campaigns", "showNewCampaign"],
  [/^campaigns\/([^/]+)$/, "campaign", "showCampaign"],
  [/^money$/, "money", "showMoney"],
  [/^webhooks$/, "webhooks", "showEndpoints"],
  [/^webhooks\/([^/]+)$/, "webhooks", "showEndpoint"],
  [/^dnc$/, "dnc", "showDoNotCall"],
];
const SECTION_OF = { calls: "calls", campaigns: "campaigns", campaign: "campaigns", money: "money",
                     webhooks: "webhooks", dnc: "dnc" };

const view = document.getElementById("view");
const signIn = document.getElementById("sign-in");
const nav = document.getElementById("nav");
const signOut = document.getElementById("sign-out");
let leave = null; // the current view's clean-up (it stops its polling)

function parseHash() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  return { path: path || "calls", params: new URLSearchParams(query || "") };
}

async function route() {
  if (leave) { leave(); leave = null; }
  clearProblem();
  if (!key.get()) return showSignIn();
  signIn.hidden = true;
  nav.hidden = signOut.hidden = false;
  const { path, params } = parseHash();
  const match = ROUTES.map(([pattern, module, name]) => [path.match(pattern), module, name]).find(([m]) => m);
  clear(view);
  if (!match) {
    location.hash = "#/calls";
    return;
  }
  const [found, module, name] = match;
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.section === SECTION_OF[module]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  try {
    const views = await import(`./views/${module}.js`);
    leave = await views[name](view, decodeURIComponent(found[1] || ""), params) || null;
  } catch (error) {
    report(error);
  }
  const title = view.querySelector("h1");
  document.title = `${title ? title.textContent + " · " : ""}Outbound calls console`;
  document.getElementById("main").focus({ preventScroll: true });
}

function showSignIn(message) {
  clear(view);
  nav.hidden = signOut.hidden = true;
  signIn.hidden = false;
  const error = document.getElementById("sign-in-error");
  error.hidden = !message;
  error.textContent = message || "";
  document.getElementById("api-key").focus();
}

document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("api-key");
  const candidate = input.value.trim();
  const button = event.target.querySelector("button");
  button.disabled = true;
  try {
    await request("GET", "organization/balance", { apiKey: candidate }); // proves the key
    key.set(candidate);
    input.value = "";
    if (!location.hash || location.hash === "#/") location.hash = "#/calls";
    else await route();
  } catch (error) {
    showSignIn(error instanceof ApiError && error.status === 401
      ? "That key was refused: check it and try again." : error.message);
  } finally {
    button.disabled = false;
  }
});

signOut.addEventListener("click", () => {
  key.clear();
  if (leave) { leave(); leave = null; }
  showSignIn();
});

whenUnauthorized(() => {
  key.clear();
  if (leave) { leave(); leave = null; }
  showSignIn("Your key is no longer accepted (revoked?): sign in again.");
});

window.addEventListener("hashchange", route);
route();

// The public API, called with the organization's key from this tab's sessionStorage (never a URL,
// a cookie or a log). The API is on this page's origin: the console is served under <api>/console/.
const KEY = "outbound.apiKey";

export const apiBase = new URL("../", document.baseURI);

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

export const key = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

let onUnauthorized = () => {};
export function whenUnauthorized(callback) { onUnauthorized = callback; }

// A path relative to the API (no leading slash), with its query: ["calls", {status: "busy"}].
export function url(path, query = {}) {
  const target = new URL(path.replace(/^\//, ""), apiBase);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(name, value);
  }
  return target;
}

export async function request(method, path, { query, body, apiKey, raw } = {}) {
  const headers = { Authorization: `Bearer ${apiKey || key.get() || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url(path, query), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
  });
  if (raw && response.ok) return response;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const error = new ApiError(response.status, (data && data.detail) || response.statusText);
    if (response.status === 401 && !apiKey) onUnauthorized(error);
    throw error;
  }
  return data;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body) => request("POST", path, { body });
export const del = (path) => request("DELETE", path);

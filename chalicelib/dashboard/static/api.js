// The one place the dashboard talks to the API: Bearer key from sessionStorage, errors as ApiError.
const KEY = "batchcall.apiKey";
export const base = new URL(".", document.baseURI); // "/" locally, "/<stage>/" behind API Gateway

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "http_" + status;
    this.details = (body && Array.isArray(body.details)) ? body.details : [];
  }
}

export class NetworkError extends Error {}

export const auth = {
  get key() { return sessionStorage.getItem(KEY); },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

const netStatus = { down: false, listeners: [] };
function setNetwork(down) {
  if (netStatus.down === down) return;
  netStatus.down = down;
  const box = document.getElementById("network-status");
  if (box) {
    box.hidden = !down;
    box.textContent = down ? "The network or the API cannot be reached: retrying…" : "";
  }
}

export function url(path) { return new URL(path.replace(/^\//, ""), base).toString(); }

// fetch with the key; returns the Response (any status) or throws NetworkError. A 401 signs out.
export async function raw(path, { method = "GET", body, headers = {}, signal, redirect, keepalive } = {}) {
  const init = { method, headers: { ...headers }, signal, redirect, keepalive, cache: "no-store", referrerPolicy: "no-referrer" };
  const key = auth.key;
  if (key) init.headers.Authorization = "Bearer " + key;
  if (body instanceof FormData || typeof body === "string") init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(url(path), init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    setNetwork(true);
    throw new NetworkError("the network or the API cannot be reached");
  }
  setNetwork(response.status >= 502 && response.status <= 504);
  if (response.status === 401) {
    const body = await response.json().catch(() => ({}));
    const error = new ApiError(401, body);
    onUnauthorized(error);
    throw error;
  }
  return response;
}

// JSON in, JSON out; non-2xx throws ApiError with the API's own message.
export async function api(path, options = {}) {
  const response = await raw(path, options);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, next: response.headers.get("X-Next-Cursor"), response };
}

export const get = (path) => api(path).then((r) => r.data);
export const post = (path, body) => api(path, { method: "POST", body }).then((r) => r.data);
export const patch = (path, body) => api(path, { method: "PATCH", body }).then((r) => r.data);
export const del = (path) => api(path, { method: "DELETE" }).then((r) => r.data);

// Every page of a cursor-paged list, up to `max` items.
export async function all(path, max = 5000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...(page.data || []));
    cursor = page.next;
  } while (cursor && items.length < max);
  return items;
}

// The OpenAPI document, if the service publishes one (field descriptions); never required.
let openapi;
export function openapiDoc() {
  openapi ??= fetch(url("openapi.json"), { cache: "no-store" })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  return openapi;
}

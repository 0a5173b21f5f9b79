// DOM helpers: elements built with text nodes only (never HTML parsed from strings), dialogs, errors, formats.
import { ApiError, NetworkError } from "./api.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

let ids = 0;
export const uid = (prefix = "f") => `${prefix}-${++ids}`;

// A labelled form control with its help text and an error slot named after the API's field.
export function field(label, control, { help, name, wide } = {}) {
  control.id ||= uid();
  if (name) control.name ||= name;
  const helpId = help ? uid("help") : null;
  const errorId = uid("err");
  const describedBy = [helpId, errorId].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", describedBy);
  return h("div", { class: wide ? "field wide" : "field", dataset: { field: name || "" } },
    h("label", { for: control.id }, label),
    control,
    help ? h("p", { class: "help", id: helpId }, help) : null,
    h("p", { class: "field-error", id: errorId, hidden: true }));
}

export function clearErrors(scope) {
  for (const slot of scope.querySelectorAll(".field-error")) { slot.hidden = true; slot.textContent = ""; }
  for (const bad of scope.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
  const alert = scope.querySelector(":scope .form-alert");
  if (alert) { alert.hidden = true; alert.textContent = ""; }
}

// The API's message in the form's alert, and each details[].field's message next to that field.
export function showError(scope, error, alertBox) {
  const box = alertBox || scope.querySelector(".form-alert");
  const message = describe(error);
  if (box) { box.hidden = false; box.textContent = message; }
  if (!(error instanceof ApiError)) return;
  let first = null;
  for (const detail of error.details) {
    if (!detail || !detail.field) continue;
    const parts = String(detail.field).split(".");
    // "retry_config.max_retries" -> the most specific field the form has
    let wrapper = null;
    for (let n = parts.length; n > 0 && !wrapper; n--) {
      wrapper = scope.querySelector(`[data-field="${CSS.escape(parts.slice(0, n).join("."))}"]`);
    }
    if (!wrapper) continue;
    const slot = wrapper.querySelector(".field-error");
    slot.hidden = false;
    slot.textContent = (slot.textContent ? slot.textContent + " " : "") + (detail.message || error.message);
    const control = wrapper.querySelector("input, select, textarea");
    if (control) { control.setAttribute("aria-invalid", "true"); first ??= control; }
  }
  if (first) first.focus();
}

export function describe(error) {
  if (error instanceof NetworkError) return "The network or the API cannot be reached. Nothing was lost: try again.";
  if (error instanceof ApiError) return error.message;
  return String(error && error.message ? error.message : error);
}

// A modal <dialog>; resolves when closed. Escape closes it (the browser's own behaviour).
export function modal(title, body, { testid, onClose } = {}) {
  const headingId = uid("dlg");
  const dialog = h("dialog", { class: "modal", "aria-labelledby": headingId, "data-testid": testid },
    h("h2", { id: headingId }, title), body);
  dialog.addEventListener("close", () => { onClose && onClose(); dialog.remove(); });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

// Confirms a destructive action; resolves true only on Confirm.
export function confirmAction(title, message) {
  return new Promise((resolve) => {
    let answer = false;
    const dialog = modal(title, h("div", {},
      h("p", {}, message),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "danger", onclick: () => { answer = true; dialog.close(); } }, "Confirm"),
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"))),
    { testid: "confirm-dialog", onClose: () => resolve(answer) });
    dialog.querySelector("button.danger").focus();
  });
}

export function alertBox(testid) {
  return h("p", { class: "form-alert", role: "alert", "data-testid": testid, hidden: true });
}

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
export const localZone = zone;

export function localTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function utcIso(date) { return date.toISOString().replace(/\.\d{3}Z$/, "Z"); }

// A time in the browser's zone, the UTC instant on hover (title) and for machines (datetime).
export function timeEl(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: iso, title: utcIso(new Date(iso)) + " (UTC)" }, localTime(iso));
}

export function statusBadge(status, attrs = {}) {
  return h("span", { class: `status status-${status}`, ...attrs }, status);
}

export const FINAL_CALL = ["completed", "no-answer", "busy", "failed", "error", "canceled", "suppressed", "contact_limited"];
export const LIVE_CALL = ["initiated", "ringing", "in-progress"];
export const CALL_STATUSES = ["queued", "rescheduled", "initiated", "ringing", "in-progress", ...FINAL_CALL];

export function finalCount(batch) {
  const counts = batch.execution_status || {};
  return FINAL_CALL.reduce((sum, s) => sum + (counts[s] || 0), 0);
}

export function progressBar(done, total, label) {
  const max = Math.max(total || 0, 0);
  const pct = max ? Math.min(100, Math.round((done / max) * 100)) : 0;
  return h("div", { class: "progress", role: "progressbar", "aria-label": label || "Progress",
    "aria-valuemin": 0, "aria-valuemax": max, "aria-valuenow": Math.min(done, max),
    "aria-valuetext": `${done} of ${max} calls final`, "data-testid": "batch-progress" },
  bar(pct), h("span", { class: "progress-text" }, `${done} / ${max}`));
}

function bar(pct) {
  const node = h("div", { class: "bar" });
  node.style.width = `${pct}%`; // CSSOM, which a CSP without 'unsafe-inline' allows
  return node;
}

// Blob download through a temporary object URL (the key never appears in a URL).
export function saveBlob(blob, fileName) {
  const href = URL.createObjectURL(blob);
  const link = h("a", { href, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(href); link.remove(); }, 1000);
}

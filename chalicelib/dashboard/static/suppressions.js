// Suppressions: the tenant's do-not-call list (add one number, list by source, remove). Bulk lists: the API or CLI.
import { api, post, del } from "./api.js";
import { h, replace, field, clearErrors, showError, alertBox, confirmAction, timeEl, describe } from "./ui.js";

const SOURCES = ["", "api", "csv", "call_opt_out", "provider"];

export function suppressionsView(root) {
  const number = h("input", { type: "tel", required: true, autocomplete: "off", placeholder: "+14155552671" });
  const reason = h("input", { type: "text", maxlength: "500" });
  const formAlert = alertBox("suppression-form-error");
  const form = h("form", { class: "card", "data-testid": "suppression-form", onsubmit: add },
    h("h2", {}, "Add a number"),
    field("Number", number, { name: "number", help: "E.164 (+ and country code); normalised as batch contacts are. A suppressed number is never dialled." }),
    field("Reason", reason, { name: "reason", help: "Optional, for people." }),
    formAlert,
    h("button", { type: "submit", class: "primary" }, "Add to the list"));
  const source = h("select", { "aria-label": "Source" }, SOURCES.map((s) => h("option", { value: s }, s || "every source")));
  source.addEventListener("change", () => load(false));
  const list = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading…"));
  const more = h("button", { type: "button", hidden: true, onclick: () => load(true) }, "More");
  const error = alertBox("suppressions-error");
  let rows = [];
  let cursor = null;

  replace(root, h("h1", {}, "Suppressions"),
    h("p", {}, "Numbers on this list are skipped when a batch is created and never dialled, even by a call already queued."),
    form,
    h("section", { class: "card" }, h("div", { class: "heading-row" }, h("h2", {}, "The list"), source), error, list, more));

  async function load(next) {
    try {
      const query = new URLSearchParams({ limit: "100" });
      if (source.value) query.set("source", source.value);
      if (next && cursor) query.set("cursor", cursor);
      const page = await api(`suppressions?${query}`);
      rows = next ? rows.concat(page.data || []) : page.data || [];
      cursor = page.next;
      more.hidden = !cursor;
      error.hidden = true;
      replace(list, rows.length ? table() : h("p", {}, "No suppressed numbers."));
    } catch (err) {
      if (err.status !== 401) { error.hidden = false; error.textContent = describe(err); }
    }
  }

  function table() {
    return h("div", { class: "table-wrap" }, h("table", {},
      h("caption", { class: "sr-only" }, "Suppressed numbers"),
      h("thead", {}, h("tr", {}, ["Number", "Source", "Reason", "Added by", "Added", "Expires", "Actions"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map((s) => h("tr", { "data-testid": "suppression-row" },
        h("th", { scope: "row" }, s.number),
        h("td", { "data-label": "Source" }, s.source),
        h("td", { "data-label": "Reason" }, s.reason || "—"),
        h("td", { "data-label": "Added by" }, s.added_by || "—"),
        h("td", { "data-label": "Added" }, timeEl(s.created_at)),
        h("td", { "data-label": "Expires" }, s.expires_at ? timeEl(s.expires_at) : "never"),
        h("td", { "data-label": "Actions" },
          h("button", { type: "button", class: "danger", onclick: () => remove(s.number) }, "Remove")))))));
  }

  async function add(event) {
    event.preventDefault();
    clearErrors(form);
    try {
      await post("suppressions", { number: number.value, ...(reason.value ? { reason: reason.value } : {}) });
      number.value = "";
      reason.value = "";
      await load(false);
    } catch (err) {
      if (err.status !== 401) showError(form, err, formAlert);
    }
  }

  async function remove(value) {
    if (!(await confirmAction("Remove from the list", `Take ${value} off the do-not-call list? It may be called again.`))) return;
    try {
      await del(`suppressions/${encodeURIComponent(value)}`);
      await load(false);
    } catch (err) {
      if (err.status !== 401) { error.hidden = false; error.textContent = describe(err); }
    }
  }

  load(false);
}

// Agents: list, create, edit (every field, with its default and meaning), delete.
import { get, post, patch, del, openapiDoc } from "./api.js";
import { h, replace, field, clearErrors, showError, alertBox, confirmAction, timeEl, describe } from "./ui.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const RETRY_STATUSES = ["no-answer", "busy", "failed", "error"];

// Our own short help (default + meaning); OpenAPI descriptions, when published, are appended.
const HELP = {
  name: "Required. Shown in lists; up to 200 characters.",
  provider: "Default simulator (the local stack's simulated phone network). twilio: Twilio's API. http: your voice agent's single-call HTTP API.",
  provider_config: "JSON. How the provider calls; it names credentials, never holds them. Left blank when editing, the saved config is kept.",
  from_phone_numbers: "Default none. Caller IDs in +E.164, one per line; rotated by contact, a recipient's own country preferred. A batch may pick a subset.",
  call_start_hour: "Default 9. First hour calls may be placed (0-23), in the recipient's time zone from their number.",
  call_end_hour: "Default 21. Hour calls stop (exclusive; 24 = until midnight; start > end crosses midnight).",
  call_days: "Default every day. Days calls may be placed, in the recipient's zone.",
  calling_hours: "Default none (the hours and days above). JSON, weekday -> [start, end] pairs in the recipient's zone, e.g. {\"mon\": [[\"09:00\", \"12:00\"], [\"13:00\", \"20:00\"]], \"sat\": [[\"22:00\", \"02:00\"]]}. When set, it replaces the hours and days above.",
  blocked_dates: "Default none. JSON, local date ranges when nobody is called, e.g. [{\"start\": \"2026-12-24\", \"end\": \"2026-12-26\"}].",
  skip_public_holidays: "Default off. Call nobody on a public holiday of the recipient's country (shown on each call as its holiday calendar).",
  timezone: "Default none (UTC). IANA zone, e.g. Asia/Kolkata: used for numbers whose zone is unknown.",
  max_concurrent_calls: "Default 10 (1-1000). Live calls at once across all of this agent's batches; more wait, never fail.",
  calls_per_second: "Default none (Twilio: 1). Pace of new calls per provider account, up to 100.",
  welcome_message: "Default \"Hello {customer_name}, this is an automated call.\" {column} or {{column}} fills from the CSV.",
  prompt: "Default none. Instructions for the voice agent; same {column} placeholders.",
  webhook_url: "Default none. https URL that gets call.ended for every call (a batch may override). Signed: see Settings.",
  extraction_schema: "Default none. JSON list of the fields the voice agent fills after each call, e.g. [{\"name\": \"interested\", \"type\": \"category\", \"values\": [\"yes\", \"no\"]}]; types category, boolean, number, text.",
  retry_config: "Default off. Retries a call that ended in the chosen statuses, up to 3 times, after the intervals given (the last repeats).",
};

const PROVIDER_SAMPLES = {
  simulator: '{"cost_per_minute": 0.05}',
  twilio: '{"credentials": "twilio", "stream_url": "wss://agent.example.com/media", "machine_detection": true, "ring_timeout_seconds": 30, "record": false}',
  http: '{"endpoint": "https://api.voice.example/call", "agent_ref": "remote-agent-7", "credentials": "http_agent"}',
};

// The agent's calling hours in a few words (weekly hours name their days; the shorthand its hours).
export function hoursText(a) {
  if (a.calling_hours) return `weekly: ${DAYS.filter((d) => (a.calling_hours[d] || []).length).join(" ")}`;
  return `${a.call_start_hour}:00–${a.call_end_hour}:00 ${(a.call_days || []).join(" ")}`.trim();
}

export function agentsView(root) {
  const list = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading agents…"));
  const formSlot = h("div");
  const error = alertBox("agents-error");
  replace(root,
    h("div", { class: "heading-row" }, h("h1", {}, "Agents"),
      h("button", { type: "button", class: "primary", onclick: () => openForm(null) }, "New agent")),
    error, formSlot, list);

  async function load() {
    try {
      const agents = await get("agents");
      error.hidden = true;
      replace(list, agents.length ? table(agents) : h("p", {}, "No agents yet: create one with New agent."));
    } catch (err) {
      if (err.status !== 401) { error.hidden = false; error.textContent = describe(err); }
    }
  }

  function table(agents) {
    return h("div", { class: "table-wrap" }, h("table", {},
      h("caption", { class: "sr-only" }, "Agents"),
      h("thead", {}, h("tr", {}, ["Name", "Provider", "Caller numbers", "Live-call limit", "Calling hours", "Created", "Actions"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, agents.map((a) => h("tr", { "data-testid": "agent-row", "data-agent-id": a.id },
        h("th", { scope: "row" }, h("a", { href: `#/agents/${encodeURIComponent(a.id)}` }, a.name || a.id)),
        h("td", { "data-label": "Provider" }, a.provider),
        h("td", { "data-label": "Caller numbers" }, (a.from_phone_numbers || []).join(", ") || "—"),
        h("td", { "data-label": "Live-call limit" }, a.max_concurrent_calls),
        h("td", { "data-label": "Calling hours" }, hoursText(a)),
        h("td", { "data-label": "Created" }, timeEl(a.created_at)),
        h("td", { class: "row-actions" },
          h("button", { type: "button", onclick: () => openForm(a), "aria-label": "Edit", title: `Edit ${a.name}` }, "Edit"),
          h("button", { type: "button", class: "danger", onclick: () => remove(a), "aria-label": "Delete", title: `Delete ${a.name}` }, "Delete")))))));
  }

  async function remove(agent) {
    if (!(await confirmAction("Delete agent", `Delete agent ${agent.name}? Its finished batches stay readable by id.`))) return;
    try {
      await del(`agents/${encodeURIComponent(agent.id)}`);
      error.hidden = true;
      load();
    } catch (err) {
      error.hidden = false;
      error.textContent = describe(err); // agent_in_use: the API names the batches to stop first
    }
  }

  function openForm(agent) {
    replace(formSlot, agentForm(agent, () => { replace(formSlot); load(); }, () => replace(formSlot)));
    formSlot.querySelector("input").focus();
  }

  load();
}

function input(attrs) { return h("input", attrs); }

export function agentForm(agent, onSaved, onCancel) {
  const editing = Boolean(agent);
  const a = agent || {};
  const retry = a.retry_config || {};
  const c = {
    name: input({ type: "text", required: true, maxlength: 200, value: a.name || "" }),
    provider: h("select", {}, ["simulator", "twilio", "http"].map((p) => h("option", { value: p, selected: (a.provider || "simulator") === p }, p))),
    provider_config: h("textarea", { rows: 3, spellcheck: "false", placeholder: PROVIDER_SAMPLES[a.provider || "simulator"] }),
    from_phone_numbers: h("textarea", { rows: 2, spellcheck: "false", placeholder: "+14155550100" }),
    call_start_hour: input({ type: "number", min: 0, max: 23, value: a.call_start_hour ?? 9 }),
    call_end_hour: input({ type: "number", min: 0, max: 24, value: a.call_end_hour ?? 21 }),
    calling_hours: h("textarea", { rows: 2, spellcheck: "false", placeholder: '{"mon": [["09:00", "12:00"], ["13:00", "20:00"]]}' }),
    blocked_dates: h("textarea", { rows: 2, spellcheck: "false", placeholder: '[{"start": "2026-12-24", "end": "2026-12-26"}]' }),
    skip_public_holidays: input({ type: "checkbox", checked: Boolean(a.skip_public_holidays) }),
    timezone: input({ type: "text", value: a.timezone || "", placeholder: "Asia/Kolkata", list: "zones" }),
    max_concurrent_calls: input({ type: "number", min: 1, max: 1000, value: a.max_concurrent_calls ?? 10 }),
    calls_per_second: input({ type: "number", min: 0, max: 100, step: "any", value: a.calls_per_second ?? "" }),
    welcome_message: h("textarea", { rows: 2, maxlength: 4000 }),
    prompt: h("textarea", { rows: 3, maxlength: 20000 }),
    webhook_url: input({ type: "url", value: a.webhook_url || "", placeholder: "https://example.com/hooks/calls" }),
    extraction_schema: h("textarea", { rows: 3, spellcheck: "false", placeholder: '[{"name": "interested", "type": "category", "values": ["yes", "no"]}]' }),
  };
  c.extraction_schema.value = a.extraction_schema ? JSON.stringify(a.extraction_schema) : "";
  c.from_phone_numbers.value = (a.from_phone_numbers || []).join("\n");
  c.welcome_message.value = editing ? (a.welcome_message || "") : "Hello {customer_name}, this is an automated call.";
  c.prompt.value = a.prompt || "";
  c.calling_hours.value = a.calling_hours ? JSON.stringify(a.calling_hours) : "";
  c.blocked_dates.value = a.blocked_dates && a.blocked_dates.length ? JSON.stringify(a.blocked_dates) : "";
  c.provider.addEventListener("change", () => { c.provider_config.placeholder = PROVIDER_SAMPLES[c.provider.value]; });
  const days = DAYS.map((d) => input({ type: "checkbox", value: d, checked: !a.call_days || a.call_days.includes(d) }));
  const r = {
    enabled: input({ type: "checkbox", checked: Boolean(retry.enabled) }),
    max_retries: h("select", {}, [1, 2, 3].map((n) => h("option", { value: n, selected: (retry.max_retries ?? 3) === n }, n))),
    intervals: input({ type: "text", value: (retry.retry_intervals_minutes || [30, 60, 120]).join(", "), inputmode: "numeric" }),
    statuses: RETRY_STATUSES.map((s) => input({ type: "checkbox", value: s, checked: (retry.retry_on_statuses || ["no-answer", "busy", "failed"]).includes(s) })),
    voicemail: input({ type: "checkbox", checked: Boolean(retry.retry_on_voicemail) }),
  };
  const zones = h("datalist", { id: "zones" }, (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : []).map((z) => h("option", { value: z })));
  const alert = alertBox("agent-form-error");
  const save = h("button", { type: "submit", class: "primary" }, "Save agent");
  const checkRow = (boxes, labels) => boxes.map((box, i) => h("label", { class: "check" }, box, labels[i]));
  const form = h("form", { class: "card form-grid", "data-testid": "agent-form", novalidate: true },
    h("h2", { class: "wide" }, editing ? `Edit ${a.name}` : "New agent"),
    field("Name", c.name, { name: "name", help: HELP.name }),
    field("Provider", c.provider, { name: "provider", help: HELP.provider }),
    field("Provider config (JSON)", c.provider_config, { name: "provider_config", wide: true,
      help: HELP.provider_config + (editing && a.provider_config_keys && a.provider_config_keys.length ? ` Saved keys: ${a.provider_config_keys.join(", ")}.` : "") }),
    field("Caller numbers", c.from_phone_numbers, { name: "from_phone_numbers", help: HELP.from_phone_numbers }),
    field("Time zone", c.timezone, { name: "timezone", help: HELP.timezone }),
    field("Calling hours start", c.call_start_hour, { name: "call_start_hour", help: HELP.call_start_hour }),
    field("Calling hours end", c.call_end_hour, { name: "call_end_hour", help: HELP.call_end_hour }),
    h("fieldset", { class: "field wide", "data-field": "call_days" }, h("legend", {}, "Calling days"),
      h("div", { class: "checks" }, checkRow(days, ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])),
      h("p", { class: "help" }, HELP.call_days), h("p", { class: "field-error", hidden: true })),
    field("Weekly calling hours (JSON)", c.calling_hours, { name: "calling_hours", wide: true, help: HELP.calling_hours }),
    field("Blocked dates (JSON)", c.blocked_dates, { name: "blocked_dates", wide: true, help: HELP.blocked_dates }),
    h("fieldset", { class: "field wide", "data-field": "skip_public_holidays" }, h("legend", {}, "Public holidays"),
      h("label", { class: "check" }, c.skip_public_holidays, "Skip the recipient's public holidays"),
      h("p", { class: "help" }, HELP.skip_public_holidays), h("p", { class: "field-error", hidden: true })),
    field("Live-call limit", c.max_concurrent_calls, { name: "max_concurrent_calls", help: HELP.max_concurrent_calls }),
    field("Calls per second", c.calls_per_second, { name: "calls_per_second", help: HELP.calls_per_second }),
    field("Welcome message", c.welcome_message, { name: "welcome_message", wide: true, help: HELP.welcome_message }),
    field("Prompt", c.prompt, { name: "prompt", wide: true, help: HELP.prompt }),
    field("Webhook URL", c.webhook_url, { name: "webhook_url", wide: true, help: HELP.webhook_url }),
    field("Extraction fields (JSON)", c.extraction_schema, { name: "extraction_schema", wide: true, help: HELP.extraction_schema }),
    h("fieldset", { class: "field wide", "data-field": "retry_config" }, h("legend", {}, "Retries"),
      h("label", { class: "check" }, r.enabled, "Retry unanswered calls"),
      h("div", { class: "inline" }, field("Retries", r.max_retries, { name: "retry_config.max_retries" }),
        field("Retry intervals (minutes)", r.intervals, { name: "retry_config.retry_intervals_minutes", help: "Default 30, 60, 120." })),
      h("div", { class: "checks" }, checkRow(r.statuses, RETRY_STATUSES), h("label", { class: "check" }, r.voicemail, "voicemail")),
      h("p", { class: "help" }, HELP.retry_config), h("p", { class: "field-error", hidden: true })),
    zones, alert,
    h("div", { class: "actions wide" }, save, h("button", { type: "button", onclick: onCancel }, "Cancel")));

  openapiDoc().then((doc) => addDescriptions(form, doc));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    let body;
    try {
      body = collect();
    } catch (err) {
      showError(form, err);
      return;
    }
    save.disabled = true;
    try {
      if (editing) {
        const changes = {};
        for (const [k, v] of Object.entries(body)) if (!sameValue(v, a[k])) changes[k] = v;
        if (!Object.keys(changes).length) { onCancel(); return; }
        await patch(`agents/${encodeURIComponent(a.id)}`, changes);
      } else {
        for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
        await post("agents", body);
      }
      onSaved();
    } catch (err) {
      showError(form, err); // nothing typed is lost: the form stays as it was
    } finally {
      save.disabled = false;
    }
  });

  function collect() {
    const num = (el) => (el.value.trim() === "" ? null : Number(el.value));
    const text = (el) => (el.value.trim() === "" ? null : el.value.trim());
    const body = {
      name: c.name.value.trim(),
      provider: c.provider.value,
      from_phone_numbers: c.from_phone_numbers.value.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean),
      call_start_hour: num(c.call_start_hour),
      call_end_hour: num(c.call_end_hour),
      call_days: days.filter((d) => d.checked).map((d) => d.value),
      timezone: text(c.timezone),
      max_concurrent_calls: num(c.max_concurrent_calls),
      calls_per_second: num(c.calls_per_second),
      welcome_message: c.welcome_message.value,
      prompt: text(c.prompt),
      webhook_url: text(c.webhook_url),
      retry_config: {
        enabled: r.enabled.checked,
        max_retries: Number(r.max_retries.value),
        retry_on_statuses: r.statuses.filter((s) => s.checked).map((s) => s.value),
        retry_on_voicemail: r.voicemail.checked,
        retry_intervals_minutes: r.intervals.value.split(/[\s,]+/).filter(Boolean).map(Number),
      },
    };
    if (c.provider_config.value.trim()) body.provider_config = parseJson(c.provider_config, "Provider config");
    // Weekly hours replace the shorthand (the API refuses both in one request); cleared, the shorthand applies again
    body.calling_hours = c.calling_hours.value.trim() ? parseJson(c.calling_hours, "Weekly calling hours") : null;
    if (body.calling_hours) for (const k of ["call_start_hour", "call_end_hour", "call_days"]) delete body[k];
    body.blocked_dates = c.blocked_dates.value.trim() ? parseJson(c.blocked_dates, "Blocked dates") : [];
    body.skip_public_holidays = c.skip_public_holidays.checked;
    body.extraction_schema = c.extraction_schema.value.trim() ? parseJson(c.extraction_schema, "Extraction fields") : null;
    if (!editing && !a.retry_config && !body.retry_config.enabled) delete body.retry_config;
    return body;
  }
  return form;
}

function parseJson(el, label) {
  try {
    return JSON.parse(el.value);
  } catch {
    const err = new Error(`${label} is not valid JSON.`);
    err.details = [];
    throw Object.assign(err, { local: true });
  }
}

// Unchanged when equal, or when a field the agent never had is sent empty (no needless PATCH).
function sameValue(value, old) {
  if (JSON.stringify(value) === JSON.stringify(old ?? null)) return true;
  return old == null && (value === false || (Array.isArray(value) && !value.length));
}

function addDescriptions(form, doc) {
  const schemas = doc && doc.components && doc.components.schemas;
  if (!schemas) return;
  const schema = schemas.AgentCreate || schemas.AgentFields || null;
  if (!schema || !schema.properties) return;
  for (const [name, prop] of Object.entries(schema.properties)) {
    if (!prop.description) continue;
    const help = form.querySelector(`[data-field="${CSS.escape(name)}"] .help`);
    if (help && !help.textContent.includes(prop.description)) help.append(" " + prop.description);
  }
}

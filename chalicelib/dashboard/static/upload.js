// The Upload batch dialog. Choosing a file creates the batch at once (state `created`: nothing is called)
// so the API itself reports parsed / valid / invalid / duplicate rows, row errors and template warnings.
// `Upload this batch` then runs or schedules it; Cancel deletes it. Options only exist at creation, so
// if they change after the file was read, the batch is created again with them (the old one deleted).
import { api, get, post, del, raw, ApiError, auth } from "./api.js";
import { h, replace, alertBox, showError, clearErrors, field, modal, describe, uid } from "./ui.js";
import { schedulePicker } from "./actions.js";

const SYNC_LIMIT = 4 * 1024 * 1024; // MAX_SYNC_UPLOAD_BYTES' default; a 413 also switches to the presigned upload
const RETRY_STATUSES = ["no-answer", "busy", "failed", "error"];

export function uploadDialog(agent, onDone) {
  let file = null;
  let draft = null; // the batch created from the file: {batch, optionsJson}
  let pending = null; // id of a batch being created (a presigned upload in flight): Cancel deletes it too
  let confirmed = false;
  let busy = false;

  const alert = alertBox("upload-error");
  const fileInput = h("input", { type: "file", id: uid("csv"), accept: ".csv,.tsv,.txt,text/csv,text/plain", "aria-describedby": "drop-help" });
  const drop = h("div", { class: "dropzone" },
    h("label", { for: fileInput.id }, "CSV file"), fileInput,
    h("p", { id: "drop-help", class: "help" }, "Drop a CSV here or browse. Needs a contact_number (or phone_number / phone) column; other columns become template variables."));
  const progress = h("div", { class: "upload-progress", "data-testid": "upload-progress", hidden: true });
  const summary = h("div", { class: "summary", "aria-live": "polite" });

  // options (all sent when the batch is created)
  const o = {
    name: h("input", { type: "text", maxlength: 200 }),
    numbers: (agent.from_phone_numbers || []).map((n) => h("input", { type: "checkbox", value: n, checked: true })),
    when: [h("input", { type: "radio", name: "when", value: "run", checked: true }), h("input", { type: "radio", name: "when", value: "schedule" })],
    retry: h("input", { type: "checkbox" }),
    retries: h("select", {}, [1, 2, 3].map((n) => h("option", { value: n, selected: n === 3 }, n))),
    intervals: h("input", { type: "text", value: "30, 60, 120", inputmode: "numeric" }),
    statuses: RETRY_STATUSES.map((s) => h("input", { type: "checkbox", value: s, checked: s !== "error" })),
    voicemail: h("input", { type: "checkbox" }),
    webhook: h("input", { type: "url", placeholder: agent.webhook_url || "https://example.com/hooks/calls" }),
    statusWebhook: h("input", { type: "url", placeholder: "https://example.com/hooks/batches" }),
    cap: h("input", { type: "number", min: 1, max: 1000, placeholder: String(agent.max_concurrent_calls || "") }),
    hours: h("textarea", { rows: 2, spellcheck: "false", placeholder: '{"mon": [["09:00", "12:00"], ["13:00", "20:00"]]}' }),
    blocked: h("textarea", { rows: 2, spellcheck: "false", placeholder: '[{"start": "2026-12-24", "end": "2026-12-26"}]' }),
    holidays: h("select", {}, [["", "The agent's setting"], ["true", "Skip them"], ["false", "Call on them"]]
      .map(([value, label]) => h("option", { value }, label))),
  };
  const picker = schedulePicker();
  picker.node.hidden = true;
  for (const radio of o.when) radio.addEventListener("change", () => { picker.node.hidden = !o.when[1].checked; });
  const retryBox = h("div", { class: "retry-options" },
    h("div", { class: "inline" }, field("Retries", o.retries, { name: "retry_config.max_retries" }),
      field("Retry intervals (minutes)", o.intervals, { name: "retry_config.retry_intervals_minutes" })),
    h("div", { class: "checks" }, o.statuses.map((box) => h("label", { class: "check" }, box, box.value)),
      h("label", { class: "check" }, o.voicemail, "voicemail")));
  retryBox.hidden = true;
  o.retry.addEventListener("change", () => { retryBox.hidden = !o.retry.checked; });

  const options = h("div", { class: "options" },
    h("h3", {}, "Options"),
    field("Batch name", o.name, { name: "name", help: "Defaults to the file name." }),
    h("fieldset", { class: "field", "data-field": "from_phone_numbers" }, h("legend", {}, "Caller numbers"),
      o.numbers.length ? h("div", { class: "checks" }, o.numbers.map((box) => h("label", { class: "check" }, box, box.value)))
        : h("p", { class: "help" }, "The agent has no caller numbers; the provider's default is used."),
      h("p", { class: "field-error", hidden: true })),
    h("fieldset", { class: "field" }, h("legend", {}, "When"),
      h("div", { class: "checks" }, h("label", { class: "check" }, o.when[0], "Run now"), h("label", { class: "check" }, o.when[1], "Schedule")),
      picker.node),
    h("fieldset", { class: "field", "data-field": "retry_config" }, h("legend", {}, "Auto-retry"),
      h("label", { class: "check" }, o.retry, "Retry unanswered calls"), retryBox,
      h("p", { class: "field-error", hidden: true })),
    field("Webhook URL", o.webhook, { name: "webhook_url", help: "call.ended for each call; default the agent's." }),
    field("Status webhook URL", o.statusWebhook, { name: "status_webhook", help: "batch.* events as the batch moves." }),
    field("Live-call cap", o.cap, { name: "max_concurrent_calls", help: `At most the agent's limit (${agent.max_concurrent_calls}).` }),
    field("Batch calling hours (JSON)", o.hours, { name: "calling_hours",
      help: "Default the agent's. Weekday -> [start, end] pairs on the recipient's clock; replaces the agent's hours for this batch." }),
    field("Batch blocked dates (JSON)", o.blocked, { name: "blocked_dates", help: "Default the agent's. Local date ranges when nobody is called." }),
    field("Public holidays", o.holidays, { name: "skip_public_holidays", help: "Of each recipient's country." }));

  const confirm = h("button", { type: "submit", class: "primary", disabled: true }, "Upload this batch");
  const cancel = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  const form = h("form", { class: "upload", novalidate: true }, drop, progress, summary, options, alert,
    h("div", { class: "actions" }, confirm, cancel));
  const dialog = modal("Upload batch", form, { testid: "upload-dialog", onClose: () => {
    window.removeEventListener("pagehide", leaving);
    if (!confirmed) for (const stale of [draft && draft.batch.batch_id, pending]) if (stale) discard(stale);
    onDone();
  } });

  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
  });
  fileInput.addEventListener("change", () => { if (fileInput.files.length) choose(fileInput.files[0]); });

  function createOptions() {
    const body = { agent_id: agent.id };
    body.name = o.name.value.trim() || file.name;
    if (o.numbers.length) body.from_phone_numbers = o.numbers.filter((b) => b.checked).map((b) => b.value);
    if (o.retry.checked) {
      body.retry_config = {
        enabled: true,
        max_retries: Number(o.retries.value),
        retry_on_statuses: o.statuses.filter((s) => s.checked).map((s) => s.value),
        retry_on_voicemail: o.voicemail.checked,
        retry_intervals_minutes: o.intervals.value.split(/[\s,]+/).filter(Boolean).map(Number),
      };
    }
    if (o.webhook.value.trim()) body.webhook_url = o.webhook.value.trim();
    if (o.statusWebhook.value.trim()) body.status_webhook = o.statusWebhook.value.trim();
    if (o.cap.value.trim()) body.max_concurrent_calls = Number(o.cap.value);
    // The rules' objects go as JSON text, which the API reads in a form and in JSON alike (and names the field if bad)
    if (o.hours.value.trim()) body.calling_hours = o.hours.value.trim();
    if (o.blocked.value.trim()) body.blocked_dates = o.blocked.value.trim();
    if (o.holidays.value) body.skip_public_holidays = o.holidays.value === "true";
    return body;
  }

  async function choose(chosen) {
    if (busy) return;
    file = chosen;
    clearErrors(form);
    if (draft) { discard(draft.batch.batch_id); draft = null; }
    await makeDraft();
  }

  // The tab closing with the dialog open: the created batch is deleted too (keepalive outlives the page).
  function leaving() {
    if (confirmed) return;
    for (const stale of [draft && draft.batch.batch_id, pending]) {
      if (stale) raw(`batches/${encodeURIComponent(stale)}`, { method: "DELETE", keepalive: true }).catch(() => {});
    }
  }
  window.addEventListener("pagehide", leaving);

  function discard(batchId) { del(`batches/${encodeURIComponent(batchId)}`).catch(() => {}); }

  // Creates the batch from the file with the options as they are now; on success it becomes the draft.
  async function makeDraft() {
    busy = true;
    confirm.disabled = true;
    replace(summary, h("p", { class: "muted" }, `Reading ${file.name}…`));
    const opts = createOptions();
    try {
      let batch;
      if (file.size <= SYNC_LIMIT) {
        try {
          batch = await createSync(opts);
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 413)) throw err;
          batch = await createPresigned(opts);
        }
      } else {
        batch = await createPresigned(opts);
      }
      draft = { batch, optionsJson: JSON.stringify(opts) };
      pending = null;
      await showSummary(batch);
      confirm.disabled = batch.status !== "created";
      return true;
    } catch (err) {
      if (pending) { discard(pending); pending = null; }
      if (!draft) replace(summary);
      if (err.status !== 401) showError(form, err, alert);
      return false;
    } finally {
      busy = false;
    }
  }

  async function createSync(opts) {
    const data = new FormData();
    for (const [k, v] of Object.entries(opts)) {
      if (k === "from_phone_numbers") v.forEach((n) => data.append(k, n));
      else if (k === "retry_config") data.append(k, JSON.stringify(v));
      else data.append(k, String(v));
    }
    data.append("file", file, file.name);
    const created = await post("batches", data);
    return { ...created, status: created.state, ...(await get(`batches/${encodeURIComponent(created.batch_id)}`)) };
  }

  async function createPresigned(opts) {
    const ticket = await post("batches/uploads", { ...opts, file_name: file.name });
    pending = ticket.batch_id;
    await sendToS3(ticket.upload);
    replace(progress, h("span", {}, "Uploaded; the service is reading the file…"));
    for (;;) {
      const batch = await get(`batches/${encodeURIComponent(ticket.batch_id)}`);
      if (batch.status !== "validating") {
        if (batch.status === "failed" && batch.failure_reason) {
          const reason = batch.failure_reason;
          throw new ApiError(400, { message: reason.message, code: reason.code, details: reason.details });
        }
        progress.hidden = true;
        return batch;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  function sendToS3(upload) {
    progress.hidden = false;
    const bar = h("progress", { max: 100, value: 0, "aria-label": "Upload progress" });
    const text = h("span", {}, "0%");
    replace(progress, bar, " ", text);
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [k, v] of Object.entries(upload.fields)) data.append(k, v);
      data.append("file", file, file.name); // the file last, as S3 requires
      const xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.round((e.loaded / e.total) * 100);
        bar.value = pct;
        text.textContent = `${pct}% of ${(e.total / 1048576).toFixed(1)} MB`;
      });
      xhr.addEventListener("load", () => (xhr.status < 300 ? resolve()
        : reject(new Error(`the storage refused the upload (HTTP ${xhr.status}): ${(/<Message>([^<]*)</.exec(xhr.responseText) || [])[1] || "no reason given"}`))));
      xhr.addEventListener("error", () => reject(new Error("the upload to storage failed (network or CORS)")));
      xhr.send(data);
    });
  }

  async function showSummary(batch) {
    const parsed = batch.total_contacts ?? 0;
    const counts = h("ul", { class: "tally" },
      h("li", { "data-testid": "count-parsed" }, "Parsed ", h("strong", {}, parsed)),
      h("li", { "data-testid": "count-valid" }, "Valid ", h("strong", {}, batch.valid_contacts ?? 0)),
      h("li", { "data-testid": "count-invalid" }, "Invalid ", h("strong", {}, batch.invalid_contacts ?? 0)),
      h("li", { "data-testid": "count-duplicates" }, "Duplicates ", h("strong", {}, batch.duplicate_contacts ?? 0)));
    const parts = [h("h3", {}, file.name), counts];
    const warnings = batch.warnings || [];
    if (warnings.length) {
      parts.push(h("div", { class: "warnings", "data-testid": "template-warnings" }, h("h4", {}, "Warnings"),
        h("ul", {}, warnings.map((w) => h("li", {}, warningText(w))))));
    }
    const errors = await api(`batches/${encodeURIComponent(batch.batch_id)}/errors?limit=100`);
    if (errors.data && errors.data.length) {
      parts.push(h("h4", {}, `Rows skipped${errors.next ? " (first 100)" : ""}`), h("div", { class: "table-wrap" },
        h("table", { "data-testid": "row-errors" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Row"), h("th", { scope: "col" }, "Value"), h("th", { scope: "col" }, "Reason"))),
          h("tbody", {}, errors.data.map((e) => h("tr", {},
            h("td", { "data-label": "Row" }, e.row), h("td", { "data-label": "Value" }, e.value ?? ""),
            h("td", { "data-label": "Reason" }, e.reason, e.message ? h("div", { class: "muted small" }, e.message) : null)))))));
    }
    parts.push(h("p", { class: "muted" }, "Nothing is called until you choose Upload this batch."));
    replace(summary, parts);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!draft || busy) return;
    clearErrors(form);
    const schedule = o.when[1].checked;
    const when = picker.value();
    if (schedule && !when) { showError(form, new Error("Pick a start time, or choose Run now."), alert); picker.input.focus(); return; }
    busy = true;
    confirm.disabled = true;
    try {
      if (JSON.stringify(createOptions()) !== draft.optionsJson) { // options changed after the file was read
        const old = draft;
        busy = false;
        const made = await makeDraft(); // the old batch stays the draft if the new options are refused
        busy = true;
        if (!made) return;
        discard(old.batch.batch_id);
      }
      const id = encodeURIComponent(draft.batch.batch_id);
      if (schedule) await post(`batches/${id}/schedule`, { scheduled_at: when.toISOString().replace(/\.\d{3}Z$/, "Z") });
      else await post(`batches/${id}/run`);
      confirmed = true;
      dialog.close();
    } catch (err) {
      if (err.status !== 401) showError(form, err, alert);
    } finally {
      busy = false;
      confirm.disabled = !draft;
    }
  });

  fileInput.focus();
  return dialog;
}

function warningText(w) {
  if (w.message) return w.message + (w.row_count ? ` (${w.row_count} rows)` : "");
  const rows = Array.isArray(w.rows) && w.rows.length ? `; rows ${w.rows.slice(0, 10).join(", ")}${w.rows.length > 10 ? "…" : ""}` : "";
  return `${w.code}: ${w.placeholder ? `{${w.placeholder}}` : ""}${w.where ? ` in ${w.where}` : ""}${rows}`;
}

export { auth };

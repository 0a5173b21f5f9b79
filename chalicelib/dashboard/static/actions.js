// A batch's actions (each enabled only where the API allows it), the schedule picker and the CSV download.
import { api, raw, post, del, ApiError } from "./api.js";
import { h, replace, modal, confirmAction, alertBox, showError, clearErrors, utcIso, localZone, saveBlob, describe } from "./ui.js";

// Which states each command is accepted in (chalicelib/domain/batch_status.py).
export const ALLOWED = {
  run: ["created", "scheduled"],
  schedule: ["created", "scheduled"],
  pause: ["running"],
  resume: ["paused"],
  stop: ["scheduled", "running", "paused"],
  download: ["running", "paused", "stopped", "completed", "failed"],
  delete: ["validating", "created", "scheduled", "running", "paused", "stopped", "completed", "failed"],
};

const pad = (n) => String(n).padStart(2, "0");
function toLocalInput(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// Date and time in the browser's zone with the UTC instant it means; quick picks +10 min, +30 min, +1 h
// (now + N minutes, rounded up to the whole minute).
export function schedulePicker(initial) {
  const inputEl = h("input", { type: "datetime-local", id: "start-" + Math.random().toString(36).slice(2), step: 60 });
  const local = h("span", { "data-testid": "schedule-local" });
  const utc = h("span", { "data-testid": "schedule-utc" });
  const update = () => {
    const date = value();
    local.textContent = date ? `${date.toLocaleString(undefined, { weekday: "short", dateStyle: undefined, year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })} (${localZone})` : "—";
    utc.textContent = date ? utcIso(date) : "—";
  };
  function value() {
    if (!inputEl.value) return null;
    const date = new Date(inputEl.value); // datetime-local is read in the browser's zone
    return Number.isNaN(date.getTime()) ? null : date;
  }
  function pick(minutes) {
    const date = new Date(Date.now() + minutes * 60000);
    if (date.getSeconds() || date.getMilliseconds()) date.setMinutes(date.getMinutes() + 1, 0, 0);
    inputEl.value = toLocalInput(date);
    update();
  }
  inputEl.addEventListener("input", update);
  if (initial) inputEl.value = toLocalInput(new Date(initial));
  update();
  const node = h("div", { class: "schedule-picker", "data-field": "scheduled_at" },
    h("div", { class: "quick", role: "group", "aria-label": "Quick picks" },
      h("button", { type: "button", onclick: () => pick(10) }, "+10 min"),
      h("button", { type: "button", onclick: () => pick(30) }, "+30 min"),
      h("button", { type: "button", onclick: () => pick(60) }, "+1 h")),
    h("div", { class: "field" }, h("label", { for: inputEl.id }, "Start time"), inputEl,
      h("p", { class: "field-error", hidden: true })),
    h("p", { class: "preview" }, "Starts ", local, h("br"), "UTC ", utc));
  return { node, value, input: inputEl };
}

export function scheduleDialog(batch, onDone) {
  const picker = schedulePicker(batch.scheduled_at);
  const alert = alertBox("schedule-error");
  const confirm = h("button", { type: "submit", class: "primary" }, "Confirm");
  const form = h("form", { novalidate: true }, picker.node, alert,
    h("div", { class: "actions" }, confirm, h("button", { type: "button", onclick: () => dialog.close() }, "Cancel")));
  const dialog = modal(`Schedule ${batch.name || batch.file_name || batch.batch_id}`, form, { testid: "schedule-dialog" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const when = picker.value();
    if (!when) { showError(form, new Error("Pick a start time."), alert); picker.input.focus(); return; }
    confirm.disabled = true;
    try {
      await post(`batches/${encodeURIComponent(batch.batch_id)}/schedule`, { scheduled_at: utcIso(when) });
      dialog.close();
      onDone();
    } catch (err) {
      showError(form, err, alert);
    } finally {
      confirm.disabled = false;
    }
  });
}

export async function downloadCsv(batch, report) {
  return downloadFile(`batches/${encodeURIComponent(batch.batch_id)}/executions.csv`, `${batch.batch_id}.csv`, report);
}

// A CSV the API answers inline, by a 303 to S3, or (executions) 202 until it is ready.
export async function downloadFile(path, fallbackName, report) {
  for (let tries = 0; tries < 120; tries++) {
    const response = await raw(path, { redirect: "follow" }); // a 303 goes on to the presigned S3 URL
    if (response.status === 202) {
      const wait = Number(response.headers.get("Retry-After")) || 5;
      report(`Preparing the export… (asking again in ${wait} s)`);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new ApiError(response.status, body);
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="?([^";]+)"?/.exec(disposition);
    saveBlob(await response.blob(), match ? match[1] : fallbackName);
    report("");
    return;
  }
  throw new Error("the export is still being prepared: try Download again in a minute");
}

// The row of action buttons; `refresh` reloads the view, `report` shows a message (or an error).
export function actionButtons(batch, refresh, report, onDeleted) {
  const id = encodeURIComponent(batch.batch_id);
  const label = batch.name || batch.file_name || batch.batch_id;
  const can = (cmd) => ALLOWED[cmd].includes(batch.status);
  const act = async (fn) => {
    try {
      report("");
      await fn();
      refresh();
    } catch (err) {
      if (err.status !== 401) report(describe(err), true);
    }
  };
  const button = (text, cmd, onclick, cls) => h("button", { type: "button", class: cls, disabled: !can(cmd),
    title: can(cmd) ? `${text}: ${label}` : `${text} is not possible while the batch is ${batch.status}`, onclick }, text);
  return h("div", { class: "row-actions", role: "group", "aria-label": `Actions for ${label}` },
    button("Run now", "run", () => act(() => post(`batches/${id}/run`)), "primary"),
    button("Schedule", "schedule", () => scheduleDialog(batch, refresh)),
    button("Pause", "pause", () => act(async () => {
      if (await confirmAction("Pause batch", `Pause ${label}? Calls already live finish; no new call starts until Resume.`)) await post(`batches/${id}/pause`);
    })),
    button("Resume", "resume", () => act(() => post(`batches/${id}/resume`))),
    button("Stop", "stop", () => act(async () => {
      if (await confirmAction("Stop batch", `Stop ${label}? This cannot be undone: contacts not yet called are canceled; live calls finish.`)) await post(`batches/${id}/stop`);
    }), "danger"),
    button("Download", "download", () => act(() => downloadCsv(batch, (m) => report(m)))),
    button("Delete", "delete", () => act(async () => {
      const running = ["scheduled", "running", "paused"].includes(batch.status);
      if (await confirmAction("Delete batch", `Delete ${label}?${running ? " It is stopped first." : ""} It disappears from the list; this cannot be undone.`)) {
        await del(`batches/${id}`);
        report("");
        if (onDeleted) onDeleted();
      }
    }), "danger"));
}

export { api, replace };

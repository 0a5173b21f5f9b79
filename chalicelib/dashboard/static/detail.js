// Batch detail, live: polls the O(1) batch read (slower while the tab is hidden) and refreshes the rest.
import { api, get, all } from "./api.js";
import { h, replace, alertBox, timeEl, statusBadge, finalCount, progressBar, describe, localTime,
  CALL_STATUSES, LIVE_CALL } from "./ui.js";
import { actionButtons } from "./actions.js";
import { outcomeChart, timelineChart, STATUS_COLORS } from "./charts.js";
import { poll } from "./poll.js";
import { planCard, PLANNABLE } from "./plan.js";

const PAGE = 25;
const TERMINAL = ["completed", "stopped", "failed"];

export function detailView(root, batchId) {
  const id = encodeURIComponent(batchId);
  const crumbs = h("p", { class: "crumbs" }, h("a", { href: "#/agents" }, "Agents"));
  const title = h("h1", {}, "Batch");
  const status = h("span", { "data-testid": "batch-status", class: "status" }, "…");
  const meta = h("dl", { class: "meta" });
  const actions = h("div");
  const message = alertBox("detail-message");
  const progressSlot = h("div");
  const live = h("p", { "data-testid": "live-calls", class: "big" }, "Live calls —");
  const waiting = h("div", { "data-testid": "waiting-calls" });
  const outcome = h("div", { class: "chart-box" });
  const legend = h("ul", { class: "legend" });
  const timeline = h("div", { class: "chart-box" });
  const answersBody = h("div");
  const answers = h("section", { class: "card", "data-testid": "extraction-breakdown", hidden: true },
    h("h2", {}, "Answers"), answersBody, h("p", { class: "muted small" }, "Valid answers per value of the agent's extraction fields."));
  const filter = h("select", { id: "exec-filter" }, h("option", { value: "" }, "all"), CALL_STATUSES.map((s) => h("option", { value: s }, s)));
  const execTable = h("div", { "aria-live": "off" });
  const pager = h("div", { class: "pager" });
  const execDetail = h("section", { class: "card", "data-testid": "execution-detail", hidden: true, "aria-label": "Call details", tabindex: "-1" });
  const rowErrors = h("div");
  const webhookLog = h("div", { "data-testid": "webhook-log" });
  const plan = planCard(batchId);

  replace(root, crumbs,
    h("div", { class: "heading-row" }, h("div", {}, title, " ", status), actions),
    message, meta,
    h("div", { class: "cards" },
      h("section", { class: "card" }, h("h2", {}, "Progress"), progressSlot),
      h("section", { class: "card" }, h("h2", {}, "Now"), live, h("p", { class: "muted" }, "Calls live at once, against the live-call limit.")),
      h("section", { class: "card" }, h("h2", {}, "Waiting for calling hours"), waiting)),
    plan.node,
    h("div", { class: "cards two" },
      h("section", { class: "card" }, h("h2", {}, "Outcomes"), outcome, legend),
      h("section", { class: "card" }, h("h2", {}, "Calls over time"), timeline)),
    answers,
    h("section", { class: "card" }, h("h2", {}, "Calls"),
      h("div", { class: "field inline-field" }, h("label", { for: "exec-filter" }, "Filter by status"), filter),
      execTable, pager),
    execDetail,
    h("section", { class: "card" }, h("h2", {}, "Rows skipped"), rowErrors),
    h("section", { class: "card" }, h("h2", {}, "Webhook deliveries"), webhookLog));

  let batch = null;
  let agent = null;
  let lastBatchJson = "";
  let ticks = 0;
  let cursors = [null]; // cursor of each page seen; the last is the current page's
  let lastPageJson = "";
  let openedId = null;
  let gone = false;

  const report = (text, isError) => {
    message.hidden = !text;
    message.textContent = text || "";
    message.classList.toggle("info", !isError);
  };

  filter.addEventListener("change", () => { cursors = [null]; loadPage(); });

  async function tick() {
    if (gone) return;
    let fresh;
    try {
      fresh = await get(`batches/${id}`);
    } catch (err) {
      if (err.status === 404) {
        gone = true;
        report(`${describe(err)}. It may have been deleted.`, true);
        replace(actions);
        return;
      }
      throw err;
    }
    ticks += 1;
    const changed = JSON.stringify(fresh) !== lastBatchJson;
    lastBatchJson = JSON.stringify(fresh);
    batch = fresh;
    if (!agent) {
      agent = await get(`agents/${encodeURIComponent(batch.agent_id)}`).catch(() => ({ name: batch.agent_id, max_concurrent_calls: null }));
      replace(crumbs, h("a", { href: "#/agents" }, "Agents"), " / ",
        h("a", { href: `#/agents/${encodeURIComponent(batch.agent_id)}` }, agent.name || batch.agent_id), " / ", batch.name || batch.batch_id);
      loadErrors();
    }
    if (changed) renderBatch();
    const active = !TERMINAL.includes(batch.status);
    if (changed || ticks === 1) {
      await Promise.all([loadPage(), ticks % 3 === 1 || !active ? loadTimeline() : null, loadWaiting()]);
    }
    if (ticks % 5 === 1) await loadWebhooks();
  }

  function renderBatch() {
    title.textContent = batch.name || batch.file_name || batch.batch_id;
    status.textContent = batch.status;
    status.className = `status status-${batch.status}`;
    const entries = [
      ["Batch id", batch.batch_id], ["File", batch.file_name || "—"], ["Created", timeEl(batch.created_at)],
      ["Scheduled", timeEl(batch.scheduled_at)], ["Started", timeEl(batch.started_at)],
      ["Completed", timeEl(batch.completed_at)], ["Stopped", timeEl(batch.stopped_at)],
      ["Contacts", `${batch.total_contacts ?? 0} parsed, ${batch.valid_contacts ?? 0} valid, ${batch.invalid_contacts ?? 0} invalid, ${batch.duplicate_contacts ?? 0} duplicates`],
      ["Caller numbers", (batch.from_phone_numbers || []).join(", ") || "the agent's"],
      ["Retries", batch.retry_config && batch.retry_config.enabled ? `up to ${batch.retry_config.max_retries} after ${batch.retry_config.retry_intervals_minutes.join(", ")} min` : "the agent's setting"],
      ["Calling rules", rulesText(batch)],
    ];
    if (batch.failure_reason) entries.push(["Failure", `${batch.failure_reason.code}: ${batch.failure_reason.message}`]);
    if (batch.max_spend != null || batch.spend != null) {
      entries.push(["Budget", `${Number(batch.spend || 0).toFixed(2)} spent of ${batch.max_spend != null ? Number(batch.max_spend).toFixed(2) : "no limit"}`
        + (batch.pause_reason === "budget_reached" ? " — paused: budget reached (resume with a higher budget)" : "")]);
    }
    plan.node.hidden = !PLANNABLE.includes(batch.status);
    replace(meta, entries.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
    replace(actions, actionButtons(batch, () => stop.now(), report, () => { location.hash = `#/agents/${encodeURIComponent(batch.agent_id)}`; }));
    const done = finalCount(batch);
    replace(progressSlot, progressBar(done, batch.valid_contacts || 0, "Batch progress"),
      h("p", { class: "muted" }, `${done} of ${batch.valid_contacts ?? 0} calls final`));
    const counts = batch.execution_status || {};
    const liveNow = LIVE_CALL.reduce((s, k) => s + (counts[k] || 0), 0);
    const limit = batch.max_concurrent_calls || (agent && agent.max_concurrent_calls);
    live.textContent = `Live calls ${liveNow} / ${limit ?? "—"}`;
    replace(outcome, outcomeChart(counts, batch.valid_contacts));
    replace(legend, Object.entries(counts).map(([s, n]) => {
      const dot = h("span", { class: "dot" });
      dot.style.background = STATUS_COLORS[s] || "#999";
      return h("li", {}, dot, `${s} ${n}`);
    }));
    renderAnswers(batch.extraction_breakdown || {});
  }

  function renderAnswers(breakdown) {
    answers.hidden = !Object.keys(breakdown).length;
    replace(answersBody, Object.entries(breakdown).map(([name, values]) => h("div", { "data-field": name },
      h("h3", {}, name),
      h("ul", { class: "legend" }, Object.entries(values).sort((x, y) => y[1] - x[1]).map(([v, n]) => h("li", {}, `${v} ${n}`))))));
  }

  async function loadWaiting() {
    const count = (batch.execution_status || {}).rescheduled || 0;
    if (!count) { replace(waiting, h("p", { class: "big" }, "0"), h("p", { class: "muted" }, "No call is waiting for its calling hours.")); return; }
    const rows = await get(`batches/${id}/executions?status=rescheduled&limit=100`);
    const next = rows.map((e) => e.scheduled_at).filter(Boolean).sort()[0];
    replace(waiting, h("p", { class: "big" }, String(count)),
      h("p", {}, next ? ["Next dialled at ", timeEl(next), " (calling hours are the recipient's)."] : "Waiting for their calling hours."));
  }

  async function loadTimeline() {
    const executions = await all(`batches/${id}/executions?limit=1000`, 2000);
    replace(timeline, timelineChart(executions),
      executions.length >= 2000 ? h("p", { class: "muted small" }, "The first 2,000 calls.") : null);
  }

  async function loadPage() {
    const cursor = cursors[cursors.length - 1];
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (filter.value) params.set("status", filter.value);
    if (cursor) params.set("cursor", cursor);
    const page = await api(`batches/${id}/executions?${params}`);
    const json = JSON.stringify(page.data) + page.next;
    if (json === lastPageJson) return;
    lastPageJson = json;
    const focusedId = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-execution-id]");
    replace(execTable, page.data.length ? h("div", { class: "table-wrap" }, h("table", { class: "executions" },
      h("caption", { class: "sr-only" }, "Calls of this batch"),
      h("thead", {}, h("tr", {}, ["Number", "Status", "Attempt", "Duration", "Cost", "Ended", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, page.data.map((e) => h("tr", { "data-testid": "execution-row", "data-execution-id": e.id, class: e.id === openedId ? "selected" : "" },
        h("th", { scope: "row" }, e.user_number),
        h("td", { "data-label": "Status" }, statusBadge(e.status)),
        h("td", { "data-label": "Attempt" }, e.attempt ?? 1),
        h("td", { "data-label": "Duration" }, e.conversation_duration != null ? `${Math.round(e.conversation_duration)} s` : "—"),
        h("td", { "data-label": "Cost" }, e.total_cost != null ? Number(e.total_cost).toFixed(3) : "—"),
        h("td", { "data-label": "Ended" }, timeEl(e.ended_at)),
        h("td", {}, h("button", { type: "button", "aria-label": "Open", title: `Open the call to ${e.user_number}`, onclick: () => openExecution(e.id) }, "Open")))))))
      : h("p", { class: "muted" }, filter.value ? `No call is ${filter.value}.` : "No calls yet."));
    if (focusedId) {
      const again = execTable.querySelector(`[data-execution-id="${CSS.escape(focusedId.dataset.executionId)}"] button`);
      if (again) again.focus();
    }
    replace(pager,
      h("button", { type: "button", disabled: cursors.length === 1, onclick: () => { cursors = [null]; loadPage(); } }, "First page"),
      h("span", { class: "muted" }, `Page ${cursors.length}`),
      h("button", { type: "button", disabled: !page.next, onclick: () => { cursors.push(page.next); loadPage(); } }, "Next page"));
  }

  async function openExecution(executionId) {
    openedId = executionId;
    execDetail.hidden = false;
    replace(execDetail, h("p", { class: "muted" }, "Loading the call…"));
    try {
      const e = await get(`executions/${encodeURIComponent(executionId)}`);
      const tel = e.telephony_data || {};
      const recipient = (e.context_details && e.context_details.recipient_data) || {};
      replace(execDetail,
        h("div", { class: "heading-row" }, h("h2", {}, `Call to ${e.user_number}`),
          h("button", { type: "button", onclick: () => { execDetail.hidden = true; openedId = null; } }, "Close")),
        h("dl", { class: "meta" }, [
          ["Status", statusBadge(e.status)], ["From", e.from_number || "—"], ["Attempt", e.attempt ?? 1],
          ["Duration", e.conversation_duration != null ? `${e.conversation_duration} s` : "—"],
          ["Cost", e.total_cost ?? "—"], ["Voicemail", e.answered_by_voice_mail ? "yes" : "no"],
          ["Started", timeEl(e.claimed_at)], ["Answered", timeEl(e.answered_at)], ["Ended", timeEl(e.ended_at)],
          ["Error", e.error_message || "—"], ["Holiday calendar", e.holiday_calendar || "—"],
        ].map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
        h("h3", {}, "Transcript"),
        h("pre", { class: "transcript", "data-testid": "transcript", tabindex: "0" }, e.transcript || "No transcript."),
        h("h3", {}, "Summary"),
        h("p", { "data-testid": "summary" }, e.summary || "No summary."),
        h("h3", {}, "Extracted data"),
        extractedList(e),
        h("h3", {}, "Recording"),
        tel.recording_url && /^https?:\/\//.test(tel.recording_url)
          ? h("p", {}, h("a", { href: tel.recording_url, target: "_blank", rel: "noopener noreferrer" }, "Recording"))
          : h("p", { class: "muted" }, "No recording."),
        h("h3", {}, "Retry history"),
        (e.retry_history || []).length
          ? h("ol", {}, e.retry_history.map((r) => h("li", {}, typeof r === "object" ? Object.entries(r).map(([k, v]) => `${k}: ${v}`).join(", ") : String(r))))
          : h("p", { class: "muted" }, `No retries (retry count ${e.retry_count ?? 0}).`),
        h("h3", {}, "Telephony data"),
        h("dl", { class: "meta" }, Object.entries(tel).map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v ?? "—")))),
        h("h3", {}, "Contact's variables"),
        h("dl", { class: "meta" }, Object.entries(recipient).map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, String(v))))));
      execDetail.focus();
    } catch (err) {
      replace(execDetail, h("p", { role: "alert" }, describe(err)));
    }
  }

  function extractedList(e) {
    const data = e.extracted_data;
    if (!data || !Object.keys(data).length) return h("p", { class: "muted" }, "Nothing extracted.");
    const flagged = Object.fromEntries((e.extraction_errors || []).map((x) => [x.field, x.message]));
    return h("dl", { class: "meta", "data-testid": "extracted-data" }, Object.entries(data).map(([k, v]) => h("div", {},
      h("dt", {}, k), h("dd", {}, typeof v === "object" && v !== null ? JSON.stringify(v) : String(v),
        flagged[k] ? h("span", { class: "muted small" }, ` (${flagged[k]})`) : null))));
  }

  async function loadErrors() {
    try {
      const page = await api(`batches/${id}/errors?limit=100`);
      replace(rowErrors, page.data.length ? h("div", { class: "table-wrap" }, h("table", { "data-testid": "row-errors" },
        h("thead", {}, h("tr", {}, ["Row", "Value", "Reason"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, page.data.map((e) => h("tr", {}, h("td", { "data-label": "Row" }, e.row), h("td", { "data-label": "Value" }, e.value ?? ""),
          h("td", { "data-label": "Reason" }, e.reason, e.message ? h("div", { class: "muted small" }, e.message) : null))))))
        : h("p", { class: "muted" }, "No row was skipped."),
      page.next ? h("p", { class: "muted small" }, "The first 100 rows skipped.") : null);
    } catch (err) {
      replace(rowErrors, h("p", { class: "muted" }, describe(err)));
    }
  }

  async function loadWebhooks() {
    const rows = await get(`batches/${id}/webhooks?limit=100`);
    replace(webhookLog, rows.length ? h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Event", "Attempt", "Host", "Outcome", "Status", "Latency", "At", "Next try"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.slice(-100).reverse().map((r) => h("tr", {},
        h("td", { "data-label": "Event" }, r.event), h("td", { "data-label": "Attempt" }, r.attempt),
        h("td", { "data-label": "Host" }, r.url_host || "—"), h("td", { "data-label": "Outcome" }, r.outcome, r.error ? h("div", { class: "muted small" }, r.error) : null),
        h("td", { "data-label": "Status" }, r.status_code ?? "—"), h("td", { "data-label": "Latency" }, r.latency_ms != null ? `${r.latency_ms} ms` : "—"),
        h("td", { "data-label": "At" }, timeEl(r.attempted_at)), h("td", { "data-label": "Next try" }, r.next_try_at ? localTime(r.next_try_at) : "—"))))))
      : h("p", { class: "muted" }, "No webhook sent for this batch (set a webhook URL or status webhook to get them)."));
  }

  const stop = poll(tick, { every: 2000, hidden: 10000 });
  return stop;
}

// A batch's own calling rules in a few words; what it did not set is the agent's.
function rulesText(batch) {
  if (batch.bypass_call_guardrails) return "none (bypassed)";
  const parts = [];
  if (batch.calling_hours) parts.push(`weekly hours: ${Object.keys(batch.calling_hours).join(" ")}`);
  for (const r of batch.blocked_dates || []) parts.push(`blocked ${r.start}${r.end && r.end !== r.start ? `..${r.end}` : ""}`);
  if (batch.skip_public_holidays != null) parts.push(batch.skip_public_holidays ? "skips public holidays" : "calls on public holidays");
  return parts.length ? `${parts.join("; ")} (the rest: the agent's)` : "the agent's";
}

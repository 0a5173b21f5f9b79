// The batch's plan (GET /batches/{id}/plan): who can be called at the start, who waits and why, when the
// first possible dials fall, and the projection. Loaded on demand (it reads every contact), never polled.
import { get } from "./api.js";
import { h, replace, timeEl, describe } from "./ui.js";
import { downloadFile } from "./actions.js";

export const PLANNABLE = ["created", "scheduled", "running", "paused"];
const REASONS = { outside_hours: "outside calling hours", blocked_date: "blocked date", holiday: "public holiday",
  suppressed: "on the do-not-call list", contact_limit: "over the contact limit",
  no_open_time: "no open time in every zone" };
const MAX_BARS = 48;

export function planCard(batchId) {
  const id = encodeURIComponent(batchId);
  const body = h("div", { "data-testid": "plan", "aria-live": "polite" });
  const message = h("p", { class: "muted", role: "status" });
  const refresh = h("button", { type: "button", onclick: () => load() }, "Work out the plan");
  const download = h("button", { type: "button", onclick: () => downloadFile(`batches/${id}/plan.csv`,
    `${batchId}-plan.csv`, (m) => { message.textContent = m; }).catch((err) => { message.textContent = describe(err); }) },
  "Download plan CSV");
  const node = h("section", { class: "card", "aria-label": "Plan" }, h("h2", {}, "Plan"),
    h("p", { class: "muted" }, "When each contact can first be called under the calling rules, and a projection of the campaign. No call is placed."),
    h("div", { class: "pager" }, refresh, download), message, body);

  async function load() {
    refresh.disabled = true;
    message.textContent = "Working out the plan…";
    try {
      render(await get(`batches/${id}/plan`));
      message.textContent = "";
      refresh.textContent = "Work it out again";
    } catch (err) {
      message.textContent = describe(err);
    } finally {
      refresh.disabled = false;
    }
  }

  function render(plan) {
    const c = plan.contacts;
    const p = plan.projection;
    const a = plan.assumptions;
    const waiting = Object.entries(c.waiting).filter(([, n]) => n);
    const waitingTotal = waiting.reduce((s, [, n]) => s + n, 0);
    replace(body,
      h("p", { "data-testid": "plan-counts" }, `${c.callable_at_start} callable at the start, ${waitingTotal} waiting`,
        waiting.length ? ` (${waiting.map(([r, n]) => `${REASONS[r] || r} ${n}`).join(", ")})` : "", "."),
      c.already_dispatched ? h("p", { class: "muted" }, `${c.already_dispatched} contacts were already handed to the dialer and are not in the plan.`) : null,
      h("dl", { class: "meta", "data-testid": "plan-projection" }, [
        ["Start", timeEl(plan.start_at)], ["First dial", timeEl(p.first_dial_at)], ["Last dial", timeEl(p.last_dial_at)],
        ["Completion", timeEl(p.completion_at)], ["Calls (with retries)", `${p.attempts} (${p.retries} retries)`],
        ["Answered", String(p.answered)], ["Live calls", `peak ${p.peak_live_calls}, mean ${p.mean_live_calls}`],
        ["Cost", `${Number(p.cost).toFixed(2)} (${p.talk_minutes} min of talk)`],
      ].map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
      h("h3", {}, "First possible dials, per hour"),
      histogram(plan.first_dial_histogram.buckets),
      h("p", { class: "muted small" }, `Assumed: calls of ${a.mean_call_seconds} s (${a.sources.mean_call_seconds}), `
        + `answer rate ${a.answer_rate} (${a.sources.answer_rate}), ${a.price_per_minute} a minute (${a.sources.price_per_minute}), `
        + `ring ${a.ring_seconds} s; at most ${a.live_call_limit} live calls`
        + (a.calls_per_second ? `, ${a.calls_per_second} calls a second` : "") + "."),
      h("details", {}, h("summary", {}, "How this was worked out"), h("p", { class: "small" }, plan.method)));
  }

  return { node, load };
}

function histogram(buckets) {
  if (!buckets.length) return h("p", { class: "muted" }, "No contact can be called.");
  const shown = buckets.slice(0, MAX_BARS);
  const most = Math.max(...shown.map((b) => b.contacts), 1);
  return h("ul", { class: "plan-histogram", "data-testid": "plan-histogram" }, shown.map((b) => {
    const fill = h("span", { class: "plan-bar" });
    fill.style.width = `${Math.round((b.contacts / most) * 100)}%`; // CSSOM, which the CSP allows
    return h("li", {}, h("span", { class: "plan-when" }, timeEl(b.start)), h("span", { class: "plan-track" }, fill),
      h("span", { class: "plan-n" }, String(b.contacts)));
  }), buckets.length > MAX_BARS ? h("li", { class: "muted" }, `and ${buckets.length - MAX_BARS} more hours`) : null);
}

// An agent's Batches tab: every batch with its status, progress, counts and actions; Upload batch.
import { get } from "./api.js";
import { h, replace, alertBox, timeEl, statusBadge, finalCount, progressBar, describe } from "./ui.js";
import { actionButtons } from "./actions.js";
import { uploadDialog } from "./upload.js";
import { poll } from "./poll.js";
import { hoursText } from "./agents.js";

export function batchesView(root, agentId) {
  const title = h("h1", {}, "Batches");
  const sub = h("p", { class: "muted" });
  const list = h("div", { "aria-live": "off" }, h("p", { class: "muted" }, "Loading batches…"));
  const message = alertBox("batches-message");
  let agent = null;
  let lastJson = "";
  const upload = h("button", { type: "button", class: "primary", disabled: true,
    onclick: () => uploadDialog(agent, () => stop.now()) }, "Upload batch");
  replace(root,
    h("p", { class: "crumbs" }, h("a", { href: "#/agents" }, "Agents"), " / ", h("span", { class: "agent-name" }, agentId)),
    h("div", { class: "heading-row" }, title, upload), sub, message, list);

  const report = (text, isError) => {
    message.hidden = !text;
    message.textContent = text || "";
    message.classList.toggle("info", !isError);
  };

  async function tick() {
    try {
      if (!agent) {
        agent = await get(`agents/${encodeURIComponent(agentId)}`);
        title.textContent = `Batches of ${agent.name}`;
        root.querySelector(".agent-name").textContent = agent.name;
        sub.textContent = `Provider ${agent.provider}; live-call limit ${agent.max_concurrent_calls}; calling hours ${hoursText(agent)}.`;
        upload.disabled = false;
      }
      const batches = await get(`batches/${encodeURIComponent(agentId)}/all`);
      batches.sort((x, y) => String(y.created_at).localeCompare(String(x.created_at)));
      const json = JSON.stringify(batches);
      if (json !== lastJson) { lastJson = json; render(batches); }
    } catch (err) {
      if (err.status === 404) { report(describe(err), true); return; }
      if (err.status !== 401 && !message.textContent) report(describe(err), true);
      throw err;
    }
  }

  // Rows are patched in place: a batch whose answer did not change keeps its row (and the button a user
  // is pressing), so a poll landing mid-click no longer swallows the click.
  const rows = new Map();
  let body = null;

  function render(batches) {
    const focused = document.activeElement;
    const focusKey = focused && focused.closest && focused.closest("[data-batch-id]")
      ? [focused.closest("[data-batch-id]").dataset.batchId, focused.textContent] : null;
    patch(batches);
    if (focusKey && !list.contains(document.activeElement)) {
      const again = [...list.querySelectorAll(`[data-batch-id="${CSS.escape(focusKey[0])}"] button, [data-batch-id="${CSS.escape(focusKey[0])}"] a`)]
        .find((el) => el.textContent === focusKey[1]);
      if (again) again.focus();
    }
  }

  function patch(batches) {
    if (!batches.length) { rows.clear(); body = null; replace(list, h("p", {}, "No batches yet: Upload batch sends a CSV; nothing is called until you confirm.")); return; }
    if (!body) {
      body = h("tbody", {});
      replace(list, h("div", { class: "table-wrap" }, h("table", { class: "batches" },
        h("caption", { class: "sr-only" }, "Batches"),
        h("thead", {}, h("tr", {}, ["Batch", "Created", "Scheduled", "Status", "Progress", "Calls by status", "Actions"]
          .map((t) => h("th", { scope: "col" }, t)))),
        body)));
    }
    const seen = new Set();
    batches.forEach((b, index) => {
      seen.add(b.batch_id);
      const json = JSON.stringify(b);
      let known = rows.get(b.batch_id);
      if (!known || known.json !== json) {
        const fresh = { json, tr: row(b) };
        if (known) known.tr.replaceWith(fresh.tr);
        rows.set(b.batch_id, fresh);
        known = fresh;
      }
      if (body.children[index] !== known.tr) body.insertBefore(known.tr, body.children[index] || null);
    });
    for (const [id, known] of rows) if (!seen.has(id)) { known.tr.remove(); rows.delete(id); }
  }

  function row(b) {
    const counts = Object.entries(b.execution_status || {});
    return h("tr", { "data-testid": "batch-row", "data-batch-id": b.batch_id },
      h("th", { scope: "row" }, h("a", { href: `#/batches/${encodeURIComponent(b.batch_id)}` }, b.name || b.file_name || b.batch_id),
        b.name && b.file_name && b.name !== b.file_name ? h("div", { class: "muted small" }, b.file_name) : null),
      h("td", { "data-label": "Created" }, timeEl(b.created_at)),
      h("td", { "data-label": "Scheduled" }, timeEl(b.scheduled_at)),
      h("td", { "data-label": "Status" }, statusBadge(b.status, { "data-testid": "batch-status" })),
      h("td", { "data-label": "Progress" }, progressBar(finalCount(b), b.valid_contacts || 0, `Progress of ${b.name || b.batch_id}`)),
      h("td", { "data-label": "Calls by status" }, counts.length
        ? h("ul", { class: "counts" }, counts.map(([s, n]) => h("li", {}, h("span", { class: `dot status-${s}` }), `${s} ${n}`)))
        : h("span", { class: "muted" }, `${b.valid_contacts ?? 0} valid, ${b.invalid_contacts ?? 0} invalid, ${b.duplicate_contacts ?? 0} duplicates`)),
      h("td", { class: "actions-cell" }, actionButtons(b, () => stop.now(), report)));
  }

  const stop = poll(tick, { every: 5000, hidden: 20000 });
  return stop;
}

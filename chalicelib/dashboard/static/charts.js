// Small SVG charts built in JS (no library): a horizontal outcome bar and calls-per-minute columns.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export const STATUS_COLORS = {
  completed: "#2e7d32", "no-answer": "#f9a825", busy: "#ef6c00", failed: "#c62828", error: "#6a1b9a",
  canceled: "#757575", queued: "#90a4ae", rescheduled: "#4fc3f7", initiated: "#1e88e5", ringing: "#3949ab",
  "in-progress": "#00897b", suppressed: "#424242", contact_limited: "#8d6e63",
};

// One stacked bar of counts by status, with a legend; described for screen readers.
export function outcomeChart(counts, total) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  const sum = Math.max(total || 0, entries.reduce((s, [, n]) => s + n, 0));
  const label = entries.length ? entries.map(([s, n]) => `${s} ${n}`).join(", ") + ` of ${sum}` : "no calls yet";
  const root = svg("svg", { viewBox: "0 0 400 28", role: "img", "aria-label": `Outcomes: ${label}`,
    "data-testid": "outcome-chart", class: "chart", preserveAspectRatio: "none" });
  root.append(svg("rect", { x: 0, y: 0, width: 400, height: 28, fill: "#eceff1" }));
  let x = 0;
  for (const [status, n] of entries) {
    const w = sum ? (n / sum) * 400 : 0;
    const rect = svg("rect", { x, y: 0, width: Math.max(w, 0), height: 28, fill: STATUS_COLORS[status] || "#999" });
    rect.append(svg("title", {}, `${status}: ${n}`));
    root.append(rect);
    x += w;
  }
  return root;
}

// Calls ended per minute (from executions' ended_at), as columns.
export function timelineChart(executions) {
  const times = executions.map((e) => Date.parse(e.ended_at)).filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
  const root = svg("svg", { viewBox: "0 0 400 120", role: "img", class: "chart", "data-testid": "timeline-chart" });
  if (!times.length) {
    root.setAttribute("aria-label", "Calls over time: no call has ended yet");
    root.append(svg("text", { x: 200, y: 64, "text-anchor": "middle", class: "chart-note" }, "No call has ended yet"));
    return root;
  }
  const minute = 60000;
  const span = Math.max(times[times.length - 1] - times[0], 1000);
  // columns of 10 s up to a day, so that a run shows 10 to 60 of them
  const width = [10e3, 30e3, 60e3, 300e3, 900e3, 3600e3, 4 * 3600e3, 86400e3].find((w) => span / w <= 40) || 86400e3;
  const start = Math.floor(times[0] / width) * width;
  const end = Math.max(start + width * 10, Math.floor(times[times.length - 1] / width) * width + width);
  const unit = width < minute ? `${width / 1000} s` : width < 3600e3 ? `${width / minute} min` : `${width / 3600e3} h`;
  const buckets = new Array(Math.ceil((end - start) / width)).fill(0);
  for (const t of times) buckets[Math.min(buckets.length - 1, Math.floor((t - start) / width))] += 1;
  const max = Math.max(...buckets);
  const colW = 380 / buckets.length;
  root.setAttribute("aria-label", `Calls over time: ${times.length} calls ended between ${new Date(start).toLocaleTimeString()} and ${new Date(end).toLocaleTimeString()}, at most ${max} per ${unit}`);
  root.append(svg("line", { x1: 10, y1: 100, x2: 390, y2: 100, stroke: "#90a4ae" }));
  buckets.forEach((n, i) => {
    const hgt = max ? (n / max) * 86 : 0;
    const rect = svg("rect", { x: 10 + i * colW + 1, y: 100 - hgt, width: Math.max(colW - 2, 1), height: hgt, fill: "#1f4e8c" });
    rect.append(svg("title", {}, `${new Date(start + i * width).toLocaleTimeString()}: ${n}`));
    root.append(rect);
  });
  root.append(svg("text", { x: 10, y: 116, class: "chart-note" }, new Date(start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
  root.append(svg("text", { x: 390, y: 116, "text-anchor": "end", class: "chart-note" }, new Date(end).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
  root.append(svg("text", { x: 12, y: 12, class: "chart-note" }, `max ${max} per ${unit}`));
  return root;
}

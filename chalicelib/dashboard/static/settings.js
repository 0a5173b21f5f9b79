// Settings: the tenant's webhook signing secret (reveal, rotate with the overlap explained) and API links.
import { get, post, url } from "./api.js";
import { h, replace, alertBox, confirmAction, timeEl, describe } from "./ui.js";

export function settingsView(root) {
  const secretBox = h("code", { "data-testid": "webhook-secret", class: "secret" }, "whsec_••••••••••••••••");
  const info = h("div");
  const error = alertBox("settings-error");
  let secret = null;
  let shown = false;
  const reveal = h("button", { type: "button", "aria-pressed": "false", onclick: toggle }, "Reveal");
  const rotate = h("button", { type: "button", class: "danger", onclick: doRotate }, "Rotate secret");

  replace(root, h("h1", {}, "Settings"),
    h("section", { class: "card" }, h("h2", {}, "Webhook signing secret"),
      h("p", {}, "Every webhook is signed per Standard Webhooks with this secret (headers webhook-id, webhook-timestamp, webhook-signature). Verify with the standardwebhooks library."),
      h("p", { class: "secret-row" }, secretBox, " ", reveal), info,
      h("p", {}, "Rotating makes a new secret at once. For the overlap period (24 h by default, WEBHOOK_SECRET_OVERLAP_HOURS) every webhook carries two signatures, the new secret's then the old one's, so receivers keep verifying while you update them."),
      rotate, error),
    h("section", { class: "card" }, h("h2", {}, "API reference"),
      h("ul", {},
        h("li", {}, h("a", { href: url("docs") }, "API reference"), " — every route, its fields and errors"),
        h("li", {}, h("a", { href: url("openapi.json") }, "OpenAPI document")),
        h("li", {}, "The dashboard uses only the public API with your key (sent as Authorization: Bearer; kept in this tab's sessionStorage until you sign out or close it)."))));

  function render() {
    secretBox.textContent = shown && secret ? secret.secret : "whsec_••••••••••••••••";
    reveal.textContent = shown ? "Hide" : "Reveal";
    reveal.setAttribute("aria-pressed", String(shown));
    if (!secret) return;
    replace(info, h("p", { class: "muted" }, "Created ", timeEl(secret.created_at),
      secret.previous_secret_expires_at ? [". The previous secret still signs until ", timeEl(secret.previous_secret_expires_at), "."] : "."));
  }

  async function load() {
    try {
      secret = await get("webhooks/secret");
      error.hidden = true;
      render();
    } catch (err) {
      if (err.status !== 401) { error.hidden = false; error.textContent = describe(err); }
    }
  }

  function toggle() { shown = !shown; render(); }

  async function doRotate() {
    if (!(await confirmAction("Rotate the signing secret", "Make a new secret now? The old one keeps signing (as a second signature) for the overlap period, then stops."))) return;
    try {
      secret = await post("webhooks/secret/rotate");
      error.hidden = true;
      render();
    } catch (err) {
      if (err.status !== 401) { error.hidden = false; error.textContent = describe(err); }
    }
  }

  load();
}
